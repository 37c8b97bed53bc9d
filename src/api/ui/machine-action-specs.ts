// The machine actions the web UI offers, each as MAAS's UI names and confirms it, with the options
// its confirmation form asks for and the one service call that does it. The input goes through
// the API's own forms (machine-forms.ts, allocate-form.ts), so an option means here what it means to the CLI. Who
// may do what, and when, is not decided here: region/services/machine-action-offers.ts asks the
// policy and the lifecycle, and each service checks again under the machine's row lock.
import { ValidationError } from '../../region/errors';
import { authorize } from '../../region/policy';
import type { RegionServices } from '../../region/services';
import type { MachineUiAction } from '../../region/services/machine-action-offers';
import type { Principal } from '../../region/services/principal';
import { deployLayoutOf, layoutStepForDeploy } from '../../region/services/storage/layout-at-deploy';
import { Params } from '../http';
import {
  commentForm,
  commissionForm,
  deployForm,
  powerOffForm,
  powerOnForm,
  releaseForm,
  testForm,
} from '../resources/machine-forms';
import { allocateForm } from '../resources/allocate-form';
import { fieldErrors, type Refusal } from './flash';
import { html, type Html } from './html';

/** What a confirmation form's options are rendered from (read once per page). */
export interface OptionChoices {
  images: string[];
  zones: string[];
  pools: string[];
  tags: string[];
  erase: { erase: boolean; secureErase: boolean; quickErase: boolean };
  /** The deploy form's storage layouts (layout-at-deploy.ts). */
  layouts: readonly string[];
  /** The Test form's scripts (type testing), ticked as op=test's default set is chosen. */
  testingScripts: Array<{ name: string; title: string; checked: boolean }>;
}

export interface ActionSpec {
  name: MachineUiAction;
  /** The button, in MAAS's UI words ("Commission machine"). */
  label: string;
  /** "Are you sure you want to <verb> N machine(s)?" */
  verb: string;
  /** What MAAS's UI says besides the question. */
  note?: string;
  /** Whether the action needs OptionChoices' lists (zones, images, …); a refusal's field errors go beside their fields. */
  options?: (c: OptionChoices, refusal?: Refusal) => Html;
  /** The fields `options` shows errors beside (the others go at the top of the form). */
  fields?: readonly string[];
  /**
   * Checks (and for a new tag, does) what the whole request needs once, before any machine is acted
   * on; returns the parameters each machine's `run` gets. A refusal here writes nothing.
   */
  prepare?(s: RegionServices, caller: Principal, p: Params): Promise<Params>;
  /** After it is done: "<n> machine(s) <done>." */
  done: string;
  run(s: RegionServices, caller: Principal, systemId: string, p: Params): Promise<unknown>;
}

const comment = html`<p><label for="comment">Comment</label> <input id="comment" name="comment" size="50" maxlength="1000"></p>`;
const checkbox = (name: string, label: string, checked = false) =>
  html`<p><input type="hidden" name="${name}" value="false"><input type="checkbox" id="${name}" name="${name}" value="true"${checked ? html` checked` : ''}> <label for="${name}">${label}</label></p>`;
const select = (name: string, label: string, choices: string[], empty?: string) =>
  html`<p><label for="${name}">${label}</label> <select id="${name}" name="${name}" required>${empty !== undefined ? html`<option value="">${empty}</option>` : ''}${choices.map((c) => html`<option>${c}</option>`)}</select></p>`;

/** MAAS's names of its layouts (storage_layouts.py's choices). */
const LAYOUT_TITLES: Record<string, string> = {
  flat: 'Flat layout',
  lvm: 'LVM layout',
  blank: 'No storage (blank) layout',
};
/** The deploy form's default: the machine's storage as it is now. */
const KEEP_LAYOUT = '';

const layoutSelect = (layouts: readonly string[], r?: Refusal) =>
  html`<p><label for="storage_layout">Storage layout</label> <select id="storage_layout" name="storage_layout"${r?.fields.storage_layout ? html` aria-invalid="true" aria-describedby="storage_layout-error"` : ''}><option value="${KEEP_LAYOUT}" selected>Keep the machine's current storage configuration</option>${layouts.map((l) => html`<option value="${l}">${LAYOUT_TITLES[l] ?? l}</option>`)}</select>${fieldErrors(r, 'storage_layout')}</p>`;

