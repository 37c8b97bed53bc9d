// One machine's details page (the list is machine-list-view.ts). Every value goes through
// `html` (escaped); nothing here reads the database.
import { labelOf } from '../../contracts/lifecycle';
import type { EventRow } from '../../region/services/event-queries';
import type { MachineView } from '../../region/services/machine-queries';
import { html, segment, type Html } from './html';
import { UI_PREFIX } from './layout';
import { LIVE_SCRIPT_PATH } from './live-script';

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
  const field = (name: string, value: string | number | Html, live?: string) =>
    html`<tr><th>${name}</th><td${live ? html` data-live="${live}"` : ''}>${value}</td></tr>\n`;
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
  // live.js polls the JSON twin for the data-live fields and events newer than the newest shown.
  const live = `${machineHref(m.systemId)}/live`;
  return html`<p><a href="${UI_PREFIX}/machines">All machines</a></p>
${actionBar ?? ''}<div data-live-machine="${live}" data-last-event="${events[0]?.id ?? 0}">
<table>
${field('System ID', m.systemId)}${field('FQDN', `${m.hostname}.${m.domain}`)}${field('Status', labelOf(m.status), 'status')}${field('Status message', m.statusMessage || '-', 'status_message')}${field('Current step', v.operationStep?.step ?? '-', 'step')}
${field('Owner', v.owner ?? '-')}${field('Reserved for', v.reservedFor ?? '-')}${field('Pool', v.pool?.name ?? '-')}${field('Zone', v.zone.name)}
${field('Architecture', m.architecture)}${field('Cores', m.cpuCount)}${field('Memory', gib(m.memory))}${field('Power', `${m.powerType}: ${m.powerState}`, 'power')}
${field('OS', m.osystem ? `${m.osystem}/${m.distroSeries}` : '-')}${field('Tags', v.tags.join(', ') || '-')}${field('Locked', m.locked ? 'yes' : 'no')}${field('Rack', v.rack?.name ?? '-')}
</table>
</div>
<h2>Current workflow</h2>
${workflow}
<h2>Interfaces</h2>
<table><thead><tr><th>Name</th><th>Type</th><th>MAC</th><th>Boot</th><th>Enabled</th><th>Speed</th><th>Addresses</th></tr></thead><tbody>
${interfaces}</tbody></table>
<h2>Block devices</h2>
<table><thead><tr><th>Name</th><th>Path</th><th>Model</th><th>Serial</th><th>Size</th></tr></thead><tbody>
${disks}</tbody></table>
<h2>Recent events</h2>
<table><thead><tr><th>Time</th><th>Level</th><th>Type</th><th>Description</th></tr></thead><tbody id="events">
${eventRows}</tbody></table>
<script src="${LIVE_SCRIPT_PATH}" defer></script>`;
}
