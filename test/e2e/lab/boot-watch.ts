// Watches one netboot of the lab's VM as it happens: when each serial mark (boot-phases.ts) first
// shows on the console of a boot that started after the watch did, and when the QEMU process is
// gone. QEMU writes the console to a file and keeps no times, so the times are when this process
// saw the text: a 100 ms poll, the same instrument for the orchestrated run and the bare one.
import fs from 'node:fs';
import path from 'node:path';
import { SERIAL_MARKS, type SerialMark } from './boot-phases';

const POLL_MS = 100;

export interface BootWatch {
  serial: Partial<Record<SerialMark, number>>;
  vmGoneMs?: number;
  /** The console text of the boots seen. */
  console(): string;
  stop(): void;
}

/** True while chassis.sh's QEMU (its pid file in `dir`) runs and is not a zombie. */
export function vmRunning(dir: string): boolean {
  try {
    const pid = fs.readFileSync(path.join(dir, 'vm.pid'), 'utf8').trim();
    const state = /^State:\s+(\S)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return state !== undefined && state !== 'Z';
  } catch {
    return false;
  }
}

export function watchBoot(dir: string): BootWatch {
  const before = new Set(fs.readdirSync(dir).filter((f) => f.startsWith('vm-serial-')));
  const serial: BootWatch['serial'] = {};
  let text = '';
  let sawVm = false;
  const w: BootWatch = {
    serial,
    console: () => text,
    stop: () => clearInterval(timer),
  };
  const tick = () => {
    const now = Date.now();
    const files = fs
      .readdirSync(dir)
      .filter((f) => f.startsWith('vm-serial-') && !before.has(f))
      .sort();
    text = files.map((f) => fs.readFileSync(path.join(dir, f), 'utf8')).join('\n');
    for (const [mark, re] of Object.entries(SERIAL_MARKS) as Array<[SerialMark, RegExp]>)
      if (serial[mark] === undefined && re.test(text)) serial[mark] = now;
    const running = vmRunning(dir);
    if (running) sawVm = true;
    else if (sawVm && w.vmGoneMs === undefined) w.vmGoneMs = now;
  };
  const timer = setInterval(tick, POLL_MS);
  return w;
}
