// What `npm run bench -- commission-real` reads from the PXE e2e run
// (METALFLOW_COMMISSION_PHASES_FILE): the phases of the VM's commissioning through metalflow
// (op-commission → Ready), then the same VM's bare netboot of the same environment with no
// orchestration (bare-netboot.ts), side by side, and their ratio. Without the env var the e2e file
// only prints the orchestrated phases.
import fs from 'node:fs';
import path from 'node:path';
import { bareNetboot } from './bare-netboot';
import { bootPhases, parseChassisLog, type BootPhases } from './boot-phases';
import type { BootWatch } from './boot-watch';
import { ROOT, type Lab } from './lab';

export const COMMISSION_PHASES_FILE = process.env.METALFLOW_COMMISSION_PHASES_FILE;

export interface OrchestratedRun {
  startMs: number;
  readyMs: number;
  watch: BootWatch;
}

/** The orchestrated commissioning's phases, from the rack's log, the chassis log and the console. */
export function orchestratedPhases(
  lab: Lab,
  run: OrchestratedRun,
): BootPhases & { power_off_command_seconds: number | null } {
  const chassisLog = fs.readFileSync(path.join(lab.bmc.dir, 'chassis.log'), 'utf8');
  const phases = bootPhases({
    startMs: run.startMs,
    chassisLog,
    httpLog: lab.stack.logs('rack'),
    serial: run.watch.serial,
    vmGoneMs: run.watch.vmGoneMs,
    doneMs: run.readyMs,
  });
  // The workflow's own power off (the VM has usually powered itself off by then).
  const off = parseChassisLog(chassisLog).find(([t, what]) => t >= run.startMs && /set power 0$/.test(what));
  const power_off_command_seconds = off ? (off[0] - run.startMs) / 1000 : null;
  console.log(
    `[commission e2e] phases (s): ${JSON.stringify(phases.phases)} total ${phases.total_seconds} s; workflow's power off at ${power_off_command_seconds} s`,
  );
  return { ...phases, power_off_command_seconds };
}

/** Kills the rack (its DHCP server would answer too), boots the VM bare, writes both runs' phases. */
export async function recordCommissionBench(
  lab: Lab,
  orchestrated: ReturnType<typeof orchestratedPhases>,
): Promise<void> {
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
