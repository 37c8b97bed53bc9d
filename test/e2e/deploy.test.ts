// Deploy and release on real parts, in the lab scripts/e2e.ts made: a QEMU VM (raw disk, so the
// test reads what was written) powered through ipmi_sim by metalflow's IPMI driver is
// commissioned, then deployed with the stand-in for fast tests, custom/metalflow-standin
// (images/os/build.sh; named explicitly: the default is the real image): the install environment
// streams the image from the rack's HTTP server onto the disk and checks its SHA-256, the VM
// boots from its disk (PXE → the rack's `local` script → sanboot), the installed OS fetches its
// meta-data (the owner's SSH key) and user-data, and the machine is DEPLOYED. Release with a
// quick erase zeroes the start and end of the disk and returns it READY. Each phase's wall time is
// printed.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { ROOT, startLab, VM, waitForMachine, type Json, type Lab } from './lab/lab';

const IMAGE_DIR = path.join(ROOT, 'build/boot/images/os/custom/metalflow-standin/amd64');
const SSH_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE2fJ3bq8jVh7b2o3Yx1c9m8kq0pL0m2n4s6t8v0x2z4 e2e@metalflow';
const USER_DATA = '#!/bin/sh\necho "metalflow user-data ran on $(hostname)"\n';
const MIB = 1024 * 1024;

function readDisk(file: string, offset: number, length: number): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const buf = Buffer.alloc(length);
    fs.readSync(fd, buf, 0, length, offset);
    return buf;
  } finally {
    fs.closeSync(fd);
  }
}

