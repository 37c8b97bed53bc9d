// MAAS's InterfacesHandler and InterfaceHandler under nodes/{system_id}/interfaces/: a device's
// (as gomaasapi calls them: create_physical, update, delete, link_subnet, unlink_subnet) and a
// machine's in MAAS's network model (also create_bond, create_bridge, create_vlan, disconnect,
// set_default_gateway, add_tag, remove_tag: region/services/machine-network).
import type { RegionServices } from '../../region/services';
import type { Principal } from '../../region/services/principal';
import { badRequest, field, form, pathId, Reply, type Resource } from '../http';
import { presentDeviceInterface } from '../presenters/device';
import { presentInterface } from '../presenters/machine-parts';
import { action, caller, may, type Ctx } from './access';
import { NotFoundError } from '../../region/errors';
import type { MachineNic } from '../../region/services/machine-network/model';
import {
  createBondForm,
  createBridgeForm,
  createVlanForm,
  gatewayForm,
  machineLinkForm,
  machinePhysicalForm,
  machineUpdateForm,
  tagForm,
} from './machine-interface-forms';

const unlinkForm = form({ id: field.int('The id of the link to remove.', { min: 0 }) });

/** The interface id of the path; one that names no interface is a 404 before any query. */
function interfaceId(c: Ctx): number {
  const id = pathId(c.path.id);
  if (id === undefined) throw new NotFoundError('No Interface matches the given query.');
  return id;
}

function apiName(key: string): string {
  return key.replace(/[A-Z]/g, (ch) => `_${ch.toLowerCase()}`);
}

