// The machine actions the web UI offers, each as MAAS's UI names and confirms it, with the options
// its confirmation form asks for and the one service call that does it. The input goes through
// the API's own forms (machine-forms.ts), so an option means here what it means to the CLI. Who
// may do what, and when, is not decided here: region/services/machine-action-offers.ts asks the
// policy and the lifecycle, and each service checks again under the machine's row lock.
import { authorize } from '../../region/policy';
import type { RegionServices } from '../../region/services';
import type { MachineUiAction } from '../../region/services/machine-action-offers';
import type { Principal } from '../../region/services/principal';
import { Params } from '../http';
import {
  allocateForm,
  commentForm,
  commissionForm,
  deployForm,
  powerOffForm,
  powerOnForm,
  releaseForm,
} from '../resources/machine-forms';
import { html, type Html } from './html';

/** What a confirmation form's options are rendered from (read once per page). */
export interface OptionChoices {
  images: string[];
  zones: string[];
  pools: string[];
  tags: string[];
  erase: { erase: boolean; secureErase: boolean; quickErase: boolean };
}

export interface ActionSpec {
  name: MachineUiAction;
  /** The button, in MAAS's UI words ("Commission machine"). */
  label: string;
  /** "Are you sure you want to <verb> N machine(s)?" */
  verb: string;
  /** What MAAS's UI says besides the question. */
  note?: string;
  /** Whether the action needs OptionChoices' lists (zones, images, …). */
  options?: (c: OptionChoices) => Html;
  /** After it is done: "<n> machine(s) <done>." */
  done: string;
  run(s: RegionServices, caller: Principal, systemId: string, p: Params): Promise<unknown>;
}

const comment = html`<p><label for="comment">Comment</label> <input id="comment" name="comment" size="50" maxlength="1000"></p>`;
const checkbox = (name: string, label: string, checked = false) =>
  html`<p><input type="hidden" name="${name}" value="false"><input type="checkbox" id="${name}" name="${name}" value="true"${checked ? html` checked` : ''}> <label for="${name}">${label}</label></p>`;
const select = (name: string, label: string, choices: string[], empty?: string) =>
  html`<p><label for="${name}">${label}</label> <select id="${name}" name="${name}" required>${empty !== undefined ? html`<option value="">${empty}</option>` : ''}${choices.map((c) => html`<option>${c}</option>`)}</select></p>`;

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
    options: (o) =>
      html`${select('distro_series', 'OS image', o.images, o.images.length ? undefined : 'the default image')}
<p><label for="user_data">Cloud-init user data</label><br><textarea id="user_data" name="user_data" rows="8" cols="70" placeholder="#cloud-config"></textarea></p>${comment}`,
    done: 'started deploying',
    run: (s, c, id, p) => s.machineOps.deploy(c, id, deployForm.parse(deployParams(p))),
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
    options: (o) => select('tag', 'Tag', o.tags),
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
