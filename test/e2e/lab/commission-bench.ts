// What `npm run bench -- commission-real` reads from the PXE e2e run
// (METALFLOW_COMMISSION_PHASES_FILE): the phases of the VM's commissioning through metalflow
// (op-commission → Ready), then the same VM's bare netboot of the same environment with no
// orchestration (bare-netboot.ts), side by side, and their ratio. Without the env var the e2e file
// only prints the orchestrated phases.
import fs from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { lifecycleWorkflowId } from '../../../src/contracts/workflows';
import { bareNetboot } from './bare-netboot';
import { bootPhases, parseChassisLog, type BootPhases } from './boot-phases';
import type { BootWatch } from './boot-watch';
import { ROOT, type Lab } from './lab';
import { workflowTimeline, type TimelineEntry } from './workflow-timeline';

export const COMMISSION_PHASES_FILE = process.env.METALFLOW_COMMISSION_PHASES_FILE;

export interface OrchestratedRun {
  startMs: number;
  readyMs: number;
  watch: BootWatch;
}

export type OrchestratedPhases = BootPhases & {
  power_off_command_seconds: number | null;
  /** The workflow's activities and signals (Temporal's own times), seconds since op-commission. */
  workflow: TimelineEntry[];
  /** Ready as the test's poll saw it (the run's end when the history has no completion). */
  ready_seen_seconds: number;
};

/** The machine's last workflow run's history (the commissioning's). */
async function history(lab: Lab, systemId: string) {
  const connection = await Connection.connect({ address: lab.stack.temporalAddress });
  try {
    const client = new Client({ connection, namespace: lab.stack.namespace });
    return (await client.workflow.getHandle(lifecycleWorkflowId(systemId)).fetchHistory()).events ?? [];
  } finally {
    await connection.close();
  }
}

/**
 * The orchestrated commissioning's phases, from the rack's log, the chassis log and the console;
 * it ends when Temporal recorded the workflow complete (the machine Ready), not when the test's
 * poll noticed.
 */
export async function orchestratedPhases(
  lab: Lab,
  systemId: string,
  run: OrchestratedRun,
): Promise<OrchestratedPhases> {
  const chassisLog = fs.readFileSync(path.join(lab.bmc.dir, 'chassis.log'), 'utf8');
  // A measurement: the e2e test does not fail for want of it (the phases then end at Ready seen).
  const events = await history(lab, systemId).catch((err: unknown) => {
    console.log(`[commission e2e] no workflow history: ${(err as Error).message}`);
    return [];
  });
  const timeline = workflowTimeline(events, run.startMs);
  const phases = bootPhases({
    startMs: run.startMs,
    chassisLog,
    httpLog: lab.stack.logs('rack'),
    serial: run.watch.serial,
    vmGoneMs: run.watch.vmGoneMs,
    doneMs: timeline.completedMs ?? run.readyMs,
  });
  // The workflow's own power off (the VM has usually powered itself off by then).
  const off = parseChassisLog(chassisLog).find(([t, what]) => t >= run.startMs && /set power 0$/.test(what));
  const power_off_command_seconds = off ? (off[0] - run.startMs) / 1000 : null;
  console.log(
    `[commission e2e] phases (s): ${JSON.stringify(phases.phases)} total ${phases.total_seconds} s; workflow's power off at ${power_off_command_seconds} s`,
  );
  console.log(
    `[commission e2e] workflow (s since op-commission): ${timeline.entries.map((e) => `${e.what}@${e.at}${e.ran_ms === undefined ? '' : `(+${e.queued_ms}q+${e.ran_ms}ms)`}`).join(' ')}`,
  );
  return {
    ...phases,
    power_off_command_seconds,
    workflow: timeline.entries,
    ready_seen_seconds: (run.readyMs - run.startMs) / 1000,
  };
}

/** Kills the rack (its DHCP server would answer too), boots the VM bare, writes both runs' phases. */
export async function recordCommissionBench(lab: Lab, orchestrated: OrchestratedPhases): Promise<void> {
  if (!COMMISSION_PHASES_FILE) return;
  await lab.stack.kill('rack');
  const bare = await bareNetboot({
    bmcDir: lab.bmc.dir,
    bootRoot: path.join(ROOT, 'build', 'boot'),
    address: '10.77.0.1',
    httpPort: 5248,
    dhcpRange: ['10.77.0.160', '10.77.0.199'],
    timeoutMs: 300_000,
  });
  console.log(
    `[commission e2e] bare netboot phases (s): ${JSON.stringify(bare.phases)} total ${bare.total_seconds} s; signals ${bare.signals.join(',')}`,
  );
  const ratio = Math.round((orchestrated.total_seconds / bare.total_seconds) * 100) / 100;
  console.log(`[commission e2e] ratio orchestrated/bare ${ratio}`);
  fs.writeFileSync(COMMISSION_PHASES_FILE, `${JSON.stringify({ orchestrated, bare, ratio }, null, 2)}\n`);
}
