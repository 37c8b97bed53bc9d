// The one access check for acting on a machine, shared by the single, bulk and power actions.
import type { EntityManager } from 'typeorm';
import type { Machine } from '../db/entities';
import { ForbiddenError } from '../errors';
import { authorizeMachine, machineVerbOf } from '../policy';
import { machineFacts } from './policy-facts';
import type { Principal } from './principal';

/**
 * Answered by the policy (region/policy/rules.ts: admins; pool admins of the machine's pool,
 * controllers excepted; the owner where the verb's rule allows it). `what` is the operation in
 * MAAS's words, for the refusal's message.
 */
export async function assertMayUseMachine(
  manager: EntityManager,
  caller: Principal,
  m: Machine,
  what: string,
): Promise<void> {
  authorizeMachine(caller, machineVerbOf(what), await machineFacts(manager, caller, m), what);
}

/** Every machine may be used so, else a 403 naming all that may not (MAAS's bulk wording). */
export async function assertMayUseAll(
  tx: EntityManager,
  caller: Principal,
  machines: Machine[],
  verb: string,
  what = verb,
): Promise<void> {
  const denied: string[] = [];
  for (const m of machines) {
    try {
      await assertMayUseMachine(tx, caller, m, verb);
    } catch (err) {
      if (!(err instanceof ForbiddenError)) throw err;
      denied.push(m.systemId);
    }
  }
  if (denied.length)
    throw new ForbiddenError(
      `You don't have the required permission to ${what} the following machine(s): ${denied.join(', ')}.`,
    );
}
