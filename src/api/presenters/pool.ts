// MAAS's resource pool JSON (DISPLAYED_RESOURCEPOOL_FIELDS + resource_uri, singular path by id).
import type { ResourcePool } from '../../region/services';

export function presentPool(p: Pick<ResourcePool, 'id' | 'name' | 'description'>): Record<string, unknown> {
  return { id: p.id, name: p.name, description: p.description, resource_uri: `/MAAS/api/2.0/resourcepool/${p.id}/` };
}
