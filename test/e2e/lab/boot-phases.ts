// One netboot's phases, from the timestamps each party keeps of it: the BMC's chassis log (when
// QEMU was started and stopped), the boot HTTP server's request log (the rack's `http-boot:` lines,
// or the bare bench's own server in the same words), and when lines first appeared on the VM's
// serial console (iPXE's DHCP, the environment's own messages). The same marks for the
// orchestrated commissioning and for the bare netboot (bare-netboot.ts), so the two compare phase by
// phase. Pure: the e2e lab collects the inputs, test/unit/boot-phases.test.ts checks this on text.

/** One request from a boot HTTP server's log: `http-boot: <peer> <METHOD> <url> <status> <n> B <ms> ms`. */
export interface BootRequest {
  method: string;
  url: string;
  status: number;
  /** Epoch ms the request was logged (its end) minus its duration. */
  startMs: number;
  endMs: number;
}

const HTTP_BOOT = /^http-boot: \S+ (\S+) (\S+) (\d{3}) \d+ B (\d+) ms/;

/** The `http-boot:` requests among log lines: JSON (`{"time", "msg"}`) or text (`[ISO] msg`). */
export function parseBootRequests(log: string): BootRequest[] {
  const out: BootRequest[] = [];
  for (const line of log.split('\n')) {
    let time: string | undefined;
    let msg: string | undefined;
    if (line.startsWith('{')) {
      try {
        const j = JSON.parse(line) as { time?: unknown; msg?: unknown };
        if (typeof j.time === 'string' && typeof j.msg === 'string') [time, msg] = [j.time, j.msg];
      } catch {
        continue;
      }
    } else {
      const m = /^\[([^\]]+)\] (?:\w+ )?(http-boot: .*)$/.exec(line);
      if (m) [time, msg] = [m[1], m[2]];
    }
    const r = msg === undefined ? null : HTTP_BOOT.exec(msg);
    if (!r || time === undefined) continue;
    const endMs = Date.parse(time);
    if (Number.isNaN(endMs)) continue;
    out.push({ method: r[1]!, url: r[2]!, status: Number(r[3]), startMs: endMs - Number(r[4]), endMs });
  }
  return out;
}

/** chassis.sh's log: `<epoch seconds.ns> <what>` per line → [epoch ms, what]. */
export function parseChassisLog(log: string): Array<[number, string]> {
  const out: Array<[number, string]> = [];
  for (const line of log.split('\n')) {
    const m = /^(\d+\.\d+) (.*)$/.exec(line);
    if (m) out.push([Math.round(Number(m[1]) * 1000), m[2]!]);
  }
  return out;
}

/** What first appearing on the serial console marks a moment (iPXE's and the environment's words). */
export const SERIAL_MARKS = {
  /** iPXE starts DHCP on the boot NIC. */
  dhcp_start: /Configuring \(net0 /,
  /** …and has its lease (iPXE prints the dots while it waits, then " ok"). */
  dhcp_done: /Configuring \(net0 [^)]*\)[. ]*ok/,
  /** images/ephemeral/init's first line. */
  env_up: /metalflow: ephemeral environment started/,
  /** The environment's last word before poweroff -f. */
  powering_off: /metalflow: .*; powering off/,
} as const;
export type SerialMark = keyof typeof SERIAL_MARKS;

export interface BootInputs {
  /** When the run began: op-commission sent (orchestrated) or the bare bench's power-on call. */
  startMs: number;
  chassisLog: string;
  /** The boot HTTP server's log (rack or bare), all of it: requests before startMs are left out. */
  httpLog: string;
  /** Epoch ms each serial mark was first seen in this boot's console. */
  serial: Partial<Record<SerialMark, number>>;
  /** Epoch ms the QEMU process was seen gone. */
  vmGoneMs?: number;
  /** Epoch ms the run was over: the machine seen Ready (orchestrated); the VM gone (bare). */
  doneMs: number;
}

/** Moments, epoch ms; null when its source did not show it. */
export interface BootMarks {
  start: number;
  power_on_command: number | null;
  vm_started: number | null;
  dhcp_start: number | null;
  dhcp_done: number | null;
  loader_start: number | null;
  loader_done: number | null;
  kernel_start: number | null;
  initrd_done: number | null;
  env_up: number | null;
  first_report_received: number | null;
  report_received: number | null;
  powering_off: number | null;
  vm_gone: number | null;
  done: number;
}

