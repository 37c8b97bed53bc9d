// The web UI (/MAAS/r/) over real HTTP on PostgreSQL: login and sessions, CSRF, visibility (the
// same 404 for an invisible machine as for none), admin-only Temporal links, escaping.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { recordEvent } from '../../src/region/services/events';
import { startApi, type ApiClient } from '../helpers/api';
import { createUser, deployedMachineInput } from '../helpers/factories';
import { startTestRegion, type TestRegion } from '../helpers/region';

const UI = '/MAAS/r';
const XSS = '<script>alert(1)</script>';

interface Answer {
  status: number;
  text: string;
  location: string | null;
  setCookies: string[];
  csp: string | null;
}

/** A cookie jar over fetch, without following redirects. */
class Browser {
  readonly cookies = new Map<string, string>();
  constructor(private readonly base: string) {}

  async request(method: string, path: string, form?: Record<string, string>): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (this.cookies.size) headers.Cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const r = await fetch(this.base + path, {
      method,
      headers,
      redirect: 'manual',
      body: form ? new URLSearchParams(form) : undefined,
    });
    const setCookies = r.headers.getSetCookie();
    for (const c of setCookies) {
      const [pair] = c.split(';');
      const [name, value] = pair!.split('=') as [string, string];
      if (!value || /expires=Thu, 01 Jan 1970/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return {
      status: r.status,
      text: await r.text(),
      location: r.headers.get('location'),
      setCookies,
      csp: r.headers.get('content-security-policy'),
    };
  }
  get = (path: string) => this.request('GET', path);

  /** The CSRF token of the page's first form. */
  static csrf(page: string): string {
    const m = /name="csrf" value="([^"]+)"/.exec(page);
    assert.ok(m, `no CSRF token in ${page}`);
    return m[1]!;
  }

  async login(username: string, password: string, next?: string): Promise<Answer> {
    const form = await this.get(`${UI}/login`);
    assert.equal(form.status, 200, form.text);
    return this.request('POST', `${UI}/login`, {
      username,
      password,
      csrf: Browser.csrf(form.text),
      ...(next ? { next } : {}),
    });
  }

  async loggedIn(username: string, password = 'pw'): Promise<this> {
    const r = await this.login(username, password);
    assert.equal(r.status, 303, r.text);
    return this;
  }
}

