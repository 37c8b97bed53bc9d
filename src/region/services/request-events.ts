// MAAS's request events: who asked for an operation on a machine, with their comment.
import type { EntityManager } from 'typeorm';
import type { Machine } from '../db/entities';
import { recordEvent } from './events';
import type { Principal } from './principal';

/**
 * MAAS's request event (Node._register_request_event): who asked, with their comment. Written in
 * the operation's transaction, so a refused start leaves none.
 */
export async function recordRequest(
  tx: EntityManager,
  m: Machine,
  caller: Principal,
  type: string,
  comment: string,
): Promise<void> {
  const who = `(${callerName(caller)})`;
  await recordEvent(tx, m.id, { type, description: comment ? `${who} - ${comment}` : who, level: 'INFO' });
}

export const callerId = (c: Principal): number | null => (c.kind === 'user' ? c.user.id : null);
export const callerName = (c: Principal): string => (c.kind === 'user' ? c.user.username : c.machine.hostname);
