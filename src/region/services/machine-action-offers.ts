// Which actions a user may take on a machine now, for the web UI's action bar and selection:
// answered by the same policy (region/policy) and lifecycle table (contracts/lifecycle) the
// operations themselves check, so the UI holds no rules of its own. An offer is a hint only:
// the operation checks again under the machine's row lock, and a forged or stale request gets
// the operation's own refusal.
import type { DataSource } from 'typeorm';
import {
  ABORTABLE_STATUSES,
  canTransition,
  isTransitional,
  LIFECYCLE,
  MachineStatus as S,
} from '../../contracts/lifecycle';
import type { Machine } from '../db/entities';
import { decide, decideMachine, type MachineVerb } from '../policy';
import { machineFacts } from './policy-facts';
import type { Principal } from './principal';
import { mayTake } from './reservations';

export const MACHINE_UI_ACTIONS = [
  'commission',
  'test',
  'allocate',
  'deploy',
  'release',
  'abort',
  'mark-broken',
  'mark-fixed',
  'lock',
  'unlock',
  'power-on',
  'power-off',
  'tag',
  'set-zone',
  'set-pool',
  'delete',
] as const;
export type MachineUiAction = (typeof MACHINE_UI_ACTIONS)[number];

export const isMachineUiAction = (name: string): name is MachineUiAction =>
  (MACHINE_UI_ACTIONS as readonly string[]).includes(name);

/** Why an action is not offered: the policy's denial (forbidden) or the machine's state (conflict). */
export interface NotOffered {
  kind: 'forbidden' | 'conflict';
  reason: string;
}
/** null: offered. */
export type Offers = Record<MachineUiAction, NotOffered | null>;

const forbidden = (reason: string | null): NotOffered | null =>
  reason === null ? null : { kind: 'forbidden', reason };

const starts = (op: { startFrom: readonly S[] }, m: Machine) => op.startFrom.includes(m.status);

export class MachineActionOffers {
  constructor(private readonly db: DataSource) {}

  /** The offers for a machine the caller can see (the caller has read it through the queries). */
  async of(caller: Principal, m: Machine): Promise<Offers> {
    const facts = await machineFacts(this.db.manager, caller, m);
    const policy = (verb: MachineVerb, what?: string) => forbidden(decideMachine(caller, verb, facts, what));
    const state = (ok: boolean, why: string): NotOffered | null => (ok ? null : { kind: 'conflict', reason: why });
    const locked = state(!m.locked, 'The machine is locked.');
    // Allocation (and deploy from READY, which allocates first) asks the allocation's own rule:
    // unowned, not reserved for someone else, in a pool the caller may take from.
    const takeable = state(
      m.status === S.READY && m.ownerId === null && (await mayTake(this.db.manager, caller, m.id)),
      'The machine is not Ready for you to allocate.',
    );
    const deploy =
      m.status === S.READY
        ? takeable
        : (policy('deploy') ?? locked ?? state(starts(LIFECYCLE.deploy, m), 'The machine is not allocated.'));
    return {
      commission: policy('commission') ?? state(starts(LIFECYCLE.commission, m), 'Not possible in this status.'),
      // Testing ends Ready or Failed testing, with no owner: a held machine is released first (MachineActions.test).
      test:
        policy('test') ??
        state(starts(LIFECYCLE.test, m), 'Not possible in this status.') ??
        state(m.ownerId === null, 'The machine is allocated to a user: release it before testing it.'),
      allocate: forbidden(decide(caller, { object: 'machine', verb: 'allocate' })) ?? takeable,
      deploy: locked ?? deploy,
      release:
        policy('release') ?? locked ?? state(starts(LIFECYCLE.release, m), 'The machine is not allocated or deployed.'),
      abort: policy('abort') ?? state(ABORTABLE_STATUSES.includes(m.status), 'No operation is in progress.'),
      'mark-broken':
        policy('mark-broken', 'mark broken') ??
        state(canTransition(m.status, S.BROKEN), 'Not possible in this status.'),
      'mark-fixed': policy('mark-fixed', 'mark fixed') ?? state(m.status === S.BROKEN, 'The machine is not broken.'),
      lock:
        policy('lock') ??
        state(!m.locked, 'The machine is already locked.') ??
        state(
          m.status === S.DEPLOYED || m.status === S.DEPLOYING,
          'Only a deployed or deploying machine can be locked.',
        ),
      unlock: policy('unlock') ?? state(m.locked, 'The machine is not locked.'),
      'power-on': policy('power', 'power on') ?? locked,
      'power-off': policy('power', 'power off') ?? locked,
      tag: forbidden(decide(caller, { object: 'tag', verb: 'update' })),
      'set-zone': forbidden(decide(caller, { object: 'machine', verb: 'set-zone' })),
      'set-pool': policy('edit'),
      delete:
        policy('delete') ?? locked ?? state(!isTransitional(m.status), 'An operation is in progress; abort it first.'),
    };
  }
}
