// Issue 18 item 1 on real parts (docs/adr/0005-rack-failover.md): two racks serve the lab's VLAN,
// the primary in the lab namespace and the secondary in its own (test/e2e/lab/second-rack.ts). A
// QEMU VM powered through ipmi_sim is commissioned, then deployed twice with the stand-in image,
// and each time the primary rack is killed with SIGKILL: as the environment starts (commission,
// and deploy (a): the firmware's DHCP and netboot done through the primary, the environment's own
// DHCP and every request still ahead) and (b) while the installer writes the disk. Each operation
// must finish with no operator action through the secondary's DHCP, boot servers, metadata proxy
// and task queue (power), and the machine's events must say what happened. One lab for all three:
// the primary is restarted in between. Each phase's wall time is printed for the report.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { ROOT, startLab, VM, waitForMachine, type Json, type Lab } from './lab/lab';

const IMAGE_DIR = path.join(ROOT, 'build/boot/images/os/custom/metalflow-standin/amd64');
/** ADR 0005's event, one per outage per operation. */
const GONE = /: Rack rack-test is gone; continuing through rack-b\.$/;
const DONE_WITHIN_MS = 600_000;
const NEXT_BOOT = '=== next boot ===';

describe('rack failover mid-deployment in the QEMU lab (kill -9 of the primary rack)', { timeout: 30 * 60_000 }, () => {
  let lab: Lab;
  let id: string;
  const report: string[] = [];

  const events = async (): Promise<string[]> => {
    const r = (await lab.stack.call('GET', `/events/?op=query&id=${id}&limit=500`)).body as Json;
    return ((r.events as Json[]) ?? []).map((e) => `${String(e.type)}: ${String(e.description)}`);
  };
  const rackOf = async (systemId: string): Promise<string> => {
    const db = new pg.Client({ connectionString: lab.stack.dbUrl });
    await db.connect();
    try {
      const r = await db.query(
        `SELECT r.name FROM machines m JOIN racks r ON r.id = m.rack_id WHERE m.system_id = $1`,
        [systemId],
      );
      return (r.rows[0] as { name: string } | undefined)?.name ?? 'none';
    } finally {
      await db.end();
    }
  };
  const deploy = async () => {
    const r = await lab.stack.call('POST', `/machines/${id}/op-deploy`, { distro_series: 'custom/metalflow-standin' });
    assert.equal(r.status, 200, r.text);
  };
  const takeovers = () => (lab.rack2!.output().match(/rack rack-test is silent: serving its task queue/g) ?? []).length;

  /**
   * Starts an operation, kills the primary rack when `killWhen` first holds, and waits for
   * `status`; prints and records the phases (seconds since the operation started), including the
   * first new event matching each milestone.
   */
  const throughFailover = async (o: {
    fault: string;
    start: () => Promise<void>;
    killWhen: () => Promise<boolean>;
    status: 'Ready' | 'Deployed';
    milestones: Array<[string, RegExp]>;
    /** Checked right after the kill: that it came at the moment the case is about. */
    atKill?: () => Promise<void>;
  }): Promise<Json> => {
    const count = (ev: string[], re: RegExp) => ev.filter((e) => re.test(e)).length;
    const before = await events();
    const goneBefore = count(before, GONE);
    const baseline = new Map(o.milestones.map(([name, re]) => [name, count(before, re)]));
    const takeoversBefore = takeovers();
    const t0 = Date.now();
    const at = () => ((Date.now() - t0) / 1000).toFixed(1);
    const phases: string[] = [];
    const seen = new Set<string>();
    await o.start();
    await lab.until(`the moment to kill the primary (${o.fault})`, 300_000, async () =>
      (await o.killWhen()) ? true : undefined,
    );
    await lab.stack.kill('rack');
    phases.push(`primary killed ${at()} s`);
    await o.atKill?.();
    const done = await lab.until(`${o.status} through the secondary (${o.fault})`, DONE_WITHIN_MS, async () => {
      if (!seen.has('takeover') && takeovers() > takeoversBefore) {
        seen.add('takeover');
        phases.push(`secondary serves the primary's task queue ${at()} s`);
      }
      const ev = await events();
      for (const [name, re] of o.milestones)
        if (!seen.has(name) && count(ev, re) > baseline.get(name)!) {
          seen.add(name);
          phases.push(`${name} ${at()} s`);
        }
      const m = (await lab.stack.call('GET', `/machines/${id}/`)).body as Json;
      if (String(m.status_name).startsWith('Failed'))
        throw Object.assign(new Error(`${o.fault}: ${String(m.status_message)}\n${lab.serialLog().slice(-5000)}`), {
          fatal: true,
        });
      return m.status_name === o.status ? m : undefined;
    });
    phases.push(`${o.status} ${at()} s`);
    const line = `[rack-failover e2e] ${o.fault}: completed; ${phases.join(', ')}`;
    console.log(line);
    report.push(line);
    const after = await events();
    assert.equal(
      count(after, GONE),
      goneBefore + 1,
      `one event says the rack is gone and the secondary continues:\n${after.join('\n')}`,
    );
    for (const [name, re] of o.milestones)
      assert.ok(count(after, re) > baseline.get(name)!, `${name}: ${after.join('\n')}`);
    return done;
  };
  /** One serial console file per VM start (chassis.sh), oldest first. */
  const serialFiles = () =>
    fs
      .readdirSync(lab.bmc.dir)
      .filter((f) => f.startsWith('vm-serial-'))
      .sort();
  const bootCount = () => serialFiles().length;
  /** The serial console of the boots after the first `from`. */
  const bootsSince = (from: number) =>
    serialFiles()
      .slice(from)
      .map((f) => fs.readFileSync(path.join(lab.bmc.dir, f), 'utf8'))
      .join(`\n${NEXT_BOOT}\n`);
  /** The installer environment's kernel is running: the firmware's DHCP and downloads are done. */
  const kernelUp = (from: number) => async () =>
    bootCount() > from && /Linux version/.test(bootsSince(bootCount() - 1));
  /** The primary comes back (as after a repair) and serves the VLAN again before the next case. */
  const restartPrimary = async () => {
    await lab.stack.start('rack');
    await lab.until('the primary to serve DHCP again', 60_000, async () => {
      const rack = (await lab.stack.call('GET', `/rackcontrollers/${lab.rackId}/`)).body as Json;
      const services = Object.fromEntries((rack.service_set as Json[]).map((s) => [s.name, s.status]));
      return services.dhcp === 'running' ? true : undefined;
    });
  };
  /** What the environment said about DHCP and following the rack, for the report. */
  const followLines = (from: number) =>
    bootsSince(from)
      .split('\n')
      .filter((l) => /no DHCP answer|does not answer|DHCP answered from|not following/.test(l))
      .map((l) => `    ${l.trim()}`);

  before(async () => {
    assert.ok(fs.existsSync(path.join(IMAGE_DIR, 'disk.img.gz')), 'the OS image is built (images/os/build.sh)');
    lab = await startLab({ secondRack: true });
    await lab.enableDhcp();
  });
  after(async () => {
    for (const line of report) console.log(line);
    await lab?.stop();
  });

  it('commission: the primary dies as the environment starts; Ready through the secondary', async () => {
    // Created before the second rack exists, so the primary serves it (power and boot), as a rack
    // added later leaves its machines where they are.
    const r = await lab.stack.call('POST', '/machines/', {
      architecture: 'amd64/generic',
      mac_addresses: VM.mac,
      hostname: 'e2e-failover',
      power_type: 'ipmi',
      commission: 'false',
      ...Object.fromEntries(Object.entries(lab.ipmiParams()).map(([k, v]) => [`power_parameters_${k}`, v])),
    });
    assert.equal(r.status, 200, r.text);
    id = (r.body as Json).system_id as string;
    await lab.addSecondRack();
    // The fault must take the rack that serves this machine's power, not only its DHCP.
    assert.equal(await rackOf(id), 'rack-test');
    const from = bootCount();
    const ready = await throughFailover({
      fault: 'commission, kill -9 as the environment starts',
      start: async () => {
        const c = await lab.stack.call('POST', `/machines/${id}/op-commission`);
        assert.equal(c.status, 200, c.text);
      },
      killWhen: kernelUp(from),
      status: 'Ready',
      milestones: [],
    });
    assert.equal(ready.cpu_count, VM.cpus);
    report.push(...followLines(from));
    assert.match(bootsSince(from), /continuing through the rack at 10\.77\.0\.2/, 'the environment followed the rack');
  });

  it('(a) deploy: the primary dies as the installer environment starts; Deployed through the secondary', async () => {
    await restartPrimary();
    const from = bootCount();
    await throughFailover({
      fault: '(a) deploy, kill -9 as the installer environment starts',
      start: deploy,
      killWhen: kernelUp(from),
      status: 'Deployed',
      milestones: [
        // Its words name the image URL as it stood before the first request followed the rack.
        ['installer up (WORKING)', /Signal WORKING: Writing/],
        ['image written + verified (OK)', /Signal OK/],
      ],
    });
    report.push(...followLines(from));
    const serial = bootsSince(from);
    // The kill came before the environment's own DHCP: it waited for the secondary (first_lease).
    assert.match(serial, /no DHCP answer on \S+ yet/, 'the environment waited for DHCP');
    assert.match(serial, /sha256 [0-9a-f]{64} verified/, 'the installer checked the image');
  });

  it('(b) deploy: the primary dies while the installer writes the disk; Deployed through the secondary', async () => {
    await restartPrimary();
    const rel = await lab.stack.call('POST', `/machines/${id}/op-release`);
    assert.equal(rel.status, 200, rel.text);
    await waitForMachine(lab, id, 'Ready', 300_000);
    const writes = async () => (await events()).filter((e) => /Signal WORKING: Writing/.test(e)).length;
    const writesBefore = await writes();
    const oks = async () => (await events()).filter((e) => /Signal OK/.test(e)).length;
    const oksBefore = await oks();
    const restarts = async () => (await events()).filter((e) => /again from the start/.test(e)).length;
    const restartsBefore = await restarts();
    const from = bootCount();
    await throughFailover({
      fault: '(b) deploy, kill -9 while the installer writes the disk',
      start: deploy,
      killWhen: async () => (await writes()) > writesBefore,
      // Between the installer's "Writing" and its OK: the write (and its check) under way.
      atKill: async () => assert.equal(await oks(), oksBefore, 'the kill came before the installer reported OK'),
      status: 'Deployed',
      milestones: [['image written + verified (OK)', /Signal OK/]],
    });
    // Whether the kill cut the image stream itself (then it restarts from the first byte through
    // the secondary) or came during the checksum and config write after it: the report says which.
    const cut = (await restarts()) > restartsBefore;
    report.push(
      `    image stream ${cut ? 'cut by the kill and restarted from the first byte' : 'complete before the kill'}`,
    );
    report.push(...followLines(from));
    assert.match(bootsSince(from), /continuing through the rack at 10\.77\.0\.2/, 'the installer followed the rack');
  });
});
