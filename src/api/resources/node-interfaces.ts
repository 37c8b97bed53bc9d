// MAAS's InterfacesHandler and InterfaceHandler under nodes/{system_id}/interfaces/, as gomaasapi
// calls them for devices: list, create_physical, read, update, delete, link_subnet,
// unlink_subnet. A machine's interfaces are listed and read here; changing them is a 400 until
// machines' interface editing lands.
import type { RegionServices } from '../../region/services';
import type { Principal } from '../../region/services/principal';
import { badRequest, field, form, pathId, Reply, type Resource } from '../http';
import { presentDeviceInterface } from '../presenters/device';
import { presentInterface } from '../presenters/machine-parts';
import { action, caller, may, type Ctx } from './access';
import { NotFoundError } from '../../region/errors';

const vlanField = () => field.int('The database id of the VLAN the interface is on.', { min: 0 });

const createPhysicalForm = form(
  {
    name: field.text('The name of the interface (default: the next free ethN).', { maxLength: 15 }),
    mac_address: field.text('The MAC address of the interface.', { required: true, maxLength: 64 }),
    vlan: vlanField(),
    tags: field.unsupported('interface tags are not stored yet'),
    mtu: field.unsupported('the MTU comes from the VLAN'),
    accept_ra: field.unsupported('IPv6 router advertisements are not configured for devices', 'Boolean'),
    autoconf: field.unsupported('IPv6 autoconfiguration is not configured for devices', 'Boolean'),
  },
  (v) => ({ name: v.name, macAddress: v.mac_address, vlan: v.vlan }),
);

const updateForm = form(
  {
    name: field.text('The new name of the interface.', { maxLength: 15 }),
    mac_address: field.text('The new MAC address of the interface.', { maxLength: 64 }),
    vlan: vlanField(),
  },
  (v) => ({ name: v.name, macAddress: v.mac_address, vlan: v.vlan }),
);

const linkForm = form(
  {
    mode: field.text('STATIC (with ip_address, or the lowest free address is picked), DHCP or LINK_UP.', {
      required: true,
      maxLength: 16,
    }),
    subnet: field.text('The subnet (id or CIDR); required but for LINK_UP.', { maxLength: 64 }),
    ip_address: field.text('STATIC only: the address to take; it must be free and outside every IP range.', {
      maxLength: 64,
    }),
    default_gateway: field.unsupported('devices take no gateway from metalflow', 'Boolean'),
  },
  (v) => ({ mode: v.mode, subnet: v.subnet, ipAddress: v.ip_address }),
);

const unlinkForm = form({ id: field.int('The id of the link to remove.', { min: 0 }) });

/** The interface id of the path; one that names no interface is a 404 before any query. */
function interfaceId(c: Ctx): number {
  const id = pathId(c.path.id);
  if (id === undefined) throw new NotFoundError('No Interface matches the given query.');
  return id;
}

export function nodeInterfaceResources(deps: {
  services: Pick<RegionServices, 'deviceInterfaces' | 'nodeInterfaces'>;
}): Array<Resource<Principal>> {
  const { deviceInterfaces, nodeInterfaces } = deps.services;
  const sid = (c: Ctx) => c.path.system_id!;
  const shown = (c: Ctx) => (i: Parameters<typeof presentDeviceInterface>[1]) => presentDeviceInterface(sid(c), i);
  return [
    {
      name: 'InterfacesHandler',
      path: '/nodes/{system_id}/interfaces/',
      doc: "Manage a node's interfaces: a device's; a machine's are read-only here.",
      actions: [
        action({
          method: 'GET',
          access: may('device', 'read'),
          doc: "List the node's interfaces.",
          async handle(c) {
            const node = await nodeInterfaces.of(caller(c), sid(c));
            if (node.kind === 'device') return node.interfaces.map(shown(c));
            const v = node.view;
            return v.interfaces.map((i) => presentInterface(v.machine.systemId, i, v.links?.get(i.id)));
          },
        }),
        action({
          method: 'POST',
          op: 'create_physical',
          access: may('device', 'update'),
          form: createPhysicalForm,
          doc: 'Create a physical interface on a device.',
          handle: async (c) =>
            shown(c)(
              await nodeInterfaces.change(caller(c), sid(c), () =>
                deviceInterfaces.createPhysical(caller(c), sid(c), c.form),
              ),
            ),
        }),
      ],
    },
    {
      name: 'InterfaceHandler',
      path: '/nodes/{system_id}/interfaces/{id}/',
      doc: "Manage a node's interface: a device's; a machine's is read-only here.",
      actions: [
        action({
          method: 'GET',
          access: may('device', 'read'),
          doc: 'Read an interface.',
          async handle(c) {
            const id = interfaceId(c);
            const node = await nodeInterfaces.of(caller(c), sid(c));
            if (node.kind === 'device') {
              const iface = node.interfaces.find((i) => i.id === id);
              if (!iface) throw new NotFoundError('No Interface matches the given query.');
              return shown(c)(iface);
            }
            const v = node.view;
            const iface = v.interfaces.find((i) => i.id === id);
            if (!iface) throw new NotFoundError('No Interface matches the given query.');
            return presentInterface(v.machine.systemId, iface, v.links?.get(iface.id));
          },
        }),
        action({
          method: 'PUT',
          access: may('device', 'update'),
          form: updateForm,
          doc: "Update a device's interface: name, MAC address, VLAN.",
          handle: async (c) =>
            shown(c)(
              await nodeInterfaces.change(caller(c), sid(c), () =>
                deviceInterfaces.update(caller(c), sid(c), interfaceId(c), c.form),
              ),
            ),
        }),
        action({
          method: 'DELETE',
          access: may('device', 'delete'),
          doc: "Delete a device's interface with its links and addresses.",
          handle: async (c) => {
            await nodeInterfaces.change(caller(c), sid(c), () =>
              deviceInterfaces.delete(caller(c), sid(c), interfaceId(c)),
            );
            return Reply.noContent();
          },
        }),
        action({
          method: 'POST',
          op: 'link_subnet',
          access: may('device', 'update'),
          form: linkForm,
          doc: "Link a device's interface to a subnet: STATIC (a given or the lowest free address), DHCP, or LINK_UP. AUTO is refused: it assigns an address at deploy, which a device never does.",
          handle: async (c) =>
            shown(c)(
              await nodeInterfaces.change(caller(c), sid(c), () =>
                deviceInterfaces.link(caller(c), sid(c), interfaceId(c), c.form),
              ),
            ),
        }),
        action({
          method: 'POST',
          op: 'unlink_subnet',
          access: may('device', 'update'),
          form: unlinkForm,
          doc: "Remove a link from a device's interface; a STATIC link's address is freed.",
          async handle(c) {
            const link = c.form.id;
            if (link === undefined) throw badRequest({ id: ['This field is required.'] });
            return shown(c)(
              await nodeInterfaces.change(caller(c), sid(c), () =>
                deviceInterfaces.unlink(caller(c), sid(c), interfaceId(c), link),
              ),
            );
          },
        }),
      ],
    },
  ];
}
