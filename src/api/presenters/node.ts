// MAAS's node JSON (NodesHandler / NodeHandler): every node is shown as its own handler shows it.
// metalflow's nodes are its machines, controllers included (a rack or the region runs on a host
// recorded as a locked machine with a `controller` annotation): a machine keeps the machine JSON,
// and a controller's node_type says what it is, with MAAS's numbers and names.
import type { MachineView } from '../../region/services/machine-queries';
import { presentMachine, type PresentOptions } from './machine';

/** MAAS's NODE_TYPE and its names, for what metalflow has (no devices here: devices/ is separate). */
const NODE_TYPES: Record<string, { node_type: number; node_type_name: string }> = {
  rack: { node_type: 2, node_type_name: 'Rack controller' },
  region: { node_type: 3, node_type_name: 'Region controller' },
  'rack+region': { node_type: 4, node_type_name: 'Region and rack controller' },
};

export function presentNode(v: MachineView, o: PresentOptions): Record<string, unknown> {
  const controller = NODE_TYPES[v.machine.workloadAnnotations.controller ?? ''];
  return { ...presentMachine(v, o), ...(controller ?? {}) };
}
