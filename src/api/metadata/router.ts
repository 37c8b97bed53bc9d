// The metadata server machines talk to (cloud-init's MAAS datasource, MAAS's signal protocol),
// authenticated by each machine's own OAuth token. What a machine says becomes events and a
// signal to its running workflow.
import type Koa from 'koa';
import type { Machine, RegionServices } from '../../region/services';
import {
  authenticateOAuth,
  badRequest,
  ensureParams,
  rawBodyOf,
  forbidden,
  notFound,
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
    return services.metadata.machine(principal.machine.id);
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
    if (second === 'meta-data') return sendResult(ctx, Reply.text(await metaData(services, machine, third)));
    throw notFound(`Unknown metadata path: ${ctx.path}`);
  };
}

async function metaData(
  services: Pick<RegionServices, 'metadata'>,
  machine: Machine,
  item: string | undefined,
): Promise<string> {
  switch (item) {
    case undefined:
      return 'instance-id\nlocal-hostname\npublic-keys\nvendor-data\n';
    case 'instance-id':
      return machine.systemId;
    case 'local-hostname':
      return machine.hostname;
    case 'public-keys':
      return (await services.metadata.publicKeys(machine)).join('\n');
    case 'vendor-data':
      return '#cloud-config\n{}\n';
    default:
      throw notFound(`Unknown meta-data item: ${item}`);
  }
}

/** cloud-init's reporting events arrive as a JSON body. */
async function readJson(ctx: Koa.Context): Promise<Record<string, string>> {
  await ensureParams(ctx);
  const raw = rawBodyOf(ctx);
  if (!raw || raw.length === 0) throw badRequest('Expected a JSON event body.');
  try {
    const value = JSON.parse(raw.toString('utf8')) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
    );
  } catch {
    throw badRequest('The event body is not a JSON object.');
  }
}
