// The region the lifecycle workflow tests share (workflows, workflow-interventions, reconciler):
// real Temporal and PostgreSQL, a scripted rack, an admin, and a hold on a machine's first step.
import { after, before } from 'node:test';
import type { RegionActivities, TransitionResult } from '../../src/contracts/activities';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { MachineActions } from '../../src/region/services/machine-actions';
import type { WorkflowGateway } from '../../src/region/services/workflow-gateway';
import { createAdmin, machineInput } from './factories';
import { startTestRegion, waitForStatus, type TestRegion } from './region';
import { ScriptedRack } from './scripted-rack';

/**
 * Holds the first beginTransition of an armed machine once it has started (as if it waited for
 * the machine's row lock), until the test lets it go.
 */
export class FirstStepHold {
  private readonly armed = new Map<
    string,
    { reached: () => void; go: Promise<void>; done: (r: Promise<TransitionResult>) => void }
  >();

  arm(systemId: string): { reached: Promise<void>; go: () => void; done: Promise<TransitionResult> } {
    let reached!: () => void;
    let go!: () => void;
    let done!: (r: Promise<TransitionResult>) => void;
    const hold = {
      reached: new Promise<void>((r) => (reached = r)),
      go: new Promise<void>((r) => (go = r)),
      done: new Promise<TransitionResult>((r) => (done = r)),
    };
    this.armed.set(systemId, { reached, go: hold.go, done });
    return { reached: hold.reached, go, done: hold.done };
  }

  wrap(a: RegionActivities): RegionActivities {
    return {
      ...a,
      beginTransition: async (i) => {
        const hold = this.armed.get(i.systemId);
        if (!hold) return a.beginTransition(i);
        this.armed.delete(i.systemId);
        hold.reached();
        await hold.go;
        const result = a.beginTransition(i);
        hold.done(result);
        return result;
      },
    };
  }
}

export type Admin = Awaited<ReturnType<typeof createAdmin>>;

/** The region of a describe block: started before its tests, stopped after them. */
export interface LifecycleRegion {
  readonly region: TestRegion;
  readonly admin: Admin;
  readonly rack: ScriptedRack;
  readonly held: FirstStepHold;
  newMachine(hostname: string): ReturnType<TestRegion['services']['machines']['create']>;
  /** The machine's events, in order. */
  events(systemId: string): Promise<Array<{ type: string; description: string; level: string }>>;
  /** The power events (MAAS's types: Powering on/off, Node powered on/off, Failed to …), in order. */
  powerEvents(systemId: string): Promise<string[]>;
  /** A new machine, commissioned READY. */
  readyMachine(hostname: string): ReturnType<TestRegion['services']['machines']['create']>;
  /** Machine actions with a deadline of their own (a patient one), or through another gateway (one that is down). */
  actionsWith(o: { nodeTimeoutMs: number; workflows?: WorkflowGateway }): MachineActions;
}

/** Deploy options the tests use (no user data, no agent). */
export const deployOpts = { distroSeries: 'jammy', userData: '', agentName: '', comment: '' };

/** Call in a describe block: registers its before/after hooks; the fields are there once it runs. */
export function useLifecycleRegion(nodeTimeoutMs: number): LifecycleRegion {
  const rack = new ScriptedRack();
  const held = new FirstStepHold();
  let region: TestRegion | undefined;
  let admin: Admin | undefined;
  before(async () => {
    region = await startTestRegion({
      nodeTimeoutMs,
      rack: rack.activities(),
      wrapRegionActivities: (a) => held.wrap(a),
    });
    rack.services = region.services;
    admin = await createAdmin(region.services);
  });
  after(async () => region?.stop());

  const started = () => {
    if (!region || !admin) throw new Error('the lifecycle region is used before its before() hook ran');
    return { region, admin };
  };
  const events: LifecycleRegion['events'] = async (systemId) =>
    (await started().region.services.db.query(
      `SELECT e.type, e.description, e.level FROM events e JOIN machines m ON m.id = e.machine_id WHERE m.system_id = $1 ORDER BY e.id`,
      [systemId],
    )) as Array<{ type: string; description: string; level: string }>;
  const newMachine: LifecycleRegion['newMachine'] = (hostname) =>
    started().region.services.machines.create(machineInput({ hostname }));
  return {
    get region() {
      return started().region;
    },
    get admin() {
      return started().admin;
    },
    rack,
    held,
    newMachine,
    events,
    powerEvents: async (systemId) =>
      (await events(systemId))
        .filter((e) => /^(Powering|Node powered|Failed to power)/.test(e.type))
        .map((e) => `${e.level} ${e.type}: ${e.description}`),
    actionsWith: ({ nodeTimeoutMs, workflows }) => {
      const { services } = started().region;
      return new MachineActions(
        services.db,
        workflows ?? services.workflows,
        services.racks,
        async () => ({ nodeTimeoutMs }),
        services.bootResources,
        services.config,
      );
    },
    readyMachine: async (hostname) => {
      const { region, admin } = started();
      const m = await newMachine(hostname);
      await region.services.actions.commission(admin, m.systemId);
      await waitForStatus(region.services, m.systemId, S.READY);
      return m;
    },
  };
}
