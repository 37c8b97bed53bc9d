// Issue 15 over real HTTP: the login throttle holds under concurrency, X-Forwarded-* headers count
// only from configured proxies (METALFLOW_TRUSTED_PROXIES), and the UI takes its CSRF token from
// the form body, never the URL.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startApi, type ApiClient } from '../helpers/api';
import { startTestRegion, type TestRegion } from '../helpers/region';

const LOGIN = '/MAAS/r/login';

/** A login form's CSRF token and the cookie that goes with it. */
async function loginForm(base: string): Promise<{ csrf: string; cookie: string }> {
  const r = await fetch(base + LOGIN, { redirect: 'manual' });
  const csrf = /name="csrf" value="([^"]+)"/.exec(await r.text())?.[1];
  const cookie = r.headers
    .getSetCookie()
    .map((c) => c.split(';')[0]!)
    .join('; ');
  assert.ok(csrf && cookie, 'the login page sets a CSRF token and cookie');
  return { csrf, cookie };
}

async function login(
  base: string,
  username: string,
  password: string,
  o: { headers?: Record<string, string>; form?: { csrf: string; cookie: string }; query?: string } = {},
): Promise<{ status: number; cookies: string[] }> {
  const form = o.form ?? (await loginForm(base));
  const body = new URLSearchParams({ username, password, ...(o.query === undefined ? { csrf: form.csrf } : {}) });
  const r = await fetch(`${base}${LOGIN}${o.query ?? ''}`, {
    method: 'POST',
    redirect: 'manual',
    headers: { Cookie: form.cookie, ...o.headers },
    body,
  });
  await r.text();
  return { status: r.status, cookies: r.headers.getSetCookie() };
}

const counts = (statuses: number[]) =>
  statuses.reduce<Record<number, number>>((acc, s) => ({ ...acc, [s]: (acc[s] ?? 0) + 1 }), {});