export interface BootPhases {
  /** Seconds per phase, consecutive marks; null where a mark is missing. */
  phases: Record<(typeof PHASES)[number][0], number | null>;
  total_seconds: number;
  /** Each mark as seconds since start, for reading phases against each other. */
  marks_seconds: Record<keyof BootMarks, number | null>;
  /** The boot server's requests of this boot: seconds since start, duration ms. */
  requests: Array<{ request: string; status: number; at_seconds: number; ms: number }>;
}

/** [phase, from mark, to mark]: the list — power command, DHCP, loader, kernel, environment up, report, power off. */
export const PHASES = [
  ['power_command', 'start', 'vm_started'],
  ['firmware_to_dhcp', 'vm_started', 'dhcp_start'],
  ['dhcp', 'dhcp_start', 'dhcp_done'],
  ['loader_scripts', 'dhcp_done', 'loader_done'],
  ['kernel_initrd_fetch', 'loader_done', 'initrd_done'],
  ['kernel_boot_to_env_up', 'initrd_done', 'env_up'],
  ['env_up_to_report_received', 'env_up', 'report_received'],
  ['report_to_vm_off', 'report_received', 'vm_gone'],
  ['vm_off_to_done', 'vm_gone', 'done'],
] as const satisfies ReadonlyArray<readonly [string, keyof BootMarks, keyof BootMarks]>;

const isScript = (url: string) => url.endsWith('.ipxe');
const isKernel = (url: string) => url.endsWith('/vmlinuz');
const isInitrd = (url: string) => url.endsWith('/initrd.gz');
/** The environment's reports: op=signal POSTs to the metadata server (through the rack's proxy, or the bare sink). */
const isReport = (r: BootRequest) => r.method === 'POST' && r.url.includes('/metadata/');

export function bootMarks(i: BootInputs): BootMarks {
  const chassis = parseChassisLog(i.chassisLog).filter(([t]) => t >= i.startMs);
  const requests = parseBootRequests(i.httpLog).filter((r) => r.startMs >= i.startMs && r.status < 400);
  const firstChassis = (re: RegExp) => chassis.find(([, what]) => re.test(what))?.[0] ?? null;
  const vmStarted = firstChassis(/^vm start boot=pxe/);
  const kernel = requests.find((r) => isKernel(r.url));
  // Scripts fetched before the kernel are the loader's (a later boot's scripts are not this one's).
  const scripts = requests.filter((r) => isScript(r.url) && (!kernel || r.startMs <= kernel.startMs));
  const initrd = requests.find((r) => isInitrd(r.url) && (!kernel || r.startMs >= kernel.startMs));
  const reports = requests.filter(isReport);
  return {
    start: i.startMs,
    power_on_command: firstChassis(/set (power 1|reset 1)$/),
    vm_started: vmStarted,
    dhcp_start: i.serial.dhcp_start ?? null,
    dhcp_done: i.serial.dhcp_done ?? null,
    loader_start: scripts[0]?.startMs ?? null,
    loader_done: scripts.at(-1)?.endMs ?? null,
    kernel_start: kernel?.startMs ?? null,
    initrd_done: initrd?.endMs ?? null,
    env_up: i.serial.env_up ?? null,
    first_report_received: reports[0]?.endMs ?? null,
    report_received: reports.at(-1)?.endMs ?? null,
    powering_off: i.serial.powering_off ?? null,
    vm_gone: i.vmGoneMs ?? null,
    done: i.doneMs,
  };
}

export function bootPhases(i: BootInputs): BootPhases {
  const marks = bootMarks(i);
  const s = (ms: number) => Math.round(ms) / 1000;
  const phases = Object.fromEntries(
    PHASES.map(([name, from, to]) => {
      const a = marks[from];
      const b = marks[to];
      return [name, a === null || b === null ? null : s(b - a)];
    }),
  ) as BootPhases['phases'];
  const requests = parseBootRequests(i.httpLog)
    .filter((r) => r.startMs >= i.startMs && r.startMs <= i.doneMs)
    .map((r) => ({
      request: `${r.method} ${r.url}`,
      status: r.status,
      at_seconds: s(r.startMs - i.startMs),
      ms: r.endMs - r.startMs,
    }));
  return {
    phases,
    total_seconds: s(marks.done - marks.start),
    marks_seconds: Object.fromEntries(
      Object.entries(marks).map(([k, v]) => [k, v === null ? null : s(v - i.startMs)]),
    ) as BootPhases['marks_seconds'],
    requests,
  };
}
