// The pages a user needs to get started without the CLI: their SSH keys (installed on what they
// deploy) and API keys (for the maas CLI, Juju, python-libmaas; a new key is shown once, then
// only its name and the start of its token key), and for admins the users. The same services and
// policy as the API's account/, sshkeys/ and users/ handlers.
import type Koa from 'koa';
import { authorize } from '../../region/policy';
import type { RegionServices, UiSession } from '../../region/services';
import type { Principal } from '../../region/services/principal';
import type { UiSessionService } from '../../region/services/ui-sessions';
import { formatApiKey } from '../../region/services/users';
import { badRequest, ensureParams, notFound } from '../http';
import { fieldErrors, otherErrors, refusalOf, type Refusal } from './flash';
import { html, segment, type Html } from './html';
import { page, redirectAfterPost, sendPage, UI_PREFIX, type PageUser } from './layout';

export const ACCOUNT_PATH = `${UI_PREFIX}/account`;
export const USERS_PATH = `${UI_PREFIX}/users`;
const DEFAULT_TOKEN_NAME = 'MAAS consumer';

type User = Extract<Principal, { kind: 'user' }>['user'];

/** "ssh-ed25519 AAAA…xyz comment": the type, the key's ends and the comment, never the whole blob. */
function keySummary(key: string): string {
  const [type = '', blob = '', ...comment] = key.trim().split(/\s+/);
  const short = blob.length > 20 ? `${blob.slice(0, 8)}…${blob.slice(-8)}` : blob;
  return [type, short, comment.join(' ')].filter(Boolean).join(' ');
}

const postButton = (action: string, id: string, label: string, csrf: string, extra: Html | '' = '') =>
  html`<form class="inline" method="post" action="${action}"><input type="hidden" name="csrf" value="${csrf}">${extra}<button type="submit" id="${id}">${label}</button></form>`;

/** The API's URL as this request reached the region (forwarded headers only from trusted proxies). */
// Not ctx.origin: in Koa 3 that is the Origin request header.
const apiUrl = (ctx: Koa.Context) => `${ctx.protocol}://${ctx.host}/MAAS/api/2.0/`;

