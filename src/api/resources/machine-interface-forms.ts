// The forms of a machine's interface ops (MAAS's api/interfaces.py parameters), parsed before the
// handler; MAAS's choices and bounds are checked by the service (machine-network/params.ts).
import { field, form } from '../http';
import { badRequest } from '../http';

function ids(name: string, values: string[] | undefined): number[] | undefined {
  if (values === undefined || values.length === 0) return undefined;
  return values.map((v) => {
    if (!/^\d{1,9}$/.test(v)) throw badRequest({ [name]: [`'${v.slice(0, 32)}' is not an interface id.`] });
    return Number(v);
  });
}

const common = {
  name: field.text('Name of the interface.', { maxLength: 15 }),
  mac_address: field.text("MAC address of the interface (default: its first parent's).", { maxLength: 64 }),
  tags: field.list('Tags for the interface (comma-separated or repeated).', { maxValues: 64 }),
  vlan: field.int('VLAN id the interface is on.', { min: 0 }),
  mtu: field.int('Maximum transmission unit.', { min: 552, max: 65535 }),
};
const bond = {
  bond_mode: field.text(
    'balance-rr, active-backup (default), balance-xor, broadcast, 802.3ad, balance-tlb or balance-alb.',
    {
      maxLength: 32,
    },
  ),
  bond_miimon: field.int('Link monitoring frequency in ms (default 100).', { min: 0 }),
  bond_downdelay: field.int('Ms to wait before disabling a member after a link failure (default 0).', { min: 0 }),
  bond_updelay: field.int('Ms to wait before enabling a member after a link recovery (default 0).', { min: 0 }),
  bond_lacp_rate: field.text('fast or slow (default).', { maxLength: 8 }),
  bond_xmit_hash_policy: field.text('layer2 (default), layer2+3, layer3+4, encap2+3 or encap3+4.', { maxLength: 16 }),
  bond_num_grat_arp: field.int('Peer notifications after a failover (default 1).', { min: 0 }),
};
const bridge = {
  bridge_type: field.text('standard (the default and the only one metalflow deploys; ovs is refused).', {
    maxLength: 16,
  }),
  bridge_stp: field.bool('Spanning tree protocol on or off (default off).'),
  bridge_fd: field.int('Forward delay in seconds (default 15).', { min: 0 }),
};
const accept = {
  accept_ra: field.unsupported('IPv6 router advertisements are not configured by metalflow', 'Boolean'),
};

type V = Record<string, unknown> & { tags?: string[] };
const child = (v: V) => ({
  name: v.name as string | undefined,
  macAddress: v.mac_address as string | undefined,
  tags: v.tags?.length ? v.tags : undefined,
  vlan: v.vlan as number | undefined,
  mtu: v.mtu as number | undefined,
  bond_mode: v.bond_mode as string | undefined,
  bond_miimon: v.bond_miimon as number | undefined,
  bond_downdelay: v.bond_downdelay as number | undefined,
  bond_updelay: v.bond_updelay as number | undefined,
  bond_lacp_rate: v.bond_lacp_rate as string | undefined,
  bond_xmit_hash_policy: v.bond_xmit_hash_policy as string | undefined,
  bond_num_grat_arp: v.bond_num_grat_arp as number | undefined,
  bridge_type: v.bridge_type as string | undefined,
  bridge_stp: v.bridge_stp as boolean | undefined,
  bridge_fd: v.bridge_fd as number | undefined,
});

export const machinePhysicalForm = form(
  { ...common, mac_address: field.text('MAC address of the interface.', { required: true, maxLength: 64 }), ...accept },
  (v) => ({
    name: v.name,
    macAddress: v.mac_address,
    vlan: v.vlan,
    tags: v.tags.length ? v.tags : undefined,
    mtu: v.mtu,
  }),
);

export const createBondForm = form(
  {
    ...common,
    parents: field.list('Ids of the physical interfaces that make the bond.', { maxValues: 64 }),
    ...bond,
    ...accept,
  },
  (v) => ({ ...child(v as V), parents: ids('parents', v.parents) }),
);

export const createBridgeForm = form(
  { ...common, parent: field.list('Id of the parent interface.', { maxValues: 2 }), ...bridge, ...accept },
  (v) => ({ ...child(v as V), parents: ids('parent', v.parent) }),
);

export const createVlanForm = form(
  {
    tags: common.tags,
    vlan: field.int('The tagged VLAN the interface is on.', { min: 0 }),
    mtu: common.mtu,
    parent: field.list('Id of the parent interface.', { maxValues: 2 }),
    ...accept,
  },
  (v) => ({ ...child(v as V), parents: ids('parent', v.parent) }),
);

export const machineUpdateForm = form(
  {
    ...common,
    parents: field.list('(Bonds) ids of the member interfaces.', { maxValues: 64 }),
    parent: field.list('(Bridges, VLAN interfaces) id of the parent interface.', { maxValues: 2 }),
    ...bond,
    ...bridge,
    link_connected: field.bool('(Physical) whether the interface is connected to an uplink.'),
    interface_speed: field.int('(Physical) the speed of the interface in Mbit/s.', { min: 0 }),
    link_speed: field.int('(Physical) the speed of the link in Mbit/s.', { min: 0 }),
    ...accept,
  },
  (v) => ({
    ...child(v as V),
    parents: ids('parents', v.parents) ?? ids('parent', v.parent),
    linkConnected: v.link_connected,
    interfaceSpeed: v.interface_speed,
    linkSpeed: v.link_speed,
  }),
);

export const machineLinkForm = form(
  {
    mode: field.text('AUTO, DHCP, STATIC or LINK_UP.', { required: true, maxLength: 16 }),
    subnet: field.text('The subnet (id or CIDR); required for AUTO and STATIC.', { maxLength: 64 }),
    ip_address: field.text('STATIC only: the address (else the lowest free one is picked).', { maxLength: 64 }),
    default_gateway: field.bool("AUTO/STATIC: the subnet's gateway becomes the machine's default gateway."),
    force: field.bool('Allow LINK_UP over existing links, or a subnet on another VLAN: the other links are removed.'),
  },
  (v) => ({
    mode: v.mode,
    subnet: v.subnet,
    ipAddress: v.ip_address,
    defaultGateway: v.default_gateway,
    force: v.force,
  }),
);

export const gatewayForm = form({ link_id: field.int('The link to take the default gateway from.', { min: 0 }) });
export const tagForm = form({ tag: field.text('The tag.', { required: true, maxLength: 256 }) });
