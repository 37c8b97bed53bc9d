// MAAS's bond and bridge parameters: defaults, choices and bounds, refused by name.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../src/region/errors';
import {
  BOND_DEFAULTS,
  bondParams,
  bridgeParams,
  refuseForeignParams,
} from '../../src/region/services/machine-network/params';

const field = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ValidationError);
    return Object.keys(err.fields)[0];
  }
  assert.fail('expected a ValidationError');
};

describe('machine network params', () => {
  it("a new bond gets MAAS's defaults; given values override them and keep the rest", () => {
    assert.deepEqual(bondParams({}), { ...BOND_DEFAULTS });
    const p = bondParams({ bond_mode: '802.3ad', bond_lacp_rate: 'fast', mtu: 9000 });
    assert.equal(p.bond_mode, '802.3ad');
    assert.equal(p.bond_lacp_rate, 'fast');
    assert.equal(p.bond_miimon, 100);
    assert.equal(p.mtu, 9000);
    assert.equal(bondParams({ bond_miimon: 50 }, p).bond_mode, '802.3ad', 'an update keeps what it does not name');
  });

  it('refuses a bond mode, LACP rate, hash policy or bridge type outside the choices, and an MTU outside its bounds', () => {
    assert.equal(
      field(() => bondParams({ bond_mode: 'balance-foo' })),
      'bond_mode',
    );
    assert.equal(
      field(() => bondParams({ bond_lacp_rate: 'medium' })),
      'bond_lacp_rate',
    );
    assert.equal(
      field(() => bondParams({ bond_xmit_hash_policy: 'layer4' })),
      'bond_xmit_hash_policy',
    );
    assert.equal(
      field(() => bridgeParams({ bridge_type: 'linux' })),
      'bridge_type',
    );
    // MAAS's other bridge type: refused, since the deployed OS would get a Linux bridge instead.
    assert.equal(
      field(() => bridgeParams({ bridge_type: 'ovs' })),
      'bridge_type',
    );
    assert.equal(
      field(() => bondParams({ mtu: 100 })),
      'mtu',
    );
    assert.equal(
      field(() => bridgeParams({ bridge_fd: -1 })),
      'bridge_fd',
    );
  });

  it("a bridge's defaults, and a parameter of another type is a 400 naming it", () => {
    assert.deepEqual(bridgeParams({ bridge_stp: true }), { bridge_type: 'standard', bridge_stp: true, bridge_fd: 15 });
    assert.equal(
      field(() => refuseForeignParams('physical', { bond_mode: 'balance-rr' })),
      'bond_mode',
    );
    assert.equal(
      field(() => refuseForeignParams('bond', { bridge_stp: true })),
      'bridge_stp',
    );
    refuseForeignParams('bond', { bond_mode: 'balance-rr', mtu: 1500 });
  });
});
