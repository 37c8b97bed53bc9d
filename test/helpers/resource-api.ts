// The API resources under test, served over real HTTP on a fresh, migrated PostgreSQL database,
// with the same error boundary and OAuth authentication as the region's app. No Temporal: these
// resources start no workflows (the gateway refuses, should one try).
import crypto from 'node:crypto';
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import type { DataSource } from 'typeorm';
import { maasApiRouter } from '../../src/api/auth';
import { mapDomainError } from '../../src/api/domain-errors';
import { errorBoundary, type Resource } from '../../src/api/http';
import type { PresentOptions } from '../../src/api/presenters/machine';
import { UnavailableError } from '../../src/region/errors';
import { SecretBox } from '../../src/region/secrets';
import { createRegionServices, type RegionServices } from '../../src/region/services';
import type { Principal } from '../../src/region/services/principal';
import { formatApiKey } from '../../src/region/services/users';
import type { WorkflowGateway } from '../../src/region/services/workflow-gateway';
import type { ApiClient } from './api';
import { freshDatabase } from './infra';
import { signedCall } from './http';

export const PRESENT: PresentOptions = { temporalUiUrl: null, temporalNamespace: 'test' };

/** A gateway for tests without Temporal: starts are refused as when it is down. */
export const noWorkflows: WorkflowGateway = {
  start: () => Promise.reject(new UnavailableError('No Temporal in this test.')),
  cancel: () => Promise.resolve(false),
  signal: () => Promise.resolve(false),
  signalWithStart: () => Promise.reject(new UnavailableError('No Temporal in this test.')),
  state: () => Promise.resolve('not_found'),
  waitForClose: () => Promise.resolve('not_found'),
  waitForEarlierRun: () => Promise.resolve('not_found'),
  step: () => Promise.resolve(null),
  execute: () => Promise.reject(new UnavailableError('No Temporal in this test.')),
};

export interface ResourceApi extends ApiClient {
  services: RegionServices;
  /** A user and their API key. */
  user(username: string, admin?: boolean): Promise<{ id: number; key: string }>;
}

/** The region's services on `db` with no Temporal (noWorkflows) and a fresh secret key. */
export function servicesWithoutTemporal(
  db: DataSource,
  o: Omit<Parameters<typeof createRegionServices>[0], 'db' | 'workflows' | 'secrets'> = {},
): RegionServices {
  return createRegionServices({ db, workflows: noWorkflows, secrets: new SecretBox(crypto.randomBytes(32)), ...o });
}

export async function startResourceApi(
  resources: (services: RegionServices) => Array<Resource<Principal>>,
): Promise<ResourceApi> {
  const database = await freshDatabase();
  const services = servicesWithoutTemporal(database.db);
  const app = new Koa();
  app.use(errorBoundary({ map: mapDomainError, log: (err) => console.error(err) }));
  app.use(maasApiRouter(services, resources(services)));
  let server!: http.Server;
  const port = await new Promise<number>((resolve) => {
    server = app.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
  const base = `http://127.0.0.1:${port}`;
  const user = async (username: string, admin = false) => {
    const u = await services.users.create({
      username,
      password: 'pw',
      email: `${username}@example.com`,
      isSuperuser: admin,
    });
    return { id: u.id, key: formatApiKey(await services.users.createToken(u.id)) };
  };
  return {
    base,
    services,
    user,
    call: (method, path, o = {}) => signedCall(base + path, method, o),
    keyFor: async (username, admin = false) => (await user(username, admin)).key,
    close: async () => {
      await new Promise<void>((r) => server.close(() => r()));
      await database.drop();
    },
  };
}
