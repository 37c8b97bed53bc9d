// Devices in their DNS domain like machines (migration 0015), and one hostname / one physical MAC
// per node across machines and devices, held by the database when requests race. Real HTTP on
// PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deviceResources } from '../../src/api/resources/devices';
import { domainResources } from '../../src/api/resources/domains';
import { machineResources } from '../../src/api/resources/machines';
import { MachineEntity } from '../../src/region/db/entities';
import { applyHardwareReport } from '../../src/region/services/hardware';
import { deployedMachineInput, macAddress } from '../helpers/factories';
import { PRESENT, startResourceApi, type ResourceApi } from '../helpers/resource-api';

type Json = Record<string, unknown>;
const API = '/MAAS/api/2.0';
const DEVICES = `${API}/devices/`;
const DOMAINS = `${API}/domains/`;
const MACHINES = `${API}/machines/`;

describe('devices in domains; hostnames and MACs unique across machines and devices', () => {
  let api: ResourceApi;
  let admin: string;

  before(async () => {
    api = await startResourceApi((services) => [
      ...deviceResources({ services }),
      ...domainResources({ services }),
      ...machineResources(services, PRESENT),
    ]);
    admin = (await api.user('admin', true)).key;
  });
  after(async () => api?.close());

  const device = (form: Record<string, string>) => api.call('POST', DEVICES, { key: admin, form });
  const machine = (form: Record<string, string>) =>
    api.call('POST', MACHINES, {
      key: admin,
      form: { architecture: 'amd64/generic', power_type: 'manual', commission: 'false', ...form },
    });
  const count = async (table: string) =>
    ((await api.services.db.query(`SELECT count(*)::int AS n FROM ${table}`)) as [{ n: number }])[0].n;
  const domain = async (name: string) => {
    const r = await api.call('POST', DOMAINS, { key: admin, form: { name } });
    assert.equal(r.status, 200, r.text);
    return r.body as Json;
  };

  it("a device's domain is a real domain: its object and fqdn, the default when none is named", async () => {
    const lab = await domain('lab.example');
    const d = await device({ hostname: 'dev-in-lab', mac_addresses: macAddress(), domain: 'lab.example' });
    assert.equal(d.status, 200, d.text);
    const body = d.body as Json;
    assert.equal(body.fqdn, 'dev-in-lab.lab.example');
    assert.deepEqual(body.domain, {
      id: lab.id,
      name: 'lab.example',
      resource_record_count: 1,
      ttl: null,
      authoritative: true,
      is_default: false,
      resource_uri: `${API}/domains/${lab.id as number}/`,
    });

    // No domain named: the current default, which need not be `maas`.
    assert.equal((await api.call('POST', `${DOMAINS}${lab.id as number}/op-set_default`, { key: admin })).status, 200);
    const byDefault = await device({ hostname: 'dev-default', mac_addresses: macAddress() });
    assert.equal(byDefault.status, 200, byDefault.text);
    assert.equal((byDefault.body as Json).fqdn, 'dev-default.lab.example');
    assert.equal((await api.call('POST', `${DOMAINS}0/op-set_default`, { key: admin })).status, 200);

    // domains/ counts devices with machines.
    await api.services.machines.create(deployedMachineInput('machine-in-lab', null, { domain: 'lab.example' }));
    const listed = (await api.call('GET', `${DOMAINS}${lab.id as number}/`, { key: admin })).body as Json;
    assert.equal(listed.resource_record_count, 3);
  });

  it('domain= on create and update must name an existing domain (400, nothing written)', async () => {
    const before = await count('devices');
    const bad = await device({ hostname: 'dev-nowhere', mac_addresses: macAddress(), domain: 'nowhere.example' });
    assert.equal(bad.status, 400, bad.text);
    assert.deepEqual((bad.body as Json).domain, [
      'Select a valid choice. nowhere.example is not one of the available choices.',
    ]);
    assert.equal(await count('devices'), before);
    const invalid = await device({ hostname: 'dev-bad', mac_addresses: macAddress(), domain: 'not a domain' });
    assert.equal(invalid.status, 400, invalid.text);
    assert.ok('domain' in (invalid.body as Json), invalid.text);

    const d = (await device({ hostname: 'dev-moves', mac_addresses: macAddress() })).body as Json;
    const uri = `${DEVICES}${d.system_id as string}/`;
    const refused = await api.call('PUT', uri, { key: admin, form: { domain: 'nowhere.example' } });
    assert.equal(refused.status, 400, refused.text);
    assert.equal(((await api.call('GET', uri, { key: admin })).body as Json).fqdn, 'dev-moves.maas');
    const moved = await api.call('PUT', uri, { key: admin, form: { domain: 'lab.example' } });
    assert.equal(moved.status, 200, moved.text);
    assert.equal((moved.body as Json).fqdn, 'dev-moves.lab.example');
  });

  it('renaming a domain renames it on its devices; a domain with devices is not deleted', async () => {
    const only = await domain('devices-only.example');
    const d = (await device({ hostname: 'dev-renamed', mac_addresses: macAddress(), domain: 'devices-only.example' }))
      .body as Json;
    const renamed = await api.call('PUT', `${DOMAINS}${only.id as number}/`, {
      key: admin,
      form: { name: 'renamed.example' },
    });
    assert.equal(renamed.status, 200, renamed.text);
    const uri = `${DEVICES}${d.system_id as string}/`;
    assert.equal(((await api.call('GET', uri, { key: admin })).body as Json).fqdn, 'dev-renamed.renamed.example');
    const inUse = await api.call('DELETE', `${DOMAINS}${only.id as number}/`, { key: admin });
    assert.equal(inUse.status, 400, inUse.text);
    assert.match(inUse.text, /protected foreign keys: 'Node.domain'/);
    assert.equal((await api.call('GET', `${DOMAINS}${only.id as number}/`, { key: admin })).status, 200);
    assert.equal((await api.call('DELETE', uri, { key: admin })).status, 204);
    assert.equal((await api.call('DELETE', `${DOMAINS}${only.id as number}/`, { key: admin })).status, 204);
  });

  it("a machine cannot take a device's hostname or MAC, nor a device a machine's (MAAS's 400)", async () => {
    const mac = macAddress();
    assert.equal((await device({ hostname: 'dev-first', mac_addresses: mac })).status, 200);
    const before = await count('machines');
    const sameName = await machine({ hostname: 'dev-first', mac_addresses: macAddress() });
    assert.equal(sameName.status, 400, sameName.text);
    assert.deepEqual((sameName.body as Json).hostname, ['Node with hostname "dev-first" already exists.']);
    const sameMac = await machine({ hostname: 'machine-second', mac_addresses: mac });
    assert.equal(sameMac.status, 400, sameMac.text);
    assert.deepEqual((sameMac.body as Json).mac_addresses, [`MAC address ${mac} already in use on dev-first.`]);
    assert.equal(await count('machines'), before);

    const m = (await machine({ hostname: 'machine-first', mac_addresses: macAddress() })).body as Json;
    assert.equal(m.hostname, 'machine-first');
    const renamed = await api.call('PUT', `${MACHINES}${m.system_id as string}/`, {
      key: admin,
      form: { hostname: 'dev-first' },
    });
    assert.equal(renamed.status, 400, renamed.text);
    const machineMac = ((m.interface_set as Json[])[0] as Json).mac_address as string;
    const taken = await device({ hostname: 'dev-second', mac_addresses: machineMac });
    assert.deepEqual((taken.body as Json).mac_addresses, [
      `MAC address ${machineMac} already in use on machine-first.`,
    ]);
    const takenName = await device({ hostname: 'machine-first', mac_addresses: macAddress() });
    assert.deepEqual((takenName.body as Json).hostname, ['Node with hostname "machine-first" already exists.']);
  });

  it('racing machine and device creates with one hostname or MAC: one wins, the others get the same 400', async () => {
    const mac = macAddress();
    const sameMac = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        i % 2
          ? machine({ hostname: `race-mac-m${i}`, mac_addresses: mac })
          : device({ hostname: `race-mac-d${i}`, mac_addresses: mac }),
      ),
    );
    const sameName = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        i % 2
          ? machine({ hostname: 'race-name', mac_addresses: macAddress() })
          : device({ hostname: 'race-name', mac_addresses: macAddress() }),
      ),
    );
    const winner = sameMac.find((r) => r.status === 200)?.body as Json | undefined;
    for (const [results, field, message] of [
      [sameMac, 'mac_addresses', `MAC address ${mac} already in use on ${String(winner?.hostname)}.`],
      [sameName, 'hostname', 'Node with hostname "race-name" already exists.'],
    ] as const) {
      assert.equal(results.filter((r) => r.status === 200).length, 1, results.map((r) => r.text).join('\n'));
      for (const r of results.filter((x) => x.status !== 200)) {
        assert.equal(r.status, 400, r.text);
        assert.deepEqual((r.body as Json)[field], [message]);
      }
    }
    const holders = (await api.services.db.query(
      `SELECT (SELECT count(*) FROM machines WHERE hostname = 'race-name') + (SELECT count(*) FROM devices WHERE hostname = 'race-name') AS names,
              (SELECT count(*) FROM interfaces WHERE mac_address = $1) + (SELECT count(*) FROM device_interfaces WHERE mac_address = $1) AS macs`,
      [mac],
    )) as [{ names: string; macs: string }];
    assert.deepEqual([Number(holders[0].names), Number(holders[0].macs)], [1, 1]);
  });

  it('the database refuses a second holder whatever the code path (the triggers), and frees on delete', async () => {
    const mac = macAddress();
    const d = (await device({ hostname: 'dev-direct', mac_addresses: mac })).body as Json;
    await assert.rejects(
      api.services.db.query(`INSERT INTO interfaces (machine_id, name, type, mac_address, enabled, link_speed, is_boot)
        SELECT id, 'eth9', 'physical', '${mac}', true, 0, false FROM machines WHERE hostname = 'machine-first'`),
      (e: { constraint?: string }) => e.constraint === 'node_macs_pkey',
    );
    // A bond or VLAN shares its NIC's MAC: only physical interfaces claim one.
    await api.services.db
      .query(`INSERT INTO interfaces (machine_id, name, type, mac_address, enabled, link_speed, is_boot)
        SELECT id, 'bond0', 'bond', '${mac}', true, 0, false FROM machines WHERE hostname = 'machine-first'`);
    assert.equal((await api.call('DELETE', `${DEVICES}${d.system_id as string}/`, { key: admin })).status, 204);
    const again = await machine({ hostname: 'dev-direct', mac_addresses: mac });
    assert.equal(again.status, 200, 'the hostname and the MAC are free again');
  });

  it("a commissioning report naming a device's MAC leaves it the device's; the rest is stored", async () => {
    const mac = macAddress();
    assert.equal((await device({ hostname: 'dev-reported', mac_addresses: mac })).status, 200);
    const m = (await machine({ hostname: 'machine-reporting', mac_addresses: macAddress() })).body as Json;
    const entity = await api.services.db
      .getRepository(MachineEntity)
      .findOneByOrFail({ systemId: m.system_id as string });
    const own = macAddress();
    await api.services.db.transaction((tx) =>
      applyHardwareReport(tx, entity, {
        architecture: 'amd64/generic',
        cpu: { count: 2, model: 'Test CPU', speed_mhz: 2400 },
        memory_mib: 4096,
        dmi: { vendor: 'ACME', product: 'Box', serial: 'S1', uuid: 'a0b1c2d3-0000-0000-0000-000000000009' },
        block_devices: [],
        interfaces: [
          { name: 'eth1', mac, link_speed_mbps: 1000 },
          { name: 'eth2', mac: own, link_speed_mbps: 1000 },
        ],
      }),
    );
    const macs = (await api.services.db.query(
      `SELECT mac_address::text AS mac FROM interfaces WHERE machine_id = $1 ORDER BY id`,
      [entity.id],
    )) as Array<{ mac: string }>;
    assert.ok(
      macs.some((x) => x.mac === own),
      JSON.stringify(macs),
    );
    assert.ok(!macs.some((x) => x.mac === mac), JSON.stringify(macs));
  });
});
