// MAAS's FabricsHandler/FabricHandler and the VLAN handlers (`/fabrics/{fabric_id}/vlans/{vid}/`,
// and `/vlans/{id}/` by database id). Everyone reads; admins change. DHCP is switched on here:
// `PUT /fabrics/0/vlans/0/ dhcp_on=True primary_rack=<rack system_id>`.
import type { RegionServices } from '../../region/services';
import type { VlanInput } from '../../region/services/network/fabrics';
import type { Principal } from '../../region/services/principal';
import { field, form, notFound, pathId, Reply, type Resource } from '../http';
import { presentFabric, presentVlan } from '../presenters/network';
import { action, may } from './access';

const fabricForm = form({
  name: field.text('The name (default fabric-<id>).'),
  description: field.text('A description.', { maxLength: 10_000 }),
});
/** Sent empty, a rack field clears the rack; absent, it is left as it is. */
const rackField = (doc: string) => field.present(field.text(doc));
const vlanForm = form(
  {
    vid: field.int('The VLAN id (required to create one).'),
    name: field.text('The name.'),
    description: field.text('A description.', { maxLength: 10_000 }),
    mtu: field.int('The MTU.'),
    dhcp_on: field.bool('Serve DHCP on this VLAN (needs a primary rack and a dynamic range).'),
    primary_rack: rackField('The system_id of the rack that serves DHCP; empty clears it.'),
    secondary_rack: rackField('The system_id of the failover rack; empty clears it.'),
    space: field.present(field.text('The space (id or name) the VLAN is in; empty or "undefined" clears it.')),
  },
  (v): VlanInput => ({
    vid: v.vid,
    name: v.name,
    description: v.description,
    mtu: v.mtu,
    dhcpOn: v.dhcp_on,
    primaryRack: v.primary_rack === undefined ? undefined : (v.primary_rack ?? ''),
    secondaryRack: v.secondary_rack === undefined ? undefined : (v.secondary_rack ?? ''),
    space: v.space === undefined ? undefined : (v.space ?? ''),
  }),
);
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
        action({
          access: may('network', 'read'),
          method: 'GET',
          doc: 'List fabrics with their VLANs.',
          async handle() {
            const all = await fabrics.vlans();
            return (await fabrics.list()).map((f) => presentFabric(f, all));
          },
        }),
        action({
          access: may('network', 'create'),
          form: fabricForm,
          method: 'POST',
          doc: 'Create a fabric (admin only): name (default fabric-<id>), description. It gets an untagged VLAN.',
          async handle(c) {
            return fabricJson((await fabrics.create(c.form)).id);
          },
        }),
      ],
    },
    {
      name: 'FabricHandler',
      path: '/fabrics/{id}/',
      doc: 'Manage a fabric.',
      actions: [
        action({
          access: may('network', 'read'),
          method: 'GET',
          doc: 'A fabric by id.',
          async handle(c) {
            return fabricJson(int(c.path.id, 'Fabric'));
          },
        }),
        action({
          access: may('network', 'update'),
          form: fabricForm,
          method: 'PUT',
          doc: 'Update a fabric (admin only): name, description.',
          async handle(c) {
            return fabricJson((await fabrics.update(int(c.path.id, 'Fabric'), c.form)).id);
          },
        }),
        action({
          access: may('network', 'delete'),
          method: 'DELETE',
          doc: 'Delete a fabric (admin only); not fabric-0, not one with subnets.',
          async handle(c) {
            await fabrics.delete(int(c.path.id, 'Fabric'));
            return Reply.noContent();
          },
        }),
      ],
    },
    {
      name: 'VlansHandler',
      path: '/fabrics/{fabric_id}/vlans/',
      doc: 'Manage VLANs on a fabric.',
      actions: [
        action({
          access: may('network', 'read'),
          method: 'GET',
          doc: "A fabric's VLANs.",
          async handle(c) {
            const id = int(c.path.fabric_id, 'Fabric');
            await fabrics.get(id);
            return (await fabrics.vlans(id)).map(presentVlan);
          },
        }),
        action({
          access: may('network', 'create'),
          form: vlanForm,
          method: 'POST',
          doc: 'Create a VLAN (admin only): vid (required), name, mtu, description, space.',
          async handle(c) {
            return presentVlan(await vlans.create(int(c.path.fabric_id, 'Fabric'), c.form));
          },
        }),
      ],
    },
    {
      name: 'VlanHandler',
      path: '/fabrics/{fabric_id}/vlans/{vid}/',
      doc: 'Manage a VLAN on a fabric, by VID.',
      actions: [
        action({
          access: may('network', 'read'),
          method: 'GET',
          doc: 'A VLAN by fabric and VID.',
          async handle(c) {
            return presentVlan(await vlans.get(int(c.path.fabric_id, 'Fabric'), int(c.path.vid, 'VLAN')));
          },
        }),
        action({
          access: may('network', 'update'),
          form: vlanForm,
          method: 'PUT',
          doc: 'Update a VLAN (admin only): name, mtu, description, vid, dhcp_on, primary_rack, secondary_rack, space. DHCP needs a primary rack and a dynamic range.',
          async handle(c) {
            return presentVlan(await vlans.update(int(c.path.fabric_id, 'Fabric'), int(c.path.vid, 'VLAN'), c.form));
          },
        }),
        action({
          access: may('network', 'delete'),
          method: 'DELETE',
          doc: 'Delete a VLAN (admin only); not the untagged VLAN, not one with subnets.',
          async handle(c) {
            await vlans.delete(int(c.path.fabric_id, 'Fabric'), int(c.path.vid, 'VLAN'));
            return Reply.noContent();
          },
        }),
      ],
    },
    {
      name: 'VlanByIdHandler',
      path: '/vlans/{id}/',
      doc: 'A VLAN by its database id (the resource_uri of VLAN JSON).',
      actions: [
        action({
          access: may('network', 'read'),
          method: 'GET',
          doc: 'A VLAN by id.',
          async handle(c) {
            return presentVlan(await vlans.byId(int(c.path.id, 'VLAN')));
          },
        }),
        action({
          access: may('network', 'update'),
          form: vlanForm,
          method: 'PUT',
          doc: 'Update a VLAN by id (admin only); the same fields as on its fabric.',
          async handle(c) {
            const v = await vlans.byId(int(c.path.id, 'VLAN'));
            return presentVlan(await vlans.update(v.fabricId, v.vid, c.form));
          },
        }),
      ],
    },
  ];
}