/** The one tag the action applies: an existing one, or a new one created first (as POST tags/ creates it). */
async function tagToApply(s: RegionServices, caller: Principal, p: Params): Promise<Params> {
  authorize(caller, { object: 'tag', verb: 'update' });
  const existing = p.string('tag', { maxLength: 256 }) ?? '';
  const typed = (p.string('new_tag', { maxLength: 300 }) ?? '').trim();
  if (existing && typed) throw ValidationError.field('new_tag', 'Choose an existing tag or type a new one, not both.');
  if (!existing && !typed) throw ValidationError.field('tag', "Choose a tag, or type a new tag's name.");
  if (existing) return Params.of({ tag: existing });
  authorize(caller, { object: 'tag', verb: 'create' });
  try {
    await s.tags.create({ name: typed });
  } catch (err) {
    // The tag service names its field `name`; on this form the name is typed in new_tag.
    if (err instanceof ValidationError && err.fields.name) throw new ValidationError({ new_tag: err.fields.name });
    throw err;
  }
  return Params.of({ tag: typed });
}

/** The deploy page's user data is typed as text; the API takes it base64-encoded. */
function deployParams(p: Params): Params {
  const userData = p.get('user_data') ?? '';
  return Params.of({
    distro_series: p.get('distro_series') ?? '',
    user_data: userData.trim() ? Buffer.from(userData, 'utf8').toString('base64') : '',
    comment: p.get('comment') ?? '',
  });
}

