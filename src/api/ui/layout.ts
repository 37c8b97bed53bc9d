// The page frame: one stylesheet inline (the CSP allows nothing else), the signed-in user and a
// logout form carrying the session's CSRF token.
import type Koa from 'koa';
import { Html, html, type HtmlValue } from './html';

export const UI_PREFIX = '/MAAS/r';

export interface PageUser {
  username: string;
  isAdmin: boolean;
  csrf: string;
  /** The `maas` config's maas_name, which MAAS's UI shows: in every signed-in page's title and header. */
  maasName?: string;
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
`;

export function page(title: string, body: HtmlValue, user?: PageUser): string {
  const nav = user
    ? html`<a href="${UI_PREFIX}/machines">Machines</a>
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
${body}
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
