// The "Add machine" page (admins, MAAS's Add hardware → Machine): the same input and service as
// the API's POST machines/ (createForm parses it, MachineOperations.enrol does it), so a machine
// added here is checked and created exactly as one the CLI adds. The power type's parameters are
// rendered from its declaration (contracts/power.ts); choosing another power type swaps them in
// place (live.js, the values typed elsewhere kept), or without client JS reloads the page through
// a small GET form above the main one. Errors come back beside the
// field they name, with everything but secrets kept; nothing is written on error.
import type Koa from 'koa';
import { POWER_TYPES, type PowerField } from '../../contracts/power';
import { authorize } from '../../region/policy';
import type { RegionServices, UiSession } from '../../region/services';
import type { UiSessionService } from '../../region/services/ui-sessions';
import type { Principal } from '../../region/services/principal';
import { badRequest, ensureParams, Params } from '../http';
import { createForm } from '../resources/machine-forms';
import { fieldErrors, otherErrors, refusalOf, type Refusal } from './flash';
import { html, segment, type Html } from './html';
import { page, redirectAfterPost, sendPage, UI_PREFIX, type PageUser } from './layout';
import { LIVE_SCRIPT_PATH } from './live-script';

export const ADD_MACHINE_PATH = `${UI_PREFIX}/machines/add`;
/**
 * Filled in, as MAAS's UI preselects it: the API requires an architecture for a machine that is not
 * deployed, and a placeholder looked like a default but sent nothing (found in a real browser).
 */
const DEFAULT_ARCH = 'amd64/generic';
/** One MAC a line (or separated by commas/spaces); MAAS's UI has one input per MAC. */
const MAX_MACS = 32;

/** The form's values as typed, to show again after an error (secrets are never echoed). */
type Values = Record<string, string>;

const TOP_FIELDS = ['hostname', 'architecture', 'mac_addresses', 'description', 'power_type', 'zone', 'pool', 'domain'];

export function addMachinePages(services: RegionServices, sessions: UiSessionService) {
  const may = (caller: Principal) => authorize(caller, { object: 'machine', verb: 'create' });

  async function render(ctx: Koa.Context, user: PageUser, status: number, values: Values, refusal?: Refusal) {
    const powerType = Object.hasOwn(POWER_TYPES, values.power_type ?? '') ? values.power_type! : 'manual';
    const [zones, pools] = await Promise.all([services.zones.list(), services.pools.list()]);
    const value = (name: string, fallback = '') => values[name] ?? fallback;
    const input = (name: string, label: string, extra: Html | '' = '', fallback = '') =>
      html`<p><label for="${name}">${label}</label> <input id="${name}" name="${name}" value="${value(name, fallback)}"${describedBy(refusal, name)}${extra}>${fieldErrors(refusal, name)}</p>\n`;
    const select = (name: string, label: string, choices: string[], selected: string) =>
      html`<p><label for="${name}">${label}</label> <select id="${name}" name="${name}"${describedBy(refusal, name)}>${choices.map((c) => html`<option${c === selected ? html` selected` : ''}>${c}</option>`)}</select>${fieldErrors(refusal, name)}</p>\n`;
    const spec = POWER_TYPES[powerType]!;
    const powerFields = spec.fields.map((f) => powerInput(f, values, refusal));
    const shown = [...TOP_FIELDS, 'deployed', 'commission', ...spec.fields.map((f) => `power_parameters_${f.name}`)];
    const body = html`<form method="get" action="${ADD_MACHINE_PATH}" id="power-type-chooser">
<p><label for="choose-power-type">Power type</label> <select id="choose-power-type" name="power_type">${Object.values(POWER_TYPES).map((t) => html`<option value="${t.name}"${t.name === powerType ? html` selected` : ''}>${t.description}</option>`)}</select>
<button type="submit" id="choose-power-type-submit">Show its parameters</button></p>
</form>
<form method="post" action="${ADD_MACHINE_PATH}" id="add-machine">
<input type="hidden" name="csrf" value="${user.csrf}">
<input type="hidden" name="power_type" value="${powerType}">
${otherErrors(refusal, shown)}
<fieldset><legend>Machine</legend>
${input('hostname', 'Machine name', html` placeholder="generated when empty"`)}
${input('architecture', 'Architecture', html` list="architectures"`, DEFAULT_ARCH)}<datalist id="architectures">${architectures(services).map((a) => html`<option value="${a}">`)}</datalist>
<p><label for="mac_addresses">MAC addresses</label> <textarea id="mac_addresses" name="mac_addresses" rows="3" cols="30"${describedBy(refusal, 'mac_addresses')}>${value('mac_addresses')}</textarea>${fieldErrors(refusal, 'mac_addresses')} <small>one a line</small></p>
${select(
  'zone',
  'Zone',
  zones.map((z) => z.name),
  value('zone', 'default'),
)}
${select(
  'pool',
  'Resource pool',
  pools.map((p) => p.name),
  value('pool', pools[0]?.name ?? ''),
)}
${input('domain', 'Domain', html` placeholder="the default domain"`)}
${input('description', 'Description')}
<p><input type="checkbox" id="deployed" name="deployed" value="true"${values.deployed === 'true' ? html` checked` : ''}> <label for="deployed">Deployed</label> <small>registers a machine already running a workload, without touching it (not commissioned, not powered)</small>${fieldErrors(refusal, 'deployed')}</p>
<p><input type="hidden" name="commission" value="false"><input type="checkbox" id="commission" name="commission" value="true"${values.commission === 'false' ? '' : html` checked`}> <label for="commission">Commission after adding</label> <small>(not with Deployed)</small></p>
</fieldset>
<fieldset id="power-parameters"><legend>Power: ${spec.description}</legend>
${powerFields.length ? powerFields : html`<p>This power type has no parameters: the machine is powered by hand.</p>`}
${fieldErrors(refusal, 'power_type')}
</fieldset>
<p><button type="submit" id="add-machine-submit">Save machine</button> <a href="${UI_PREFIX}/machines">Cancel</a></p>
</form>
<script src="${LIVE_SCRIPT_PATH}" defer></script>`;
    sendPage(ctx, status, page('Add machine', body, user));
  }

  return {
    async show(ctx: Koa.Context, caller: Principal, user: PageUser): Promise<void> {
      may(caller);
      const params = await ensureParams(ctx);
      await render(ctx, user, 200, { power_type: params.fromQuery('power_type') ?? 'manual' });
    },

    async add(ctx: Koa.Context, caller: Principal, user: PageUser, session: UiSession): Promise<void> {
      may(caller);
      const params = await ensureParams(ctx);
      const values = typedValues(params);
      try {
        const input = createForm.parse(asApiParams(params));
        // Deployed machines are registered as they are; the commission box means nothing to them.
        const view = await services.machineOps.enrol(caller, {
          ...input,
          commission: input.commission && !input.deployed,
        });
        const m = view.machine;
        await sessions.setFlash(session, {
          kind: 'notice',
          text: input.deployed
            ? `Machine ${m.hostname} registered as deployed.`
            : `Machine ${m.hostname} added${input.commission ? '; commissioning started' : ''}.`,
        });
        redirectAfterPost(ctx, `${UI_PREFIX}/machine/${segment(m.systemId)}`);
      } catch (err) {
        const refusal = refusalOf(err);
        await render(ctx, user, refusal.status, values, refusal);
      }
    },
  };
}

