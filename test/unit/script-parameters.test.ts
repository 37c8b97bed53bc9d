// MAAS's script parameter resolution (ParametersForm), pure: which script a request name is for,
// the values a storage / interface / runtime / url parameter takes, and the runs it makes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../src/region/errors';
import {
  assignInput,
  resolveRuns,
  type MachineHardware,
  type ParameterizedScript,
} from '../../src/region/services/scripts/script-parameters';

const hw: MachineHardware = {
  fqdn: 'box.maas',
  systemId: 'abc123',
  disks: [
    { id: 7, name: 'sda', idPath: '/dev/disk/by-id/a', model: 'M1', serial: 'S1', tags: ['ssd'] },
    { id: 8, name: 'sdb', idPath: '', model: 'M2', serial: 'S2', tags: [] },
  ],
  nics: [
    { id: 3, name: 'eth0', macAddress: '52:54:00:00:00:01', tags: [] },
    { id: 4, name: 'eth1', macAddress: '52:54:00:00:00:02', tags: ['lab'] },
  ],
};
const fio: ParameterizedScript = {
  name: 'fio',
  timeoutSeconds: 600,
  declared: { storage: { type: 'storage' }, runtime: { type: 'runtime', min: 10, max: 1000 } },
};
const ping: ParameterizedScript = {
  name: 'ping-check',
  timeoutSeconds: 60,
  declared: { interface: { type: 'interface' }, url: { type: 'url', allow_list: true } },
};

function fieldsOf(f: () => unknown): Record<string, string[]> {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof ValidationError);
    return e.fields;
  }
  return assert.fail('accepted');
}
const run = (s: ParameterizedScript, input: Record<string, string>, h = hw) =>
  resolveRuns(s, assignInput([s], input).get(s.name), h);
const disks = (s: ParameterizedScript, input: Record<string, string>) =>
  run(s, input).map((r) => [r.physicalBlockdeviceId, (r.parameters.storage!.value as { name: string }).name]);

describe('script parameters', () => {
  it('a <script>_ name is for that script; a bare name for every chosen script declaring it', () => {
    const given = assignInput([fio, ping], { fio_storage: 'sda', 'fio-runtime': '20', url: 'example.com' });
    assert.deepEqual(Object.fromEntries(given.get('fio')!), {
      storage: { field: 'fio_storage', value: 'sda' },
      runtime: { field: 'fio-runtime', value: '20' },
    });
    assert.deepEqual([...given.get('ping-check')!.keys()], ['url']);
  });

  it('refuses a name no chosen script declares, naming it', () => {
    assert.deepEqual(Object.keys(fieldsOf(() => assignInput([fio], { fio_colour: 'x', colour: 'y' }))).sort(), [
      'colour',
      'fio_colour',
    ]);
    assert.match(
      fieldsOf(() => assignInput([fio], { fio_colour: 'x' })).fio_colour![0]!,
      /Unknown parameter 'colour' for fio/,
    );
  });

  it('storage: all (the default), an id, a name or /dev path, model:serial, a model, serial or tag, a comma list', () => {
    assert.deepEqual(disks(fio, {}), [
      [7, 'sda'],
      [8, 'sdb'],
    ]);
    assert.deepEqual(disks(fio, { storage: 'all' }), disks(fio, {}));
    assert.deepEqual(disks(fio, { storage: '8' }), [[8, 'sdb']]);
    assert.deepEqual(disks(fio, { storage: '/dev/sdb' }), [[8, 'sdb']]);
    assert.deepEqual(disks(fio, { storage: 'M2:S2' }), [[8, 'sdb']]);
    assert.deepEqual(disks(fio, { storage: 'ssd,S2' }), [
      [7, 'sda'],
      [8, 'sdb'],
    ]);
    assert.deepEqual(run(fio, { storage: 'sda' })[0]!.parameters.storage!.value, {
      name: 'sda',
      id_path: '/dev/disk/by-id/a',
      model: 'M1',
      serial: 'S1',
    });
  });

  it("storage all with no disks yet keeps MAAS's 'all' placeholder; a named disk is refused", () => {
    const none = { ...hw, disks: [] };
    assert.deepEqual(
      run(fio, {}, none).map((r) => [r.physicalBlockdeviceId, r.parameters.storage!.value]),
      [[null, 'all']],
    );
    assert.deepEqual(
      fieldsOf(() => run(fio, { storage: 'sda' }, none)),
      {
        storage: ['Unknown storage device for box.maas(abc123)'],
      },
    );
    assert.deepEqual(
      fieldsOf(() => run(fio, { storage: '99' })),
      { storage: ['Physical block id does not exist'] },
    );
  });

  it('runtime: seconds or [HH:]MM:SS within min/max, defaulting to the timeout, each run carrying it', () => {
    assert.deepEqual(
      run(fio, { fio_runtime: '120' }).map((r) => r.parameters.runtime!.value),
      [120, 120],
    );
    assert.equal(run(fio, { runtime: '02:30' })[0]!.parameters.runtime!.value, 150);
    assert.equal(run({ ...fio, declared: { runtime: { type: 'runtime' } } }, {})[0]!.parameters.runtime!.value, 600);
    assert.deepEqual(
      fieldsOf(() => run(fio, { fio_runtime: 'soon' })),
      { fio_runtime: ['Must be an int'] },
    );
    assert.deepEqual(
      fieldsOf(() => run(fio, { fio_runtime: '5' })),
      { fio_runtime: ['Must be greater than 10'] },
    );
    assert.deepEqual(
      fieldsOf(() => run(fio, { fio_runtime: '5000' })),
      { fio_runtime: ['Must be less than 1000'] },
    );
  });

  it('interface: all, an id, a name, a MAC or a tag; url: hosts, IPs and URLs, a list when allowed', () => {
    const nics = (input: Record<string, string>) => run(ping, input).map((r) => r.interfaceId);
    assert.deepEqual(nics({}), [3, 4]);
    assert.deepEqual(nics({ interface: '52:54:00:00:00:02' }), [4]);
    assert.deepEqual(nics({ interface: 'eth0' }), [3]);
    assert.deepEqual(nics({ interface: 'lab' }), [4]);
    assert.deepEqual(nics({ interface: '3' }), [3]);
    assert.deepEqual(
      (run(ping, { interface: 'eth1' })[0]!.parameters.interface!.value as { mac_address: string }).mac_address,
      '52:54:00:00:00:02',
    );
    assert.deepEqual(
      fieldsOf(() => run(ping, { interface: 'eth9' })),
      {
        interface: ['Unknown interface for box.maas(abc123)'],
      },
    );
    assert.deepEqual(
      fieldsOf(() => run(ping, { interface: '99' })),
      { interface: ['Interface id does not exist'] },
    );
    assert.equal(
      run(ping, { url: 'example.com,10.0.0.1,https://x.org/y,::1' })[0]!.parameters.url!.value,
      'example.com,10.0.0.1,https://x.org/y,::1',
    );
    assert.deepEqual(
      fieldsOf(() => run(ping, { url: 'javascript:alert(1)' })),
      { url: ['Invalid URL'] },
    );
  });

  it('a required parameter with no value and no default is refused', () => {
    const s: ParameterizedScript = {
      name: 's',
      timeoutSeconds: 0,
      declared: { target: { type: 'string', required: true } },
    };
    assert.deepEqual(
      fieldsOf(() => run(s, {})),
      { target: ['Field is required'] },
    );
    assert.equal(run(s, { s_target: 'x' })[0]!.parameters.target!.value, 'x');
  });
});
