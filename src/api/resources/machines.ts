// MAAS's MachinesHandler and MachineHandler as declarations: access rule → form → one service call
// (MachineOperations: visibility, policy, work) → presenter.
import { setImmediate } from 'node:timers/promises';
import type { RegionServices } from '../../region/services';
import type { VersionedChunk } from '../../region/services/machine-queries';
import { MACHINE_FILTER_CAPS } from '../../region/services/machine-filter';
import type { Principal } from '../../region/services/principal';
import { field, form, Reply, requestSignal, type Resource } from '../http';
import { action, caller, may, type Ctx } from './access';
import { machineLifecycleActions } from './machine-lifecycle-actions';
import { machineStorageActions } from './machine-storage';
import { machineNetworkActions } from './machine-network';
import { machineDetails } from '../presenters/machine-details';
import { presentMachine, presentOptionsFor, type PresentOptions } from '../presenters/machine';
import { MachineListingEncoder, PresentedMachineCache } from '../presenters/machine-listing-cache';
import { bulkReleaseForm, commentForm, createForm, powerOffForm, powerOnForm, updateForm } from './machine-forms';
import { allocateForm } from './allocate-form';
import { filterForm } from './machine-filter-forms';

/** Lists of machines by system_id take as many as the machine listing's filter does (Juju names many). */
const MACHINE_ID_LIST_MAX = MACHINE_FILTER_CAPS.systemId;

const annotationsForm = form(
  { '': field.prefixed('A workload annotation key=value; an empty value removes the key.') },
  (v) => {
    const { op: _op, ...annotations } = v[''];
    return annotations;
  },
);

const presentToken = (t: { tokenKey: string; tokenSecret: string; consumerKey: string }) => ({
  token_key: t.tokenKey,
  token_secret: t.tokenSecret,
  consumer_key: t.consumerKey,
});

