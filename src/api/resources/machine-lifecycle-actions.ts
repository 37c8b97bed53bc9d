// The machine operations that start a lifecycle workflow: commission, test, deploy, release
// (MAAS's MachineHandler), spread into the machine resource. Each answers with the machine as it
// is once the operation is recorded, without asking the workflow it just started for its step.
import type { RegionServices } from '../../region/services';
import type { Principal } from '../../region/services/principal';
import type { Resource } from '../http';
import { presentMachine, type PresentOptions } from '../presenters/machine';
import { action, caller, may, type Ctx } from './access';
import { commissionApiForm, deployForm, releaseForm, testApiForm } from './machine-forms';

export function machineLifecycleActions(
  services: Pick<RegionServices, 'machineOps'>,
  present: (c: Ctx) => PresentOptions,
): Resource<Principal>['actions'] {
  const sid = (c: Ctx) => c.path.system_id!;
  const operate = may('machine', 'read');
  /** The reply to a lifecycle operation's start: its workflow has no step to tell yet. */
  const started = async (c: Ctx) =>
    presentMachine(await services.machineOps.read(c.principal, sid(c), { justStarted: true }), present(c));
  return [
    action({
      method: 'POST',
      op: 'commission',
      access: operate,
      form: commissionApiForm,
      doc: 'Commission: boot the ephemeral environment and record the hardware.',
      handle: async (c) => (await services.machineOps.commission(caller(c), sid(c), c.form), started(c)),
    }),
    action({
      method: 'POST',
      op: 'test',
      access: operate,
      form: testApiForm,
      doc: "Test the hardware (admins, and admins of the machine's pool): the ephemeral environment runs the testing scripts; passing returns the machine where it was (READY from a broken or failed state, NEW from failed commissioning), a failed test leaves it Failed testing naming the script. Not from Deployed: the netboot would take its workload down.",
      handle: async (c) => (await services.machineOps.test(caller(c), sid(c), c.form), started(c)),
    }),
    action({
      method: 'POST',
      op: 'deploy',
      access: operate,
      form: deployForm,
      doc: 'Deploy an OS. A READY machine is allocated to the caller first.',
      handle: async (c) => (await services.machineOps.deploy(caller(c), sid(c), c.form), started(c)),
    }),
    action({
      method: 'POST',
      op: 'release',
      access: operate,
      form: releaseForm,
      doc: 'Release to the pool.',
      handle: async (c) => (await services.machineOps.release(caller(c), sid(c), c.form), started(c)),
    }),
  ];
}
