// MAAS's NodeResultsHandler (`installation-results/`, the URI MAAS's describe/ gives it; MAAS
// routes `commissioning-results/`, the path older clients call, to it too): the results of the machines the caller can see, from what commissioning stored (services/node-results.ts).
import type { RegionServices } from '../../region/services';
import { MAX_NODE_RESULT_IDS, type NodeResult } from '../../region/services/node-results';
import type { Principal } from '../../region/services/principal';
import { field, form, Reply, type Resource } from '../http';
import { action, caller, may } from './access';
import { mapChunks } from './machines';

const RESOURCE_URI = '/MAAS/api/2.0/installation-results/';
/** Django's datetime as MAAS's API emits it. */
const maasTime = (d: Date) => d.toISOString().replace('Z', '');

const presentResult = (r: NodeResult) => ({
  id: r.id,
  name: r.name,
  script_result: r.exitStatus,
  result_type: r.resultType,
  created: maasTime(r.created),
  updated: maasTime(r.created),
  node: { system_id: r.systemId },
  data: Buffer.from(JSON.stringify(r.report)).toString('base64'),
  resource_uri: RESOURCE_URI,
});

const readForm = form(
  {
    system_id: field.list('Only the results of the machines with these system ids.', {
      maxValues: MAX_NODE_RESULT_IDS,
    }),
    name: field.list("Only the results with these names (metalflow's commissioning result: metalflow-hardware.json)."),
    result_type: field.int('Only results of this type: 0 commissioning, 1 testing, 2 installation.', {
      min: 0,
      max: 2,
    }),
  },
  (v) => ({ systemIds: v.system_id, names: v.name, resultType: v.result_type }),
);

export function nodeResultResources(deps: {
  services: Pick<RegionServices, 'nodeResults'>;
}): Array<Resource<Principal>> {
  const { nodeResults } = deps.services;
  return [
    {
      name: 'NodeResultsHandler',
      path: '/installation-results/',
      aliasPaths: ['/commissioning-results/'],
      doc: 'Read the collection of commissioning script results.',
      actions: [
        action({
          method: 'GET',
          access: may('machine', 'read'),
          form: readForm,
          doc: `List the results of the machines you can see: each commissioned machine's hardware report (metalflow-hardware.json, result_type 0, data base64-encoded).`,
          handle: async (c) => Reply.jsonArray(mapChunks(nodeResults.list(caller(c), c.form), presentResult)),
        }),
      ],
    },
  ];
}
