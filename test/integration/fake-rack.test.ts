// The whole system as processes (region API, region worker, the fake rack) driven the way an
// operator would: MAAS API calls and the `temporal` CLI against the same Temporal server.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { findTemporalCli } from '../../src/runtime/temporal-dev-server';
import { startStack, type Stack } from '../helpers/stack';
import { macAddress } from '../helpers/factories';

type Json = Record<string, unknown>;
const run = promisify(execFile);

describe('fake rack end to end (separate processes, temporal CLI)', () => {
  let stack: Stack;
  before(async () => {
    stack = await startStack({ nodeTimeoutSeconds: 120 });
  });
  after(async () => stack?.stop());

  const temporal = (...args: string[]) =>
    run(findTemporalCli(process.env.TEMPORAL_CLI_PATH), [
      ...args,
      '--address',
      stack.temporalAddress,
      '--namespace',
      stack.namespace,
    ]);
  const machine = async (id: string) => (await stack.call('GET', `/machines/${id}/`)).body as Json;
  const waitFor = (id: string, status: string, timeoutMs?: number) => stack.waitForStatus(id, status, timeoutMs);
  const create = async (hostname: string, params: Record<string, string> = {}) => {
    const r = await stack.call('POST', '/machines/', {
      hostname,
      architecture: 'amd64',
      mac_addresses: macAddress(),
      power_type: 'fake',
      power_parameters_fake_delay_ms: '100',
      ...params,
    });
    assert.equal(r.status, 200, r.text);
    return (r.body as Json).system_id as string;
  };

  it('commissions a simulated machine and records the hardware it reports', async () => {
    const id = await create('hw-1', {
      power_parameters_fake_cpu_count: '8',
      power_parameters_fake_memory_mib: '16384',
      power_parameters_fake_disk_bytes: '200000000000',
    });
    const m = await waitFor(id, 'Ready');
    assert.equal(m.cpu_count, 8);
    assert.equal(m.memory, 16384);
    assert.equal(m.storage, 200000);
    assert.equal(m.power_state, 'off', 'powered off after commissioning');
    assert.notEqual((m.hardware_info as Json).system_serial, 'Unknown');
    assert.equal((m.blockdevice_set as Json[]).length, 1);
  });

  it('powers on, queries and powers off through the rack', async () => {
    const id = await create('pw-1', { commission: 'false' });
    assert.equal(((await stack.call('POST', `/machines/${id}/op-power_on`)).body as Json).power_state, 'on');
    assert.deepEqual((await stack.call('GET', `/machines/${id}/?op=query_power_state`)).body, { state: 'on' });
    assert.equal(((await stack.call('POST', `/machines/${id}/op-power_off`)).body as Json).power_state, 'off');
    assert.deepEqual((await stack.call('GET', `/machines/${id}/?op=query_power_state`)).body, { state: 'off' });
  });

  it('the rack polls BMCs and keeps power_state current', async () => {
    const id = await create('poll-1', { commission: 'false' });
    assert.equal(((await stack.call('POST', `/machines/${id}/op-power_on`)).body as Json).power_state, 'on');
    const pg = await import('pg');
    const db = new pg.default.Client({ connectionString: stack.dbUrl });
    await db.connect();
    try {
      await db.query(`UPDATE machines SET power_state = 'unknown' WHERE system_id = $1`, [id]);
      const deadline = Date.now() + 15_000;
      while ((await machine(id)).power_state !== 'on') {
        if (Date.now() > deadline) throw new Error('the poller did not report the power state');
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      await db.end();
    }
  });

  it('`temporal workflow cancel` aborts commissioning: powered off, back to New', async () => {
    const id = await create('cancel-1', { power_parameters_fake_behaviour: 'silent' });
    await waitFor(id, 'Commissioning');
    const wf = (await machine(id)).current_workflow as Json;
    assert.equal(wf.workflow_id, `machine:${id}`);
    const listed = await temporal('workflow', 'list', '--query', `SystemId = "${id}"`);
    assert.match(listed.stdout, /commissionWorkflow/, 'operators find the workflow by SystemId');
    await temporal('workflow', 'cancel', '--workflow-id', `machine:${id}`);
    const m = await waitFor(id, 'New');
    assert.equal(m.power_state, 'off');
    assert.match(String(m.status_message), /Aborted commissioning/);
  });

  it('`temporal workflow terminate` does not strand the machine', async () => {
    const id = await create('term-1', { power_parameters_fake_behaviour: 'silent' });
    await waitFor(id, 'Commissioning');
    await temporal('workflow', 'terminate', '--workflow-id', `machine:${id}`, '--reason', 'operator test');
    const m = await waitFor(id, 'Failed commissioning', 30_000);
    assert.match(String(m.status_message), /was terminated/);
  });

  it('enlists an unknown machine anonymously, and it can be commissioned at once', async () => {
    const mac = macAddress();
    const r = await fetch(`${stack.apiUrl}/machines/`, {
      method: 'POST',
      // What an ephemeral environment sends; anonymous enlistment does not take power type fake.
      body: new URLSearchParams({ architecture: 'amd64', mac_addresses: mac }),
    });
    assert.equal(r.status, 200);
    const enlisted = (await r.json()) as Json;
    assert.equal(enlisted.status_name, 'New');
    const registered = await fetch(`${stack.apiUrl}/machines/?op=is_registered&mac_address=${mac}`);
    assert.equal(await registered.text(), 'true');
    const id = enlisted.system_id as string;
    const powered = await stack.call('PUT', `/machines/${id}/`, {
      power_type: 'fake',
      power_parameters_fake_delay_ms: '100',
    });
    assert.equal(powered.status, 200, powered.text);
    assert.equal((await stack.call('POST', `/machines/${id}/op-commission`)).status, 200);
    await waitFor(id, 'Ready');
  });

  it('registers a deployed machine without any power action', async () => {
    const r = await stack.call('POST', '/machines/', { hostname: 'running-1', deployed: 'true' });
    assert.equal(r.status, 200, r.text);
    const m = r.body as Json;
    assert.equal(m.status_name, 'Deployed');
    assert.equal(m.owner, 'admin');
    assert.equal(m.power_type, 'manual');
    const described = await temporal('workflow', 'describe', '--workflow-id', `machine:${m.system_id as string}`);
    assert.match(described.stdout, /registerDeployedWorkflow/);
  });
});
