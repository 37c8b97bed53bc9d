// The one-time message a POST leaves for the page it redirects to (the session's flash, migration
// 0040), and turning a refused request into what the page shows: field errors beside their fields
// (MAAS's ValidationError map), anything else as one message. The texts are the services' own.
import type { UiFlash } from '../../region/services/ui-sessions';
import { mapDomainError } from '../domain-errors';
import { ApiError } from '../http';
import { html, type Html } from './html';

export function flashBox(flash: UiFlash): Html {
  const details = flash.details?.length ? html`<ul>${flash.details.map((d) => html`<li>${d}</li>`)}</ul>` : '';
  const secret = flash.secret
    ? html`<p><label for="flash-secret">Shown this once; copy it now:</label><br><input id="flash-secret" readonly size="90" value="${flash.secret}"></p>`
    : '';
  return html`<div id="flash" class="${flash.kind}" role="${flash.kind === 'error' ? 'alert' : 'status'}"><p>${flash.text}</p>${details}${secret}</div>\n`;
}

/** A refusal as the page shows it: per field, or `__all__` for the whole request. */
export interface Refusal {
  status: number;
  fields: Record<string, string[]>;
}

/** A 4xx the API would answer (a domain error or an input error); anything else is rethrown. */
export function refusalOf(err: unknown): Refusal {
  const api = err instanceof ApiError ? err : mapDomainError(err);
  if (!api || api.status >= 500) throw err;
  if (typeof api.body === 'object') {
    const fields: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(api.body as Record<string, unknown>))
      fields[k] = Array.isArray(v) ? v.map(String) : [String(v)];
    return { status: api.status, fields };
  }
  return { status: api.status, fields: { __all__: [api.body] } };
}

/** One line for a refusal (a selection's per-machine error, a redirect's flash). */
export function refusalText(r: Refusal): string {
  return Object.entries(r.fields)
    .map(([k, v]) => (k === '__all__' ? v.join(' ') : `${k}: ${v.join(' ')}`))
    .join('; ');
}

/** The errors of one field, beside it (`aria-describedby` points here). */
export function fieldErrors(r: Refusal | undefined, name: string): Html | '' {
  const messages = r?.fields[name];
  return messages?.length ? html` <span class="error" id="${name}-error">${messages.join(' ')}</span>` : '';
}

/** Errors not beside any field on the page, at the top of the form. */
export function otherErrors(r: Refusal | undefined, shown: readonly string[]): Html | '' {
  if (!r) return '';
  const rest = Object.entries(r.fields).filter(([k]) => !shown.includes(k));
  if (!rest.length) return '';
  return html`<div class="error" role="alert" id="form-errors"><ul>${rest.map(([k, v]) => html`<li>${k === '__all__' ? '' : `${k}: `}${v.join(' ')}</li>`)}</ul></div>`;
}
