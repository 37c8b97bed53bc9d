// images/ephemeral/lldp-listen.c, compiled as build.sh compiles it, fed crafted LLDP frames through
// its --replay mode: lldpctl's XML for what it heard, malformed frames skipped (never a crash), the
// document always well-formed; and the two built-ins that start it and print what it heard, run
// with busybox sh against a stand-in listener.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DOMParser } from '@xmldom/xmldom';
import { definitionMatches, parseDetails } from '../../src/region/services/tag-definitions';

const ROOT = path.join(__dirname, '../..');
const BUILTIN = path.join(ROOT, 'images/ephemeral/scripts/builtin');

const tlv = (type: number, value: Buffer) => {
  const h = Buffer.alloc(2);
  h.writeUInt16BE((type << 9) | value.length);
  return Buffer.concat([h, value]);
};
const b = (...parts: Array<Buffer | string | number[]>) =>
  Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.from(p))));
const MAC = Buffer.from('020000aabbcc', 'hex');
const chassis = tlv(1, b([4], MAC));
const port = (name: string) => tlv(2, b([5], name));
const ttl = (s: number) => tlv(3, Buffer.from([s >> 8, s & 0xff]));
const END = tlv(0, Buffer.alloc(0));
/** An Ethernet frame to LLDP's nearest-bridge address carrying `tlvs`. */
const frame = (...tlvs: Buffer[]) =>
  Buffer.concat([Buffer.from('0180c200000e', 'hex'), MAC, Buffer.from([0x88, 0xcc]), ...tlvs]);
const line = (ifname: string, f: Buffer) => `${ifname} ${f.toString('hex')}\n`;

