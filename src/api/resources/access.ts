// The access rules resources declare, in the policy's terms (region/policy). The router asks the
// policy before the form is read; nothing here decides who may do what.
import type { Access, CollectionObject, CollectionVerb } from '../../region/policy';
import type { Principal } from '../../region/services/principal';
import { actionsOf, type ActionContext } from '../http';

export type Ctx<F = unknown> = ActionContext<Principal, F>;

/** Declares one action with its handler typed by its form. */
export const action = actionsOf<Principal>();

/** `may('zone', 'create')`: the action's access rule. */
export function may<O extends CollectionObject>(object: O, verb: CollectionVerb<O>): Access {
  return { object, verb } as Access;
}

/**
 * The calling user, once the access rule admitted the call (every rule refuses machine tokens
 * before a handler runs); a programming error otherwise, not a permission check.
 */
export function caller(c: Ctx): Extract<Principal, { kind: 'user' }> {
  if (c.principal?.kind !== 'user') throw new Error('caller(): the action declares no access rule for users');
  return c.principal;
}

/** The calling user entity (see caller). */
export const callerUser = (c: Ctx) => caller(c).user;
