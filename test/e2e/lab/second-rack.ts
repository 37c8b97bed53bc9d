// A second rack for the e2e lab (issue 18 item 1): a rack process in its own network namespace,
// attached to the lab's br0 by a veth pair, with its own address on the VLAN (10.77.0.2/24) and its
// own DHCP, TFTP and HTTP boot servers on their standard ports there, as a second rack controller
// on the same network would be. The region and Temporal listen on the lab namespace's loopback, so
// it reaches them through TCP relays on the lab's br0 address; the BMC it reaches directly (the lab
// starts ipmi_sim on 10.77.0.1 when asked for a second rack).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { Stack } from '../../helpers/stack';
import { NODE_FLAGS } from '../../../src/runtime/node-flags';

export const SECOND_RACK = { name: 'rack-b', address: '10.77.0.2', labAddress: '10.77.0.1' };

export interface SecondRack {
  name: string;
  /** Its address on the lab's VLAN. */
  address: string;
  /** Its network namespace (scripts/e2e.ts removes `<lab namespace>-*` ones a crashed run leaves). */
  netns: string;
  output(): string;
  /** SIGKILL, as a rack host dying would. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/** A TCP relay on the lab's br0 address to a port on its loopback: what the other namespace dials. */
async function relay(target: { host: string; port: number }): Promise<{ port: number; close(): void }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((inbound) => {
    const outbound = net.connect(target);
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {
        inbound.destroy();
        outbound.destroy();
      });
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve, reject) =>
    server.once('error', reject).listen(0, SECOND_RACK.labAddress, () => resolve()),
  );
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      server.close();
      for (const s of sockets) s.destroy();
    },
  };
}

export async function startSecondRack(o: { stack: Stack; labNetns: string }): Promise<SecondRack> {
  const netns = `${o.labNetns}-r2`;
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'inherit'] });
  ip('netns', 'add', netns);
  // Made from inside the lab namespace (this process runs there): one end joins br0, the other
  // moves into the rack's namespace as its eth0.
  ip('link', 'add', 'r2-br', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', netns);
  ip('link', 'set', 'r2-br', 'master', 'br0');
  ip('link', 'set', 'r2-br', 'up');
  ip('-n', netns, 'link', 'set', 'lo', 'up');
  ip('-n', netns, 'addr', 'add', `${SECOND_RACK.address}/24`, 'dev', 'eth0');
  ip('-n', netns, 'link', 'set', 'eth0', 'up');
  // As in the lab's own namespace: no default route, so broadcasts need one of their own.
  ip('-n', netns, 'route', 'add', '255.255.255.255/32', 'dev', 'eth0');

  const [tHost, tPort] = o.stack.temporalAddress.split(':');
  const api = await relay({ host: '127.0.0.1', port: Number(o.stack.env.METALFLOW_API_PORT) });
  const temporal = await relay({ host: tHost!, port: Number(tPort) });
  const stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'metalflow-rack-b-'));
  const secret = fs.readFileSync(path.join(o.stack.env.METALFLOW_STATE_DIR!, 'rack-secret'), 'utf8').trim();
  const child: ChildProcess = spawn(
    'ip',
    [
      'netns',
      'exec',
      netns,
      process.execPath,
      ...NODE_FLAGS,
      path.resolve(__dirname, '../../../bin/metalflow.js'),
      'rack',
    ],
    {
      cwd: path.resolve(__dirname, '../../..'),
      env: {
        ...o.stack.env,
        METALFLOW_RACK_NAME: SECOND_RACK.name,
        METALFLOW_STATE_DIR: stateDir,
        METALFLOW_RACK_SECRET: secret,
        METALFLOW_REGION_URL: `http://${SECOND_RACK.labAddress}:${api.port}/MAAS`,
        TEMPORAL_ADDRESS: `${SECOND_RACK.labAddress}:${temporal.port}`,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  const collect = (d: Buffer) => {
    out += d.toString();
    if (out.length > 400_000) out = out.slice(-200_000);
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const kill = async () => {
    if (!alive()) return;
    child.kill('SIGKILL');
    await exited;
  };
  const stop = async () => {
    await kill();
    api.close();
    temporal.close();
    try {
      ip('link', 'del', 'r2-br');
    } catch {
      /* gone with the namespace */
    }
    ip('netns', 'del', netns);
    fs.rmSync(stateDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 60_000;
  while (!/worker running on task queue/.test(out)) {
    if (!alive() || Date.now() > deadline) {
      await stop();
      throw new Error(`${SECOND_RACK.name} did not start:\n${out.slice(-6000)}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return { name: SECOND_RACK.name, address: SECOND_RACK.address, netns, output: () => out, kill, stop };
}
