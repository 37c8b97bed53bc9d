// Who this rack is: what it tells the region when registering, and the system_id the region gave
// it, kept in the state directory so operators (and a restarted rack) can see it.
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RackRegistered, RackRegistration } from '../contracts/rack-api';

export const RACK_VERSION = '0.1.0 (fake rack)';

export function rackRegistration(name: string): RackRegistration {
  const interfaces = Object.entries(os.networkInterfaces()).flatMap(([ifname, addrs]) => {
    const external = (addrs ?? []).filter((a) => !a.internal);
    const first = external[0];
    return first ? [{ name: ifname, mac: first.mac, addresses: external.map((a) => a.cidr ?? a.address) }] : [];
  });
  return { name, version: RACK_VERSION, interfaces };
}

export interface StoredIdentity extends RackRegistered {
  name: string;
  registeredAt: string;
}

export const identityFile = (stateDir: string, name: string): string => path.join(stateDir, `rack-${name}.json`);

export async function readIdentity(stateDir: string, name: string): Promise<StoredIdentity | undefined> {
  try {
    return JSON.parse(await fs.readFile(identityFile(stateDir, name), 'utf8')) as StoredIdentity;
  } catch {
    return undefined;
  }
}

/** Written atomically: a rack killed mid-write must not leave half a file. */
export async function writeIdentity(stateDir: string, id: StoredIdentity): Promise<void> {
  await fs.mkdir(stateDir, { recursive: true });
  const file = identityFile(stateDir, id.name);
  const tmp = `${file}.${process.pid}.tmp`;
  await fs.writeFile(tmp, `${JSON.stringify(id, null, 2)}\n`);
  await fs.rename(tmp, file);
}
