import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DhcpSubnetConfig } from '../../../src/contracts/rack-api';
import { Allocator } from '../../../src/rack/dhcp/allocator';
import { formatIp, parseIp } from '../../../src/rack/dhcp/ipv4';
import { LeaseTable } from '../../../src/rack/dhcp/lease-table';
import { compileSubnet, compileSubnets, isPoolAddress, selectSubnet } from '../../../src/rack/dhcp/subnets';

const ip = (s: string) => parseIp(s)!;
const NOW = 1_700_000_000_000;

function subnet(over: Partial<DhcpSubnetConfig> = {}): DhcpSubnetConfig {
  return {
    subnetId: 1,
    cidr: '10.77.0.0/24',
    gatewayIp: '10.77.0.254',
    dnsServers: [],
    ntpServers: [],
    domain: 'maas',
    dynamicRanges: [
      { start: '10.77.0.0', end: '10.77.0.12' },
      { start: '10.77.0.250', end: '10.77.0.255' },
    ],
    reservedRanges: [{ start: '10.77.0.5', end: '10.77.0.6' }],
    fixed: [{ mac: 'AA-00-00-00-00-12', ip: '10.77.0.12', hostname: 'twelve' }],
    leaseSeconds: 3600,
    ...over,
  };
}

describe('DHCP address allocation', () => {
  it('hands out only pool addresses: not network, broadcast, gateway, ours, reserved or fixed', () => {
    const s = compileSubnet(subnet(), [ip('10.77.0.1')], undefined, () => undefined);
    const table = new LeaseTable();
    const alloc = new Allocator(table);
    const got: string[] = [];
    for (let k = 0; k < 20; k++) {
      const a = alloc.choose(s, `02:00:00:00:00:${k.toString(16).padStart(2, '0')}`, undefined, NOW);
      if (a === undefined) break;
      table.set({
        ip: a,
        mac: `02:00:00:00:00:${k.toString(16).padStart(2, '0')}`,
        hostname: '',
        state: 'bound',
        expiresAt: NOW + 1000,
      });
      got.push(formatIp(a));
    }
    assert.deepEqual(
      got.sort(),
      ['2', '3', '4', '7', '8', '9', '10', '11', '250', '251', '252', '253'].map((x) => `10.77.0.${x}`).sort(),
    );
  });

  it('gives a fixed MAC its address (MAC written any way), and that address to nobody else', () => {
    const s = compileSubnet(subnet(), [ip('10.77.0.1')], undefined, () => undefined);
    const alloc = new Allocator(new LeaseTable());
    assert.equal(formatIp(alloc.choose(s, 'aa:00:00:00:00:12', undefined, NOW)!), '10.77.0.12');
    assert.notEqual(formatIp(alloc.choose(s, '02:00:00:00:00:01', ip('10.77.0.12'), NOW)!), '10.77.0.12');
    assert.equal(isPoolAddress(s, ip('10.77.0.12')), false);
  });

  it('gives a returning client its previous address, and the requested one when free', () => {
    const s = compileSubnet(subnet(), [ip('10.77.0.1')], undefined, () => undefined);
    const table = new LeaseTable();
    const alloc = new Allocator(table);
    table.set({ ip: ip('10.77.0.9'), mac: '02:00:00:00:00:01', hostname: '', state: 'expired', expiresAt: NOW - 1 });
    assert.equal(formatIp(alloc.choose(s, '02:00:00:00:00:01', ip('10.77.0.3'), NOW)!), '10.77.0.9');
    assert.equal(formatIp(alloc.choose(s, '02:00:00:00:00:02', ip('10.77.0.3'), NOW)!), '10.77.0.3');
    assert.notEqual(formatIp(alloc.choose(s, '02:00:00:00:00:02', ip('10.77.0.5'), NOW)!), '10.77.0.5', 'reserved');
  });

  it('reuses an expired address only when no fresh one is left, and a quarantined one never', () => {
    const s = compileSubnet(
      subnet({ dynamicRanges: [{ start: '10.77.0.20', end: '10.77.0.21' }], fixed: [] }),
      [ip('10.77.0.1')],
      undefined,
      () => undefined,
    );
    const table = new LeaseTable();
    const alloc = new Allocator(table);
    table.set({ ip: ip('10.77.0.20'), mac: '02:00:00:00:00:09', hostname: '', state: 'expired', expiresAt: NOW - 1 });
    assert.equal(formatIp(alloc.choose(s, '02:00:00:00:00:01', undefined, NOW)!), '10.77.0.21');
    table.set({ ip: ip('10.77.0.21'), mac: '02:00:00:00:00:01', hostname: '', state: 'bound', expiresAt: NOW + 1 });
    assert.equal(formatIp(alloc.choose(s, '02:00:00:00:00:02', undefined, NOW)!), '10.77.0.20');
    table.set({ ip: ip('10.77.0.20'), mac: '', hostname: '', state: 'declined', expiresAt: NOW + 60_000 });
    assert.equal(alloc.choose(s, '02:00:00:00:00:02', undefined, NOW), undefined);
  });

  it('skips subnets it cannot serve and fixed addresses it must not give, saying why', () => {
    const warnings: string[] = [];
    const served = compileSubnets(
      {
        subnets: [
          subnet({ fixed: [{ mac: 'aa:00:00:00:00:01', ip: '10.77.0.5', hostname: '' }] }),
          subnet({ subnetId: 2, cidr: '10.99.0.0/24' }),
          subnet({ subnetId: 3, cidr: 'nonsense' }),
        ],
      },
      [ip('10.77.0.1')],
      new Map(),
      (w) => warnings.push(w),
    );
    assert.deepEqual(
      served.map((x) => x.config.subnetId),
      [1],
    );
    assert.equal(served[0]!.fixedByMac.size, 0, 'a fixed address in a reserved range is not handed out');
    assert.equal(warnings.length, 3, warnings.join('\n'));
  });

  it('selects the subnet by giaddr, then ciaddr, then requested address among attached ones', () => {
    const served = compileSubnets(
      {
        subnets: [
          subnet(),
          subnet({ subnetId: 2, cidr: '10.88.0.0/24', gatewayIp: null, fixed: [] }),
          subnet({ subnetId: 3, cidr: '10.99.0.0/24', gatewayIp: null, fixed: [] }),
        ],
      },
      [ip('10.77.0.1'), ip('10.88.0.1')],
      new Map([[3, ip('10.77.0.1')]]),
      () => undefined,
    );
    const pick = (giaddr: string, ciaddr: string, requested?: string) => {
      const r = selectSubnet(served, {
        giaddr: ip(giaddr),
        ciaddr: ip(ciaddr),
        requestedIp: requested ? ip(requested) : undefined,
      });
      return [r.subnet?.config.subnetId, r.guessed];
    };
    assert.deepEqual(pick('10.99.0.1', '0.0.0.0'), [3, false]);
    assert.deepEqual(pick('10.66.0.1', '0.0.0.0'), [undefined, false], 'a relay for a subnet we do not serve');
    assert.deepEqual(pick('0.0.0.0', '10.99.0.7'), [3, false], 'a renewing client of a relayed subnet');
    assert.deepEqual(pick('0.0.0.0', '0.0.0.0', '10.88.0.40'), [2, false]);
    assert.deepEqual(
      pick('0.0.0.0', '0.0.0.0', '10.99.0.40'),
      [1, true],
      'INIT-REBOOT from a relayed subnet arrived on an attached segment',
    );
    assert.deepEqual(pick('0.0.0.0', '0.0.0.0'), [1, true]);
  });
});
