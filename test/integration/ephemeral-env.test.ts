// The ephemeral environment (images/ephemeral: Debian kernel + busybox initramfs) booted in QEMU,
// reporting to a recording HTTP server on this host (QEMU's user network reaches it as 10.0.2.2).
// No region, no database: what is checked is exactly what the machine sends, and what it wrote to
// its disk (xinstall, erase). Seven boots (~7 s of CPU each).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { CMDLINE } from '../../src/contracts/boot';
import { HARDWARE_FILE, type HardwareReport } from '../../src/contracts/hardware';
import { parseHardwareReport } from '../../src/region/services/hardware';
import { requireQemu, startQemu, type QemuDisk, type QemuVm } from '../helpers/qemu';

const ROOT = path.resolve(__dirname, '..', '..');
const OUT = path.join(ROOT, 'build', 'boot', 'images', 'ephemeral', 'amd64');
const MAC = '52:54:00:4d:46:01';
const BOOTIF = `BOOTIF=01-${MAC.replace(/:/g, '-')}`;
const UUID = '4d460000-1111-4222-8333-444455556666';
const DISK_BYTES = 3 * 1024 ** 3 + 512 * 1024;
const DISK_SERIAL = 'MF-DISK-0001';
const KEY = { ck: 'consumerKEY1', tk: 'tokenKEY22', ts: 'tokenSECRET333' };
const BOOT_TIMEOUT_MS = 150_000;

interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** Records every request; answers like the region would for the paths the environment uses. */
async function startReceiver(): Promise<{
  port: number;
  requests: Recorded[];
  files: Map<string, Buffer>;
  /** What GET …/storage-layout answers (the region's installer description), when set. */
  storage: { layout: string };
  /** What GET …/maas-scripts answers (MAAS's tar with index.json), when set; 404 otherwise. */
  scripts: { tar: Buffer | null };
  /** Files whose next GET stops halfway, as a rack that dies does: the server stops listening too. */
  dieDuring: Set<string>;
  /** Whether the server has stopped listening (dieDuring), and listening again on the same port. */
  dead(): boolean;
  revive(): Promise<void>;
  close(): Promise<void>;
}> {
  const storage = { layout: '' };
  const scripts: { tar: Buffer | null } = { tar: null };
  const dieDuring = new Set<string>();
  let dead = false;
  const requests: Recorded[] = [];
  // Served as GET /images/<name>, like the rack's HTTP boot server serves images.
  const files = new Map<string, Buffer>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks) });
      const url = new URL(req.url!, 'http://x');
      const json = (value: unknown) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(value));
      };
      if (req.method === 'POST' && url.pathname === '/MAAS/metadata/2012-03-01/') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('OK');
      } else if (
        req.method === 'GET' &&
        url.pathname === '/MAAS/metadata/2012-03-01/storage-layout' &&
        storage.layout
      ) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(storage.layout);
      } else if (req.method === 'GET' && url.pathname === '/MAAS/metadata/2012-03-01/maas-scripts' && scripts.tar) {
        res.writeHead(200, { 'content-type': 'application/x-tar' });
        res.end(scripts.tar);
      } else if (req.method === 'GET' && url.pathname === '/MAAS/metadata/2012-03-01/network-config') {
        // The region's rendering for a machine with no links: DHCP on its boot interface.
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end(
          `# network config\n${JSON.stringify({ network: { version: 1, config: [{ type: 'physical', name: 'eth0', mac_address: MAC, subnets: [{ type: 'dhcp4' }] }] } })}\n`,
        );
      } else if (req.method === 'GET' && files.has(url.pathname.replace(/^\/images\//, ''))) {
        const name = url.pathname.replace(/^\/images\//, '');
        const file = files.get(name)!;
        if (dieDuring.delete(name)) {
          dead = true;
          server.close();
          res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': file.length });
          res.write(file.subarray(0, file.length >> 1), () => res.destroy());
          return;
        }
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        res.end(file);
      } else if (
        req.method === 'GET' &&
        url.pathname === '/MAAS/api/2.0/machines/' &&
        url.searchParams.get('op') === 'is_registered'
      ) {
        json(false);
      } else if (req.method === 'POST' && url.pathname === '/MAAS/api/2.0/machines/') {
        json({ system_id: 'enl123', hostname: 'brave-otter-enl123', status_name: 'New' });
      } else {
        res.writeHead(404, { 'content-type': 'text/plain' });
        res.end(`No handler for ${req.method} ${req.url}`);
      }
    });
  });
  // QEMU's user network turns the guest's connections to 10.0.2.2 into connections to 127.0.0.1.
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    port,
    requests,
    files,
    storage,
    scripts,
    dieDuring,
    dead: () => dead,
    revive: async () => {
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
      dead = false;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A multipart body as the region's form parser would see it. */
async function formOf(r: Recorded): Promise<FormData> {
  return new Response(new Uint8Array(r.body), {
    headers: { 'content-type': r.headers['content-type'] ?? '' },
  }).formData();
}

function oauthParams(header: string | undefined): Record<string, string> {
  assert.ok(header !== undefined && header.startsWith('OAuth '), `an OAuth Authorization header, got ${header}`);
  return Object.fromEntries([...header.slice(6).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
}

describe('ephemeral environment in QEMU (Debian kernel + busybox initramfs)', () => {
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const vms: QemuVm[] = [];

  before(async () => {
    requireQemu();
    // Skips when the artifacts are up to date.
    await promisify(execFile)('bash', [path.join(ROOT, 'images', 'ephemeral', 'build.sh'), OUT], {
      cwd: ROOT,
      timeout: 300_000,
    });
    receiver = await startReceiver();
  });
  after(async () => {
    for (const vm of vms) await vm.stop();
    await receiver?.close();
  });

  let lastVm: QemuVm | undefined;
  const boot = async (
    cmdline: Record<string, string>,
    disks: QemuDisk[] = [{ sizeBytes: DISK_BYTES, serial: DISK_SERIAL }],
  ) => {
    const append = [...Object.entries(cmdline).map(([k, v]) => `${k}=${v}`), BOOTIF, 'panic=-1'].join(' ');
    const vm = await startQemu({
      kernel: path.join(OUT, 'vmlinuz'),
      initrd: path.join(OUT, 'initrd.gz'),
      append,
      memoryMib: 512,
      cpus: 2,
      // No iPXE option ROM: the kernel is booted directly.
      nics: [{ mac: MAC, netdev: 'user', deviceOptions: 'romfile=' }],
      disks,
      smbios: { manufacturer: 'Metalflow Test', product: 'Ephemeral VM', serial: 'MF-TEST-SERIAL', uuid: UUID },
    });
    vms.push(vm);
    lastVm = vm;
    await vm.waitForExit(BOOT_TIMEOUT_MS);
    const console = vm.console();
    assert.match(console, /metalflow: .*powering off/, 'the environment powers the machine off itself');
    return console;
  };
  const since = (n: number) => receiver.requests.slice(n);

  it("commissioning: signals WORKING, then OK with the machine's real hardware, OAuth PLAINTEXT", async () => {
    const first = receiver.requests.length;
    const metadata = `http://10.0.2.2:${receiver.port}/MAAS/metadata`;
    const console = await boot({
      [CMDLINE.purpose]: 'commissioning',
      [CMDLINE.metadataUrl]: metadata,
      [CMDLINE.consumerKey]: KEY.ck,
      [CMDLINE.tokenKey]: KEY.tk,
      [CMDLINE.tokenSecret]: KEY.ts,
      [CMDLINE.systemId]: 'abc123',
    });
    // As MAAS's environment does, it asks which scripts to run (after saying it is working); this
    // region has none to give (404), so the environment sends its single hardware report.
    const asks = since(first).filter((r) => r.method === 'GET');
    const requests = since(first).filter((r) => r.method !== 'GET');
    assert.deepEqual(
      asks.map((r) => r.url),
      ['/MAAS/metadata/2012-03-01/maas-scripts'],
    );
    assert.equal(oauthParams(asks[0]!.headers.authorization).oauth_token, KEY.tk);
    assert.ok(requests.length >= 1, `the region heard from the machine\n${console}`);
    const signals = [];
    for (const r of requests) {
      assert.equal(r.method, 'POST');
      assert.equal(r.url, '/MAAS/metadata/2012-03-01/');
      const oauth = oauthParams(r.headers.authorization);
      assert.equal(oauth.oauth_signature_method, 'PLAINTEXT');
      assert.equal(oauth.oauth_version, '1.0');
      assert.equal(oauth.oauth_consumer_key, KEY.ck);
      assert.equal(oauth.oauth_token, KEY.tk);
      assert.equal(oauth.oauth_signature, `&${KEY.ts}`);
      assert.match(oauth.oauth_nonce ?? '', /^[0-9a-f]{32}$/);
      assert.ok(Math.abs(Number(oauth.oauth_timestamp) - Date.now() / 1000) < 600, 'a current timestamp');
      assert.match(r.headers['content-type'] ?? '', /^multipart\/form-data; boundary=/);
      const form = await formOf(r);
      assert.equal(form.get('op'), 'signal');
      signals.push({ status: form.get('status'), file: form.get(HARDWARE_FILE), nonce: oauth.oauth_nonce });
    }
    assert.deepEqual(
      signals.map((s) => s.status),
      ['WORKING', 'OK'],
    );
    assert.notEqual(signals[0]!.nonce, signals[1]!.nonce, 'a fresh nonce per request');

    const file = signals[1]!.file;
    assert.ok(file instanceof File, 'the hardware report is a file part');
    assert.equal(file.name, HARDWARE_FILE);
    const raw = Buffer.from(await file.arrayBuffer());
    const report = JSON.parse(raw.toString('utf8')) as HardwareReport;
    assert.deepEqual(parseHardwareReport(raw), { ...report, architecture: 'amd64' }, 'the region takes it as is');
    assert.equal(report.architecture, 'amd64');
    assert.equal(report.cpu.count, 2);
    assert.ok(report.cpu.model.length > 0, 'a CPU model');
    assert.ok(report.cpu.speed_mhz > 0, 'a CPU speed');
    assert.equal(report.memory_mib, 512, 'exactly what QEMU was given (-m 512), not MemTotal');
    assert.deepEqual(report.block_devices, [
      { name: 'vda', size_bytes: DISK_BYTES, serial: DISK_SERIAL, model: '', block_size: 512 },
    ]);
    // QEMU's SeaBIOS: the storage layout then needs no ESP.
    assert.equal(report.firmware, 'bios');
    assert.deepEqual(report.interfaces, [
      {
        name: 'eth0',
        mac: MAC,
        link_speed_mbps: report.interfaces[0]!.link_speed_mbps,
        type: 'physical',
        // /sys/class/net/eth0/carrier of the NIC it booted from: connected.
        link_connected: true,
      },
    ]);
    assert.equal(report.dmi.vendor, 'Metalflow Test');
    assert.equal(report.dmi.product, 'Ephemeral VM');
    assert.equal(report.dmi.serial, 'MF-TEST-SERIAL');
    assert.equal(report.dmi.uuid, UUID);
    assert.match(console, /metalflow: purpose=commissioning system_id=abc123 boot_mac=52:54:00:4d:46:01/);
    assert.match(console, /metalflow: signal OK sent/);
  });

  it("testing: the built-in stress-ng-cpu-short runs the image's real stress-ng, its three stressors verified", async () => {
    // Only the index: a built-in runs from the image. A 10 s timeout keeps stress-ng to 2+1+2 s.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-scripts-'));
    const index = {
      '1.0': {
        testing_scripts: [
          {
            name: 'stress-ng-cpu-short',
            path: 'testing/stress-ng-cpu-short',
            script_result_id: 30,
            timeout_seconds: 10,
            parallel: 0,
            hardware_type: 1,
            parameters: {},
          },
        ],
      },
    };
    fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify(index));
    receiver.scripts.tar = (await promisify(execFile)('tar', ['-C', dir, '-cf', '-', '.'], { encoding: 'buffer' }))
      .stdout as Buffer;
    fs.rmSync(dir, { recursive: true });
    const first = receiver.requests.length;
    let console: string;
    try {
      console = await boot({
        [CMDLINE.purpose]: 'commissioning',
        [CMDLINE.metadataUrl]: `http://10.0.2.2:${receiver.port}/MAAS/metadata`,
        [CMDLINE.consumerKey]: KEY.ck,
        [CMDLINE.tokenKey]: KEY.tk,
        [CMDLINE.tokenSecret]: KEY.ts,
        [CMDLINE.systemId]: 'abc123',
      });
    } finally {
      receiver.scripts.tar = null;
    }
    const forms = await Promise.all(
      since(first)
        .filter((r) => r.method === 'POST')
        .map(formOf),
    );
    assert.deepEqual(
      forms.map((f) => `${f.get('status')} ${f.get('error') ?? ''}`.trim()),
      [
        'WORKING Gathering hardware facts',
        'TESTING',
        'WORKING Starting stress-ng-cpu-short (id: 30)',
        'WORKING Finished stress-ng-cpu-short (id: 30): 0',
        'OK All scripts successfully ran',
      ],
      console,
    );
    const result = forms[3]!;
    assert.equal(result.get('exit_status'), '0');
    const output = await (result.get('stress-ng-cpu-short') as File).text();
    for (const stressor of ['matrix', 'cache', 'cpu']) {
      assert.match(output, new RegExp(`dispatching hogs: \\d+ ${stressor}\\b`), output);
    }
    assert.equal(output.match(/successful run completed/g)?.length, 3, output);
  });

  it('enlist: asks is_registered for its MAC anonymously, then creates itself', async () => {
    const first = receiver.requests.length;
    const console = await boot({
      [CMDLINE.purpose]: 'enlist',
      [CMDLINE.metadataUrl]: `http://10.0.2.2:${receiver.port}/MAAS/metadata`,
      [CMDLINE.apiUrl]: `http://10.0.2.2:${receiver.port}/MAAS`,
    });
    const requests = since(first);
    assert.deepEqual(
      requests.map((r) => `${r.method} ${r.url}`),
      [`GET /MAAS/api/2.0/machines/?op=is_registered&mac_address=${MAC}`, 'POST /MAAS/api/2.0/machines/'],
      console,
    );
    for (const r of requests) assert.equal(r.headers.authorization, undefined, 'anonymous');
    const form = await formOf(requests[1]!);
    assert.equal(form.get('architecture'), 'amd64/generic');
    assert.deepEqual(form.getAll('mac_addresses'), [MAC]);
    assert.match(console, /metalflow: enlisted as enl123 \(brave-otter-enl123\)/);
  });

  // Signals (status and error) the machine sent since request `first`.
  const signalsSince = async (first: number) => {
    const out: Array<{ status: string; error: string }> = [];
    for (const r of since(first)) {
      if (r.method !== 'POST') continue;
      const form = await formOf(r);
      out.push({ status: String(form.get('status')), error: String(form.get('error') ?? '') });
    }
    return out;
  };
  const credentials = () => ({
    [CMDLINE.metadataUrl]: `http://10.0.2.2:${receiver.port}/MAAS/metadata`,
    [CMDLINE.consumerKey]: KEY.ck,
    [CMDLINE.tokenKey]: KEY.tk,
    [CMDLINE.tokenSecret]: KEY.ts,
    [CMDLINE.systemId]: 'abc123',
  });
  const MIB = 1024 * 1024;
  const diskOf = (vm: QemuVm) => fs.readFileSync(path.join(vm.workDir, 'disk0.raw'));

  it('xinstall: streams the image onto the disk, checks its SHA-256, writes the config area, signals OK', async () => {
    const raw = Buffer.alloc(3 * MIB);
    for (let i = 0; i < raw.length; i += 4096) raw.writeUInt32BE(i, i);
    const gz = zlib.gzipSync(raw);
    receiver.files.set('good.img.gz', gz);
    const first = receiver.requests.length;
    const console = await boot(
      {
        [CMDLINE.purpose]: 'xinstall',
        ...credentials(),
        [CMDLINE.image]: `http://10.0.2.2:${receiver.port}/images/good.img.gz`,
        [CMDLINE.imageSha256]: crypto.createHash('sha256').update(gz).digest('hex'),
      },
      [{ sizeBytes: 8 * MIB, fill: 0xee }],
    );
    assert.deepEqual(
      (await signalsSince(first)).map((s) => s.status),
      ['WORKING', 'OK'],
      console,
    );
    const disk = diskOf(lastVm!);
    assert.ok(disk.subarray(0, 512 * 1024).equals(raw.subarray(0, 512 * 1024)), 'the image up to the config area');
    assert.ok(disk.subarray(MIB, raw.length).equals(raw.subarray(MIB)), 'the image after the config area');
    assert.match(
      disk.subarray(512 * 1024, 576 * 1024).toString('latin1'),
      /^#metalflow-os-config\nmetadata=http:\/\/10\.0\.2\.2:\d+\/MAAS\/metadata\nck=consumerKEY1\ntk=tokenKEY22\nts=tokenSECRET333\nsystem_id=abc123\n\0/,
    );
    assert.equal(disk[raw.length], 0xee, 'nothing written past the image');
  });

  // Issue 18 item 1 (follow-rack.sh): the rack the machine booted from dies. Its URLs name an
  // address nobody answers on (the VM's own, 10.0.2.15: refused at once), so the first signal gets
  // no answer and the environment asks DHCP (QEMU's, server identifier 10.0.2.2) where to go; then
  // the image stream is cut halfway and the server stops listening (a second dead rack), so the
  // write restarts from the first byte once DHCP has answered again, and is checked as always.
  it('xinstall: follows the rack DHCP names when its rack stops answering, and restarts a cut image stream', async () => {
    const raw = Buffer.alloc(3 * MIB);
    for (let i = 0; i < raw.length; i += 4096) raw.writeUInt32BE(i ^ 0x5a5a, i);
    const gz = zlib.gzipSync(raw);
    receiver.files.set('failover.img.gz', gz);
    receiver.dieDuring.add('failover.img.gz');
    const first = receiver.requests.length;
    const dead = `http://10.0.2.15:${receiver.port}`;
    // The server comes back once the environment has asked DHCP again after the cut (the second
    // follow), as a secondary rack answers once it has taken DHCP over.
    let revived = false;
    const reviver = (async () => {
      for (;;) {
        await new Promise((r) => setTimeout(r, 100));
        const vm = vms.at(-1);
        if (!receiver.dead() || !vm) continue;
        if ((vm.console().match(/does not answer; asking DHCP/g) ?? []).length < 2) continue;
        await receiver.revive();
        revived = true;
        return;
      }
    })();
    const console = await boot(
      {
        [CMDLINE.purpose]: 'xinstall',
        ...credentials(),
        [CMDLINE.metadataUrl]: `${dead}/MAAS/metadata`,
        [CMDLINE.image]: `${dead}/images/failover.img.gz`,
        [CMDLINE.imageSha256]: crypto.createHash('sha256').update(gz).digest('hex'),
      },
      [{ sizeBytes: 8 * MIB, fill: 0xee }],
    );
    await reviver;
    assert.ok(revived);
    assert.match(console, /the rack at 10\.0\.2\.15 does not answer/);
    assert.match(console, /DHCP answered from 10\.0\.2\.2: continuing through the rack at 10\.0\.2\.2/);
    const signals = await signalsSince(first);
    assert.deepEqual(
      signals.map((s) => s.status),
      ['WORKING', 'WORKING', 'OK'],
      console,
    );
    assert.match(
      signals[1]!.error,
      new RegExp(
        `^Writing http://10\\.0\\.2\\.2:${receiver.port}/images/failover\\.img\\.gz to /dev/\\w+ again from the start: the rack it came from stopped answering$`,
      ),
    );
    // Both streams from the first byte.
    const gets = since(first).filter((r) => r.method === 'GET' && r.url === '/images/failover.img.gz');
    assert.equal(gets.length, 2, console);
    assert.ok(!gets.some((r) => r.headers.range), 'no ranged request');
    const disk = diskOf(lastVm!);
    assert.ok(disk.subarray(0, 512 * 1024).equals(raw.subarray(0, 512 * 1024)), 'the image up to the config area');
    assert.ok(disk.subarray(MIB, raw.length).equals(raw.subarray(MIB)), 'the image after the config area');
    // The installed OS reports to the rack that answered.
    assert.match(
      disk.subarray(512 * 1024, 576 * 1024).toString('latin1'),
      new RegExp(`^#metalflow-os-config\nmetadata=http://10\\.0\\.2\\.2:${receiver.port}/MAAS/metadata\n`),
    );
    assert.match(console, /sha256 [0-9a-f]{64} verified/);
  });

  // The installer's RAID and LVM in the environment's own kernel (the test host may have neither):
  // a RAID 1 over two disks, LVM on it, xfs on a logical volume, / on a partition. The image is a
  // stand-in with no GRUB, so the install goes as far as the bootloader step and fails there; what
  // came before is read back from the disk files.
  it('xinstall root-tgz: RAID 1 over two disks, a VG on it, xfs on an LV, laid out up to the bootloader', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-tiny-image-'));
    try {
      fs.mkdirSync(path.join(dir, 'root/etc/cloud/cloud.cfg.d'), { recursive: true });
      for (const d of ['boot/grub', 'dev/pts', 'proc', 'sys'])
        fs.mkdirSync(path.join(dir, 'root', d), { recursive: true });
      await promisify(execFile)('tar', ['-czf', path.join(dir, 'root.tgz'), '-C', path.join(dir, 'root'), '.']);
      receiver.files.set('tiny-root.tgz', fs.readFileSync(path.join(dir, 'root.tgz')));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    receiver.storage.layout = [
      'disk /dev/vda',
      'part bios_grub 1M none none',
      'part linux 512M ext4 / root',
      'part linux rest none none',
      'disk /dev/vdb',
      'part linux rest none none',
      'raid md0 1 vda3,vdb1',
      'vg vgtest md0',
      'lv vgtest srv rest',
      'fs vgtest-srv xfs /srv - noatime',
      '',
    ].join('\n');
    const first = receiver.requests.length;
    let console: string;
    try {
      console = await boot(
        {
          [CMDLINE.purpose]: 'xinstall',
          ...credentials(),
          [CMDLINE.image]: `http://10.0.2.2:${receiver.port}/images/tiny-root.tgz`,
        },
        [{ sizeBytes: 1536 * MIB }, { sizeBytes: 1024 * MIB }],
      );
    } finally {
      receiver.storage.layout = '';
    }
    const signals = await signalsSince(first);
    const steps = signals.map((s) => s.error).filter((e) => e.startsWith('Installing: '));
    assert.deepEqual(
      steps,
      ['parse', 'partition', 'raid', 'lvm', 'format', 'mount', 'unpack', 'fstab', 'cloud-init', 'bootloader'].map(
        (s) => `Installing: ${s}`,
      ),
      console,
    );
    assert.equal(signals.at(-1)!.status, 'FAILED', console);
    assert.match(signals.at(-1)!.error, /failed at step bootloader: update-initramfs failed in the target/);
    // The disks as the environment left them: md superblocks on both members, and the root
    // partition's fstab (by UUID, the LV's xfs with its options) and mdadm.conf.
    const disk0 = path.join(lastVm!.workDir, 'disk0.raw');
    const disk1 = path.join(lastVm!.workDir, 'disk1.raw');
    const sfdisk = async (disk: string) =>
      (
        JSON.parse((await promisify(execFile)('sfdisk', ['-J', disk])).stdout) as {
          partitiontable: { partitions: { start: number }[] };
        }
      ).partitiontable.partitions.map((p) => p.start * 512);
    const blkid = async (disk: string, offset: number) =>
      (
        await promisify(execFile)('blkid', ['-p', '-O', String(offset), '-s', 'TYPE', '-o', 'value', disk])
      ).stdout.trim();
    const [, rootAt, memberAt] = await sfdisk(disk0);
    const [member1At] = await sfdisk(disk1);
    assert.deepEqual(
      [await blkid(disk0, rootAt!), await blkid(disk0, memberAt!), await blkid(disk1, member1At!)],
      ['ext4', 'linux_raid_member', 'linux_raid_member'],
    );
    const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-installed-root-'));
    await promisify(execFile)('mount', ['-o', `ro,loop,offset=${rootAt!}`, disk0, mnt]);
    try {
      const fstab = fs.readFileSync(path.join(mnt, 'etc/fstab'), 'utf8');
      assert.match(fstab, /^UUID=[0-9a-f-]{36} \/ ext4 errors=remount-ro 0 1$/m, fstab);
      assert.match(fstab, /^UUID=[0-9a-f-]{36} \/srv xfs noatime 0 0$/m, fstab);
      assert.match(fs.readFileSync(path.join(mnt, 'etc/mdadm/mdadm.conf'), 'utf8'), /^ARRAY \/dev\/md\S* .*UUID=/m);
    } finally {
      await promisify(execFile)('umount', [mnt]);
      fs.rmSync(mnt, { recursive: true, force: true });
    }
  });

  it('xinstall: a checksum mismatch is reported FAILED with the reason', async () => {
    receiver.files.set('bad.img.gz', zlib.gzipSync(Buffer.alloc(MIB, 1)));
    const first = receiver.requests.length;
    const console = await boot(
      {
        [CMDLINE.purpose]: 'xinstall',
        ...credentials(),
        [CMDLINE.image]: `http://10.0.2.2:${receiver.port}/images/bad.img.gz`,
        [CMDLINE.imageSha256]: '0'.repeat(64),
      },
      [{ sizeBytes: 4 * MIB }],
    );
    const signals = await signalsSince(first);
    assert.deepEqual(
      signals.map((s) => s.status),
      ['WORKING', 'FAILED'],
      console,
    );
    assert.match(
      signals[1]!.error,
      /^Checksum mismatch for http:\/\/10\.0\.2\.2:\d+\/images\/bad\.img\.gz: sha256 [0-9a-f]{64}, expected 0{64}\.$/,
    );
  });

  it('erase full: zeros over the whole disk (not a whole number of MiB), progress signals, OK', async () => {
    const size = 40 * MIB + 512 * 1024;
    const first = receiver.requests.length;
    const console = await boot({ [CMDLINE.purpose]: 'commissioning', ...credentials(), [CMDLINE.erase]: 'full' }, [
      { sizeBytes: size, fill: 0xff },
    ]);
    const signals = await signalsSince(first);
    assert.equal(signals.at(-1)!.status, 'OK', console);
    assert.equal(signals[0]!.error, 'Erasing /dev/vda (full, 40 MiB)');
    assert.ok(
      signals.some((s) => s.error === 'Erasing /dev/vda: 100 %'),
      JSON.stringify(signals),
    );
    assert.ok(diskOf(lastVm!).equals(Buffer.alloc(size)), 'every byte is zero');
  });

  it('erase secure,quick: a virtio disk has no secure erase, so it says so and falls back to quick (first and last 2 MiB)', async () => {
    const size = 16 * MIB;
    const first = receiver.requests.length;
    const console = await boot(
      { [CMDLINE.purpose]: 'commissioning', ...credentials(), [CMDLINE.erase]: 'secure,quick' },
      [{ sizeBytes: size, fill: 0xff }],
    );
    const signals = await signalsSince(first);
    assert.deepEqual(
      signals.map((s) => s.error),
      [
        'Secure erase is not supported on /dev/vda (not an ATA drive); falling back to quick erase',
        'Erasing /dev/vda (quick, 16 MiB)',
        'Disks erased',
      ],
      console,
    );
    const disk = diskOf(lastVm!);
    assert.ok(disk.subarray(0, 2 * MIB).equals(Buffer.alloc(2 * MIB)), 'the first 2 MiB');
    assert.ok(disk.subarray(size - 2 * MIB).equals(Buffer.alloc(2 * MIB)), 'the last 2 MiB');
    assert.ok(
      disk.subarray(2 * MIB, size - 2 * MIB).every((b) => b === 0xff),
      'the middle is left alone',
    );
  });

  // QEMU's NVMe controller has Format NVM (OACS bit 1) and formats by writing zeros over the
  // namespace; its IDE disk has no ATA security feature set, so hdparm finds nothing to use.
  it('erase secure: an NVMe drive gets Format NVM with secure erase and reads back zero; an IDE disk without ATA security falls back to full', async () => {
    const nvme = 24 * MIB;
    const ide = 8 * MIB;
    const first = receiver.requests.length;
    const console = await boot({ [CMDLINE.purpose]: 'commissioning', ...credentials(), [CMDLINE.erase]: 'secure' }, [
      { sizeBytes: nvme, fill: 0xff, model: 'nvme', serial: 'MF-NVME-0001' },
      { sizeBytes: ide, fill: 0xff, model: 'ide-hd', serial: 'MF-IDE-0001' },
    ]);
    const signals = await signalsSince(first);
    const how = /NVMe Format NVM, (user data|cryptographic) erase/.exec(signals[0]?.error ?? '')?.[0];
    assert.ok(how, console);
    assert.deepEqual(
      signals.map((s) => s.error),
      [
        `Secure erasing /dev/nvme0n1 (${how})`,
        `Securely erased /dev/nvme0n1 (${how}, 24 MiB)`,
        'Secure erase is not supported on /dev/sda (the drive has no ATA security feature set); falling back to full erase',
        'Erasing /dev/sda (full, 8 MiB)',
        'Erasing /dev/sda: 100 %',
        'Disks erased',
      ],
      console,
    );
    assert.match(console, /nvme0n1: format=1 crypto=[01] nsid=1 lbaf=\d+/, 'nvme-format read the controller');
    assert.match(console, /\/dev\/sda ATA security: /, 'hdparm read the IDE disk');
    assert.ok(
      fs.readFileSync(path.join(lastVm!.workDir, 'disk0.raw')).equals(Buffer.alloc(nvme)),
      'every byte of the NVMe namespace is zero',
    );
    assert.ok(
      fs.readFileSync(path.join(lastVm!.workDir, 'disk1.raw')).equals(Buffer.alloc(ide)),
      'every byte of the IDE disk is zero (full fallback)',
    );
  });
});
