// MAAS's NodeScriptsHandler (scripts/) and NodeScriptHandler (scripts/{name}): everyone reads
// scripts, admins upload and change them (the policy's `script` rules). The built-in scripts
// cannot be deleted, reverted or edited beyond their tags and timeout (MAAS's wording).
import type { RegionServices } from '../../region/services';
import type { Principal } from '../../region/services/principal';
import type { ScriptRequest } from '../../region/services/scripts/script-metadata';
import { SCRIPT_MAX_BYTES } from '../../region/services/scripts/script-metadata';
import { field, form, Reply, type Resource } from '../http';
import { presentScript } from '../presenters/script';
import { translateHardwareType, translateScriptType } from '../presenters/script-types';
import { action, may } from './access';

const readForm = form(
  {
    type: field.text('Only scripts of this type: commissioning, testing or release (or the number).', {
      maxLength: 32,
    }),
    hardware_type: field.text('Only scripts for this hardware: node, cpu, memory, storage, network, gpu.', {
      maxLength: 32,
    }),
    include_script: field.bool('Include the base64-encoded script in each history entry.'),
    filters: field.text('Comma-separated script names or tags to show.', { maxLength: 4096 }),
  },
  (v) => ({
    type: v.type === undefined ? undefined : translateScriptType(v.type),
    hardwareType: v.hardware_type === undefined ? undefined : translateHardwareType(v.hardware_type),
    includeScript: v.include_script === true,
    filters: v.filters?.split(','),
  }),
);

/** create and update: the same fields (MAAS's ScriptForm); name is required on create (the service says so). */
const scriptForm = () =>
  form(
    {
      name: field.text('The name of the script (not a number, no spaces or quotes).', { maxLength: 255 }),
      title: field.text('The title of the script.', { maxLength: 255 }),
      description: field.text('A description of what the script does.', { maxLength: 65_536 }),
      tags: field.text('A comma-separated list of tags for this script.', { maxLength: 4096 }),
      type: field.text('When the script runs: commissioning, testing or release (default testing).', {
        maxLength: 32,
      }),
      hardware_type: field.text('The hardware it tests: node (default), cpu, memory, storage, network, gpu.', {
        maxLength: 32,
      }),
      parallel: field.text('Whether it may run in parallel: disabled (0), instance (1) or any (2).', {
        maxLength: 32,
      }),
      timeout: field.text('How long the script may run: seconds or HH:MM:SS; 0 for no limit.', { maxLength: 32 }),
      destructive: field.bool('Whether the script overwrites data (only run where allowed).'),
      script: field.file(
        'The script: its text, with MAAS 1.0 metadata embedded as YAML between `# --- Start MAAS 1.0 script metadata ---` and `# --- End MAAS 1.0 script metadata ---`; values given here must agree with it (tags and timeout aside).',
        { maxBytes: SCRIPT_MAX_BYTES },
      ),
      comment: field.text('A comment about this version of the script (with script only).', { maxLength: 4096 }),
      for_hardware: field.text(
        'Hardware it runs on: modalias:, pci:VVVV:PPPP, usb:VVVV:PPPP, system_vendor:, system_product:, system_version:, mainboard_vendor:, mainboard_product: (comma-separated).',
        { maxLength: 4096 },
      ),
      may_reboot: field.bool('Whether the script may reboot the machine.'),
      recommission: field.bool('Whether commissioning runs again after this script (commissioning scripts).'),
      apply_configured_networking: field.bool("Whether the machine's configured networking is applied first."),
      packages: field.json(
        'Packages the script needs, as JSON: {"apt": [...], "snap": [...], "url": [...]}. Only an empty one is accepted: the ephemeral environment cannot install packages (a non-empty one is a 400).',
      ),
    },
    (v): ScriptRequest => ({
      name: v.name,
      title: v.title,
      description: v.description,
      tags: v.tags,
      type: v.type,
      hardwareType: v.hardware_type,
      parallel: v.parallel,
      timeout: v.timeout,
      destructive: v.destructive,
      script: v.script,
      comment: v.comment,
      forHardware: v.for_hardware,
      mayReboot: v.may_reboot,
      recommission: v.recommission,
      applyConfiguredNetworking: v.apply_configured_networking,
      packages: v.packages,
    }),
  );

export function scriptResources(deps: { services: Pick<RegionServices, 'scripts'> }): Array<Resource<Principal>> {
  const { scripts } = deps.services;
  return [
    {
      name: 'NodeScriptsHandler',
      path: '/scripts/',
      doc: 'Manage custom scripts.',
      actions: [
        action({
          method: 'GET',
          access: may('script', 'read'),
          form: readForm,
          doc: 'List the stored scripts: the built-in ones and those uploaded.',
          handle: async (c) => (await scripts.list(c.form)).map((s) => presentScript(s, c.form.includeScript)),
        }),
        action({
          method: 'POST',
          access: may('script', 'change'),
          form: scriptForm(),
          doc: 'Create a script (admin only): name and script required, unless the embedded YAML names it.',
          handle: async (c) => presentScript(await scripts.create(c.form), false),
        }),
      ],
    },
    {
      name: 'NodeScriptHandler',
      path: '/scripts/{name}',
      doc: 'Manage or view a custom script.',
      actions: [
        action({
          method: 'GET',
          access: may('script', 'read'),
          form: form({ include_script: field.bool('Include the base64-encoded script in its history.') }),
          doc: 'A script by name or id.',
          handle: async (c) => presentScript(await scripts.get(c.path.name!), c.form.include_script === true),
        }),
        action({
          method: 'GET',
          op: 'download',
          access: may('script', 'read'),
          form: form(
            {
              revision: field.int('The version id in the history to download (default: the current one).', {
                min: 0,
              }),
              rev: field.int('Short for revision.', { min: 0 }),
            },
            (v) => v.revision ?? v.rev,
          ),
          doc: "The script's text, or that of a revision in its history.",
          handle: async (c) => Reply.bytes(await scripts.download(c.path.name!, c.form), 'application/binary'),
        }),
        action({
          method: 'PUT',
          access: may('script', 'change'),
          form: scriptForm(),
          doc: 'Update a script (admin only); a new script keeps the old text in its history. Built-in scripts: tags and timeout only.',
          handle: async (c) => presentScript(await scripts.update(c.path.name!, c.form), false),
        }),
        action({
          method: 'DELETE',
          access: may('script', 'change'),
          doc: 'Delete a script (admin only); built-in scripts cannot be deleted.',
          handle: async (c) => (await scripts.delete(c.path.name!), Reply.noContent()),
        }),
        action({
          method: 'POST',
          op: 'revert',
          access: may('script', 'change'),
          form: form({
            to: field.text('The version id in the history to revert to, or how far back to go (a negative number).', {
              maxLength: 32,
            }),
          }),
          doc: 'Revert the script to an earlier version (admin only); later versions are deleted.',
          handle: async (c) => presentScript(await scripts.revert(c.path.name!, c.form.to), false),
        }),
        ...(['add_tag', 'remove_tag'] as const).map((op) =>
          action({
            method: 'POST',
            op,
            access: may('script', 'change'),
            form: form({ tag: field.text(`The tag to ${op === 'add_tag' ? 'add' : 'remove'}.`, { maxLength: 256 }) }),
            doc: `${op === 'add_tag' ? 'Add a tag to' : 'Remove a tag from'} the script (admin only).`,
            handle: async (c) => presentScript(await scripts.tag(c.path.name!, c.form.tag, op === 'add_tag'), false),
          }),
        ),
      ],
    },
  ];
}
