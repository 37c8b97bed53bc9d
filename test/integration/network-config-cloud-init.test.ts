// The deployed OS's network configuration, end to end short of a VM: the region renders it from a
// machine's model (migration 0018's tables) and serves it to the installer with the machine's own
// token while it deploys (real HTTP, PostgreSQL, Temporal; the rack is scripted); then Debian's
// own cloud-init from the built image (build/boot/images/rootfs/debian/bookworm/amd64/root.tgz,
// unpacked and chrooted into, as root) converts what was served, and the representative models'
// renders, to netplan with `cloud-init devel net-convert`, which is what it does on first boot
// from /etc/cloud/cloud.cfg.d/50-curtin-networking.cfg.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { renderNetworkConfig } from '../../src/region/services/network/deploy-network-config';
import { startApi, type ApiClient } from '../helpers/api';
import { MODELS } from '../helpers/network-models';
import { giveDisk, startTestRegion, waitForStatus, type TestRegion } from '../helpers/region';
import { ScriptedRack } from '../helpers/scripted-rack';
import { bootRootWithRootTgz } from '../helpers/boot-images';
import { cloudInitOAuth } from '../helpers/http';

type Json = Record<string, unknown>;
const ROOT = path.resolve(__dirname, '..', '..');
const ROOT_TGZ = path.join(ROOT, 'build/boot/images/rootfs/debian/bookworm/amd64/root.tgz');
const MAC_A = '52:54:00:4e:00:0a';
const MAC_B = '52:54:00:4e:00:0b';

const skipCloudInit = !fs.existsSync(ROOT_TGZ)
  ? `the real image is not built (${ROOT_TGZ}: images/debian/build.sh)`
  : process.getuid?.() !== 0
    ? 'chrooting into the image needs root'
    : false;

/** Debian's cloud-init, in the unpacked image, turning a network config file into netplan (as JSON). */
function netConvert(rootfs: string, name: string, text: string): Json {
  fs.writeFileSync(path.join(rootfs, 'tmp', `${name}.cfg`), text);
  const chroot = (...args: string[]) => execFileSync('chroot', [rootfs, ...args], { encoding: 'utf8', stdio: 'pipe' });
  chroot(
    'cloud-init',
    'devel',
    'net-convert',
    '-p',
    `/tmp/${name}.cfg`,
    '-k',
    'yaml',
    '-D',
    'debian',
    '-O',
    'netplan',
    '-d',
    `/tmp/out-${name}`,
  );
  const netplan = chroot(
    'python3',
    '-c',
    'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))',
    `/tmp/out-${name}/etc/netplan/50-cloud-init.yaml`,
  );
  return (JSON.parse(netplan) as { network: Json }).network;
}

