// MAAS's NodeScriptsHandler (scripts/) and NodeScriptHandler (scripts/{name}): the built-in
// commissioning script metalflow runs, read-only. User scripts are issue 20, so every change is a
// 400 that says so (after the admin check MAAS makes first).
import { ValidationError } from '../../region/errors';
import type { Principal } from '../../region/services/principal';
import { NotFoundError } from '../../region/errors';
import { field, form, Reply, type Resource } from '../http';
import { BUILTIN_SCRIPT, presentBuiltinScript } from '../presenters/script';
import { translateHardwareType, translateScriptType } from '../presenters/script-types';
import { runScriptsSource } from '../run-scripts/source';
import { action, may } from './access';

const NO_USER_SCRIPTS =
  'metalflow runs only its built-in commissioning script; user scripts are not supported yet (issue 20).';
const refuse = async (): Promise<never> => {
  throw ValidationError.field('__all__', NO_USER_SCRIPTS);
};

/** The built-in script by name or id, else MAAS's 404. */
function builtin(key: string): typeof BUILTIN_SCRIPT {
  if (key === BUILTIN_SCRIPT.name || key === String(BUILTIN_SCRIPT.id)) return BUILTIN_SCRIPT;
  throw new NotFoundError('No Script matches the given query.');
}

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

export function scriptResources(): Array<Resource<Principal>> {
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
          doc: "List the stored scripts: metalflow's built-in commissioning script (the hardware report).",
          handle: async (c) => {
            const s = BUILTIN_SCRIPT;
            const f = c.form;
            const keep =
              (f.type === undefined || f.type === s.type) &&
              (f.hardwareType === undefined || f.hardwareType === s.hardwareType) &&
              (f.filters === undefined ||
                f.filters.some((x) => x === s.name || (s.tags as readonly string[]).includes(x)));
            return keep ? [presentBuiltinScript(f.includeScript)] : [];
          },
        }),
        action({
          method: 'POST',
          access: may('script', 'change'),
          doc: `Create a script: refused (400). ${NO_USER_SCRIPTS}`,
          handle: refuse,
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
          handle: async (c) => (builtin(c.path.name!), presentBuiltinScript(c.form.include_script === true)),
        }),
        action({
          method: 'GET',
          op: 'download',
          access: may('script', 'read'),
          form: form(
            {
              revision: field.int('The revision to download (the built-in script has one: its id).', { min: 0 }),
              rev: field.int('Short for revision.', { min: 0 }),
            },
            (v) => v.revision ?? v.rev,
          ),
          doc: "The script's text (maas-run-scripts.sh, whose collect_hardware writes the report).",
          handle: async (c) => {
            const script = builtin(c.path.name!);
            if (c.form !== undefined && c.form !== script.id)
              throw new NotFoundError(`${script.name} has no revision ${c.form}.`);
            return Reply.bytes(runScriptsSource(), 'text/plain');
          },
        }),
        ...(['PUT', 'DELETE'] as const).map((method) =>
          action({
            method,
            access: may('script', 'change'),
            doc: `${method === 'PUT' ? 'Update' : 'Delete'} a script: refused (400). ${NO_USER_SCRIPTS}`,
            handle: async (c) => (builtin(c.path.name!), refuse()),
          }),
        ),
        ...(['revert', 'add_tag', 'remove_tag'] as const).map((op) =>
          action({
            method: 'POST',
            op,
            access: may('script', 'change'),
            doc: `${op}: refused (400). ${NO_USER_SCRIPTS}`,
            handle: async (c) => (builtin(c.path.name!), refuse()),
          }),
        ),
      ],
    },
  ];
}
