// The whole path on real parts, inside the lab namespace scripts/e2e.ts made: a QEMU VM with its
// own iPXE firmware, powered through a real IPMI BMC (ipmi_sim) by metalflow's IPMI driver,
// PXE-boots from the rack's own DHCP, TFTP and HTTP servers into metalflow's ephemeral
// environment; an unknown VM enlists itself (NEW), then commissioning ends READY with the
// hardware QEMU was given. Region, rack, PostgreSQL and Temporal are real processes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { IpmiPowerDriver } from '../../src/rack/power/ipmi';
import { startIpmiSim, type IpmiSim } from '../helpers/bmc/ipmi-sim';
import { startStack, type Stack } from '../helpers/stack';

type Json = Record<string, unknown>;
const ROOT = path.resolve(__dirname, '..', '..');
const VM = {
  mac: '52:54:00:4d:46:01',
  memoryMib: 768,
  cpus: 2,
  diskBytes: 3 * 1024 ** 3,
  diskSerial: 'MF-DISK-0001',
  serial: 'MF-E2E-0001',
  uuid: '6d657461-6c66-6c6f-7700-000000000001',
};

describe('PXE end to end: enlist, then commission a QEMU VM through IPMI', { timeout: 15 * 60_000 }, () => {
  let stack: Stack;
  let bmc: IpmiSim & { dir: string };
  let rackId: string;
  const ipmiParams = () => {
    const [host, port] = bmc.address.split(':');
    return { power_address: `${host!}:${port!}`, power_user: 'admin', power_pass: 'password', cipher_suite_id: '3' };
  };
  const driver = new IpmiPowerDriver({ backoffMs: [1000, 2000] });
  const power = (action: 'on' | 'off' | 'query') => {
    const cfg = { systemId: 'e2e-vm', powerType: 'ipmi', parameters: ipmiParams() };
    const signal = AbortSignal.timeout(60_000);
    return action === 'on' ? driver.setNextBootPxe!(cfg, signal).then(() => driver.on(cfg, signal)) : action === 'off' ? driver.off(cfg, signal) : driver.query(cfg, signal);
  };
  const until = async <T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const got = await probe().catch(() => undefined);
      if (got !== undefined) return got;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n--- rack log (tail) ---\n${stack.logs('rack').slice(-6000)}\n--- VM serial (tail) ---\n${serialLog().slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  const serialLog = () =>
    fs
      .readdirSync(bmc.dir)
      .filter((f) => f.startsWith('vm-serial-'))
      .sort()
      .map((f) => fs.readFileSync(path.join(bmc.dir, f), 'utf8'))
      .join('\n=== next boot ===\n');

  before(async () => {
    assert.ok(process.env.METALFLOW_E2E_NETNS, 'run through scripts/e2e.ts (npm run e2e), which makes the lab namespace');
    assert.ok(fs.existsSync(path.join(ROOT, 'build/boot/images/ephemeral/amd64/initrd.gz')), 'the ephemeral environment is built (images/ephemeral/build.sh)');
    bmc = await startIpmiSim({
      chassisScript: fs.readFileSync(path.join(__dirname, 'lab', 'chassis.sh'), 'utf8'),
      prepare: (dir) => {
        fs.writeFileSync(
          path.join(dir, 'vm.env'),
          [
            `VM_MEMORY_MIB=${VM.memoryMib}`,
            `VM_CPUS=${VM.cpus}`,
            `VM_MAC=${VM.mac}`,
            `VM_VENDOR=MetalflowLab`,
            `VM_PRODUCT=PXE-VM`,
            `VM_SERIAL=${VM.serial}`,
            `VM_UUID=${VM.uuid}`,
            `VM_DISK_SERIAL=${VM.diskSerial}`,
          ].join('\n') + '\n',
        );
        execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', path.join(dir, 'disk0.qcow2'), String(VM.diskBytes)]);
      },
    });
    stack = await startStack({
      nodeTimeoutSeconds: 300,
      env: {
        METALFLOW_DHCP_PORT: '67',
        METALFLOW_TFTP_PORT: '69',
        METALFLOW_HTTP_BOOT_PORT: '5248',
        METALFLOW_DHCP_POLL_SECONDS: '1',
        METALFLOW_BOOT_ROOT: path.join(ROOT, 'build', 'boot'),
      },
    });
    const racks = (await stack.call('GET', '/rackcontrollers/')).body as Json[];
    rackId = racks[0]!.system_id as string;
  });
  after(async () => {
    await power('off').catch(() => undefined);
    await stack?.stop();
    await bmc?.stop();
  });

  it('the operator turns DHCP on for the subnet the rack is on; the rack reports DHCP, TFTP and HTTP boot running', async () => {
    const found = await stack.call('GET', `/subnets/${encodeURIComponent('10.77.0.0/24')}/`);
    const racks = (await stack.call('GET', '/rackcontrollers/')).text;
    assert.equal(found.status, 200, `the rack's subnet is known: ${found.text}; racks: ${racks}; subnets: ${(await stack.call('GET', '/subnets/')).text}`);
    const subnet = found.body as Json;
    const vlan = subnet.vlan as Json;
    const range = await stack.call('POST', '/ipranges/', { type: 'dynamic', start_ip: '10.77.0.100', end_ip: '10.77.0.150' });
    assert.equal(range.status, 200, range.text);
    const on = await stack.call('PUT', `/fabrics/${vlan.fabric_id as number}/vlans/${vlan.vid as number}/`, { dhcp_on: 'True', primary_rack: rackId });
    assert.equal(on.status, 200, on.text);
    await until('the rack to serve DHCP', 30_000, async () => {
      const rack = (await stack.call('GET', `/rackcontrollers/${rackId}/`)).body as Json;
      const services = Object.fromEntries((rack.service_set as Json[]).map((s) => [s.name, s.status]));
      return services.dhcp === 'running' && services.tftp === 'running' && services['http-boot'] === 'running' ? services : undefined;
    });
  });

  it('an unknown VM powered on through IPMI PXE-boots, enlists itself as NEW with its MAC, and powers itself off', async () => {
    assert.equal(await power('query'), 'off');
    await power('on');
    const machine = await until('the VM to enlist', 180_000, async () => {
      const list = (await stack.call('GET', `/machines/?mac_address=${VM.mac}`)).body as Json[];
      return list.length ? list[0] : undefined;
    });
    assert.equal(machine.status_name, 'New');
    assert.deepEqual((machine.interface_set as Json[]).map((i) => i.mac_address), [VM.mac]);
    await until('the enlisted VM to power itself off', 120_000, async () => ((await power('query')) === 'off' ? true : undefined));
    const lease = await leaseOf(stack.dbUrl, VM.mac);
    assert.match(lease ?? '', /^10\.77\.0\.(1[0-4]\d|150)$/, 'the rack reported the lease it gave the VM, from the dynamic range');
  });

  it('commissioning through the IPMI driver ends READY with the hardware QEMU was given', async () => {
    const [machine] = (await stack.call('GET', `/machines/?mac_address=${VM.mac}`)).body as Json[];
    const id = machine!.system_id as string;
    const params = ipmiParams();
    const set = await stack.call('PUT', `/machines/${id}/`, {
      power_type: 'ipmi',
      ...Object.fromEntries(Object.entries(params).map(([k, v]) => [`power_parameters_${k}`, v])),
    });
    assert.equal(set.status, 200, set.text);
    const started = await stack.call('POST', `/machines/${id}/op-commission`);
    assert.equal(started.status, 200, started.text);
    const ready = await until('commissioning to end', 300_000, async () => {
      const m = (await stack.call('GET', `/machines/${id}/`)).body as Json;
      if (String(m.status_name).startsWith('Failed')) throw Object.assign(new Error(`commissioning failed: ${String(m.status_message)}`), { fatal: true });
      return m.status_name === 'Ready' ? m : undefined;
    });
    assert.equal(ready.cpu_count, VM.cpus);
    assert.equal(ready.memory, VM.memoryMib);
    const disks = ready.physicalblockdevice_set as Json[];
    assert.equal(disks.length, 1, JSON.stringify(disks));
    assert.equal(disks[0]!.size, VM.diskBytes);
    assert.equal(disks[0]!.serial, VM.diskSerial);
    assert.deepEqual((ready.interface_set as Json[]).map((i) => i.mac_address), [VM.mac]);
    const hw = ready.hardware_info as Json;
    assert.equal(hw.system_serial, VM.serial);
    assert.equal(String(hw.system_uuid).toLowerCase(), VM.uuid);
    assert.equal(hw.system_vendor, 'MetalflowLab');
    assert.equal(ready.power_state, 'off', 'the workflow powered the VM off through IPMI');
    assert.equal(await power('query'), 'off');
    const chassis = fs.readFileSync(path.join(bmc.dir, 'chassis.log'), 'utf8');
    assert.match(chassis, /set boot pxe/, "metalflow's IPMI driver set the next boot to PXE");
  });
});

async function leaseOf(dbUrl: string, mac: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: dbUrl });
  await client.connect();
  try {
    const r = await client.query<{ ip: string }>(`SELECT host(ip) AS ip FROM dhcp_leases WHERE mac_address = $1::macaddr`, [mac]);
    return r.rows[0]?.ip;
  } finally {
    await client.end();
  }
}
