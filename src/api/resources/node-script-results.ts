// MAAS's NodeScriptResultsHandler (nodes/{system_id}/results/) and NodeScriptResultHandler
// (nodes/{system_id}/results/{id}/), read-only, from what commissioning stored: a commissioned
// machine has one script set, its last hardware report (services/node-results.ts).
import { NotFoundError, ValidationError } from '../../region/errors';
import type { RegionServices } from '../../region/services';
import type { Principal } from '../../region/services/principal';
import { field, form, type Resource } from '../http';
import { presentScriptSet } from '../presenters/script-set';
import { translateHardwareType, translateResultType } from '../presenters/script-types';
import { action, caller, may } from './access';

const viewFields = {
  hardware_type: field.text('Only results of scripts for this hardware: node, cpu, memory, storage, network, gpu.', {
    maxLength: 32,
  }),
  include_output: field.bool('Include the base64-encoded output (the report) of each result.'),
  filters: field.text('Comma-separated script names, tags or result ids to show.', { maxLength: 4096 }),
};
const viewOf = (v: { hardware_type?: string; include_output?: boolean; filters?: string }) => ({
  hardwareType: v.hardware_type === undefined ? undefined : translateHardwareType(v.hardware_type),
  includeOutput: v.include_output === true,
  filters: v.filters?.split(','),
});
const NO_SET = 'No ScriptSet matches the given query.';

export function nodeScriptResultResources(deps: {
  services: Pick<RegionServices, 'nodeResults'>;
}): Array<Resource<Principal>> {
  const { nodeResults } = deps.services;
  return [
    {
      name: 'NodeScriptResultsHandler',
      path: '/nodes/{system_id}/results/',
      doc: 'Manage node script results.',
      actions: [
        action({
          method: 'GET',
          access: may('machine', 'read'),
          form: form(
            {
              type: field.text('Only results of this type: commissioning, testing, installation (or the number).', {
                maxLength: 32,
              }),
              ...viewFields,
            },
            (v) => ({ type: v.type === undefined ? undefined : translateResultType(v.type), view: viewOf(v) }),
          ),
          doc: "A machine's script results grouped by run: its last commissioning (the hardware report).",
          handle: async (c) => {
            const set = await nodeResults.scriptSet(caller(c), c.path.system_id!);
            if (!set || (c.form.type !== undefined && c.form.type !== 0)) return [];
            return [presentScriptSet(set, c.form.view)];
          },
        }),
      ],
    },
    {
      name: 'NodeScriptResultHandler',
      path: '/nodes/{system_id}/results/{id}/',
      doc: 'Manage node script results.',
      actions: [
        action({
          method: 'GET',
          access: may('machine', 'read'),
          form: form(viewFields, viewOf),
          doc: 'One set of results: its id, or current-commissioning, current-testing, current-installation.',
          handle: async (c) => {
            const id = c.path.id!;
            const known = ['current-commissioning', 'current-testing', 'current-installation'];
            if (!known.includes(id) && !/^\d{1,9}$/.test(id))
              throw ValidationError.field(
                'id',
                `Unknown id "${id}" must be current-commissioning, current-testing, current-installation, or the id number of a specific result.`,
              );
            const set = await nodeResults.scriptSet(caller(c), c.path.system_id!);
            if (!set || (id !== 'current-commissioning' && id !== String(set.id))) throw new NotFoundError(NO_SET);
            return presentScriptSet(set, c.form);
          },
        }),
      ],
    },
  ];
}
