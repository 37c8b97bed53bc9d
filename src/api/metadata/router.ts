// The metadata server machines talk to (cloud-init's MAAS datasource, MAAS's signal protocol),
// authenticated by each machine's own OAuth token. What a machine says becomes events and a
// signal to its running workflow.
import type Koa from 'koa';
import type { DataSource } from 'typeorm';
import { MachineEntity, type Machine } from '../../region/db/entities';
import type { RegionServices } from '../../region/services';
import {
  assertText,
  authenticateOAuth,
  badRequest,
  ensureParams,
  rawBodyOf,
  forbidden,
  notFound,
  parseJson,
  Reply,
  sendResult,
  unauthorized,
  type CredentialStore,
} from '../http';
import type { Principal } from '../../region/services/principal';

const VERSIONS = ['2012-03-01', 'latest'];
const PREFIX = '/MAAS/metadata';

export function metadataRouter(services: RegionServices, store: CredentialStore<Principal>): Koa.Middleware {
  const machineOf = async (ctx: Koa.Context): Promise<Machine> => {
    const principal = await authenticateOAuth(ctx.get('authorization') || undefined, store);
    if (!principal) throw unauthorized("Authorization Error: the metadata server needs the machine's OAuth token.");
    if (principal.kind !== 'machine') throw forbidden('Only a machine token can use the metadata server.');
    // Fresh state: the token lookup may predate a status change.
    return services.db.getRepository(MachineEntity).findOneByOrFail({ id: principal.machine.id });
  };

  return async function metadata(ctx, next) {
    if (ctx.path !== PREFIX && !ctx.path.startsWith(`${PREFIX}/`)) return next();
    const parts = ctx.path.slice(PREFIX.length).split('/').filter(Boolean);
    const [first, second, third] = parts;
    if (parts.length === 0) return sendResult(ctx, Reply.text(`${VERSIONS.join('\n')}\n`));
    if (first === 'status' && second && ctx.method === 'POST') {
      const machine = await machineOf(ctx);
      if (machine.systemId !== second) throw notFound('No Machine matches the given query.');
      const body = await readJson(ctx);
      await services.metadata.statusEvent(machine, body);
      return sendResult(ctx, Reply.text('OK'));
    }
    if (!first || !VERSIONS.includes(first)) throw notFound(`Unknown metadata version or path: ${ctx.path}`);
    const machine = await machineOf(ctx);
    if (!second && ctx.method === 'POST') {
      const params = await ensureParams(ctx);
      const op = params.get('op');
      if (op !== 'signal') throw badRequest(`Unrecognised signature: method=POST op=${op ?? 'None'}`);
      await services.metadata.signal(machine, {
        status: params.string('status', { required: true }),
        error: params.get('error') ?? '',
        files: new Map(params.files),
      });
      return sendResult(ctx, Reply.text('OK'));
    }
    if (ctx.method !== 'GET') throw notFound(`No ${ctx.method} handler for ${ctx.path}`);
    if (!second) return sendResult(ctx, Reply.text('meta-data\nuser-data\n'));
    if (second === 'user-data') {
      await services.metadata.userDataFetched(machine);
      return sendResult(ctx, Reply.bytes(Buffer.from(machine.userData, 'base64'), 'application/octet-stream'));
    }
    if (second === 'meta-data') return sendResult(ctx, Reply.text(await metaData(services.db, machine, third)));
    throw notFound(`Unknown metadata path: ${ctx.path}`);
  };
}

async function metaData(db: DataSource, machine: Machine, item: string | undefined): Promise<string> {
  switch (item) {
    case undefined:
      return 'instance-id\nlocal-hostname\npublic-keys\nvendor-data\n';
    case 'instance-id':
      return machine.systemId;
    case 'local-hostname':
      return machine.hostname;
    case 'public-keys': {
      const rows: Array<{ key: string }> =
        machine.ownerId === null
          ? []
          : await db.query(`SELECT key FROM ssh_keys WHERE user_id = $1 ORDER BY id`, [machine.ownerId]);
      return rows.map((r) => r.key).join('\n');
    }
    case 'vendor-data':
      return '#cloud-config\n{}\n';
    default:
      throw notFound(`Unknown meta-data item: ${item}`);
  }
}

/** cloud-init's reporting events arrive as a JSON body; its fields are text like any parameter. */
async function readJson(ctx: Koa.Context): Promise<Record<string, string>> {
  await ensureParams(ctx);
  const raw = rawBodyOf(ctx);
  if (!raw || raw.length === 0) throw badRequest('Expected a JSON event body.');
  const value = parseJson(raw, undefined, 'event body');
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw badRequest('The event body is not a JSON object.');
  const fields = Object.entries(value).map(([k, v]): [string, string] => [
    k,
    typeof v === 'string' ? v : JSON.stringify(v),
  ]);
  for (const [k, v] of fields) {
    assertText(k, k);
    assertText(k, v);
  }
  return Object.fromEntries(fields);
}