export function machineResources(services: RegionServices, present: PresentOptions): Array<Resource<Principal>> {
  const ops = services.machineOps;
  const presentFor = (c: Ctx) => presentOptionsFor(present, c.principal);
  const id = (c: Ctx) => c.path.system_id!;
  /** Operations answer with the machine as it is now. */
  const show = async (c: Ctx) => presentMachine(await ops.read(c.principal, id(c)), presentFor(c));
  const operate = may('machine', 'read');
  /** Presented machines kept between listings (per process), while their versions hold. */
  const listingCache = new PresentedMachineCache();

  const collection: Resource<Principal> = {
    name: 'MachinesHandler',
    path: '/machines/',
    doc: 'Manage the collection of all the machines in the MAAS.',
    actions: [
      action({
        method: 'GET',
        access: may('machine', 'read'),
        form: filterForm,
        doc: 'List machines visible to the caller.',
        handle: async (c) => {
          const encoder = new MachineListingEncoder(listingCache, presentFor(c));
          return Reply.preEncodedJsonArray(
            encodeListing(ops.listVersioned(caller(c), c.form, encoder.known, requestSignal(c.koa)), encoder),
          );
        },
      }),
      action({
        method: 'POST',
        anonymous: true,
        access: may('machine', 'create'),
        form: createForm,
        doc: 'Create a machine. Admins: commissioned unless commission=false; deployed=true registers a machine already running a workload (with host_id, registering the same host again returns its machine). Anonymous: enlistment.',
        handle: async (c) => presentMachine(await ops.enrol(c.principal, c.form), presentFor(c)),
      }),
      action({
        method: 'POST',
        op: 'allocate',
        access: may('machine', 'allocate'),
        form: allocateForm,
        doc: 'Allocate a READY machine matching the constraints: one reserved for the caller or their group first, then an unassigned one, cheapest first.',
        async handle(c) {
          const got = await services.allocation.allocate(caller(c), c.form);
          const body = presentMachine(await ops.read(c.principal, got.systemId), presentFor(c));
          return { ...body, constraints_by_type: got.constraintsByType };
        },
      }),
      action({
        method: 'GET',
        op: 'is_registered',
        anonymous: true,
        form: form({ mac_address: field.text('The MAC address.', { required: true }) }),
        doc: 'Whether a MAC address is registered to a machine (used by enlistment).',
        handle: async (c) => Reply.json(await ops.isRegistered(c.form.mac_address)),
      }),
      action({
        method: 'GET',
        op: 'list_allocated',
        access: may('machine', 'read'),
        form: form({ id: field.list('Only the machine with this system_id.', { maxValues: MACHINE_ID_LIST_MAX }) }),
        doc: 'Machines allocated to the caller.',
        handle: async (c) => (await ops.allocatedTo(caller(c), c.form.id)).map((v) => presentMachine(v, presentFor(c))),
      }),
      action({
        method: 'POST',
        op: 'release',
        access: may('machine', 'read'),
        form: bulkReleaseForm,
        doc: 'Release machines: all or none. Unknown machines are a 400, machines the caller may not release a 403, machines in a state that cannot be released a 409, each naming them; READY machines are left alone. Returns the system_ids whose release started.',
        handle: async (c) => ops.releaseMany(caller(c), c.form.systemIds, c.form.options),
      }),
      action({
        method: 'POST',
        op: 'accept',
        access: may('machine', 'read'),
        form: machinesForm('A system_id of a machine whose enlistment to accept (an empty list is acceptable).'),
        doc: 'Accept enlisted (NEW) machines: they start commissioning. Machines already READY or commissioning are left out of the answer; unknown machines are a 400, machines the caller may not commission a 403, any other state a 409. All or nothing. Returns the accepted machines.',
        handle: async (c) =>
          (await ops.acceptMany(caller(c), c.form.machines)).map((v) => presentMachine(v, presentFor(c))),
      }),
      action({
        method: 'POST',
        op: 'accept_all',
        access: may('machine', 'read'),
        doc: 'Accept every enlisted (NEW) machine the caller may commission. Returns the accepted machines.',
        handle: async (c) => (await ops.acceptAll(caller(c))).map((v) => presentMachine(v, presentFor(c))),
      }),
      setZoneAction(ops),
      action({
        method: 'GET',
        op: 'power_parameters',
        access: may('machine', 'read-power-parameters'),
        form: form({ id: field.list('Only the machine with this system_id.', { maxValues: MACHINE_ID_LIST_MAX }) }),
        doc: 'Power parameters of machines (admin only): a map of system_id to parameters.',
        handle: async (c) => ops.powerParametersOfMany(caller(c), c.form.id),
      }),
    ],
  };

  const element: Resource<Principal> = {
    name: 'MachineHandler',
    path: '/machines/{system_id}/',
    doc: 'Manage an individual machine.',
    actions: [
      action({ method: 'GET', access: operate, doc: 'Read a machine.', handle: show }),
      ...machineStorageActions(services, show),
      ...machineNetworkActions(services, show),
      action({
        method: 'PUT',
        access: operate,
        form: updateForm,
        doc: "Update a machine (admins, and admins of the machine's pool, who may move it only to another pool they administer and may not change power settings).",
        handle: async (c) => (await ops.edit(caller(c), id(c), c.form), show(c)),
      }),
      action({
        method: 'DELETE',
        // Read here: MachineOperations.delete asks 'delete' once the machine is visible (404 before 403).
        access: operate,
        doc: 'Delete a machine (admin).',
        handle: async (c) => (await ops.delete(caller(c), id(c)), Reply.noContent()),
      }),
      ...machineLifecycleActions(services, presentFor),
      action({
        method: 'POST',
        op: 'abort',
        access: operate,
        form: commentForm,
        doc: 'Abort the current operation (commissioning, deploying, disk erasing, testing).',
        handle: async (c) => (await ops.abort(caller(c), id(c), c.form), show(c)),
      }),
      action({
        method: 'POST',
        op: 'mark_broken',
        access: operate,
        form: form(
          {
            comment: field.text('Why the machine is broken.'),
            error_description: field.text('Why the machine is broken (when comment is absent).'),
          },
          (v) => v.comment ?? v.error_description ?? '',
        ),
        doc: 'Mark broken.',
        handle: async (c) => (await ops.markBroken(caller(c), id(c), c.form), show(c)),
      }),
      action({
        method: 'POST',
        op: 'mark_fixed',
        access: operate,
        form: commentForm,
        doc: "Mark fixed (admins, and admins of the machine's pool). Back to DEPLOYED if it was deployed, else READY, where placement rules apply to a machine none has placed yet.",
        handle: async (c) => (await ops.markFixed(caller(c), id(c), c.form), show(c)),
      }),
      action({
        method: 'POST',
        op: 'override_failed_testing',
        access: operate,
        form: commentForm,
        doc: "Ignore failed tests (admins, and admins of the machine's pool): a FAILED_TESTING machine goes back to DEPLOYED if it has an OS, else READY.",
        handle: async (c) => (await ops.overrideFailedTesting(caller(c), id(c), c.form), show(c)),
      }),
      action({
        method: 'POST',
        op: 'reserve',
        access: operate,
        form: form({
          reserved_for: field.text('USERNAME, or group:NAME.', { required: true }),
          comment: field.text('A comment for the event log.'),
        }),
        doc: 'Reserve the machine for a user or group (admins, or pool admins). Only they allocate it, before any unassigned machine; the reservation outlives release.',
        handle: async (c) => (await ops.reserve(caller(c), id(c), c.form.reserved_for, c.form.comment ?? ''), show(c)),
      }),
      action({
        method: 'POST',
        op: 'unreserve',
        access: operate,
        form: commentForm,
        doc: 'Remove the reservation (admins, or pool admins): the machine becomes unassigned.',
        handle: async (c) => (await ops.reserve(caller(c), id(c), '', c.form), show(c)),
      }),
      action({
        method: 'POST',
        op: 'lock',
        access: operate,
        form: commentForm,
        doc: 'Lock a deployed machine against changes.',
        handle: async (c) => (await ops.lock(caller(c), id(c), true, c.form), show(c)),
      }),
      action({
        method: 'POST',
        op: 'unlock',
        access: operate,
        form: commentForm,
        doc: 'Unlock a machine.',
        handle: async (c) => (await ops.lock(caller(c), id(c), false, c.form), show(c)),
      }),
      action({
        method: 'POST',
        op: 'power_on',
        access: operate,
        form: powerOnForm,
        doc: 'Power on (through the rack that reaches the BMC).',
        handle: async (c) => (await ops.power(caller(c), id(c), 'on', c.form), show(c)),
      }),
      action({
        method: 'POST',
        op: 'power_off',
        access: operate,
        form: powerOffForm,
        doc: 'Power off.',
        handle: async (c) => (await ops.power(caller(c), id(c), 'off', c.form), show(c)),
      }),
      action({
        method: 'GET',
        op: 'query_power_state',
        access: operate,
        doc: 'Query the BMC for the power state: {"state": "on"|"off"|"unknown"|"error"}.',
        handle: async (c) => ops.power(caller(c), id(c), 'query'),
      }),
      action({
        method: 'GET',
        op: 'get_token',
        access: operate,
        doc: "The machine's own OAuth token for the metadata server (owner and admins).",
        handle: async (c) => presentToken(await ops.token(caller(c), id(c), false)),
      }),
      // metalflow's addition (MAAS has no way to rotate a machine token): a new token at once, the
      // old one refused from the next request on (tokens are looked up per request).
      action({
        method: 'POST',
        op: 'regenerate_token',
        access: operate,
        doc: "Replace the machine's token (owner and admins); the old one stops working at once. Returns the new one like get_token.",
        handle: async (c) => presentToken(await ops.token(caller(c), id(c), true)),
      }),
      action({
        method: 'POST',
        op: 'set_workload_annotations',
        access: operate,
        form: annotationsForm,
        doc: 'Set workload annotations: key=value pairs; an empty value removes the key.',
        handle: async (c) => (await ops.annotate(caller(c), id(c), c.form), show(c)),
      }),
      // MAAS 3.x still answers the name Juju's gomaasapi and python-libmaas send (owner data was
      // renamed workload annotations); the same annotations, the same rules.
      action({
        method: 'POST',
        op: 'set_owner_data',
        access: operate,
        form: annotationsForm,
        doc: 'Set owner data (the earlier name of workload annotations): key=value pairs; an empty value removes the key.',
        handle: async (c) => (await ops.annotate(caller(c), id(c), c.form), show(c)),
      }),
      action({
        method: 'GET',
        op: 'power_parameters',
        access: operate,
        doc: 'Power parameters of this machine, secrets included (admin).',
        handle: async (c) => ops.powerParameters(caller(c), id(c)),
      }),
      action({
        method: 'GET',
        op: 'details',
        access: may('machine', 'read'),
        doc: "The machine's probe details as MAAS sends them: BSON (application/bson) of {lshw, lldp}, lshw's XML built from the hardware report commissioning stored (null before it commissioned); lldp, the XML maas-capture-lldpd printed (lldpctl's format) in the machine's latest commissioning, null when that run captured none.",
        handle: async (c) => machineDetails(await services.nodeResults.details(caller(c), id(c))),
      }),
    ],
  };
  return [collection, element];
}

