// Representative machine network models (migration 0018's shape, as machine-network-model.ts
// loads it) shared by the renderer's unit tests and the test that feeds its output to Debian's
// own cloud-init: flat DHCP, a static address, an active-backup bond of two NICs with a static
// address, a VLAN on a NIC, a bridge on a bond, and a machine with no links yet.
import type {
  MachineNetworkModel,
  NetworkInterface,
  NetworkSubnet,
} from '../../src/region/services/network/deploy-network-config';

export const MAC0 = '52:54:00:aa:00:01';
export const MAC1 = '52:54:00:aa:00:02';

export const LAN: NetworkSubnet = {
  id: 1,
  cidr: '10.77.0.0/24',
  gatewayIp: '10.77.0.1',
  dnsServers: ['192.0.2.53'],
  rackAddresses: ['10.77.0.1'],
};
export const TAGGED: NetworkSubnet = {
  id: 2,
  cidr: '10.88.0.0/24',
  gatewayIp: '10.88.0.1',
  dnsServers: [],
  rackAddresses: [],
};
export const ELSEWHERE = '172.16.0.0/16';

export const nic = (id: number, name: string, mac: string, over: Partial<NetworkInterface> = {}): NetworkInterface => ({
  id,
  name,
  type: 'physical',
  mac,
  enabled: true,
  isBoot: id === 1,
  params: {},
  vlan: { vid: 0, mtu: 1500 },
  parentIds: [],
  links: [],
  ...over,
});

const model = (interfaces: NetworkInterface[], over: Partial<MachineNetworkModel> = {}): MachineNetworkModel => ({
  domain: 'lab.example',
  interfaces,
  routes: [],
  gatewayLinkIpv4: null,
  gatewayLinkIpv6: null,
  ...over,
});

export const MODELS = {
  noLinks: model([nic(1, 'eth0', MAC0), nic(2, 'eth1', MAC1, { isBoot: false })]),
  flatDhcp: model([nic(1, 'eth0', MAC0, { links: [{ id: 10, mode: 'dhcp', ip: null, subnet: LAN }] })]),
  static: model(
    [
      nic(1, 'eth0', MAC0, { links: [{ id: 10, mode: 'static', ip: '10.77.0.50', subnet: LAN }] }),
      nic(2, 'eth1', MAC1, { isBoot: false, links: [{ id: 11, mode: 'link_up', ip: null, subnet: null }] }),
    ],
    { routes: [{ sourceSubnetId: 1, destination: ELSEWHERE, gatewayIp: '10.77.0.254', metric: 5 }] },
  ),
  bond: model([
    nic(1, 'eth0', MAC0),
    nic(2, 'eth1', MAC1, { isBoot: false }),
    nic(3, 'bond0', MAC0, {
      type: 'bond',
      isBoot: false,
      parentIds: [1, 2],
      params: { bond_mode: 'active-backup', bond_miimon: 100, bond_lacp_rate: 'fast', bond_num_grat_arp: 1 },
      links: [{ id: 12, mode: 'auto', ip: '10.77.0.60', subnet: LAN }],
    }),
  ]),
  vlan: model(
    [
      nic(1, 'eth0', MAC0, { links: [{ id: 10, mode: 'dhcp', ip: null, subnet: LAN }] }),
      nic(2, 'eth0.42', MAC0, {
        type: 'vlan',
        isBoot: false,
        parentIds: [1],
        vlan: { vid: 42, mtu: 9000 },
        links: [{ id: 13, mode: 'static', ip: '10.88.0.7', subnet: TAGGED }],
      }),
    ],
    { gatewayLinkIpv4: 13 },
  ),
  bridgeOnBond: model([
    nic(1, 'eth0', MAC0),
    nic(2, 'eth1', MAC1, { isBoot: false }),
    nic(3, 'bond0', MAC0, {
      type: 'bond',
      isBoot: false,
      parentIds: [1, 2],
      params: { bond_mode: '802.3ad', bond_lacp_rate: 'fast', bond_xmit_hash_policy: 'layer3+4' },
    }),
    nic(4, 'br0', MAC0, {
      type: 'bridge',
      isBoot: false,
      parentIds: [3],
      params: { bridge_stp: false, bridge_fd: 15, bridge_type: 'standard' },
      links: [{ id: 14, mode: 'static', ip: '10.77.0.70', subnet: LAN }],
    }),
  ]),
} satisfies Record<string, MachineNetworkModel>;
