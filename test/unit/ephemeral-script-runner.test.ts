// images/ephemeral/scripts/runner.sh under busybox sh (busybox's own applets first on PATH, its
// wget as the HTTP client, as in the environment) against a tiny HTTP sink standing in for the
// region: the maas-scripts tar (test/fixtures/maas-scripts, MAAS's index.json format) is fetched,
// every script runs, and each result is signalled as MAAS's maas-run-remote-scripts does (issue 20).
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

const ROOT = path.resolve(__dirname, '../..');
const INIT = path.join(ROOT, 'images/ephemeral/init');
const RUNNER = path.join(ROOT, 'images/ephemeral/scripts/runner.sh');
const FLATTEN = path.join(ROOT, 'images/ephemeral/scripts/json-flatten.awk');
const BUILTIN = path.join(ROOT, 'images/ephemeral/scripts/builtin');
const LIBRARY = path.join(ROOT, 'src/api/run-scripts/maas-run-scripts.sh');
const FIXTURE = path.join(ROOT, 'test/fixtures/maas-scripts/tree');

interface Signal {
  fields: Record<string, string>;
  files: Record<string, string>;
}

/** A multipart/form-data body's fields and files (the env's mp_* writes simple, CRLF-delimited parts). */
function parseMultipart(body: Buffer, contentType: string): Signal {
  const boundary = /boundary=(\S+)/.exec(contentType)?.[1];
  assert.ok(boundary, contentType);
  const out: Signal = { fields: {}, files: {} };
  for (const part of body.toString('latin1').split(`--${boundary}`).slice(1, -1)) {
    const [head, ...rest] = part.replace(/^\r\n/, '').split('\r\n\r\n');
    const value = rest.join('\r\n\r\n').replace(/\r\n$/, '');
    const name = /name="([^"]*)"/.exec(head!)![1]!;
    if (/filename="/.test(head!)) out.files[name] = value;
    else out.fields[name] = value;
  }
  return out;
}

/**
 * The region's stand-in: the nth GET of maas-scripts answers answers[n] (the last one again after
 * that; a number is that HTTP status with no body), 404 when none; POSTs are recorded.
 */
async function region(answers: ReadonlyArray<Buffer | number> | null) {
  const signals: Signal[] = [];
  const gets: string[] = [];
  const s = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      if (req.method === 'GET') {
        const answer = answers?.[Math.min(gets.length, answers.length - 1)];
        gets.push(req.url!);
        if (req.url !== '/MAAS/metadata/2012-03-01/maas-scripts' || answer === undefined)
          res.writeHead(404).end('Not Found');
        else if (typeof answer === 'number') res.writeHead(answer).end();
        else res.writeHead(200, { 'content-type': 'application/x-tar' }).end(answer);
        return;
      }
      assert.match(req.headers.authorization ?? '', /oauth_signature_method="PLAINTEXT"/);
      signals.push(parseMultipart(Buffer.concat(chunks), req.headers['content-type']!));
      res.writeHead(200).end('OK');
    });
  });
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as AddressInfo;
  return { port, signals, gets, close: () => new Promise<void>((r) => s.close(() => r())) };
}

/** Runs SCRIPT in busybox sh with the runner loaded as /init loads it; busybox applets first on PATH. */
function shell(port: number, script: string): Promise<{ code: number | null; out: string }> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-script-runner-'));
  const bin = path.join(work, 'bin');
  fs.mkdirSync(bin);
  execFileSync('/bin/busybox', ['--install', '-s', bin]);
  const retryFn = /^retry\(\) \{\n[\s\S]*?\n\}\n/m.exec(fs.readFileSync(INIT, 'utf8'));
  const postFn = /^signed_post\(\) \{\n[\s\S]*?\n\}\n/m.exec(fs.readFileSync(INIT, 'utf8'));
  assert.ok(retryFn && postFn, "init's retry and signed_post");
  const harness = `
WORK=${work}/run
mkdir -p "$WORK"
log() { echo "log: $*"; }
die() { echo "die: $*"; exit 1; }
follow_rack() { return 1; }
MAAS_RUN_SCRIPTS_LIB=1 . ${LIBRARY}
set +u
HTTP=busybox-wget
CK=ck TK=tk TS=ts
METADATA=http://127.0.0.1:${port}/MAAS/metadata
${retryFn[0]}
${postFn[0]}
BUILTIN_SCRIPTS=${BUILTIN} JSON_FLATTEN=${FLATTEN}
. ${RUNNER}
${script}
`;
  return new Promise((resolve) => {
    const child = spawn('/bin/busybox', ['sh', '-c', harness], {
      env: { PATH: `${bin}:/usr/sbin:/usr/bin:/sbin:/bin` },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => {
      fs.rmSync(work, { recursive: true, force: true });
      resolve({ code, out });
    });
  });
}

