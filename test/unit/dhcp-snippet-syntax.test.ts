// contracts/dhcp-snippets.ts: ISC dhcpd statements → the bytes the rack's DHCP server sends, and
// every class of statement it refuses (with the statement and the reason in the message).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DhcpSnippetSyntaxError, mergeDhcpSnippetLayers, parseDhcpSnippet } from '../../src/contracts/dhcp-snippets';

const hexOf = (value: string, code: number): string | undefined =>
  parseDhcpSnippet(value).options.find((o) => o.code === code)?.hex;

describe('DHCP snippet statements', () => {
  it('encodes standard options by their ISC types', () => {
    assert.equal(hexOf('option ntp-servers 10.0.0.1, 10.0.0.2;', 42), '0a0000010a000002');
    assert.equal(hexOf('option domain-name-servers 1.1.1.1;', 6), '01010101');
    assert.equal(hexOf('option domain-name "example.com";', 15), Buffer.from('example.com').toString('hex'));
    assert.equal(hexOf('option interface-mtu 9000;', 26), '2328');
    assert.equal(hexOf('option time-offset -3600;', 2), 'fffff1f0');
    assert.equal(hexOf('option ip-forwarding off;', 19), '00');
    assert.equal(hexOf('option domain-search "a.example", "b";', 119), '0161076578616d706c65000162' + '00');
    assert.equal(hexOf('option vendor-encapsulated-options 01:04:0a:0b:0c:0d;', 43), '01040a0b0c0d');
    // 10.0.0.0/8 via 10.77.0.1, then the default route via 10.77.0.254.
    assert.equal(
      hexOf('option rfc3442-classless-static-routes 8, 10, 10, 77, 0, 1, 0, 10, 77, 0, 254;', 121),
      '080a0a4d0001000a4d00fe',
    );
  });

  it('defines custom options with a code and uses them', () => {
    const layer = parseDhcpSnippet(
      '# site options\noption site-flag code 224 = unsigned integer 16;\noption site-flag 513;\n' +
        'option site-name code 225 = text; option site-name "rack \\"a\\"";\n' +
        'option site-ips code 226 = array of ip-address; option site-ips 192.0.2.1,192.0.2.2;',
    );
    assert.deepEqual(layer.options, [
      { code: 224, hex: '0201' },
      { code: 225, hex: Buffer.from('rack "a"').toString('hex') },
      { code: 226, hex: 'c0000201c0000202' },
    ]);
  });

  it('reads next-server, filename and the lease times; a later statement replaces an earlier one', () => {
    const layer = parseDhcpSnippet(
      'next-server 10.0.0.9; filename "pxelinux.0"; default-lease-time 120; max-lease-time 60; option ntp-servers 1.2.3.4; option ntp-servers 5.6.7.8;',
    );
    assert.equal(layer.nextServer, '10.0.0.9');
    assert.equal(layer.filename, 'pxelinux.0');
    assert.equal(layer.defaultLeaseSeconds, 120);
    assert.equal(layer.maxLeaseSeconds, 60);
    assert.deepEqual(layer.options, [{ code: 42, hex: '05060708' }]);
  });

  it('merges layers in order: the later (more specific) wins per option and setting', () => {
    const merged = mergeDhcpSnippetLayers([
      parseDhcpSnippet('option ntp-servers 1.1.1.1; option domain-name "g"; default-lease-time 100;'),
      parseDhcpSnippet('option ntp-servers 2.2.2.2;'),
    ]);
    assert.deepEqual(merged.options, [
      { code: 42, hex: '02020202' },
      { code: 15, hex: Buffer.from('g').toString('hex') },
    ]);
    assert.equal(merged.defaultLeaseSeconds, 100);
  });

  const refused: Array<[string, string, RegExp]> = [
    ['a block', 'host foo { hardware ethernet 00:11:22:33:44:55; }', /blocks are not supported/],
    ['a declaration without a block', 'subnet 10.0.0.0;', /declarations are not supported/],
    ['a conditional', 'if exists user-class;', /conditionals are not supported/],
    ['an access rule', 'deny unknown-clients;', /client access rules/],
    ['dynamic DNS', 'ddns-update-style none;', /dynamic DNS/],
    ['an unknown statement', 'authoritative;', /Statement 'authoritative' \(line 1\): not supported/],
    ['an unknown option', 'option foo-bar 1;', /unknown option 'foo-bar'/],
    ['an option space', 'option agent.circuit-id "x";', /option spaces/],
    [
      'an option the server owns',
      'option dhcp-lease-time 60;',
      /option 51 cannot be set by a snippet: .*default-lease-time/,
    ],
    ['the server identifier by name', 'option dhcp-server-identifier 10.0.0.1;', /option 54 cannot be set/],
    [
      'a code the server owns',
      'option x code 54 = ip-address;',
      /option 54 cannot be set by a snippet: .*server identifier/,
    ],
    ['the subnet mask', 'option m code 1 = ip-address;', /subnet mask/],
    ['the vendor class', 'option vc code 60 = text;', /vendor class/],
    ['a code out of range', 'option x code 300 = text;', /1 to 254/],
    ['an unsupported type', 'option x code 200 = { ip-address, text };', /blocks are not supported/],
    ['an unsupported type name', 'option x code 200 = ip6-address;', /type 'ip6-address' is not supported/],
    [
      'a host name for an address',
      'option ntp-servers ntp.example.com;',
      /not an IPv4 address \(host names are not resolved\)/,
    ],
    ['an unquoted text', 'option domain-name example.com;', /must be a quoted string/],
    ['a number out of range', 'option interface-mtu 70000;', /not an unsigned 16-bit integer/],
    ['two values for a scalar', 'option interface-mtu 1500, 9000;', /takes one value/],
    ['a missing semicolon', 'option ntp-servers 1.2.3.4', /not terminated by ';'/],
    ['an unterminated string', 'option domain-name "x;', /Unterminated quoted string/],
    ['a bad RFC 3442 encoding', 'option classless-static-routes 24, 10, 0, 0;', /whole route/],
    ['a bad lease time', 'default-lease-time 0;', /not a number of seconds/],
    ['too many bytes', `option root-path "${'x'.repeat(600)}";`, /at most 512/],
  ];
  for (const [what, value, message] of refused) {
    it(`refuses ${what}`, () => {
      assert.throws(
        () => parseDhcpSnippet(value),
        (err: Error) => {
          assert.ok(err instanceof DhcpSnippetSyntaxError, err.message);
          assert.match(err.message, message);
          return true;
        },
      );
    });
  }

  it('names the line of the refused statement', () => {
    assert.throws(
      () => parseDhcpSnippet('option ntp-servers 1.2.3.4;\n\nallow booting;'),
      /'allow booting' \(line 3\)/,
    );
  });
});
