import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DhcpLeaseEvent } from '../../../src/contracts/rack-api';
import { LeaseReporter } from '../../../src/rack/dhcp/lease-reporter';
import { RegionError } from '../../../src/rack/region-client';

const ev = (k: number): DhcpLeaseEvent => ({
  action: 'commit',
  ip: `10.0.0.${k}`,
  mac: `aa:${k}`,
  hostname: '',
  at: new Date(0).toISOString(),
});
const until = async (cond: () => boolean, ms = 3_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('DHCP lease reports to the region', () => {
  it('delivers events in order, in batches, retrying through a region outage', async () => {
    const delivered: DhcpLeaseEvent[][] = [];
    let failures = 2;
    const log: string[] = [];
    const r = new LeaseReporter({
      report: async (events) => {
        if (failures-- > 0) throw new RegionError('Region unreachable', true);
        delivered.push(events);
      },
      log: (l) => log.push(l),
      everyMs: 5,
      batchSize: 4,
      maxRetryDelayMs: 20,
    });
    for (let k = 1; k <= 10; k++) r.push(ev(k));
    await until(() => r.pending === 0);
    assert.deepEqual(
      delivered.flat().map((e) => e.ip),
      Array.from({ length: 10 }, (_, k) => `10.0.0.${k + 1}`),
    );
    assert.ok(delivered.every((b) => b.length <= 4));
    assert.equal(r.failing, undefined);
    assert.equal(log.filter((l) => l.includes('failing')).length, 1, 'one log line per outage');
    await r.stop();
  });

  it('says it is failing while the region is down, and drops the oldest events when the queue is full', async () => {
    let down = true;
    const delivered: DhcpLeaseEvent[] = [];
    const r = new LeaseReporter({
      report: async (events) => {
        if (down) throw new RegionError('Region answered 503', true, 503);
        delivered.push(...events);
      },
      log: () => undefined,
      everyMs: 5,
      maxQueue: 5,
      maxRetryDelayMs: 20,
    });
    r.push(ev(1));
    await until(() => r.failing !== undefined);
    for (let k = 2; k <= 8; k++) r.push(ev(k));
    assert.equal(r.pending, 5);
    down = false;
    await until(() => r.pending === 0);
    assert.deepEqual(
      delivered.map((e) => e.ip),
      ['10.0.0.4', '10.0.0.5', '10.0.0.6', '10.0.0.7', '10.0.0.8'],
    );
    await r.stop();
  });

  it('drops a batch the region refuses (4xx) instead of retrying it forever', async () => {
    const seen: string[][] = [];
    const r = new LeaseReporter({
      report: async (events) => {
        seen.push(events.map((e) => e.ip));
        if (events[0]!.ip === '10.0.0.1') throw new RegionError('Region answered 400', false, 400);
      },
      log: () => undefined,
      everyMs: 5,
      batchSize: 1,
    });
    r.push(ev(1));
    r.push(ev(2));
    await until(() => r.pending === 0);
    assert.deepEqual(seen, [['10.0.0.1'], ['10.0.0.2']]);
    await r.stop();
  });

  it('tries to deliver what is left when stopped', async () => {
    const delivered: DhcpLeaseEvent[] = [];
    const r = new LeaseReporter({
      report: async (events) => void delivered.push(...events),
      log: () => undefined,
      everyMs: 60_000,
    });
    r.push(ev(1));
    await r.stop();
    assert.deepEqual(
      delivered.map((e) => e.ip),
      ['10.0.0.1'],
    );
  });

  it('sends the whole lease table first, and again after the queue overflowed; the table covers the events queued before it', async () => {
    let down = true;
    let table: DhcpLeaseEvent[] = [ev(1), ev(2)];
    const reports: Array<{ ips: string[]; replace: boolean }> = [];
    const r = new LeaseReporter({
      report: async (events, _signal, replace) => {
        if (down) throw new RegionError('Region answered 503', true, 503);
        reports.push({ ips: events.map((e) => e.ip), replace: replace === true });
      },
      snapshot: () => table,
      log: () => undefined,
      everyMs: 5,
      maxQueue: 3,
      maxRetryDelayMs: 20,
    });
    r.push(ev(3));
    table = [ev(1), ev(2), ev(3)];
    await until(() => r.failing !== undefined);
    down = false;
    await until(() => r.pending === 0);
    assert.deepEqual(
      reports,
      [{ ips: ['10.0.0.1', '10.0.0.2', '10.0.0.3'], replace: true }],
      'the table taken at send time; event 3 not sent again',
    );

    r.push(ev(4));
    await until(() => r.pending === 0);
    assert.deepEqual(reports[1], { ips: ['10.0.0.4'], replace: false });

    down = true;
    r.push(ev(5));
    await until(() => r.failing !== undefined);
    for (let k = 6; k <= 9; k++) r.push(ev(k)); // over maxQueue: events were dropped
    table = [ev(1), ev(9)];
    down = false;
    await until(() => r.pending === 0);
    assert.deepEqual(
      reports.slice(2),
      [{ ips: ['10.0.0.1', '10.0.0.9'], replace: true }],
      'after an overflow the table, not the surviving events',
    );
    await r.stop();
  });

  it('a queue overflow while the lease table is in flight asks for another table', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const reports: Array<{ ips: string[]; replace: boolean }> = [];
    let table = [ev(1)];
    const r = new LeaseReporter({
      report: async (events, _signal, replace) => {
        if (reports.length === 0) await gate; // the first table waits on a slow region
        reports.push({ ips: events.map((e) => e.ip), replace: replace === true });
      },
      snapshot: () => table,
      log: () => undefined,
      everyMs: 5,
      maxQueue: 2,
      maxRetryDelayMs: 20,
    });
    await new Promise((res) => setTimeout(res, 20));
    for (let k = 2; k <= 5; k++) r.push(ev(k)); // overflows: events dropped meanwhile
    table = [ev(1), ev(5)];
    release();
    await until(() => r.pending === 0);
    assert.deepEqual(reports, [
      { ips: ['10.0.0.1'], replace: true },
      { ips: ['10.0.0.1', '10.0.0.5'], replace: true },
    ]);
    await r.stop();
  });
});
