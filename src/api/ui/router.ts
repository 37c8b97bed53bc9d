// The web UI at /MAAS/r/ (MAAS's UI path): server-rendered pages, complete without JS (live.js,
// live-script.ts, only keeps them current), on a route table
// (http/routes.ts) like the rack API. Every page but the login needs a session (else 302 to the
// login); every POST needs the session's CSRF token. Failures become HTML pages; a machine the user
// may not see is the same 404 as one that does not exist, because both come from the same query
// service as the API.
import type Koa from 'koa';
import { ForbiddenError, NotFoundError } from '../../region/errors';
import type { RegionServices, UiSession } from '../../region/services';
import type { Principal } from '../../region/services/principal';
import { ApiError, type BodyLimits, ensureParams, hasAnyControl, notFound } from '../http';
import { ANSWERED, routeTable, type Route } from '../http/routes';
import type { PresentOptions } from '../presenters/machine';
import { messagePage, sendPage, UI_PREFIX, type PageUser } from './layout';
import { LOGIN_PATH, loginRoutes, redirectToLogin } from './login';
import { machinePages } from './machine-pages';
import { machineLive } from './machine-live';
import { sameToken, SESSION_COOKIE } from './session';
import { accountPages } from './account-pages';
import { addMachinePages } from './add-machine';
import { machineActionPages } from './machine-actions-ui';

const NOT_FOUND = 'No machine or page matches the given query.';
/** The UI's forms (login, logout) are a few short fields; anyone may post the login form. */
const UI_BODY_LIMITS: BodyLimits = { fieldsBytes: 64 * 1024, filesBytes: 0, parts: 20, partBytes: 64 * 1024 };

function securityHeaders(ctx: Koa.Context): void {
  ctx.set(
    'Content-Security-Policy',
    // Scripts and their polls from this origin only (live-script.ts): never inline, never elsewhere.
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  );
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('X-Frame-Options', 'DENY');
  ctx.set('Referrer-Policy', 'no-referrer');
  ctx.set('Cache-Control', 'no-store');
}

/** Who is signed in, looked up once per request (ctx.state.ui). */
interface Visit {
  session: UiSession | null;
  user?: PageUser;
}
interface SignedIn {
  session: UiSession;
  user: PageUser;
  caller: Principal;
}

const visitOf = (ctx: Koa.Context): Visit => ctx.state.ui as Visit;

/** Past the guard, every page but the login has a session. */
function signedIn(ctx: Koa.Context): SignedIn {
  const { session, user } = visitOf(ctx);
  if (!session || !user) throw new Error('UI route reached without a session');
  return { session, user, caller: { kind: 'user', user: session.user } };
}

/** A UI route: the handler writes its page (or redirect) itself. */
function page(
  method: Route['method'],
  path: string,
  handle: (ctx: Koa.Context, path: Record<string, string>) => Promise<void>,
): Route {
  return {
    method,
    path,
    handle: async (ctx, p) => {
      await handle(ctx, p);
      return ANSWERED;
    },
  };
}

