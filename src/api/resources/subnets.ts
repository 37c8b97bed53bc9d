// MAAS's SubnetsHandler/SubnetHandler (`/subnets/{id}/`, id or CIDR) and IPRangesHandler/
// IPRangeHandler (`/ipranges/{id}/`). Everyone reads; admins change subnets; any user may create
// ranges (MAAS lets users reserve ranges), only admins create dynamic ones.
import type { RegionServices } from '../../region/services';
import type { IpRangeInput } from '../../region/services/network/ip-ranges';
import type { SubnetInput } from '../../region/services/network/subnets';
import type { Principal } from '../../region/services/principal';
import { forbidden, notFound, pathId, Reply, type Params, type Resource } from '../http';
import { presentIpRange, presentSubnet } from '../presenters/network';
import { adminOf, userOf, type Ctx } from './access';
import { networkView } from './network-view';

const subnetForm = (p: Params): SubnetInput => ({
  cidr: p.string('cidr'),
  name: p.string('name'),
  description: p.string('description', { maxLength: 10_000 }),
  vlan: p.int('vlan'),
  fabric: p.int('fabric'),
  vid: p.int('vid'),
  gatewayIp: p.has('gateway_ip') ? (p.string('gateway_ip') ?? '') : undefined,
  dnsServers: p.has('dns_servers') ? p.list('dns_servers') : undefined,
  managed: p.bool('managed'),
});
const rangeForm = (p: Params): IpRangeInput => ({
  type: p.string('type'),
  startIp: p.string('start_ip'),
  endIp: p.string('end_ip'),
  subnet: p.string('subnet'),
  comment: p.string('comment', { maxLength: 10_000 }),
});
const rangeId = (value: string | undefined): number => {
  const id = pathId(value);
  if (id === undefined) throw notFound('No IPRange matches the given query.');
  return id;
};

export function subnetResources(deps: {
  services: Pick<RegionServices, 'fabrics' | 'subnets' | 'ipRanges'>;
}): Array<Resource<Principal>> {
  const { services } = deps;
  const { subnets, ipRanges } = services;
  const subnetJson = async (key: string | number) => {
    const s = await subnets.get(key);
    return presentSubnet(s, (await networkView(services, false)).vlan(s.vlanId));
  };
  /** Users change only their own reserved ranges (and may not make them dynamic); admins any. */
  const changeableRange = async (c: Ctx, newType?: string): Promise<number> => {
    const user = userOf(c);
    const id = rangeId(c.path.id);
    const current = await ipRanges.get(id);
    if (!user.isSuperuser && (current.userId !== user.id || current.type === 'dynamic' || newType === 'dynamic')) {
      throw forbidden('Only administrators can change or delete this IP range.');
    }
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
        {
          method: 'GET',
          doc: 'List subnets.',
          async handle(c) {
            userOf(c);
            const view = await networkView(services, false);
            return (await subnets.list()).map((s) => presentSubnet(s, view.vlan(s.vlanId)));
          },
        },
        {
          method: 'POST',
          doc: "Create a subnet (admin only): cidr (required), name, description, vlan (id) or fabric + vid (default fabric-0's untagged VLAN), gateway_ip, dns_servers, managed.",
          async handle(c) {
            adminOf(c);
            return subnetJson((await subnets.create(subnetForm(c.params))).id);
          },
        },
      ],
    },
    {
      name: 'SubnetHandler',
      path: '/subnets/{id}/',
      doc: 'Manage a subnet, by id or CIDR.',
      actions: [
        {
          method: 'GET',
          doc: 'A subnet by id or CIDR.',
          async handle(c) {
            userOf(c);
            return subnetJson(c.path.id!);
          },
        },
        {
          method: 'PUT',
          doc: 'Update a subnet (admin only): name, description, vlan, gateway_ip, dns_servers, managed. The CIDR cannot change.',
          async handle(c) {
            adminOf(c);
            return subnetJson((await subnets.update(c.path.id!, subnetForm(c.params))).id);
          },
        },
        {
          method: 'DELETE',
          doc: 'Delete a subnet and its ranges (admin only).',
          async handle(c) {
            adminOf(c);
            await subnets.delete(c.path.id!);
            return Reply.noContent();
          },
        },
      ],
    },
    {
      name: 'IPRangesHandler',
      path: '/ipranges/',
      doc: 'Manage IP ranges: dynamic (the DHCP pool) and reserved (never handed out).',
      actions: [
        {
          method: 'GET',
          doc: 'List IP ranges.',
          async handle(c) {
            userOf(c);
            const view = await networkView(services);
            return (await ipRanges.list()).map((r) => presentIpRange(r, view.subnet(r.subnetId)));
          },
        },
        {
          method: 'POST',
          doc: 'Create a range: type (dynamic|reserved), start_ip, end_ip, subnet (id or CIDR; found from start_ip if omitted), comment. Dynamic ranges are admin only.',
          async handle(c) {
            const user = userOf(c);
            const form = rangeForm(c.params);
            if (form.type === 'dynamic' && !user.isSuperuser)
              throw forbidden('Only administrators can create dynamic IP ranges.');
            return rangeJson((await ipRanges.create(form, user.id)).id);
          },
        },
      ],
    },
    {
      name: 'IPRangeHandler',
      path: '/ipranges/{id}/',
      doc: 'Manage an IP range.',
      actions: [
        {
          method: 'GET',
          doc: 'An IP range by id.',
          async handle(c) {
            userOf(c);
            return rangeJson(rangeId(c.path.id));
          },
        },
        {
          method: 'PUT',
          doc: 'Update a range: type, start_ip, end_ip, comment. Users may change their own reserved ranges; admins any.',
          async handle(c) {
            const id = await changeableRange(c, c.params.get('type'));
            return rangeJson((await ipRanges.update(id, rangeForm(c.params))).id);
          },
        },
        {
          method: 'DELETE',
          doc: 'Delete a range. Users may delete their own reserved ranges; admins any.',
          async handle(c) {
            await ipRanges.delete(await changeableRange(c));
            return Reply.noContent();
          },
        },
      ],
    },
  ];
}
