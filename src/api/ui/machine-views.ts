// The machine pages' HTML: the listing table and one machine's details. Every value goes through
// `html` (escaped); nothing here reads the database.
import { labelOf } from '../../contracts/lifecycle';
import type { EventRow } from '../../region/services/event-queries';
import type { MachineView } from '../../region/services/machine-queries';
import { html, segment, type Html } from './html';
import { UI_PREFIX } from './layout';
import { selectBox, selectionForm } from './machine-selection';

const machineHref = (systemId: string) => `${UI_PREFIX}/machine/${segment(systemId)}`;
const gib = (mib: number) => `${(mib / 1024).toFixed(1)} GiB`;

function bytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  while (n >= 1000 && i < units.length - 1) {
    n /= 1000;
    i++;
  }
  return `${i === 0 ? n : n.toFixed(1)} ${units[i]}`;
}

export interface ListPage {
  views: MachineView[];
  total: number;
  q: string;
  page: number;
  limit: number;
}

export function machineList(p: ListPage): Html {
  const first = p.total === 0 ? 0 : (p.page - 1) * p.limit + 1;
  const last = Math.min(p.total, p.page * p.limit);
  const link = (n: number) =>
    `${UI_PREFIX}/machines?${new URLSearchParams({ ...(p.q ? { q: p.q } : {}), page: String(n) }).toString()}`;
  const rows = p.views.map(
    ({ machine: m, owner, pool, zone }) => html`<tr>
<td><a href="${machineHref(m.systemId)}">${m.hostname}</a></td><td>${m.systemId}</td><td>${labelOf(m.status)}</td>
<td>${owner ?? '-'}</td><td>${pool?.name ?? '-'}</td><td>${zone.name}</td><td>${m.powerState}</td>
<td>${m.cpuCount}</td><td>${gib(m.memory)}</td><td>${selectBox(m.systemId, m.hostname)}</td></tr>
`,
  );
  return html`<form method="get" action="${UI_PREFIX}/machines"><label>Hostname contains <input name="q" value="${p.q}"></label> <button type="submit">Search</button></form>
<p>Machines ${first}–${last} of ${p.total}${p.page > 1 ? html` · <a href="${link(p.page - 1)}">previous</a>` : ''}${last < p.total ? html` · <a href="${link(p.page + 1)}">next</a>` : ''}</p>
<table>
<thead><tr><th>Hostname</th><th>System ID</th><th>Status</th><th>Owner</th><th>Pool</th><th>Zone</th><th>Power</th><th>Cores</th><th>Memory</th><th>Select</th></tr></thead>
<tbody>
${rows}</tbody>
</table>
${selectionForm()}`;
}

export interface DetailPage {
  view: MachineView;
  events: EventRow[];
  /** Shown to admins only (the Temporal UI has no login and shows every machine's workflows). */
  temporalUrl: string | null;
  /** The actions the user may take now (machine-actions-ui.ts). */
  actionBar?: Html;
}

export function machineDetail({ view: v, events, temporalUrl, actionBar }: DetailPage): Html {
  const m = v.machine;
  const field = (name: string, value: string | number | Html) => html`<tr><th>${name}</th><td>${value}</td></tr>\n`;
  const workflow = m.workflowId
    ? html`<table>${field('Workflow ID', m.workflowId)}${field('Type', m.workflowType ?? '-')}${temporalUrl ? field('Temporal UI', html`<a href="${temporalUrl}" rel="noreferrer">${temporalUrl}</a>`) : ''}</table>`
    : html`<p>No workflow is running.</p>`;
  const interfaces = v.interfaces.map(
    (i) => html`<tr><td>${i.name}</td><td>${i.type}</td><td>${i.macAddress}</td><td>${i.isBoot ? 'yes' : ''}</td>
<td>${i.enabled ? 'yes' : 'no'}</td><td>${i.linkSpeed ? `${i.linkSpeed} Mbps` : '-'}</td><td>${(v.links?.get(i.id) ?? []).map((l) => `${l.ip} (${l.subnet.cidr})`).join(', ') || '-'}</td></tr>
`,
  );
  const disks = m.blockDevices.map(
    (d) =>
      html`<tr><td>${d.name}</td><td>${d.path}</td><td>${d.model}</td><td>${d.serial}</td><td>${bytes(d.size)}</td></tr>\n`,
  );
  const eventRows = events.map(
    (e) =>
      html`<tr><td>${e.created.toISOString()}</td><td>${e.level}</td><td>${e.type}</td><td>${e.description}</td></tr>\n`,
  );
  return html`<p><a href="${UI_PREFIX}/machines">All machines</a></p>
${actionBar ?? ''}<table>
${field('System ID', m.systemId)}${field('FQDN', `${m.hostname}.${m.domain}`)}${field('Status', labelOf(m.status))}${m.statusMessage ? field('Status message', m.statusMessage) : ''}
${field('Owner', v.owner ?? '-')}${field('Reserved for', v.reservedFor ?? '-')}${field('Pool', v.pool?.name ?? '-')}${field('Zone', v.zone.name)}
${field('Architecture', m.architecture)}${field('Cores', m.cpuCount)}${field('Memory', gib(m.memory))}${field('Power', `${m.powerType}: ${m.powerState}`)}
${field('OS', m.osystem ? `${m.osystem}/${m.distroSeries}` : '-')}${field('Tags', v.tags.join(', ') || '-')}${field('Locked', m.locked ? 'yes' : 'no')}${field('Rack', v.rack?.name ?? '-')}
</table>
<h2>Current workflow</h2>
${workflow}
<h2>Interfaces</h2>
<table><thead><tr><th>Name</th><th>Type</th><th>MAC</th><th>Boot</th><th>Enabled</th><th>Speed</th><th>Addresses</th></tr></thead><tbody>
${interfaces}</tbody></table>
<h2>Block devices</h2>
<table><thead><tr><th>Name</th><th>Path</th><th>Model</th><th>Serial</th><th>Size</th></tr></thead><tbody>
${disks}</tbody></table>
<h2>Recent events</h2>
<table><thead><tr><th>Time</th><th>Level</th><th>Type</th><th>Description</th></tr></thead><tbody>
${eventRows}</tbody></table>`;
}
