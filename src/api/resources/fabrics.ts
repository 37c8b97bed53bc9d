// MAAS's FabricsHandler/FabricHandler and the VLAN handlers (`/fabrics/{fabric_id}/vlans/{vid}/`,
// and `/vlans/{id}/` by database id). Everyone reads; admins change. DHCP is switched on here:
// `PUT /fabrics/0/vlans/0/ dhcp_on=True primary_rack=<rack system_id>`.
import type { RegionServices } from '../../region/services';
import type { VlanInput } from '../../region/services/network/fabrics';
import type { Principal } from '../../region/services/principal';
import { notFound, pathId, Reply, type Params, type Resource } from '../http';
import { presentFabric, presentVlan } from '../presenters/network';
import { adminOf, userOf } from './access';

const fabricForm = (p: Params) => ({
  name: p.string('name'),
  description: p.string('description', { maxLength: 10_000 }),
});
const vlanForm = (p: Params): VlanInput => ({
  vid: p.int('vid'),
  name: p.string('name'),
  description: p.string('description', { maxLength: 10_000 }),
  mtu: p.int('mtu'),
  dhcpOn: p.bool('dhcp_on'),
  primaryRack: p.has('primary_rack') ? (p.string('primary_rack') ?? '') : undefined,
  secondaryRack: p.has('secondary_rack') ? (p.string('secondary_rack') ?? '') : undefined,
});
const int = (value: string | undefined, what: string): number => {
  const id = pathId(value);
  if (id === undefined) throw notFound(`No ${what} matches the given query.`);
  return id;
};

export function fabricResources(deps: {
  services: Pick<RegionServices, 'fabrics' | 'vlans'>;
}): Array<Resource<Principal>> {
  const { fabrics, vlans } = deps.services;
  const fabricJson = async (id: number) => presentFabric(await fabrics.get(id), await fabrics.vlans(id));
  return [
    {
      name: 'FabricsHandler',
      path: '/fabrics/',
      doc: 'Manage fabrics.',
      actions: [
        {
          method: 'GET',
          doc: 'List fabrics with their VLANs.',
          async handle(c) {
            userOf(c);
            const all = await fabrics.vlans();
            return (await fabrics.list()).map((f) => presentFabric(f, all));
          },
        },
        {
          method: 'POST',
          doc: 'Create a fabric (admin only): name (default fabric-<id>), description. It gets an untagged VLAN.',
          async handle(c) {
            adminOf(c);
            return fabricJson((await fabrics.create(fabricForm(c.params))).id);
          },
        },
      ],
    },
    {
      name: 'FabricHandler',
      path: '/fabrics/{id}/',
      doc: 'Manage a fabric.',
      actions: [
        {
          method: 'GET',
          doc: 'A fabric by id.',
          async handle(c) {
            userOf(c);
            return fabricJson(int(c.path.id, 'Fabric'));
          },
        },
        {
          method: 'PUT',
          doc: 'Update a fabric (admin only): name, description.',
          async handle(c) {
            adminOf(c);
            return fabricJson((await fabrics.update(int(c.path.id, 'Fabric'), fabricForm(c.params))).id);
          },
        },
        {
          method: 'DELETE',
          doc: 'Delete a fabric (admin only); not fabric-0, not one with subnets.',
          async handle(c) {
            adminOf(c);
            await fabrics.delete(int(c.path.id, 'Fabric'));
            return Reply.noContent();
          },
        },
      ],
    },
    {
      name: 'VlansHandler',
      path: '/fabrics/{fabric_id}/vlans/',
      doc: 'Manage VLANs on a fabric.',
      actions: [
        {
          method: 'GET',
          doc: "A fabric's VLANs.",
          async handle(c) {
            userOf(c);
            const id = int(c.path.fabric_id, 'Fabric');
            await fabrics.get(id);
            return (await fabrics.vlans(id)).map(presentVlan);
          },
        },
        {
          method: 'POST',
          doc: 'Create a VLAN (admin only): vid (required), name, mtu, description.',
          async handle(c) {
            adminOf(c);
            return presentVlan(await vlans.create(int(c.path.fabric_id, 'Fabric'), vlanForm(c.params)));
          },
        },
      ],
    },
    {
      name: 'VlanHandler',
      path: '/fabrics/{fabric_id}/vlans/{vid}/',
      doc: 'Manage a VLAN on a fabric, by VID.',
      actions: [
        {
          method: 'GET',
          doc: 'A VLAN by fabric and VID.',
          async handle(c) {
            userOf(c);
            return presentVlan(await vlans.get(int(c.path.fabric_id, 'Fabric'), int(c.path.vid, 'VLAN')));
          },
        },
        {
          method: 'PUT',
          doc: 'Update a VLAN (admin only): name, mtu, description, vid, dhcp_on, primary_rack, secondary_rack. DHCP needs a primary rack and a dynamic range.',
          async handle(c) {
            adminOf(c);
            return presentVlan(
              await vlans.update(int(c.path.fabric_id, 'Fabric'), int(c.path.vid, 'VLAN'), vlanForm(c.params)),
            );
          },
        },
        {
          method: 'DELETE',
          doc: 'Delete a VLAN (admin only); not the untagged VLAN, not one with subnets.',
          async handle(c) {
            adminOf(c);
            await vlans.delete(int(c.path.fabric_id, 'Fabric'), int(c.path.vid, 'VLAN'));
            return Reply.noContent();
          },
        },
      ],
    },
    {
      name: 'VlanByIdHandler',
      path: '/vlans/{id}/',
      doc: 'A VLAN by its database id (the resource_uri of VLAN JSON).',
      actions: [
        {
          method: 'GET',
          doc: 'A VLAN by id.',
          async handle(c) {
            userOf(c);
            return presentVlan(await vlans.byId(int(c.path.id, 'VLAN')));
          },
        },
        {
          method: 'PUT',
          doc: 'Update a VLAN by id (admin only); the same fields as on its fabric.',
          async handle(c) {
            adminOf(c);
            const v = await vlans.byId(int(c.path.id, 'VLAN'));
            return presentVlan(await vlans.update(v.fabricId, v.vid, vlanForm(c.params)));
          },
        },
      ],
    },
  ];
}
