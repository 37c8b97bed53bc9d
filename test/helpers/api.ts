// The region's real HTTP app on an ephemeral port, over a TestRegion (real PostgreSQL + Temporal).
import type http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../src/api/app';
import { oauthHeader } from '../../src/api/http';
import { formatApiKey } from '../../src/region/services/users';
import type { TestRegion } from './region';

export interface ApiClient {
  base: string;
  call(method: string, path: string, o?: { key?: string | null; form?: Record<string, string | string[]>; body?: RequestInit['body']; headers?: Record<string, string> }): Promise<{ status: number; body: unknown; text: string }>;
  keyFor(username: string, admin?: boolean): Promise<string>;
  close(): Promise<void>;
}

export async function startApi(region: TestRegion, rackSecret = 'test-rack-secret'): Promise<ApiClient> {
  let server: http.Server;
  const port = await new Promise<number>((resolve) => {
    const app = createApp(region.services, { rackSecret, regionUrl: 'http://127.0.0.1:0/MAAS', temporalUiUrl: 'http://127.0.0.1:8233', temporalNamespace: region.namespace, log: () => undefined });
    server = app.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
  });
  const base = `http://127.0.0.1:${port}`;
  return {
    base,
    async call(method, path, o = {}) {
      const headers: Record<string, string> = { ...o.headers };
      if (o.key) headers.Authorization = oauthHeader(o.key);
      const body = o.form ? new URLSearchParams(Object.entries(o.form).flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((x): [string, string] => [k, x]))) : o.body;
      const r = await fetch(base + path, { method, headers, body });
      const text = await r.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // plain text
      }
      return { status: r.status, body: parsed, text };
    },
    async keyFor(username, admin = false) {
      const user = await region.services.users.create({ username, password: 'pw', email: `${username}@example.com`, isSuperuser: admin });
      return formatApiKey(await region.services.users.createToken(user.id));
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
