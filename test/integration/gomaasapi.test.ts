// Juju's MAAS provider library, gomaasapi (Go module github.com/juju/gomaasapi/v2, unmodified,
// pinned by test/compat/gomaasapi/go.sum), runs Juju's call sequence against metalflow started as
// real processes, with the fake rack's machines deploying through the real metadata server. The
// flow is test/compat/gomaasapi (one JSON line per step); `scripts/bootstrap.mjs --test` fetches
// its modules and warms Go's build cache, so the build here is quick and offline.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startStack, type Stack } from '../helpers/stack';

const ROOT = path.resolve(__dirname, '..', '..');
const FLOW_DIR = path.join(ROOT, 'test', 'compat', 'gomaasapi');
const FLOW_TIMEOUT_MS = 300_000;
const AGENT = 'a1b2c3d4-juju-model';
const SPACE = 'juju-space';
const DEVICE_MACS = ['00:16:3e:12:34:01', '00:16:3e:12:34:02'];
const OWNER_DATA = { 'juju-model-uuid': AGENT, 'juju-is-controller': 'true' };
const GATEWAY = '10.123.0.1';

interface Step {
  step: string;
  ok: boolean;
  error?: string;
  [field: string]: unknown;
}
type Json = Record<string, unknown>;

function buildFlow(): string {
  const bin = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'gomaasapi-flow-')), 'gomaasapi-flow');
  execFileSync('go', ['build', '-o', bin, '.'], { cwd: FLOW_DIR, stdio: ['ignore', 'inherit', 'inherit'] });
  return bin;
}

function runFlow(
  bin: string,
  args: string[],
): Promise<{ code: number | null; steps: Step[]; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      bin,
      args,
      { timeout: FLOW_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        const steps = stdout
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Step);
        resolve({ code, steps, stdout, stderr });
      },
    );
  });
}

