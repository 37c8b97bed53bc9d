// A real DHCP client (busybox udhcpc) in a network namespace receives what a global, a subnet and a
// host snippet set, through the region's real DHCP config and the rack's DHCP server applying each
// change live (one server process throughout, leases kept), and loses each one when it is disabled.
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { dhcpSnippetResources } from '../../src/api/resources/dhcp-snippets';
import { fabricResources } from '../../src/api/resources/fabrics';
import { machineInput } from '../helpers/factories';
import { startResourceApi, type ResourceApi } from '../helpers/resource-api';

type Json = Record<string, unknown>;
const API = '/MAAS/api/2.0';
const SNIPPETS = `${API}/dhcp-snippets/`;
const CLIENT_MAC = '52:54:00:79:00:01';
const ROOT = path.resolve(__dirname, '..', '..');

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

function usable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, port 67)';
  try {
    execFileSync('busybox', ['udhcpc', '--help'], { stdio: 'ignore' });
  } catch (err) {
    // busybox applets print their help to stderr and exit 1: only a missing binary counts.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'needs busybox (udhcpc)';
  }
  return undefined;
}

describe('DHCP snippets reach a real DHCP client', { skip: usable() }, () => {
  const server = `mft-snip-${process.pid}-s`;
  const client = `mft-snip-${process.pid}-c`;
  const sideS = `mfs${process.pid}s`;
  const sideC = `mfs${process.pid}c`;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'metalflow-dhcp-snippets-'));
  const configFile = path.join(dir, 'config.json');
  let api: ResourceApi;
  let admin: string;
  let rack: string;
  let child: ChildProcess;
  let applied = 0;
  const waiters: Array<() => void> = [];

  before(async () => {
    ip('netns', 'add', server);
    ip('netns', 'add', client);
    ip('link', 'add', sideS, 'type', 'veth', 'peer', 'name', sideC);
    ip('link', 'set', sideS, 'netns', server);
    ip('link', 'set', sideC, 'netns', client);
    ip('-n', server, 'addr', 'add', '10.79.0.1/24', 'dev', sideS);
    ip('-n', server, 'link', 'set', sideS, 'up');
    ip('-n', server, 'link', 'set', 'lo', 'up');
    // Without it a send to 255.255.255.255 fails with ENETUNREACH (no default route).
    ip('-n', server, 'route', 'add', '255.255.255.255/32', 'dev', sideS);
    ip('-n', client, 'link', 'set', sideC, 'address', CLIENT_MAC);
    ip('-n', client, 'link', 'set', sideC, 'up');

    api = await startResourceApi((services) => [
      ...dhcpSnippetResources({ services }),
      ...fabricResources({ services }),
    ]);
    const adminUser = await api.user('admin', true);
    admin = adminUser.key;
    rack = (
      await api.services.racks.register({
        name: 'rack-snip',
        version: 'test',
        interfaces: [{ name: sideS, mac: '02:00:00:00:79:01', addresses: ['10.79.0.1/24'] }],
      })
    ).systemId;
    const subnet = await api.services.subnets.get('10.79.0.0/24');
    await api.services.ipRanges.create({ type: 'dynamic', startIp: '10.79.0.100', endIp: '10.79.0.150' }, adminUser.id);
    const vlan = await api.call('PUT', `${API}/vlans/${subnet.vlanId}/`, {
      key: admin,
      form: { dhcp_on: 'True', primary_rack: rack },
    });
    assert.equal(vlan.status, 200, vlan.text);
    await api.services.config.set('ntp_servers', '10.79.0.123');
    await api.services.machines.create(machineInput({ hostname: 'udhcpc', macAddresses: [CLIENT_MAC] }));

    child = spawn(
      'ip',
      [
        'netns',
        'exec',
        server,
        process.execPath,
        '--import',
        'tsx',
        'test/helpers/dhcp-config-file-server.ts',
        dir,
        configFile,
      ],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    readline.createInterface({ input: child.stdout! }).on('line', (line) => {
      if (!line.startsWith('applied ')) return;
      applied = Number(line.slice('applied '.length));
      waiters.splice(0).forEach((w) => w());
    });
  });

  after(async () => {
    child?.kill('SIGTERM');
    await api?.close();
    for (const ns of [server, client]) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // not created
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** The region's config for the rack, to the server (as the rack's poll would), applied live. */
  async function publish(): Promise<void> {
    const before = applied;
    const config = await api.services.rackDhcp.config(rack);
    fs.writeFileSync(`${configFile}.tmp`, JSON.stringify(config));
    fs.renameSync(`${configFile}.tmp`, configFile);
    while (applied === before) await new Promise<void>((resolve) => waiters.push(resolve));
  }

  /** One DORA by udhcpc; what its script was given on `bound`. */
  function lease(): Record<string, string> {
    const out = path.join(dir, 'udhcpc.env');
    const script = path.join(dir, 'udhcpc.sh');
    fs.writeFileSync(script, `#!/bin/sh\n[ "$1" = bound ] && env > '${out}'\nexit 0\n`, { mode: 0o755 });
    fs.rmSync(out, { force: true });
    const requested = ['ntpsrv', 'mtu', 'rootpath', 'lprsrv', 'domain', 'search', 'dns', 'router', 'staticroutes'];
    try {
      execFileSync(
        'ip',
        [
          'netns',
          'exec',
          client,
          'busybox',
          'udhcpc',
          '-i',
          sideC,
          '-f',
          '-q',
          '-n',
          '-t',
          '5',
          '-T',
          '2',
          '-s',
          script,
          ...requested.flatMap((o) => ['-O', o]),
        ],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
      );
    } catch (err) {
      const e = err as { stdout?: string; stderr?: string };
      throw new Error(`udhcpc got no lease: ${e.stdout ?? ''}${e.stderr ?? ''}`, { cause: err });
    }
    return Object.fromEntries(
      fs
        .readFileSync(out, 'utf8')
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
  }

  const create = async (form: Record<string, string>) => {
    const r = await api.call('POST', SNIPPETS, { key: admin, form });
    assert.equal(r.status, 200, r.text);
    return (r.body as Json).resource_uri as string;
  };
  const disable = async (uri: string) =>
    assert.equal((await api.call('PUT', uri, { key: admin, form: { enabled: 'false' } })).status, 200);

  it('gets the global, subnet and host snippets’ options, over the derived ones, and loses each when disabled', async () => {
    await publish();
    const plain = lease();
    assert.equal(plain.ntpsrv, '10.79.0.123', 'ntp_servers reaches option 42');
    assert.equal(plain.mtu, '1500', 'the VLAN MTU reaches option 26');
    assert.equal(plain.domain, 'maas');
    assert.equal(plain.search, 'maas');
    assert.equal(plain.rootpath, undefined);

    const global = await create({ name: 'global', value: 'option root-path "/global";', global_snippet: 'true' });
    const subnet = await create({
      name: 'subnet',
      value: 'option lpr-servers 10.79.0.7;\noption ntp-servers 10.79.0.2;',
      subnet: '10.79.0.0/24',
    });
    const host = await create({
      name: 'host',
      value: 'option ntp-servers 10.79.0.3; option interface-mtu 1400;',
      node: (await api.services.db.query(`SELECT system_id FROM machines WHERE hostname = 'udhcpc'`))[0].system_id,
    });
    await publish();
    const all = lease();
    assert.equal(all.rootpath, '/global', 'global');
    assert.equal(all.lprsrv, '10.79.0.7', 'subnet');
    assert.equal(all.ntpsrv, '10.79.0.3', 'the host snippet wins over the subnet’s');
    assert.equal(all.mtu, '1400', 'host');
    assert.equal(all.ip, plain.ip, 'the same lease throughout (the server was never restarted)');

    await disable(host);
    await publish();
    const noHost = lease();
    assert.equal(noHost.ntpsrv, '10.79.0.2', 'the subnet snippet again');
    assert.equal(noHost.mtu, '1500');
    assert.equal(noHost.lprsrv, '10.79.0.7');

    await disable(subnet);
    await disable(global);
    await publish();
    const none = lease();
    assert.equal(none.ntpsrv, '10.79.0.123');
    assert.equal(none.lprsrv, undefined);
    assert.equal(none.rootpath, undefined);
    assert.equal(none.ip, plain.ip);
  });
});