describe("the deployed OS's network configuration, served and read by Debian's cloud-init", () => {
  let region: TestRegion;
  let api: ApiClient;
  let admin: string;
  let rootfs: string | undefined;
  let served: string | undefined;
  const rack = new ScriptedRack(50);

  before(async () => {
    region = await startTestRegion({
      nodeTimeoutMs: 60_000,
      rack: rack.activities(),
      bootRoot: bootRootWithRootTgz(),
    });
    rack.services = region.services;
    api = await startApi(region);
    admin = await api.keyFor('admin', true);
    if (!skipCloudInit) {
      rootfs = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-test-rootfs-'));
      execFileSync('tar', ['-xzp', '--numeric-owner', '-f', ROOT_TGZ, '-C', rootfs]);
    }
  });
  after(async () => {
    await api?.close();
    await region?.stop();
    if (rootfs) fs.rmSync(rootfs, { recursive: true, force: true });
  });

  it("serves the machine's bond with its static address to the installer, only while it deploys", async () => {
    const r = await api.call('POST', '/MAAS/api/2.0/machines/', {
      key: admin,
      form: { hostname: 'netcfg-1', architecture: 'amd64/generic', mac_addresses: MAC_A, power_type: 'manual' },
    });
    assert.equal(r.status, 200, r.text);
    const id = (r.body as Json).system_id as string;
    await waitForStatus(region.services, id, S.READY);
    await giveDisk(region.services, id);
    const t = (await api.call('GET', `/MAAS/api/2.0/machines/${id}/?op=get_token`, { key: admin })).body as Json;
    const token = `${t.consumer_key as string}:${t.token_key as string}:${t.token_secret as string}`;
    const get = () =>
      fetch(`${api.base}/MAAS/metadata/2012-03-01/network-config`, {
        headers: { authorization: cloudInitOAuth(token) },
      });
    const early = await get();
    assert.equal(early.status, 409, await early.text());

    // As an operator does it: a subnet, the second NIC, a bond of both with a static address.
    const call = async (method: 'GET' | 'POST' | 'PUT', url: string, form?: Record<string, string | string[]>) => {
      const res = await api.call(method, `/MAAS/api/2.0${url}`, form ? { key: admin, form } : { key: admin });
      assert.equal(res.status, 200, `${method} ${url}: ${res.text}`);
      return res.body as Json;
    };
    const subnet = await call('POST', '/subnets/', {
      cidr: '10.79.0.0/24',
      gateway_ip: '10.79.0.1',
      dns_servers: '192.0.2.53',
    });
    const vlan = String((subnet.vlan as Json).id);
    const [nic0] = (await call('GET', `/nodes/${id}/interfaces/`)) as unknown as Json[];
    await call('PUT', `/nodes/${id}/interfaces/${nic0!.id as number}/`, { name: 'eth0', vlan });
    const nic1 = await call('POST', `/nodes/${id}/interfaces/?op=create_physical`, {
      name: 'eth1',
      mac_address: MAC_B,
      vlan,
    });
    const bond = await call('POST', `/nodes/${id}/interfaces/?op=create_bond`, {
      name: 'bond0',
      parents: [String(nic0!.id), String(nic1.id)],
      bond_mode: 'active-backup',
      bond_miimon: '100',
      vlan,
    });
    await call('POST', `/nodes/${id}/interfaces/${bond.id as number}/?op=link_subnet`, {
      mode: 'STATIC',
      subnet: String(subnet.id),
      ip_address: '10.79.0.60',
    });

    const d = await api.call('POST', `/MAAS/api/2.0/machines/${id}/?op=deploy`, {
      key: admin,
      form: { distro_series: 'bookworm' },
    });
    assert.equal(d.status, 200, d.text);
    const r2 = await get();
    served = await r2.text();
    assert.equal(r2.status, 200, served);
    const config = JSON.parse(served.replace(/^#.*\n/, '')) as { network: { version: number; config: Json[] } };
    assert.equal(config.network.version, 1);
    const bondEntry = config.network.config.find((e) => e.name === 'bond0')!;
    assert.deepEqual(bondEntry.bond_interfaces, ['eth0', 'eth1']);
    assert.deepEqual(bondEntry.subnets, [
      {
        type: 'static',
        address: '10.79.0.60/24',
        gateway: '10.79.0.1',
        dns_nameservers: ['192.0.2.53'],
        dns_search: ['maas'],
      },
    ]);
  });

  it(
    'cloud-init renders what was served as a netplan bond with the static address and gateway',
    { skip: skipCloudInit },
    () => {
      assert.ok(served, 'the previous test served a configuration');
      const netplan = netConvert(rootfs!, 'served', served);
      const bond = (netplan.bonds as Record<string, Json>).bond0!;
      assert.deepEqual(bond.interfaces, ['eth0', 'eth1']);
      assert.deepEqual(bond.addresses, ['10.79.0.60/24']);
      assert.equal(bond.gateway4, '10.79.0.1');
      // MAAS's defaults for the bond parameters the API did not set, as create_bond stores them.
      assert.deepEqual(bond.parameters, {
        mode: 'active-backup',
        'mii-monitor-interval': 100,
        'down-delay': 0,
        'up-delay': 0,
        'gratuitous-arp': 1,
        'transmit-hash-policy': 'layer2',
      });
      assert.deepEqual(bond.nameservers, { addresses: ['192.0.2.53'], search: ['maas'] });
      const eths = netplan.ethernets as Record<string, Json>;
      assert.deepEqual(eths.eth0!.match, { macaddress: MAC_A });
      assert.deepEqual(eths.eth1!.match, { macaddress: MAC_B });
    },
  );

  it(
    'cloud-init renders the representative models: DHCP, static with routes, VLAN, bridge on a bond',
    { skip: skipCloudInit },
    () => {
      const convert = (name: keyof typeof MODELS) =>
        netConvert(rootfs!, name, `# ${name}\n${JSON.stringify(renderNetworkConfig(MODELS[name]), null, 2)}\n`);
      const eth = (n: Json, name: string) => (n.ethernets as Record<string, Json>)[name]!;

      assert.equal(eth(convert('noLinks'), 'eth0').dhcp4, true);
      assert.equal(eth(convert('flatDhcp'), 'eth0').dhcp4, true);

      const st = eth(convert('static'), 'eth0');
      assert.deepEqual(st.addresses, ['10.77.0.50/24']);
      assert.equal(st.gateway4, '10.77.0.1');
      assert.deepEqual(st.nameservers, { addresses: ['10.77.0.1', '192.0.2.53'], search: ['lab.example'] });
      assert.deepEqual(st.routes, [{ to: '172.16.0.0/16', via: '10.77.0.254', metric: 5 }]);

      const vl = convert('vlan');
      const vlan = (vl.vlans as Record<string, Json>)['eth0.42']!;
      assert.deepEqual(
        [vlan.id, vlan.link, vlan.mtu, vlan.addresses, vlan.gateway4],
        [42, 'eth0', 9000, ['10.88.0.7/24'], '10.88.0.1'],
      );
      assert.equal(eth(vl, 'eth0').mtu, 9000);

      const bb = convert('bridgeOnBond');
      assert.deepEqual((bb.bonds as Record<string, Json>).bond0!.parameters, {
        mode: '802.3ad',
        'lacp-rate': 'fast',
        'transmit-hash-policy': 'layer3+4',
      });
      const br = (bb.bridges as Record<string, Json>).br0!;
      assert.deepEqual([br.interfaces, br.addresses, br.gateway4], [['bond0'], ['10.77.0.70/24'], '10.77.0.1']);
      assert.deepEqual(br.parameters, { stp: false, 'forward-delay': 15 });
    },
  );
});
