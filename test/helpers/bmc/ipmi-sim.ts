// A real IPMI BMC for tests: ipmi_sim (Debian openipmi) on a free local UDP port, with a chassis
// control script that only records what it is told (power, boot device) in files. The script
// sleeps while a "slow" file exists, which makes the BMC itself slow: ipmi_sim runs it
// synchronously. Config modelled on ../shared/lab/lan.conf (users admin/password, test/"").
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, stopChild, waitFor } from './peers';

const CHASSIS = `#!/bin/sh
# chassis.sh <device> get power|boot ... / set power 0|1 reset 1 boot pxe|... shutdown 1
D=$(dirname "$0"); shift; op=$1; shift
echo "$op $*" >> "$D/chassis.log"
[ -f "$D/slow" ] && sleep "$(cat "$D/slow")"
case $op in
get) for p in "$@"; do case $p in
       power) echo "power:$(cat "$D/power" 2>/dev/null || echo 0)" ;;
       boot) echo "boot:$(cat "$D/boot" 2>/dev/null || echo default)" ;;
     esac; done ;;
set) while [ $# -gt 0 ]; do p=$1; v=$2; shift 2; case $p in
       power) echo "$v" > "$D/power" ;;
       reset) echo 1 > "$D/power"; echo reset >> "$D/events" ;;
       shutdown) echo 0 > "$D/power" ;;
       boot) echo "$v" > "$D/boot" ;;
       identify) shift ;;
     esac; done ;;
check) exit 1 ;;
esac
exit 0
`;

const EMU = `mc_setbmc 0x20
mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr
sel_enable 0x20 1000 0x0a
mc_enable 0x20
`;

const lanConf = (dir: string, host: string, port: number) => `name "testbmc"
set_working_mc 0x20
  startlan 1
    addr ${host} ${port}
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcdef
  endlan
  chassis_control "${dir}/chassis.sh 0x20"
  user 1 true  ""      "test"     user  10 none md2 md5 straight
  user 2 true  "admin" "password" admin 10 none md2 md5 straight
`;

export interface IpmiSim {
  address: string;
  /** The ipmi_sim process (benchmarks read its CPU time). */
  pid: number | undefined;
  /** Lines the chassis script was called with, e.g. "set boot pxe", "set power 1". */
  chassisLog(): string[];
  power(): 'on' | 'off';
  /** Make every chassis call take this long (0: fast again). */
  slow(seconds: number): void;
  stop(): Promise<void>;
}

export interface IpmiSimOptions {
  /** The chassis_control script (default: one that only records); run from the BMC's directory. */
  chassisScript?: string;
  /** Files the chassis script needs, written into the BMC's directory before it starts. */
  prepare?: (dir: string) => void;
  /** The address it listens on (default 127.0.0.1); a lab with a rack in another namespace needs one both reach. */
  host?: string;
}

export async function startIpmiSim(o: IpmiSimOptions = {}): Promise<IpmiSim & { dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'metalflow-ipmisim-'));
  const port = await freePort('udp');
  const host = o.host ?? '127.0.0.1';
  fs.writeFileSync(path.join(dir, 'chassis.sh'), o.chassisScript ?? CHASSIS, { mode: 0o755 });
  o.prepare?.(dir);
  fs.writeFileSync(path.join(dir, 'lan.conf'), lanConf(dir, host, port));
  fs.writeFileSync(path.join(dir, 'bmc.emu'), EMU);
  const child: ChildProcess = spawn(
    'ipmi_sim',
    ['-c', 'lan.conf', '-f', 'bmc.emu', '-s', path.join(dir, 'state'), '-n'],
    { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const portHex = port.toString(16).toUpperCase().padStart(4, '0');
  // Listening = the port shows up in /proc/net/udp (no probe packet needed).
  await waitFor(`ipmi_sim on ${port}`, () => {
    if (child.exitCode !== null) throw new Error(`ipmi_sim exited: ${stderr}`);
    return fs.readFileSync('/proc/net/udp', 'utf8').includes(`:${portHex} `);
  }).catch(async (err: unknown) => {
    await stopChild(child);
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  const read = (f: string) => fs.readFileSync(path.join(dir, f), 'utf8');
  return {
    dir,
    address: `${host}:${port}`,
    pid: child.pid,
    chassisLog: () => (fs.existsSync(path.join(dir, 'chassis.log')) ? read('chassis.log').trim().split('\n') : []),
    power: () => (fs.existsSync(path.join(dir, 'power')) && read('power').trim() === '1' ? 'on' : 'off'),
    slow: (seconds) =>
      seconds > 0
        ? fs.writeFileSync(path.join(dir, 'slow'), String(seconds))
        : fs.rmSync(path.join(dir, 'slow'), { force: true }),
    stop: async () => {
      await stopChild(child);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
