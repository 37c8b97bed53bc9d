// A machine's interfaces in MAAS's network model (migration 0018): each on a VLAN, with MAAS's
// per-type params, its link state and speed, tags, parents and children (bonds, bridges, VLAN
// interfaces), and its links to subnets (interface_links). Loaded for any number of machines in a
// fixed number of queries.
import type { EntityManager } from 'typeorm';
import type { Interface } from '../../db/entities';
import { SUBNET_SELECT, VLAN_SELECT, type SubnetRow, type VlanRow } from '../network/rows';
import { queryAll } from '../query-all';

export const LINK_MODES = ['auto', 'static', 'dhcp', 'link_up'] as const;
export type NicLinkMode = (typeof LINK_MODES)[number];

/** One row of interface_links: AUTO's ip stays null until deploy assigns one. */
export interface NicLink {
  id: number;
  mode: NicLinkMode;
  ip: string | null;
  subnet: SubnetRow | null;
  subnetVlan: VlanRow | null;
}

export interface MachineNic extends Interface {
  vlan: VlanRow | null;
  params: Record<string, unknown>;
  linkConnected: boolean;
  interfaceSpeed: number;
  tags: string[];
  /** Names, sorted, as MAAS shows them; ids for the rules. */
  parents: string[];
  children: string[];
  parentIds: number[];
  childIds: number[];
  links: NicLink[];
  /** MTU the interface runs with: its own `mtu` param, else its VLAN's; at least its children's. */
  effectiveMtu: number;
}

/** The interfaces columns every reader of a machine's NICs selects (alias `i`). */
export const NIC_COLUMNS = `i.id, i.machine_id AS "machineId", i.name, i.type, i.mac_address::text AS "macAddress", i.enabled,
  i.link_speed AS "linkSpeed", i.is_boot AS "isBoot", i.vlan_id AS "vlanId", i.params, i.link_connected AS "linkConnected",
  i.interface_speed AS "interfaceSpeed", i.tags`;

export interface NicRow extends Interface {
  vlanId: number | null;
  params: Record<string, unknown>;
  linkConnected: boolean;
  interfaceSpeed: number;
  tags: string[];
}

const DEFAULT_MTU = 1500;

/** The NICs of these machines (by id order), with VLANs, parents, children and links: five queries. */
export async function loadMachineNics(m: EntityManager, machineIds: number[]): Promise<Map<number, MachineNic[]>> {
  const out = new Map<number, MachineNic[]>();
  if (machineIds.length === 0) return out;
  const rows: NicRow[] = await m.query(
    `SELECT ${NIC_COLUMNS} FROM interfaces i WHERE i.machine_id = ANY($1::int[]) ORDER BY i.id`,
    [machineIds],
  );
  if (rows.length === 0) return out;
  const ids = rows.map((r) => r.id);
  const [relations, links] = await queryAll(m, [
    () =>
      m.query(
        `SELECT child_id AS "childId", parent_id AS "parentId" FROM interface_parents WHERE child_id = ANY($1::int[])`,
        [ids],
      ) as Promise<Array<{ childId: number; parentId: number }>>,
    () =>
      m.query(
        `SELECT id, interface_id AS "interfaceId", mode, host(ip) AS ip, subnet_id AS "subnetId"
         FROM interface_links WHERE interface_id = ANY($1::int[]) ORDER BY id`,
        [ids],
      ) as Promise<
        Array<{ id: number; interfaceId: number; mode: NicLinkMode; ip: string | null; subnetId: number | null }>
      >,
  ]);
  const subnetIds = [...new Set(links.flatMap((l) => (l.subnetId === null ? [] : [l.subnetId])))];
  const subnets: SubnetRow[] = subnetIds.length
    ? await m.query(`${SUBNET_SELECT} WHERE s.id = ANY($1::int[])`, [subnetIds])
    : [];
  const vlanIds = [
    ...new Set([...rows.flatMap((r) => (r.vlanId === null ? [] : [r.vlanId])), ...subnets.map((s) => s.vlanId)]),
  ];
  const vlans: VlanRow[] = vlanIds.length ? await m.query(`${VLAN_SELECT} WHERE v.id = ANY($1::int[])`, [vlanIds]) : [];
  const vlanById = new Map(vlans.map((v) => [v.id, v]));
  const subnetById = new Map(subnets.map((s) => [s.id, s]));
  const byId = new Map(rows.map((r) => [r.id, r]));
  const nics = new Map<number, MachineNic>();
  for (const r of rows) {
    const parentIds = relations.filter((x) => x.childId === r.id).map((x) => x.parentId);
    const childIds = relations.filter((x) => x.parentId === r.id).map((x) => x.childId);
    const vlan = r.vlanId === null ? null : (vlanById.get(r.vlanId) ?? null);
    nics.set(r.id, {
      ...r,
      tags: r.tags ?? [],
      params: r.params ?? {},
      vlan,
      parentIds,
      childIds,
      parents: parentIds.map((p) => byId.get(p)?.name ?? '').sort(),
      children: childIds.map((c) => byId.get(c)?.name ?? '').sort(),
      links: links
        .filter((l) => l.interfaceId === r.id)
        .map((l) => {
          const subnet = l.subnetId === null ? null : (subnetById.get(l.subnetId) ?? null);
          return {
            id: l.id,
            mode: l.mode,
            ip: l.ip,
            subnet,
            subnetVlan: subnet ? (vlanById.get(subnet.vlanId) ?? null) : null,
          };
        }),
      effectiveMtu: ownMtu(r.params, vlan),
    });
  }
  // A parent carries its children's frames: its MTU is at least theirs (MAAS's get_effective_mtu).
  const effective = (nic: MachineNic, depth = 0): number =>
    Math.max(
      nic.effectiveMtu,
      ...(depth > 8 ? [] : nic.childIds.map((c) => (nics.has(c) ? effective(nics.get(c)!, depth + 1) : 0))),
    );
  for (const nic of nics.values()) nic.effectiveMtu = effective(nic);
  for (const nic of nics.values()) {
    const list = out.get(nic.machineId);
    if (list) list.push(nic);
    else out.set(nic.machineId, [nic]);
  }
  return out;
}

function ownMtu(params: Record<string, unknown> | null, vlan: VlanRow | null): number {
  const mtu = params?.mtu;
  if (typeof mtu === 'number' && mtu > 0) return mtu;
  return vlan?.mtu ?? DEFAULT_MTU;
}
