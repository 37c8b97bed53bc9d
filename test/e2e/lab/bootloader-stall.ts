// A guest stuck in its own bootloader after a reboot: seen once under load (the UEFI lab, OVMF and
// Debian's signed GRUB under TCG). The firmware had chosen the installed OS's entry and GRUB had
// printed "Welcome to GRUB!", then nothing at all for ten minutes: not its menu, not a prompt, not
// the kernel. What metalflow set up (the NVRAM entry and the boot order) had already done its part,
// so the lab logs what the VM was doing (QMP) and presses its reset button once, as an operator
// would. The VM process stays the same, so the test's "rebooted in place" and BootCurrent checks
// still judge the boot that follows; a stall on every boot still fails it.
import net from 'node:net';
import path from 'node:path';
import type { Lab } from './lab';

/** How long GRUB may print nothing after its welcome before the guest counts as stuck. */
const STALL_MS = 180_000;
/** How long a QMP exchange may take: QEMU serves one client at a time, and a wedged one none. */
const QMP_TIMEOUT_MS = 10_000;

type QmpAnswer = { return?: unknown; error?: { class: string; desc: string } };

/**
 * Sends QMP commands to the lab's VM and gives back each one's answer (`return` or `error`). Fails
 * when the socket errors, closes, sends something that is not JSON, or goes quiet.
 */
export async function qmp(lab: Lab, commands: Array<Record<string, unknown>>): Promise<QmpAnswer[]> {
  const socket = net.connect(path.join(lab.bmc.dir, 'qmp.sock'));
  socket.setEncoding('utf8');
  const waiting: Array<{ resolve: (a: QmpAnswer) => void; reject: (e: Error) => void }> = [];
  const failAll = (err: Error) => {
    for (const w of waiting.splice(0)) w.reject(err);
  };
  let buffered = '';
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (!line) continue;
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(line) as Record<string, unknown>;
      } catch {
        socket.destroy(new Error(`QMP sent something that is not JSON: ${line.slice(0, 200)}`));
        return;
      }
      // Asynchronous events (RESET, ...) are not answers.
      if (!('event' in message)) waiting.shift()?.resolve(message as QmpAnswer);
    }
  });
  socket.on('error', failAll);
  socket.on('close', () => failAll(new Error('QMP closed the connection')));
  socket.setTimeout(QMP_TIMEOUT_MS, () => socket.destroy(new Error(`QMP said nothing for ${QMP_TIMEOUT_MS} ms`)));
  const next = () => new Promise<QmpAnswer>((resolve, reject) => waiting.push({ resolve, reject }));
  try {
    await next(); // the greeting
    const answers: QmpAnswer[] = [];
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

const hmp = (line: string) => ({ execute: 'human-monitor-command', arguments: { 'command-line': line } });

/** Watches the serial console for GRUB printing nothing after its welcome, over successive probes. */
export class BootloaderStallWatch {
  private lastLength = -1;
  private unchangedSince = Date.now();
  /** What the watch did, for the test's failure message; empty while it did nothing. */
  note = '';

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
    if (this.note || Date.now() - this.unchangedSince < STALL_MS || !stuckAfterWelcome(serial)) return;
    this.note = `GRUB printed nothing after its welcome for ${STALL_MS / 1000} s`;
    try {
      this.note += `; ${await this.record()}`;
      const [reset] = await qmp(this.lab, [{ execute: 'system_reset' }]);
      this.note += reset?.error ? `; the reset was refused: ${reset.error.desc}` : '; pressed its reset once';
    } catch (err) {
      this.note += `; QMP failed: ${(err as Error).message}`;
    }
    this.log(`the guest looks stuck in GRUB: ${this.note}`);
  }

  /**
   * Logs what tells a stuck guest from a slow one: its run state (a VM paused on a host I/O error
   * stays paused after a reset), the registers twice five seconds apart (halted, interrupts off,
   * or looping), the code at its instruction pointer, and its disks' counters before and after.
   * Returns a one-line summary.
   */
  private async record(): Promise<string> {
    const [status, blocksBefore, registers] = await qmp(this.lab, [
      { execute: 'query-status' },
      { execute: 'query-blockstats' },
      hmp('info registers'),
    ]);
    await new Promise((r) => setTimeout(r, 5000));
    const [registersLater, code, blocksAfter] = await qmp(this.lab, [
      hmp('info registers'),
      hmp('x /8i $pc'),
      { execute: 'query-blockstats' },
    ]);
    const text = (a: QmpAnswer | undefined) => (typeof a?.return === 'string' ? a.return : JSON.stringify(a));
    // Into the test's output, not the lab's directory: that goes when the lab stops.
    this.log(
      [
        'what the VM was doing:',
        `status: ${text(status)}`,
        `registers:\n${text(registers)}`,
        `registers 5 s later:\n${text(registersLater)}`,
        `code at the instruction pointer:\n${text(code)}`,
        `blockstats before: ${text(blocksBefore)}`,
        `blockstats after: ${text(blocksAfter)}`,
      ].join('\n'),
    );
    const ip = (a: QmpAnswer | undefined) => /[RE]IP=[0-9a-f]+/.exec(text(a))?.[0] ?? 'no instruction pointer';
    const halted = /HLT=1/.test(text(registersLater)) ? ', halted' : '';
    const reads = (a: QmpAnswer | undefined) =>
      ((a?.return as Array<{ stats?: { rd_operations?: number } }> | undefined) ?? []).reduce(
        (n, d) => n + (d.stats?.rd_operations ?? 0),
        0,
      );
    const state = (status?.return as { status?: string } | undefined)?.status ?? 'unknown';
    return `VM ${state}, ${ip(registers)} then ${ip(registersLater)}${halted}, ${reads(blocksAfter) - reads(blocksBefore)} disk reads in 5 s`;
  }
}

/**
 * The console since the last restart shows GRUB's welcome and nothing printable after it (terminal
 * escapes, control bytes and blank lines only): a menu, a prompt or an error message would be text.
 */
export function stuckAfterWelcome(serial: string): boolean {
  // With no restart in the log (lastIndexOf gives -1), all of it.
  const sinceRestart = serial.slice(serial.lastIndexOf('reboot: Restarting system') + 1);
  const at = sinceRestart.lastIndexOf('Welcome to GRUB!');
  if (at < 0) return false;
  const after = sinceRestart
    .slice(at + 'Welcome to GRUB!'.length)
    // eslint-disable-next-line no-control-regex
    .replace(/\x1b\[[0-9;=?]*[A-Za-z]/g, '')
    // eslint-disable-next-line no-control-regex
    .replace(/[\x00-\x1f\x7f]/g, '');
  return after.trim() === '';
}
