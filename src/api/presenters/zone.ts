// MAAS's zone JSON (DISPLAYED_ZONE_FIELDS + resource_uri).
import type { Zone } from '../../region/services';

export function presentZone(z: Pick<Zone, 'id' | 'name' | 'description'>): Record<string, unknown> {
  return {
    id: z.id,
    name: z.name,
    description: z.description,
    resource_uri: `/MAAS/api/2.0/zones/${encodeURIComponent(z.name)}/`,
  };
}
