// A guest stuck in its own bootloader after a reboot: seen once under load (the UEFI lab, OVMF and
// Debian's signed GRUB under TCG). The firmware had chosen the installed OS's entry and GRUB had
// printed "Welcome to GRUB!", then nothing at all for ten minutes: not its menu, not a prompt, not
// the kernel. What metalflow set up (the NVRAM entry and the boot order) had already done its part,
// so the lab records where the vCPU was (QMP) and presses the VM's reset button once, as an
// operator would; the VM process stays the same, so "rebooted in place" still holds.
import net from 'node:net';
import path from 'node:path';
import type { Lab } from './lab';

/** How long GRUB may print nothing after its welcome before the guest counts as stuck. */
const STALL_MS = 180_000;

/** Sends QMP commands to the lab's VM and gives back each one's answer (`return` or `error`). */
export async function qmp(lab: Lab, commands: Array<Record<string, unknown>>): Promise<unknown[]> {
  const socket = net.connect(path.join(lab.bmc.dir, 'qmp.sock'));
  const answers: unknown[] = [];
  let buffered = '';
  const pending: Array<(message: Record<string, unknown>) => void> = [];
  socket.on('data', (chunk) => {
    buffered += chunk.toString('utf8');
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (!line) continue;
      const message = JSON.parse(line) as Record<string, unknown>;
      // Asynchronous events (RESET, ...) are not answers.
      if ('event' in message) continue;
      pending.shift()?.(message);
    }
  });
  const next = () =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      pending.push(resolve);
      socket.once('error', reject);
    });
  try {
    await next(); // the greeting
    for (const command of [{ execute: 'qmp_capabilities' }, ...commands]) {
      const answer = next();
      socket.write(`${JSON.stringify(command)}\n`);
      answers.push(await answer);
    }
    return answers.slice(1);
  } finally {
    socket.destroy();
  }
}

/** Watches the serial console for GRUB printing nothing after its welcome, over successive probes. */
export class BootloaderStallWatch {
  private lastLength = -1;
  private unchangedSince = Date.now();
  private resets = 0;

  constructor(
    private readonly lab: Lab,
    private readonly log: (line: string) => void,
  ) {}

  /** Called on each probe while the guest is down: resets it once when it is stuck in GRUB. */
  async check(): Promise<void> {
    const serial = this.lab.serialLog();
    if (serial.length !== this.lastLength) {
      this.lastLength = serial.length;
      this.unchangedSince = Date.now();
      return;
    }
    if (this.resets > 0 || Date.now() - this.unchangedSince < STALL_MS || !stuckAfterWelcome(serial)) return;
    this.resets++;
    try {
      const [registers] = await qmp(this.lab, [
        { execute: 'human-monitor-command', arguments: { 'command-line': 'info registers' } },
      ]);
      const rip = /[RE]IP=[0-9a-f]+/.exec(JSON.stringify(registers))?.[0] ?? 'instruction pointer unknown';
      this.log(
        `the guest printed nothing after "Welcome to GRUB!" for ${STALL_MS / 1000} s (${rip}): pressing the VM's reset once`,
      );
      await qmp(this.lab, [{ execute: 'system_reset' }]);
    } catch (err) {
      this.log(`the guest looks stuck in GRUB, but QMP failed: ${(err as Error).message}`);
    }
  }
}

/**
 * The console since the last restart shows GRUB's welcome and nothing printable after it (terminal
 * escapes and blank lines only): a menu, a prompt or an error message would be text.
 */
export function stuckAfterWelcome(serial: string): boolean {
  const sinceRestart = serial.slice(serial.lastIndexOf('reboot: Restarting system') + 1);
  const at = sinceRestart.lastIndexOf('Welcome to GRUB!');
  if (at < 0) return false;
  // eslint-disable-next-line no-control-regex
  const after = sinceRestart.slice(at + 'Welcome to GRUB!'.length).replace(/\x1b\[[0-9;=?]*[A-Za-z]/g, '');
  return after.trim() === '';
}
