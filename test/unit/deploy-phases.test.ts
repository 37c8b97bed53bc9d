import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maasEventTime } from '../../src/api/presenters/event';
import { deployPhases, parseEventTime, type ApiEvent } from '../e2e/lab/deploy-phases';

const T0 = Date.UTC(2026, 11, 5, 2, 30, 0);

/** Events as the API shows them, `[seconds after T0, type, description]`, ids in that order. */
function events(rows: Array<[number, string, string]>): ApiEvent[] {
  return rows.map(([s, type, description], i) => ({
    id: 100 + i,
    type,
    description,
    created: maasEventTime(new Date(T0 + s * 1000)),
  }));
}

// A machine commissioned (its own power-on and signals), then deployed with the real image.
const COMMISSIONED: Array<[number, string, string]> = [
  [0, 'Commissioning', 'New -> Commissioning.'],
  [0, 'Powering on', 'Powering on e2e-real, next boot from the network.'],
  [40, 'Node status event', 'Signal WORKING: commissioning'],
  [90, 'Node status event', 'Signal OK (files: hardware.json)'],
  [95, 'Ready', 'Commissioning -> Ready.'],
  [120, 'Allocated', 'Allocated to admin.'],
];
const DEPLOYED: Array<[number, string, string]> = [
  [121, 'Deploying', 'Allocated -> Deploying.'],
  [122, 'Powering on', 'Powering on e2e-real, next boot from the network.'],
  [123, 'Node powered on', 'Power state: on.'],
  [170, 'Node status event', 'Signal WORKING: Installing http://10.77.0.1:5248/images/root.tgz'],
  [171, 'Node status event', 'Signal WORKING: Installing: partition'],
  [230, 'Node status event', 'Signal WORKING: Installing: bootloader'],
  [240, 'Node status event', 'Signal OK: Installed http://10.77.0.1:5248/images/root.tgz (sha256 ab verified)'],
  [241, 'Deploying', 'Installation finished; booting from disk.'],
  [246, 'Powering on', 'Powering on e2e-real, next boot from the network.'],
  [300, 'cloudinit start', 'init-local: searching for local datasources'],
  [420, 'cloudinit finish', 'modules-final: running modules for final'],
  [421, 'Deployed', 'Deploying -> Deployed.'],
];

describe('deploy phases from the machine events', () => {
  it('reads MAAS event times (UTC, whole seconds)', () => {
    assert.equal(parseEventTime('Fri, 07 Dec. 2018 20:11:08'), Date.UTC(2018, 11, 7, 20, 11, 8));
    assert.throws(() => parseEventTime('2018-12-07T20:11:08Z'), /not a MAAS event time/);
  });

  it('measures each phase of the last deployment, newest-first input, commissioning left out', () => {
    const got = deployPhases(events([...COMMISSIONED, ...DEPLOYED]).reverse());
    assert.deepEqual(got.phases, {
      power_on_to_installer_up: 48,
      installer_up_to_disk_written: 70,
      disk_written_to_first_boot: 60,
      first_boot_to_cloud_init_done: 121,
    });
    assert.equal(got.total_seconds, 299);
    assert.equal(got.accepted_to_power_on_seconds, 1);
    assert.equal(got.disk_written_to_power_on_again_seconds, 6);
    assert.equal(got.milestones.power_on, new Date(T0 + 122_000).toISOString());
    assert.equal(got.milestones.cloud_init_done, new Date(T0 + 421_000).toISOString());
  });

  it('a second deployment counts alone', () => {
    const again = DEPLOYED.map(([s, t, d]): [number, string, string] => [s + 1000, t, d]);
    const released: Array<[number, string, string]> = [
      [900, 'Releasing', 'Deployed -> Releasing.'],
      [950, 'Ready', 'Releasing -> Ready.'],
      [1119, 'Allocated', 'Allocated to admin.'],
    ];
    const got = deployPhases(events([...COMMISSIONED, ...DEPLOYED, ...released, ...again]));
    assert.equal(got.total_seconds, 299);
    assert.equal(got.milestones.power_on, new Date(T0 + 1122_000).toISOString());
  });

  it('names the milestone a deployment lacks', () => {
    const noCloudInit = DEPLOYED.filter(([, type]) => !type.startsWith('cloudinit '));
    assert.throws(() => deployPhases(events(noCloudInit)), /no cloud-init's first event/);
    const noOk = DEPLOYED.filter(([, , d]) => !d.startsWith('Signal OK'));
    assert.throws(() => deployPhases(events(noOk)), /no installer's OK event/);
    assert.throws(() => deployPhases(events(COMMISSIONED)), /no status change to Deployed/);
  });
});
