// A cookie jar over fetch for the web UI's HTTP tests: no redirects followed, forms posted as
// application/x-www-form-urlencoded (repeated names allowed), the page's CSRF token read from it.
import assert from 'node:assert/strict';

export const UI = '/MAAS/r';

export interface UiAnswer {
  status: number;
  text: string;
  location: string | null;
}

export type FormFields = Record<string, string> | Array<[string, string]>;

export class UiBrowser {
  readonly cookies = new Map<string, string>();
  constructor(private readonly base: string) {}

  async request(method: string, path: string, form?: FormFields): Promise<UiAnswer> {
    const headers: Record<string, string> = { Accept: 'text/html' };
    if (this.cookies.size) headers.Cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const r = await fetch(this.base + path, {
      method,
      headers,
      redirect: 'manual',
      body: form ? new URLSearchParams(form) : undefined,
    });
    for (const c of r.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const [name, value] = pair!.split('=') as [string, string];
      if (!value || /expires=Thu, 01 Jan 1970/i.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: r.status, text: await r.text(), location: r.headers.get('location') };
  }

  get = (path: string) => this.request('GET', path);

  /** The CSRF token of the page's first form that has one. */
  static csrf(page: string): string {
    const m = /name="csrf" value="([^"]+)"/.exec(page);
    assert.ok(m, `no CSRF token in ${page}`);
    return m[1]!;
  }

  /** POST a form with this session's CSRF token (read from `pagePath`, default the machine list). */
  async post(path: string, fields: FormFields = {}, pagePath = `${UI}/machines`): Promise<UiAnswer> {
    const csrf = UiBrowser.csrf((await this.get(pagePath)).text);
    const entries = Array.isArray(fields) ? fields : Object.entries(fields);
    return this.request('POST', path, [['csrf', csrf], ...entries]);
  }

  async loggedIn(username: string, password = 'pw'): Promise<this> {
    const form = await this.get(`${UI}/login`);
    const r = await this.request('POST', `${UI}/login`, { username, password, csrf: UiBrowser.csrf(form.text) });
    assert.equal(r.status, 303, r.text);
    return this;
  }
}
