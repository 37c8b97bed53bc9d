import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HARDWARE_LIMITS } from '../../src/contracts/hardware';
import { fakeHardwareReport } from '../../src/rack/fake/hardware';
import { FAKE_DEFAULTS } from '../../src/rack/fake/params';
import { ValidationError } from '../../src/region/errors';
import { parseHardwareReport } from '../../src/region/services/hardware-report-schema';

const parse = (v: unknown) => parseHardwareReport(Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)));
const fieldOf = (v: unknown): string => {
  try {
    parse(v);
  } catch (err) {
    assert.ok(err instanceof ValidationError, String(err));
    return Object.keys(err.fields)[0]!;
  }
  assert.fail('accepted');
};

describe('hardware report schema (issue 15)', () => {
  it('accepts what the ephemeral environment, maas-run-scripts and the fake machines send', () => {
    // The shape images/ephemeral/init and maas-run-scripts print (collect_hardware).
    const report = parse(
      '{"architecture":"amd64","cpu":{"count":4,"model":"QEMU Virtual CPU version 2.5+","speed_mhz":0},"memory_mib":2048,' +
        '"block_devices":[{"name":"vda","size_bytes":10737418240,"serial":"","model":""}],' +
        '"interfaces":[{"name":"ens3","type":"physical","mac":"52:54:00:12:34:56","link_speed_mbps":0},' +
        '{"name":"ib0","type":"physical","mac":"80:00:02:08:fe:80:00:00:00:00:00:00:00:02:c9:03:00:0f:cd:a1","link_speed_mbps":0}],' +
        '"dmi":{"vendor":"QEMU","product":"Standard PC (i440FX + PIIX, 1996)","chassis_type":"1"}}',
    );
    assert.equal(report.cpu.count, 4);
    assert.deepEqual(
      report.interfaces.map((i) => i.mac),
      ['52:54:00:12:34:56'],
      'a non-Ethernet address is left out, as before',
    );
    const fake = fakeHardwareReport(
      {
        systemId: 'abc',
        hostname: 'h',
        purpose: 'commissioning',
        macAddresses: ['52:54:00:00:00:01'],
        metadataUrl: '',
      },
      { ...FAKE_DEFAULTS, cpuCount: 8 },
    );
    assert.deepEqual(parse(fake).cpu, fake.cpu);
    assert.deepEqual(parse({}).cpu, { count: 0, model: '', speed_mhz: 0 }, 'absent fields keep their defaults');
  });

  it('names the path of what it refuses', () => {
    assert.equal(fieldOf({ cpu: { count: HARDWARE_LIMITS.cpuCount + 1 } }), 'cpu.count');
    assert.equal(fieldOf({ cpu: { count: 1.5 } }), 'cpu.count');
    assert.equal(fieldOf({ memory_mib: 1e20 }), 'memory_mib');
    assert.equal(fieldOf({ block_devices: [{ name: 'sda' }, { name: 'sd\u0000b' }] }), 'block_devices[1].name');
    assert.equal(fieldOf({ interfaces: [{ mac: '52:54:00:00:00:01', type: 'veth' }] }), 'interfaces[0].type');
    assert.equal(fieldOf({ dmi: { vendor: 7 } }), 'dmi.vendor');
    assert.equal(fieldOf({ dmi: { 'bad key': 'x' } }), 'dmi');
    assert.equal(fieldOf({ extra: 1 }), 'extra');
    assert.equal(fieldOf('null'), 'metalflow-hardware.json');
    assert.equal(fieldOf(' '.repeat(HARDWARE_LIMITS.fileBytes + 1)), 'metalflow-hardware.json');
  });
});
