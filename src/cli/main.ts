// `metalflow <command>`: the only place that reads argv and the environment.
import { createLog, type Log, type LogFormat } from '../contracts/log';
import type * as RackProcess from '../rack/rack-process';
import type * as DataSource from '../region/db/data-source';
import { loadRackSecret } from '../region/secrets';
import type * as Users from '../region/services/users';
import { loadConfig } from '../runtime/config';
import { parseArgs, required } from './args';
import { ensureDatabase, ensureInfrastructure } from './infrastructure';
import type * as Region from './region';

// A command loads only the processes it runs (see region.ts on require): a rack never loads the
// region's API and workflows, a region never loads the rack's DHCP, TFTP and boot servers.
const rackProcess = () => require('../rack/rack-process') as typeof RackProcess;
const region = () => require('./region') as typeof Region;
const dataSource = () => require('../region/db/data-source') as typeof DataSource;
const users = () => require('../region/services/users') as typeof Users;

/** Logs go to stderr, one line each, JSON unless METALFLOW_LOG_FORMAT=text (set once the config is read). */
const stderrLog = (format: LogFormat): Log => createLog({ format, write: (line) => process.stderr.write(line) });
let log: Log = stderrLog('text');

const USAGE = `usage: metalflow <command>
  start                     everything: embedded PostgreSQL and Temporal unless configured, region, one rack
  region [--api-only|--worker-only]
                            a region process (needs DATABASE_URL/TEMPORAL_ADDRESS or a running start)
  rack                      a rack process (needs METALFLOW_REGION_URL, METALFLOW_RACK_SECRET, TEMPORAL_ADDRESS)
  createadmin --username U --password P --email E
  apikey --username U [--generate]
  migrate                   apply database migrations`;

function onSignal(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = () => {
    if (stopping) process.exit(1);
    stopping = true;
    log('stopping…');
    stop().then(
      () => process.exit(0),
      (err) => {
        log(`stop failed: ${(err as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

async function withDatabase<T>(fn: (users: Users.UserService) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const pg = await ensureDatabase(config, log);
  const db = await dataSource().openDatabase(pg.url, {
    migrate: true,
    poolSize: 2,
    preparedStatements: config.database.preparedStatements,
  });
  try {
    return await fn(new (users().UserService)(db));
  } finally {
    await db.destroy();
    await pg.stop();
  }
}

async function main(argv: string[]): Promise<void> {
  const { command, options } = parseArgs(argv);
  const config = loadConfig();
  log = stderrLog(config.logFormat);
  switch (command) {
    case 'start': {
      const infra = await ensureInfrastructure(config, log);
      const running = await region().startRegion(config, infra, { api: true, worker: true }, log);
      const rack = await rackProcess().startRack({
        regionUrl: config.regionUrl,
        secret: loadRackSecret(config.stateDir),
        name: config.rackName,
        temporal: { address: infra.temporalAddress, namespace: config.temporalNamespace },
        stateDir: config.stateDir,
        log,
        metricsPort: config.rackMetricsPort,
        powerPoll: config.powerPoll,
        boot: config.rackBoot,
      });
      console.log(
        `metalflow is running (rack "${config.rackName}": DHCP, TFTP and HTTP boot from ${config.rackBoot.bootRoot}; power type fake simulates machines for scale tests)`,
      );
      console.log(`  MAAS API:    ${running.url}api/2.0/`);
      console.log(`  Web UI:      ${running.url}r/`);
      console.log(`  Temporal UI: ${infra.temporalUiUrl ?? '(external Temporal: see your cluster)'}`);
      console.log(
        `  API key:     npx metalflow createadmin --username admin --password … --email …; npx metalflow apikey --username admin`,
      );
      onSignal(async () => {
        await rack.stop();
        await running.stop();
        await infra.stop();
      });
      return;
    }
    case 'region': {
      const roles: Region.RegionRoles = { api: !options.has('worker-only'), worker: !options.has('api-only') };
      const infra = await ensureInfrastructure(config, log);
      const running = await region().startRegion(config, infra, roles, log);
      log(
        `region running (${[roles.api && 'api', roles.worker && 'worker'].filter(Boolean).join(' + ')})${roles.api ? ` at ${running.url}` : ''}`,
      );
      onSignal(async () => {
        await running.stop();
        await infra.stop();
      });
      return;
    }
    case 'rack': {
      if (!config.temporalAddress)
        throw new Error("A rack process needs TEMPORAL_ADDRESS (the region's Temporal cluster).");
      const rack = await rackProcess().startRack({
        regionUrl: config.regionUrl,
        secret: loadRackSecret(config.stateDir),
        name: config.rackName,
        temporal: { address: config.temporalAddress, namespace: config.temporalNamespace },
        stateDir: config.stateDir,
        log,
        metricsPort: config.rackMetricsPort,
        powerPoll: config.powerPoll,
        boot: config.rackBoot,
      });
      log(`rack ${config.rackName} running as ${rack.systemId}`);
      onSignal(() => rack.stop());
      return;
    }
    case 'createadmin':
      await withDatabase(async (service) => {
        const user = await service.create({
          username: required(options, 'username'),
          password: required(options, 'password'),
          email: required(options, 'email'),
          isSuperuser: true,
        });
        console.log(`Created admin ${user.username}.`);
      });
      return;
    case 'apikey':
      await withDatabase(async (service) => {
        console.log(
          users().formatApiKey(await service.apiKeyFor(required(options, 'username'), options.has('generate'))),
        );
      });
      return;
    case 'migrate':
      await withDatabase(async () => console.log('Migrations applied.'));
      return;
    default:
      console.log(USAGE);
      if (command !== 'help') process.exitCode = 2;
  }
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const e = err as Error & { fields?: Record<string, string[]> };
  console.error(`metalflow: ${e.message}`);
  process.exit(1);
});
