// Who this rack is: what it tells the region when registering, and the system_id the region gave
// it, kept in the state directory so operators (and a restarted rack) can see it.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { RackRegistered, RackRegistration } from '../contracts/rack-api';
import { hostInterfaces } from './host-interfaces';

export const RACK_VERSION = '0.2.0';

export function rackRegistration(name: string): RackRegistration {
  return { name, version: RACK_VERSION, interfaces: hostInterfaces() };
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
