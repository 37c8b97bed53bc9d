// Deploy the real Debian image to a two-NIC VM (startLab({ nics: 2 }): virtio NICs on tap0 and
// tap1, both in the lab's br0) with an active-backup bond of its two NICs holding a STATIC address,
// set up through the interfaces API as an operator does, and check inside the deployed VM over SSH,
// as its owner would, that `ip -j addr` and `ip -j route` match the API's view: bond0 with both
// NICs enslaved, the static address with its subnet's prefix, the default route through the
// subnet's gateway on the bond. The network configuration is the region's (metadata
// network-config, network config v1), which the installer writes for cloud-init and Debian's
// cloud-init renders with netplan on first boot. The region's DNS server (BIND) runs on the lab's
// br0 address, which the configuration gives the VM as its resolver: the VM resolves its own FQDN
// through it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startLab, VM, type Json, type Lab } from './lab/lab';
import { bootRootWithRealImage, commissionAndDeploy, ownerKeyDir, sshToDeployed } from './lab/real-image';

const HOSTNAME = 'e2e-bond';
const STATIC_IP = '10.77.0.60';
const GATEWAY = '10.77.0.1';

describe('deploy a two-NIC VM with an active-backup bond and a static address', { timeout: 40 * 60_000 }, () => {
  let lab: Lab;
  let work: string;
  let bootRoot: string;
  let nics: Json[] = [];

  before(async () => {
    work = ownerKeyDir();
    bootRoot = bootRootWithRealImage();
    lab = await startLab({
      diskFormat: 'raw',
      bootRoot,
      nodeTimeoutSeconds: 1200,
      diskBytes: 5 * 1024 ** 3,
      nics: 2,
      dns: true,
    });
    await lab.enableDhcp();
  });
  after(async () => {
    await lab?.stop();
    for (const d of [work, bootRoot]) if (d) fs.rmSync(d, { recursive: true, force: true });
  });

  /** On the Ready machine, as an operator does it: a bond of the two NICs with a static address. */
  async function bondWithStaticAddress(id: string): Promise<void> {
    const call = async (method: 'GET' | 'POST' | 'PUT', url: string, form?: Record<string, string | string[]>) => {
      const res = await lab.stack.call(method, url, form);
      assert.equal(res.status, 200, `${method} ${url}: ${res.text}`);
      return res.body as Json;
    };
    // Commissioning found both NICs.
    nics = (await call('GET', `/nodes/${id}/interfaces/`)) as unknown as Json[];
    assert.deepEqual(nics.map((i) => String(i.mac_address)).sort(), [VM.mac, VM.mac2].sort(), JSON.stringify(nics));
    const subnet = await call('GET', `/subnets/${encodeURIComponent('10.77.0.0/24')}/`);
    await call('PUT', `/subnets/${subnet.id as number}/`, { gateway_ip: GATEWAY });
    // The second NIC never netbooted, so commissioning could not tell its VLAN (MAAS learns it
    // from DHCP or discovery): the operator puts it on the lab's VLAN, as on MAAS.
    const vlan = (subnet.vlan as Json).id as number;
    for (const nic of nics)
      if ((nic.vlan as Json | null)?.id !== vlan)
        await call('PUT', `/nodes/${id}/interfaces/${nic.id as number}/`, { vlan: String(vlan) });
    const bond = await call('POST', `/nodes/${id}/interfaces/?op=create_bond`, {
      name: 'bond0',
      parents: nics.map((i) => String(i.id)),
      bond_mode: 'active-backup',
      vlan: String(vlan),
    });
    await call('POST', `/nodes/${id}/interfaces/${bond.id as number}/?op=link_subnet`, {
      mode: 'STATIC',
      subnet: String(subnet.id),
      ip_address: STATIC_IP,
      default_gateway: 'true',
    });
  }

  it('comes up with bond0 over both NICs, the static address and the default route the API shows, and resolves its FQDN through metalflow', async () => {
    const { id } = await commissionAndDeploy(lab, {
      hostname: HOSTNAME,
      keyDir: work,
      beforeDeploy: bondWithStaticAddress,
    });
    const machine = (await lab.stack.call('GET', `/machines/${id}/`)).body as Json;
    assert.ok((machine.ip_addresses as string[]).includes(STATIC_IP), JSON.stringify(machine.ip_addresses));
    const ssh = await sshToDeployed(lab, work, id);
    assert.equal(await ssh('hostname'), HOSTNAME);

    const addrs = JSON.parse(await ssh('ip -j addr')) as Array<{
      ifname: string;
      master?: string;
      addr_info: Array<{ family: string; local: string; prefixlen: number }>;
    }>;
    const bond0 = addrs.find((a) => a.ifname === 'bond0');
    assert.ok(bond0, JSON.stringify(addrs));
    assert.ok(
      bond0.addr_info.some((a) => a.family === 'inet' && a.local === STATIC_IP && a.prefixlen === 24),
      JSON.stringify(bond0),
    );
    const slaves = addrs
      .filter((a) => a.master === 'bond0')
      .map((a) => a.ifname)
      .sort();
    assert.deepEqual(slaves, nics.map((i) => String(i.name)).sort(), JSON.stringify(addrs));
    assert.equal(await ssh('cat /sys/class/net/bond0/bonding/mode'), 'active-backup 1');

    const routes = JSON.parse(await ssh('ip -j route')) as Array<{ dst: string; gateway?: string; dev: string }>;
    assert.ok(
      routes.some((rt) => rt.dst === 'default' && rt.gateway === GATEWAY && rt.dev === 'bond0'),
      JSON.stringify(routes),
    );
    assert.ok(
      routes.some((rt) => rt.dst === '10.77.0.0/24' && rt.dev === 'bond0'),
      JSON.stringify(routes),
    );
    assert.match(await ssh('cloud-init status --wait'), /status: done/);

    // Its resolver is metalflow's DNS (the rack's address on the subnet), which knows its FQDN;
    // --synthesize=no keeps /etc/hosts out of the answer.
    assert.match(await ssh('resolvectl dns bond0'), /10\.77\.0\.1\b/);
    const fqdn = `${HOSTNAME}.${String(machine.domain && (machine.domain as Json).name) || 'maas'}`;
    const answer = await ssh(`resolvectl query --cache=no --synthesize=no ${fqdn}`);
    assert.ok(answer.includes(STATIC_IP), answer);
  });
});