/** The page's form → the API's parameters: MACs one a line become the repeated mac_addresses. */
function asApiParams(params: Params): Params {
  const body: Array<[string, string]> = [];
  for (const name of params.names()) {
    if (name === 'csrf') continue;
    const values = params.getAll(name);
    if (name === 'mac_addresses') {
      const macs = values.flatMap((v) => v.split(/[\s,]+/)).filter(Boolean);
      if (macs.length > MAX_MACS) throw badRequest({ mac_addresses: [`At most ${MAX_MACS} MAC addresses at once.`] });
      for (const mac of macs) body.push([name, mac]);
      continue;
    }
    // Empty fields are not given (the API's defaults apply), as MAAS's UI leaves them out.
    for (const v of values) if (v.trim() !== '') body.push([name, v]);
  }
  return new Params({ body });
}

/** What was typed, last value each (secrets dropped: never sent back in a page). */
function typedValues(params: Params): Values {
  const secrets = new Set(
    Object.values(POWER_TYPES).flatMap((t) =>
      t.fields.filter((f) => f.secret).map((f) => `power_parameters_${f.name}`),
    ),
  );
  const out: Values = {};
  for (const name of params.names()) {
    if (name === 'csrf' || secrets.has(name)) continue;
    out[name] = name === 'mac_addresses' ? params.getAll(name).join('\n') : (params.get(name) ?? '');
  }
  return out;
}

function powerInput(f: PowerField, values: Values, refusal: Refusal | undefined): Html {
  const name = `power_parameters_${f.name}`;
  const label = html`<label for="${name}">${f.label}${f.required ? ' (required)' : ''}</label>`;
  const current = values[name] ?? f.default ?? '';
  const control = f.choices
    ? html`<select id="${name}" name="${name}"${describedBy(refusal, name)}>${f.choices.map((c) => html`<option${c === current ? html` selected` : ''}>${c}</option>`)}</select>`
    : html`<input id="${name}" name="${name}" type="${f.secret ? 'password' : 'text'}" value="${f.secret ? '' : current}"${f.required ? html` required` : ''}${f.secret ? html` autocomplete="new-password"` : ''}${describedBy(refusal, name)}>`;
  return html`<p>${label} ${control}${fieldErrors(refusal, name)}</p>\n`;
}

function describedBy(refusal: Refusal | undefined, name: string): Html | '' {
  return refusal?.fields[name] ? html` aria-invalid="true" aria-describedby="${name}-error"` : '';
}

/** The architectures of the region's images, amd64/generic first (MAAS's default). */
function architectures(services: RegionServices): string[] {
  return [...new Set([DEFAULT_ARCH, ...services.bootResources.list().map((r) => r.architecture)])];
}
