// A real Redfish BMC for tests: sushy-emulator (PyPI sushy-tools, in the repo's .venv) with its
// fake driver, Basic auth from an htpasswd file (admin/password), on a free local port, over
// HTTPS with a self-signed certificate when asked.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { freePort, stopChild, waitFor } from './peers';
import { selfSignedCert } from './self-signed';

const root = path.resolve(__dirname, '..', '..', '..');
export const SUSHY = fs.existsSync(path.join(root, '.venv', 'bin', 'sushy-emulator'))
  ? path.join(root, '.venv', 'bin', 'sushy-emulator')
  : 'sushy-emulator';

/** bcrypt("password"): sushy accepts only bcrypt entries in its htpasswd file. */
const HTPASSWD = 'admin:$2b$04$AAFs3IT3aVC9nDdLhwuzLeWEA43RtFJCYKObFLu0yD7Icvtnaz7pu\n';

// The config is Python, run by Flask. The fake driver applies a power change 1–11 s after the
// request (random.randint(1, 11)); pinning that to 1 keeps the "BMC is slow to change state"
// behaviour our drivers wait for (0–1 s here) without making the tests wait up to 11 s.
const config = (dir: string, hardware: boolean) => `SUSHY_EMULATOR_FAKE_DRIVER = True
SUSHY_EMULATOR_AUTH_FILE = ${JSON.stringify(path.join(dir, 'htpasswd'))}
SUSHY_EMULATOR_STATE_DIR = ${JSON.stringify(path.join(dir, 'state'))}
import random as _random
_random.randint = lambda a, b: 1
${hardware ? HARDWARE : ''}`;

/**
 * The fake system with inventory (opts.hardware): the fake driver has NICs only, so this gives it
 * CPUs and memory (its driver methods) and a storage controller with two drives (sushy's static
 * storage). What SUSHY_HARDWARE describes, for assertions.
 */
export const SUSHY_HARDWARE = {
  uuid: '27946b59-9e44-4fa7-8e91-f3527a1ef094',
  cpus: [
    { id: 'CPU0', model: 'Fake Xeon 6230', threads: 8 },
    { id: 'CPU1', model: 'Fake Xeon 6230', threads: 8 },
  ],
  memoryGib: 64,
  nics: ['52:54:00:aa:00:01', '52:54:00:aa:00:02'],
  drives: [
    { id: 'disk0', bytes: 480103981056 },
    { id: 'disk1', bytes: 1920383410176 },
  ],
};
const HARDWARE = `
_UUID = ${JSON.stringify(SUSHY_HARDWARE.uuid)}
SUSHY_EMULATOR_FAKE_SYSTEMS = [{'uuid': _UUID, 'name': 'fake', 'power_state': 'On', 'external_notifier': False,
  'nics': [${SUSHY_HARDWARE.nics.map((m) => `{'mac': '${m}'}`).join(', ')}]}]
SUSHY_EMULATOR_STORAGE = {_UUID: [{'Id': '1', 'Name': 'Local Storage Controller',
  'StorageControllers': [{'MemberId': '0', 'Name': 'RAID', 'SpeedGbps': 12}], 'Drives': [${SUSHY_HARDWARE.drives.map((d) => `'${d.id}'`).join(', ')}]}]}
SUSHY_EMULATOR_DRIVES = {(_UUID, '1'): [${SUSHY_HARDWARE.drives.map((d) => `{'Id': '${d.id}', 'Name': '${d.id}', 'CapacityBytes': ${d.bytes}, 'Protocol': 'SAS'}`).join(', ')}]}
from sushy_tools.emulator.resources.systems import fakedriver as _fd
_fd.FakeDriver.get_total_memory = lambda self, identity: ${SUSHY_HARDWARE.memoryGib}
_fd.FakeDriver.get_total_cpus = lambda self, identity: ${SUSHY_HARDWARE.cpus.length}
_fd.FakeDriver.get_processors = lambda self, identity: [${SUSHY_HARDWARE.cpus.map((c, i) => `{'id': '${c.id}', 'Id': '${c.id}', 'socket': 'CPU ${i}', 'model': '${c.model}', 'vendor': 'Intel', 'cores': ${c.threads / 2}, 'threads': ${c.threads}}`).join(', ')}]
`;

export interface Sushy {
  /** power_address for the driver, with scheme. */
  address: string;
  /** The fake system's resource as the BMC has it now, for assertions. */
  system(): Promise<{ PowerState: string; Boot: Record<string, string> }>;
  stop(): Promise<void>;
}

export async function startSushy(opts: { tls?: boolean; hardware?: boolean } = {}): Promise<Sushy> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'metalflow-sushy-'));
  fs.mkdirSync(path.join(dir, 'state'));
  fs.writeFileSync(path.join(dir, 'htpasswd'), HTPASSWD);
  fs.writeFileSync(path.join(dir, 'emulator.conf'), config(dir, opts.hardware ?? false));
  const port = await freePort('tcp');
  const args = ['--config', path.join(dir, 'emulator.conf'), '-i', '127.0.0.1', '-p', String(port)];
  if (opts.tls) {
    const tls = selfSignedCert(dir, 'bmc.test');
    args.push('--ssl-certificate', tls.cert, '--ssl-key', tls.key);
  }
  const child: ChildProcess = spawn(SUSHY, args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const address = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const auth = `Basic ${Buffer.from('admin:password').toString('base64')}`;
  // The service root needs no auth: it answering means the BMC is up.
  await waitFor(
    `sushy-emulator on ${port}`,
    async () => {
      if (child.exitCode !== null) throw new Error(`sushy-emulator exited: ${stderr}`);
      return (await getJson(`${address}/redfish/v1`, '')).status === 200;
    },
    30_000,
  ).catch(async (err: unknown) => {
    await stopChild(child);
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  return {
    address,
    system: async () => {
      const list = (await getJson(`${address}/redfish/v1/Systems`, auth)).body as {
        Members: Array<{ '@odata.id': string }>;
      };
      return (await getJson(`${address}${list.Members[0]!['@odata.id']}`, auth)).body as {
        PowerState: string;
        Boot: Record<string, string>;
      };
    },
    stop: async () => {
      await stopChild(child);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A GET that trusts the emulator's self-signed certificate (this test's own, just made). */
function getJson(url: string, auth: string): Promise<{ status: number; body: unknown }> {
  const lib = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.get(url, { headers: auth ? { Authorization: auth } : {}, rejectUnauthorized: false }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => {
        try {
          resolve({
            status: res.statusCode ?? 0,
            body: text && res.headers['content-type']?.includes('json') ? (JSON.parse(text) as unknown) : text,
          });
        } catch (err) {
          reject(err as Error);
        }
      });
    });
    req.on('error', reject);
  });
}