describe('UI login and proxy headers (real HTTP, PostgreSQL)', () => {
  let region: TestRegion;
  let untrusted: ApiClient;
  let trusted: ApiClient;

  before(async () => {
    region = await startTestRegion({});
    for (const name of ['carol', 'dave', 'erin', 'frank', 'grace'])
      await region.services.users.create({
        username: name,
        password: 'pw',
        email: `${name}@example.com`,
        isSuperuser: false,
      });
    // Each app has its own throttle; the test client is 127.0.0.1 for both.
    untrusted = await startApi(region);
    trusted = await startApi(region, 'test-rack-secret', { trustedProxies: ['127.0.0.0/8', '::1'] });
  });
  after(async () => {
    await untrusted?.close();
    await trusted?.close();
    await region?.stop();
  });

  it('checks at most the limit of 20 concurrent wrong passwords; the rest get 429 without a check', async () => {
    const forms = [];
    for (let i = 0; i < 20; i++) forms.push(await loginForm(trusted.base));
    // Through the trusted app, each from its own address: only the username's limit applies.
    const statuses = await Promise.all(
      forms.map(
        async (form, i) =>
          (await login(trusted.base, 'carol', `guess-${i}`, { form, headers: { 'X-Forwarded-For': `10.1.0.${i}` } }))
            .status,
      ),
    );
    assert.deepEqual(counts(statuses), { 401: 10, 429: 10 }, statuses.join(' '));
    assert.equal(
      (await login(trusted.base, 'carol', 'pw', { headers: { 'X-Forwarded-For': '10.1.1.1' } })).status,
      429,
    );
  });

  it('a success takes back its own attempt from the address but not earlier failures', async () => {
    const from = { 'X-Forwarded-For': '10.2.0.1' };
    for (let i = 0; i < 9; i++)
      assert.equal((await login(trusted.base, 'dave', `guess-${i}`, { headers: from })).status, 401);
    for (let i = 0; i < 3; i++) assert.equal((await login(trusted.base, 'erin', 'pw', { headers: from })).status, 303);
    assert.equal((await login(trusted.base, 'frank', 'wrong', { headers: from })).status, 401, 'the tenth failure');
    assert.equal(
      (await login(trusted.base, 'grace', 'pw', { headers: from })).status,
      429,
      'then the address is braked',
    );
  });

  it('ignores X-Forwarded-For from a peer that is not a trusted proxy: rotating it does not lift the brake', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++)
      statuses.push(
        (await login(untrusted.base, `nobody-${i}`, 'wrong', { headers: { 'X-Forwarded-For': `10.3.0.${i}` } })).status,
      );
    assert.deepEqual(statuses.slice(0, 10), Array(10).fill(401), statuses.join(' '));
    assert.deepEqual(statuses.slice(10), [429, 429], 'all 12 counted against 127.0.0.1');
  });

  it('reads the client from the right of X-Forwarded-For, past trusted proxies: a spoofed left entry is not the client', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 11; i++)
      statuses.push(
        (
          await login(trusted.base, `spoof-${i}`, 'wrong', {
            headers: { 'X-Forwarded-For': `192.0.2.${i}, 10.4.0.1, 127.0.0.5` },
          })
        ).status,
      );
    assert.deepEqual(statuses, [...Array(10).fill(401), 429], 'one client, 10.4.0.1');
  });

  it('builds describe/ URIs from X-Forwarded-Host/-Proto only when a trusted proxy sent them', async () => {
    const headers = { 'X-Forwarded-Host': 'evil.example', 'X-Forwarded-Proto': 'https' };
    const uris = (body: unknown) =>
      (body as { resources: Array<{ auth: { uri: string } | null; anon: { uri: string } | null }> }).resources
        .flatMap((r) => [r.auth?.uri, r.anon?.uri])
        .filter((u): u is string => typeof u === 'string');

    const plain = await untrusted.call('GET', '/MAAS/api/2.0/describe/', { headers });
    assert.equal(plain.status, 200);
    assert.ok(uris(plain.body).length > 0);
    assert.ok(
      uris(plain.body).every((u) => u.startsWith(`${untrusted.base}/MAAS/`)),
      uris(plain.body).find((u) => !u.startsWith(untrusted.base)),
    );

    const proxied = await trusted.call('GET', '/MAAS/api/2.0/describe/', { headers });
    assert.ok(uris(proxied.body).every((u) => u.startsWith('https://evil.example/MAAS/')));
  });

  it('takes the CSRF token from the form body only, never the query string', async () => {
    // A fresh app: the others have braked this client's address by now.
    const fresh = await startApi(region);
    try {
      const form = await loginForm(fresh.base);
      const refused = await login(fresh.base, 'erin', 'pw', { form, query: `?csrf=${form.csrf}` });
      assert.equal(refused.status, 403, 'a login token in the URL does not count');
      assert.ok(!refused.cookies.some((c) => c.startsWith('metalflow_session=')));
      const ok = await login(fresh.base, 'erin', 'pw', { form });
      assert.equal(ok.status, 303, 'in the body it does');
      const session = ok.cookies.map((c) => c.split(';')[0]!).find((c) => c.startsWith('metalflow_session='))!;
      const page = await (await fetch(`${fresh.base}/MAAS/r/machines`, { headers: { Cookie: session } })).text();
      const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1];
      assert.ok(csrf, 'the logout form carries the session token');
      const logout = (query: string, body?: URLSearchParams) =>
        fetch(`${fresh.base}/MAAS/r/logout${query}`, {
          method: 'POST',
          redirect: 'manual',
          headers: { Cookie: session, 'Content-Type': 'application/x-www-form-urlencoded' },
          body: body ?? '',
        });
      assert.equal((await logout(`?csrf=${csrf}`)).status, 403, 'a session token in the URL does not count');
      assert.equal((await logout('', new URLSearchParams({ csrf }))).status, 303);
    } finally {
      await fresh.close();
    }
  });
});