describe('deploy and release a QEMU VM through IPMI', { timeout: 20 * 60_000 }, () => {
  let lab: Lab;
  let id: string;
  const phases: Array<[string, number]> = [];
  const phase = async <T>(name: string, run: () => Promise<T>): Promise<T> => {
    const t0 = Date.now();
    const result = await run();
    phases.push([name, (Date.now() - t0) / 1000]);
    console.log(`[deploy e2e] phase ${name}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return result;
  };
  const events = async (): Promise<string[]> => {
    const r = (await lab.stack.call('GET', `/events/?op=query&id=${id}&limit=200`)).body as Json;
    return ((r.events as Json[]) ?? []).map((e) => `${String(e.type)}: ${String(e.description)}`);
  };

  before(async () => {
    assert.ok(fs.existsSync(path.join(IMAGE_DIR, 'disk.img.gz')), 'the OS image is built (images/os/build.sh)');
    lab = await startLab({ diskFormat: 'raw' });
    await lab.enableDhcp();
  });
  /** The deploy's own steps, seconds since op-deploy (for the phases file). */
  const deploySteps: Array<[string, number]> = [];
  after(async () => {
    if (phases.length)
      console.log(`[deploy e2e] phases: ${phases.map(([n, s]) => `${n} ${s.toFixed(1)} s`).join(', ')}`);
    // `npm run bench -- deploy` runs this file and reads the phases from here.
    const file = process.env.METALFLOW_DEPLOY_PHASES_FILE;
    if (file)
      fs.writeFileSync(
        file,
        `${JSON.stringify({ phases: Object.fromEntries(phases), deploy_steps: Object.fromEntries(deploySteps) }, null, 2)}\n`,
      );
    await lab?.stop();
  });

  it('lists the built image as a boot resource', async () => {
    const list = (await lab.stack.call('GET', '/boot-resources/')).body as Json[];
    const standIn = list.find((r) => r.name === 'custom/metalflow-standin');
    assert.ok(standIn, JSON.stringify(list));
    assert.equal(standIn.architecture, 'amd64/generic');
    const one = (await lab.stack.call('GET', `/boot-resources/${standIn.id as number}/`)).body as Json;
    const manifest = JSON.parse(fs.readFileSync(path.join(IMAGE_DIR, 'metalflow.json'), 'utf8')) as Json;
    const files = Object.values(one.sets as Record<string, Json>)[0]!.files as Record<string, Json>;
    assert.equal(files['root-dd.gz']!.sha256, manifest.sha256);
  });

  it('a machine created with its MAC and IPMI power is commissioned READY', async () => {
    const created = await phase('create + commission', async () => {
      const r = await lab.stack.call('POST', '/machines/', {
        architecture: 'amd64/generic',
        mac_addresses: VM.mac,
        hostname: 'e2e-deploy',
        power_type: 'ipmi',
        ...Object.fromEntries(Object.entries(lab.ipmiParams()).map(([k, v]) => [`power_parameters_${k}`, v])),
      });
      assert.equal(r.status, 200, r.text);
      id = (r.body as Json).system_id as string;
      return waitForMachine(lab, id, 'Ready', 300_000);
    });
    assert.equal(created.cpu_count, VM.cpus);
  });

  it('refuses a distro_series the region has no image for, naming the field', async () => {
    const r = await lab.stack.call('POST', `/machines/${id}/op-deploy`, { distro_series: 'plan9' });
    assert.equal(r.status, 400, r.text);
    assert.match(r.text, /distro_series/);
    assert.equal(((await lab.stack.call('GET', `/machines/${id}/`)).body as Json).status_name, 'Ready');
  });

  it("deploys: the image is on the disk, the VM boots from it and receives the owner's SSH key and user-data", async () => {
    const key = await lab.stack.call('POST', '/account/prefs/sshkeys/', { key: SSH_KEY });
    assert.equal(key.status, 201, key.text);
    // The deploy's own phases, from the machine's events as they appear (±0.5 s).
    const milestones: Array<[string, RegExp]> = [
      ['installer up (WORKING)', /Signal WORKING: Writing/],
      ['image written + verified (OK)', /Signal OK/],
      ['boot from disk ordered', /booting from disk/],
    ];
    const seen = new Map<string, number>();
    // Commissioning signalled OK too: a milestone is an event beyond those already there.
    const count = (ev: string[], re: RegExp) => ev.filter((e) => re.test(e)).length;
    const before = await events();
    const baseline = new Map(milestones.map(([name, re]) => [name, count(before, re)]));
    const t0 = Date.now();
    const deployed = await phase('deploy', async () => {
      const r = await lab.stack.call('POST', `/machines/${id}/op-deploy`, {
        distro_series: 'custom/metalflow-standin',
        user_data: Buffer.from(USER_DATA).toString('base64'),
      });
      assert.equal(r.status, 200, r.text);
      return lab.until('the deployment', 600_000, async () => {
        const ev = await events();
        for (const [name, re] of milestones)
          if (!seen.has(name) && count(ev, re) > baseline.get(name)!) seen.set(name, Date.now() - t0);
        const m = (await lab.stack.call('GET', `/machines/${id}/`)).body as Json;
        if (String(m.status_name).startsWith('Failed'))
          throw Object.assign(
            new Error(`deploy failed: ${String(m.status_message)}\n${lab.serialLog().slice(-4000)}`),
            { fatal: true },
          );
        return m.status_name === 'Deployed' ? m : undefined;
      });
    });
    let last = 0;
    for (const [name] of milestones) {
      const at = seen.get(name);
      if (at === undefined) continue;
      console.log(
        `[deploy e2e]   deploy step ${name}: +${((at - last) / 1000).toFixed(1)} s (at ${(at / 1000).toFixed(1)} s)`,
      );
      deploySteps.push([name, at / 1000]);
      last = at;
    }
    console.log(
      `[deploy e2e]   deploy step installed OS checked in (DEPLOYED): +${((Date.now() - t0 - last) / 1000).toFixed(1)} s (at ${((Date.now() - t0) / 1000).toFixed(1)} s)`,
    );
    deploySteps.push(['installed OS checked in (DEPLOYED)', (Date.now() - t0) / 1000]);
    assert.equal(deployed.osystem, 'custom');
    assert.equal(deployed.distro_series, 'metalflow-standin');
    const serial = lab.serialLog();
    assert.match(serial, /sha256 [0-9a-f]{64} verified/, 'the installer checked the image');
    assert.ok(
      serial.includes(`metalflow: ssh key: ${SSH_KEY}`),
      `the installed OS received the key:\n${serial.slice(-3000)}`,
    );
    // Fetching the user-data is the check-in; the script runs right after it.
    await lab.until('the user-data script to run', 30_000, async () =>
      /user-data script exited/.test(lab.serialLog()) ? true : undefined,
    );
    assert.match(lab.serialLog(), /user-data script exited 0: metalflow user-data ran on e2e-deploy/);
    // What is on the disk is the image: everything but the config area the installer writes.
    const raw = zlib.gunzipSync(fs.readFileSync(path.join(IMAGE_DIR, 'disk.img.gz')));
    const disk = readDisk(lab.diskPath, 0, raw.length);
    assert.ok(
      disk.subarray(0, 512 * 1024).equals(raw.subarray(0, 512 * 1024)),
      'MBR and the start of the disk match the image',
    );
    assert.ok(disk.subarray(MIB).equals(raw.subarray(MIB)), 'the partition matches the image');
    assert.match(
      disk.subarray(512 * 1024, 576 * 1024).toString('latin1'),
      new RegExp(`^#metalflow-os-config\\nmetadata=http://10\\.77\\.0\\.1:5248/MAAS/metadata\\n[^]*system_id=${id}\\n`),
    );
    const ev = await events();
    assert.ok(
      ev.some((e) =>
        /Writing http:\/\/10\.77\.0\.1:5248\/images\/os\/custom\/metalflow-standin\/amd64\/disk\.img\.gz/.test(e),
      ),
      ev.join('\n'),
    );
    assert.ok(
      ev.some((e) => /booting from disk/.test(e)),
      ev.join('\n'),
    );
    const chassis = fs.readFileSync(path.join(lab.bmc.dir, 'chassis.log'), 'utf8');
    assert.match(chassis, /set boot pxe/);
  });

  it('releases with a quick erase: the start and end of the disk are zero, READY', async () => {
    const tail = VM.diskBytes - 2 * MIB;
    assert.ok(!readDisk(lab.diskPath, 0, MIB).equals(Buffer.alloc(MIB)), 'the deployed disk is not blank');
    // A marker at the end of the disk, so the quick erase of the end shows.
    const fd = fs.openSync(lab.diskPath, 'r+');
    fs.writeSync(fd, Buffer.alloc(4096, 0xab), 0, 4096, VM.diskBytes - 4096);
    fs.closeSync(fd);
    const released = await phase('release (quick erase)', async () => {
      const r = await lab.stack.call('POST', `/machines/${id}/op-release`, { erase: 'true', quick_erase: 'true' });
      assert.equal(r.status, 200, r.text);
      return waitForMachine(lab, id, 'Ready', 300_000);
    });
    assert.equal(released.owner, null);
    assert.ok(readDisk(lab.diskPath, 0, MIB).equals(Buffer.alloc(MIB)), 'the first MiB is zero');
    assert.ok(readDisk(lab.diskPath, tail, 2 * MIB).equals(Buffer.alloc(2 * MIB)), 'the last 2 MiB are zero');
    assert.equal(await lab.power('query'), 'off');
    const ev = await events();
    assert.ok(
      ev.some((e) => /Erasing \/dev\/vda \(quick/.test(e)),
      ev.join('\n'),
    );
  });
});
