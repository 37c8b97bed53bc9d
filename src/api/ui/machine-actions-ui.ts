// Acting on machines from the web UI: the detail page's action bar, one machine's confirmation page
// and its POST, and the same for a selection from the list. What is offered is the region's answer
// (services.actionOffers: the policy and the lifecycle); a POST asks again before it acts, so an
// action not offered (a forged or stale form) is refused with the reason, and the service checks
// once more under the machine's row lock. A result is shown once by the page the POST redirects to.
import type Koa from 'koa';
import { labelOf } from '../../contracts/lifecycle';
import type { RegionServices, UiSession } from '../../region/services';
import type { MachineView } from '../../region/services/machine-queries';
import type { NotOffered, Offers } from '../../region/services/machine-action-offers';
import type { Principal } from '../../region/services/principal';
import { SCRIPT_TYPE } from '../../region/services/scripts/script-enums';
import { DEPLOY_LAYOUTS } from '../../region/services/storage/layout-at-deploy';
import type { UiSessionService } from '../../region/services/ui-sessions';
import { badRequest, ensureParams, notFound, type Params } from '../http';
import { otherErrors, refusalOf, refusalText, type Refusal } from './flash';
import { html, segment, type Html } from './html';
import { page, redirectAfterPost, sendPage, UI_PREFIX, type PageUser } from './layout';
import {
  ACTION_SPECS,
  actionSpec,
  confirmationText,
  type ActionSpec,
  type OptionChoices,
} from './machine-action-specs';

/** One link of the action bar. */
export interface OfferedAction {
  name: string;
  label: string;
  href: string;
}
/** The action bar without actions (live.js writes the same text when the last one goes). */
export const NO_ACTIONS = 'No action is available to you on this machine now.';

/** A selection is acted on machine by machine; this bounds one request's work. */
export const MAX_SELECTION = 50;
/** Machines of a selection acted on at once (a power action waits for the BMC). */
const SELECTION_CONCURRENCY = 4;

const machinePath = (systemId: string) => `${UI_PREFIX}/machine/${segment(systemId)}`;
const actionPath = (systemId: string, action: string) => `${machinePath(systemId)}/action/${segment(action)}`;
export const SELECTION_PATH = `${UI_PREFIX}/machines/action`;

const refusalFrom = (n: NotOffered): Refusal => ({
  status: n.kind === 'forbidden' ? 403 : 409,
  fields: { __all__: [n.reason] },
});

