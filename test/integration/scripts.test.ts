// Issue 20, region side: scripts/ (MAAS's embedded YAML metadata, versions, built-ins), a
// commissioning's script set with the maas-scripts tar its environment fetches and the per-script
// results it uploads with op=signal (simulated here over HTTP with the machine's token),
// nodes/{id}/results/ reads and downloads, and tags whose XPath definition is evaluated against
// the lshw output. Real HTTP, PostgreSQL and Temporal (scripted rack).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { oauthHeader } from '../../src/api/http';
import { HARDWARE_FILE, type HardwareReport } from '../../src/contracts/hardware';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import type { ApiClient } from '../helpers/api';
import { startApiRegion } from '../helpers/api-region';
import { waitForStatus, type TestRegion } from '../helpers/region';
import { ScriptedRack } from '../helpers/scripted-rack';

type Json = Record<string, unknown>;
const API = '/MAAS/api/2.0';

const script = (yaml: string, body = 'echo hello') =>
  `#!/bin/sh\n# --- Start MAAS 1.0 script metadata ---\n${yaml
    .split('\n')
    .map((l) => `# ${l}`)
    .join('\n')}\n# --- End MAAS 1.0 script metadata ---\n${body}\n`;

const HELLO = script('name: hello\ntitle: Hello\nscript_type: commissioning\ntimeout: 60\ntags: [mine, extra]');

const LSHW = `<?xml version="1.0" standalone="yes" ?>
<list><node id="box" class="system"><product>Box</product>
<node id="memory" class="memory"><size units="bytes">4294967296</size></node></node></list>`;

const report = (mac: string): HardwareReport => ({
  architecture: 'amd64/generic',
  cpu: { count: 2, model: 'Test CPU', speed_mhz: 2400 },
  memory_mib: 4096,
  block_devices: [{ name: 'sda', size_bytes: 1_000_000_000, serial: 'SER1', model: 'DISK-A' }],
  interfaces: [{ name: 'eth0', mac, link_speed_mbps: 1000 }],
  dmi: { vendor: 'ACME', product: 'Box' },
});

