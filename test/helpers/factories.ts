// Test data: MAC addresses, machines and users, made one way for every test file.
import type { CreateMachineInput } from '../../src/region/services/machine-service';
import type { RegionServices } from '../../src/region/services';

// A random start per process, then a counter: unique within a file, and two processes (the crash
// test's stack, or test files sharing a peer) do not pick the same addresses either.
let macSeq = Math.floor(Math.random() * 0x1000000);

/** A new MAC address: `prefix` (three octets, QEMU's 52:54:00 by default) + three unique octets. */
export function macAddress(prefix = '52:54:00'): string {
  macSeq = (macSeq + 1) % 0x1000000;
  const low = macSeq.toString(16).padStart(6, '0');
  return `${prefix}:${low.slice(0, 2)}:${low.slice(2, 4)}:${low.slice(4, 6)}`;
}

/**
 * What services.machines.create takes for an ordinary machine: NEW, amd64, manual power, one new
 * MAC, unowned. Overrides win.
 */
export function machineInput(overrides: Partial<CreateMachineInput> = {}): CreateMachineInput {
  return {
    architecture: 'amd64',
    macAddresses: [macAddress()],
    powerType: 'manual',
    powerParameters: {},
    deployed: false,
    ownerId: null,
    ...overrides,
  };
}

/** A machine registered as already DEPLOYED (no MAC, never powered), owned by `ownerId`. */
export function deployedMachineInput(
  hostname: string,
  ownerId: number | null,
  overrides: Partial<CreateMachineInput> = {},
): CreateMachineInput {
  return { hostname, macAddresses: [], powerParameters: {}, deployed: true, ownerId, ...overrides };
}

/** A user with password `pw` and `<username>@example.com`. */
export async function createUser(services: RegionServices, username: string, o: { admin?: boolean } = {}) {
  return services.users.create({
    username,
    password: 'pw',
    email: `${username}@example.com`,
    isSuperuser: o.admin ?? false,
  });
}

/** An admin, as the principal services take. */
export async function createAdmin(services: RegionServices, username = 'admin') {
  return { kind: 'user' as const, user: await createUser(services, username, { admin: true }) };
}
