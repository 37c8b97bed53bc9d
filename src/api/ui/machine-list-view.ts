// The machine list's HTML: the filter form, counts per status, sortable headers, one page of rows.
// Every control is a plain form or link (the page works without JS); the rows carry data-* hooks
// that live.js reads to update status and power in place.
import { labelOf, type MachineStatus } from '../../contracts/lifecycle';
import type { MachineListPage } from '../../region/services/machine-list';
import type { MachineListSort } from '../../region/services/machine-list';
import { html, segment, type Html } from './html';
import { UI_PREFIX } from './layout';
import { LIST_PAGE_SIZE, listSearch, statusParam, type ListState } from './machine-list-query';
import { LIVE_SCRIPT_PATH } from './live-script';
import { selectBox, selectionForm } from './machine-selection';

export const LIVE_LIST_PATH = `${UI_PREFIX}/machines/live`;
const listHref = (s: ListState, change: Partial<ListState> = {}) => `${UI_PREFIX}/machines${listSearch(s, change)}`;
const gib = (mib: number) => `${(mib / 1024).toFixed(1)} GiB`;
/** MAAS's storage column: GB (machines.storage is MB, as MAAS stores it). */
const gb = (mb: number) => `${(mb / 1000).toFixed(1)} GB`;

const COLUMNS: Array<[string, MachineListSort | null]> = [
  ['Hostname', 'hostname'],
  ['System ID', null],
  ['Status', 'status'],
  ['Owner', 'owner'],
  ['Pool', 'pool'],
  ['Zone', 'zone'],
  ['Power', null],
  ['Cores', 'cores'],
  ['Memory', 'memory'],
  ['Storage', 'storage'],
  ['Select', null],
];

function header(s: ListState, [label, sort]: [string, MachineListSort | null]): Html {
  if (!sort) return html`<th scope="col">${label}</th>`;
  const current = s.sort === sort;
  // A click on the current column flips it; another column starts ascending. Sorting goes back to page 1.
  const href = listHref(s, { sort, descending: current && !s.descending, page: 1 });
  const aria = current ? (s.descending ? 'descending' : 'ascending') : 'none';
  const arrow = current ? (s.descending ? ' ▼' : ' ▲') : '';
  return html`<th scope="col" aria-sort="${aria}"><a href="${href}">${label}${arrow}</a></th>`;
}

function filterForm(s: ListState): Html {
  const input = (name: 'owner' | 'pool' | 'zone' | 'tags' | 'arch', label: string) =>
    html`<label>${label} <input name="${name}" value="${s[name].join(', ')}" size="10"></label> `;
  const statuses = s.status.map((v) => html`<input type="hidden" name="status" value="${v}">`);
  const keep = html`${statuses}${s.sort !== 'hostname' ? html`<input type="hidden" name="sort" value="${s.sort}">` : ''}${s.descending ? html`<input type="hidden" name="dir" value="desc">` : ''}`;
  return html`<form method="get" action="${UI_PREFIX}/machines" role="search">
<label>Search <input name="q" type="search" value="${s.q}"></label>
${input('owner', 'Owner')}${input('pool', 'Pool')}${input('zone', 'Zone')}${input('tags', 'Tag')}${input('arch', 'Architecture')}
${keep}<button type="submit">Filter</button> <a href="${UI_PREFIX}/machines">Clear filters</a>
</form>`;
}

function statusCounts(s: ListState, counts: Array<{ status: MachineStatus; count: number }>): Html {
  const all = counts.reduce((n, c) => n + c.count, 0);
  const items = [...counts]
    .sort((a, b) => a.status - b.status)
    .map(({ status, count }) => {
      const name = statusParam(status);
      const chosen = s.status.includes(name);
      const href = listHref(s, { status: chosen ? [] : [name], page: 1 });
      return html`<li><a href="${href}"${chosen ? html` aria-current="true"` : ''}>${labelOf(status)} (${count})</a></li>`;
    });
  return html`<nav aria-label="Machines by status"><ul class="counts"><li><a href="${listHref(s, { status: [], page: 1 })}"${s.status.length ? '' : html` aria-current="true"`}>All (${all})</a></li>${items}</ul></nav>`;
}

export function machineListPage(s: ListState, p: MachineListPage): Html {
  const first = p.total === 0 ? 0 : (s.page - 1) * LIST_PAGE_SIZE + 1;
  const last = Math.min(p.total, s.page * LIST_PAGE_SIZE);
  const rows = p.rows.map(
    (m) => html`<tr data-system-id="${m.systemId}">
<td><a href="${UI_PREFIX}/machine/${segment(m.systemId)}">${m.hostname}</a></td><td>${m.systemId}</td><td data-live="status" title="${m.statusMessage ?? ''}">${labelOf(m.status)}</td>
<td>${m.owner ?? '-'}</td><td>${m.pool ?? '-'}</td><td>${m.zone}</td><td data-live="power">${m.powerState}</td>
<td>${m.cpuCount}</td><td>${gib(m.memory)}</td><td>${gb(m.storage)}</td><td>${selectBox(m.systemId, m.hostname)}</td></tr>
`,
  );
  const prev = s.page > 1 ? html` · <a href="${listHref(s, { page: s.page - 1 })}" rel="prev">previous</a>` : '';
  const next = last < p.total ? html` · <a href="${listHref(s, { page: s.page + 1 })}" rel="next">next</a>` : '';
  return html`${filterForm(s)}
${statusCounts(s, p.counts)}
<p>Machines ${first}–${last} of ${p.total}${prev}${next}</p>
<table data-live-list="${LIVE_LIST_PATH}">
<thead><tr>${COLUMNS.map((c) => header(s, c))}</tr></thead>
<tbody>
${rows}</tbody>
</table>
${selectionForm()}
<script src="${LIVE_SCRIPT_PATH}" defer></script>`;
}
