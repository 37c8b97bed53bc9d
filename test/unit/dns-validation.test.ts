// MAAS's DNS name and record rules (services/dns/dns-validation.ts), without a database.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../src/region/errors';
import {
  separateFqdn,
  validateResourceName,
  validateRrdata,
  validateRrtype,
} from '../../src/region/services/dns/dns-validation';

const refuses = (f: () => unknown, message: RegExp) =>
  assert.throws(f, (e: unknown) => e instanceof ValidationError && message.test(e.message));

describe('DNS validation', () => {
  it('accepts the record types DNSData holds and refuses the rest, A and AAAA included', () => {
    assert.equal(validateRrtype('mx'), 'MX');
    refuses(() => validateRrtype('A'), /A is not one of CNAME MX NS SRV SSHFP TXT\. \(addresses are/);
    refuses(() => validateRrtype('PTR'), /PTR is not one of/);
  });

  it('checks rrdata per type as MAAS does', () => {
    validateRrdata('MX', '10 mail.example.com');
    validateRrdata('SRV', '0 5 5060 sip.example.com');
    validateRrdata('SRV', '0 0 0 .');
    validateRrdata('SSHFP', '1 1 abcdef');
    validateRrdata('TXT', 'anything at all');
    validateRrdata('CNAME', '_acme.example.com.');
    refuses(() => validateRrdata('MX', 'mail.example.com'), /Invalid MX/);
    refuses(() => validateRrdata('MX', '65536 mail.example.com'), /Invalid MX/);
    refuses(() => validateRrdata('MX', '10 bad_host!'), /Invalid domain name: bad_host!/);
    refuses(() => validateRrdata('SRV', '1 2 99999 x.example.com'), /Invalid SRV/);
    refuses(() => validateRrdata('SSHFP', '1 x y'), /Invalid SSHFP/);
    refuses(() => validateRrdata('CNAME', 'a b'), /Invalid CNAME/);
    refuses(() => validateRrdata('TXT', '   '), /cannot be blank/);
  });

  it('names: one label, _service._proto[.label] for SRV, and the apex and wildcard', () => {
    for (const ok of ['www', 'a-1', '@', '*', '']) validateResourceName(ok, 'A');
    validateResourceName('_sip._udp', 'SRV');
    validateResourceName('_sip._udp.host', 'SRV');
    refuses(() => validateResourceName('a.b', 'A'), /Invalid dnsresource name: a\.b\./);
    refuses(() => validateResourceName('_sip._udp', 'TXT'), /Invalid dnsresource name/);
    refuses(() => validateResourceName('sip', 'SRV'), /Invalid dnsresource name/);
  });

  it('splits an fqdn after its first label (two or three for SRV), or at the apex of a domain', () => {
    assert.deepEqual(separateFqdn('www.lab.example.', 'A', false), [{ name: 'www', domain: 'lab.example' }]);
    assert.deepEqual(separateFqdn('_sip._udp.lab.example', 'SRV', false), [
      { name: '_sip._udp.lab', domain: 'example' },
      { name: '_sip._udp', domain: 'lab.example' },
    ]);
    assert.deepEqual(separateFqdn('lab.example', undefined, true), [{ name: '@', domain: 'lab.example' }]);
    assert.deepEqual(separateFqdn('nodots', 'A', false), []);
  });
});
