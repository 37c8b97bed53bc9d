// MAAS's NodesHandler and NodeHandler over metalflow's nodes: its machines, the hosts its racks and
// region run on included (see presenters/node.ts). The listing takes machines read's filters; a
// node is read and deleted as a machine is (a controller's host is locked: deleting it is a 409).
import type { RegionServices } from '../../region/services';
import type { Principal } from '../../region/services/principal';
import { field, form, Reply, requestSignal, type Resource } from '../http';
import { presentOptionsFor, type PresentOptions } from '../presenters/machine';
import { presentNode } from '../presenters/node';
import { action, caller, may, type Ctx } from './access';
import { filterForm } from './machine-filter-forms';
import { mapChunks, setZoneAction } from './machines';

export function nodeResources(services: RegionServices, present: PresentOptions): Array<Resource<Principal>> {
  const ops = services.machineOps;
  const presentFor = (c: Ctx) => presentOptionsFor(present, c.principal);
  return [
    {
      name: 'NodesHandler',
      path: '/nodes/',
      doc: 'Manage the collection of all the nodes in the MAAS.',
      actions: [
        action({
          method: 'GET',
          access: may('machine', 'read'),
          form: filterForm,
          doc: 'List the nodes visible to the caller (machines, and the hosts of racks and regions), filtered as machines read is.',
          handle: async (c) =>
            Reply.jsonArray(
              mapChunks(ops.list(caller(c), c.form, requestSignal(c.koa)), (v) => presentNode(v, presentFor(c))),
            ),
        }),
        action({
          method: 'GET',
          op: 'is_registered',
          anonymous: true,
          form: form({ mac_address: field.text('The MAC address.', { required: true }) }),
          doc: 'Whether a MAC address is registered to a node.',
          handle: async (c) => Reply.json(await ops.isRegistered(c.form.mac_address)),
        }),
        setZoneAction(ops),
      ],
    },
    {
      name: 'NodeHandler',
      path: '/nodes/{system_id}/',
      doc: 'Manage an individual node.',
      actions: [
        action({
          method: 'GET',
          access: may('machine', 'read'),
          doc: 'Read a node.',
          handle: async (c) => presentNode(await ops.read(c.principal, c.path.system_id!), presentFor(c)),
        }),
        action({
          method: 'DELETE',
          // Read here: MachineOperations.delete asks 'delete' once the node is visible (404 before 403).
          access: may('machine', 'read'),
          doc: 'Delete a node (admin).',
          handle: async (c) => (await ops.delete(caller(c), c.path.system_id!), Reply.noContent()),
        }),
      ],
    },
  ];
}
