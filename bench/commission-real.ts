// commission-real: issue 17 item 4, the per-machine wall time metalflow adds to a boot. Runs the
// PXE e2e file (test/e2e/pxe.test.ts) through scripts/e2e.ts with METALFLOW_COMMISSION_PHASES_FILE:
// the QEMU VM (-accel tcg) is commissioned through ipmi_sim and the rack, phase by phase
// (test/e2e/lab/boot-phases.ts), then the same VM netboots the same ephemeral environment bare —
// dnsmasq, a static HTTP server, a report sink, no region/rack/workflow (lab/bare-netboot.ts) — in
// the same lab, one after the other. ratio = orchestrated total / bare total (target ≤ 1.2). Root.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BootPhases } from '../test/e2e/lab/boot-phases';
import type { OrchestratedPhases } from '../test/e2e/lab/commission-bench';
import type { BenchOutcome, Log } from './lib/types';

const ROOT = path.resolve(__dirname, '..');
export const TARGET_RATIO = 1.2;

interface Recorded {
  orchestrated: OrchestratedPhases;
  bare: BootPhases & { signals: string[] };
  ratio: number;
}

function runE2e(phasesFile: string, logFile: string, log: Log): Promise<number> {
  const out = fs.createWriteStream(logFile);
  return new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'e2e.ts'), 'test/e2e/pxe'], {
      cwd: ROOT,
      env: { ...process.env, METALFLOW_E2E_LANES: '1', METALFLOW_COMMISSION_PHASES_FILE: phasesFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const relay = (chunk: Buffer) => {
      out.write(chunk);
      for (const line of chunk.toString().split('\n'))
        if (line.includes('[commission e2e]') || /^\s*(not )?ok \d+ - /.test(line))
          log(`commission-real: ${line.trim()}`);
    };
    child.stdout.on('data', relay);
    child.stderr.on('data', relay);
    child.on('exit', (c) => out.end(() => resolve(c ?? 1)));
  });
}

const line = (phases: Record<string, number | null>) =>
  Object.entries(phases)
    .map(([k, v]) => `${k} ${v ?? '?'}`)
    .join(', ');

export async function commissionReal(log: Log): Promise<BenchOutcome> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-bench-commission-real-'));
  const phasesFile = path.join(work, 'phases.json');
  const logFile = path.join(work, 'e2e.log');
  const started = Date.now();
  const code = await runE2e(phasesFile, logFile, log);
  if (!fs.existsSync(phasesFile))
    throw new Error(`the PXE e2e run recorded no phases (exit ${code}); its output: ${logFile}`);
  const got = JSON.parse(fs.readFileSync(phasesFile, 'utf8')) as Recorded;
  return {
    name: 'commission-real',
    ok: code === 0,
    result: {
      benchmark: 'commission-real',
      description:
        "The e2e lab's QEMU VM (SeaBIOS + iPXE, -accel tcg) commissioned through metalflow (op-commission → the workflow's completion as Temporal recorded it (Ready): IPMI power on, the rack's DHCP and HTTP boot, the ephemeral environment reporting through the rack's metadata proxy, the workflow's power off), then the same VM netbooting the same kernel, initrd and kernel command line with no orchestration (dnsmasq DHCP, a static HTTP server, a 200-answering report sink; powered on by chassis.sh directly; ends when QEMU exits after the environment's poweroff). Marks: the chassis log (QEMU start), the boot HTTP server's request log, and when serial-console lines were first seen (100 ms poll). ratio = orchestrated total / bare total. QEMU runs outside this bench's process tree, so machine_load counts the VM as other processes.",
      e2e_exit_code: code,
      e2e_log: logFile,
      orchestrated: got.orchestrated,
      bare: got.bare,
      orchestrated_total_seconds: got.orchestrated.total_seconds,
      bare_total_seconds: got.bare.total_seconds,
      ratio: got.ratio,
      target_ratio: TARGET_RATIO,
      meets_target: got.ratio <= TARGET_RATIO,
      wall_seconds: Math.round((Date.now() - started) / 100) / 10,
    },
    summary: [
      `orchestrated ${got.orchestrated.total_seconds} s: ${line(got.orchestrated.phases)}`,
      `bare ${got.bare.total_seconds} s: ${line(got.bare.phases)}`,
      `ratio ${got.ratio} (target ≤ ${TARGET_RATIO})`,
    ],
  };
}