export function accountPages(services: RegionServices, sessions: UiSessionService) {
  const { users, accounts } = services;
  const self = (caller: Principal): User => {
    if (caller.kind !== 'user') throw new Error('UI pages are for users');
    return caller.user;
  };

  async function showAccount(ctx: Koa.Context, caller: Principal, user: PageUser, status: number, refusal?: Refusal) {
    const me = self(caller);
    const [keys, tokens] = await Promise.all([users.sshKeys(me.id), users.tokens(me.id)]);
    const keyRows = keys.map(
      (k) =>
        html`<tr><td>${keySummary(k.key)}</td><td>${k.created.toISOString()}</td><td>${postButton(`${ACCOUNT_PATH}/sshkeys/${k.id}/delete`, `delete-sshkey-${k.id}`, 'Delete', user.csrf)}</td></tr>\n`,
    );
    const tokenRows = tokens.map(
      (t) =>
        html`<tr><td>${t.name}</td><td>${t.tokenKey.slice(0, 6)}…</td><td>${t.created.toISOString()}</td><td>${postButton(`${ACCOUNT_PATH}/tokens/delete`, `delete-token-${t.tokenKey.slice(0, 6)}`, 'Delete', user.csrf, html`<input type="hidden" name="token_key" value="${t.tokenKey}">`)}</td></tr>\n`,
    );
    const body = html`<h2>Getting started</h2>
<p>Create an API key below, then log in with the <code>maas</code> CLI (or give the key to Juju or python-libmaas):</p>
<pre id="cli-login">maas login ${me.username} ${apiUrl(ctx)} &lt;API key&gt;</pre>
<p>SSH keys added here are installed for the default user of every machine you deploy.</p>
<h2 id="sshkeys">SSH keys</h2>
${keys.length ? html`<table><thead><tr><th>Key</th><th>Added</th><th></th></tr></thead><tbody>\n${keyRows}</tbody></table>` : html`<p>No SSH keys yet.</p>`}
<form method="post" action="${ACCOUNT_PATH}/sshkeys" id="add-sshkey">
<input type="hidden" name="csrf" value="${user.csrf}">
${otherErrors(refusal, ['key', 'name'])}
<p><label for="key">Public key</label><br><textarea id="key" name="key" rows="3" cols="80" required placeholder="ssh-ed25519 AAAA… you@host"${refusal?.fields.key ? html` aria-invalid="true" aria-describedby="key-error"` : ''}></textarea>${fieldErrors(refusal, 'key')}</p>
<p><button type="submit" id="add-sshkey-submit">Import SSH key</button></p>
</form>
<h2 id="apikeys">API keys</h2>
${tokens.length ? html`<table><thead><tr><th>Name</th><th>Token key</th><th>Created</th><th></th></tr></thead><tbody>\n${tokenRows}</tbody></table>` : html`<p>No API keys yet.</p>`}
<form method="post" action="${ACCOUNT_PATH}/tokens" id="add-token">
<input type="hidden" name="csrf" value="${user.csrf}">
<p><label for="name">Name</label> <input id="name" name="name" maxlength="255" placeholder="${DEFAULT_TOKEN_NAME}">${fieldErrors(refusal, 'name')}</p>
<p><button type="submit" id="add-token-submit">Generate API key</button></p>
</form>`;
    sendPage(ctx, status, page('My keys', body, user));
  }

  async function showUsers(
    ctx: Koa.Context,
    user: PageUser,
    status: number,
    refusal?: Refusal,
    typed: Record<string, string> = {},
  ) {
    const all = (await users.list()).sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0));
    const rows = all.map(
      (u) =>
        html`<tr><td>${u.username}</td><td>${u.email}</td><td>${u.isSuperuser ? 'yes' : 'no'}</td><td>${u.username === user.username ? '' : html`<a id="delete-user-${u.username}" href="${USERS_PATH}/${segment(u.username)}/delete">Delete…</a>`}</td></tr>\n`,
    );
    const input = (name: string, label: string, type = 'text', autocomplete = 'off') =>
      html`<p><label for="${name}">${label}</label> <input id="${name}" name="${name}" type="${type}" autocomplete="${autocomplete}" required value="${type === 'password' ? '' : (typed[name] ?? '')}"${refusal?.fields[name] ? html` aria-invalid="true" aria-describedby="${name}-error"` : ''}>${fieldErrors(refusal, name)}</p>\n`;
    const body = html`<table id="users"><thead><tr><th>Username</th><th>Email</th><th>Admin</th><th></th></tr></thead><tbody>
${rows}</tbody></table>
<h2>Add user</h2>
<form method="post" action="${USERS_PATH}" id="add-user">
<input type="hidden" name="csrf" value="${user.csrf}">
${otherErrors(refusal, ['username', 'email', 'password', 'is_superuser'])}
${input('username', 'Username')}${input('email', 'Email address', 'email')}${input('password', 'Password', 'password', 'new-password')}
<p><input type="hidden" name="is_superuser" value="false"><input type="checkbox" id="is_superuser" name="is_superuser" value="true"${typed.is_superuser === 'true' ? html` checked` : ''}> <label for="is_superuser">MAAS administrator</label></p>
<p><button type="submit" id="add-user-submit">Save user</button></p>
</form>`;
    sendPage(ctx, status, page('Users', body, user));
  }

  const keyId = (raw: string): number => {
    if (!/^\d{1,9}$/.test(raw)) throw notFound('No machine or page matches the given query.');
    return Number(raw);
  };

  return {
    account: (ctx: Koa.Context, caller: Principal, user: PageUser) => showAccount(ctx, caller, user, 200),

    async addSshKey(ctx: Koa.Context, caller: Principal, user: PageUser, session: UiSession) {
      authorize(caller, { object: 'sshkey', verb: 'create' });
      const params = await ensureParams(ctx);
      try {
        const key = params.string('key', { required: true, maxLength: 16_384 }).trim();
        await users.addSshKey(self(caller).id, key);
        await sessions.setFlash(session, { kind: 'notice', text: `SSH key ${keySummary(key)} imported.` });
        redirectAfterPost(ctx, `${ACCOUNT_PATH}#sshkeys`);
      } catch (err) {
        const r = refusalOf(err);
        // The service's duplicate is a conflict; beside the key it is what it is about (MAAS: a form error).
        await showAccount(ctx, caller, user, r.status === 409 ? 400 : r.status, {
          ...r,
          fields: r.fields.__all__ ? { key: r.fields.__all__ } : r.fields,
        });
      }
    },

    async deleteSshKey(ctx: Koa.Context, caller: Principal, session: UiSession, id: string) {
      authorize(caller, { object: 'sshkey', verb: 'delete' });
      await users.deleteSshKey(self(caller).id, keyId(id));
      await sessions.setFlash(session, { kind: 'notice', text: 'SSH key deleted.' });
      redirectAfterPost(ctx, `${ACCOUNT_PATH}#sshkeys`);
    },

    async addToken(ctx: Koa.Context, caller: Principal, user: PageUser, session: UiSession) {
      authorize(caller, { object: 'token', verb: 'create' });
      const params = await ensureParams(ctx);
      try {
        const name = params.string('name', { maxLength: 255 })?.trim() || DEFAULT_TOKEN_NAME;
        const token = await users.createToken(self(caller).id, name);
        // Shown once, by the page this redirects to; afterwards only the name and the key's start.
        await sessions.setFlash(session, {
          kind: 'notice',
          text: `API key "${name}" generated.`,
          secret: formatApiKey(token),
        });
        redirectAfterPost(ctx, `${ACCOUNT_PATH}#apikeys`);
      } catch (err) {
        const r = refusalOf(err);
        await showAccount(ctx, caller, user, r.status, r);
      }
    },

    async deleteToken(ctx: Koa.Context, caller: Principal, session: UiSession) {
      authorize(caller, { object: 'token', verb: 'delete' });
      const params = await ensureParams(ctx);
      await users.deleteToken(self(caller).id, params.string('token_key', { required: true, maxLength: 255 }));
      await sessions.setFlash(session, { kind: 'notice', text: 'API key deleted.' });
      redirectAfterPost(ctx, `${ACCOUNT_PATH}#apikeys`);
    },

    async users(ctx: Koa.Context, caller: Principal, user: PageUser) {
      authorize(caller, { object: 'user', verb: 'create' });
      await showUsers(ctx, user, 200);
    },

    async addUser(ctx: Koa.Context, caller: Principal, user: PageUser, session: UiSession) {
      authorize(caller, { object: 'user', verb: 'create' });
      const params = await ensureParams(ctx);
      const typed = {
        username: params.get('username') ?? '',
        email: params.get('email') ?? '',
        is_superuser: params.get('is_superuser') ?? '',
      };
      try {
        const input = {
          username: params.string('username', { required: true, maxLength: 150 }),
          email: params.string('email', { required: true, maxLength: 254 }),
          password: params.string('password', { required: true }),
          isSuperuser: params.bool('is_superuser') ?? false,
        };
        if (!/^[^@\s]+@[^@\s]+$/.test(input.email)) throw badRequest({ email: ['Enter a valid email address.'] });
        const created = await users.create(input);
        await sessions.setFlash(session, { kind: 'notice', text: `User ${created.username} added.` });
        redirectAfterPost(ctx, USERS_PATH);
      } catch (err) {
        const r = refusalOf(err);
        await showUsers(ctx, user, r.status, r, typed);
      }
    },

    async confirmDeleteUser(ctx: Koa.Context, caller: Principal, user: PageUser, username: string) {
      authorize(caller, { object: 'user', verb: 'delete' });
      const target = await users.byUsername(username);
      const others = (await users.list()).filter((u) => u.id !== target.id).map((u) => u.username);
      const body = html`<form method="post" action="${USERS_PATH}/${segment(target.username)}/delete" id="delete-user">
<input type="hidden" name="csrf" value="${user.csrf}">
<p id="confirmation-text">Are you sure you want to delete user ${target.username}?</p>
<p><label for="transfer_resources_to">Give their machines to</label> <select id="transfer_resources_to" name="transfer_resources_to"><option value="">nobody (refused if they own machines)</option>${others.map((u) => html`<option>${u}</option>`)}</select></p>
<p><button type="submit" id="delete-user-submit">Delete user</button> <a href="${USERS_PATH}">Cancel</a></p>
</form>`;
      sendPage(ctx, 200, page(`Delete user ${target.username}`, body, user));
    },

    async deleteUser(ctx: Koa.Context, caller: Principal, session: UiSession, username: string) {
      authorize(caller, { object: 'user', verb: 'delete' });
      const params = await ensureParams(ctx);
      const transfer = params.string('transfer_resources_to', { maxLength: 150 }) || undefined;
      try {
        await accounts.deleteUser(self(caller).id, username, transfer);
        await sessions.setFlash(session, { kind: 'notice', text: `User ${username} deleted.` });
      } catch (err) {
        await sessions.setFlash(session, {
          kind: 'error',
          text: `User ${username} was not deleted: ${refusalOf(err).fields.__all__?.join(' ') ?? Object.values(refusalOf(err).fields).flat().join(' ')}`,
        });
      }
      redirectAfterPost(ctx, USERS_PATH);
    },
  };
}
