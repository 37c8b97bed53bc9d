// deploy: the per-phase wall time of one real deployment. Runs the e2e deploy test
// (test/e2e/deploy.test.ts: a QEMU VM, -accel tcg, powered through ipmi_sim, PXE-booting from the
// rack in its own network namespace) and records the phases it measured: create + commission,
// deploy (with its own steps: installer up, image written and verified, boot from disk, the
// installed OS checking in), release with a quick erase. Needs root, like the e2e lab.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { round } from './lib/stats';
import type { BenchOutcome, Log } from './lib/types';

const ROOT = path.resolve(__dirname, '..');

export async function deploy(log: Log): Promise<BenchOutcome> {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'mf-bench-deploy-')), 'phases.json');
  const started = Date.now();
  const code = await new Promise<number>((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(ROOT, 'scripts', 'e2e.ts'), 'test/e2e/deploy'],
      {
        cwd: ROOT,
        env: { ...process.env, METALFLOW_E2E_LANES: '1', METALFLOW_DEPLOY_PHASES_FILE: file },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const relay = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line.includes('[deploy e2e]')) log(`deploy: ${line.trim()}`);
    };
    child.stdout.on('data', relay);
    child.stderr.on('data', relay);
    child.on('exit', (c) => resolve(c ?? 1));
  });
  if (!fs.existsSync(file)) throw new Error(`the e2e deploy test wrote no phases (exit ${code})`);
  const measured = JSON.parse(fs.readFileSync(file, 'utf8')) as {
    phases: Record<string, number>;
    deploy_steps: Record<string, number>;
  };
  const phases = Object.fromEntries(Object.entries(measured.phases).map(([k, v]) => [k, round(v, 1)]));
  const steps = Object.fromEntries(Object.entries(measured.deploy_steps).map(([k, v]) => [k, round(v, 1)]));
  return {
    name: 'deploy',
    ok: code === 0,
    result: {
      benchmark: 'deploy',
      description:
        "One real deployment of a QEMU VM (-accel tcg) through ipmi_sim and the rack's DHCP/TFTP/HTTP boot: wall seconds per phase, and the deploy's steps as seconds since op-deploy. QEMU is started by ipmi_sim's chassis script, outside this bench's process tree, so machine_load counts the VM as other processes.",
      e2e_exit_code: code,
      phases_seconds: phases,
      deploy_steps_seconds_since_op_deploy: steps,
      wall_seconds: round((Date.now() - started) / 1000, 1),
    },
    summary: [
      `phases: ${Object.entries(phases)
        .map(([k, v]) => `${k} ${v} s`)
        .join(', ')}`,
      `deploy steps (s since op-deploy): ${Object.entries(steps)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
    ],
  };
}
