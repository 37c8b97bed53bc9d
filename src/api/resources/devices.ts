// MAAS's DevicesHandler and DeviceHandler: non-deployable nodes, such as the containers Juju
// registers on a machine it holds (`parent`). Access rule → form → one DeviceService call
// (visibility, policy, work) → presenter.
import type { RegionServices } from '../../region/services';
import type { Principal } from '../../region/services/principal';
import { MAX_MACS_PER_MACHINE } from '../../region/services/machine-validation';
import { field, form, Reply, type Resource } from '../http';
import { presentDevice } from '../presenters/device';
import { action, caller, may } from './access';

/** How many values one filter of the device listing takes. */
export const DEVICE_FILTER_MAX_VALUES = 1_000;

const filterForm = form(
  {
    hostname: field.list('Only devices with this hostname.', { maxValues: DEVICE_FILTER_MAX_VALUES }),
    mac_address: field.list('Only devices with an interface with this MAC address.', {
      maxValues: DEVICE_FILTER_MAX_VALUES,
    }),
    id: field.list('Only the device with this system_id.', { maxValues: DEVICE_FILTER_MAX_VALUES }),
    domain: field.text('Only devices in this domain.', { maxLength: 255 }),
    zone: field.text('Only devices in this zone.', { maxLength: 255 }),
    pool: field.text('Only devices in this resource pool (devices belong to none, so this matches none).', {
      maxLength: 255,
    }),
    agent_name: field.text('Only devices with this agent name.', { maxLength: 255 }),
  },
  (v) => ({
    hostname: v.hostname,
    macAddress: v.mac_address,
    id: v.id,
    domain: v.domain,
    zone: v.zone,
    pool: v.pool,
    agentName: v.agent_name,
  }),
);

const common = {
  hostname: field.text('The hostname of the device.', { maxLength: 63 }),
  description: field.text('A description of the device.', { maxLength: 10_000 }),
  domain: field.text("The device's DNS domain (an existing one; see domains/); default: the default domain.", {
    maxLength: 255,
  }),
  parent: field.text(
    'The system_id of the parent machine, one allocated to the caller (admins: any); the device goes when the machine is released or deleted. Empty: no parent.',
    { maxLength: 6 },
  ),
  zone: field.text('The name of the zone the device is in (default: default).', { maxLength: 255 }),
};

const createForm = form(
  {
    ...common,
    hostname: field.text('A hostname; generated when not given.', { maxLength: 63 }),
    mac_addresses: field.list('A MAC address of the device (one or more).', {
      required: true,
      maxValues: MAX_MACS_PER_MACHINE,
    }),
  },
  (v) => ({ ...v, macAddresses: v.mac_addresses }),
);

const updateForm = form(common);

const annotationsForm = form(
  { '': field.prefixed('A workload annotation key=value; an empty value removes the key.') },
  (v) => {
    const { op: _op, ...annotations } = v[''];
    return annotations;
  },
);

export function deviceResources(deps: { services: Pick<RegionServices, 'devices'> }): Array<Resource<Principal>> {
  const { devices } = deps.services;
  const id = (c: { path: Record<string, string> }) => c.path.system_id!;
  return [
    {
      name: 'DevicesHandler',
      path: '/devices/',
      doc: 'Manage the collection of all the devices in the MAAS.',
      actions: [
        action({
          method: 'GET',
          access: may('device', 'read'),
          form: filterForm,
          doc: 'List the devices visible to the caller, ordered by id, optionally filtered.',
          handle: async (c) => (await devices.list(caller(c), c.form)).map(presentDevice),
        }),
        action({
          method: 'POST',
          access: may('device', 'create'),
          form: createForm,
          doc: 'Create a device owned by the caller, with one interface per MAC address (eth0, eth1, …).',
          handle: async (c) => presentDevice(await devices.create(caller(c), c.form)),
        }),
      ],
    },
    {
      name: 'DeviceHandler',
      path: '/devices/{system_id}/',
      doc: 'Manage an individual device. The device is identified by its system_id.',
      actions: [
        action({
          method: 'GET',
          access: may('device', 'read'),
          doc: 'Read a device.',
          handle: async (c) => presentDevice(await devices.read(caller(c), id(c))),
        }),
        action({
          method: 'PUT',
          access: may('device', 'update'),
          form: updateForm,
          doc: "Update a device (its owner, the parent machine's owner, or an admin).",
          handle: async (c) => presentDevice(await devices.update(caller(c), id(c), c.form)),
        }),
        action({
          method: 'DELETE',
          access: may('device', 'delete'),
          doc: 'Delete a device, its interfaces and their addresses.',
          handle: async (c) => (await devices.delete(caller(c), id(c)), Reply.noContent()),
        }),
        action({
          method: 'POST',
          op: 'set_workload_annotations',
          access: may('device', 'update'),
          form: annotationsForm,
          doc: 'Set workload annotations: key=value pairs; an empty value removes the key.',
          handle: async (c) => presentDevice(await devices.annotate(caller(c), id(c), c.form)),
        }),
        // The earlier name, which clients written for MAAS 2.x still send.
        action({
          method: 'POST',
          op: 'set_owner_data',
          access: may('device', 'update'),
          form: annotationsForm,
          doc: 'Set owner data (the earlier name of workload annotations): key=value pairs; an empty value removes the key.',
          handle: async (c) => presentDevice(await devices.annotate(caller(c), id(c), c.form)),
        }),
      ],
    },
  ];
}