describe('web UI (real HTTP, PostgreSQL)', () => {
  let region: TestRegion;
  let api: ApiClient;
  const ids: Record<string, string> = {};
  const users: Record<string, number> = {};
  const browser = () => new Browser(api.base);

  before(async () => {
    region = await startTestRegion({});
    api = await startApi(region);
    const s = region.services;
    for (const [name, admin] of [
      ['admin', true],
      ['alice', false],
      ['bob', false],
    ] as const) {
      users[name] = (await createUser(s, name, { admin })).id;
    }
    const machine = async (hostname: string, ownerId: number | null, macs: string[] = []) => {
      const m = await s.machines.create(
        deployedMachineInput(hostname, ownerId, { macAddresses: macs, zone: 'default' }),
      );
      ids[hostname] = m.systemId;
      await recordEvent(s.db.manager, m.id, { type: 'Test', description: `event-of-${hostname}`, level: 'INFO' });
      await s.db.query(`UPDATE machines SET workflow_id = $2, workflow_type = 'CommissionWorkflow' WHERE id = $1`, [
        m.id,
        `machine:${m.systemId}`,
      ]);
      return m;
    };
    await machine('free', null, ['52:54:00:ee:00:01']);
    await machine('alices', users.alice!, ['52:54:00:ee:00:02']);
    await machine('bobs', users.bob!);
    const xss = await machine('xss', null);
    // Hostnames come from machines themselves; the database holds whatever was reported.
    await s.db.query(`UPDATE machines SET hostname = $2 WHERE id = $1`, [xss.id, XSS]);
    await recordEvent(s.db.manager, xss.id, {
      type: 'Test',
      description: '<img src=x onerror=alert(2)>',
      level: 'INFO',
    });
    for (let i = 0; i < 105; i++)
      await s.machines.create({
        hostname: `bulk-${String(i).padStart(3, '0')}`,
        macAddresses: [],
        powerParameters: {},
        deployed: true,
        ownerId: null,
        zone: 'default',
      });
  });
  after(async () => {
    await api?.close();
    await region?.stop();
  });

  it('redirects every page to the login when logged out', async () => {
    const b = browser();
    for (const path of [`${UI}/machines`, `${UI}/machine/${ids.free!}`, `${UI}/`, `${UI}/nowhere`]) {
      const r = await b.get(path);
      assert.equal(r.status, 302, path);
      assert.equal(r.location, `${UI}/login?next=${encodeURIComponent(path)}`);
      assert.doesNotMatch(r.text, /free|event-of/);
    }
    assert.equal((await b.request('POST', `${UI}/logout`, {})).status, 302);
  });

  it('logs in with the right password only: 401 with one message for a wrong password or user, no session', async () => {
    const wrongPassword = await browser().login('alice', 'nope');
    const wrongUser = await browser().login('mallory', 'pw');
    for (const r of [wrongPassword, wrongUser]) {
      assert.equal(r.status, 401);
      assert.match(r.text, /Invalid username or password\./);
      assert.ok(!r.setCookies.some((c) => c.startsWith('metalflow_session=')));
    }
    const strip = (t: string) => t.replace(/value="[^"]*"/g, '');
    assert.equal(strip(wrongPassword.text), strip(wrongUser.text), 'nothing says which part was wrong');

    const b = browser();
    const ok = await b.login('alice', 'pw');
    assert.equal(ok.status, 303);
    assert.equal(ok.location, `${UI}/machines`);
    const cookie = ok.setCookies.find((c) => c.startsWith('metalflow_session='));
    assert.ok(cookie);
    assert.match(cookie, /; path=\/MAAS\/r/);
    assert.match(cookie, /; samesite=lax/i);
    assert.match(cookie, /; httponly/i);
    assert.ok(b.cookies.get('metalflow_session')!.length >= 40, 'an unguessable token');
    const list = await b.get(`${UI}/machines`);
    assert.equal(list.status, 200);
    assert.match(list.text, /alice/);
  });

  it('login needs its CSRF token and returns only to pages of the UI', async () => {
    const b = browser();
    await b.get(`${UI}/login`);
    const forged = await b.request('POST', `${UI}/login`, { username: 'alice', password: 'pw', csrf: 'guessed' });
    assert.equal(forged.status, 403);
    assert.equal(b.cookies.has('metalflow_session'), false);

    const next = await browser().login('alice', 'pw', `${UI}/machine/${ids.free!}`);
    assert.equal(next.location, `${UI}/machine/${ids.free!}`);
    for (const evil of ['https://evil.example/', '//evil.example/MAAS/r/', `${UI}/../../evil`]) {
      assert.equal((await browser().login('alice', 'pw', evil)).location, `${UI}/machines`, evil);
    }
  });

  it('logout needs the CSRF token, then the session cookie is worthless', async () => {
    const b = await browser().loggedIn('alice');
    const token = b.cookies.get('metalflow_session')!;
    const page = await b.get(`${UI}/machines`);
    assert.equal((await b.request('POST', `${UI}/logout`, {})).status, 403, 'no token');
    assert.equal((await b.request('POST', `${UI}/logout`, { csrf: 'x'.repeat(43) })).status, 403, 'wrong token');
    const other = await browser().loggedIn('alice');
    const otherCsrf = Browser.csrf((await other.get(`${UI}/machines`)).text);
    assert.equal((await b.request('POST', `${UI}/logout`, { csrf: otherCsrf })).status, 403, "another session's token");
    assert.equal((await b.request('POST', `${UI}/machines`, {})).status, 403, 'any POST');
    assert.equal((await b.get(`${UI}/machines`)).status, 200, 'still logged in');

    const out = await b.request('POST', `${UI}/logout`, { csrf: Browser.csrf(page.text) });
    assert.equal(out.status, 303);
    assert.equal(out.location, `${UI}/login`);
    assert.equal(b.cookies.has('metalflow_session'), false, 'the cookie is cleared');
    const replay = new Browser(api.base);
    replay.cookies.set('metalflow_session', token);
    assert.equal((await replay.get(`${UI}/machines`)).status, 302, 'the old cookie no longer works');
    assert.equal((await other.get(`${UI}/machines`)).status, 200, 'other sessions stay');
  });

  it("users see their own and unassigned machines, not another user's (404 like a machine that does not exist)", async () => {
    const alice = await browser().loggedIn('alice');
    // Both pages of the list (sorted by hostname, the 105 bulk-* machines come before `free`).
    const list = (await alice.get(`${UI}/machines`)).text + (await alice.get(`${UI}/machines?page=2`)).text;
    assert.match(list, new RegExp(`href="${UI}/machine/${ids.alices!}">alices<`));
    assert.match(list, new RegExp(`href="${UI}/machine/${ids.free!}">free<`));
    assert.doesNotMatch(list, />bobs</);
    assert.ok(!list.includes(ids.bobs!));

    const own = await alice.get(`${UI}/machine/${ids.alices!}`);
    assert.equal(own.status, 200);
    assert.match(own.text, /event-of-alices/);
    assert.match(own.text, /52:54:00:ee:00:02/);

    const bobs = await alice.get(`${UI}/machine/${ids.bobs!}`);
    const none = await alice.get(`${UI}/machine/nosuch`);
    assert.equal(bobs.status, 404);
    assert.equal(none.status, 404);
    assert.equal(bobs.text, none.text, 'invisible and nonexistent look the same');
    assert.doesNotMatch(bobs.text, /bobs|event-of-bobs/);

    const admin = await browser().loggedIn('admin');
    const all = (await admin.get(`${UI}/machines`)).text + (await admin.get(`${UI}/machines?page=2`)).text;
    for (const h of ['alices', 'bobs', 'free']) assert.match(all, new RegExp(`>${h}<`));
    const asAdmin = await admin.get(`${UI}/machine/${ids.bobs!}`);
    assert.equal(asAdmin.status, 200);
    assert.match(asAdmin.text, /event-of-bobs/);
    assert.match(asAdmin.text, /<td>bob<\/td>/);
  });

  it('events of machines the user may not see never appear', async () => {
    const alice = await browser().loggedIn('alice');
    for (const id of [ids.alices!, ids.free!]) {
      const t = (await alice.get(`${UI}/machine/${id}`)).text;
      assert.doesNotMatch(t, /event-of-bobs/);
    }
    const bob = await browser().loggedIn('bob');
    assert.match((await bob.get(`${UI}/machine/${ids.bobs!}`)).text, /event-of-bobs/);
    assert.doesNotMatch((await bob.get(`${UI}/machine/${ids.free!}`)).text, /event-of-alices/);
  });

  it('shows the current workflow to everyone who may see the machine, the Temporal UI link to admins only', async () => {
    const link = `http://127.0.0.1:8233/namespaces/${region.namespace}/workflows/machine%3A${ids.alices!}`;
    const alice = (await (await browser().loggedIn('alice')).get(`${UI}/machine/${ids.alices!}`)).text;
    assert.match(alice, new RegExp(`machine:${ids.alices!}`));
    assert.match(alice, /CommissionWorkflow/);
    assert.ok(!alice.includes('8233'), 'no Temporal link for a user');
    const admin = (await (await browser().loggedIn('admin')).get(`${UI}/machine/${ids.alices!}`)).text;
    assert.ok(admin.includes(`href="${link}"`), admin);
  });

  it('escapes every value: a hostname or event that is HTML stays text', async () => {
    const admin = await browser().loggedIn('admin');
    for (const path of [`${UI}/machines`, `${UI}/machines?q=${encodeURIComponent(XSS)}`, `${UI}/machine/${ids.xss!}`]) {
      const r = await admin.get(path);
      assert.equal(r.status, 200);
      assert.ok(r.text.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), path);
      assert.ok(!r.text.includes(XSS), path);
      assert.ok(!r.text.includes('<img'), path);
      assert.match(r.csp ?? '', /default-src 'none'/, 'and no script could run anyway');
    }
    assert.ok((await admin.get(`${UI}/machine/${ids.xss!}`)).text.includes('&lt;img src=x onerror=alert(2)&gt;'));
    const search = (await admin.get(`${UI}/machines?q=${encodeURIComponent('"><b>')}`)).text;
    assert.ok(search.includes('value="&quot;&gt;&lt;b&gt;"'));
  });

  it('filters by hostname and pages with LIMIT/OFFSET', async () => {
    const alice = await browser().loggedIn('alice');
    const rows = (t: string) => [...t.matchAll(/<tr[^>]*>\s*<td><a href="[^"]+">(bulk-\d+)</g)].map((m) => m[1]);
    const first = (await alice.get(`${UI}/machines?q=BULK-`)).text;
    assert.match(first, /Machines 1–100 of 105/);
    assert.equal(rows(first).length, 100);
    assert.equal(rows(first)[0], 'bulk-000');
    assert.match(first, /href="\/MAAS\/r\/machines\?q=BULK-&amp;page=2" rel="next">next</);
    const second = (await alice.get(`${UI}/machines?q=BULK-&page=2`)).text;
    assert.deepEqual(rows(second), ['bulk-100', 'bulk-101', 'bulk-102', 'bulk-103', 'bulk-104']);
    assert.match(second, /Machines 101–105 of 105/);
    assert.match(
      (await alice.get(`${UI}/machines?q=bob`)).text,
      /Machines 0–0 of 0/,
      "bob's machine is not found by its name either",
    );
    assert.match((await (await browser().loggedIn('admin')).get(`${UI}/machines?q=bob`)).text, /Machines 1–1 of 1/);
  });

  it('filters, sorts and counts the list from the URL; bad filters are a 400 page that names them', async () => {
    const s = region.services;
    await s.zones.create({ name: 'srt-zone' });
    await s.tags.create({ name: 'srt-gpu' });
    const made: Record<string, { id: number; systemId: string }> = {};
    for (const [hostname, cores, status, zone] of [
      ['srt-a', 8, 4, 'srt-zone'],
      ['srt-b', 2, 8, 'srt-zone'],
      ['srt-c', 4, 4, 'default'],
    ] as const) {
      const m = await s.machines.create(
        deployedMachineInput(hostname, users.alice!, { zone, architecture: 'amd64/generic' }),
      );
      await s.db.query(`UPDATE machines SET cpu_count = $2, status = $3 WHERE id = $1`, [m.id, cores, status]);
      made[hostname] = m;
    }
    await s.tags.updateMachines('srt-gpu', { add: [made['srt-a']!.systemId, made['srt-c']!.systemId], remove: [] });
    const b = await browser().loggedIn('alice');
    // Any spelling of a view redirects to its one canonical URL (what the page's links use).
    const alice = {
      get: async (path: string) => {
        const r = await b.get(path);
        return r.status === 302 && r.location?.startsWith(`${UI}/machines`) ? b.get(r.location) : r;
      },
    };
    const canonical = await b.get(`${UI}/machines?q=&owner=+alice+&zone=&dir=asc&page=1&tags=srt-gpu,srt-gpu`);
    assert.equal(canonical.status, 302);
    assert.equal(canonical.location, `${UI}/machines?owner=alice&tags=srt-gpu`);
    const hosts = (t: string) => [...t.matchAll(/<td><a href="[^"]+">(srt-[a-z])</g)].map((m) => m[1]);

    const byCores = (await alice.get(`${UI}/machines?q=srt-&sort=cores&dir=desc`)).text;
    assert.deepEqual(hosts(byCores), ['srt-a', 'srt-c', 'srt-b']);
    assert.match(byCores, /aria-sort="descending"><a href="\/MAAS\/r\/machines\?q=srt-&amp;sort=cores">Cores ▼/);
    // Counts per status ignore the status filter (each link shows what it would list).
    const ready = (await alice.get(`${UI}/machines?q=srt-&status=ready`)).text;
    assert.deepEqual(hosts(ready), ['srt-a', 'srt-c']);
    assert.match(ready, /Machines 1–2 of 2/);
    assert.match(ready, /aria-current="true">Ready \(2\)</);
    assert.match(ready, />Broken \(1\)</);
    assert.match(ready, />All \(3\)</);
    // Every filter at once, as a bookmark would carry it (tags and zones by name, comma lists too).
    const all = (
      await alice.get(
        `${UI}/machines?status=ready&zone=srt-zone,default&tags=srt-gpu&owner=alice&arch=amd64/generic&sort=hostname&dir=desc`,
      )
    ).text;
    assert.deepEqual(hosts(all), ['srt-c', 'srt-a']);
    assert.deepEqual(hosts((await alice.get(`${UI}/machines?pool=default&zone=srt-zone&q=SRT`)).text), [
      'srt-a',
      'srt-b',
    ]);
    // The free text also finds a machine by its tag and its zone.
    assert.deepEqual(hosts((await alice.get(`${UI}/machines?q=srt-gpu`)).text), ['srt-a', 'srt-c']);

    for (const [query, words] of [
      ['sort=bogus', /Sort by one of hostname, status/],
      // Names every object inherits are no sort (they once reached the SQL: a 500).
      ['sort=constructor', /Sort by one of hostname, status.*\(not &#39;constructor&#39;\)/],
      ['sort=toString', /Sort by one of hostname, status.*\(not &#39;toString&#39;\)/],
      ['dir=up', /Give dir=asc or dir=desc/],
      ['status=sleepy', /&#39;sleepy&#39; is not a valid status/],
      ['zone=nowhere', /No such zone\(s\): nowhere/],
      ['tags=nosuchtag', /No such tag\(s\)/],
      ['page=0', /greater than or equal to 1/],
      ['colour=red', /Unknown parameter &#39;colour&#39;/],
    ] as const) {
      const r = await alice.get(`${UI}/machines?${query}`);
      assert.equal(r.status, 400, `${query}: ${r.text}`);
      assert.match(r.text, words, query);
    }
  });

  it('serves live.js under the CSP and live JSON with the visibility of the pages', async () => {
    const alice = await browser().loggedIn('alice');
    const page = await alice.get(`${UI}/machines`);
    assert.match(page.csp ?? '', /script-src 'self'; connect-src 'self'/);
    assert.match(page.text, /<script src="\/MAAS\/r\/static\/live.js" defer><\/script>/);
    assert.doesNotMatch(page.text, /<script>/, 'no inline script');
    const script = await alice.get(`${UI}/static/live.js`);
    assert.equal(script.status, 200);
    assert.match(script.text, /textContent/);
    assert.doesNotMatch(script.text, /innerHTML/);
    const ids_ = [ids.alices!, ids.bobs!, ids.free!].map((id) => `id=${id}`).join('&');
    const live = JSON.parse((await alice.get(`${UI}/machines/live?${ids_}`)).text) as {
      machines: Array<{ system_id: string; status_name: string }>;
    };
    assert.deepEqual(
      live.machines.map((m) => m.system_id).sort(),
      [ids.alices!, ids.free!].sort(),
      "bob's is left out",
    );
    assert.equal(live.machines[0]!.status_name, 'Deployed');
    const one = JSON.parse((await alice.get(`${UI}/machine/${ids.alices!}/live?after=0`)).text) as {
      status_name: string;
      events: Array<{ id: number; description: string }>;
    };
    assert.equal(one.status_name, 'Deployed');
    assert.ok(one.events.some((e) => e.description === 'event-of-alices'));
    const newest = Math.max(...one.events.map((e) => e.id));
    const none = JSON.parse((await alice.get(`${UI}/machine/${ids.alices!}/live?after=${newest}`)).text) as {
      events: unknown[];
    };
    assert.deepEqual(none.events, [], 'only events newer than the page has');
    assert.equal((await alice.get(`${UI}/machine/${ids.bobs!}/live`)).status, 404);
    assert.equal((await alice.get(`${UI}/machine/${ids.alices!}/live?after=x`)).status, 400);
    assert.equal((await browser().get(`${UI}/machines/live`)).status, 302, 'signed out: to the login');
  });

  it('routes: security headers, the root to the list, HTML 404 for unknown pages and ids, 405 for other methods, login for any method', async () => {
    const alice = await browser().loggedIn('alice');
    const csrf = Browser.csrf((await alice.get(`${UI}/machines`)).text);
    for (const path of [UI, `${UI}/`]) {
      const root = await alice.get(path);
      assert.equal(root.status, 302, path);
      assert.equal(root.location, `${UI}/machines`);
      assert.match(root.csp ?? '', /default-src 'none'/);
    }
    assert.equal((await alice.get(`${UI}/machines/`)).status, 200, 'a trailing slash');
    assert.equal((await alice.get(`${UI}/machine/${ids.free!}/`)).status, 200, 'a trailing slash');
    for (const path of [
      `${UI}/nosuch`,
      `${UI}/logout`,
      `${UI}/machine/a%01b`,
      `${UI}/machine/a/b`,
      `${UI}/machines/op-x`,
    ]) {
      const r = await alice.get(path);
      assert.equal(r.status, 404, path);
      assert.match(r.text, /<h1>Not found<\/h1>/, path);
      assert.match(r.csp ?? '', /default-src 'none'/, path);
    }
    for (const path of [`${UI}/machines`, `${UI}/nosuch`]) {
      const r = await alice.request('POST', path, { csrf });
      assert.equal(r.status, 404, `POST ${path}`);
      assert.match(r.text, /<h1>Not found<\/h1>/);
    }
    for (const path of [`${UI}/machines`, `${UI}/nosuch`]) {
      const r = await alice.request('DELETE', path);
      assert.equal(r.status, 405, `DELETE ${path}`);
      assert.match(r.text, /DELETE is not allowed here/);
    }
    assert.equal((await browser().request('DELETE', `${UI}/nosuch`)).status, 302, 'logged out: the login first');
    const login = await browser().request('PUT', `${UI}/login`);
    assert.equal(login.status, 200);
    assert.match(login.text, /<h1>Log in<\/h1>/);
    assert.equal((await alice.get(`${UI}/login`)).location, `${UI}/machines`, 'signed in: on to the next page');
  });

  // Last: it leaves this test client's address throttled.
  it('throttles password guessing: after 10 failures the username and the address get 429 with Retry-After, even with the right password', async () => {
    const failures: number[] = [];
    for (let i = 0; i < 10; i++) failures.push((await browser().login('bob', `guess-${i}`)).status);
    // Earlier tests' failures from this address count too: 401s until the brake, then 429s.
    const firstBrake = failures.indexOf(429);
    assert.ok(
      failures.slice(0, firstBrake === -1 ? undefined : firstBrake).every((f) => f === 401) &&
        failures.slice(firstBrake === -1 ? 10 : firstBrake).every((f) => f === 429),
      failures.join(' '),
    );
    const right = await browser().login('bob', 'pw');
    assert.equal(right.status, 429);
    assert.match(right.text, /Too many failed logins; try again in \d+ s\./);
    assert.ok(!right.setCookies.some((c) => c.startsWith('metalflow_session=')), 'no session');
    assert.equal((await browser().login('alice', 'pw')).status, 429, 'the address is braked for any username');
  });
});
