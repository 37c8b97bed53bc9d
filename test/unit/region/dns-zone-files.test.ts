// The DNS server's files from a snapshot, checked by BIND's own tools (named-checkzone,
// named-checkconf -z): forward and reverse zones, TTLs as MAAS resolves them, zone-file syntax in
// rrdata kept out, reverse zones on octet/nibble boundaries.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { findBinary } from '../../../src/region/dns-server/named-process';
import { digitsOf, reverseName, reverseZonesOf } from '../../../src/region/services/dns/reverse-zones';
import { renderNamedConf, renderZones } from '../../../src/region/services/dns/zone-files';
import type { DnsSnapshot } from '../../../src/region/services/dns/zone-snapshot';

const snapshot: DnsSnapshot = {
  domains: [
    { name: 'maas', authoritative: true, ttl: 30, isDefault: true },
    { name: 'lab.example', authoritative: true, ttl: 300, isDefault: false },
    { name: 'corp.example', authoritative: false, ttl: 30, isDefault: false },
  ],
  addresses: [
    { domain: 'maas', name: 'node1', rrtype: 'A', rrdata: '10.20.0.5', ttl: 30 },
    { domain: 'maas', name: 'node1', rrtype: 'AAAA', rrdata: '2001:db8:0:1::5', ttl: 30 },
    { domain: 'lab.example', name: 'www', rrtype: 'A', rrdata: '192.168.7.9', ttl: 60 },
    { domain: 'lab.example', name: 'outside', rrtype: 'A', rrdata: '172.16.0.1', ttl: 60 },
    { domain: 'maas', name: 'inner', rrtype: 'A', rrdata: '10.21.5.7', ttl: 30 },
  ],
  records: [
    { domain: 'lab.example', name: 'alias', rrtype: 'CNAME', rrdata: 'www', ttl: 300 },
    { domain: 'lab.example', name: '@', rrtype: 'MX', rrdata: '10 www.lab.example.', ttl: 300 },
    { domain: 'lab.example', name: '_ldap._tcp', rrtype: 'SRV', rrdata: '0 5 389 www.lab.example.', ttl: 300 },
    { domain: 'lab.example', name: 'note', rrtype: 'TXT', rrdata: 'say "hi"; $INCLUDE /etc/passwd', ttl: 300 },
    // Quoted strings named would refuse (a \DDD over 255, a string over 255 bytes): kept as text.
    { domain: 'lab.example', name: 'esc', rrtype: 'TXT', rrdata: '"\\999"', ttl: 300 },
    { domain: 'lab.example', name: 'long', rrtype: 'TXT', rrdata: `"${'a'.repeat(300)}"`, ttl: 300 },
    { domain: 'lab.example', name: 'pair', rrtype: 'TXT', rrdata: '"v=spf1" "-all"', ttl: 300 },
    { domain: 'lab.example', name: 'bad', rrtype: 'SSHFP', rrdata: '1 1\n@ IN A 6.6.6.6', ttl: 300 },
    { domain: 'lab.example', name: 'host', rrtype: 'SSHFP', rrdata: '1 1 not-hex', ttl: 300 },
    { domain: 'lab.example', name: 'host', rrtype: 'SSHFP', rrdata: `4 2 ${'0123456789abcdef'.repeat(4)}`, ttl: 300 },
  ],
  subnets: ['10.20.0.0/22', '192.168.7.0/26', '2001:db8:0:1::/64', '10.21.0.0/16', '10.21.5.0/24'],
  upstreamDns: ['192.0.2.53'],
  dnssecValidation: 'no',
};

const named = findBinary('named-checkzone') ? { checkzone: findBinary('named-checkzone')! } : undefined;

describe('reverse zones', () => {
  it('split a subnet at the next octet or nibble boundary, and take the /24 of a smaller one', () => {
    assert.deepEqual(
      reverseZonesOf('10.20.0.0/22').map((z) => z.name),
      ['0.20.10.in-addr.arpa', '1.20.10.in-addr.arpa', '2.20.10.in-addr.arpa', '3.20.10.in-addr.arpa'],
    );
    assert.deepEqual(
      reverseZonesOf('192.168.7.64/26').map((z) => z.name),
      ['7.168.192.in-addr.arpa'],
    );
    assert.deepEqual(
      reverseZonesOf('172.16.0.0/12').map((z) => z.name),
      Array.from({ length: 16 }, (_, i) => `${16 + i}.172.in-addr.arpa`),
    );
    assert.deepEqual(
      reverseZonesOf('2001:db8::/63').map((z) => z.name),
      ['0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa', '1.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa'],
    );
  });

  it('write addresses as their reverse names, IPv6 expanded', () => {
    assert.equal(reverseName('10.20.1.5'), '5.1.20.10.in-addr.arpa');
    assert.equal(reverseName('2001:db8::1'), `1.${'0.'.repeat(23)}8.b.d.0.1.0.0.2.ip6.arpa`);
    assert.deepEqual(digitsOf('::ffff:1.2.3.4').digits.slice(-8), [0, 1, 0, 2, 0, 3, 0, 4]);
  });
});

