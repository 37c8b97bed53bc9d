// MAAS's SubnetsHandler/SubnetHandler (`/subnets/{id}/`, id or CIDR) and IPRangesHandler/
// IPRangeHandler (`/ipranges/{id}/`). Everyone reads; admins change subnets; any user may create
// ranges (MAAS lets users reserve ranges), only admins create dynamic ones.
import type { RegionServices } from '../../region/services';
import type { IpRangeInput } from '../../region/services/network/ip-ranges';
import type { SubnetInput } from '../../region/services/network/subnets';
import type { Principal } from '../../region/services/principal';
import { authorizeIpRange } from '../../region/policy';
import { field, form, notFound, pathId, Reply, type Resource } from '../http';
import { presentRange, presentStatistics, presentSubnetAddress } from '../presenters/ipam';
import { presentIpRange, presentSubnet } from '../presenters/network';
import { action, caller, may, type Ctx } from './access';
import { networkView } from './network-view';

const subnetForm = form(
  {
    cidr: field.text('The network, e.g. 10.0.0.0/24 (required to create; it cannot change).'),
    name: field.text('The name.'),
    description: field.text('A description.', { maxLength: 10_000 }),
    vlan: field.int("The VLAN's id (default: fabric-0's untagged VLAN)."),
    fabric: field.int('With vid: the fabric of the VLAN.'),
    vid: field.int('With fabric: the VID of the VLAN.'),
    gateway_ip: field.present(field.text('The gateway; empty clears it.')),
    dns_servers: field.present(field.list('A DNS server; sent empty, clears them.')),
    managed: field.bool('Whether MAAS manages addresses on it.'),
  },
  (v): SubnetInput => ({
    cidr: v.cidr,
    name: v.name,
    description: v.description,
    vlan: v.vlan,
    fabric: v.fabric,
    vid: v.vid,
    gatewayIp: v.gateway_ip === undefined ? undefined : (v.gateway_ip ?? ''),
    dnsServers: v.dns_servers,
    managed: v.managed,
  }),
);
const rangeForm = form(
  {
    type: field.text('dynamic (the DHCP pool; admins) or reserved (never handed out).'),
    start_ip: field.text('The first address.'),
    end_ip: field.text('The last address.'),
    subnet: field.text('The subnet, by id or CIDR (found from start_ip if omitted).'),
    comment: field.text('A comment.', { maxLength: 10_000 }),
  },
  (v): IpRangeInput => ({
    type: v.type,
    startIp: v.start_ip,
    endIp: v.end_ip,
    subnet: v.subnet,
    comment: v.comment,
  }),
);
const rangeId = (value: string | undefined): number => {
  const id = pathId(value);
  if (id === undefined) throw notFound('No IPRange matches the given query.');
  return id;
};

