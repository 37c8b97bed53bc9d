// A QEMU virtual machine for tests: software emulation (-accel tcg: KVM faults here), serial
// console to a log file, optional direct kernel boot, SMBIOS identity, NICs and disks with serials.
// Tests stop their VMs; any still running when the test process exits is killed with it.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const QEMU_BINARY = 'qemu-system-x86_64';

export interface QemuNic {
  mac: string;
  /** -netdev value without the id, e.g. 'user' (default; the host is 10.0.2.2) or 'tap,ifname=tap0,script=no,downscript=no'. */
  netdev?: string;
  /** Device model (default virtio-net-pci). */
  model?: string;
  /** Extra ,key=value options for -device, e.g. 'romfile=' or 'bootindex=1'. */
  deviceOptions?: string;
}

export interface QemuDisk {
  sizeBytes: number;
  serial?: string;
  /** raw (a sparse file, the default) or qcow2 (needs qemu-img, package qemu-utils). */
  format?: 'raw' | 'qcow2';
  /** Device model (default virtio-blk-pci). */
  model?: string;
  /** raw only: every byte of the disk starts as this value (default: a sparse file of zeros). */
  fill?: number;
}

export interface QemuOptions {
  /** Direct kernel boot; without it the VM boots from its firmware (e.g. PXE with extraArgs ['-boot', 'n']). */
  kernel?: string;
  initrd?: string;
  /** Kernel command line (console=ttyS0 is added when absent). */
  append?: string;
  memoryMib?: number;
  cpus?: number;
  nics?: QemuNic[];
  disks?: QemuDisk[];
  /** SMBIOS type 1 (system): what the guest sees in /sys/class/dmi/id. */
  smbios?: { manufacturer?: string; product?: string; serial?: string; uuid?: string };
  /** Where the serial console goes (default: <workDir>/serial.log). */
  serialLog?: string;
  /** A QMP socket path for power control (system_reset, system_powerdown, quit). */
  qmpSocket?: string;
  /** Directory for disk images and the log (default: a temporary directory, removed by stop()). */
  workDir?: string;
  /** Keep the temporary directory after stop() (to read the console later). */
  keepWorkDir?: boolean;
  /** A command QEMU runs under, e.g. ['ip', 'netns', 'exec', 'pxetest'] for a tap in a netns. */
  launcher?: string[];
  /** Appended last: anything else QEMU takes. */
  extraArgs?: string[];
}

export interface QemuVm {
  readonly pid: number;
  readonly args: string[];
  readonly serialLog: string;
  readonly workDir: string;
  /** Settles when QEMU exits (a guest `poweroff` ends it). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** The serial console so far. */
  console(): string;
  /** Resolves with the console once it matches, rejects on timeout or when QEMU exits first. */
  waitForConsole(pattern: RegExp, timeoutMs: number): Promise<string>;
  /** Resolves when QEMU exits, rejects (with the console's tail) after timeoutMs. */
  waitForExit(timeoutMs: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after 2 s; resolves once QEMU is gone, then removes the temporary
   * directory (unless workDir or keepWorkDir was given). Idempotent. */
  stop(): Promise<void>;
}

/** The QEMU binary's path, or undefined. */
export function findQemu(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).concat(['/usr/bin', '/usr/local/bin'])) {
    const candidate = path.join(dir, QEMU_BINARY);
    if (dir && fs.existsSync(candidate)) return candidate;
  }
  return undefined;
}

