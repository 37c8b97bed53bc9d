// NamedProcess's supervision of named, on a fake named (a sleep that records its pid) and a fake
// rndc (answers while a marker file exists): a crash and restart leave no watcher of the dead
// named behind, and a start that times out leaves neither named nor its wrapper.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { NamedProcess } from '../../../src/region/dns-server/named-process';

let bin = '';
let savedPath: string | undefined;
const marker = () => path.join(bin, 'rndc-answers');

/** A process that exists and is not a zombie (an orphan's zombie may wait long for its reaper). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** The wrapper shell and its watcher subshell: both carry the directory's named.conf in their argv. */
function wrappers(dir: string): number[] {
  const conf = path.join(dir, 'named.conf');
  return fs
    .readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map(Number)
    .filter((pid) => {
      try {
        return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(conf) && alive(pid);
      } catch {
        return false;
      }
    });
}

/** The pids the fake named recorded, in start order. */
const namedPids = (dir: string): number[] =>
  fs.existsSync(path.join(dir, 'pids'))
    ? fs.readFileSync(path.join(dir, 'pids'), 'utf8').trim().split('\n').map(Number)
    : [];

async function until(what: string, ok: () => boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('NamedProcess: the named it runs and the processes around it', () => {
  before(() => {
    bin = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-fake-bind-'));
    // Records its pid in the directory of the named.conf it is given ($3), then sleeps as named would run.
    fs.writeFileSync(path.join(bin, 'named'), '#!/bin/sh\necho $$ >>"$(dirname "$3")/pids"\nexec sleep 600\n', {
      mode: 0o755,
    });
    fs.writeFileSync(path.join(bin, 'rndc'), `#!/bin/sh\n[ -e '${marker()}' ]\n`, { mode: 0o755 });
    savedPath = process.env.PATH;
    process.env.PATH = `${bin}${path.delimiter}${savedPath ?? ''}`;
  });
  after(() => {
    process.env.PATH = savedPath;
    fs.rmSync(bin, { recursive: true, force: true });
  });

  it('a crashed named is restarted, and the watcher of the dead one does not stay behind', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-named-'));
    fs.writeFileSync(marker(), '');
    const named = (await NamedProcess.create(dir, () => {}))!;
    try {
      await named.start();
      // start() returns once rndc answers, which the fake rndc may do before the fake named ran its echo.
      await until('the first named to record its pid', () => namedPids(dir).length === 1);
      const [first] = namedPids(dir);
      assert.ok(first && alive(first));
      await until('the shell and its watcher', () => wrappers(dir).length === 2);
      process.kill(first, 'SIGKILL');
      await until('the restart', () => namedPids(dir).length === 2 && alive(namedPids(dir)[1]!));
      // The new shell and its watcher only: the old watcher ends with the old shell.
      await until('only the new shell and watcher', () => wrappers(dir).length === 2, 1500).catch(() => {});
      assert.equal(wrappers(dir).length, 2, `left: ${wrappers(dir).join(', ')}`);
    } finally {
      await named.stop();
    }
    await until('everything to stop', () => wrappers(dir).length === 0 && !namedPids(dir).some(alive), 3000);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a start that times out leaves no named and no wrapper', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-named-'));
    fs.rmSync(marker(), { force: true });
    const named = (await NamedProcess.create(dir, () => {}, { readyTimeoutMs: 500 }))!;
    await assert.rejects(named.start(), /named did not answer rndc within 0\.5 s/);
    // As startDnsServer does after a failed start.
    await named.stop();
    const [pid] = namedPids(dir);
    assert.ok(pid);
    await until('named and its wrapper to be gone', () => !alive(pid) && wrappers(dir).length === 0, 2000).catch(
      () => {},
    );
    assert.equal(alive(pid), false, `named ${pid} was left running`);
    assert.deepEqual(wrappers(dir), []);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