export function machineActionPages(services: RegionServices, sessions: UiSessionService) {
  const ops = services.machineOps;
  const offersFor = (caller: Principal, view: MachineView): Promise<Offers> =>
    services.actionOffers.of(caller, view.machine);

  async function choices(spec: ActionSpec): Promise<OptionChoices> {
    const none: OptionChoices = {
      images: [],
      zones: [],
      pools: [],
      tags: [],
      erase: { erase: false, secureErase: false, quickErase: false },
      layouts: [],
      testingScripts: [],
    };
    switch (spec.name) {
      case 'deploy':
        return {
          ...none,
          images: [...new Set(services.bootResources.list().map((r) => r.name))],
          layouts: DEPLOY_LAYOUTS,
        };
      case 'test':
        // Ticked: op=test's default set, the testing scripts tagged commissioning (MAAS's too).
        return {
          ...none,
          testingScripts: (await services.scripts.list({ type: SCRIPT_TYPE.testing })).map((t) => ({
            name: t.name,
            title: t.title,
            checked: t.tags.includes('commissioning'),
          })),
        };
      case 'release':
        return { ...none, erase: await services.config.eraseDefaults() };
      case 'set-zone':
        return { ...none, zones: (await services.zones.list()).map((z) => z.name) };
      case 'set-pool':
        return { ...none, pools: (await services.pools.list()).map((p) => p.name) };
      case 'tag':
        return { ...none, tags: (await services.tags.list()).map((t) => t.name) };
      default:
        return none;
    }
  }

  /** The confirmation form: MAAS's question, the options, CSRF, the action's button. */
  async function confirmForm(
    spec: ActionSpec,
    user: PageUser,
    o: { action: string; count: number; hidden: Html | ''; refusal?: Refusal; cancel: string },
  ): Promise<Html> {
    const options = spec.options?.(await choices(spec), o.refusal) ?? '';
    return html`<form method="post" action="${o.action}" id="confirm-action">
<input type="hidden" name="csrf" value="${user.csrf}">${o.hidden}
${otherErrors(o.refusal, spec.fields ?? [])}
<p id="confirmation-text">${confirmationText(spec, o.count)}</p>${spec.note ? html`<p>${spec.note}</p>` : ''}
${options}
<p><button type="submit" id="confirm-action-submit" name="confirm" value="${spec.name}">${spec.label}</button> <a href="${o.cancel}">Cancel</a></p>
</form>`;
  }

  async function showConfirm(
    ctx: Koa.Context,
    user: PageUser,
    view: MachineView,
    spec: ActionSpec,
    status: number,
    refusal?: Refusal,
  ): Promise<void> {
    const m = view.machine;
    const form = await confirmForm(spec, user, {
      action: actionPath(m.systemId, spec.name),
      count: 1,
      hidden: '',
      refusal,
      cancel: machinePath(m.systemId),
    });
    sendPage(ctx, status, page(`${spec.label}: ${m.hostname}`, form, user));
  }

  /** The action the path names, or the 404 page. */
  function specOf(name: string): ActionSpec {
    const spec = actionSpec(name);
    if (!spec) throw notFound('No machine or page matches the given query.');
    return spec;
  }

  async function selectionRows(caller: Principal, spec: ActionSpec, systemIds: string[]) {
    return Promise.all(
      systemIds.map(async (systemId) => {
        try {
          const view = await ops.read(caller, systemId);
          return { systemId, view, no: (await offersFor(caller, view))[spec.name] };
        } catch (err) {
          refusalOf(err); // a 5xx is not "no such machine"
          return { systemId, view: null, no: null };
        }
      }),
    );
  }

  /** The actions offered now, as the action bar links them (live.js rebuilds the bar from these). */
  async function offered(caller: Principal, view: MachineView): Promise<OfferedAction[]> {
    const offers = await offersFor(caller, view);
    return ACTION_SPECS.filter((a) => offers[a.name] === null).map((a) => ({
      name: a.name,
      label: `${a.label}…`,
      href: actionPath(view.machine.systemId, a.name),
    }));
  }

  return {
    offered,

    /** The detail page's action bar: a link to each offered action's confirmation. */
    async actionBar(caller: Principal, view: MachineView): Promise<Html> {
      const actions = await offered(caller, view);
      if (!actions.length) return html`<p id="machine-actions">${NO_ACTIONS}</p>`;
      return html`<nav class="actions" id="machine-actions" aria-label="Machine actions">${actions.map(
        (a) => html`<a id="action-${a.name}" href="${a.href}">${a.label}</a>`,
      )}</nav>\n`;
    },

    async confirm(ctx: Koa.Context, caller: Principal, user: PageUser, systemId: string, action: string) {
      const spec = specOf(action);
      const view = await ops.read(caller, systemId);
      const no = (await offersFor(caller, view))[spec.name];
      if (no) return sendPage(ctx, refusalFrom(no).status, page(spec.label, notOfferedBody(view, no), user));
      await showConfirm(ctx, user, view, spec, 200);
    },

    async perform(
      ctx: Koa.Context,
      caller: Principal,
      user: PageUser,
      session: UiSession,
      systemId: string,
      action: string,
    ) {
      const spec = specOf(action);
      const params = await ensureParams(ctx);
      const view = await ops.read(caller, systemId);
      const no = (await offersFor(caller, view))[spec.name];
      if (no) return sendPage(ctx, refusalFrom(no).status, page(spec.label, notOfferedBody(view, no), user));
      try {
        const prepared = spec.prepare ? await spec.prepare(services, caller, params) : params;
        await spec.run(services, caller, systemId, prepared);
      } catch (err) {
        return showConfirm(ctx, user, view, spec, refusalOf(err).status, refusalOf(err));
      }
      await sessions.setFlash(session, { kind: 'notice', text: `${view.machine.hostname} ${spec.done}.` });
      redirectAfterPost(ctx, spec.name === 'delete' ? `${UI_PREFIX}/machines` : machinePath(systemId));
    },

    /** A selection's confirmation: which of the machines it applies to, and why not to the others. */
    async confirmSelection(ctx: Koa.Context, caller: Principal, user: PageUser) {
      await showSelection(ctx, caller, user, await ensureParams(ctx));
    },

    /** Acts on each machine of the selection; the list then shows what was done and each refusal. */
    async performSelection(ctx: Koa.Context, caller: Principal, user: PageUser, session: UiSession) {
      const params = await ensureParams(ctx);
      const { spec, systemIds } = selectionOf(params);
      let prepared = params;
      try {
        // Once for the whole selection (a new tag is created once): refused, nothing is done.
        if (spec.prepare) prepared = await spec.prepare(services, caller, params);
      } catch (err) {
        return showSelection(ctx, caller, user, params, refusalOf(err));
      }
      const done: string[] = [];
      const failed: string[] = [];
      await eachLimited(systemIds, SELECTION_CONCURRENCY, async (systemId) => {
        const name = { current: systemId };
        try {
          const view = await ops.read(caller, systemId);
          name.current = view.machine.hostname;
          const no = (await offersFor(caller, view))[spec.name];
          if (no) throw Object.assign(new Error(no.reason), { notOffered: no });
          await spec.run(services, caller, systemId, prepared);
          done.push(name.current);
        } catch (err) {
          const notOffered = (err as { notOffered?: NotOffered }).notOffered;
          failed.push(`${name.current}: ${notOffered ? notOffered.reason : refusalText(refusalOf(err))}`);
        }
      });
      const text = `${done.length} machine${done.length === 1 ? '' : 's'} ${spec.done}${failed.length ? `; ${failed.length} not` : ''}.`;
      await sessions.setFlash(session, {
        kind: failed.length ? 'error' : 'notice',
        text,
        ...(failed.length ? { details: failed } : {}),
      });
      redirectAfterPost(ctx, `${UI_PREFIX}/machines`);
    },
  };

  async function showSelection(
    ctx: Koa.Context,
    caller: Principal,
    user: PageUser,
    params: Params,
    refusal?: Refusal,
  ): Promise<void> {
    const { spec, systemIds } = selectionOf(params);
    const rows = await selectionRows(caller, spec, systemIds);
    const applicable = rows.filter((r) => r.view && !r.no);
    const list = html`<table id="selection"><thead><tr><th>Machine</th><th>Status</th><th>This action</th></tr></thead><tbody>
${rows.map((r) => html`<tr><td>${r.view?.machine.hostname ?? r.systemId}</td><td>${r.view ? labelOf(r.view.machine.status) : '-'}</td><td>${r.view ? (r.no ? `skipped: ${r.no.reason}` : 'yes') : 'skipped: no such machine'}</td></tr>\n`)}</tbody></table>`;
    const form = applicable.length
      ? await confirmForm(spec, user, {
          action: SELECTION_PATH,
          count: applicable.length,
          hidden: html`<input type="hidden" name="action" value="${spec.name}">${applicable.map((r) => html`<input type="hidden" name="system_id" value="${r.systemId}">`)}`,
          cancel: `${UI_PREFIX}/machines`,
          refusal,
        })
      : html`<p class="error" role="alert">${spec.label} is not available for any of the selected machines.</p><p><a href="${UI_PREFIX}/machines">Back to the machines</a></p>`;
    const status = refusal ? refusal.status : applicable.length ? 200 : 409;
    sendPage(ctx, status, page(`${spec.label}: selection`, html`${list}${form}`, user));
  }
}

/** The selection's action and machines, bounded. */
function selectionOf(params: Params): { spec: ActionSpec; systemIds: string[] } {
  const name = params.string('action', { required: true, maxLength: 64 });
  const spec = actionSpec(name);
  if (!spec) throw badRequest(`Unknown action '${name}'.`);
  const systemIds = [...new Set(params.getAll('system_id', { maxValues: MAX_SELECTION }))].filter(Boolean);
  if (!systemIds.length) throw badRequest('Select at least one machine.');
  return { spec, systemIds };
}

function notOfferedBody(view: MachineView, no: NotOffered): Html {
  return html`<p class="error" role="alert" id="not-offered">${no.reason}</p><p><a href="${machinePath(view.machine.systemId)}">Back to ${view.machine.hostname}</a></p>`;
}

async function eachLimited<T>(items: T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
