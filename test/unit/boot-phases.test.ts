import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatLogLine } from '../../src/contracts/log';
import { bootPhases, parseBootRequests, parseChassisLog } from '../e2e/lab/boot-phases';

const T0 = Date.UTC(2026, 11, 5, 8, 0, 0);
const at = (s: number) => T0 + s * 1000;

/** A rack log line for a request that ended `endS` after T0 and took `ms`. */
const httpLine = (endS: number, method: string, url: string, ms: number, status = 200) =>
  formatLogLine('json', new Date(at(endS)), `http-boot: 10.77.0.101 ${method} ${url} ${status} 1234 B ${ms} ms`, {
    system_id: 'abc',
  });

const RACK_LOG = [
  // The enlistment boot before this run: not this boot's.
  httpLine(-100, 'GET', '/ipxe/boot.ipxe', 3),
  formatLogLine('json', new Date(at(0.5)), 'dhcp: something else'),
  httpLine(4.0, 'GET', '/ipxe/boot.ipxe', 5),
  httpLine(4.1, 'GET', '/ipxe/mac/52-54-00-4d-46-01.ipxe', 40),
  httpLine(4.6, 'GET', '/images/ephemeral/amd64/vmlinuz', 400),
  httpLine(5.5, 'GET', '/images/ephemeral/amd64/initrd.gz', 800),
  httpLine(12.0, 'POST', '/MAAS/metadata/2012-03-01/', 20),
  httpLine(15.0, 'POST', '/MAAS/metadata/2012-03-01/', 100),
  // A refused request does not mark anything.
  httpLine(15.5, 'POST', '/MAAS/metadata/2012-03-01/', 1, 503),
].join('\n');

const CHASSIS_LOG = [
  `${(at(-50) / 1000).toFixed(9)} chassis.sh 0x20 set power 1`,
  `${(at(0.8) / 1000).toFixed(9)} chassis.sh 0x20 set boot pxe`,
  `${(at(1.0) / 1000).toFixed(9)} chassis.sh 0x20 set power 1`,
  `${(at(1.2) / 1000).toFixed(9)} vm start boot=pxe`,
  `${(at(16.5) / 1000).toFixed(9)} chassis.sh 0x20 set power 0`,
].join('\n');

describe('boot phases of one netboot', () => {
  it("reads the rack's http-boot lines (JSON and text) as requests with start and end", () => {
    const text = formatLogLine('text', new Date(at(2)), 'http-boot: 10.77.0.9 GET /ipxe/boot.ipxe 200 10 B 7 ms');
    assert.deepEqual(parseBootRequests(`${text}\nnot a line\n{"broken`), [
      { method: 'GET', url: '/ipxe/boot.ipxe', status: 200, startMs: at(2) - 7, endMs: at(2) },
    ]);
    assert.equal(parseBootRequests(RACK_LOG).length, 8);
  });

  it('reads chassis.sh times to the millisecond', () => {
    assert.deepEqual(parseChassisLog('1764921600.123456789 vm start boot=pxe\nno time here'), [
      [1764921600123, 'vm start boot=pxe'],
    ]);
  });

  it("splits the run into the issue's phases, leaving out what came before it", () => {
    const p = bootPhases({
      startMs: at(0),
      chassisLog: CHASSIS_LOG,
      httpLog: RACK_LOG,
      serial: { dhcp_start: at(2.0), dhcp_done: at(3.5), env_up: at(9.0), powering_off: at(15.2) },
      vmGoneMs: at(15.6),
      doneMs: at(17.0),
    });
    assert.deepEqual(p.phases, {
      power_command: 1.2,
      firmware_to_dhcp: 0.8,
      dhcp: 1.5,
      loader_scripts: 0.6,
      kernel_initrd_fetch: 1.4,
      kernel_boot_to_env_up: 3.5,
      env_up_to_report_received: 6,
      report_to_vm_off: 0.6,
      vm_off_to_done: 1.4,
    });
    assert.equal(p.total_seconds, 17);
    assert.equal(p.marks_seconds.power_on_command, 1);
    assert.equal(p.marks_seconds.loader_start, 3.995);
    assert.equal(p.marks_seconds.kernel_start, 4.2);
    assert.equal(p.marks_seconds.first_report_received, 12);
    assert.equal(p.requests.length, 7, "the enlistment boot's request is not this run's");
    assert.deepEqual(p.requests[0], { request: 'GET /ipxe/boot.ipxe', status: 200, at_seconds: 3.995, ms: 5 });
  });

  it('leaves a phase null when its mark is missing instead of guessing', () => {
    const p = bootPhases({ startMs: at(0), chassisLog: '', httpLog: '', serial: {}, doneMs: at(3) });
    assert.equal(p.phases.power_command, null);
    assert.equal(p.phases.dhcp, null);
    assert.equal(p.total_seconds, 3);
  });
});
