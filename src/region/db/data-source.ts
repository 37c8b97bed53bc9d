import { DataSource } from 'typeorm';
import { ENTITIES } from './entities';
import { Initial1763769600000 } from './migrations/0001-initial';
import { HostId1764000000000 } from './migrations/0002-host-id';
import { Network1764100000000 } from './migrations/0003-network';
import { Tenancy1764200000000 } from './migrations/0004-tenancy';
import { InterfaceTypes1764300000000 } from './migrations/0005-interface-types';
import { BootErase1764450000000 } from './migrations/0006-boot-erase';
import { UiSessions1764500000000 } from './migrations/0007-ui-sessions';
import { TenancyClosed1764600000000 } from './migrations/0008-tenancy-closed';
import { ClaimToken1764700000000 } from './migrations/0009-claim-token';

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
];

/** The region's database. Schema changes only through migrations (never `synchronize`). */
export function createDataSource(url: string, options: { poolSize?: number } = {}): DataSource {
  return new DataSource({
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: MIGRATIONS,
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: ['error'],
    extra: { max: options.poolSize ?? 20 },
  });
}

export async function openDatabase(
  url: string,
  options: { poolSize?: number; migrate?: boolean } = {},
): Promise<DataSource> {
  const ds = createDataSource(url, options);
  await ds.initialize();
  if (options.migrate ?? true) await migrate(ds);
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
