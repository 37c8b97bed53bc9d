// Both /metrics of a running metalflow (region API, region worker, rack as separate processes, as
// an operator runs them), scraped with plain HTTP and parsed as Prometheus's text format: the
// families are there and the counters moved with the requests, the power action, the
// commissioning and the boot transfers this test makes. And the processes' logs are JSON lines
// naming the machine and the workflow.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tftp from 'tftp';
import { macAddress } from '../helpers/factories';
import { freePort } from '../helpers/ports';
import { parseExposition, type Exposition } from '../helpers/prometheus';
import { startStack, type Stack } from '../helpers/stack';

type Json = Record<string, unknown>;

describe('metrics and logs an operator can use', () => {
  let stack: Stack;
  const ports = { rack: 0, worker: 0, tftp: 0, http: 0 };
  before(async () => {
    for (const k of Object.keys(ports) as Array<keyof typeof ports>) ports[k] = await freePort();
    stack = await startStack({
      nodeTimeoutSeconds: 120,
      env: {
        METALFLOW_RACK_METRICS_PORT: String(ports.rack),
        METALFLOW_REGION_METRICS_PORT: String(ports.worker),
        METALFLOW_TFTP_PORT: String(ports.tftp),
        METALFLOW_HTTP_BOOT_PORT: String(ports.http),
      },
    });
  });
  after(async () => stack?.stop());

  const regionUrl = () => stack.apiUrl.replace(/\/api\/2\.0$/, '');
  const scrape = async (url: string): Promise<Exposition> => {
    const r = await fetch(url);
    assert.equal(r.status, 200, url);
    assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    return parseExposition(await r.text());
  };
  const region = () => scrape(`${regionUrl()}/metrics`);
  const worker = () => scrape(`http://127.0.0.1:${ports.worker}/metrics`);
  const rack = () => scrape(`http://127.0.0.1:${ports.rack}/metrics`);
  const jsonLines = (text: string) =>
    text
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Json);

  let systemId = '';

  it('the region: requests by route template and status, workflows started, machines by status, pools', async () => {
    const created = await stack.call('POST', '/machines/', {
      hostname: 'metrics-1',
      architecture: 'amd64',
      mac_addresses: macAddress(),
      power_type: 'fake',
      power_parameters_fake_delay_ms: '50',
    });
    assert.equal(created.status, 200, created.text);
    systemId = (created.body as Json).system_id as string;
    await stack.waitForStatus(systemId, 'Ready');
    assert.equal(((await stack.call('POST', `/machines/${systemId}/op-power_on`)).body as Json).power_state, 'on');
    assert.equal((await stack.call('GET', `/machines/nosuch/`)).status, 404);

    const m = await region();
    for (const family of [
      'maas_http_request_latency',
      'maas_machines',
      'metalflow_db_pool_connections',
      'metalflow_db_busy_total',
    ])
      assert.ok(m.types.has(family), `${family} is exposed`);
    const machine = '/MAAS/api/2.0/machines/{system_id}/';
    assert.ok(m.sum('maas_http_request_latency_count', { method: 'GET', path: machine, status: '200' }) >= 1);
    assert.equal(m.sum('maas_http_request_latency_count', { method: 'GET', path: machine, status: '404' }), 1);
    assert.equal(m.sum('maas_http_request_latency_count', { path: machine, op: 'power_on', status: '200' }), 1);
    assert.ok(m.sum('maas_http_request_latency_count', { path: '/MAAS/api/2.0/machines/', status: '200' }) >= 1);
    assert.ok(
      !m.samples.some((s) => s.labels.path?.includes(systemId)),
      'no series per machine: the template, not the URL',
    );
    assert.equal(m.sum('metalflow_workflows_started_total', { type: 'commissionWorkflow' }), 1);
    assert.ok(m.sum('metalflow_workflows_started_total', { type: 'powerWorkflow' }) >= 1);
    // The region itself is a machine (a controller, DEPLOYED); this one is Ready.
    assert.ok(m.sum('maas_machines', { status: 'ready' }) >= 1);
    assert.ok(m.find('maas_machines', { status: 'failed_deployment' }).length === 1, 'every status, zero included');
    assert.ok(m.sum('metalflow_db_pool_connections', { pool: 'main', state: 'total' }) >= 1);
    assert.equal(m.find('metalflow_db_pool_connections', { pool: 'listings', state: 'waiting' }).length, 1);
  });

  it('the region worker: lifecycle outcomes by workflow type', async () => {
    const m = await worker();
    assert.equal(m.sum('metalflow_workflows_finished_total', { type: 'commissionWorkflow', outcome: 'completed' }), 1);
  });

  it('the rack: power actions by driver and outcome, boot transfers, DHCP families', async () => {
    const script = await fetch(`http://127.0.0.1:${ports.http}/ipxe/boot.ipxe`);
    assert.equal(script.status, 200);
    await script.text();
    assert.equal((await fetch(`http://127.0.0.1:${ports.http}/no/such/file`)).status, 404);
    const viaTftp = await tftpGet(ports.tftp, 'boot.ipxe');
    assert.match(viaTftp.toString(), /#!ipxe/);

    const m = await rack();
    for (const family of [
      'metalflow_rack_power_actions_total',
      'metalflow_rack_dhcp_packets_total',
      'metalflow_rack_dhcp_leases',
      'maas_tftp_file_transfer_latency',
      'metalflow_rack_tftp_bytes_total',
      'metalflow_rack_http_boot_transfers_total',
      'metalflow_rack_http_boot_bytes_total',
    ])
      assert.ok(m.types.has(family), `${family} is exposed`);
    assert.ok(m.sum('metalflow_rack_power_actions_total', { driver: 'fake', action: 'on', outcome: 'success' }) >= 2);
    assert.ok(m.sum('metalflow_rack_power_actions_total', { driver: 'fake', action: 'query' }) >= 1, 'the poller');
    assert.equal(m.sum('metalflow_rack_http_boot_transfers_total', { kind: 'script', outcome: 'success' }), 1);
    assert.equal(m.sum('metalflow_rack_http_boot_transfers_total', { kind: 'file', outcome: 'failure' }), 1);
    assert.ok(m.sum('metalflow_rack_http_boot_bytes_total', { kind: 'script' }) > 0);
    assert.equal(m.sum('maas_tftp_file_transfer_latency_count', { outcome: 'success' }), 1);
    assert.equal(m.sum('metalflow_rack_tftp_bytes_total'), viaTftp.length);
  });

  it('logs are JSON lines; the lines about a machine name it and its workflow', () => {
    const rackLines = jsonLines(stack.logs('rack'));
    assert.ok(rackLines.length > 0, 'the rack logs JSON');
    for (const l of rackLines)
      assert.ok(typeof l.time === 'string' && typeof l.level === 'string' && typeof l.msg === 'string');
    const powerOn = rackLines.find((l) => String(l.msg).startsWith(`power on ${systemId}`));
    assert.ok(powerOn, 'the power-on line');
    assert.equal(powerOn.system_id, systemId);
    assert.match(String(powerOn.workflow_id), new RegExp(`^(machine|power):${systemId}$`));
    assert.ok(powerOn.run_id, 'and the run');

    const started = jsonLines(stack.logs('api')).find((l) => l.msg === 'commissionWorkflow started');
    assert.ok(started, 'the API logs the lifecycle start');
    assert.equal(started.system_id, systemId);
    assert.equal(started.workflow_id, `machine:${systemId}`);
    const done = jsonLines(stack.logs('worker')).find((l) => l.msg === 'commissionWorkflow completed: Ready');
    assert.ok(done, 'the worker logs the outcome');
    assert.equal(done.system_id, systemId);
  });
});

function tftpGet(port: number, file: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const client = tftp.createClient({ host: '127.0.0.1', port, retries: 3, timeout: 1000 });
    const chunks: Buffer[] = [];
    const get = client.createGetStream(file);
    get.on('data', (c: Buffer) => chunks.push(c));
    get.on('error', reject);
    get.on('end', () => resolve(Buffer.concat(chunks)));
  });
}
