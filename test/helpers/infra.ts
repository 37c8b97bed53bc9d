// Real PostgreSQL and Temporal for integration tests: the servers scripts/test.ts started (or
// DATABASE_URL / TEMPORAL_ADDRESS), with a fresh database and a fresh namespace per test file.
import crypto from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { bundleWorkflowCode, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import pg from 'pg';
import type { DataSource } from 'typeorm';
import { SEARCH_ATTRIBUTE_NAMES } from '../../src/contracts/workflows';
import { openDatabase } from '../../src/region/db/data-source';
import { WORKFLOW_INTERCEPTOR_MODULES, WORKFLOWS_PATH } from '../../src/region/worker';

export function testInfra(): { pgUrl: string; temporalAddress: string } {
  const pgUrl = process.env.METALFLOW_TEST_PG_URL ?? process.env.DATABASE_URL;
  const temporalAddress = process.env.METALFLOW_TEST_TEMPORAL ?? process.env.TEMPORAL_ADDRESS;
  if (!pgUrl || !temporalAddress)
    throw new Error('Run integration tests through `npm test` (it starts PostgreSQL and Temporal).');
  return { pgUrl, temporalAddress };
}

export const uniqueName = (prefix: string): string => `${prefix}_${crypto.randomBytes(4).toString('hex')}`;

/** A new, migrated database on the shared server. */
export async function freshDatabase(): Promise<{ url: string; db: DataSource; drop(): Promise<void> }> {
  const { pgUrl } = testInfra();
  const name = uniqueName('mf_test');
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(pgUrl);
  url.pathname = `/${name}`;
  const db = await openDatabase(url.toString(), { migrate: true, poolSize: 30 });
  return {
    url: url.toString(),
    db,
    drop: async () => {
      if (db.isInitialized) await db.destroy();
      const c = new pg.Client({ connectionString: pgUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** A new namespace with metalflow's search attributes, so test files never see each other's workflows. */
export async function freshNamespace(): Promise<{ namespace: string; client: Client; connection: Connection }> {
  const { temporalAddress } = testInfra();
  const connection = await Connection.connect({ address: temporalAddress });
  const namespace = uniqueName('mf');
  await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
  await connection.operatorService.addSearchAttributes({
    namespace,
    searchAttributes: Object.fromEntries(SEARCH_ATTRIBUTE_NAMES.map((n) => [n, 2 /* KEYWORD */])),
  });
  // Namespace registration reaches the frontend's cache after a moment.
  for (let i = 0; i < 50; i++) {
    try {
      await connection.workflowService.describeNamespace({ namespace });
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  return { namespace, client: new Client({ connection, namespace }), connection };
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** The workflow bundle, built once per test process (~2 s). */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    workflowInterceptorModules: WORKFLOW_INTERCEPTOR_MODULES,
    logger: { info() {}, warn() {}, error: console.error, debug() {}, trace() {}, log() {} } as never,
  });
  return bundle;
}
