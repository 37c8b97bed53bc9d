// MAAS's domain JSON (DISPLAYED_DOMAIN_FIELDS + resource_uri).
import type { DomainRow } from '../../region/services/domains';

/**
 * A node's `domain` object (machines and devices alike). `name` is the node's own column; `d` is
 * the domain it names, undefined only while a listing and a rename cross (then MAAS's default id).
 */
export function presentNodeDomain(name: string, d: Omit<DomainRow, 'name'> | undefined): Record<string, unknown> {
  return {
    id: d?.id ?? 0,
    name,
    resource_record_count: d?.resourceRecordCount ?? 0,
    ttl: d?.ttl ?? null,
    authoritative: d?.authoritative ?? true,
    is_default: d?.isDefault ?? name === 'maas',
    resource_uri: `/MAAS/api/2.0/domains/${d?.id ?? 0}/`,
  };
}

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
