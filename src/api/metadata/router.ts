// The metadata server machines talk to (cloud-init's MAAS datasource, MAAS's signal protocol),
// authenticated by each machine's own OAuth token. What a machine says becomes events and a
// signal to its running workflow. Routed like the rack API: a declared route table.
import type Koa from 'koa';
import type { Machine, RegionServices } from '../../region/services';
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
  unauthorized,
  type CredentialStore,
} from '../http';
import { routeTable, type Route } from '../http/routes';
import type { Principal } from '../../region/services/principal';

const VERSIONS = ['2012-03-01', 'latest'];
const PREFIX = '/MAAS/metadata';

export function metadataRouter(services: RegionServices, store: CredentialStore<Principal>): Koa.Middleware {
  const machineOf = async (ctx: Koa.Context): Promise<Machine> => {
    const principal = await authenticateOAuth(ctx.get('authorization') || undefined, store);
    if (!principal) throw unauthorized("Authorization Error: the metadata server needs the machine's OAuth token.");
    if (principal.kind !== 'machine') throw forbidden('Only a machine token can use the metadata server.');
    // Read by this request's token lookup (never cached): as fresh as a second read would be.
    return principal.machine;
  };
  /** The machine behind a request to one of the versioned paths. */
  const versioned = async (ctx: Koa.Context, version: string | undefined): Promise<Machine> => {
    if (!version || !VERSIONS.includes(version)) throw notFound(`Unknown metadata version or path: ${ctx.path}`);
    return machineOf(ctx);
  };

  const routes: Route[] = [
    { method: 'GET', path: '/', handle: async () => Reply.text(`${VERSIONS.join('\n')}\n`) },
    {
      method: 'POST',
      path: '/status/{system_id}',
      async handle(ctx, p) {
        const machine = await machineOf(ctx);
        if (machine.systemId !== p.system_id) throw notFound('No Machine matches the given query.');
        await services.metadata.statusEvent(machine, await readJson(ctx));
        return Reply.text('OK');
      },
    },
    {
      method: 'GET',
      path: '/{version}/',
      handle: async (ctx, p) => (await versioned(ctx, p.version), Reply.text('meta-data\nuser-data\n')),
    },
    {
      method: 'POST',
      path: '/{version}/',
      async handle(ctx, p) {
        const machine = await versioned(ctx, p.version);
        const params = await ensureParams(ctx);
        const op = params.get('op');
        if (op !== 'signal') throw badRequest(`Unrecognised signature: method=POST op=${op ?? 'None'}`);
        await services.metadata.signal(machine, {
          status: params.string('status', { required: true }),
          error: params.get('error') ?? '',
          files: new Map(params.files),
          scriptResultId: params.int('script_result_id', { min: 0 }),
          // MAAS reads the exit status under each name its clients have used for it.
          exitStatus: ['exit_status', 'script_result', 'result']
            .map((name) => params.int(name, { min: -2_147_483_648 }))
            .find((v) => v !== undefined),
          runtime: runtimeOf(params.get('runtime')),
          name: params.string('name', { maxLength: 255 }),
        });
        return Reply.text('OK');
      },
    },
    // MAAS's MAASScriptsHandler: the scripts of the machine's current run still to run, as a tar
    // with index.json; 204 when there is none. MAAS's URL takes it with or without the slash.
    ...['/{version}/maas-scripts/', '/{version}/maas-scripts'].map((path): Route => ({
      method: 'GET',
      path,
      async handle(ctx, p) {
        const tar = await services.scriptResults.maasScripts(await versioned(ctx, p.version));
        return tar === null ? Reply.noContent() : Reply.bytes(tar, 'application/x-tar');
      },
    })),
    {
      method: 'GET',
      path: '/{version}/user-data',
      async handle(ctx, p) {
        const machine = await versioned(ctx, p.version);
        await services.metadata.userDataFetched(machine);
        return Reply.bytes(Buffer.from(machine.userData, 'base64'), 'application/octet-stream');
      },
    },
    {
      // metalflow's installer (images/ephemeral/init, xinstall of a root-tgz image): what to lay
      // out on disk, as install-to-disk.sh reads it. MAAS hands curtin its storage config instead.
      method: 'GET',
      path: '/{version}/storage-layout',
      handle: async (ctx, p) => Reply.text(await services.metadata.storageLayout(await versioned(ctx, p.version))),
    },
    {
      // The same installer: the deployed OS's network configuration (cloud-init's network config
      // v1, which MAAS puts in curtin's config), for cloud.cfg.d/50-curtin-networking.cfg.
      method: 'GET',
      path: '/{version}/network-config',
      handle: async (ctx, p) => Reply.text(await services.metadata.networkConfig(await versioned(ctx, p.version))),
    },
    {
      method: 'GET',
      path: '/{version}/meta-data/',
      handle: async (ctx, p) => Reply.text(await metaData(services, await versioned(ctx, p.version), undefined)),
    },
    {
      method: 'GET',
      path: '/{version}/meta-data/{item}',
      handle: async (ctx, p) => Reply.text(await metaData(services, await versioned(ctx, p.version), p.item)),
    },
  ];
  return routeTable({
    prefix: PREFIX,
    routes,
    unknown: (ctx) => notFound(`Unknown metadata version or path: ${ctx.path}`),
  });
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

/** op=signal's `runtime`: seconds the script ran (a decimal), as MAAS's Number validator takes it. */
function runtimeOf(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 2_147_483_647)
    throw badRequest({ runtime: ['runtime must be a number of seconds.'] });
  return n;
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