export function subnetResources(deps: {
  services: Pick<RegionServices, 'fabrics' | 'subnets' | 'ipRanges' | 'subnetUsage'>;
}): Array<Resource<Principal>> {
  const { services } = deps;
  const { subnets, ipRanges, subnetUsage } = services;
  const subnetJson = async (key: string | number) => {
    const s = await subnets.get(key);
    return presentSubnet(s, (await networkView(services, false)).vlan(s.vlanId));
  };
  /** Users change only their own reserved ranges (and may not make them dynamic); admins any. */
  const changeableRange = async (c: Ctx, newType?: string): Promise<number> => {
    const id = rangeId(c.path.id);
    authorizeIpRange(caller(c), await ipRanges.get(id), newType);
    return id;
  };
  const rangeJson = async (id: number) => {
    const r = await ipRanges.get(id);
    return presentIpRange(r, (await networkView(services)).subnet(r.subnetId));
  };
  return [
    {
      name: 'SubnetsHandler',
      path: '/subnets/',
      doc: 'Manage subnets.',
      actions: [
        action({
          access: may('network', 'read'),
          method: 'GET',
          doc: 'List subnets.',
          async handle() {
            const view = await networkView(services, false);
            return (await subnets.list()).map((s) => presentSubnet(s, view.vlan(s.vlanId)));
          },
        }),
        action({
          access: may('network', 'create'),
          form: subnetForm,
          method: 'POST',
          doc: "Create a subnet (admin only): cidr (required), name, description, vlan (id) or fabric + vid (default fabric-0's untagged VLAN), gateway_ip, dns_servers, managed.",
          async handle(c) {
            return subnetJson((await subnets.create(c.form)).id);
          },
        }),
      ],
    },
    {
      name: 'SubnetHandler',
      path: '/subnets/{id}/',
      cidrPlaceholders: ['id'],
      doc: 'Manage a subnet, by id or CIDR.',
      actions: [
        action({
          access: may('network', 'read'),
          method: 'GET',
          doc: 'A subnet by id or CIDR.',
          async handle(c) {
            return subnetJson(c.path.id!);
          },
        }),
        action({
          access: may('network', 'update'),
          form: subnetForm,
          method: 'PUT',
          doc: 'Update a subnet (admin only): name, description, vlan, gateway_ip, dns_servers, managed. The CIDR cannot change.',
          async handle(c) {
            return subnetJson((await subnets.update(c.path.id!, c.form)).id);
          },
        }),
        action({
          access: may('network', 'read'),
          method: 'GET',
          op: 'ip_addresses',
          form: form({
            with_username: field.bool("Whether to show each address's user (default true)."),
            with_summary: field.bool('Whether to show the node holding each address (default true).'),
            with_node_summary: field.bool('Deprecated: with_summary.'),
          }),
          doc: 'The addresses held on the subnet (machines, devices, reservations, DHCP leases) with their user and node.',
          async handle(c) {
            const o = {
              withUsername: c.form.with_username ?? true,
              withSummary: (c.form.with_summary ?? true) && c.form.with_node_summary !== false,
            };
            return (await subnetUsage.addresses(c.path.id!, caller(c))).map((a) => presentSubnetAddress(a, o));
          },
        }),
        action({
          access: may('network', 'read'),
          method: 'GET',
          op: 'statistics',
          form: form({
            include_ranges: field.bool("Whether to include the subnet's ranges and their purposes."),
            include_suggestions: field.bool('Whether to include a suggested gateway and dynamic range.'),
          }),
          doc: "The subnet's usage: available and unavailable addresses, the largest free block, optionally its ranges and suggestions.",
          async handle(c) {
            return presentStatistics(await subnetUsage.statistics(c.path.id!), {
              includeRanges: c.form.include_ranges ?? false,
              includeSuggestions: c.form.include_suggestions ?? false,
            });
          },
        }),
        action({
          access: may('network', 'read'),
          method: 'GET',
          op: 'reserved_ip_ranges',
          doc: 'The ranges in use on the subnet, each with its purposes (gateway-ip, dns-server, dynamic, reserved, assigned-ip, …).',
          async handle(c) {
            const { version, ranges } = await subnetUsage.reservedRanges(c.path.id!);
            return ranges.map((r) => presentRange(r, version));
          },
        }),
        action({
          access: may('network', 'read'),
          method: 'GET',
          op: 'unreserved_ip_ranges',
          doc: 'The free ranges of the subnet.',
          async handle(c) {
            const { version, ranges } = await subnetUsage.unreservedRanges(c.path.id!);
            return ranges.map((r) => presentRange(r, version, false));
          },
        }),
        action({
          access: may('network', 'delete'),
          method: 'DELETE',
          doc: 'Delete a subnet and its ranges (admin only).',
          async handle(c) {
            await subnets.delete(c.path.id!);
            return Reply.noContent();
          },
        }),
      ],
    },
    {
      name: 'IPRangesHandler',
      path: '/ipranges/',
      doc: 'Manage IP ranges: dynamic (the DHCP pool) and reserved (never handed out).',
      actions: [
        action({
          access: may('ip-range', 'read'),
          method: 'GET',
          doc: 'List IP ranges.',
          async handle() {
            const view = await networkView(services);
            return (await ipRanges.list()).map((r) => presentIpRange(r, view.subnet(r.subnetId)));
          },
        }),
        action({
          access: may('ip-range', 'create'),
          form: rangeForm,
          method: 'POST',
          doc: 'Create a range: type (dynamic|reserved), start_ip, end_ip, subnet (id or CIDR; found from start_ip if omitted), comment. Dynamic ranges are admin only.',
          async handle(c) {
            const p = caller(c);
            authorizeIpRange(p, null, c.form.type);
            return rangeJson((await ipRanges.create(c.form, p.user.id)).id);
          },
        }),
      ],
    },
    {
      name: 'IPRangeHandler',
      path: '/ipranges/{id}/',
      doc: 'Manage an IP range.',
      actions: [
        action({
          access: may('ip-range', 'read'),
          method: 'GET',
          doc: 'An IP range by id.',
          async handle(c) {
            return rangeJson(rangeId(c.path.id));
          },
        }),
        action({
          access: may('ip-range', 'update'),
          form: rangeForm,
          method: 'PUT',
          doc: 'Update a range: type, start_ip, end_ip, comment. Users may change their own reserved ranges; admins any.',
          async handle(c) {
            const id = await changeableRange(c, c.form.type);
            return rangeJson((await ipRanges.update(id, c.form)).id);
          },
        }),
        action({
          access: may('ip-range', 'delete'),
          method: 'DELETE',
          doc: 'Delete a range. Users may delete their own reserved ranges; admins any.',
          async handle(c) {
            await ipRanges.delete(await changeableRange(c));
            return Reply.noContent();
          },
        }),
      ],
    },
  ];
}
