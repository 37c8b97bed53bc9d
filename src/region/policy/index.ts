// The one policy module: "may this principal do this verb to this object". Routes declare the
// collection-level verb of each action (the API router asks `authorize` before the form is read);
// services ask `authorizeMachine` once they hold the machine's row. See rules.ts for the rules.
import { ForbiddenError } from '../errors';
import type { Principal } from '../services/principal';
import {
  COLLECTION_RULES,
  deviceRule,
  ipRangeRule,
  MACHINE_RULES,
  type CollectionObject,
  type CollectionVerb,
  type Decision,
  type DeviceFacts,
  type IpRangeFacts,
  type MachineFacts,
  type MachineVerb,
} from './rules';

export {
  MACHINE_TOKEN_DENIED,
  type CollectionObject,
  type CollectionVerb,
  type DeviceFacts,
  type IpRangeFacts,
  type MachineFacts,
  type MachineVerb,
} from './rules';

/** An action's declared access: a verb on a kind of object. */
export type Access = { [O in CollectionObject]: { object: O; verb: CollectionVerb<O> } }[CollectionObject];

export function decide(principal: Principal, access: Access): Decision {
  const rules = COLLECTION_RULES[access.object] as Record<string, (p: Principal) => Decision>;
  const rule = rules[access.verb];
  if (!rule) throw new Error(`policy: no rule for ${access.verb} on ${access.object}`);
  return rule(principal);
}

export function authorize(principal: Principal, access: Access): void {
  const reason = decide(principal, access);
  if (reason !== null) throw new ForbiddenError(reason);
}

export function mayDo(principal: Principal, access: Access): boolean {
  return decide(principal, access) === null;
}

/** `what` names the operation in the denial ("power on", "mark broken"); default: the verb. */
export function decideMachine(principal: Principal, verb: MachineVerb, m: MachineFacts, what?: string): Decision {
  return MACHINE_RULES[verb](principal, m, what ?? verb.replace(/-/g, ' '));
}

export function authorizeMachine(principal: Principal, verb: MachineVerb, m: MachineFacts, what?: string): void {
  const reason = decideMachine(principal, verb, m, what);
  if (reason !== null) throw new ForbiddenError(reason);
}

export function authorizeIpRange(principal: Principal, range: IpRangeFacts | null, newType?: string): void {
  const reason = ipRangeRule(principal, range, newType);
  if (reason !== null) throw new ForbiddenError(reason);
}

/** The operation names services use in messages ("mark broken", "power on") → the policy's verb. */
export function machineVerbOf(what: string): MachineVerb {
  const verb = what.startsWith('power ') ? 'power' : what.replace(/ /g, '-');
  if (!(verb in MACHINE_RULES)) throw new Error(`policy: no machine rule for "${what}"`);
  return verb as MachineVerb;
}

export function authorizeDevice(principal: Principal, device: DeviceFacts): void {
  const reason = deviceRule(principal, device);
  if (reason !== null) throw new ForbiddenError(reason);
}
