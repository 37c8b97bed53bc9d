// MAAS's DNS resource JSON (DISPLAYED_DNSRESOURCE_FIELDS + resource_uri) and DNS resource record
// JSON (DISPLAYED_DNSDATA_FIELDS). An implicit resource is MAAS's synthetic one: id -1, no
// ip_addresses, records naming their node.
import type { DnsRecordRow, DnsResourceRow } from '../../region/services/dns/dns-rows';
import type { ImplicitResource } from '../../region/services/dns/dns-implicit';

const API = '/MAAS/api/2.0';

export function presentDnsRecord(r: DnsRecordRow): Record<string, unknown> {
  return {
    id: r.id,
    fqdn: r.fqdn,
    ttl: r.ttl,
    rrtype: r.rrtype,
    rrdata: r.rrdata,
    resource_uri: `${API}/dnsresourcerecords/${r.id}/`,
  };
}

export function presentDnsResource(r: DnsResourceRow | ImplicitResource): Record<string, unknown> {
  if ('implicit' in r)
    return {
      id: -1,
      fqdn: r.fqdn,
      address_ttl: null,
      ip_addresses: null,
      resource_records: r.records.map((x) => ({
        system_id: x.systemId,
        node_type: x.nodeType,
        user_id: x.userId,
        dnsresource_id: null,
        dnsdata_id: null,
        ttl: x.ttl,
        rrtype: x.rrtype,
        rrdata: x.rrdata,
      })),
      resource_uri: `${API}/dnsresources/-1/`,
    };
  return {
    id: r.id,
    fqdn: r.fqdn,
    address_ttl: r.addressTtl,
    // MAAS's StaticIPAddress JSON, as far as metalflow keeps it: user-reserved addresses.
    ip_addresses: r.ipAddresses.map((ip) => ({ ip, alloc_type: 4, alloc_type_name: 'User reserved' })),
    resource_records: r.records.map((x) => ({
      id: x.id,
      fqdn: x.fqdn,
      ttl: x.ttl,
      rrtype: x.rrtype,
      rrdata: x.rrdata,
    })),
    resource_uri: `${API}/dnsresources/${r.id}/`,
  };
}
