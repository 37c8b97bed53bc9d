// src/region/services/hardware/commissioning-output.ts against real output: the ephemeral
// environment's 50-maas-01-commissioning and lshw -xml run on a Firecracker VM (test/fixtures/
// commissioning/vm-*), plus the MAAS shapes that VM does not have (UEFI, bonds, optical drives).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ValidationError } from '../../../src/region/errors';
import {
  firmwareFromLshw,
  hardwareFromCommissioningOutput,
} from '../../../src/region/services/hardware/commissioning-output';

const FIXTURES = path.resolve(__dirname, '../../fixtures/commissioning');
const resources = fs.readFileSync(path.join(FIXTURES, 'vm-50-maas-01-commissioning.json'));
const lshw = fs.readFileSync(path.join(FIXTURES, 'vm-00-maas-01-lshw.xml'));

const refusal = (f: () => unknown): Record<string, string[]> => {
  try {
    f();
  } catch (err) {
    assert.ok(err instanceof ValidationError, String(err));
    return err.fields;
  }
  assert.fail('accepted');
};

describe('commissioning output → hardware report (issue 20)', () => {
  it("reads the VM's resources JSON and lshw XML into the report the region stores", () => {
    assert.deepEqual(hardwareFromCommissioningOutput({ resources, lshw }), {
      architecture: 'amd64',
      cpu: { count: 2, model: 'Intel(R) Xeon(R) Processor', speed_mhz: 2600 },
      memory_mib: 24576,
      block_devices: [
        {
          name: 'vda',
          size_bytes: 274877906944,
          serial: 'overlayblk',
          model: '',
          id_path: '/dev/disk/by-path/pci-0000:00:02.0',
          block_size: 512,
        },
      ],
      interfaces: [
        { name: 'eth0', mac: '02:fc:00:00:00:01', link_speed_mbps: 0, type: 'physical', link_connected: true },
      ],
      dmi: {},
      firmware: 'bios',
    });
  });

  it('without lshw output the boot firmware stays unknown', () => {
    assert.equal(hardwareFromCommissioningOutput({ resources }).firmware, undefined);
  });

  it("MAAS's shapes: turbo frequency, by-id paths, no optical drives, DMI, bonds from networks, UEFI", () => {
    const report = hardwareFromCommissioningOutput({
      resources: JSON.stringify({
        environment: { kernel_architecture: 'aarch64' },
        resources: {
          cpu: {
            architecture: 'aarch64',
            sockets: [{ name: 'Neoverse-N1', frequency: 2000, frequency_turbo: 3000, cores: [] }],
            total: 80,
          },
          memory: { total: 137438953472 },
          storage: {
            disks: [
              { id: 'sr0', type: 'cdrom', size: 1000 },
              {
                id: 'nvme0n1',
                type: 'nvme',
                size: 960197124096,
                serial: 'S4X',
                model: 'SAMSUNG',
                device_id: 'nvme-SAMSUNG_S4X',
                block_size: 4096,
              },
            ],
          },
          network: {
            cards: [{ ports: [{ id: 'enP1', address: 'AA:BB:CC:00:11:22', link_speed: 25000, link_detected: false }] }],
          },
          system: {
            vendor: 'Ampere',
            product: 'Mt.Jade',
            uuid: 'u-1',
            firmware: { vendor: 'AMI', version: '1.0' },
            motherboard: { product: 'B' },
          },
        },
        networks: {
          enP1: { hwaddr: 'aa:bb:cc:00:11:22', bond: null, bridge: null, vlan: null },
          bond0: { hwaddr: 'aa:bb:cc:00:11:22', state: 'up', bond: { mode: '802.3ad' }, bridge: null, vlan: null },
        },
      }),
      lshw: '<?xml version="1.0"?><list><node id="m" class="system"><node id="firmware" class="memory"><capabilities><capability id="uefi">UEFI</capability></capabilities></node></node></list>',
    });
    assert.equal(report.architecture, 'arm64');
    assert.deepEqual(report.cpu, { count: 80, model: 'Neoverse-N1', speed_mhz: 3000 });
    assert.equal(report.memory_mib, 131072);
    assert.deepEqual(report.block_devices, [
      {
        name: 'nvme0n1',
        size_bytes: 960197124096,
        serial: 'S4X',
        model: 'SAMSUNG',
        id_path: '/dev/disk/by-id/nvme-SAMSUNG_S4X',
        block_size: 4096,
      },
    ]);
    assert.deepEqual(report.interfaces, [
      { name: 'enP1', mac: 'aa:bb:cc:00:11:22', link_speed_mbps: 25000, type: 'physical', link_connected: false },
      { name: 'bond0', mac: 'aa:bb:cc:00:11:22', link_speed_mbps: 0, type: 'bond', link_connected: true },
    ]);
    assert.deepEqual(report.dmi, {
      vendor: 'Ampere',
      product: 'Mt.Jade',
      uuid: 'u-1',
      board_name: 'B',
      bios_vendor: 'AMI',
      bios_version: '1.0',
    });
    assert.equal(report.firmware, 'uefi');
  });

  it('refuses output that is not the resources JSON, or facts beyond the limits, naming the script', () => {
    assert.deepEqual(
      refusal(() => hardwareFromCommissioningOutput({ resources: 'not json' })),
      {
        '50-maas-01-commissioning': ['Not valid JSON.'],
      },
    );
    assert.match(
      refusal(() => hardwareFromCommissioningOutput({ resources: '{"api_version":"1.0"}' }))[
        '50-maas-01-commissioning'
      ]![0]!,
      /no "resources" object/,
    );
    const huge = { resources: { cpu: { total: 10_000_000 } } };
    assert.match(
      refusal(() => hardwareFromCommissioningOutput({ resources: JSON.stringify(huge) }))[
        '50-maas-01-commissioning'
      ]![0]!,
      /cpu\.count must be an integer from 0 to 16384/,
    );
    assert.deepEqual(
      refusal(() => firmwareFromLshw('<list><node')),
      { '00-maas-01-lshw': ['Not valid lshw XML.'] },
    );
  });
});
