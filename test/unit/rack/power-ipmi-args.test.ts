// MAAS's ipmi power parameters → ipmitool arguments (secrets only in the environment), and the
// error mapping of what ipmitool prints (the lines below are ipmitool 1.8.19's, seen against ipmi_sim).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ipmiFailure, ipmitoolArgs, splitAddress } from '../../../src/rack/power/ipmi-args';

const rt = { intervalS: 1, retries: 2 };

describe('ipmitool arguments', () => {
  it('defaults: lanplus, cipher 3, OPERATOR, password via -E', () => {
    const { args, env } = ipmitoolArgs(
      { power_address: '10.0.0.5', power_user: 'maas', power_pass: 'pw' },
      ['chassis', 'power', 'status'],
      rt,
    );
    assert.deepEqual(args, [
      '-I',
      'lanplus',
      '-C',
      '3',
      '-L',
      'OPERATOR',
      '-H',
      '10.0.0.5',
      '-U',
      'maas',
      '-E',
      '-N',
      '1',
      '-R',
      '2',
      '-v',
      'chassis',
      'power',
      'status',
    ]);
    assert.deepEqual(env, { IPMI_PASSWORD: 'pw' });
  });

  it('LAN 1.5, port, ADMIN, K_g and workaround flags; no secret on the command line', () => {
    const { args, env } = ipmitoolArgs(
      {
        power_driver: 'LAN',
        power_address: '10.0.0.5:6230',
        power_pass: 'pw',
        privilege_level: 'ADMIN',
        k_g: 'kgsecret',
        workaround_flags: 'opensesspriv supermicro20',
      },
      ['chassis', 'power', 'on'],
      rt,
    );
    assert.deepEqual(args.slice(0, 12), [
      '-I',
      'lan',
      '-L',
      'ADMINISTRATOR',
      '-H',
      '10.0.0.5',
      '-p',
      '6230',
      '-E',
      '-K',
      '-o',
      'supermicro',
    ]);
    assert.deepEqual(env, { IPMI_PASSWORD: 'pw', IPMI_KGKEY: 'kgsecret' });
    assert.ok(!args.some((a) => a.includes('pw') || a.includes('kgsecret')));
    // a hex K_g is decoded into the environment; one with a zero byte can only go through -y
    assert.equal(ipmitoolArgs({ power_address: 'h', k_g: '0x4142' }, [], rt).env.IPMI_KGKEY, 'AB');
    assert.deepEqual(ipmitoolArgs({ power_address: 'h', k_g: '0x4100' }, [], rt).args.slice(-7, -5), ['-y', '4100']);
  });

  it('addresses: host, host:port, [v6]:port, bare v6', () => {
    assert.deepEqual(splitAddress('bmc.example'), { host: 'bmc.example' });
    assert.deepEqual(splitAddress('10.0.0.5:623'), { host: '10.0.0.5', port: '623' });
    assert.deepEqual(splitAddress('[fd00::5]:623'), { host: 'fd00::5', port: '623' });
    assert.deepEqual(splitAddress('fd00::5'), { host: 'fd00::5' });
  });

  it('bad settings are fatal before ipmitool runs', () => {
    assert.throws(() => ipmitoolArgs({}, [], rt), /power_address is not set/);
    assert.throws(
      () => ipmitoolArgs({ power_address: 'h', privilege_level: 'ROOT' }, [], rt),
      /invalid privilege_level/,
    );
    assert.throws(
      () => ipmitoolArgs({ power_address: 'h', cipher_suite_id: '3; rm' }, [], rt),
      /invalid cipher_suite_id/,
    );
  });
});

describe('ipmitool failures', () => {
  const noise = 'Loading IANA PEN Registry...\n';
  it("refused credentials are fatal and keep the BMC's words; no answer is retryable", () => {
    const wrongPass = ipmiFailure(
      'ipmi on',
      `${noise}> RAKP 2 HMAC is invalid\nError: Unable to establish IPMI v2 / RMCP+ session\n`,
    );
    assert.equal(wrongPass.retryable, false);
    assert.match(wrongPass.message, /RAKP 2 HMAC is invalid; Error: Unable to establish IPMI v2/);
    assert.equal(ipmiFailure('q', 'RAKP 2 message indicates an error : unauthorized name\n').retryable, false);
    assert.equal(
      ipmiFailure('q', 'Set Chassis Power Control to Up/On failed: Insufficient privilege level\n').retryable,
      false,
    );
    const down = ipmiFailure(
      'q',
      `${noise}Get Auth Capabilities error\nError issuing Get Channel Authentication Capabilities request\nError: Unable to establish IPMI v2 / RMCP+ session\n`,
    );
    assert.equal(down.retryable, true);
    assert.equal(
      ipmiFailure('q', 'RAKP 2 message indicates an error : insufficient resources for session\n').retryable,
      true,
    );
  });
});
