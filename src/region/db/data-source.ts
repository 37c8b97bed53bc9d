import { DataSource } from 'typeorm';
import { ENTITIES } from './entities';
import { watchTransactions } from './lost-connections';
import { preparingClient, StatementNames } from './prepared-statements';
import { Initial1763769600000 } from './migrations/0001-initial';
import { HostId1764000000000 } from './migrations/0002-host-id';
import { Network1764100000000 } from './migrations/0003-network';
import { Tenancy1764200000000 } from './migrations/0004-tenancy';
import { InterfaceTypes1764300000000 } from './migrations/0005-interface-types';
import { BootErase1764450000000 } from './migrations/0006-boot-erase';
import { UiSessions1764500000000 } from './migrations/0007-ui-sessions';
import { TenancyClosed1764600000000 } from './migrations/0008-tenancy-closed';
import { ClaimToken1764700000000 } from './migrations/0009-claim-token';
import { SpacesDomainsRoutes1764800000000 } from './migrations/0010-spaces-domains-routes';
import { Devices1764810000000 } from './migrations/0011-devices';
import { EventsOutliveMachines1764820000000 } from './migrations/0012-events-outlive-machines';
import { ConfigHardwareReport1764830000000 } from './migrations/0013-config-hardware-report';
import { CommissionSkips1764840000000 } from './migrations/0014-commission-skips';
import { DeviceDomainsNodeIdentity1764850000000 } from './migrations/0015-device-domains-node-identity';
import { Storage1764860000000 } from './migrations/0016-storage';
import { DnsResources1764870000000 } from './migrations/0017-dns-resources';
import { MachineNetwork1764880000000 } from './migrations/0018-machine-network';
import { DnsPublication1764910000000 } from './migrations/0021-dns-publication';
import { EphemeralDeploy1764950000000 } from './migrations/0025-ephemeral-deploy';
import { WorkflowChain1764960000000 } from './migrations/0026-workflow-chain';
import { DhcpSnippets1765030000000 } from './migrations/0033-dhcp-snippets';
import { UiSessionFlash1765100000000 } from './migrations/0040-ui-session-flash';
import { EventClaimToken1765120000000 } from './migrations/0042-event-claim-token';
import { Scripts1765070000000 } from './migrations/0037-scripts';
import { BuiltinScripts1765080000000 } from './migrations/0038-builtin-scripts';
import { SmartctlCommissioningTag1765200000000 } from './migrations/0043-smartctl-commissioning-tag';
import { WorkflowStarts1765050000000 } from './migrations/0035-workflow-starts';
import { WorkflowStartRequests1765110000000 } from './migrations/0041-workflow-start-requests';
import { ScriptResultHardware1765240000000 } from './migrations/0047-script-result-hardware';
import { PowerStateAt1765250000000 } from './migrations/0048-power-state-at';
import { LldpScripts1765260000000 } from './migrations/0049-lldp-scripts';
import { ScriptResultRequested1765270000000 } from './migrations/0050-script-result-requested';
import { FioParallelInstance1765280000000 } from './migrations/0051-fio-parallel-instance';
import { QuietProgress1765290000000 } from './migrations/0052-quiet-progress';

export const MIGRATIONS = [
  Initial1763769600000,
  HostId1764000000000,
  Network1764100000000,
  Tenancy1764200000000,
  InterfaceTypes1764300000000,
  BootErase1764450000000,
  UiSessions1764500000000,
  TenancyClosed1764600000000,
  ClaimToken1764700000000,
  SpacesDomainsRoutes1764800000000,
  Devices1764810000000,
  EventsOutliveMachines1764820000000,
  ConfigHardwareReport1764830000000,
  CommissionSkips1764840000000,
  DeviceDomainsNodeIdentity1764850000000,
  Storage1764860000000,
  DnsResources1764870000000,
  MachineNetwork1764880000000,
  DnsPublication1764910000000,
  EphemeralDeploy1764950000000,
  WorkflowChain1764960000000,
  DhcpSnippets1765030000000,
  UiSessionFlash1765100000000,
  EventClaimToken1765120000000,
  Scripts1765070000000,
  BuiltinScripts1765080000000,
  SmartctlCommissioningTag1765200000000,
  WorkflowStarts1765050000000,
  WorkflowStartRequests1765110000000,
  ScriptResultHardware1765240000000,
  PowerStateAt1765250000000,
  LldpScripts1765260000000,
  ScriptResultRequested1765270000000,
  FioParallelInstance1765280000000,
  QuietProgress1765290000000,
];

export interface DatabaseOptions {
  poolSize?: number;
  /** PostgreSQL's statement_timeout for every connection of the pool; 0 or absent = none. */
  statementTimeoutMs?: number;
  /** How long a caller waits for a free connection before failing (pg's connectionTimeoutMillis); absent = forever. */
  connectionWaitMs?: number;
  /** Shown in pg_stat_activity, so an operator can tell the pools apart. */
  applicationName?: string;
  /**
   * Prepare the statements that repeat, once per connection (prepared-statements.ts); on unless
   * false. Off for a connection pooler that cannot keep them (PgBouncer in transaction mode before 1.21).
   */
  preparedStatements?: boolean;
  /** With preparedStatements: PostgreSQL keeps one generic plan per statement (PreparingOptions); on unless false. */
  genericPlans?: boolean;
}

/** The region's database. Schema changes only through migrations (never `synchronize`). */
export function createDataSource(url: string, options: DatabaseOptions = {}): DataSource {
  // A transaction whose connection is lost fails as the outage it is (lost-connections.ts).
  return watchTransactions(
    new DataSource({
      type: 'postgres',
      url,
      entities: ENTITIES,
      migrations: MIGRATIONS,
      migrationsTransactionMode: 'each',
      synchronize: false,
      logging: ['error'],
      applicationName: options.applicationName ?? 'metalflow',
      extra: {
        max: options.poolSize ?? 20,
        // Sent in the startup packet: the server enforces it on every statement of the connection.
        ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
        ...(options.connectionWaitMs ? { connectionTimeoutMillis: options.connectionWaitMs } : {}),
        ...(options.preparedStatements === false
          ? {}
          : { Client: preparingClient(new StatementNames(), { genericPlans: options.genericPlans ?? true }) }),
      },
    }),
  );
}

export async function openDatabase(
  url: string,
  options: DatabaseOptions & { migrate?: boolean } = {},
): Promise<DataSource> {
  // Migrations run on their own short-lived connections without statement_timeout: rewriting a
  // big table may rightly take longer than any API statement should.
  if (options.migrate ?? true) {
    const migrator = createDataSource(url, {
      poolSize: 2,
      applicationName: 'metalflow-migrate',
      preparedStatements: false,
    });
    await migrator.initialize();
    try {
      await migrate(migrator);
    } finally {
      await migrator.destroy();
    }
  }
  const ds = createDataSource(url, options);
  await ds.initialize();
  return ds;
}

/** Several region processes may start at once: one migrates while the others wait. */
async function migrate(ds: DataSource): Promise<void> {
  const lock = ds.createQueryRunner();
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock(5240001)');
    await ds.runMigrations();
  } finally {
    await lock.query('SELECT pg_advisory_unlock(5240001)').catch(() => undefined);
    await lock.release();
  }
}
