// The e2e lab both e2e files share (inside the namespace scripts/e2e.ts made): ipmi_sim whose
// chassis script (chassis.sh) runs a QEMU VM on tap0, the real stack (region API + worker + rack
// with its DHCP, TFTP and HTTP boot servers on their standard ports), and helpers to power the VM
// through metalflow's IPMI driver, poll, and read the VM's serial consoles.
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { IpmiPowerDriver } from '../../../src/rack/power/ipmi';
import { startIpmiSim, type IpmiSim } from '../../helpers/bmc/ipmi-sim';
import { startStack, type Stack } from '../../helpers/stack';
import { SECOND_RACK, startSecondRack, type SecondRack } from './second-rack';

export type Json = Record<string, unknown>;
/** Debian's ovmf: the firmware code (read-only) and the variable store each UEFI VM gets a copy of. */
export const OVMF = { code: '/usr/share/OVMF/OVMF_CODE_4M.fd', vars: '/usr/share/OVMF/OVMF_VARS_4M.fd' };
export const ROOT = path.resolve(__dirname, '..', '..', '..');
export const VM = {
  mac: '52:54:00:4d:46:01',
  /** The second NIC of a two-NIC lab (on tap1). */
  mac2: '52:54:00:4d:46:02',
  memoryMib: 768,
  cpus: 2,
  diskBytes: 3 * 1024 ** 3,
  diskSerial: 'MF-DISK-0001',
  /** A lab's small second disk (startLab({ scratchDiskBytes })), raw, for the destructive fio test. */
  scratchDiskSerial: 'MF-SCRATCH-0001',
  serial: 'MF-E2E-0001',
  uuid: '6d657461-6c66-6c6f-7700-000000000001',
};

/** The lab's LLDP "switch" (lldp-switch.py, sending from br0 every second while the lab runs). */
export const LAB_SWITCH = {
  name: 'metalflow-lab-switch',
  port: 'swp1',
  portDescr: 'lab port 1',
  descr: 'metalflow e2e lab LLDP switch',
  mgmtIp: '10.77.0.1',
};

export interface Lab {
  stack: Stack;
  bmc: IpmiSim & { dir: string };
  rackId: string;
  /** The VM's disk file (raw when the lab was asked for one, so a test can read it). */
  diskPath: string;
  ipmiParams(): Record<string, string>;
  /** Power the VM through metalflow's IPMI driver (on: next boot PXE, as the rack does). */
  power(action: 'on' | 'off' | 'query'): Promise<string>;
  until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T>;
  /** Every boot's serial console so far, oldest first. */
  serialLog(): string;
  /** Turn DHCP on for the rack's subnet (dynamic range .100-.150) and wait until the rack serves. */
  enableDhcp(): Promise<void>;
  /**
   * Start the second rack (startLab({ secondRack: true }) only) and make it the VLAN's secondary
   * rack. Separate from startLab so a test creates its machine first: a new machine is served by
   * the rack heard from most recently, and the test wants the primary's.
   */
  addSecondRack(): Promise<SecondRack>;
  /** The second rack, once added. */
  rack2?: SecondRack;
  stop(): Promise<void>;
}

