// The page frame: one stylesheet inline (the CSP allows nothing else), the signed-in user and a
// logout form carrying the session's CSRF token.
import type Koa from 'koa';
import type { UiFlash } from '../../region/services/ui-sessions';
import { flashBox } from './flash';
import { Html, html, type HtmlValue } from './html';

export const UI_PREFIX = '/MAAS/r';

export interface PageUser {
  username: string;
  isAdmin: boolean;
  csrf: string;
  /** The `maas` config's maas_name, which MAAS's UI shows: in every signed-in page's title and header. */
  maasName?: string;
  /** What the POST before this page did (shown once; the router clears it after a page). */
  flash?: UiFlash | null;
}

const STYLE = `
body { font-family: system-ui, sans-serif; margin: 0; color: #222; }
header { background: #333; color: #fff; padding: .5em 1em; display: flex; gap: 1em; align-items: center; }
header a { color: #fff; } header .who { margin-left: auto; }
main { padding: 1em; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
th, td { border-bottom: 1px solid #ddd; padding: .25em .75em; text-align: left; vertical-align: top; }
th { background: #f4f4f4; }
.error { color: #a00; } form.inline { display: inline; }
.notice { color: #060; } #flash { border: 1px solid currentColor; padding: 0 1em; margin-bottom: 1em; }
.actions a, .actions button { margin-right: .5em; } fieldset { margin-bottom: 1em; } label { display: inline-block; min-width: 10em; }
`;

export function page(title: string, body: HtmlValue, user?: PageUser): string {
  const nav = user
    ? html`<a href="${UI_PREFIX}/machines">Machines</a>${accountLinks(user)}
  <span class="who">${user.username}${user.isAdmin ? ' (admin)' : ''}</span>
  <form class="inline" method="post" action="${UI_PREFIX}/logout"><input type="hidden" name="csrf" value="${user.csrf}"><button type="submit">Log out</button></form>`
    : '';
  return html`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>${title} | ${user?.maasName ?? 'metalflow'}</title><style>${new Html(STYLE)}</style></head>
<body>
<header><strong>${user?.maasName ?? 'metalflow'}</strong> ${nav}</header>
<main>
<h1>${title}</h1>
${user?.flash ? flashBox(user.flash) : ''}${body}
</main>
</body>
</html>
`.text;
}

/** An error or notice page (404, 401, 403): the message only, nothing about the request. */
export function messagePage(title: string, message: string, user?: PageUser): string {
  return page(title, html`<p class="error">${message}</p>`, user);
}

export function sendPage(ctx: Koa.Context, status: number, body: string): void {
  ctx.status = status;
  ctx.type = 'text/html; charset=utf-8';
  ctx.body = body;
}

/** 303 after a POST, so a reload does not post again. */
export function redirectAfterPost(ctx: Koa.Context, to: string): void {
  ctx.redirect(to);
  ctx.status = 303;
}

/** The pages every user has (their keys), and the admins' (adding machines, users). */
function accountLinks(user: PageUser): Html {
  return html`${user.isAdmin ? html` <a id="nav-add-machine" href="${UI_PREFIX}/machines/add">Add machine</a> <a id="nav-users" href="${UI_PREFIX}/users">Users</a>` : ''} <a id="nav-account" href="${UI_PREFIX}/account">My keys</a>`;
}
