// MAAS 3.6's ReservedIpsHandler/ReservedIpHandler (`/reservedips/`, `/reservedips/{id}/`): a MAC's
// fixed address on a subnet, which the rack's DHCP server hands to that MAC only (rack-dhcp.ts).
// Stored with the ipaddresses handler's reservations (one table, one set of rules): users reserve
// for MACs of no machine or their own machines, and change or delete only their own.
import type { RegionServices } from '../../region/services';
import type { Principal } from '../../region/services/principal';
import { mayDo } from '../../region/policy';
import { field, form, notFound, pathId, Reply, type Resource } from '../http';
import { presentReservedIpEntry } from '../presenters/ipam';
import { action, caller, may, type Ctx } from './access';
import { networkView } from './network-view';

const reservedIpId = (value: string | undefined): number => {
  const id = pathId(value);
  if (id === undefined) throw notFound('No ReservedIP matches the given query.');
  return id;
};

export function reservedIpResources(deps: {
  services: Pick<RegionServices, 'fabrics' | 'subnets' | 'reservedIps'>;
}): Array<Resource<Principal>> {
  const { services } = deps;
  const { reservedIps } = services;
  const json = async (id: number) => {
    const r = await reservedIps.get(id);
    return presentReservedIpEntry(r, (await networkView(services)).subnet(r.subnetId));
  };
  /** Admins act on anyone's reservation; users on their own (null: no owner check). */
  const ownerCheck = (c: Ctx) => {
    const p = caller(c);
    return mayDo(p, may('ip-address', 'administer')) ? null : p.user.id;
  };
  return [
    {
      name: 'ReservedIpsHandler',
      path: '/reservedips/',
      doc: 'Manage reserved IPs: a MAC address gets a fixed address from the rack’s DHCP server.',
      actions: [
        action({
          method: 'GET',
          access: may('ip-address', 'read'),
          doc: 'List all reserved IPs.',
          async handle() {
            const view = await networkView(services);
            return (await reservedIps.list(null)).map((r) => presentReservedIpEntry(r, view.subnet(r.subnetId)));
          },
        }),
        action({
          method: 'POST',
          access: may('ip-address', 'create'),
          form: form(
            {
              ip: field.text('The IP address to reserve.', { required: true }),
              mac_address: field.text('The MAC address that gets this IP address from DHCP.', { required: true }),
              subnet: field.text('The subnet, by id or CIDR (found from the IP address if omitted).'),
              comment: field.text('A description of this reserved IP.', { maxLength: 255 }),
            },
            (v) => ({ ip: v.ip, macAddress: v.mac_address, subnet: v.subnet, comment: v.comment }),
          ),
          doc: 'Reserve an IP address for a MAC address (ip and mac_address required; subnet found from ip if omitted).',
          async handle(c) {
            const p = caller(c);
            const row = await reservedIps.reserve(c.form, p.user.id, mayDo(p, may('ip-address', 'administer')));
            return json(row.id);
          },
        }),
      ],
    },
    {
      name: 'ReservedIpHandler',
      path: '/reservedips/{id}/',
      doc: 'Manage a reserved IP.',
      actions: [
        action({
          method: 'GET',
          access: may('ip-address', 'read'),
          doc: 'A reserved IP by id.',
          async handle(c) {
            return json(reservedIpId(c.path.id));
          },
        }),
        action({
          method: 'PUT',
          access: may('ip-address', 'update'),
          form: form({ comment: field.text('A description of this reserved IP.', { maxLength: 255 }) }),
          doc: "Update a reserved IP's comment (its ip, MAC address and subnet cannot change: delete and recreate it).",
          async handle(c) {
            const id = reservedIpId(c.path.id);
            const row = await reservedIps.setComment(
              id,
              c.form.comment ?? (await reservedIps.get(id)).comment,
              ownerCheck(c),
            );
            return json(row.id);
          },
        }),
        action({
          method: 'DELETE',
          access: may('ip-address', 'delete'),
          doc: 'Delete a reserved IP: its MAC no longer gets the address from DHCP.',
          async handle(c) {
            await reservedIps.delete(reservedIpId(c.path.id), ownerCheck(c));
            return Reply.noContent();
          },
        }),
      ],
    },
  ];
}
