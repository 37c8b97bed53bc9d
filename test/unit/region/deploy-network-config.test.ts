// The deployed OS's network configuration (network config v1, as MAAS composes it for curtin)
// rendered from representative machine network models. Debian's own cloud-init reads the same
// renders in test/integration/network-config-cloud-init.test.ts.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { renderNetworkConfig } from '../../../src/region/services/network/deploy-network-config';
import { ELSEWHERE, LAN, MAC0, MAC1, MODELS } from '../../helpers/network-models';

type Entry = Record<string, unknown>;
const entries = (m: keyof typeof MODELS): Entry[] => renderNetworkConfig(MODELS[m]).network.config;
const named = (m: keyof typeof MODELS, name: string): Entry => {
  const e = entries(m).find((x) => x.name === name);
  assert.ok(e, `${name} in ${JSON.stringify(entries(m))}`);
  return e;
};

describe('network config v1 for the deployed OS', () => {
  it('is version 1, as MAAS gives curtin', () => {
    assert.equal(renderNetworkConfig(MODELS.flatDhcp).network.version, 1);
  });

  it('gives a machine without links DHCP on its boot interface (what the installer wrote before)', () => {
    assert.deepEqual(named('noLinks', 'eth0'), {
      mtu: 1500,
      id: 'eth0',
      name: 'eth0',
      type: 'physical',
      mac_address: MAC0,
      subnets: [{ type: 'dhcp4' }],
    });
    assert.deepEqual(named('noLinks', 'eth1').subnets, [{ type: 'manual' }]);
    assert.ok(!entries('noLinks').some((e) => e.type === 'nameserver'), 'DHCP brings the resolvers');
  });

  it('renders a DHCP link as dhcp4, with no machine-wide nameserver', () => {
    assert.deepEqual(named('flatDhcp', 'eth0').subnets, [{ type: 'dhcp4' }]);
    assert.equal(entries('flatDhcp').length, 1);
  });

  it("renders a static address with its subnet's prefix, gateway, resolvers, search domain and routes", () => {
    assert.deepEqual(named('static', 'eth0').subnets, [
      {
        type: 'static',
        address: '10.77.0.50/24',
        gateway: '10.77.0.1',
        dns_nameservers: ['10.77.0.1', '192.0.2.53'],
        dns_search: ['lab.example'],
        routes: [{ destination: ELSEWHERE, gateway: '10.77.0.254', metric: 5 }],
      },
    ]);
    assert.deepEqual(named('static', 'eth1').subnets, [{ type: 'manual' }], 'LINK_UP is manual');
    assert.deepEqual(entries('static').at(-1), { type: 'nameserver', address: ['10.77.0.1'], search: ['lab.example'] });
  });

  it('renders an active-backup bond of two NICs after its members, with its static address', () => {
    const names = entries('bond').map((e) => e.name ?? e.type);
    assert.deepEqual(names, ['eth0', 'eth1', 'bond0', 'nameserver']);
    const bond = named('bond', 'bond0');
    assert.equal(bond.type, 'bond');
    assert.equal(bond.mac_address, MAC0);
    assert.deepEqual(bond.bond_interfaces, ['eth0', 'eth1']);
    // lacp-rate is only for 802.3ad (MAAS bug 1730626); grat-arp stays for active-backup.
    assert.deepEqual(bond.params, { 'bond-mode': 'active-backup', 'bond-miimon': 100, 'bond-num-grat-arp': 1 });
    assert.deepEqual((bond.subnets as Entry[])[0]!.address, '10.77.0.60/24');
    assert.deepEqual(named('bond', 'eth1').subnets, [{ type: 'manual' }]);
    assert.equal(named('bond', 'eth1').mac_address, MAC1);
  });

  it('renders a VLAN on a NIC with its VID, the chosen default gateway and the larger MTU on the parent', () => {
    const vlan = named('vlan', 'eth0.42');
    assert.equal(vlan.type, 'vlan');
    assert.equal(vlan.vlan_link, 'eth0');
    assert.equal(vlan.vlan_id, 42);
    assert.equal(vlan.mtu, 9000);
    assert.equal(named('vlan', 'eth0').mtu, 9000, "a parent's MTU carries its VLAN's");
    assert.equal((vlan.subnets as Entry[])[0]!.gateway, '10.88.0.1', 'gateway_link_ipv4 picks the VLAN');
    assert.deepEqual(named('vlan', 'eth0').subnets, [{ type: 'dhcp4' }]);
  });

  it('renders a bridge on a bond: 802.3ad keeps lacp-rate, bridge params as v1 numbers, bridge_type left out', () => {
    const order = entries('bridgeOnBond').map((e) => e.name ?? e.type);
    assert.deepEqual(order, ['eth0', 'eth1', 'bond0', 'br0', 'nameserver']);
    assert.deepEqual(named('bridgeOnBond', 'bond0').params, {
      'bond-mode': '802.3ad',
      'bond-lacp-rate': 'fast',
      'bond-xmit-hash-policy': 'layer3+4',
    });
    assert.deepEqual(named('bridgeOnBond', 'bond0').subnets, [{ type: 'manual' }]);
    const br = named('bridgeOnBond', 'br0');
    assert.deepEqual(br.bridge_interfaces, ['bond0']);
    assert.deepEqual(br.params, { bridge_stp: 0, bridge_fd: 15 });
  });

  it("puts the default gateway on one link per family: the chosen one, else the boot interface's", () => {
    const m = structuredClone(MODELS.vlan);
    m.interfaces[0]!.links = [{ id: 10, mode: 'static', ip: '10.77.0.9', subnet: LAN }];
    const gatewayOf = (name: string) =>
      (renderNetworkConfig(m).network.config.find((e) => e.name === name)!.subnets as Entry[])[0]!.gateway;
    assert.deepEqual([gatewayOf('eth0'), gatewayOf('eth0.42')], [undefined, '10.88.0.1']);
    m.gatewayLinkIpv4 = null;
    assert.deepEqual([gatewayOf('eth0'), gatewayOf('eth0.42')], ['10.77.0.1', undefined]);
    m.gatewayLinkIpv4 = 999; // a link of another family or machine chooses nothing
    assert.deepEqual([gatewayOf('eth0'), gatewayOf('eth0.42')], ['10.77.0.1', undefined]);
  });

  it('leaves out disabled interfaces and AUTO links whose address is not picked yet', () => {
    const m = structuredClone(MODELS.bond);
    m.interfaces[2]!.links[0]!.ip = null;
    m.interfaces[1]!.enabled = false;
    const out = renderNetworkConfig(m).network.config;
    assert.deepEqual(
      out.map((e) => e.name),
      ['eth0', 'bond0'],
    );
    assert.deepEqual(out[1]!.subnets, [{ type: 'manual' }]);
  });
});