/** The regular files of a ustar archive. */
function untar(buf: Buffer): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (let i = 0; i + 512 <= buf.length;) {
    const h = buf.subarray(i, i + 512);
    if (h.every((b) => b === 0)) break;
    const name = h.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(h.subarray(124, 136).toString('ascii').replace(/\0.*$/s, '').trim(), 8);
    files.set(name, buf.subarray(i + 512, i + 512 + size));
    i += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

describe('issue 20: scripts, script results, maas-scripts and automatic tags', () => {
  let region: TestRegion;
  let api: ApiClient;
  let admin: string;
  let alice: string;
  const rack = new ScriptedRack(50);

  before(async () => {
    ({ region, api, admin } = await startApiRegion(rack));
    alice = await api.keyFor('alice');
  });
  after(async () => {
    await api?.close();
    await region?.stop();
  });

  const upload = (text: string, fields: Record<string, string> = {}, method = 'POST', path = `${API}/scripts/`) => {
    const body = new FormData();
    for (const [k, v] of Object.entries(fields)) body.append(k, v);
    body.append('script', new Blob([text]), 'script.sh');
    return api.call(method, path, { key: admin, body });
  };
  /** A machine commissioning with a silent rack: the test plays its ephemeral environment. Returns its id and token. */
  const commissioning = async (hostname: string, mac: string) => {
    const r = await api.call('POST', `${API}/machines/`, {
      key: admin,
      form: { hostname, architecture: 'amd64/generic', mac_addresses: mac, power_type: 'manual', commission: 'false' },
    });
    assert.equal(r.status, 200, r.text);
    const id = (r.body as Json).system_id as string;
    rack.behaviour.set(id, 'silent');
    const started = await api.call('POST', `${API}/machines/${id}/op-commission`, { key: admin });
    assert.equal(started.status, 200, started.text);
    await waitForStatus(region.services, id, S.COMMISSIONING);
    const t = (await api.call('GET', `${API}/machines/${id}/?op=get_token`, { key: admin })).body as Json;
    return { id, token: `${t.consumer_key as string}:${t.token_key as string}:${t.token_secret as string}` };
  };
  const scriptCount = async () => ((await api.call('GET', `${API}/scripts/`, { key: alice })).body as Json[]).length;
  const bytes = async (path: string, key: string) => {
    const r = await fetch(api.base + path, { headers: { Authorization: oauthHeader(key) } });
    return { status: r.status, body: Buffer.from(await r.arrayBuffer()) };
  };

  it('scripts/: upload with embedded YAML, list and filter, update, download, revert, tags, delete', async () => {
    const created = await upload(HELLO, { description: 'says hello' });
    assert.equal(created.status, 200, created.text);
    const hello = created.body as Json;
    assert.equal(hello.name, 'hello');
    assert.equal(hello.title, 'Hello');
    assert.equal(hello.type, 0);
    assert.equal(hello.type_name, 'Commissioning script');
    assert.equal(hello.timeout, '0:01:00');
    assert.deepEqual(hello.tags, ['mine', 'extra']);
    assert.equal(hello.description, 'says hello');
    assert.equal(hello.default, false);
    const v1 = (hello.history as Json[])[0]!.id as number;

    const names = async (query: string) =>
      ((await api.call('GET', `${API}/scripts/?${query}`, { key: alice })).body as Json[]).map((s) => s.name);
    assert.deepEqual(await names('filters=mine'), ['hello']);
    assert.ok((await names('type=commissioning')).includes('00-maas-01-lshw'));
    assert.deepEqual((await names('type=testing&hardware_type=storage')).sort(), [
      'badblocks',
      'fio',
      'smartctl-validate',
    ]);
    const fio = (await api.call('GET', `${API}/scripts/fio`, { key: alice })).body as Json;
    assert.equal(fio.parallel_name, 'Run along other instances of this script', "MAAS's fio: parallel instance");

    // A new version keeps the old one in the history; download gives either.
    const v2text = HELLO.replace('echo hello', 'echo hello again');
    const updated = await upload(v2text, { comment: 'louder' }, 'PUT', `${API}/scripts/hello`);
    assert.equal(updated.status, 200, updated.text);
    assert.equal(((updated.body as Json).history as Json[]).length, 2);
    assert.equal((await api.call('GET', `${API}/scripts/hello?op=download`, { key: alice })).text, v2text);
    assert.equal(
      (await api.call('GET', `${API}/scripts/hello?op=download&revision=${v1}`, { key: alice })).text,
      HELLO,
    );
    const withData = (await api.call('GET', `${API}/scripts/hello?include_script=true`, { key: alice })).body as Json;
    assert.equal(Buffer.from((withData.history as Json[])[1]!.data as string, 'base64').toString(), HELLO);
    const reverted = await api.call('POST', `${API}/scripts/hello?op=revert`, { key: admin, form: { to: '-1' } });
    assert.equal(reverted.status, 200, reverted.text);
    assert.equal(((reverted.body as Json).history as Json[]).length, 1);
    assert.equal((await api.call('GET', `${API}/scripts/hello?op=download`, { key: alice })).text, HELLO);

    const tagged = await api.call('POST', `${API}/scripts/hello?op=add_tag`, { key: admin, form: { tag: 'new' } });
    assert.deepEqual((tagged.body as Json).tags, ['mine', 'extra', 'new']);
    const untagged = await api.call('POST', `${API}/scripts/hello?op=remove_tag`, {
      key: admin,
      form: { tag: 'mine' },
    });
    assert.deepEqual((untagged.body as Json).tags, ['extra', 'new']);

    // Built-ins: MAAS's refusals; tags and timeout may change.
    const lshw = `${API}/scripts/00-maas-01-lshw`;
    const del = await api.call('DELETE', lshw, { key: admin });
    assert.equal(del.status, 400);
    assert.match(del.text, /Unable to delete default script/);
    const retitle = await api.call('PUT', lshw, { key: admin, form: { title: 'mine' } });
    assert.equal(retitle.status, 400);
    assert.match(retitle.text, /Not allowed to change on default scripts/);
    assert.equal((await api.call('PUT', lshw, { key: admin, form: { timeout: '45' } })).status, 200);
    assert.equal(((await api.call('GET', lshw, { key: alice })).body as Json).timeout, '0:00:45');
    assert.match(
      (await api.call('POST', `${lshw}?op=revert`, { key: admin, form: { to: '-1' } })).text,
      /Unable to revert default script/,
    );

    assert.equal((await api.call('DELETE', `${API}/scripts/hello`, { key: admin })).status, 204);
    assert.equal((await api.call('GET', `${API}/scripts/hello`, { key: alice })).status, 404);
  });

  it('scripts/: bad scripts and unknown names are a 400 (or 403/404) that writes nothing', async () => {
    const before = await scriptCount();
    const cases: Array<[string, Record<string, string>, RegExp]> = [
      [script('name: bad\ntags: [unclosed'), {}, /Invalid YAML/],
      [HELLO, { name: 'other' }, /May not override values defined in embedded YAML/],
      ['echo no shebang\n', { name: 'noshebang' }, /Must start with shebang/],
      [script('name: "123"'), {}, /Cannot be a number/],
      [script('name: has space'), {}, /disallowed characters/],
      [script('name: typed\nscript_type: banana'), {}, /Unknown type/],
      [script('name: params\nparameters: {disk: {type: floppy}}'), {}, /type must be one of/],
      // Names are file names in the maas-scripts tar and the environment's work directory.
      [script('title: up'), { name: '../x' }, /Name '\.\.\/x' contains '\/'/],
      [script('title: sub'), { name: 'a/b' }, /Name 'a\/b' contains '\/'/],
      [script('name: .hidden'), {}, /Name '\.hidden' starts with '\.'/],
      [script('name: a..b'), {}, /Name 'a\.\.b' contains '\.\.'/],
      // The environment cannot install anything (busybox, no apt/snap): refused, not ignored.
      [script('name: needs-fio\npackages: {apt: [fio]}'), {}, /packages.*Installing packages is not supported/],
      [script('name: needs-pkgs'), { packages: '{"snap": ["stress-ng"]}' }, /Installing packages is not supported/],
    ];
    for (const [text, fields, message] of cases) {
      const r = await upload(text, fields);
      assert.equal(r.status, 400, `${message}: ${r.text}`);
      assert.match(r.text, message);
    }
    assert.equal(
      (await api.call('POST', `${API}/scripts/`, { key: admin, form: { name: 'noscript' } })).status,
      400,
      'script is required',
    );
    const denied = await api.call('POST', `${API}/scripts/`, { key: alice, form: { name: 'x' } });
    assert.equal(denied.status, 403);
    assert.equal((await api.call('PUT', `${API}/scripts/nosuch`, { key: admin, form: { title: 'x' } })).status, 404);
    assert.equal(await scriptCount(), before);
  });

  it('commissioning: a set at start, the maas-scripts tar, per-script results, downloads, XPath tags', async () => {
    const badTag = await api.call('POST', `${API}/tags/`, { key: admin, form: { name: 'bad', definition: '//node[' } });
    assert.equal(badTag.status, 400);
    assert.match(badTag.text, /Invalid XPath expression/);
    assert.equal((await api.call('GET', `${API}/tags/bad/`, { key: admin })).status, 404);
    for (const [name, definition] of [
      ['box', '//node[@class="system"]/product = "Box"'],
      ['bigmem', '//node[@id="memory"]/size > 100000000000'],
    ] as const)
      assert.equal((await api.call('POST', `${API}/tags/`, { key: admin, form: { name, definition } })).status, 200);
    assert.equal((await upload(script('name: user-check\nscript_type: commissioning', 'echo ok'))).status, 200);

    const mac = '52:54:00:ee:00:01';
    const { id, token } = await commissioning('scripted', mac);

    // The set exists from the start: one pending result per script.
    const RESULTS = `${API}/nodes/${id}/results/`;
    const pending = (await api.call('GET', `${RESULTS}current-commissioning/`, { key: admin })).body as Json;
    const pendingNames = (pending.results as Json[]).map((r) => r.name);
    for (const n of ['00-maas-01-lshw', '50-maas-01-commissioning', 'user-check']) assert.ok(pendingNames.includes(n));
    assert.equal(pending.status_name, 'Pending');

    const tar = await bytes('/MAAS/metadata/latest/maas-scripts/', token);
    assert.equal(tar.status, 200);
    const files = untar(tar.body);
    const index = JSON.parse(files.get('index.json')!.toString()) as { '1.0': { commissioning_scripts: Json[] } };
    const entries = index['1.0'].commissioning_scripts;
    const entry = (name: string) => entries.find((e) => e.name === name)!;
    assert.equal(entry('user-check').path, 'commissioning/user-check');
    assert.equal(
      files.get('commissioning/user-check')!.toString(),
      script('name: user-check\nscript_type: commissioning', 'echo ok'),
    );
    assert.equal(entry('00-maas-01-lshw').timeout_seconds, 45);
    // MAAS's parallel (0 disabled, 2 any): how the environment's runner batches the scripts.
    assert.equal(entry('00-maas-01-lshw').parallel, 2);
    assert.equal(entry('00-maas-05-dhcp-unconfigured-ifaces').parallel, 0);
    assert.equal(entry('00-maas-01-lshw').has_started, false);

    const signal = (fields: Record<string, string>, uploads: Record<string, string> = {}) => {
      const body = new FormData();
      body.append('op', 'signal');
      for (const [k, v] of Object.entries(fields)) body.append(k, v);
      for (const [k, v] of Object.entries(uploads)) body.append(k, new Blob([v]), k);
      return api.call('POST', '/MAAS/metadata/latest/', { key: token, body });
    };
    const lshwId = String(entry('00-maas-01-lshw').script_result_id);
    // An id from another run is refused and writes nothing.
    const stranger = await signal({ status: 'WORKING', script_result_id: '999999', exit_status: '0' }, { x: 'y' });
    assert.equal(stranger.status, 400, stranger.text);
    // A result file named out of its directory, or over the per-file cap: a 400 naming it, nothing stored.
    const resultsNow = async () =>
      JSON.stringify(
        (((await api.call('GET', `${RESULTS}current-commissioning/`, { key: admin })).body as Json).results as Json[])
          .map((r) => [r.name, r.status_name])
          .sort(),
      );
    const beforeBad = await resultsNow();
    for (const [file, content, message] of [
      ['../evil', 'x', /Result file '\.\.\/evil' contains '\/'/],
      ['.hidden.out', 'x', /Result file '\.hidden\.out' starts with '\.'/],
      [
        '00-maas-02-virtuality',
        'x'.repeat(4 * 1024 * 1024 + 1),
        /Result file '00-maas-02-virtuality' is 4194305 bytes; at most 4194304/,
      ],
    ] as const) {
      const bad = await signal({ status: 'WORKING', exit_status: '0' }, { [file]: content });
      assert.equal(bad.status, 400, bad.text);
      assert.match(bad.text, message);
    }
    assert.equal(await resultsNow(), beforeBad);
    assert.equal((await signal({ status: 'WORKING', script_result_id: lshwId })).status, 200);
    const running = (await api.call('GET', `${RESULTS}current-commissioning/?filters=00-maas-01-lshw`, { key: admin }))
      .body as Json;
    assert.equal((running.results as Json[])[0]!.status_name, 'Running');
    const stored = await signal(
      { status: 'WORKING', script_result_id: lshwId, exit_status: '0', runtime: '2.5' },
      { '00-maas-01-lshw': LSHW, '00-maas-01-lshw.err': 'a warning' },
    );
    assert.equal(stored.status, 200, stored.text);
    const userId = String(entry('user-check').script_result_id);
    await signal(
      { status: 'WORKING', script_result_id: userId, exit_status: '0' },
      { 'user-check.out': 'ok\n', 'user-check.yaml': 'status: passed\n' },
    );
    // The remaining built-ins by name, as an environment without ids sends them.
    await signal({ status: 'WORKING', exit_status: '0' }, { '00-maas-02-virtuality': 'none\n' });
    const done = await signal({ status: 'OK' }, { [HARDWARE_FILE]: JSON.stringify(report(mac)) });
    assert.equal(done.status, 200, done.text);
    await waitForStatus(region.services, id, S.READY);
    assert.equal((await bytes('/MAAS/metadata/latest/maas-scripts/', token)).status, 204, 'nothing to run when READY');

    const set = (await api.call('GET', `${RESULTS}current-commissioning/?include_output=true`, { key: admin }))
      .body as Json;
    const result = (name: string) => (set.results as Json[]).find((r) => r.name === name)!;
    assert.equal(set.status_name, 'Passed');
    assert.equal(result('00-maas-01-lshw').status_name, 'Passed');
    assert.equal(result('00-maas-01-lshw').runtime, '0:00:03');
    assert.equal(Buffer.from(result('00-maas-01-lshw').output as string, 'base64').toString(), LSHW);
    assert.equal(Buffer.from(result('00-maas-01-lshw').stderr as string, 'base64').toString(), 'a warning');
    assert.equal(result('00-maas-02-virtuality').status_name, 'Passed');
    assert.equal(result('00-maas-05-dhcp-unconfigured-ifaces').status_name, 'Skipped', 'never reported');
    assert.equal(result(HARDWARE_FILE).status_name, 'Passed');

    const stdout = await bytes(`${RESULTS}current-commissioning/?op=download&output=stdout&filters=user-check`, admin);
    assert.equal(stdout.body.toString(), 'ok\n');
    const yaml = await bytes(`${RESULTS}${set.id as number}/?op=download&output=result&filters=user-check`, admin);
    assert.equal(yaml.body.toString(), 'status: passed\n');
    const xz = await bytes(`${RESULTS}current-commissioning/?op=download&output=all&filetype=tar.xz`, admin);
    assert.equal(xz.status, 200);
    assert.deepEqual([...xz.body.subarray(0, 6)], [0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
    const badType = await api.call('GET', `${RESULTS}current-commissioning/?op=download&filetype=zip`, { key: admin });
    assert.equal(badType.status, 400);
    assert.match(badType.text, /Unknown filetype "zip" must be txt or tar.xz/);

    const m = (await api.call('GET', `${API}/machines/${id}/`, { key: admin })).body as Json;
    assert.equal(m.commissioning_status_name, 'Passed');
    assert.equal(m.testing_status, -1);
    assert.ok((m.tag_names as string[]).includes('box'), 'the XPath matched the lshw output');
    assert.ok(!(m.tag_names as string[]).includes('bigmem'));

    // A redefinition re-evaluates; so does rebuild after a manual change.
    const tagsOf = async () =>
      ((await api.call('GET', `${API}/machines/${id}/`, { key: admin })).body as Json).tag_names;
    await api.call('PUT', `${API}/tags/box/`, { key: admin, form: { definition: '//node[@class="disk"]' } });
    assert.ok(!((await tagsOf()) as string[]).includes('box'));
    await api.call('PUT', `${API}/tags/bigmem/`, { key: admin, form: { definition: '//node[@id="memory"]/size > 1' } });
    assert.ok(((await tagsOf()) as string[]).includes('bigmem'));
    await api.call('POST', `${API}/tags/bigmem/?op=update_nodes`, { key: admin, form: { remove: id } });
    assert.ok(!((await tagsOf()) as string[]).includes('bigmem'));
    const rebuilt = await api.call('POST', `${API}/tags/bigmem/?op=rebuild`, { key: admin });
    assert.deepEqual(rebuilt.body, { rebuilding: 'bigmem' });
    assert.ok(((await tagsOf()) as string[]).includes('bigmem'));

    // Deleting a set.
    assert.equal((await api.call('DELETE', `${RESULTS}${set.id as number}/`, { key: alice })).status, 403);
    assert.equal((await api.call('DELETE', `${RESULTS}${set.id as number}/`, { key: admin })).status, 204);
    assert.deepEqual((await api.call('GET', RESULTS, { key: admin })).body, []);
  });

  it('a commissioning script that fails fails commissioning, naming it', async () => {
    const { id, token } = await commissioning('failing', '52:54:00:ee:00:02');
    const body = new FormData();
    for (const [k, v] of Object.entries({ op: 'signal', status: 'WORKING', exit_status: '1' })) body.append(k, v);
    body.append('user-check.err', new Blob(['boom']), 'user-check.err');
    assert.equal((await api.call('POST', '/MAAS/metadata/latest/', { key: token, body })).status, 200);
    const ok = await api.call('POST', '/MAAS/metadata/latest/', { key: token, form: { op: 'signal', status: 'OK' } });
    assert.equal(ok.status, 200, ok.text);
    await waitForStatus(region.services, id, S.FAILED_COMMISSIONING);
    const m = (await api.call('GET', `${API}/machines/${id}/`, { key: admin })).body as Json;
    assert.equal(m.commissioning_status_name, 'Failed');
    const events: Array<{ description: string }> = await region.services.db.query(
      `SELECT e.description FROM events e JOIN machines m ON m.id = e.machine_id WHERE m.system_id = $1`,
      [id],
    );
    assert.ok(events.some((e) => e.description.includes('Commissioning script failed: user-check')));
  });

  it('a status=FAILED signal with files and no exit_status stores the script FAILED, not PASSED', async () => {
    const { id, token } = await commissioning('failed-no-exit', '52:54:00:ee:00:03');
    const body = new FormData();
    for (const [k, v] of Object.entries({ op: 'signal', status: 'FAILED', error: 'gave up' })) body.append(k, v);
    body.append('user-check.err', new Blob(['boom']), 'user-check.err');
    const r = await api.call('POST', '/MAAS/metadata/latest/', { key: token, body });
    assert.equal(r.status, 200, r.text);
    await waitForStatus(region.services, id, S.FAILED_COMMISSIONING);
    const set = (
      await api.call('GET', `${API}/nodes/${id}/results/current-commissioning/?filters=user-check`, {
        key: admin,
      })
    ).body as Json;
    const result = (set.results as Json[])[0]!;
    assert.equal(result.status_name, 'Failed');
    assert.equal(result.exit_status, null, 'none was reported');
  });
});