export function nodeInterfaceResources(deps: {
  services: Pick<RegionServices, 'deviceInterfaces' | 'nodeInterfaces' | 'machineInterfaces' | 'machineLinks'>;
}): Array<Resource<Principal>> {
  const { deviceInterfaces, nodeInterfaces, machineInterfaces, machineLinks } = deps.services;
  const sid = (c: Ctx) => c.path.system_id!;
  const shown = (c: Ctx) => (i: Parameters<typeof presentDeviceInterface>[1]) => presentDeviceInterface(sid(c), i);
  const nic = (c: Ctx) => (n: MachineNic) => presentInterface(sid(c), n, [], n);
  /** Whether the node is a device (else a machine the caller sees; else 404). */
  const isDevice = async (c: Ctx) => (await nodeInterfaces.of(caller(c), sid(c))).kind === 'device';
  const onMachine = async (c: Ctx) => {
    if (await isDevice(c)) throw new NotFoundError('No Machine matches the given query.');
  };
  return [
    {
      name: 'InterfacesHandler',
      path: '/nodes/{system_id}/interfaces/',
      doc: "Manage a node's interfaces: a device's, or a machine's (bonds, bridges, VLAN interfaces).",
      actions: [
        action({
          method: 'GET',
          access: may('device', 'read'),
          doc: "List the node's interfaces.",
          async handle(c) {
            const node = await nodeInterfaces.of(caller(c), sid(c));
            if (node.kind === 'device') return node.interfaces.map(shown(c));
            const v = node.view;
            return v.interfaces.map((i) =>
              presentInterface(v.machine.systemId, i, v.links?.get(i.id), v.nics?.get(i.id)),
            );
          },
        }),
        action({
          method: 'POST',
          op: 'create_physical',
          access: may('device', 'update'),
          form: machinePhysicalForm,
          doc: 'Create a physical interface on a device or (admins; New, Ready, Allocated or Broken) a machine.',
          async handle(c) {
            if (!(await isDevice(c))) return nic(c)(await machineInterfaces.createPhysical(caller(c), sid(c), c.form));
            if (c.form.tags !== undefined) throw badRequest({ tags: ["a device's interfaces carry no tags"] });
            if (c.form.mtu !== undefined) throw badRequest({ mtu: ['the MTU comes from the VLAN'] });
            return shown(c)(await deviceInterfaces.createPhysical(caller(c), sid(c), c.form));
          },
        }),
        action({
          method: 'POST',
          op: 'create_bond',
          access: may('machine', 'read'),
          form: createBondForm,
          doc: "Create a bond of a machine's physical interfaces (MAAS's bond modes and parameters). Admins; New, Ready, Allocated or Broken machines.",
          handle: async (c) => (
            await onMachine(c),
            nic(c)(await machineInterfaces.createBond(caller(c), sid(c), c.form))
          ),
        }),
        action({
          method: 'POST',
          op: 'create_bridge',
          access: may('machine', 'read'),
          form: createBridgeForm,
          doc: "Create a bridge on one of a machine's interfaces, which moves its links to the bridge.",
          handle: async (c) => (
            await onMachine(c),
            nic(c)(await machineInterfaces.createBridge(caller(c), sid(c), c.form))
          ),
        }),
        action({
          method: 'POST',
          op: 'create_vlan',
          access: may('machine', 'read'),
          form: createVlanForm,
          doc: "Create a VLAN interface: a tagged VLAN on the fabric of its parent's VLAN.",
          handle: async (c) => (
            await onMachine(c),
            nic(c)(await machineInterfaces.createVlan(caller(c), sid(c), c.form))
          ),
        }),
      ],
    },
    {
      name: 'InterfaceHandler',
      path: '/nodes/{system_id}/interfaces/{id}/',
      doc: "Manage a node's interface: a device's, or a machine's in MAAS's network model.",
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
            return presentInterface(v.machine.systemId, iface, v.links?.get(iface.id), v.nics?.get(iface.id));
          },
        }),
        action({
          method: 'PUT',
          access: may('device', 'update'),
          form: machineUpdateForm,
          doc: "Update an interface. A device's: name, mac_address, vlan. A machine's: the fields of its type (MAAS's forms); on a Deployed machine only name and mac_address.",
          async handle(c) {
            if (!(await isDevice(c)))
              return nic(c)(await machineInterfaces.update(caller(c), sid(c), interfaceId(c), c.form));
            const other = Object.entries(c.form).find(
              ([k, v]) => v !== undefined && !['name', 'macAddress', 'vlan'].includes(k),
            );
            if (other)
              throw badRequest({
                [apiName(other[0])]: ["A device's interface takes name, mac_address and vlan only."],
              });
            return shown(c)(await deviceInterfaces.update(caller(c), sid(c), interfaceId(c), c.form));
          },
        }),
        action({
          method: 'DELETE',
          access: may('device', 'delete'),
          doc: "Delete an interface with its links and addresses (a machine's: also the VLAN interfaces, bonds and bridges left without a parent).",
          handle: async (c) => {
            if (await isDevice(c)) await deviceInterfaces.delete(caller(c), sid(c), interfaceId(c));
            else await machineInterfaces.delete(caller(c), sid(c), interfaceId(c));
            return Reply.noContent();
          },
        }),
        action({
          method: 'POST',
          op: 'link_subnet',
          access: may('device', 'update'),
          form: machineLinkForm,
          doc: "Link an interface to a subnet. A machine's: AUTO (an address assigned at deploy), STATIC (ip_address, or the lowest free one), DHCP, LINK_UP; default_gateway, force. A device's: STATIC, DHCP or LINK_UP.",
          async handle(c) {
            if (!(await isDevice(c))) return nic(c)(await machineLinks.link(caller(c), sid(c), interfaceId(c), c.form));
            if (c.form.defaultGateway !== undefined)
              throw badRequest({ default_gateway: ['devices take no gateway from metalflow'] });
            if (c.form.force !== undefined) throw badRequest({ force: ["a device's links are not forced"] });
            return shown(c)(await deviceInterfaces.link(caller(c), sid(c), interfaceId(c), c.form));
          },
        }),
        action({
          method: 'POST',
          op: 'unlink_subnet',
          access: may('device', 'update'),
          form: unlinkForm,
          doc: "Remove a link from an interface; a STATIC link's address is freed.",
          async handle(c) {
            const link = c.form.id;
            if (!(await isDevice(c))) return nic(c)(await machineLinks.unlink(caller(c), sid(c), interfaceId(c), link));
            if (link === undefined) throw badRequest({ id: ['This field is required.'] });
            return shown(c)(await deviceInterfaces.unlink(caller(c), sid(c), interfaceId(c), link));
          },
        }),
        action({
          method: 'POST',
          op: 'set_default_gateway',
          access: may('device', 'update'),
          form: gatewayForm,
          doc: "Make the gateway of one of a machine interface's AUTO or STATIC links the machine's default gateway (link_id when several share a family).",
          handle: async (c) => (
            await onMachine(c),
            nic(c)(await machineLinks.setDefaultGateway(caller(c), sid(c), interfaceId(c), c.form.link_id))
          ),
        }),
        action({
          method: 'POST',
          op: 'disconnect',
          access: may('device', 'update'),
          doc: "Disconnect a machine's interface: its links and addresses go, and it is on no VLAN.",
          handle: async (c) => (
            await onMachine(c),
            nic(c)(await machineInterfaces.disconnect(caller(c), sid(c), interfaceId(c)))
          ),
        }),
        action({
          method: 'POST',
          op: 'add_tag',
          access: may('device', 'update'),
          form: tagForm,
          doc: "Add a tag to a machine's interface.",
          handle: async (c) => (
            await onMachine(c),
            nic(c)(await machineInterfaces.tag(caller(c), sid(c), interfaceId(c), c.form.tag, true))
          ),
        }),
        action({
          method: 'POST',
          op: 'remove_tag',
          access: may('device', 'update'),
          form: tagForm,
          doc: "Remove a tag from a machine's interface.",
          handle: async (c) => (
            await onMachine(c),
            nic(c)(await machineInterfaces.tag(caller(c), sid(c), interfaceId(c), c.form.tag, false))
          ),
        }),
      ],
    },
  ];
}