export function uiRouter(services: RegionServices, o: PresentOptions): Koa.Middleware {
  const sessions = services.uiSessions;
  const auth = loginRoutes(services);
  const machineActions = machineActionPages(services, sessions);
  const machines = machinePages(services, o, { actionBar: machineActions.actionBar });
  const addMachine = addMachinePages(services, sessions);
  const account = accountPages(services, sessions);
  const live = machineLive(services, machineActions.offered);

  const routes: Route[] = [
    // Any method: the login handles POST, and shows the form (or returns a signed-in user) otherwise.
    page('*', '/login', (ctx) => auth.login(ctx, visitOf(ctx).session)),
    page('GET', '/', async (ctx) => ctx.redirect(`${UI_PREFIX}/machines`)),
    page('GET', '/machines', async (ctx) => {
      const { caller, user } = signedIn(ctx);
      await machines.list(ctx, caller, user);
    }),
    page('GET', '/machine/{system_id}', async (ctx, p) => {
      const { caller, user } = signedIn(ctx);
      if (hasAnyControl(p.system_id!)) throw notFound(NOT_FOUND);
      await machines.detail(ctx, caller, user, p.system_id!);
    }),
    page('POST', '/logout', (ctx) => auth.logout(ctx, signedIn(ctx).session)),
    // Issue 19: adding machines, acting on them (one, or a selection from the list), keys and users.
    ...operatorRoutes(),
    page('GET', '/static/live.js', async (ctx) => live.script(ctx)),
    page('GET', '/machines/live', (ctx) => live.list(ctx, signedIn(ctx).caller)),
    page('GET', '/machine/{system_id}/live', async (ctx, p) => {
      if (hasAnyControl(p.system_id!)) throw notFound(NOT_FOUND);
      await live.detail(ctx, signedIn(ctx).caller, p.system_id!);
    }),
  ];

  const table = routeTable({
    prefix: UI_PREFIX,
    routes,
    async guard(ctx) {
      // Read first, with the UI's limits: later ensureParams calls (login.ts) get these Params.
      if (ctx.method === 'POST') await ensureParams(ctx, UI_BODY_LIMITS);
      if (ctx.path === LOGIN_PATH) return;
      const { session, user } = visitOf(ctx);
      if (!session || !user) {
        redirectToLogin(ctx);
        return ANSWERED;
      }
      if (ctx.method === 'POST') {
        const params = await ensureParams(ctx);
        // From the form body only: a token in a URL leaks through logs, history and Referer.
        if (sameToken(params.fromBody('csrf'), session.csrf)) return;
        const message = 'This form expired or did not come from this site. Reload the page and try again.';
        sendPage(ctx, 403, messagePage('Forbidden', message, user));
        return ANSWERED;
      }
      if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
        ctx.set('Allow', 'GET, HEAD, POST');
        sendPage(ctx, 405, messagePage('Method not allowed', `${ctx.method} is not allowed here.`, user));
        return ANSWERED;
      }
    },
    unknown: () => notFound(NOT_FOUND),
  });

  function operatorRoutes(): Route[] {
    const id = (p: Record<string, string>) => {
      if (hasAnyControl(p.system_id!)) throw notFound(NOT_FOUND);
      return p.system_id!;
    };
    return [
      page('GET', '/machines/add', async (ctx) => {
        const { caller, user } = signedIn(ctx);
        await addMachine.show(ctx, caller, user);
      }),
      page('POST', '/machines/add', async (ctx) => {
        const { caller, user, session } = signedIn(ctx);
        await addMachine.add(ctx, caller, user, session);
      }),
      page('GET', '/machines/action', async (ctx) => {
        const { caller, user } = signedIn(ctx);
        await machineActions.confirmSelection(ctx, caller, user);
      }),
      page('POST', '/machines/action', async (ctx) => {
        const { caller, user, session } = signedIn(ctx);
        await machineActions.performSelection(ctx, caller, user, session);
      }),
      page('GET', '/machine/{system_id}/action/{action}', async (ctx, p) => {
        const { caller, user } = signedIn(ctx);
        await machineActions.confirm(ctx, caller, user, id(p), p.action!);
      }),
      page('POST', '/machine/{system_id}/action/{action}', async (ctx, p) => {
        const { caller, user, session } = signedIn(ctx);
        await machineActions.perform(ctx, caller, user, session, id(p), p.action!);
      }),
      page('GET', '/account', async (ctx) => {
        const { caller, user } = signedIn(ctx);
        await account.account(ctx, caller, user);
      }),
      page('POST', '/account/sshkeys', async (ctx) => {
        const { caller, user, session } = signedIn(ctx);
        await account.addSshKey(ctx, caller, user, session);
      }),
      page('POST', '/account/sshkeys/{id}/delete', async (ctx, p) => {
        const { caller, session } = signedIn(ctx);
        await account.deleteSshKey(ctx, caller, session, p.id!);
      }),
      page('POST', '/account/tokens', async (ctx) => {
        const { caller, user, session } = signedIn(ctx);
        await account.addToken(ctx, caller, user, session);
      }),
      page('POST', '/account/tokens/delete', async (ctx) => {
        const { caller, session } = signedIn(ctx);
        await account.deleteToken(ctx, caller, session);
      }),
      page('GET', '/users', async (ctx) => {
        const { caller, user } = signedIn(ctx);
        await account.users(ctx, caller, user);
      }),
      page('POST', '/users', async (ctx) => {
        const { caller, user, session } = signedIn(ctx);
        await account.addUser(ctx, caller, user, session);
      }),
      page('GET', '/users/{username}/delete', async (ctx, p) => {
        const { caller, user } = signedIn(ctx);
        await account.confirmDeleteUser(ctx, caller, user, p.username!);
      }),
      page('POST', '/users/{username}/delete', async (ctx, p) => {
        const { caller, session } = signedIn(ctx);
        await account.deleteUser(ctx, caller, session, p.username!);
      }),
    ];
  }

  return async function ui(ctx, next) {
    if (ctx.path !== UI_PREFIX && !ctx.path.startsWith(`${UI_PREFIX}/`)) return next();
    securityHeaders(ctx);
    const session = await sessions.find(ctx.cookies.get(SESSION_COOKIE));
    const user: PageUser | undefined = session
      ? {
          username: session.user.username,
          isAdmin: session.user.isSuperuser,
          csrf: session.csrf,
          maasName: await services.config.maasName(),
          flash: session.flash,
        }
      : undefined;
    ctx.state.ui = { session, user } satisfies Visit;
    try {
      await table(ctx, next);
      // A page that showed the one-time message clears it (a redirect or a JSON poll does not).
      if (session?.flash && ctx.method === 'GET' && ctx.status === 200 && ctx.response.is('html'))
        await sessions.clearFlash(session);
    } catch (err) {
      if (err instanceof NotFoundError || (err instanceof ApiError && err.status === 404))
        return sendPage(ctx, 404, messagePage('Not found', NOT_FOUND, user));
      if (err instanceof ApiError && err.status < 500)
        return sendPage(ctx, err.status, messagePage('Request refused', err.message, user));
      // The policy's refusal of a page (a user asking for an admin's page): its reason, as the API's 403.
      if (err instanceof ForbiddenError) return sendPage(ctx, 403, messagePage('Forbidden', err.message, user));
      throw err;
    }
  };
}
