// The machine pages: the caller's principal → the same query services as the API (visibility in
// SQL, tenancy-sql) → the views. An invisible machine is the services' NotFoundError → 404 page.
import type Koa from 'koa';
import type { RegionServices } from '../../region/services';
import type { MachineView } from '../../region/services/machine-queries';
import type { Principal } from '../../region/services/principal';
import { ensureParams } from '../http';
import { presentOptionsFor, temporalWorkflowUrl, type PresentOptions } from '../presenters/machine';
import type { Html } from './html';
import { machineDetail, machineList } from './machine-views';
import { page, sendPage, type PageUser } from './layout';

export const PAGE_SIZE = 100;
const RECENT_EVENTS = 50;
const MAX_QUERY = 200;

/** What other UI modules add to these pages (issue 19: the action bar of machine-actions-ui.ts). */
export interface MachinePageHooks {
  actionBar?: (caller: Principal, view: MachineView) => Promise<Html>;
}

export function machinePages(services: RegionServices, o: PresentOptions, hooks: MachinePageHooks = {}) {
  return {
    async list(ctx: Koa.Context, caller: Principal, user: PageUser): Promise<void> {
      // Through Params like every API parameter: a control character in the search is a 400 page.
      const q = ((await ensureParams(ctx)).string('q') ?? '').trim().slice(0, MAX_QUERY);
      const pageNo = Math.max(1, Math.min(1_000_000, Number.parseInt(String(ctx.query.page ?? '1'), 10) || 1));
      const { total, views } = await services.queries.page(caller, q ? { hostnameContains: q } : {}, {
        limit: PAGE_SIZE,
        offset: (pageNo - 1) * PAGE_SIZE,
      });
      sendPage(ctx, 200, page('Machines', machineList({ views, total, q, page: pageNo, limit: PAGE_SIZE }), user));
    },

    async detail(ctx: Koa.Context, caller: Principal, user: PageUser, systemId: string): Promise<void> {
      const view = await services.queries.get(caller, systemId);
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