/** Throws a clear error when QEMU is not installed. */
export function requireQemu(): string {
  const qemu = findQemu();
  if (!qemu)
    throw new Error(
      `${QEMU_BINARY} is not installed: apt-get install --no-install-recommends qemu-system-x86 (CI installs it).`,
    );
  return qemu;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function killAllOnExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

/** The arguments startQemu passes (disk images are created by startQemu). */
export function qemuArgs(o: QemuOptions, files: { serialLog: string; diskImages: string[] }): string[] {
  const args = ['-accel', 'tcg', '-nographic', '-monitor', 'none', '-serial', `file:${files.serialLog}`, '-no-reboot'];
  args.push('-m', String(o.memoryMib ?? 512), '-smp', String(o.cpus ?? 2));
  if (o.kernel) {
    args.push('-kernel', o.kernel);
    if (o.initrd) args.push('-initrd', o.initrd);
    const append = o.append ?? '';
    args.push('-append', /(^|\s)console=/.test(append) ? append : `console=ttyS0 ${append}`.trim());
  }
  if (o.smbios) {
    const fields = Object.entries(o.smbios)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `,${k}=${String(v).replace(/,/g, ',,')}`);
    args.push('-smbios', `type=1${fields.join('')}`);
  }
  (o.nics ?? []).forEach((nic, i) => {
    args.push('-netdev', `${nic.netdev ?? 'user'},id=n${i}`);
    args.push(
      '-device',
      `${nic.model ?? 'virtio-net-pci'},netdev=n${i},mac=${nic.mac}${nic.deviceOptions ? `,${nic.deviceOptions}` : ''}`,
    );
  });
  if (!o.nics?.length) args.push('-nic', 'none');
  (o.disks ?? []).forEach((disk, i) => {
    args.push('-drive', `if=none,id=d${i},file=${files.diskImages[i]},format=${disk.format ?? 'raw'}`);
    args.push('-device', `${disk.model ?? 'virtio-blk-pci'},drive=d${i}${disk.serial ? `,serial=${disk.serial}` : ''}`);
  });
  if (o.qmpSocket) args.push('-qmp', `unix:${o.qmpSocket},server=on,wait=off`);
  return args.concat(o.extraArgs ?? []);
}

export async function startQemu(o: QemuOptions): Promise<QemuVm> {
  const qemu = requireQemu();
  const ownsWorkDir = !o.workDir && !o.keepWorkDir;
  const workDir = o.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'mf-qemu-'));
  fs.mkdirSync(workDir, { recursive: true });
  const serialLog = o.serialLog ?? path.join(workDir, 'serial.log');
  fs.writeFileSync(serialLog, '');
  const diskImages = (o.disks ?? []).map((disk, i) => {
    const file = path.join(workDir, `disk${i}.${disk.format ?? 'raw'}`);
    if (disk.format === 'qcow2')
      execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', file, String(disk.sizeBytes)]);
    else if (disk.fill !== undefined) {
      fs.writeFileSync(file, Buffer.alloc(disk.sizeBytes, disk.fill));
    } else {
      fs.writeFileSync(file, '');
      fs.truncateSync(file, disk.sizeBytes);
    }
    return file;
  });
  const args = qemuArgs(o, { serialLog, diskImages });
  const [command, ...prefix] = [...(o.launcher ?? []), qemu];
  const child = spawn(command!, [...prefix, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => void (stderr = (stderr + chunk.toString()).slice(-4000)));
  killAllOnExit();
  running.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  await new Promise<void>((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
  let done = false;
  void exited.then(() => (done = true));

  const readConsole = () => (fs.existsSync(serialLog) ? fs.readFileSync(serialLog, 'utf8') : '');
  const tail = () =>
    `\n--- console (last 3000 chars) ---\n${readConsole().slice(-3000)}${stderr ? `\n--- qemu stderr ---\n${stderr}` : ''}`;
  const poll = <T>(check: () => T | undefined, timeoutMs: number, what: string) =>
    new Promise<T>((resolve, reject) => {
      const started = Date.now();
      const tick = () => {
        let value: T | undefined;
        try {
          value = check();
        } catch (err) {
          return reject(err as Error);
        }
        if (value !== undefined) return resolve(value);
        if (Date.now() - started > timeoutMs)
          return reject(new Error(`QEMU: timed out after ${timeoutMs} ms waiting for ${what}${tail()}`));
        setTimeout(tick, 100);
      };
      tick();
    });

  const vm: QemuVm = {
    pid: child.pid!,
    args,
    serialLog,
    workDir,
    exited,
    console: readConsole,
    async waitForConsole(pattern, timeoutMs) {
      return poll(
        () => {
          const text = readConsole();
          if (pattern.test(text)) return text;
          if (done) throw new Error(`QEMU exited before the console matched ${pattern}${tail()}`);
          return undefined;
        },
        timeoutMs,
        String(pattern),
      );
    },
    async waitForExit(timeoutMs) {
      let result: { code: number | null; signal: NodeJS.Signals | null } | undefined;
      void exited.then((r) => (result = r));
      return poll(() => result, timeoutMs, 'the VM to power off');
    },
    async stop() {
      if (!done) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
        await exited;
        clearTimeout(timer);
      }
      if (ownsWorkDir) fs.rmSync(workDir, { recursive: true, force: true });
    },
  };
  return vm;
}
