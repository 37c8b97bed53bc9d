import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { presentMachine, presentOptionsFor } from '../../src/api/presenters/machine';
import { HARDWARE_LIMITS } from '../../src/contracts/hardware';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import type { Machine, User } from '../../src/region/db/entities';
import type { MachineView } from '../../src/region/services/machine-queries';

const machine: Machine = {
  id: 7,
  systemId: 'abc123',
  hostname: 'node1',
  description: '',
  domain: 'maas',
  architecture: 'amd64/generic',
  cpuCount: 4,
  cpuSpeed: 2400,
  memory: 8192,
  storage: 100000,
  status: S.DEPLOYING,
  previousStatus: S.ALLOCATED,
  statusMessage: '',
  ownerId: 3,
  locked: false,
  powerType: 'ipmi',
  powerParameters: { power_address: '10.0.0.9' },
  powerSecrets: 'v1:secret',
  powerState: 'on',
  zoneId: 1,
  poolId: 1,
  rackId: 1,
  workflowId: 'machine:abc123',
  workflowType: 'deployWorkflow',
  claimToken: null,
  workflowChain: null,
  bootPurpose: 'xinstall',
  bootErase: '',
  osystem: 'ubuntu',
  distroSeries: 'jammy',
  ephemeralDeploy: false,
  hweKernel: '',
  userData: '',
  agentName: '',
  workloadAnnotations: { app: 'db' },
  hardwareInfo: { system_serial: 'SER1', cpu_model: '' },
  blockDevices: [{ name: 'sda', size: 100_000_000_000, serial: 'D1', model: 'QEMU', path: '/dev/sda' }],
  commissioningPassed: true,
  enableSsh: false,
  skipNetworking: false,
  skipStorage: false,
  hostId: null,
  reservedUserId: null,
  reservedGroupId: 7,
  created: new Date(0),
  updated: new Date(0),
};
const view: MachineView = {
  machine,
  owner: 'alice',
  reservedFor: 'group:team-a',
  zone: { id: 1, name: 'default', description: '' },
  pool: { id: 1, name: 'default', description: '' },
  tags: ['gpu'],
  interfaces: [
    {
      id: 10,
      machineId: 7,
      name: 'eth1',
      type: 'physical',
      macAddress: '52:54:00:00:00:02',
      enabled: true,
      linkSpeed: 1000,
      isBoot: false,
    },
    {
      id: 11,
      machineId: 7,
      name: 'eth0',
      type: 'physical',
      macAddress: '52:54:00:00:00:01',
      enabled: true,
      linkSpeed: 1000,
      isBoot: true,
    },
  ],
  rack: { systemId: 'rck001', name: 'rack-1' },
};
const options = { temporalUiUrl: 'http://ui:8233', temporalNamespace: 'default' };

describe('machine presenter', () => {
  const json = presentMachine(view, options);

  it("uses MAAS's field names and types", () => {
    assert.equal(json.system_id, 'abc123');
    assert.equal(json.fqdn, 'node1.maas');
    assert.equal(json.status, 9);
    assert.equal(json.status_name, 'Deploying');
    assert.equal(json.status_message, null, 'an empty message is null, as MAAS sends it');
    assert.equal(json.memory, 8192);
    assert.equal(json.cpu_count, 4);
    assert.deepEqual(json.tag_names, ['gpu']);
    assert.equal(json.owner, 'alice');
    assert.deepEqual(json.workload_annotations, { app: 'db' });
    assert.deepEqual(json.owner_data, { app: 'db' });
    assert.equal((json.zone as { name: string }).name, 'default');
    assert.equal((json.pool as { resource_uri: string }).resource_uri, '/MAAS/api/2.0/resourcepool/1/');
    assert.equal(json.resource_uri, '/MAAS/api/2.0/machines/abc123/');
    assert.equal(json.netboot, true);
  });

  it('never allocates in proportion to cpu_count (issue 15): NUMA core ids stop at the report limit', () => {
    const cores = (cpuCount: number) =>
      (
        presentMachine({ ...view, machine: { ...machine, cpuCount } }, options).numanode_set as Array<{
          cores: number[];
        }>
      )[0]!.cores;
    assert.deepEqual(cores(4), [0, 1, 2, 3]);
    // 2^31 - 1 would be an out-of-memory crash of the region if allocated.
    assert.equal(cores(2 ** 31 - 1).length, HARDWARE_LIMITS.cpuCount);
    assert.deepEqual(cores(-1), []);
    assert.deepEqual(cores(1.5), []);
  });

  it('picks the boot interface, not the first one', () => {
    assert.equal((json.boot_interface as { mac_address: string }).mac_address, '52:54:00:00:00:01');
    assert.equal((json.interface_set as unknown[]).length, 2);
  });

  it('fills hardware_info like MAAS, with known values kept', () => {
    const hw = json.hardware_info as Record<string, string>;
    assert.equal(hw.system_serial, 'SER1');
    assert.equal(hw.cpu_model, 'Unknown');
  });

  it('names the current workflow with a Temporal UI link', () => {
    assert.deepEqual(json.current_workflow, {
      workflow_id: 'machine:abc123',
      workflow_type: 'deployWorkflow',
      temporal_ui_url: 'http://ui:8233/namespaces/default/workflows/machine%3Aabc123',
    });
  });

  it('gives the Temporal UI link to admins only (the Temporal UI has no login)', () => {
    const user = (isSuperuser: boolean) => ({
      kind: 'user' as const,
      user: { id: 1, username: 'u', isSuperuser } as User,
    });
    const linkFor = (caller: Parameters<typeof presentOptionsFor>[1]) =>
      (presentMachine(view, presentOptionsFor(options, caller)).current_workflow as { temporal_ui_url: string | null })
        .temporal_ui_url;
    assert.equal(linkFor(user(true)), 'http://ui:8233/namespaces/default/workflows/machine%3Aabc123');
    assert.equal(linkFor(user(false)), null);
    assert.equal(linkFor(null), null);
  });

  it('shows operation_step (not a MAAS field) only when the read asked the workflow; a listing view has none', () => {
    assert.ok(!('operation_step' in json));
    const step = { step: 'wait for the installation', deadline: '2026-01-01T00:30:00.000Z', lastHeardAt: null };
    assert.deepEqual(presentMachine({ ...view, operationStep: step }, options).operation_step, {
      step: 'wait for the installation',
      deadline: '2026-01-01T00:30:00.000Z',
      last_heard: null,
    });
    assert.equal(presentMachine({ ...view, operationStep: null }, options).operation_step, null);
  });

  it('never shows power parameters or secrets', () => {
    const text = JSON.stringify(json);
    assert.ok(!text.includes('10.0.0.9'));
    assert.ok(!text.includes('v1:secret'));
  });
});
