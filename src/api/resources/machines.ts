// MAAS's MachinesHandler and MachineHandler: thin routes, auth → form → service → presenter.
import { isAdmin, type Principal } from '../../region/services/principal';
import type { RegionServices } from '../../region/services';
import { ForbiddenError } from '../../region/errors';
import { assertEnlistmentInput } from '../../region/services/enlistment';
import { reregisterHost } from '../../region/services/host-registration';
import { normaliseMac } from '../../region/services/machine-validation';
import { mayAdministerPool } from '../../region/services/reservations';
import { annotate } from '../../region/services/workload-annotations';
import { forbidden, Reply, requestSignal, type Resource } from '../http';
import { adminOf, userOf, type Ctx } from './access';
import { presentMachine, presentOptionsFor, type PresentOptions } from '../presenters/machine';
import {
  allocateForm,
  checkCommissionForm,
  createForm,
  deployForm,
  filterForm,
  releaseForm,
  updateForm,
} from './machine-forms';

export function machineResources(services: RegionServices, present: PresentOptions): Array<Resource<Principal>> {
  const user = (c: Ctx): Principal => ({ kind: 'user', user: userOf(c) });
  const admin = (c: Ctx): Principal => ({ kind: 'user', user: adminOf(c) });
  const presentFor = (c: Ctx) => presentOptionsFor(present, c.principal);
  const show = async (c: Ctx, systemId: string) =>
    presentMachine(await services.queries.get(c.principal, systemId), presentFor(c));
  /** Everything but reading needs the machine to be visible first: 404 beats 403. */
  const visible = async (c: Ctx) => {
    const p = user(c);
    await services.queries.get(p, c.path.system_id!);
    return p;
  };
  const act = (
    op: string,
    doc: string,
    run: (p: Principal, c: Ctx, systemId: string) => Promise<unknown>,
    method: 'POST' | 'GET' = 'POST',
  ) => ({
    method,
    op,
    doc,
    async handle(c: Ctx) {
      const p = await visible(c);
      const result = await run(p, c, c.path.system_id!);
      return result === undefined ? show(c, c.path.system_id!) : result;
    },
  });

  const tokenHolder = async (p: Principal, systemId: string) => {
    const { machine } = await services.queries.get(p, systemId);
    if (!isAdmin(p) && !(p.kind === 'user' && machine.ownerId === p.user.id))
      throw new ForbiddenError('Only the owner or an admin can see or regenerate a machine token.');
    return machine;
  };
  const presentToken = (t: { tokenKey: string; tokenSecret: string; consumerKey: string }) => ({
    token_key: t.tokenKey,
    token_secret: t.tokenSecret,
    consumer_key: t.consumerKey,
  });

  const collection: Resource<Principal> = {
    name: 'MachinesHandler',
    path: '/machines/',
    doc: 'Manage the collection of all the machines in the MAAS.',
    actions: [
      {
        method: 'GET',
        doc: 'List machines visible to the caller, filtered by hostname, mac_address, id, zone, pool, status, owner, tags, arch.',
        async handle(c) {
          const views = services.queries.chunks(user(c), filterForm(c.params), { signal: requestSignal(c.koa) });
          return Reply.jsonArray(mapChunks(views, (v) => presentMachine(v, presentFor(c))));
        },
      },
      {
        method: 'POST',
        anonymous: true,
        doc: 'Create a machine. Admins: commissioned unless commission=false; deployed=true registers a machine already running a workload (with host_id, registering the same host again returns its machine). Anonymous: enlistment.',
        async handle(c) {
          if (c.principal && !isAdmin(c.principal)) throw forbidden('You do not have permission to create machines.');
          // `op` is here only when empty (MAAS: an empty op counts as none).
          if (!c.principal)
            assertEnlistmentInput(
              c.params.names().filter((n) => n !== 'op'),
              c.params.string('power_type'),
            );
          const form = createForm(c.params, c.principal?.kind === 'user' ? c.principal.user.id : null);
          if (!c.principal && form.deployed) throw forbidden('Registering a deployed machine needs an admin API key.');
          if (form.deployed && form.hostId) {
            const again = await reregisterHost(services.db, form.hostId, form.hostname);
            if (again) return presentMachine((await services.queries.views([again.id]))[0]!, presentFor(c));
          }
          const machine = await services.machines.create(form).catch(async (err: unknown) => {
            // The same host registering twice at the same moment: the first one's machine won
            // (the unique host_id or hostname refused the second), so this is a re-registration.
            const again =
              form.deployed && form.hostId ? await reregisterHost(services.db, form.hostId, form.hostname) : null;
            if (!again) throw err;
            return { ...again, reregistered: true as const };
          });
          if ('reregistered' in machine)
            return presentMachine((await services.queries.views([machine.id]))[0]!, presentFor(c));
          try {
            if (form.deployed) await services.actions.startForNewMachine(machine, 'registerDeployed');
            else if (!c.principal) await services.actions.startForNewMachine(machine, 'enlist');
            else if (form.commission) await services.actions.commission(c.principal, machine.systemId);
          } catch (err) {
            // Creation is all or nothing: a machine whose workflow could not start is not kept.
            await services.machines.delete(machine.systemId).catch(() => undefined);
            throw err;
          }
          return presentMachine((await services.queries.views([machine.id]))[0]!, presentFor(c));
        },
      },
      {
        method: 'POST',
        op: 'allocate',
        doc: 'Allocate a READY machine matching the constraints (name, system_id, arch, cpu_count, cpu_speed, mem, tags, not_tags, zone, not_in_zone, pool, not_in_pool, subnets, not_subnets, fabrics, not_fabrics, vlans, not_vlans, storage, interfaces, agent_name, comment, dry_run, verbose): one reserved for the caller or their group first, then an unassigned one, cheapest first.',
        async handle(c) {
          const constraints = allocateForm(c.params);
          const got = await services.allocation.allocate(user(c), constraints);
          const body = presentMachine(await services.queries.get(c.principal, got.systemId), presentFor(c));
          return { ...body, constraints_by_type: got.constraintsByType };
        },
      },
      {
        method: 'GET',
        op: 'is_registered',
        anonymous: true,
        doc: 'Whether a MAC address is registered to a machine (used by enlistment).',
        async handle(c) {
          const mac = normaliseMac(c.params.string('mac_address', { required: true }));
          if (!mac) return Reply.json(false);
          const rows: unknown[] = await services.db.query(`SELECT 1 FROM interfaces WHERE mac_address = $1::macaddr`, [
            mac,
          ]);
          return rows.length > 0;
        },
      },
      {
        method: 'GET',
        op: 'list_allocated',
        doc: 'Machines allocated to the caller.',
        async handle(c) {
          const p = user(c);
          const views = await services.queries.list(p, { owner: [p.kind === 'user' ? p.user.username : ''] });
          return views.map((v) => presentMachine(v, presentFor(c)));
        },
      },
      {
        method: 'GET',
        op: 'power_parameters',
        doc: 'Power parameters of machines (admin only): a map of system_id to parameters.',
        async handle(c) {
          admin(c);
          const ids = c.params.list('id');
          const views = await services.queries.list(c.principal, ids.length ? { systemId: ids } : {});
          return Object.fromEntries(
            views.map((v) => [v.machine.systemId, services.machines.powerParametersOf(v.machine)]),
          );
        },
      },
    ],
  };

  const element: Resource<Principal> = {
    name: 'MachineHandler',
    path: '/machines/{system_id}/',
    doc: 'Manage an individual machine.',
    actions: [
      // user(c) first: a machine token gets the same 403 as on every other user endpoint.
      { method: 'GET', doc: 'Read a machine.', handle: (c) => (user(c), show(c, c.path.system_id!)) },
      {
        method: 'PUT',
        doc: "Update a machine (admins, and admins of the machine's pool, who may move it only to another pool they administer and may not change power settings): hostname, architecture, description, power_type, power_parameters_*, zone, pool, cpu_count, memory.",
        async handle(c) {
          const p = await visible(c);
          const form = updateForm(c.params);
          if (!isAdmin(p)) {
            // BMC settings stay with admins: with the stored credentials kept across an address
            // change, a new power_address would send them wherever it points.
            if (form.powerType !== undefined || Object.keys(form.powerParameters).length > 0)
              throw new ForbiddenError('Only admins can change power settings.');
            const { machine } = await services.queries.get(p, c.path.system_id!);
            await services.actions.assertMayUse(services.db.manager, p, machine, 'edit', { owner: false });
            const target: Array<{ id: number }> = form.pool
              ? await services.db.query(`SELECT id FROM resource_pools WHERE name = $1`, [form.pool])
              : [];
            if (target[0] && !(await mayAdministerPool(services.db.manager, p, target[0].id)))
              throw new ForbiddenError(`You do not have permission to move machines to pool ${form.pool!}.`);
          }
          await services.machines.update(c.path.system_id!, form);
          return show(c, c.path.system_id!);
        },
      },
      {
        method: 'DELETE',
        doc: 'Delete a machine (admin).',
        async handle(c) {
          // Visible first: a 403 for a machine the caller may not see would say that it exists.
          await visible(c);
          admin(c);
          await services.machines.delete(c.path.system_id!);
          return Reply.noContent();
        },
      },
      act(
        'commission',
        'Commission: boot the ephemeral environment and record the hardware (skip_bmc_config, skip_networking, skip_storage: accepted, nothing is reconfigured; enable_ssh=1: 400, not supported yet).',
        (p, c, id) => {
          checkCommissionForm(c.params);
          return services.actions.commission(p, id);
        },
      ),
      act(
        'deploy',
        'Deploy an OS (distro_series, user_data base64, agent_name, comment; hwe_kernel and ephemeral_deploy=1: 400, not supported yet). A READY machine is allocated to the caller first.',
        (p, c, id) => services.actions.deploy(p, id, deployForm(c.params)),
      ),
      act(
        'release',
        'Release to the pool (erase, secure_erase, quick_erase, comment; force: no KVM hosts here, so a plain release).',
        (p, c, id) => services.actions.release(p, id, releaseForm(c.params)),
      ),
      act('abort', 'Abort the current operation (commissioning, deploying, disk erasing, testing).', (p, c, id) =>
        services.actions.abort(p, id, c.params.string('comment') ?? ''),
      ),
      act('mark_broken', 'Mark broken (comment).', (p, c, id) =>
        services.actions.markBroken(p, id, c.params.string('comment') ?? c.params.string('error_description') ?? ''),
      ),
      act(
        'mark_fixed',
        "Mark fixed (admins, and admins of the machine's pool). Back to DEPLOYED if it was deployed, else READY, where placement rules apply to a machine none has placed yet.",
        (p, _c, id) => services.actions.markFixed(p, id),
      ),
      act(
        'reserve',
        'Reserve the machine for a user or group (admins, or pool admins): reserved_for=USERNAME or group:NAME, comment. Only they allocate it, before any unassigned machine; the reservation outlives release.',
        (p, c, id) =>
          services.reservations.reserve(
            p,
            id,
            c.params.string('reserved_for', { required: true }),
            c.params.string('comment') ?? '',
          ),
      ),
      act(
        'unreserve',
        'Remove the reservation (admins, or pool admins): the machine becomes unassigned (comment).',
        (p, c, id) => services.reservations.reserve(p, id, '', c.params.string('comment') ?? ''),
      ),
      act('lock', 'Lock a deployed machine against changes (comment).', (p, c, id) =>
        services.actions.lock(p, id, true, c.params.string('comment') ?? ''),
      ),
      act('unlock', 'Unlock a machine (comment).', (p, c, id) =>
        services.actions.lock(p, id, false, c.params.string('comment') ?? ''),
      ),
      act(
        'power_on',
        'Power on (through the rack that reaches the BMC).',
        async (p, _c, id) => void (await services.actions.power(p, id, 'on')),
      ),
      act(
        'power_off',
        'Power off (stop_mode soft|hard).',
        async (p, _c, id) => void (await services.actions.power(p, id, 'off')),
      ),
      act(
        'query_power_state',
        'Query the BMC for the power state: {"state": "on"|"off"|"unknown"|"error"}.',
        async (p, _c, id) => services.actions.power(p, id, 'query'),
        'GET',
      ),
      act(
        'get_token',
        "The machine's own OAuth token for the metadata server (owner and admins).",
        async (p, _c, id) => {
          const machine = await tokenHolder(p, id);
          return presentToken(await services.machines.machineToken(machine.id));
        },
        'GET',
      ),
      // metalflow's addition (MAAS has no way to rotate a machine token): a new token at once, the
      // old one refused from the next request on (tokens are looked up per request).
      act(
        'regenerate_token',
        "Replace the machine's token (owner and admins); the old one stops working at once. Returns the new one like get_token.",
        async (p, _c, id) => {
          const machine = await tokenHolder(p, id);
          return presentToken(
            await services.db.transaction((tx) => services.machines.machineToken(machine.id, true, tx)),
          );
        },
      ),
      act(
        'set_workload_annotations',
        'Set workload annotations: key=value pairs; an empty value removes the key.',
        async (p, c, id) => {
          const view = await services.queries.get(p, id);
          if (!isAdmin(p) && !(p.kind === 'user' && view.machine.ownerId === p.user.id))
            throw new ForbiddenError('Only the owner or an admin can annotate a machine.');
          const changes = c.params
            .names()
            .filter((key) => key !== 'op')
            .map((key) => [key, c.params.get(key) ?? ''] as const);
          const annotations = annotate(view.machine.workloadAnnotations, changes);
          await services.db.query(`UPDATE machines SET workload_annotations = $2, updated = now() WHERE id = $1`, [
            view.machine.id,
            JSON.stringify(annotations),
          ]);
        },
      ),
      act(
        'power_parameters',
        'Power parameters of this machine, secrets included (admin).',
        async (p, _c, id) => {
          if (!isAdmin(p)) throw new ForbiddenError('Power parameters are shown to admins only.');
          return services.machines.powerParametersOf((await services.queries.get(p, id)).machine);
        },
        'GET',
      ),
    ],
  };
  return [collection, element];
}

async function* mapChunks<T, U>(chunks: AsyncIterable<T[]>, f: (t: T) => U): AsyncGenerator<U[]> {
  for await (const chunk of chunks) yield chunk.map(f);
}