export const ACTION_SPECS: readonly ActionSpec[] = [
  {
    name: 'commission',
    label: 'Commission machine',
    verb: 'commission',
    note: 'The machine boots the ephemeral environment, which records its hardware; then it is powered off.',
    options: () =>
      html`${checkbox('skip_networking', 'Retain network configuration (skip_networking)')}${checkbox('skip_storage', 'Retain storage configuration (skip_storage)')}`,
    done: 'started commissioning',
    run: (s, c, id, p) => s.machineOps.commission(c, id, commissionForm.parse(p)),
  },
  {
    name: 'test',
    label: 'Test machine',
    verb: 'test',
    note: 'The machine boots the ephemeral environment and runs the chosen tests; then it returns to where it was, or is left Failed testing.',
    options: (o, r) =>
      html`<fieldset id="testing-scripts"><legend>Tests</legend>${o.testingScripts.map((t) => html`<p><input type="checkbox" id="test-${t.name}" name="testing_scripts" value="${t.name}"${t.checked ? html` checked` : ''}> <label for="test-${t.name}">${t.title || t.name}</label></p>`)}${fieldErrors(r, 'testing_scripts')}</fieldset>${comment}`,
    fields: ['testing_scripts'],
    async prepare(_s, _c, p) {
      // The page's boxes are the choice: none ticked is not op=test's default set.
      if (!p.getAll('testing_scripts').some((v) => v.trim()))
        throw ValidationError.field('testing_scripts', 'Choose at least one test.');
      return p;
    },
    done: 'started testing',
    run: (s, c, id, p) =>
      s.machineOps.test(c, id, testForm.parse(Params.of({ testing_scripts: p.getAll('testing_scripts') }))),
  },
  {
    name: 'allocate',
    label: 'Allocate machine',
    verb: 'allocate',
    note: 'The machine is reserved to you until you release it.',
    options: () => comment,
    done: 'allocated',
    run: (s, c, id, p) =>
      s.allocation.allocate(c, allocateForm.parse(Params.of({ system_id: id, comment: p.get('comment') ?? '' }))),
  },
  {
    name: 'deploy',
    label: 'Deploy machine',
    verb: 'deploy',
    note: 'The OS is installed on the machine (a Ready machine is allocated to you first).',
    options: (o, r) =>
      html`${select('distro_series', 'OS image', o.images, o.images.length ? undefined : 'the default image')}
${layoutSelect(o.layouts, r)}
<p><label for="user_data">Cloud-init user data</label><br><textarea id="user_data" name="user_data" rows="8" cols="70" placeholder="#cloud-config"></textarea></p>${comment}`,
    fields: ['storage_layout'],
    done: 'started deploying',
    async prepare(_s, _c, p) {
      const layout = p.string('storage_layout', { maxLength: 64 }) ?? KEEP_LAYOUT;
      if (layout !== KEEP_LAYOUT) deployLayoutOf(layout);
      return p;
    },
    async run(s, c, id, p) {
      const o = deployForm.parse(deployParams(p));
      const layout = p.get('storage_layout') ?? KEEP_LAYOUT;
      // Laid out (and checked against this deploy) in the deploy's transaction, as
      // op=set_storage_layout then op=deploy would, but all or nothing.
      const storageLayout =
        layout === KEEP_LAYOUT ? undefined : await layoutStepForDeploy(s, c, deployLayoutOf(layout), o);
      await s.machineOps.deploy(c, id, { ...o, ...(storageLayout ? { storageLayout } : {}) });
    },
  },
  {
    name: 'release',
    label: 'Release machine',
    verb: 'release',
    note: 'The machine is powered off and returned to the pool; anything on it may be lost.',
    options: (o) =>
      html`${checkbox('erase', 'Erase disks before releasing', o.erase.erase)}${checkbox('secure_erase', 'Use secure erase', o.erase.secureErase)}${checkbox('quick_erase', 'Use quick erase (not secure)', o.erase.quickErase)}${comment}`,
    done: 'started releasing',
    run: (s, c, id, p) => s.machineOps.release(c, id, releaseForm.parse(p)),
  },
  {
    name: 'abort',
    label: 'Abort actions for machine',
    verb: 'abort the current action of',
    note: 'The operation in progress is cancelled and the machine powered off.',
    options: () => comment,
    done: 'aborted',
    run: (s, c, id, p) => s.machineOps.abort(c, id, commentForm.parse(p)),
  },
  {
    name: 'mark-broken',
    label: 'Mark machine broken',
    verb: 'mark broken',
    options: () =>
      html`<p><label for="comment">Error description</label> <input id="comment" name="comment" size="50" maxlength="1000"></p>`,
    done: 'marked broken',
    run: (s, c, id, p) => s.machineOps.markBroken(c, id, commentForm.parse(p)),
  },
  {
    name: 'mark-fixed',
    label: 'Mark machine fixed',
    verb: 'mark fixed',
    options: () => comment,
    done: 'marked fixed',
    run: (s, c, id, p) => s.machineOps.markFixed(c, id, commentForm.parse(p)),
  },
  {
    name: 'lock',
    label: 'Lock machine',
    verb: 'lock',
    note: 'A locked machine cannot be released, deployed, powered or deleted until it is unlocked.',
    options: () => comment,
    done: 'locked',
    run: (s, c, id, p) => s.machineOps.lock(c, id, true, commentForm.parse(p)),
  },
  {
    name: 'unlock',
    label: 'Unlock machine',
    verb: 'unlock',
    options: () => comment,
    done: 'unlocked',
    run: (s, c, id, p) => s.machineOps.lock(c, id, false, commentForm.parse(p)),
  },
  {
    name: 'power-on',
    label: 'Power on machine',
    verb: 'power on',
    options: () => comment,
    done: 'powered on',
    run: (s, c, id, p) => s.machineOps.power(c, id, 'on', powerOnForm.parse(p)),
  },
  {
    name: 'power-off',
    label: 'Power off machine',
    verb: 'power off',
    options: () => comment,
    done: 'powered off',
    run: (s, c, id, p) => s.machineOps.power(c, id, 'off', powerOffForm.parse(p)),
  },
  {
    name: 'tag',
    label: 'Tag machine',
    verb: 'tag',
    options: (o, r) =>
      html`<p><label for="tag">Tag</label> <select id="tag" name="tag"><option value="">Choose a tag</option>${o.tags.map((t) => html`<option>${t}</option>`)}</select>${fieldErrors(r, 'tag')}</p>
<p><label for="new_tag">Or a new tag</label> <input id="new_tag" name="new_tag" size="30" maxlength="256" pattern="[a-zA-Z0-9_\\-]+"${r?.fields.new_tag ? html` aria-invalid="true" aria-describedby="new_tag-error"` : ''}> <small>letters, digits, "_" and "-"; created and applied</small>${fieldErrors(r, 'new_tag')}</p>`,
    fields: ['tag', 'new_tag'],
    prepare: tagToApply,
    done: 'tagged',
    async run(s, c, id, p) {
      await s.machineOps.read(c, id);
      authorize(c, { object: 'tag', verb: 'update' });
      await s.tags.updateMachines(p.string('tag', { required: true, maxLength: 256 }), { add: [id], remove: [] });
    },
  },
  {
    name: 'set-zone',
    label: 'Set zone',
    verb: 'set the zone of',
    options: (o) => select('zone', 'Zone', o.zones),
    done: 'moved to the zone',
    async run(s, c, id, p) {
      await s.machineOps.read(c, id);
      authorize(c, { object: 'machine', verb: 'set-zone' });
      await s.machineOps.setZone(p.string('zone', { required: true, maxLength: 256 }), [id]);
    },
  },
  {
    name: 'set-pool',
    label: 'Set resource pool',
    verb: 'set the resource pool of',
    options: (o) => select('pool', 'Resource pool', o.pools),
    done: 'moved to the resource pool',
    run: (s, c, id, p) =>
      s.machineOps.edit(c, id, { pool: p.string('pool', { required: true, maxLength: 256 }), powerParameters: {} }),
  },
  {
    name: 'delete',
    label: 'Delete machine',
    verb: 'delete',
    note: 'The machine is removed from MAAS; its hardware is not touched. This cannot be undone.',
    done: 'deleted',
    run: (s, c, id) => s.machineOps.delete(c, id),
  },
];

export function actionSpec(name: string): ActionSpec | undefined {
  return ACTION_SPECS.find((a) => a.name === name);
}

/** MAAS's question: "Are you sure you want to commission 2 machines?" */
export function confirmationText(spec: ActionSpec, count: number): string {
  return `Are you sure you want to ${spec.verb} ${count} machine${count === 1 ? '' : 's'}?`;
}
