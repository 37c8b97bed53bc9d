// deploy-real-bios / deploy-real-uefi: the real Debian image's deployment, phase by phase, and
// the overhead metalflow adds over the same VM simply booting the disk it installed (issue 13
// item 8). Runs the real-image e2e file of that firmware (test/e2e/real-image.test.ts: SeaBIOS;
// real-image-uefi.test.ts: OVMF) through scripts/e2e.ts with METALFLOW_DEPLOY_PHASES_FILE, which
// makes it record (test/e2e/lab/deploy-bench.ts): the phases from the machine's events, then a
// plain boot of the installed disk (chassis.sh plain-boot: no PXE, no region involved) timed to
// SSH login and to cloud-init done. Needs root, like the e2e lab.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DeployPhases } from '../test/e2e/lab/deploy-phases';
import type { PlainBoot } from '../test/e2e/lab/deploy-bench';
import { round } from './lib/stats';
import type { BenchOutcome, Log } from './lib/types';

const ROOT = path.resolve(__dirname, '..');
const E2E_FILE = { bios: 'test/e2e/real-image.test', uefi: 'test/e2e/real-image-uefi.test' } as const;

interface Recorded {
  firmware: string;
  deploy: DeployPhases;
  plain_boot: PlainBoot;
}

/** The e2e file's run; its whole output goes to `logFile`, its own bench lines to the log. */
function runE2e(file: string, phasesFile: string, logFile: string, log: Log, name: string): Promise<number> {
  const out = fs.createWriteStream(logFile);
  return new Promise<number>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts', 'e2e.ts'), file], {
      cwd: ROOT,
      env: { ...process.env, METALFLOW_E2E_LANES: '1', METALFLOW_DEPLOY_PHASES_FILE: phasesFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const relay = (chunk: Buffer) => {
      out.write(chunk);
      for (const line of chunk.toString().split('\n'))
        if (line.includes('[deploy e2e]') || /^\s*(not )?ok \d+ - /.test(line)) log(`${name}: ${line.trim()}`);
    };
    child.stdout.on('data', relay);
    child.stderr.on('data', relay);
    child.on('exit', (c) => out.end(() => resolve(c ?? 1)));
  });
}

function deployReal(firmware: 'bios' | 'uefi'): (log: Log) => Promise<BenchOutcome> {
  const name = `deploy-real-${firmware}`;
  return async (log) => {
    const work = fs.mkdtempSync(path.join(os.tmpdir(), `mf-bench-${name}-`));
    const phasesFile = path.join(work, 'phases.json');
    const logFile = path.join(work, 'e2e.log');
    const started = Date.now();
    const code = await runE2e(E2E_FILE[firmware], phasesFile, logFile, log, name);
    if (!fs.existsSync(phasesFile))
      throw new Error(`the e2e run (${E2E_FILE[firmware]}) recorded no phases (exit ${code}); its output: ${logFile}`);
    const got = JSON.parse(fs.readFileSync(phasesFile, 'utf8')) as Recorded;
    const phases = Object.fromEntries(Object.entries(got.deploy.phases).map(([k, v]) => [k, round(v, 1)]));
    const total = round(got.deploy.total_seconds, 1);
    const plain = round(got.plain_boot.boot_to_ssh_seconds, 1);
    const plainCloudInit = round(got.plain_boot.boot_to_cloud_init_done_seconds, 1);
    const ratio = round(got.deploy.total_seconds / got.plain_boot.boot_to_ssh_seconds, 2);
    return {
      name,
      ok: code === 0,
      result: {
        benchmark: name,
        description: `The real Debian image deployed to the e2e lab's QEMU VM (${firmware === 'bios' ? 'SeaBIOS' : 'OVMF'}, -accel tcg) through ipmi_sim and the rack's PXE/HTTP boot: each phase in seconds from the machine's events (whole-second times, each ±1 s), power on → Deployed as total_seconds; then the same VM booting the installed disk with no orchestration (no PXE, a snapshot of the disk; the installed OS's second boot), power on → SSH login. overhead_ratio = total_seconds / plain_boot_to_ssh_seconds. QEMU runs outside this bench's process tree, so machine_load counts the VM as other processes.`,
        firmware,
        e2e_exit_code: code,
        e2e_log: logFile,
        phases_seconds: phases,
        total_seconds: total,
        accepted_to_power_on_seconds: got.deploy.accepted_to_power_on_seconds,
        disk_written_to_power_on_again_seconds: got.deploy.disk_written_to_power_on_again_seconds,
        milestones: got.deploy.milestones,
        plain_boot_to_ssh_seconds: plain,
        plain_boot_to_cloud_init_done_seconds: plainCloudInit,
        plain_boot_cloud_init_status: got.plain_boot.cloud_init_status,
        overhead_ratio: ratio,
        wall_seconds: round((Date.now() - started) / 1000, 1),
      },
      summary: [
        `phases: ${Object.entries(phases)
          .map(([k, v]) => `${k} ${v} s`)
          .join(', ')}`,
        `deploy power on → Deployed ${total} s; plain boot → SSH ${plain} s (→ cloud-init done ${plainCloudInit} s); overhead ratio ${ratio}`,
      ],
    };
  };
}

export const deployRealBios = deployReal('bios');
export const deployRealUefi = deployReal('uefi');