function tarOf(dir: string): Buffer {
  return execFileSync('tar', ['-C', dir, '-cf', '-', '.']);
}

/** A tar of `files` (path → text, executable) and an index.json of `sections`. */
function tarWith(files: Record<string, string>, sections: Record<string, unknown[]>): Buffer {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-scripts-tar-'));
  try {
    for (const [name, text] of Object.entries(files)) {
      fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      fs.writeFileSync(path.join(dir, name), text, { mode: 0o755 });
    }
    fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ '1.0': sections }));
    return tarOf(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The fixture as the region serves it once commissioning has passed: its tests only. */
function fixtureTestsOnly(): Buffer {
  const index = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'index.json'), 'utf8'));
  const files: Record<string, string> = {};
  for (const name of fs.readdirSync(path.join(FIXTURE, 'testing')))
    files[`testing/${name}`] = fs.readFileSync(path.join(FIXTURE, 'testing', name), 'utf8');
  return tarWith(files, { testing_scripts: index['1.0'].testing_scripts });
}

describe('ephemeral environment: MAAS scripts runner (images/ephemeral/scripts/runner.sh)', () => {
  let sink: Awaited<ReturnType<typeof region>>;
  before(async () => {
    sink = await region([tarOf(FIXTURE), fixtureTestsOnly()]);
  });
  after(() => sink.close());

  it('runs the index in MAAS order and signals every result with its fields and files', async () => {
    const r = await shell(sink.port, 'fetch_maas_scripts; echo "fetch=$?"; run_maas_scripts; echo "run=$?"');
    assert.match(r.out, /fetch=0/, r.out);
    assert.match(r.out, /run=1/, r.out);
    // Fetched again once commissioning passed (MAAS's environment does), and the tests run from that.
    assert.deepEqual(sink.gets, ['/MAAS/metadata/2012-03-01/maas-scripts', '/MAAS/metadata/2012-03-01/maas-scripts']);
    const statuses = sink.signals.map((s) => `${s.fields.status} ${s.fields.error ?? ''}`.trim());
    // Node-type scripts by name, the parallel-any 00-maas-02-virtuality after the disabled ones;
    // testing after op=signal TESTING; storage (3) before node (0).
    assert.deepEqual(statuses, [
      'WORKING Starting 50-maas-01-commissioning (id: 10)',
      'WORKING Finished 50-maas-01-commissioning (id: 10): 0',
      'WORKING Starting 99-user-facts (id: 12)',
      'WORKING Finished 99-user-facts (id: 12): 0',
      'WORKING Starting 00-maas-02-virtuality (id: 11)',
      'WORKING Finished 00-maas-02-virtuality (id: 11): 0',
      'TESTING',
      'WORKING Starting always-fails (id: 20)',
      'WORKING Finished always-fails (id: 20): 3',
      'WORKING Starting needs-missing-disk (id: 22)',
      'WORKING Failed to execute needs-missing-disk (id: 22): 2',
      'WORKING Starting sleeps-too-long (id: 21)',
      'TIMEDOUT Timeout(1 s) expired on sleeps-too-long (id: 21)',
      'FAILED 3 test scripts failed to run',
    ]);
    const result = (name: string) => sink.signals.find((s) => s.fields.name === name && 'exit_status' in s.fields)!;

    const user = result('99-user-facts');
    assert.equal(user.fields.op, 'signal');
    assert.equal(user.fields.script_result_id, '12');
    assert.equal(user.fields.script_version_id, '7');
    assert.equal(user.fields.exit_status, '0');
    assert.match(user.fields.runtime!, /^\d+\.\d\d$/);
    assert.deepEqual(Object.keys(user.files).sort(), [
      '99-user-facts',
      '99-user-facts.err',
      '99-user-facts.out',
      '99-user-facts.yaml',
    ]);
    // Parameters as MAAS's parse_parameters passes them; the runtime parameter is the timeout.
    assert.match(user.files['99-user-facts.out']!, /^stdout line 1\nargs: --runtime=45 --mode=fast --label a b\n/);
    assert.match(user.files['99-user-facts.out']!, /runtime=45 has_started=False/);
    assert.equal(user.files['99-user-facts.err'], 'stderr line\n');
    assert.match(user.files['99-user-facts']!, /stdout line 1/);
    assert.match(user.files['99-user-facts']!, /stderr line/);
    assert.equal(user.files['99-user-facts.yaml'], 'status: passed\nresults:\n  answer: 42\n');

    // The built-in ran from the image (it is not in the tar) and printed MAAS's resources JSON.
    const resources = JSON.parse(result('50-maas-01-commissioning').files['50-maas-01-commissioning.out']!);
    assert.ok(resources.resources.cpu.total >= 1);
    assert.ok(resources.resources.memory.total > 0);
    assert.ok(Array.isArray(resources.resources.storage.disks));

    const fails = result('always-fails');
    assert.equal(fails.fields.exit_status, '3');
    assert.equal(fails.files['always-fails.err'], 'this disk is bad: --interface=lo\n');
    assert.equal(result('needs-missing-disk').fields.exit_status, '2');
    assert.match(
      result('needs-missing-disk').files['needs-missing-disk']!,
      /Storage device 'QEMU HARDDISK' with serial 'NOPE' not found!/,
    );
    const slow = result('sleeps-too-long');
    assert.equal(slow.fields.exit_status, '124');
    assert.equal(slow.files['sleeps-too-long.out'], 'started\n');
  });

  it('a region without maas-scripts (404) leaves the environment its metalflow-hardware.json report', async () => {
    const none = await region(null);
    try {
      const r = await shell(none.port, 'fetch_maas_scripts; echo "fetch=$?"');
      assert.match(r.out, /fetch=1/, r.out);
      assert.deepEqual(none.signals, []);
    } finally {
      await none.close();
    }
  });

  it('a script whose name leaves its directory is refused before anything is written for it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-scripts-escape-'));
    try {
      fs.mkdirSync(path.join(dir, 'commissioning'));
      fs.copyFileSync(path.join(FIXTURE, 'commissioning/99-user-facts'), path.join(dir, 'commissioning/99-user-facts'));
      const index = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'index.json'), 'utf8'));
      const entry = { ...index['1.0'].commissioning_scripts[0], name: '../../escaped' };
      fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ '1.0': { commissioning_scripts: [entry] } }));
      const bad = await region([tarOf(dir)]);
      try {
        // The harness's WORK is <tmp>/run: `$WORK/out/../../escaped` would be <tmp>/escaped*.
        const r = await shell(
          bad.port,
          'fetch_maas_scripts && run_maas_scripts; echo "rc=$?"; ls "$WORK/.." "$WORK" | grep escaped && echo ESCAPED',
        );
        assert.match(r.out, /rc=1/, r.out);
        assert.match(r.out, /Refusing to run script '\.\.\/\.\.\/escaped'/, r.out);
        assert.doesNotMatch(r.out, /ESCAPED/, r.out);
        assert.deepEqual(
          bad.signals.filter((s) => /escaped/.test(s.fields.error ?? '') || Object.keys(s.files).length > 0),
          [],
        );
      } finally {
        await bad.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a storage parameter the region could not resolve (MAAS's `all` placeholder) fails that script, naming it", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-scripts-unresolved-'));
    try {
      fs.mkdirSync(path.join(dir, 'commissioning'));
      fs.copyFileSync(path.join(FIXTURE, 'commissioning/99-user-facts'), path.join(dir, 'commissioning/99-user-facts'));
      const index = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'index.json'), 'utf8'));
      const entry = {
        ...index['1.0'].commissioning_scripts[0],
        parameters: { storage: { type: 'storage', value: 'all' } },
      };
      fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ '1.0': { commissioning_scripts: [entry] } }));
      const unresolved = await region([tarOf(dir)]);
      try {
        const r = await shell(unresolved.port, 'fetch_maas_scripts && run_maas_scripts; echo "rc=$?"');
        assert.match(r.out, /rc=1/, r.out);
        const text = unresolved.signals.map((s) => Object.values(s.files).map(String).join(' ')).join(' ');
        assert.match(text, /Storage device 'all' was not resolved to a disk of this machine/, r.out);
      } finally {
        await unresolved.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('commissioning scripts that all pass end with OK "All scripts successfully ran"', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-scripts-pass-'));
    try {
      fs.mkdirSync(path.join(dir, 'commissioning'));
      fs.copyFileSync(path.join(FIXTURE, 'commissioning/99-user-facts'), path.join(dir, 'commissioning/99-user-facts'));
      const index = JSON.parse(fs.readFileSync(path.join(FIXTURE, 'index.json'), 'utf8'));
      fs.writeFileSync(
        path.join(dir, 'index.json'),
        JSON.stringify({ '1.0': { commissioning_scripts: [index['1.0'].commissioning_scripts[0]] } }),
      );
      const ok = await region([tarOf(dir), 204]);
      try {
        const r = await shell(ok.port, 'fetch_maas_scripts && run_maas_scripts; echo "rc=$?"');
        assert.match(r.out, /rc=0/, r.out);
        assert.deepEqual(
          ok.signals.map((s) => `${s.fields.status} ${s.fields.error}`),
          [
            'WORKING Starting 99-user-facts (id: 12)',
            'WORKING Finished 99-user-facts (id: 12): 0',
            'OK All scripts successfully ran',
          ],
        );
        assert.equal(ok.gets.length, 2, 'fetched again after commissioning: 204, nothing left to run');
      } finally {
        await ok.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  it("a user's script named like a built-in runs its own text; the index's `default` one runs the image's", async () => {
    const entry = (id: number, isDefault: boolean) => ({
      name: '00-maas-02-virtuality',
      path: 'commissioning/00-maas-02-virtuality',
      script_result_id: id,
      timeout_seconds: 30,
      parallel: 0,
      hardware_type: 0,
      parameters: {},
      default: isDefault,
    });
    const files = { 'commissioning/00-maas-02-virtuality': '#!/bin/sh\necho "the user script text"\n' };
    for (const [isDefault, expected] of [
      [false, /^the user script text$/m],
      [true, /^(none|kvm|qemu|[a-z-]+)$/m],
    ] as const) {
      const sink4 = await region([tarWith(files, { commissioning_scripts: [entry(60, isDefault)] }), 204]);
      try {
        const r = await shell(sink4.port, 'fetch_maas_scripts && run_maas_scripts; echo "rc=$?"');
        assert.match(r.out, /rc=0/, r.out);
        const out = sink4.signals.find((x) => 'exit_status' in x.fields)!.files['00-maas-02-virtuality.out']!;
        assert.match(out, expected, `default=${String(isDefault)}: ${out}`);
        if (isDefault) assert.doesNotMatch(out, /user script text/);
      } finally {
        await sink4.close();
      }
    }
  });

  it('after commissioning the tests run from the scripts fetched again; if that fetch fails, from the first list', async () => {
    const echo = (word: string) => `#!/bin/sh\necho ${word}\n`;
    const entry = (name: string, id: number, kind: string) => ({
      name,
      path: `${kind}/${name}`,
      script_result_id: id,
      timeout_seconds: 30,
      parallel: 0,
      hardware_type: 0,
      parameters: {},
    });
    const first = tarWith(
      { 'commissioning/facts': echo('facts'), 'testing/listed-first': echo('first') },
      {
        commissioning_scripts: [entry('facts', 50, 'commissioning')],
        testing_scripts: [entry('listed-first', 51, 'testing')],
      },
    );
    // What the region serves once it has the hardware: the test regenerated as another result.
    const again = tarWith(
      { 'testing/listed-again': echo('again') },
      { testing_scripts: [entry('listed-again', 52, 'testing')] },
    );
    const ran = (signals: Signal[]) => signals.filter((x) => 'exit_status' in x.fields).map((x) => x.fields.name);
    for (const [answers, expected] of [
      [
        [first, again],
        ['facts', 'listed-again'],
      ],
      [
        [first, 403],
        ['facts', 'listed-first'],
      ],
    ] as const) {
      const sink3 = await region(answers);
      try {
        const r = await shell(sink3.port, 'fetch_maas_scripts && run_maas_scripts; echo "rc=$?"');
        assert.match(r.out, /rc=0/, r.out);
        assert.deepEqual(ran(sink3.signals), expected, r.out);
        assert.equal(sink3.gets.length, 2);
        assert.deepEqual(
          sink3.signals
            .filter((x) => !('exit_status' in x.fields) && !/^Starting/.test(x.fields.error ?? ''))
            .map((x) => x.fields.status),
          ['TESTING', 'OK'],
        );
      } finally {
        await sink3.close();
      }
    }
  });

  it('runs disabled scripts alone, then the instances of one script together, then every any script together', async () => {
    // Each script writes its start and end (centiseconds of /proc/uptime) to its output; who ran
    // alongside whom follows from those stamps, whatever the machine's load.
    const stamped = (seconds: number, rc: number) =>
      `#!/bin/sh\nstamp() { awk '{ printf "%d\\n", $1 * 100 }' /proc/uptime; }\necho "start $(stamp)"\nsleep ${seconds}\necho "end $(stamp)"\nexit ${rc}\n`;
    const scripts = [
      { name: 'alone', id: 30, parallel: 0, file: stamped(1, 0) },
      { name: 'per-disk', id: 31, parallel: 1, file: stamped(2, 0) },
      { name: 'per-disk', id: 32, parallel: 1, file: stamped(2, 0) },
      { name: 'any-a', id: 33, parallel: 2, file: stamped(2, 0) },
      // Fails: the other any script still runs to its end and reports.
      { name: 'any-b', id: 34, parallel: 2, file: stamped(2, 1) },
    ];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-scripts-parallel-'));
    try {
      fs.mkdirSync(path.join(dir, 'commissioning'));
      for (const sc of scripts) {
        fs.writeFileSync(path.join(dir, 'commissioning', sc.name), sc.file, { mode: 0o755 });
      }
      const index = scripts.map((sc) => ({
        name: sc.name,
        path: `commissioning/${sc.name}`,
        script_result_id: sc.id,
        timeout_seconds: 30,
        parallel: sc.parallel,
        hardware_type: 0,
        parameters: {},
      }));
      fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ '1.0': { commissioning_scripts: index } }));
      const sink2 = await region([tarOf(dir)]);
      try {
        const r = await shell(sink2.port, 'fetch_maas_scripts && run_maas_scripts; echo "rc=$?"');
        assert.match(r.out, /rc=1/, r.out);
        // Every result uploaded exactly once, whatever order the batch's uploads came in.
        const finished = sink2.signals.filter((s) => 'exit_status' in s.fields);
        assert.deepEqual(finished.map((s) => s.fields.script_result_id).sort(), ['30', '31', '32', '33', '34']);
        assert.equal(sink2.signals.at(-1)!.fields.status, 'FAILED');
        assert.equal(sink2.signals.at(-1)!.fields.error, '1 commissioning scripts failed to run');
        const run = new Map(
          finished.map((s) => {
            const out = s.files[`${s.fields.name}.out`]!;
            const start = Number(/^start (\d+)$/m.exec(out)?.[1]);
            const end = Number(/^end (\d+)$/m.exec(out)?.[1]);
            assert.ok(start <= end, `${s.fields.script_result_id}: ${out}`);
            return [s.fields.script_result_id!, { start, end, exit: s.fields.exit_status }];
          }),
        );
        assert.equal(run.get('33')!.exit, '0');
        assert.equal(run.get('34')!.exit, '1');
        const overlap = (a: string, b: string) =>
          run.get(a)!.start < run.get(b)!.end && run.get(b)!.start < run.get(a)!.end;
        assert.ok(overlap('33', '34'), 'the two any scripts ran at the same time');
        assert.ok(overlap('31', '32'), "one script's two instances ran at the same time");
        for (const other of ['31', '32', '33', '34'])
          assert.ok(!overlap('30', other), `the disabled one ran alone (${other})`);
        for (const inst of ['31', '32'])
          for (const any of ['33', '34']) assert.ok(run.get(inst)!.end <= run.get(any)!.start, `${inst} before ${any}`);
        assert.ok(run.get('30')!.end <= run.get('31')!.start && run.get('30')!.end <= run.get('32')!.start);
      } finally {
        await sink2.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
