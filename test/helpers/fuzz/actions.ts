// Every action describe/ lists, and real ids for its path placeholders (read as admin from the
// placeholder's parent collection, so the list follows the seeded world, not a table here).
import type { ApiClient } from '../api';

export interface FuzzAction {
  handler: string;
  /** Absolute path template, e.g. /MAAS/api/2.0/machines/{system_id}/ */
  template: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  op: string | null;
  doc: string;
  anonymous: boolean;
}

interface HandlerDoc {
  name: string;
  path: string;
  actions: Array<{ method: FuzzAction['method']; op: string | null; doc: string }>;
}

export async function describedActions(api: ApiClient): Promise<FuzzAction[]> {
  const r = await api.call('GET', '/MAAS/api/2.0/describe/');
  const resources = (r.body as { resources: Array<{ anon: HandlerDoc | null; auth: HandlerDoc | null }> }).resources;
  const actions: FuzzAction[] = [];
  for (const res of resources) {
    const handler = res.auth ?? res.anon!;
    const anonymous = new Set((res.anon?.actions ?? []).map((a) => `${a.method} ${a.op ?? ''}`));
    for (const a of handler.actions) {
      actions.push({
        handler: handler.name,
        template: handler.path,
        method: a.method,
        op: a.op,
        doc: a.doc,
        anonymous: anonymous.has(`${a.method} ${a.op ?? ''}`),
      });
    }
  }
  return actions;
}

/** Which field of a listed item fills a placeholder. */
const FIELD: Record<string, string> = { fabric_id: 'id' };
const MAX_IDS = 6;

/** Real values for each placeholder of `template`, in order, each list non-empty. */
export async function realIds(api: ApiClient, adminKey: string, template: string): Promise<string[][]> {
  const placeholders = [...template.matchAll(/\{([^{}/]+)\}/g)];
  const filled: string[][] = [];
  for (const m of placeholders) {
    const parent = fillWith(
      template.slice(0, m.index),
      filled.map((ids) => ids[0]!),
    );
    const r = await api.call('GET', parent, { key: adminKey });
    const name = m[1]!;
    const field = FIELD[name] ?? name;
    const items = Array.isArray(r.body) ? (r.body as Array<Record<string, unknown>>) : [];
    const ids = items
      .map((it) => it[field])
      .filter((v) => v !== undefined && v !== null)
      .map(String);
    filled.push(ids.length > 0 ? ids.slice(0, MAX_IDS) : ['1']);
  }
  return filled;
}

/** The template with its placeholders replaced in order (values percent-encoded unless raw). */
export function fillWith(template: string, values: string[], rawLast?: string): string {
  let i = 0;
  const count = [...template.matchAll(/\{[^{}/]+\}/g)].length;
  return template.replace(/\{[^{}/]+\}/g, () => {
    const index = i++;
    if (rawLast !== undefined && index === count - 1) return rawLast;
    return encodeURIComponent(values[index] ?? '1');
  });
}