describe('gomaasapi (Juju MAAS provider) against metalflow (separate processes)', () => {
  let stack: Stack;
  let result: Awaited<ReturnType<typeof runFlow>>;
  const sys: Record<string, string> = {};

  const ok = async (method: string, p: string, form?: Record<string, string | string[]>): Promise<Json> => {
    const r = await stack.call(method, p, form);
    assert.ok(r.status < 300, `${method} ${p} ${JSON.stringify(form)}: ${r.status} ${r.text}`);
    return r.body as Json;
  };
  /** A fake machine, commissioned by the fake rack to READY with the hardware it was given. */
  const machine = async (hostname: string, mac: string, cpus: number, memMib: number): Promise<string> => {
    const m = await ok('POST', '/machines/', {
      hostname,
      architecture: 'amd64',
      mac_addresses: mac,
      power_type: 'fake',
      power_parameters_fake_delay_ms: '100',
      power_parameters_fake_cpu_count: String(cpus),
      power_parameters_fake_memory_mib: String(memMib),
    });
    return String(m.system_id);
  };
  const step = (name: string): Step => {
    const s = result.steps.find((x) => x.step === name);
    assert.ok(s, `the flow printed no "${name}" step:\n${result.stdout}\n${result.stderr}`);
    assert.equal(s.ok, true, `${name}: ${s.error}`);
    return s;
  };

  before(async () => {
    const bin = buildFlow();
    stack = await startStack({});
    // A fabric whose untagged VLAN is in the space, with the subnet Juju's containers get
    // addresses on, and a second subnet a static route leads to.
    const fabric = await ok('POST', '/fabrics/', { name: 'juju-fabric' });
    const vlans = (await ok('GET', `/fabrics/${fabric.id}/vlans/`)) as unknown as Json[];
    const vlan = vlans.find((v) => v.vid === 0)!;
    assert.ok(vlan, `fabric ${String(fabric.id)} has no untagged VLAN: ${JSON.stringify(vlans)}`);
    const subnet = await ok('POST', '/subnets/', { cidr: '10.123.0.0/24', vlan: String(vlan.id), gateway_ip: GATEWAY });
    const other = await ok('POST', '/subnets/', { cidr: '10.124.0.0/24', vlan: String(vlan.id) });
    await ok('POST', '/spaces/', { name: SPACE });
    await ok('PUT', `/fabrics/${fabric.id}/vlans/0/`, { space: SPACE });
    await ok('POST', '/static-routes/', {
      source: String(subnet.id),
      destination: String(other.id),
      gateway_ip: GATEWAY,
      metric: '0',
    });
    await ok('POST', '/tags/', { name: 'juju' });

    // Only `target` has the tag, the hardware and an interface in the space; each other one
    // lacks one of them, or is already another model's.
    sys.target = await machine('juju-target', '52:54:00:12:00:01', 8, 16384);
    sys.notInSpace = await machine('juju-no-space', '52:54:00:12:00:02', 8, 16384);
    sys.small = await machine('juju-small', '52:54:00:12:00:03', 1, 2048);
    sys.untagged = await machine('juju-untagged', '52:54:00:12:00:04', 8, 16384);
    sys.otherModel = await machine('juju-other-model', '52:54:00:12:00:05', 8, 16384);
    for (const id of Object.values(sys)) await stack.waitForStatus(id, 'Ready');
    await ok('POST', '/tags/juju/op-update_nodes', {
      add: [sys.target!, sys.notInSpace!, sys.small!, sys.otherModel!],
    });
    for (const [name, ip] of [
      ['target', '10.123.0.11'],
      ['small', '10.123.0.13'],
      ['untagged', '10.123.0.14'],
      ['otherModel', '10.123.0.15'],
    ] as const) {
      const m = await ok('GET', `/machines/${sys[name]}/`);
      const mac = String((m.boot_interface as Json).mac_address);
      await ok('POST', '/ipaddresses/op-reserve', { ip, mac });
    }
    await ok('POST', '/machines/op-allocate', { system_id: sys.otherModel!, agent_name: 'another-model' });

    result = await runFlow(bin, [
      `-url=${stack.apiUrl.replace(/api\/2\.0$/, '')}`,
      `-key=${stack.adminKey}`,
      `-agent-name=${AGENT}`,
      '-zone=default',
      `-space=${SPACE}`,
      '-tags=juju',
      '-cpu=4',
      '-mem=8192',
      '-distro-series=jammy',
      `-owner-data=${Object.entries(OWNER_DATA)
        .map(([k, v]) => `${k}=${v}`)
        .join(',')}`,
      `-device-macs=${DEVICE_MACS.join(',')}`,
      '-domain=maas',
      `-static-route-gateway=${GATEWAY}`,
      `-expect-machine=${sys.target}`,
    ]);
  });
  after(async () => stack?.stop());

  it('runs every step of Juju sequence', () => {
    const failed = result.steps.filter((s) => !s.ok).map((s) => `${s.step}: ${s.error}`);
    assert.deepEqual(
      failed,
      [],
      `failed:\n${failed.join('\n')}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`,
    );
    assert.equal(result.code, 0, `exit ${result.code}\n${result.stdout}\n${result.stderr}`);
    assert.deepEqual(
      result.steps.map((s) => s.step),
      [
        'controller',
        'capabilities',
        'zones',
        'spaces',
        'allocate',
        'start',
        'deployed',
        'owner_data',
        'owner_data_filter',
        'agent_name_filter',
        'device_create',
        'devices',
        'device_delete',
        'domains',
        'static_routes',
        'release',
        'released',
      ],
    );
  });

  it('allocates the one machine that has the tag, the hardware and an interface in the space', () => {
    const a = step('allocate');
    assert.equal(a.system_id, sys.target);
    assert.equal(a.status, 'Allocated');
    assert.deepEqual(a.interfaces_matched, ['eth0']);
    assert.deepEqual(step('spaces').subnet, '10.123.0.0/24');
  });

  it('deploys with the series it was started with, and keeps its owner data', () => {
    const d = step('deployed');
    assert.equal(d.status, 'Deployed');
    assert.equal(d.distro_series, 'jammy');
    assert.deepEqual(step('owner_data').owner_data, OWNER_DATA);
    assert.deepEqual(step('owner_data_filter').system_ids, [sys.target]);
    assert.deepEqual(step('agent_name_filter').system_ids, [sys.target]);
  });

  it("gives the container's device static addresses on the space's subnet, then deletes it", async () => {
    const c = step('device_create');
    assert.equal(c.parent, sys.target);
    const addresses = Object.values(c.addresses as Record<string, string>);
    assert.equal(addresses.length, 2);
    for (const ip of addresses) assert.match(ip, /^10\.123\.0\.\d+$/);
    assert.notEqual(addresses[0], addresses[1]);
    assert.equal(step('device_delete').deleted, c.system_id);
    const left = await stack.call('GET', '/devices/');
    assert.equal(left.status, 200, left.text);
    assert.deepEqual(left.body, []);
  });

  it('releases the machine to Ready, owner data and agent name cleared', async () => {
    assert.equal(step('released').status, 'Ready');
    const m = (await stack.call('GET', `/machines/${sys.target}/`)).body as Json;
    assert.equal(m.status_name, 'Ready');
    assert.equal(m.owner, null);
    assert.deepEqual(m.owner_data, {});
    // The other model's machine stays its own.
    const other = (await stack.call('GET', `/machines/${sys.otherModel}/`)).body as Json;
    assert.equal(other.status_name, 'Allocated');
  });
});