describe('lldp-listen', () => {
  let dir: string;
  let bin: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lldp-listen-'));
    bin = path.join(dir, 'lldp-listen');
    // With ASan and UBSan, aborting on the first finding: the fuzz cases below then catch an
    // out-of-bounds read or undefined behaviour, not only a crash.
    execFileSync('gcc', [
      '-Os',
      '-Wall',
      '-Werror',
      '-fsanitize=address,undefined',
      '-fno-sanitize-recover=all',
      '-o',
      bin,
      path.join(ROOT, 'images/ephemeral/lldp-listen.c'),
    ]);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const replay = (input: string) => {
    const r = spawnSync(bin, ['--replay'], { input, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.signal, null);
    return r.stdout;
  };
  /** The document parses as XML without a single error. */
  const wellFormed = (xml: string) => {
    const errors: string[] = [];
    const doc = new DOMParser({ onError: (level, msg) => errors.push(`${level}: ${msg}`) }).parseFromString(
      xml,
      'text/xml',
    );
    assert.deepEqual(errors, []);
    return doc;
  };

  it("prints lldpctl's XML for a neighbour: chassis, name, descr, mgmt-ip, capabilities, port", () => {
    const mgmt = tlv(8, Buffer.from([5, 1, 10, 0, 0, 2, 2, 0, 0, 0, 7, 0]));
    const caps = tlv(7, Buffer.from([0x00, 0x14, 0x00, 0x04])); // Bridge and Router; Bridge enabled
    const xml = replay(
      line(
        'eth0',
        frame(
          chassis,
          port('swp7'),
          ttl(120),
          tlv(4, b('lab port 7')),
          tlv(5, b('lab-switch')),
          tlv(6, b('A switch')),
          caps,
          mgmt,
          END,
        ),
      ),
    );
    assert.equal(
      xml,
      `<?xml version="1.0" encoding="UTF-8"?>
<lldp label="LLDP neighbors">
 <interface label="Interface" name="eth0" via="LLDP" rid="1" age="0 day, 00:00:00">
  <chassis label="Chassis">
   <id label="ChassisID" type="mac">02:00:00:aa:bb:cc</id>
   <name label="SysName">lab-switch</name>
   <descr label="SysDescr">A switch</descr>
   <mgmt-ip label="MgmtIP">10.0.0.2</mgmt-ip>
   <mgmt-iface label="MgmtIface">7</mgmt-iface>
   <capability label="Capability" type="Bridge" enabled="on"/>
   <capability label="Capability" type="Router" enabled="off"/>
  </chassis>
  <port label="Port">
   <id label="PortID" type="ifname">swp7</id>
   <descr label="PortDescr">lab port 7</descr>
   <ttl label="TTL">120</ttl>
  </port>
 </interface>
</lldp>
`,
    );
    // What the region's lldp: tags see of it.
    const doc = parseDetails({ lshw: null, lldp: Buffer.from(xml) });
    assert.ok(definitionMatches('//lldp:interface[@name="eth0"]/lldp:chassis/lldp:name = "lab-switch"', doc));
  });

  it('no neighbour heard: the empty document', () => {
    assert.equal(replay(''), '<?xml version="1.0" encoding="UTF-8"?>\n<lldp label="LLDP neighbors"/>\n');
  });

  it('skips malformed frames and other ethertypes; keeps one entry per neighbour; TTL 0 forgets it', () => {
    const good = frame(chassis, port('swp1'), ttl(120), END);
    const xml = replay(
      [
        line('eth0', frame(port('swp1'), chassis, ttl(120))), // chassis ID not first
        line('eth0', frame(chassis, port('swp1'))), // no TTL
        line('eth0', frame(chassis, port('swp1'), ttl(120)).subarray(0, 20)), // a TLV past the frame
        line('eth0', frame(chassis, port('swp1'), ttl(120), tlv(5, b('lab-switch'))).subarray(0, -3)), // the last one too
        line('eth0', frame(tlv(1, Buffer.from([4])), port('swp1'), ttl(120))), // an empty chassis ID
        line('eth0', frame(chassis, port('swp1'), ttl(120), tlv(7, Buffer.from([0, 4])))), // capabilities of 2 bytes
        line('eth0', Buffer.concat([good.subarray(0, 12), Buffer.from([0x08, 0x00]), good.subarray(14)])), // IPv4
        'eth0 0180c2zz\n', // not hex
        'eth0 0180c200000\n', // an odd digit
        'no-space-here\n',
        line('eth1', good),
        line('eth1', good), // the same neighbour again
        line('eth2', good),
        line('eth2', frame(chassis, port('swp1'), ttl(0), END)), // it leaves
        line('eth3', frame(chassis, port('swp9'), ttl(120), END)),
      ].join(''),
    );
    wellFormed(xml);
    const names = [...xml.matchAll(/<interface [^>]*name="([^"]+)"[^>]*rid="(\d+)"/g)].map((m) => `${m[1]}:${m[2]}`);
    assert.deepEqual(names, ['eth1:1', 'eth3:3']);
  });

  it('escapes text for XML; control bytes and bytes that are not UTF-8 become "?"; binary IDs are hex', () => {
    const xml = replay(
      line(
        'eth0',
        frame(
          tlv(1, b([7], [0x00, 0x01, 0xff])),
          port('p<1>'),
          ttl(120),
          // U+FFFF (EF BF BF) is UTF-8 but not an XML character.
          tlv(
            5,
            Buffer.concat([
              b('a&b "c" \'d\' é '),
              Buffer.from([0xff, 0x01, 0xc3]),
              b('z'),
              Buffer.from([0xef, 0xbf, 0xbf]),
            ]),
          ),
        ),
      ),
    );
    wellFormed(xml);
    assert.match(xml, /<id label="ChassisID" type="local">00:01:ff<\/id>/);
    assert.match(xml, /<id label="PortID" type="ifname">p&lt;1&gt;<\/id>/);
    assert.match(xml, /<name label="SysName">a&amp;b &quot;c&quot; &apos;d&apos; é \?\?\?z\?\?\?<\/name>/);
  });

  it('never crashes on random and mutated frames, and its XML stays well-formed', () => {
    let seed = 20;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const base = frame(chassis, port('swp1'), ttl(120), tlv(5, b('sw')), tlv(7, Buffer.from([0, 4, 0, 4])));
    let input = '';
    for (let i = 0; i < 3000; i++) {
      const f = Buffer.from(base);
      for (let k = rand(6); k > 0; k--) f[14 + rand(f.length - 14)] = rand(256);
      input += line(`e${i % 80}`, f.subarray(0, 14 + rand(f.length - 13)));
    }
    const xml = replay(input);
    const doc = wellFormed(xml);
    // At most 64 neighbours are kept.
    assert.ok(doc.getElementsByTagName('interface').length <= 64);
  });

  it('refuses bad arguments', () => {
    assert.equal(spawnSync(bin, ['-t', 'soon']).status, 2);
    assert.equal(spawnSync(bin, ['--what']).status, 2);
  });
});

describe('20-maas-01-install-lldpd and maas-capture-lldpd', () => {
  let dir: string;
  const busybox = '/bin/busybox';
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lldp-scripts-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A stand-in lldp-listen: records its arguments, waits `delay` seconds, then answers. */
  const standIn = (name: string, body: string) => {
    const bin = path.join(dir, name);
    fs.mkdirSync(bin, { recursive: true });
    fs.writeFileSync(path.join(bin, 'lldp-listen'), `#!/bin/sh\necho "$*" >>"${bin}/args"\n${body}\n`, {
      mode: 0o755,
    });
    return bin;
  };
  const run = (bin: string, script: string, lldpDir: string) =>
    spawnSync(busybox, ['sh', path.join(BUILTIN, script)], {
      encoding: 'utf8',
      env: { PATH: `${bin}:/usr/bin:/bin`, LLDP_DIR: lldpDir, LLDP_SECONDS: '2' },
      timeout: 20_000,
    });

  it('the capture waits for the listener the install started, and prints what it wrote', () => {
    const bin = standIn(
      'waits',
      'while [ "$1" != -o ]; do shift; done; sleep 1; echo "<lldp heard=\\"1\\"/>" >"$2.tmp"; mv "$2.tmp" "$2"',
    );
    const lldpDir = path.join(dir, 'waits-run');
    const installed = run(bin, '20-maas-01-install-lldpd', lldpDir);
    assert.equal(installed.status, 0, installed.stderr);
    const started = Date.now();
    const captured = run(bin, 'maas-capture-lldpd', lldpDir);
    assert.equal(captured.status, 0, captured.stderr);
    assert.equal(captured.stdout, '<lldp heard="1"/>\n');
    assert.ok(Date.now() - started >= 500, 'it waited for the listener');
    assert.equal(fs.readFileSync(path.join(bin, 'args'), 'utf8'), `-t 2 -o ${lldpDir}/neighbors.xml\n`);
  });

  it('a listener that ends without an answer: the capture fails with its error, within the bound', () => {
    const bin = standIn('fails', 'echo "socket: Operation not permitted" >&2; exit 1');
    const lldpDir = path.join(dir, 'fails-run');
    assert.equal(run(bin, '20-maas-01-install-lldpd', lldpDir).status, 0);
    const captured = run(bin, 'maas-capture-lldpd', lldpDir);
    assert.equal(captured.status, 1);
    assert.match(captured.stderr, /lldp-listen gave no answer:\nsocket: Operation not permitted/);
  });

  it('a listener that never answers: the capture gives up after LLDP_SECONDS + 5 s', () => {
    const bin = standIn('hangs', 'exec sleep 60');
    const lldpDir = path.join(dir, 'hangs-run');
    assert.equal(run(bin, '20-maas-01-install-lldpd', lldpDir).status, 0);
    const started = Date.now();
    const captured = run(bin, 'maas-capture-lldpd', lldpDir);
    assert.equal(captured.status, 1);
    const took = Date.now() - started;
    assert.ok(took >= 6_000 && took < 15_000, `took ${took} ms`);
    // The stand-in this test started (setsid did not fork: the install's background job leads no group).
    process.kill(Number(fs.readFileSync(path.join(lldpDir, 'listen.pid'), 'utf8')));
  });

  it('without the install (not run in this boot), the capture listens itself', () => {
    const bin = standIn('alone', 'echo "<lldp alone=\\"1\\"/>"');
    const captured = run(bin, 'maas-capture-lldpd', path.join(dir, 'none'));
    assert.equal(captured.status, 0, captured.stderr);
    assert.equal(captured.stdout, '<lldp alone="1"/>\n');
    assert.equal(fs.readFileSync(path.join(bin, 'args'), 'utf8'), '-t 2\n');
  });
});
