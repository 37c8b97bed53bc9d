// The ipmi driver against a real BMC: ipmi_sim (Debian openipmi) speaking IPMI over UDP, driven
// through Debian's ipmitool. No PostgreSQL or Temporal involved.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { PowerConfig } from '../../src/contracts/rack-api';
import { IpmiPowerDriver, type IpmiDriverOptions } from '../../src/rack/power/ipmi';
import { startIpmiSim, type IpmiSim } from '../helpers/bmc/ipmi-sim';
import { freePort, isPowerError, skipUnless } from '../helpers/bmc/peers';

const skip = skipUnless('ipmi_sim', 'apt-get install openipmi ipmitool');
const never = new AbortController().signal;

/** Drivers with a fast schedule; `retries` collects the lines logged for each retry. */
function driver(opts: IpmiDriverOptions = {}) {
  const retries: string[] = [];
  const d = new IpmiPowerDriver({
    backoffMs: [10, 10],
    retransmit: { intervalS: 1, retries: 1 },
    log: (l) => retries.push(l),
    ...opts,
  });
  return { d, retries };
}

describe('ipmi driver against ipmi_sim', { skip }, () => {
  let sim: IpmiSim;
  const cfg = (params: Record<string, string> = {}): PowerConfig => ({
    systemId: 'abc123',
    powerType: 'ipmi',
    parameters: { power_address: sim.address, power_user: 'admin', power_pass: 'password', ...params },
  });

  before(async () => (sim = await startIpmiSim()));
  after(async () => sim?.stop());

  it('sets next boot pxe, powers on, queries, cycles and powers off (lanplus, cipher 3)', async () => {
    // ipmi_sim's cycle is off, ~1 s, on: the driver waits on its schedule for "on".
    const { d, retries } = driver({ backoffMs: [250, 500, 1000] });
    assert.equal(await d.query(cfg(), never), 'off');
    await d.setNextBootPxe(cfg(), never);
    assert.ok(sim.chassisLog().includes('set boot pxe'), sim.chassisLog().join('\n'));
    assert.equal(await d.on(cfg(), never), 'on');
    assert.equal(sim.power(), 'on');
    assert.equal(await d.query(cfg(), never), 'on');
    const before = sim.chassisLog().length;
    assert.equal(await d.cycle(cfg(), never), 'on');
    assert.deepEqual(
      sim
        .chassisLog()
        .slice(before)
        .filter((l) => l.startsWith('set')),
      ['set power 0', 'set power 1'],
    );
    assert.equal(await d.off(cfg(), never), 'off');
    assert.equal(sim.power(), 'off');
    // cycle of a machine that is off powers it on (MAAS: --cycle --on-if-off)
    assert.equal(await d.cycle(cfg(), never), 'on');
    assert.equal(await d.off(cfg(), never), 'off');
    assert.deepEqual(retries, []);
  });

  it('speaks IPMI 1.5 (power_driver LAN), EFI boot and ADMIN privilege too', async () => {
    const { d } = driver();
    assert.equal(await d.query(cfg({ power_driver: 'LAN' }), never), 'off');
    await d.setNextBootPxe(cfg({ power_boot_type: 'efi', privilege_level: 'ADMIN' }), never);
    assert.equal(sim.chassisLog().at(-1), 'set boot pxe');
  });

  it("a wrong password fails fatally on the first attempt, with the BMC's words", async () => {
    const { d, retries } = driver();
    await assert.rejects(d.on(cfg({ power_pass: 'wrong' }), never), isPowerError(false, /RAKP 2 HMAC is invalid/));
    await assert.rejects(d.query(cfg({ power_user: 'nobody' }), never), isPowerError(false, /unauthorized name/));
    await assert.rejects(
      d.query(cfg({ power_driver: 'LAN', power_pass: 'wrong' }), never),
      isPowerError(false, /Activate Session/),
    );
    assert.deepEqual(retries, [], 'no retries for refused credentials');
  });

  it('a privilege level too low for power control is fatal', async () => {
    const { d, retries } = driver();
    await assert.rejects(
      d.on(cfg({ privilege_level: 'USER' }), never),
      isPowerError(false, /Insufficient privilege level/),
    );
    assert.deepEqual(retries, []);
  });

  it('a BMC that is down is retried on the schedule, then fails retryably with the reason', async () => {
    const { d, retries } = driver();
    const down = `127.0.0.1:${await freePort('udp')}`;
    await assert.rejects(
      d.query(cfg({ power_address: down }), never),
      isPowerError(true, /Get Auth Capabilities error.*gave up after 3 attempts/),
    );
    assert.equal(retries.length, 2);
    assert.match(retries[0]!, /attempt 1\/3 failed, retrying in 10 ms/);
  });

  it('a slow BMC: answers within the timeout succeed; past it ipmitool is killed and retried; cancellation stops it', async () => {
    sim.slow(1);
    try {
      // ipmitool must not retransmit before the slow BMC answers (-N 3), or it mismatches replies.
      assert.equal(await driver({ retransmit: { intervalS: 3, retries: 1 } }).d.query(cfg(), never), 'off');
      const { d, retries } = driver({ timeoutMs: 600, backoffMs: [10] });
      sim.slow(2);
      await assert.rejects(
        d.query(cfg(), never),
        isPowerError(true, /did not answer within 0.6 s.*gave up after 2 attempts/),
      );
      assert.equal(retries.length, 1);
      const ctl = new AbortController();
      setTimeout(() => ctl.abort(new Error('activity cancelled')), 200);
      const started = Date.now();
      await assert.rejects(driver({ timeoutMs: 10_000 }).d.query(cfg(), ctl.signal), /activity cancelled/);
      assert.ok(Date.now() - started < 2_000, 'cancelled at once');
    } finally {
      sim.slow(0);
    }
  });
});
