// MAAS's RackControllersHandler/RackControllerHandler: which racks exist, what they are attached
// to, and how their services (DHCP, TFTP, HTTP boot, worker) are doing; admins may remove one,
// drive its power (through its controller machine) and list the power types racks drive.
import { POWER_TYPES } from '../../contracts/power';
import type { RegionServices } from '../../region/services';
import type { Principal } from '../../region/services/principal';
import { field, form, notFound, Reply, type Resource } from '../http';
import { presentPowerType } from '../presenters/power-types';
import { presentRack } from '../presenters/rack';
import { action, caller, may } from './access';
import { powerOffForm, powerOnForm } from './machine-forms';

export function rackControllerResources(deps: {
  services: Pick<RegionServices, 'racks' | 'actions' | 'machines'>;
}): Array<Resource<Principal>> {
  const { racks, actions, machines } = deps.services;
  const rackOf = async (systemId: string | undefined) => {
    const rack = (await racks.list()).find((r) => r.systemId === systemId);
    if (!rack) throw notFound('No RackController matches the given query.');
    return rack;
  };
  /** power_on / power_off: the same request event and power path as machines', on the rack's host. */
  const powerAction = (power: 'on' | 'off', powerForm: typeof powerOnForm, doc: string) =>
    action({
      access: may('controller', 'update'),
      method: 'POST',
      op: `power_${power}`,
      form: powerForm,
      doc,
      async handle(c) {
        const rack = await rackOf(c.path.system_id);
        await actions.powerRack(caller(c), rack.systemId, power, c.form);
        return presentRack(rack);
      },
    });
  return [
    {
      name: 'RackControllersHandler',
      path: '/rackcontrollers/',
      doc: 'Rack controllers: DHCP, TFTP, HTTP boot and power for the machines they reach.',
      actions: [
        action({
          access: may('controller', 'read'),
          method: 'GET',
          doc: 'List rack controllers with their services (service_set).',
          async handle() {
            return (await racks.list()).map((r) => presentRack(r));
          },
        }),
        action({
          access: may('controller', 'update'),
          method: 'GET',
          op: 'describe_power_types',
          doc: 'The power types the rack controllers drive, with their parameter fields (admin only).',
          handle: async () => Object.values(POWER_TYPES).map(presentPowerType),
        }),
        action({
          access: may('controller', 'update'),
          method: 'GET',
          op: 'power_parameters',
          form: form({ id: field.list('Only these rack controllers (system_id).', { maxValues: 100 }) }),
          doc: 'Power parameters of the rack controllers (all, or those given by id), secrets included (admin only): a map of system_id to parameters.',
          handle: async (c) => machines.rackPowerParameters(c.form.id),
        }),
      ],
    },
    {
      name: 'RackControllerHandler',
      path: '/rackcontrollers/{system_id}/',
      doc: 'A rack controller.',
      actions: [
        action({
          access: may('controller', 'read'),
          method: 'GET',
          doc: 'A rack controller by system_id, with its services and interfaces.',
          async handle(c) {
            return presentRack(await rackOf(c.path.system_id));
          },
        }),
        powerAction(
          'on',
          powerOnForm,
          "Power on the rack controller's host through its BMC (admin only; a rack controller registers with power type manual until an admin sets one on its machine).",
        ),
        powerAction('off', powerOffForm, "Power off the rack controller's host through its BMC (admin only)."),
        action({
          access: may('controller', 'read'),
          method: 'GET',
          op: 'query_power_state',
          doc: 'Query the BMC of the rack controller\'s host: {"state": "on"|"off"|"unknown"|"error"}.',
          handle: async (c) => actions.powerRack(caller(c), c.path.system_id!, 'query'),
        }),
        action({
          access: may('controller', 'update'),
          method: 'GET',
          op: 'power_parameters',
          doc: "Power parameters of the rack controller's host, secrets included (admin only).",
          async handle(c) {
            const parameters = (await machines.rackPowerParameters([c.path.system_id!]))[c.path.system_id!];
            if (!parameters) throw notFound('No RackController matches the given query.');
            return parameters;
          },
        }),
        action({
          access: may('controller', 'delete'),
          method: 'DELETE',
          doc: 'Remove a rack controller (admin only). Its machine is unlocked, or deleted when it has no BMC (power type manual); machines it served move to another rack (or to none); a VLAN it was primary for gets its secondary as primary. A rack process still running registers again as a new rack.',
          async handle(c) {
            await racks.remove(c.path.system_id!);
            return Reply.noContent();
          },
        }),
      ],
    },
  ];
}
