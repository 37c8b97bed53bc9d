// Opt-in CPU profiles of the processes a bench starts (METALFLOW_BENCH_CPU_PROF=1): V8's own
// --cpu-prof on the profiled process's command line (NODE_OPTIONS may not carry it). V8 writes the profile when the process exits, and a stack kills
// its processes with SIGKILL, so the profiled role is stopped with SIGTERM (the CLI's orderly stop)
// first. Profiling slows the process down: a profiled run's numbers are not the bench's figures.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Role, Stack } from '../../test/helpers/stack';
import { RESULTS_DIR } from './results';

export const PROFILES_DIR = path.join(RESULTS_DIR, 'profiles');

export interface CpuProfiling {
  /** Node options for the profiled process: it writes its profile into a scratch directory. */
  nodeArgs: string[];
  /** Stops `role` with SIGTERM and keeps its profile as bench/results/profiles/<name>.cpuprofile. */
  collect(stack: Stack, role: Role, name: string): Promise<string>;
}

export function cpuProfilingRequested(): boolean {
  return process.env.METALFLOW_BENCH_CPU_PROF === '1';
}

export function cpuProfiling(): CpuProfiling {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'metalflow-cpuprof-'));
  return {
    nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${scratch}`],
    async collect(stack, role, name) {
      const pid = stack.pid(role);
      if (pid === undefined) throw new Error(`${role} is not running: no profile to collect`);
      process.kill(pid, 'SIGTERM');
      // Its exit (and so the profile) is only seen as /proc/<pid> going away: the stack owns the child.
      for (let i = 0; i < 600 && fs.existsSync(`/proc/${pid}`) && !isZombie(pid); i++)
        await new Promise((r) => setTimeout(r, 100));
      const file = fs.readdirSync(scratch).find((f) => f.includes(`.${pid}.`) && f.endsWith('.cpuprofile'));
      if (!file) throw new Error(`no CPU profile written by ${role} (pid ${pid}) in ${scratch}`);
      fs.mkdirSync(PROFILES_DIR, { recursive: true });
      const target = path.join(PROFILES_DIR, `${name}.cpuprofile`);
      fs.copyFileSync(path.join(scratch, file), target);
      fs.rmSync(scratch, { recursive: true, force: true });
      return target;
    },
  };
}

function isZombie(pid: number): boolean {
  try {
    return /^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return true;
  }
}