export async function startLab(
  o: {
    diskFormat?: 'qcow2' | 'raw';
    nodeTimeoutSeconds?: number;
    /** The rack's boot root (default build/boot): a test that needs other images makes its own. */
    bootRoot?: string;
    /** The VM's disk (VM.diskBytes by default); a real image's flat layout needs MAAS's 3 GiB root + boot. */
    diskBytes?: number;
    /**
     * A second, small virtio disk (serial VM.scratchDiskSerial) of this many bytes: fio, MAAS's
     * destructive storage test, tests a disk whole up to 4 GiB, which TCG takes minutes over.
     */
    scratchDiskBytes?: number;
    /** 2: a second virtio NIC (VM.mac2) on tap1 in br0; it does not netboot. */
    nics?: 1 | 2;
    /** SeaBIOS (default) or OVMF, with this VM's own NVRAM (chassis.sh). */
    firmware?: 'bios' | 'uefi';
    /** The region's DNS server (BIND's named) on the lab's br0 address, port 53. */
    dns?: boolean;
    /** The VM's RAM (VM.memoryMib by default); an ephemeral deploy holds the whole root in it. */
    memoryMib?: number;
    /** A guest reboot restarts the VM in place (chassis.sh VM_REBOOTS) instead of powering it off. */
    reboots?: boolean;
    /** A second rack can be added (addSecondRack): ipmi_sim then listens on br0's address for it too. */
    secondRack?: boolean;
    /** The LLDP switch on br0 (LAB_SWITCH; default on): commissioning's maas-capture-lldpd hears it. */
    lldpSwitch?: boolean;
  } = {},
): Promise<Lab> {
  assert.ok(process.env.METALFLOW_E2E_NETNS, 'run through scripts/e2e.ts (npm run e2e), which makes the lab namespace');
  const bootRoot = o.bootRoot ?? path.join(ROOT, 'build', 'boot');
  assert.ok(
    fs.existsSync(path.join(bootRoot, 'images/ephemeral/amd64/initrd.gz')),
    'the ephemeral environment is built (images/ephemeral/build.sh)',
  );
  const uefi = o.firmware === 'uefi';
  if (uefi) for (const f of [OVMF.code, OVMF.vars]) assert.ok(fs.existsSync(f), `${f} exists (apt-get install ovmf)`);
  const format = o.diskFormat ?? 'qcow2';
  const diskName = `disk0.${format === 'raw' ? 'img' : 'qcow2'}`;
  const bmc = await startIpmiSim({
    ...(o.secondRack ? { host: SECOND_RACK.labAddress } : {}),
    chassisScript: fs.readFileSync(path.join(__dirname, 'chassis.sh'), 'utf8'),
    prepare: (dir) => {
      fs.writeFileSync(
        path.join(dir, 'vm.env'),
        [
          `VM_MEMORY_MIB=${o.memoryMib ?? VM.memoryMib}`,
          `VM_CPUS=${VM.cpus}`,
          `VM_MAC=${VM.mac}`,
          `VM_VENDOR=MetalflowLab`,
          `VM_PRODUCT=PXE-VM`,
          `VM_SERIAL=${VM.serial}`,
          `VM_UUID=${VM.uuid}`,
          `VM_DISK_SERIAL=${VM.diskSerial}`,
          `VM_DISK=${diskName}`,
          `VM_DISK_FORMAT=${format}`,
          ...(o.nics === 2 ? [`VM_MAC2=${VM.mac2}`] : []),
          ...(o.scratchDiskBytes ? ['VM_DISK2=disk1.img', `VM_DISK2_SERIAL=${VM.scratchDiskSerial}`] : []),
          ...(uefi ? ['VM_FIRMWARE=uefi', `VM_OVMF_CODE=${OVMF.code}`, `VM_OVMF_VARS=${OVMF.vars}`] : []),
          ...(uefi ? [`VM_OVMF_BOOT_NEXT=${path.join(__dirname, 'ovmf-boot-next.py')}`] : []),
          ...(o.reboots ? ['VM_REBOOTS=1'] : []),
        ].join('\n') + '\n',
      );
      // A fresh NVRAM: no boot entries yet, as a new machine's.
      if (uefi) fs.copyFileSync(OVMF.vars, path.join(dir, 'ovmf-vars.fd'));
      execFileSync('qemu-img', [
        'create',
        '-q',
        '-f',
        format,
        path.join(dir, diskName),
        String(o.diskBytes ?? VM.diskBytes),
      ]);
      if (o.scratchDiskBytes) {
        const scratch = path.join(dir, 'disk1.img');
        fs.writeFileSync(scratch, '');
        fs.truncateSync(scratch, o.scratchDiskBytes);
      }
    },
  });
  const stack = await startStack({
    nodeTimeoutSeconds: o.nodeTimeoutSeconds ?? 300,
    env: {
      METALFLOW_DHCP_PORT: '67',
      METALFLOW_TFTP_PORT: '69',
      METALFLOW_HTTP_BOOT_PORT: '5248',
      METALFLOW_DHCP_POLL_SECONDS: '1',
      METALFLOW_BOOT_ROOT: bootRoot,
      ...(o.dns ? { METALFLOW_DNS_LISTEN: '10.77.0.1:53' } : {}),
    },
  });
  const racks = (await stack.call('GET', '/rackcontrollers/')).body as Json[];
  const rackId = racks[0]!.system_id as string;
  let lldpSwitch: ChildProcess | undefined;
  if (o.lldpSwitch !== false) {
    const S = LAB_SWITCH;
    lldpSwitch = spawn(
      'python3',
      [path.join(__dirname, 'lldp-switch.py'), 'br0', S.name, S.port, S.portDescr, S.descr, S.mgmtIp],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
  }

  const ipmiParams = () => {
    const [host, port] = bmc.address.split(':');
    return { power_address: `${host!}:${port!}`, power_user: 'admin', power_pass: 'password', cipher_suite_id: '3' };
  };
  const driver = new IpmiPowerDriver({ backoffMs: [1000, 2000] });
  const power = (action: 'on' | 'off' | 'query'): Promise<string> => {
    const cfg = { systemId: 'e2e-vm', powerType: 'ipmi', parameters: ipmiParams() };
    const signal = AbortSignal.timeout(60_000);
    return action === 'on'
      ? driver.setNextBootPxe!(cfg, signal).then(() => driver.on(cfg, signal))
      : action === 'off'
        ? driver.off(cfg, signal)
        : driver.query(cfg, signal);
  };
  const serialLog = () =>
    fs
      .readdirSync(bmc.dir)
      .filter((f) => f.startsWith('vm-serial-'))
      .sort()
      .map((f) => fs.readFileSync(path.join(bmc.dir, f), 'utf8'))
      .join('\n=== next boot ===\n');
  const chassisLog = () => {
    try {
      return fs.readFileSync(path.join(bmc.dir, 'chassis.log'), 'utf8').replace(/^.* get power\n/gm, '');
    } catch {
      return '';
    }
  };
  let rack2: SecondRack | undefined;
  const until = async <T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let got: T | undefined;
      try {
        got = await probe();
      } catch (err) {
        if ((err as { fatal?: boolean }).fatal) throw err;
      }
      if (got !== undefined) return got;
      if (Date.now() > deadline)
        throw new Error(
          // The VM's last lines first: CI's summary keeps only an error's first lines.
          `timed out waiting for ${what}\n--- VM serial (last lines) ---\n${lastLines(serialLog(), 12)}\n` +
            `--- chassis (last lines) ---\n${lastLines(chassisLog(), 6)}\n` +
            `--- rack log (tail) ---\n${stack.logs('rack').slice(-6000)}\n${rack2 ? `--- ${rack2.name} log (tail) ---\n${rack2.output().slice(-6000)}\n` : ''}--- VM serial (tail) ---\n${serialLog().slice(-4000)}`,
        );
      await new Promise((r) => setTimeout(r, 500));
    }
  };

  const lab: Lab = {
    stack,
    bmc,
    rackId,
    diskPath: path.join(bmc.dir, diskName),
    ipmiParams,
    power,
    until,
    serialLog,
    async enableDhcp() {
      const found = await stack.call('GET', `/subnets/${encodeURIComponent('10.77.0.0/24')}/`);
      const racksNow = (await stack.call('GET', '/rackcontrollers/')).text;
      assert.equal(
        found.status,
        200,
        `the rack's subnet is known: ${found.text}; racks: ${racksNow}; subnets: ${(await stack.call('GET', '/subnets/')).text}`,
      );
      const vlan = (found.body as Json).vlan as Json;
      const range = await stack.call('POST', '/ipranges/', {
        type: 'dynamic',
        start_ip: '10.77.0.100',
        end_ip: '10.77.0.150',
      });
      assert.equal(range.status, 200, range.text);
      const on = await stack.call('PUT', `/fabrics/${vlan.fabric_id as number}/vlans/${vlan.vid as number}/`, {
        dhcp_on: 'True',
        primary_rack: rackId,
      });
      assert.equal(on.status, 200, on.text);
      await until('the rack to serve DHCP', 30_000, async () => {
        const rack = (await stack.call('GET', `/rackcontrollers/${rackId}/`)).body as Json;
        const services = Object.fromEntries((rack.service_set as Json[]).map((s) => [s.name, s.status]));
        return services.dhcp === 'running' && services.tftp === 'running' && services['http-boot'] === 'running'
          ? services
          : undefined;
      });
    },
    async addSecondRack() {
      assert.ok(o.secondRack, 'startLab({ secondRack: true })');
      rack2 = await startSecondRack({ stack, labNetns: process.env.METALFLOW_E2E_NETNS! });
      lab.rack2 = rack2;
      const vlan = ((await stack.call('GET', `/subnets/${encodeURIComponent('10.77.0.0/24')}/`)).body as Json)
        .vlan as Json;
      const rackB = await until(`${rack2.name} to be registered`, 30_000, async () => {
        const all = (await stack.call('GET', '/rackcontrollers/')).body as Json[];
        return all.find((r) => r.system_id !== rackId);
      });
      const set = await stack.call('PUT', `/fabrics/${vlan.fabric_id as number}/vlans/${vlan.vid as number}/`, {
        secondary_rack: rackB.system_id as string,
      });
      assert.equal(set.status, 200, set.text);
      return rack2;
    },
    async stop() {
      await power('off').catch(() => undefined);
      lldpSwitch?.kill();
      await rack2?.stop();
      await stack.stop();
      await bmc.stop();
    },
  };
  return lab;
}

/** Poll a machine until `status`; a Failed… status ends the wait at once with its message. */
export function waitForMachine(lab: Lab, id: string, status: string, timeoutMs: number): Promise<Json> {
  return lab.until(`${id} to be ${status}`, timeoutMs, async () => {
    const m = (await lab.stack.call('GET', `/machines/${id}/`)).body as Json;
    if (String(m.status_name).startsWith('Failed') && !status.startsWith('Failed')) {
      throw Object.assign(
        new Error(
          `${id} is ${String(m.status_name)}: ${String(m.status_message)}\n--- VM serial (tail) ---\n${lab.serialLog().slice(-4000)}`,
        ),
        { fatal: true },
      );
    }
    return m.status_name === status ? m : undefined;
  });
}

/** A log's last `n` non-empty lines, without the serial console's carriage returns and colours. */
function lastLines(text: string, n: number): string {
  return text
    .replace(/\r/g, '')
    .replace(new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g'), '')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .slice(-n)
    .join('\n');
}
