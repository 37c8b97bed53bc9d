// Issue 7: the REAL maas-run-scripts, run on this machine as the "already deployed" host, against
// metalflow as processes (region API, region worker, rack) on real PostgreSQL and Temporal.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { signedCall } from '../helpers/http';
import { startStack, type Stack } from '../helpers/stack';

type Json = Record<string, unknown>;
const ROOT = path.resolve(__dirname, '..', '..');
const run = promisify(execFile);

/** What this host's /proc and /sys say, computed independently of the script. */
function thisHost() {
  const cpuinfo = fs.readFileSync('/proc/cpuinfo', 'utf8');
  const memKb = Number(/^MemTotal:\s+(\d+)/m.exec(fs.readFileSync('/proc/meminfo', 'utf8'))![1]);
  const physical = (dir: string) => fs.readdirSync(dir).filter((n) => fs.existsSync(path.join(dir, n, 'device')));
  const disks = physical('/sys/block').filter((d) => Number(fs.readFileSync(`/sys/block/${d}/size`, 'utf8')) > 0);
  return {
    cpuCount: cpuinfo.split('\n').filter((l) => l.startsWith('processor')).length,
    memoryMib: Math.floor(memKb / 1024),
    storageMb:
      disks.reduce((sum, d) => sum + Number(fs.readFileSync(`/sys/block/${d}/size`, 'utf8')) * 512, 0) / 1_000_000,
    macs: physical('/sys/class/net')
      .map((n) => fs.readFileSync(`/sys/class/net/${n}/address`, 'utf8').trim())
      .sort(),
  };
}
const has = (tool: string) => ['/usr/bin', '/bin', '/usr/local/bin'].some((d) => fs.existsSync(path.join(d, tool)));

