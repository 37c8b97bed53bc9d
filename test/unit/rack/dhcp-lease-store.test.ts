import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { formatIp, parseIp } from '../../../src/rack/dhcp/ipv4';
import { LEASE_FILE, openLeaseJournal } from '../../../src/rack/dhcp/lease-store';
import type { Lease } from '../../../src/rack/dhcp/lease-table';

const NOW = Date.now();
const lease = (ip: string, mac: string, state: Lease['state'] = 'bound', expiresAt = NOW + 3600_000): Lease => ({
  ip: parseIp(ip)!,
  mac,
  hostname: `h-${mac.slice(-2)}`,
  state,
  expiresAt,
});
const lines = (dir: string) => fs.readFileSync(path.join(dir, LEASE_FILE), 'utf8').split('\n').filter(Boolean);

describe('DHCP lease journal', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-leases-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('starts empty, then hands back the latest state per address after a reopen, compacted to one line each', async () => {
    const first = await openLeaseJournal(dir);
    assert.deepEqual(first.leases, []);
    await first.journal.append([lease('10.0.0.5', 'aa:01'), lease('10.0.0.6', 'aa:02')]);
    await first.journal.append([lease('10.0.0.5', 'aa:01', 'bound', NOW + 7200_000)]);
    await first.journal.append([lease('10.0.0.6', 'aa:02', 'released', NOW)]);
    await first.journal.close();
    assert.equal(lines(dir).length, 4, 'append-only while running');

    const second = await openLeaseJournal(dir);
    await second.journal.close();
    const got = second.leases.map((l) => [formatIp(l.ip), l.mac, l.state, l.expiresAt, l.hostname]).sort();
    assert.deepEqual(got, [
      ['10.0.0.5', 'aa:01', 'bound', NOW + 7200_000, 'h-01'],
      ['10.0.0.6', 'aa:02', 'released', NOW, 'h-02'],
    ]);
    assert.equal(lines(dir).length, 2, 'compacted at startup');
  });

  it('gathers concurrent appends into few flushes and resolves each once its lines are on disk', async () => {
    const { journal } = await openLeaseJournal(dir, { groupCommitMs: 5 });
    // Count flushes on the FileHandle class (Node does not export it: take it from a handle).
    const probe = await fs.promises.open(path.join(dir, LEASE_FILE), 'r');
    const proto = Object.getPrototypeOf(probe) as fs.promises.FileHandle;
    await probe.close();
    const datasync = proto.datasync;
    let flushes = 0;
    proto.datasync = function (this: fs.promises.FileHandle) {
      flushes += 1;
      return datasync.call(this);
    };
    try {
      const resolvedWith: number[] = [];
      await Promise.all(
        Array.from({ length: 200 }, (_, k) =>
          journal
            .append([lease(`10.0.${k >> 8}.${k & 255}`, `bb:${k}`)])
            .then(() => resolvedWith.push(lines(dir).length)),
        ),
      );
      assert.ok(flushes >= 1 && flushes <= 3, `${flushes} flushes for 200 appends`);
      assert.ok(
        resolvedWith.every((n) => n === 200),
        'every append resolved after the batch was written',
      );
    } finally {
      proto.datasync = datasync;
      await journal.close();
    }
    assert.equal(lines(dir).length, 200);
  });

  it('skips a torn last line (a crash mid-write) and unreadable lines, and says so', async () => {
    const good = JSON.stringify({ ip: '10.0.0.7', mac: 'aa:07', hostname: '', state: 'bound', expiresAt: NOW + 1000 });
    fs.writeFileSync(
      path.join(dir, LEASE_FILE),
      `${good}\nnot json\n{"ip":"10.0.0.8","mac":"aa:08","state":"weird","expiresAt":1}\n{"ip":"10.0.0.9","ma`,
    );
    const log: string[] = [];
    const { journal, leases } = await openLeaseJournal(dir, { log: (l) => log.push(l) });
    await journal.close();
    assert.deepEqual(
      leases.map((l) => formatIp(l.ip)),
      ['10.0.0.7'],
    );
    assert.match(log.join('\n'), /3 unreadable line/);
  });

  it('forgets free addresses after a week but keeps bound leases however old', async () => {
    const { journal } = await openLeaseJournal(dir);
    const old = NOW - 8 * 24 * 3600_000;
    await journal.append([
      lease('10.0.0.1', 'aa:01', 'expired', old),
      lease('10.0.0.2', 'aa:02', 'bound', old),
      lease('10.0.0.3', 'aa:03', 'released', NOW - 1000),
    ]);
    await journal.close();
    const again = await openLeaseJournal(dir);
    await again.journal.close();
    assert.deepEqual(again.leases.map((l) => formatIp(l.ip)).sort(), ['10.0.0.2', '10.0.0.3']);
  });

  it('compacts while running once renewals pile up, and keeps appending to the new file', async () => {
    const { journal } = await openLeaseJournal(dir, { compactAfterLines: 20 });
    for (let k = 1; k <= 30; k++)
      await journal.append([
        lease('10.0.0.1', 'aa:01', 'bound', NOW + k),
        lease('10.0.0.2', 'aa:02', 'bound', NOW + k),
      ]);
    await journal.append([lease('10.0.0.3', 'aa:03')]);
    await journal.close();
    assert.ok(lines(dir).length < 20, `${lines(dir).length} lines after 61 appends`);
    const again = await openLeaseJournal(dir);
    await again.journal.close();
    assert.deepEqual(again.leases.map((l) => [formatIp(l.ip), l.expiresAt]).sort(), [
      ['10.0.0.1', NOW + 30],
      ['10.0.0.2', NOW + 30],
      ['10.0.0.3', NOW + 3600_000],
    ]);
  });

  it('refuses appends after close', async () => {
    const { journal } = await openLeaseJournal(dir);
    await journal.close();
    await assert.rejects(journal.append([lease('10.0.0.1', 'aa:01')]), /closed/);
  });
});
