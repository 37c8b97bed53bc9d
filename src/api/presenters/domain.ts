// MAAS's domain JSON (DISPLAYED_DOMAIN_FIELDS + resource_uri).
import type { DomainRow } from '../../region/services/domains';

export function presentDomain(d: DomainRow): Record<string, unknown> {
  return {
    id: d.id,
    name: d.name,
    ttl: d.ttl,
    authoritative: d.authoritative,
    resource_record_count: d.resourceRecordCount,
    is_default: d.isDefault,
    resource_uri: `/MAAS/api/2.0/domains/${d.id}/`,
  };
}
