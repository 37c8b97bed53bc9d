// The machine pages: the caller's principal → the same query services as the API (visibility in
// SQL, tenancy-sql) → the views. An invisible machine is the services' NotFoundError → 404 page.
import type Koa from 'koa';
import { ValidationError } from '../../region/errors';
import type { RegionServices } from '../../region/services';
import type { MachineView } from '../../region/services/machine-queries';
import type { Principal } from '../../region/services/principal';
import { ensureParams } from '../http';
import type { Html } from './html';
import { presentOptionsFor, temporalWorkflowUrl, type PresentOptions } from '../presenters/machine';
import { machineDetail } from './machine-views';
import { machineListPage } from './machine-list-view';
import { listQuery, listSearch, parseListState } from './machine-list-query';
import { messagePage, page, sendPage, UI_PREFIX, type PageUser } from './layout';

const RECENT_EVENTS = 50;

/** What other UI modules add to these pages (issue 19: the action bar of machine-actions-ui.ts). */
export interface MachinePageHooks {
  actionBar?: (caller: Principal, view: MachineView) => Promise<Html>;
}

export function machinePages(services: RegionServices, o: PresentOptions, hooks: MachinePageHooks = {}) {
  return {
    async list(ctx: Koa.Context, caller: Principal, user: PageUser): Promise<void> {
      // Through Params like every API parameter: a control character or unknown sort is a 400 page.
      const state = parseListState(await ensureParams(ctx));
      // One URL per view: the form's empty fields and other spellings redirect to the canonical
      // query, so bookmarks and shared links read the same as the links the page draws.
      const canonical = listSearch(state);
      const given = new URLSearchParams(ctx.querystring).toString();
      if (given !== canonical.slice(1)) return ctx.redirect(`${UI_PREFIX}/machines${canonical}`);
      try {
        const found = await services.machineList.page(caller, listQuery(state));
        sendPage(ctx, 200, page('Machines', machineListPage(state, found), user));
      } catch (err) {
        // A filter naming a zone, pool, tag or owner that does not exist: the API's words, as a page.
        if (!(err instanceof ValidationError)) throw err;
        sendPage(ctx, 400, messagePage('Request refused', err.message, user));
      }
    },

    async detail(ctx: Koa.Context, caller: Principal, user: PageUser, systemId: string): Promise<void> {
      // machineOps.read: the view plus its running operation's step (step-cache), as the API's GET.
      const view = await services.machineOps.read(caller, systemId);
      const events = await services.events.query(
        caller,
        { systemId: [view.machine.systemId], level: 'DEBUG' },
        { limit: RECENT_EVENTS },
      );
      const workflowId = view.machine.workflowId;
      const temporalUrl = workflowId ? temporalWorkflowUrl(workflowId, presentOptionsFor(o, caller)) : null;
      const actionBar = await hooks.actionBar?.(caller, view);
      sendPage(ctx, 200, page(view.machine.hostname, machineDetail({ view, events, temporalUrl, actionBar }), user));
    },
  };
}
