// The JSON the pages' live.js polls: the changing fields of the machines on a list page, and one
// machine's status, power, current workflow step and events newer than the page's last. Same
// session, visibility and 404s as the pages themselves (an invisible machine is left out of the
// list's answer, and is a 404 for the detail's).
import type Koa from 'koa';
import { labelOf } from '../../contracts/lifecycle';
import type { RegionServices } from '../../region/services';
import { MACHINE_LIST_MAX_LIMIT } from '../../region/services/machine-list';
import type { Principal } from '../../region/services/principal';
import type { MachineView } from '../../region/services/machine-queries';
import { ensureParams } from '../http';
import type { OfferedAction } from './machine-actions-ui';
import { LIVE_SCRIPT } from './live-script';
import { LIST_PAGE_SIZE } from './machine-list-query';

/** Events one poll returns at most (a page shows 50; a busier second waits for the next poll). */
const LIVE_EVENTS = 50;

function sendJson(ctx: Koa.Context, body: unknown): void {
  ctx.status = 200;
  ctx.type = 'application/json';
  ctx.body = JSON.stringify(body);
}

/** The actions a machine's page offers now (machine-actions-ui.ts), so its bar follows the status. */
export type OfferedActions = (caller: Principal, view: MachineView) => Promise<OfferedAction[]>;

export function machineLive(services: RegionServices, offered?: OfferedActions) {
  return {
    script(ctx: Koa.Context): void {
      ctx.status = 200;
      ctx.type = 'text/javascript; charset=utf-8';
      ctx.body = LIVE_SCRIPT;
    },

    async list(ctx: Koa.Context, caller: Principal): Promise<void> {
      // One page's rows at most (the page shows LIST_PAGE_SIZE; the service caps harder still).
      const ids = (await ensureParams(ctx)).list('id', { maxValues: Math.min(LIST_PAGE_SIZE, MACHINE_LIST_MAX_LIMIT) });
      const rows = await services.machineList.live(caller, ids);
      sendJson(ctx, {
        machines: rows.map((r) => ({
          system_id: r.systemId,
          status_name: labelOf(r.status),
          status_message: r.statusMessage,
          power_state: r.powerState,
        })),
      });
    },

    async detail(ctx: Koa.Context, caller: Principal, systemId: string): Promise<void> {
      const after = (await ensureParams(ctx)).int('after', { min: 0, max: Number.MAX_SAFE_INTEGER }) ?? 0;
      const view = await services.machineOps.read(caller, systemId);
      const m = view.machine;
      const events = await services.events.query(
        caller,
        { systemId: [m.systemId], level: 'DEBUG' },
        { limit: LIVE_EVENTS, after },
      );
      sendJson(ctx, {
        system_id: m.systemId,
        status_name: labelOf(m.status),
        status_message: m.statusMessage || null,
        power: `${m.powerType}: ${m.powerState}`,
        operation_step: view.operationStep ?? null,
        // A status change changes what may be done: without this the bar kept, say, Abort after Ready.
        actions: offered ? await offered(caller, view) : undefined,
        events: events.map((e) => ({
          id: e.id,
          created: e.created.toISOString(),
          level: e.level,
          type: e.type,
          description: e.description,
        })),
      });
    },
  };
}