const machinesForm = (doc: string) => form({ machines: field.list(doc, { maxValues: MACHINE_ID_LIST_MAX }) });

/** MAAS's set_zone (NodesHandler's, so machines/ and nodes/ both have it): admins; 204. */
export function setZoneAction(ops: RegionServices['machineOps']) {
  return action({
    method: 'POST',
    op: 'set_zone',
    access: may('machine', 'set-zone'),
    form: form({
      zone: field.text('The zone name.', { required: true }),
      nodes: field.list('A system_id of a node to move.', { required: true, maxValues: MACHINE_ID_LIST_MAX }),
    }),
    doc: 'Move nodes to a zone (admins). Every node must exist, else none moves.',
    handle: async (c) => (await ops.setZone(c.form.zone, c.form.nodes), Reply.noContent()),
  });
}

const PRESENT_SLICE = 50;

/**
 * Presents a listing's chunks in slices of PRESENT_SLICE machines, giving the event loop back
 * between slices: a 10,000-machine listing is ~1 s of presenting and serialising, and held in one
 * piece it would stall every other request on this process (issue 15: whoami behind 20 listings).
 */
/**
 * A versioned listing's chunks as encoded machines: kept ones are copied, read ones presented in
 * slices with a yield to the event loop between them (as mapChunks does), so other requests are
 * answered while a cold listing runs.
 */
async function* encodeListing(
  chunks: AsyncIterable<VersionedChunk>,
  encoder: MachineListingEncoder,
): AsyncGenerator<Buffer[][]> {
  for await (const chunk of chunks) {
    const out: Buffer[][] = [];
    let presented = 0;
    for (const m of chunk.machines) {
      const view = chunk.views.get(m.id);
      if (view && ++presented % PRESENT_SLICE === 0) await setImmediate();
      out.push(encoder.encode(m, view, chunk.domains));
    }
    yield out;
  }
}

export async function* mapChunks<T, U>(chunks: AsyncIterable<T[]>, f: (t: T) => U): AsyncGenerator<U[]> {
  for await (const chunk of chunks) {
    for (let i = 0; i < chunk.length; i += PRESENT_SLICE) {
      if (i > 0) await setImmediate();
      yield chunk.slice(i, i + PRESENT_SLICE).map(f);
    }
  }
}