describe('deployed-machine registration with maas-run-scripts (real script, processes)', () => {
  let stack: Stack;
  let dir: string;
  let script: string;
  let bobKey: string;
  let systemId: string;
  let maasUrl: string;

  before(async () => {
    stack = await startStack({ nodeTimeoutSeconds: 120 });
    maasUrl = stack.apiUrl.replace(/\/api\/2\.0$/, '');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'maas-run-scripts-'));
    const r = await fetch(`${maasUrl}/maas-run-scripts`);
    assert.equal(r.status, 200);
    script = path.join(dir, 'maas-run-scripts');
    fs.writeFileSync(script, await r.text());
    assert.equal(
      (
        await stack.call('POST', '/users/', {
          username: 'bob',
          email: 'bob@example.com',
          password: 'pw',
          is_superuser: '0',
        })
      ).status,
      200,
    );
    const out = await run(process.execPath, [path.join(ROOT, 'bin', 'metalflow.js'), 'apikey', '--username', 'bob'], {
      cwd: ROOT,
      env: stack.env,
    });
    bobKey = out.stdout.trim().split('\n').pop()!;
  });
  after(async () => {
    await stack?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Run the downloaded script with /bin/sh (dash here); never throws, returns what happened. */
  const sh = async (args: string[], env: NodeJS.ProcessEnv = {}) => {
    try {
      const r = await run('/bin/sh', [script, ...args], {
        cwd: dir,
        env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
      });
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (err) {
      const e = err as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
  const machine = async (id: string) => (await stack.call('GET', `/machines/${id}/`)).body as Json;
  const machineCount = async () => ((await stack.call('GET', '/machines/')).body as Json[]).length;
  const credsOf = (file: string) => {
    const text = fs.readFileSync(path.join(dir, file), 'utf8');
    const field = (k: string) => new RegExp(`^    ${k}: (\\S+)$`, 'm').exec(text)?.[1] ?? '';
    return {
      text,
      key: `${field('consumer_key')}:${field('token_key')}:${field('token_secret')}`,
      endpoint: field('endpoint'),
    };
  };
  const metadata = (
    method: string,
    p: string,
    key: string,
    o: { form?: Record<string, string>; body?: RequestInit['body'] } = {},
  ) => signedCall(`${maasUrl}/metadata${p}`, method, { key, ...o });
  const hardwareForm = (report: object) => {
    const form = new FormData();
    form.append('op', 'signal');
    form.append('status', 'OK');
    form.append(
      'metalflow-hardware.json',
      new Blob([JSON.stringify(report)], { type: 'application/json' }),
      'metalflow-hardware.json',
    );
    return form;
  };
  const waitFor = (id: string, status: string, timeoutMs?: number) => stack.waitForStatus(id, status, timeoutMs);

  it('serves the script anonymously, and only for reading', async () => {
    const r = await fetch(`${maasUrl}/maas-run-scripts`);
    assert.match(r.headers.get('content-type') ?? '', /shellscript/);
    assert.match(await r.text(), /^#!\/bin\/sh\n/);
    assert.equal((await fetch(`${maasUrl}/maas-run-scripts`, { method: 'POST' })).status, 405);
  });

  it("register-machine refuses a non-admin key with the API's reason and creates nothing", async () => {
    const before = await machineCount();
    const r = await sh(['register-machine', maasUrl, bobKey]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /403/);
    assert.match(r.stderr, /permission/);
    assert.equal(await machineCount(), before);
    assert.deepEqual(
      fs.readdirSync(dir).filter((f) => f.endsWith('-creds.yaml')),
      [],
    );
    assert.notEqual((await sh(['register-machine', maasUrl, 'not-a-key'])).code, 0);
  });

  it("registers this host as deployed: owner = caller, manual power, no power action, creds in MAAS's format", async () => {
    const r = await sh(['register-machine', `${maasUrl}/`, stack.adminKey]);
    assert.equal(r.code, 0, r.stderr);
    const host = os.hostname().split('.')[0]!.toLowerCase();
    const creds = credsOf(`${host}-creds.yaml`);
    assert.match(
      creds.text,
      /^reporting:\n {2}maas:\n {4}consumer_key: \S+\n {4}token_key: \S+\n {4}token_secret: \S+\n {4}endpoint: \S+\n$/,
    );
    systemId = creds.endpoint.split('/').pop()!;
    assert.equal(creds.endpoint, `${maasUrl}/metadata/status/${systemId}`);
    assert.equal(fs.statSync(path.join(dir, `${host}-creds.yaml`)).mode & 0o077, 0, 'the token is not world-readable');

    const m = await machine(systemId);
    assert.equal(m.hostname, host);
    assert.equal(m.status_name, 'Deployed');
    assert.equal(m.owner, 'admin');
    assert.equal(m.power_type, 'manual');
    assert.equal(m.power_state, 'unknown', 'never powered');
    assert.deepEqual(m.interface_set, [], 'no MAC needed');
    const t = (await stack.call('GET', `/machines/${systemId}/?op=get_token`)).body as Json;
    assert.equal(creds.key, `${t.consumer_key as string}:${t.token_key as string}:${t.token_secret as string}`);
    assert.ok(!stack.logs('rack').includes(systemId), 'the rack never acted on it');
  });

  it('the controllers are machines: the region (at startup) and the rack (registering), DEPLOYED, locked, unowned', async () => {
    const all = (await stack.call('GET', '/machines/')).body as Json[];
    const controllers = all.filter((m) => (m.workload_annotations as Record<string, string>).controller);
    const rack = ((await stack.call('GET', '/rackcontrollers/')).body as Json[])[0]!;
    // Region and rack run on this one host: when they share a MAC they are one machine.
    const roles = controllers.map((m) => (m.workload_annotations as Record<string, string>).controller).sort();
    assert.ok(
      JSON.stringify(roles) === '["rack+region"]' || JSON.stringify(roles) === '["rack","region"]',
      JSON.stringify(roles),
    );
    for (const m of controllers) {
      assert.equal(m.status_name, 'Deployed');
      assert.equal(m.locked, true);
      assert.equal(m.owner, null);
      assert.equal(m.power_type, 'manual');
    }
    assert.ok(
      controllers.some((m) => (m.workload_annotations as Record<string, string>).rack_system_id === rack.system_id),
    );
    assert.ok(
      controllers.some((m) => (m.workload_annotations as Record<string, string>).region_name === 'region-test'),
    );
  });

  it('register-machine again (curl this time) updates the same machine; a renamed host keeps its machine name', async () => {
    const host = os.hostname().split('.')[0]!.toLowerCase();
    const before = await machineCount();
    const firstCreds = credsOf(`${host}-creds.yaml`).text;
    const again = await sh(
      ['register-machine', maasUrl, stack.adminKey],
      has('curl') ? { MAAS_RUN_SCRIPTS_HTTP: 'curl' } : {},
    );
    assert.equal(again.code, 0, again.stderr);
    assert.equal(await machineCount(), before, 'no second machine');
    assert.equal(credsOf(`${host}-creds.yaml`).text, firstCreds, 'same machine, same token');

    const renamed = await sh(['register-machine', '--hostname', 'renamed-host', maasUrl, stack.adminKey]);
    assert.equal(renamed.code, 0, renamed.stderr);
    assert.equal(credsOf('renamed-host-creds.yaml').endpoint.split('/').pop(), systemId);
    assert.equal(await machineCount(), before);
    assert.equal((await machine(systemId)).hostname, host, 'the machine keeps its name');
    const events = (await stack.call('GET', `/events/?op=query&id=${systemId}`)).text;
    assert.match(events, /renamed-host/);
  });

  it("report-results uploads this host's hardware; it shows as commissioned; --periodic sends only changes", async () => {
    const host = os.hostname().split('.')[0]!.toLowerCase();
    const config = `${host}-creds.yaml`;
    const r = await sh(['report-results', '--config', config]);
    assert.equal(r.code, 0, r.stderr);
    const expected = thisHost();
    // A MAC belongs to one machine: the controllers' machines (region and rack run on this host
    // too) keep the ones they registered first.
    const taken = new Set(
      ((await stack.call('GET', '/machines/')).body as Json[])
        .filter((o) => o.system_id !== systemId)
        .flatMap((o) => (o.interface_set as Json[]).map((i) => i.mac_address as string)),
    );
    expected.macs = expected.macs.filter((mac) => !taken.has(mac));
    const m = await machine(systemId);
    assert.equal(m.cpu_count, expected.cpuCount);
    assert.equal(m.memory, expected.memoryMib);
    assert.equal(m.storage, expected.storageMb);
    assert.deepEqual((m.interface_set as Json[]).map((i) => i.mac_address).sort(), expected.macs);
    assert.equal(m.architecture, 'amd64/generic');
    assert.notEqual((m.hardware_info as Json).cpu_model, 'Unknown');
    assert.equal(m.commissioning_status_name, 'Passed');
    assert.equal(m.status_name, 'Deployed', 'reporting changes no status');

    const signals = async () =>
      ((await stack.call('GET', `/events/?op=query&id=${systemId}&limit=1000`)).text.match(/Signal OK/g) ?? []).length;
    const sent = await signals();
    const quiet = await sh(['report-results', '--config', config, '--periodic']);
    assert.equal(quiet.code, 0, quiet.stderr);
    assert.match(quiet.stdout, /unchanged/);
    assert.equal(await signals(), sent, 'nothing sent when nothing changed');
    fs.writeFileSync(path.join(dir, `${config}.last-report`), 'something-else\n');
    for (const client of ['wget', 'curl'].filter(has)) {
      const changed = await sh(['report-results', '--config', config, '--periodic'], { MAAS_RUN_SCRIPTS_HTTP: client });
      assert.equal(changed.code, 0, `${client}: ${changed.stderr}`);
      assert.match(changed.stdout, /Hardware reported/, `${client}: a change is sent`);
      fs.writeFileSync(path.join(dir, `${config}.last-report`), 'something-else\n');
    }
    // The same report again within a minute reads as a retry of the last (report-repeats.ts):
    // the region records it once.
    assert.equal(await signals(), sent, 'an identical report again at once is not a new event');
    assert.equal((await machine(systemId)).cpu_count, expected.cpuCount, 'safe to re-run');
  });

  it("a machine token reaches only its own machine's metadata, never the user API or another machine", async () => {
    const other = await stack.call('POST', '/machines/', { hostname: 'other-host', deployed: 'true' });
    assert.equal(other.status, 200, other.text);
    const otherId = (other.body as Json).system_id as string;
    const { key } = credsOf('renamed-host-creds.yaml');
    for (const [method, p] of [
      ['GET', '/machines/'],
      ['GET', `/machines/${otherId}/`],
      ['GET', `/machines/${systemId}/`],
      ['GET', `/machines/${systemId}/?op=get_token`],
      ['PUT', `/machines/${systemId}/`],
      ['PUT', `/machines/${otherId}/`],
      ['POST', '/machines/'],
      ['POST', `/machines/${otherId}/?op=release`],
      ['POST', `/machines/${systemId}/?op=regenerate_token`],
      ['GET', '/users/'],
    ] as const) {
      const r = await stack.call(
        method,
        p,
        method === 'GET' ? undefined : { description: 'hacked', hostname: 'hacked' },
        key,
      );
      assert.equal(r.status, 403, `${method} ${p} with a machine token → ${r.status} ${r.text}`);
    }
    assert.equal(
      (await metadata('POST', `/status/${otherId}`, key, { body: JSON.stringify({ name: 'x', event_type: 'start' }) }))
        .status,
      404,
    );
    assert.equal((await metadata('GET', '/2012-03-01/meta-data/instance-id', key)).text, systemId);
    // Whatever it uploads lands on its own machine only.
    const r = await metadata('POST', '/2012-03-01/', key, {
      body: hardwareForm({
        cpu: { count: 999, model: 'x', speed_mhz: 1 },
        memory_mib: 1,
        block_devices: [],
        interfaces: [],
        dmi: {},
      }),
    });
    assert.equal(r.status, 200, r.text);
    assert.equal((await machine(otherId)).cpu_count, 0);
    assert.equal((await machine(otherId)).description, '');
    assert.equal((await machine(systemId)).cpu_count, 999);
    assert.equal(
      (await sh(['report-results', '--config', 'renamed-host-creds.yaml'])).code,
      0,
      'the real report is back',
    );
  });

  it('regenerate_token: owner/admin only, the old token stops working at once', async () => {
    const old = credsOf('renamed-host-creds.yaml').key;
    assert.equal(
      (await stack.call('POST', `/machines/${systemId}/?op=regenerate_token`, {}, bobKey)).status,
      404,
      'invisible to others',
    );
    const r = await stack.call('POST', `/machines/${systemId}/op-regenerate_token`);
    assert.equal(r.status, 200, r.text);
    const t = r.body as Json;
    assert.deepEqual(Object.keys(t).sort(), ['consumer_key', 'token_key', 'token_secret']);
    const fresh = `${t.consumer_key as string}:${t.token_key as string}:${t.token_secret as string}`;
    assert.notEqual(fresh, old);
    assert.equal((await metadata('GET', '/2012-03-01/meta-data/instance-id', old)).status, 401);
    assert.equal((await metadata('GET', '/2012-03-01/meta-data/instance-id', fresh)).text, systemId);
    const stale = await sh(['report-results', '--config', 'renamed-host-creds.yaml']);
    assert.notEqual(stale.code, 0);
    assert.match(stale.stderr, /401/);
    const got = (await stack.call('GET', `/machines/${systemId}/?op=get_token`)).body as Json;
    assert.equal(got.token_key, t.token_key, 'get_token now returns the new one');
    // register-machine again picks up the current token.
    assert.equal((await sh(['register-machine', '--hostname', 'renamed-host', maasUrl, stack.adminKey])).code, 0);
    assert.equal(credsOf('renamed-host-creds.yaml').key, fresh);
  });

  it('MAC rules: none needed for manual/ipmi; required for other drivers; netboot operations refused without one', async () => {
    const redfish = await stack.call('POST', '/machines/', {
      hostname: 'rf-1',
      deployed: 'true',
      power_type: 'redfish',
      power_parameters_power_address: 'https://10.0.0.9',
    });
    assert.equal(redfish.status, 400, redfish.text);
    assert.ok(Object.keys(redfish.body as Json).includes('mac_addresses'), redfish.text);
    const ipmi = await stack.call('POST', '/machines/', {
      hostname: 'ipmi-1',
      deployed: 'true',
      power_type: 'ipmi',
      power_parameters_power_address: '10.0.0.10',
    });
    assert.equal(ipmi.status, 200, ipmi.text);
    const ipmiId = (ipmi.body as Json).system_id as string;
    const put = await stack.call('PUT', `/machines/${ipmiId}/`, { power_type: 'redfish' });
    assert.equal(put.status, 400, put.text);
    assert.ok(Object.keys(put.body as Json).includes('mac_addresses'), put.text);
    assert.equal((await machine(ipmiId)).power_type, 'ipmi', 'nothing changed');
    assert.equal((await stack.call('PUT', `/machines/${ipmiId}/`, { power_type: 'manual' })).status, 200);

    const erase = await stack.call('POST', `/machines/${ipmiId}/op-release`, { erase: 'true' });
    assert.equal(erase.status, 409, erase.text);
    assert.match(erase.text, /no known MAC address/);
    assert.equal((await machine(ipmiId)).status_name, 'Deployed');

    // A MAC-less machine with passed hardware data is READY after release, but cannot be deployed.
    const { key } = await stack.call('GET', `/machines/${ipmiId}/?op=get_token`).then((r) => {
      const t = r.body as Json;
      return { key: `${t.consumer_key as string}:${t.token_key as string}:${t.token_secret as string}` };
    });
    const report = await metadata('POST', '/2012-03-01/', key, {
      body: hardwareForm({
        cpu: { count: 2, model: 'x', speed_mhz: 1 },
        memory_mib: 2048,
        block_devices: [],
        interfaces: [],
        dmi: {},
      }),
    });
    assert.equal(report.status, 200, report.text);
    assert.equal((await stack.call('POST', `/machines/${ipmiId}/op-release`)).status, 200);
    await waitFor(ipmiId, 'Ready');
    const deploy = await stack.call('POST', `/machines/${ipmiId}/op-deploy`, { distro_series: 'jammy' });
    assert.equal(deploy.status, 409, deploy.text);
    assert.match(deploy.text, /no known MAC address/);
    assert.equal((await machine(ipmiId)).status_name, 'Ready', 'not allocated either');

    // Commissioning is the exception: it is how the MACs get known. Its netboot comes from a MAC
    // nobody registered, which becomes the machine's boot interface instead of enlisting.
    const other = (
      await stack.call('POST', '/machines/', { hostname: 'ipmi-2', deployed: 'true', power_type: 'manual' })
    ).body as Json;
    const otherId = other.system_id as string;
    assert.equal((await stack.call('POST', `/machines/${otherId}/op-release`)).status, 200);
    await waitFor(otherId, 'New');
    const rackId = ((await stack.call('GET', '/rackcontrollers/')).body as Json[])[0]!.system_id as string;
    const secret = fs.readFileSync(path.join(stack.env.METALFLOW_STATE_DIR!, 'rack-secret'), 'utf8').trim();
    const rackApi = async (p: string) => {
      const r = await fetch(`${maasUrl}/rack/v1${p}`, { headers: { authorization: `Bearer ${secret}` } });
      assert.equal(r.status, 200, p);
      return (await r.json()) as Json;
    };
    // Powered on outside commissioning, it boots its own disk: a netboot would enlist it anew.
    assert.equal((await rackApi(`/machines/${ipmiId}/power`)).netboot, false);
    const commission = await stack.call('POST', `/machines/${ipmiId}/op-commission`);
    assert.equal(commission.status, 200, commission.text);
    assert.equal((commission.body as Json).status_name, 'Commissioning');
    assert.equal((await rackApi(`/machines/${ipmiId}/power`)).netboot, true, 'commissioning netboots');
    const second = await stack.call('POST', `/machines/${otherId}/op-commission`);
    assert.equal(second.status, 409, 'two MAC-less commissionings could not be told apart: ' + second.text);
    assert.match(second.text, new RegExp(`no known MAC address.*${ipmiId}`));
    assert.equal((await machine(otherId)).status_name, 'New', 'nothing applied');

    for (let i = 0; (await rackApi(`/machines/${ipmiId}/boot-config`)).purpose !== 'commissioning'; i++) {
      assert.ok(i < 100, 'the commissioning workflow set the boot purpose');
      await new Promise((r) => setTimeout(r, 100));
    }
    // The same MAC asking twice at once (the rack or iPXE retrying) gets the machine both times.
    const [booted, again] = await Promise.all(
      [0, 1].map(() => rackApi(`/racks/${rackId}/boot-config/52:54:00:ab:cd:01`)),
    );
    for (const b of [booted!, again!]) {
      assert.equal(b.known, true, JSON.stringify(b));
      assert.equal(b.systemId, ipmiId);
      assert.equal(b.purpose, 'commissioning');
    }
    const stranger = await rackApi(`/racks/${rackId}/boot-config/52:54:00:ab:cd:02`);
    assert.equal(stranger.known, false, 'a second unknown MAC enlists: the MAC-less machine has its MAC now');
    const withMac = await machine(ipmiId);
    assert.deepEqual(
      (withMac.interface_set as Json[]).map((i) => i.mac_address),
      ['52:54:00:ab:cd:01'],
    );
    assert.equal(((withMac.boot_interface as Json) ?? {}).mac_address, '52:54:00:ab:cd:01');
    assert.equal(
      (await stack.call('POST', `/machines/${otherId}/op-commission`)).status,
      200,
      'no MAC-less commissioning is ambiguous now',
    );
    for (const id of [ipmiId, otherId])
      assert.equal((await stack.call('POST', `/machines/${id}/op-abort`)).status, 200);
  });

  it('release: READY with passed hardware data, NEW without; re-registering a released host is refused', async () => {
    const bare = await stack.call('POST', '/machines/', { hostname: 'bare-1', deployed: 'true' });
    const bareId = (bare.body as Json).system_id as string;
    const rel = await stack.call('POST', `/machines/${bareId}/op-release`);
    assert.equal(rel.status, 200, 'at once after registering: ' + rel.text);
    const released = await waitFor(bareId, 'New');
    assert.equal(released.owner, null);

    assert.equal((await stack.call('POST', `/machines/${systemId}/op-release`)).status, 200);
    const ready = await waitFor(systemId, 'Ready');
    assert.equal(ready.owner, null);
    assert.equal(ready.cpu_count, thisHost().cpuCount, 'hardware kept');

    const again = await sh(['register-machine', maasUrl, stack.adminKey]);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /409.*already registered as machine/);
  });
});
