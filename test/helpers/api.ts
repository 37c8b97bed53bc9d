// The region's real HTTP app on an ephemeral port, over a TestRegion (real PostgreSQL + Temporal).
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/api/app';
import { formatApiKey } from '../../src/region/services/users';
import type { TestRegion } from './region';
import { signedCall } from './http';

export interface ApiClient {
  base: string;
  call(
    method: string,
    path: string,
    o?: {
      key?: string | null;
      form?: Record<string, string | string[]>;
      body?: RequestInit['body'];
      headers?: Record<string, string>;
    },
  ): Promise<{ status: number; body: unknown; text: string }>;
  keyFor(username: string, admin?: boolean): Promise<string>;
  close(): Promise<void>;
}

export async function startApi(
  region: TestRegion,
  rackSecret = 'test-rack-secret',
  o: { trustedProxies?: string[] } = {},
): Promise<ApiClient> {
  let server: http.Server;
  const port = await new Promise<number>((resolve) => {
    const app = createApp(region.services, {
      rackSecret,
      regionUrl: 'http://127.0.0.1:0/MAAS',
      temporalUiUrl: 'http://127.0.0.1:8233',
      temporalNamespace: region.namespace,
      trustedProxies: o.trustedProxies,
      log: () => undefined,
    });
    server = app.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    base,
    call: (method, path, o = {}) => signedCall(base + path, method, o),
    async keyFor(username, admin = false) {
      const user = await region.services.users.create({
        username,
        password: 'pw',
        email: `${username}@example.com`,
        isSuperuser: admin,
      });
      return formatApiKey(await region.services.users.createToken(user.id));
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