describe('zone files', () => {
  const { zones, skipped } = renderZones(snapshot, 1764910042, { host: 'region', address: '127.0.0.1' });
  const byName = new Map(zones.map((z) => [z.zone, z.text]));

  it('one forward zone per authoritative domain, with TTLs, serial and the NS glue', () => {
    assert.deepEqual([...byName.keys()].slice(0, 2), ['maas', 'lab.example']);
    assert.ok(!byName.has('corp.example'), 'a non-authoritative domain is forwarded, not served');
    const maas = byName.get('maas')!;
    assert.match(maas, /SOA\tregion\.maas\. nobody\.example\.com\. \( 1764910042 600 1800 604800 30 \)/);
    assert.match(maas, /^region\t30\tIN\tA\t127\.0\.0\.1$/m);
    assert.match(maas, /^node1\t30\tIN\tAAAA\t2001:db8:0:1::5$/m);
    assert.match(byName.get('lab.example')!, /^_ldap\._tcp\t300\tIN\tSRV\t0 5 389 www\.lab\.example\.$/m);
  });

  it('keep zone-file syntax out of the data: TXT quoted, an SSHFP with a newline left out', () => {
    const lab = byName.get('lab.example')!;
    assert.match(lab, /^note\t300\tIN\tTXT\t"say \\"hi\\"; \$INCLUDE \/etc\/passwd"$/m);
    assert.doesNotMatch(lab, /6\.6\.6\.6/);
    assert.match(lab, /^host\t300\tIN\tSSHFP\t4 2 (0123456789abcdef){4}$/m);
    assert.match(lab, /^esc\t300\tIN\tTXT\t"\\"\\\\999\\""$/m);
    // Its quotes are part of the text now: escaped, in 255-byte pieces (1 + 254, 46 + 1 bytes).
    assert.match(lab, new RegExp(`^long\\t300\\tIN\\tTXT\\t"\\\\"${'a'.repeat(254)}" "${'a'.repeat(46)}\\\\""$`, 'm'));
    assert.match(lab, /^pair\t300\tIN\tTXT\t"v=spf1" "-all"$/m);
    assert.deepEqual(skipped, [
      'SSHFP bad.lab.example: characters a zone file cannot hold',
      'SSHFP host.lab.example: not <algorithm> <fptype> <hex fingerprint>',
    ]);
  });

  it('PTRs only for addresses inside known subnets', () => {
    assert.match(byName.get('0.20.10.in-addr.arpa')!, /^5\.0\.20\.10\.in-addr\.arpa\.\t30\tIN\tPTR\tnode1\.maas\.$/m);
    assert.match(byName.get('7.168.192.in-addr.arpa')!, /PTR\twww\.lab\.example\.$/m);
    assert.ok(![...byName.values()].some((t) => t.includes('outside.lab.example')));
    assert.match(byName.get('1.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa')!, /PTR\tnode1\.maas\.$/m);
  });

  it("put a PTR in the most specific zone holding it (a /24's inside a /16's), where named looks", () => {
    assert.match(byName.get('5.21.10.in-addr.arpa')!, /^7\.5\.21\.10\.in-addr\.arpa\.\t30\tIN\tPTR\tinner\.maas\.$/m);
    assert.doesNotMatch(byName.get('21.10.in-addr.arpa')!, /inner/);
  });

  it('load in named-checkzone and named-checkconf', { skip: !named && 'BIND utils not installed' }, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mf-zones-'));
    try {
      fs.mkdirSync(path.join(dir, 'zones'));
      for (const z of zones) {
        fs.writeFileSync(path.join(dir, 'zones', z.file), z.text);
        execFileSync(named!.checkzone, ['-q', '-k', 'fail', '-n', 'fail', z.zone, path.join(dir, 'zones', z.file)]);
      }
      const conf = renderNamedConf(snapshot, zones, {
        dir,
        listen: { host: '127.0.0.1', port: 5399 },
        rndc: { port: 5398, secret: Buffer.alloc(32, 1).toString('base64') },
      });
      assert.match(conf, /zone "corp\.example" \{ type forward; forward only; forwarders \{ 192\.0\.2\.53; \}; \};/);
      fs.writeFileSync(path.join(dir, 'named.conf'), conf);
      execFileSync(findBinary('named-checkconf')!, ['-z', path.join(dir, 'named.conf')]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
