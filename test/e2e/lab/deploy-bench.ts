// What `npm run bench -- deploy-real-bios|deploy-real-uefi` reads from a real-image e2e run
// (METALFLOW_DEPLOY_PHASES_FILE): the deployment's phases from the machine's events
// (deploy-phases.ts), then the same VM's plain boot of the disk just installed, no orchestration
// (chassis.sh plain-boot: the disk alone, as a QEMU snapshot, so the installed disk is unchanged
// for the tests after): power on → SSH login as the owner → `cloud-init status --wait` done.
// Without the env var the e2e files skip this step.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { deployPhases, type ApiEvent } from './deploy-phases';
import type { Json, Lab } from './lab';
import { sshAs, sshHost } from './real-image';

const execFileAsync = promisify(execFile);

export const DEPLOY_PHASES_FILE = process.env.METALFLOW_DEPLOY_PHASES_FILE;

export interface PlainBoot {
  /** chassis.sh started QEMU → `ssh true` as the owner succeeded. */
  boot_to_ssh_seconds: number;
  /** → `cloud-init status --wait` returned (the installed OS's second boot: per-boot modules only). */
  boot_to_cloud_init_done_seconds: number;
  cloud_init_status: string;
}

/** Power the VM off through its BMC and wait until it says so. */
async function powerOff(lab: Lab): Promise<void> {
  await lab.power('off');
  await lab.until('the VM to be off', 60_000, async () => ((await lab.power('query')) === 'off' ? true : undefined));
}

/** Boot the installed disk straight from QEMU (same VM, no PXE) and time it; the VM is off after. */
export async function plainBoot(lab: Lab, keyDir: string, id: string): Promise<PlainBoot> {
  await powerOff(lab);
  const started = Date.now();
  await execFileAsync(path.join(lab.bmc.dir, 'chassis.sh'), ['0x20', 'plain-boot']);
  try {
    // The deployed OS keeps the address the deployment gave it (static, from the region's config).
    const host = await lab.until('SSH login on the plain boot', 900_000, async () => {
      const h = await sshHost(lab, id);
      return h && (await sshAs(keyDir, h, 'true').then(() => h));
    });
    const boot_to_ssh_seconds = (Date.now() - started) / 1000;
    const status = await sshAs(keyDir, host, 'cloud-init status --wait || true');
    return {
      boot_to_ssh_seconds,
      boot_to_cloud_init_done_seconds: (Date.now() - started) / 1000,
      cloud_init_status: status.split('\n').at(-1) ?? '',
    };
  } finally {
    await powerOff(lab);
  }
}

/** The deployment's phases and the plain boot, into METALFLOW_DEPLOY_PHASES_FILE. */
export async function recordDeployBench(
  lab: Lab,
  o: { id: string; keyDir: string; firmware: 'bios' | 'uefi' },
): Promise<void> {
  if (!DEPLOY_PHASES_FILE) return;
  const r = (await lab.stack.call('GET', `/events/?op=query&id=${o.id}&limit=1000&level=DEBUG`)).body as Json;
  const deploy = deployPhases(r.events as ApiEvent[]);
  console.log(`[deploy e2e] ${o.firmware} phases: ${JSON.stringify(deploy.phases)} total ${deploy.total_seconds} s`);
  const plain = await plainBoot(lab, o.keyDir, o.id);
  console.log(`[deploy e2e] ${o.firmware} plain boot: ${JSON.stringify(plain)}`);
  fs.writeFileSync(
    DEPLOY_PHASES_FILE,
    `${JSON.stringify({ firmware: o.firmware, deploy, plain_boot: plain }, null, 2)}\n`,
  );
}
