// PostgreSQL or Temporal away → 503 with Retry-After and a plain reason; everything else keeps
// its own mapping. Real errors where they can be made here (a refused connection, pg's and
// TypeORM's error classes, Temporal's ServiceError), so a driver that changes shape shows up.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ServiceError } from '@temporalio/client';
import pg from 'pg';
import { QueryFailedError } from 'typeorm';
import net from 'node:net';
import { domainErrorMapper, mapDomainError } from '../../../src/api/domain-errors';
import { RegionMetrics } from '../../../src/region/metrics';
import { databaseBusy, dependencyOutage } from '../../../src/region/outages';
import { freePort } from '../../helpers/ports';

const pgError = (code: string, message: string) => Object.assign(new pg.DatabaseError(message, 0, 'error'), { code });
const grpcError = (code: number, details: string) =>
  Object.assign(new Error(`${code} ${details}`), { code, details, metadata: {} });

describe('dependency outages', () => {
  it('a refused PostgreSQL connection is a database outage: 503, Retry-After, plain text', async () => {
    const client = new pg.Client({ connectionString: `postgres://x:y@127.0.0.1:${await freePort()}/db` });
    const err = await client.connect().then(
      () => assert.fail('connected to nothing'),
      (e: unknown) => e,
    );
    assert.equal(dependencyOutage(err)?.dependency, 'database');
    const api = mapDomainError(err);
    assert.equal(api?.status, 503);
    assert.equal(api?.headers['Retry-After'], '5');
    assert.match(api?.contentType ?? '', /^text\/plain/);
    assert.match(String(api?.body), /database is unavailable.*nothing was changed/);
    assert.doesNotMatch(String(api?.body), /ECONNREFUSED/, "the driver's words stay in the log");
  });

  it('a server shutting down or starting up, through TypeORM, is a database outage', () => {
    for (const [code, text] of [
      ['57P01', 'terminating connection due to administrator command'],
      ['57P03', 'the database system is starting up'],
      ['08006', 'connection failure'],
    ] as const) {
      const err = new QueryFailedError('SELECT 1', [], pgError(code, text));
      assert.equal(mapDomainError(err)?.status, 503, code);
    }
  });

  it("node-postgres's own connection errors (no code) are database outages", () => {
    for (const message of [
      'Connection terminated unexpectedly',
      'Connection terminated due to connection timeout',
      'Client has encountered a connection error and is not queryable',
    ])
      assert.equal(dependencyOutage(new Error(message))?.dependency, 'database', message);
  });

  it('Temporal UNAVAILABLE / DEADLINE_EXCEEDED is a workflow-service outage', () => {
    const err = new ServiceError('Failed to start Workflow', {
      cause: grpcError(14, 'No connection established'),
    });
    const outage = dependencyOutage(err);
    assert.equal(outage?.dependency, 'workflow service');
    const api = mapDomainError(err);
    assert.equal(api?.status, 503);
    assert.equal(api?.headers['Retry-After'], '5');
    assert.match(String(api?.body), /Temporal\) is unavailable/);
    assert.equal(dependencyOutage(grpcError(4, 'Deadline exceeded'))?.dependency, 'workflow service');
  });

  it('other errors are not outages: constraint violations, syntax errors, gRPC NOT_FOUND', () => {
    assert.equal(dependencyOutage(new QueryFailedError('x', [], pgError('23505', 'duplicate key'))), undefined);
    assert.equal(mapDomainError(new QueryFailedError('x', [], pgError('23505', 'duplicate key')))?.status, 409);
    assert.equal(dependencyOutage(new QueryFailedError('x', [], pgError('42601', 'syntax error'))), undefined);
    assert.equal(mapDomainError(new QueryFailedError('x', [], pgError('42601', 'syntax error'))), undefined);
    assert.equal(dependencyOutage(grpcError(5, 'not found')), undefined);
    assert.equal(dependencyOutage(new TypeError('x is undefined')), undefined);
    assert.equal(dependencyOutage(undefined), undefined);
  });

  it('only the connection SQLSTATEs of a server going or gone are outages: 08P01 is our bug (a 500)', () => {
    for (const code of ['08000', '08001', '08003', '08006', '57P01', '57P02', '57P03'])
      assert.equal(
        dependencyOutage(new QueryFailedError('x', [], pgError(code, 'gone')))?.dependency,
        'database',
        code,
      );
    for (const code of ['08P01', '08004', '08007']) {
      const err = new QueryFailedError('x', [], pgError(code, 'protocol violation'));
      assert.equal(dependencyOutage(err), undefined, code);
      assert.equal(mapDomainError(err), undefined, `${code} is a fault to log, not a 503`);
    }
  });

  it('a pool with no free connection is busy, not an outage: its own 503 with Retry-After, counted', async () => {
    // A peer that accepts and never answers: the pool's one connection hangs in its start-up, so
    // a second caller waits for it, and both waits run out, as with a leaked or overloaded pool.
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as net.AddressInfo).port;
    const pool = new pg.Pool({
      host: '127.0.0.1',
      port,
      user: 'x',
      database: 'x',
      max: 1,
      connectionTimeoutMillis: 200,
    });
    try {
      const [first, second] = await Promise.allSettled([pool.connect(), pool.connect()]);
      assert.equal(first.status, 'rejected');
      assert.equal(second.status, 'rejected');
      // The connection that could not be made is the server unreachable: an outage still.
      assert.equal(dependencyOutage(first.reason)?.dependency, 'database');
      assert.equal(databaseBusy(first.reason), undefined);
      // The caller that waited for the pool: busy.
      const exhausted: unknown = second.reason;
      assert.equal(dependencyOutage(exhausted), undefined);
      assert.equal(databaseBusy(exhausted)?.reason, 'pool');
      const metrics = new RegionMetrics();
      const api = domainErrorMapper(metrics.dbBusy)(new QueryFailedError('SELECT 1', [], exhausted as Error));
      assert.equal(api?.status, 503);
      assert.equal(api?.headers['Retry-After'], '5');
      assert.match(String(api?.body), /region is busy/);
      assert.doesNotMatch(String(api?.body), /unavailable|timeout exceeded/);
      assert.match(await metrics.registry.metrics(), /^metalflow_db_busy_total\{reason="pool"\} 1$/m);
    } finally {
      await pool.end().catch(() => undefined);
      silent.close();
    }
  });

  it('PostgreSQL out of connections (53300) is busy too, counted apart from the pool', async () => {
    const err = new QueryFailedError('x', [], pgError('53300', 'sorry, too many clients already'));
    assert.equal(dependencyOutage(err), undefined);
    const metrics = new RegionMetrics();
    const api = domainErrorMapper(metrics.dbBusy)(err);
    assert.equal(api?.status, 503);
    assert.match(String(api?.body), /region is busy/);
    assert.match(await metrics.registry.metrics(), /^metalflow_db_busy_total\{reason="server"\} 1$/m);
    // Errors that are not for want of a connection leave the counter alone.
    domainErrorMapper(metrics.dbBusy)(pgError('57P01', 'terminating connection'));
    assert.doesNotMatch(await metrics.registry.metrics(), /reason="pool"/);
  });

  it('every 503 says when to retry', () => {
    const statementTimeout = mapDomainError(pgError('57014', 'canceling statement due to statement timeout'));
    assert.equal(statementTimeout?.status, 503);
    assert.equal(statementTimeout?.headers['Retry-After'], '5');
  });
});
