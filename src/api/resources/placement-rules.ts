// Placement rules (metalflow's addition, admin only): where newly commissioned machines land (pool,
// reservation), applied atomically as commissioning ends. /placement-rules/ and /placement-rule/{id}/.
import type { RegionServices } from '../../region/services';
import type { PlacementMatch, PlacementRule } from '../../region/services/placement';
import type { Principal } from '../../region/services/principal';
import { ValidationError } from '../../region/errors';
import { Reply, type Params, type Resource } from '../http';
import { adminOf } from './access';

const present = (r: PlacementRule) => ({
  id: r.id,
  name: r.name,
  priority: r.priority,
  match: r.match,
  pool: r.pool,
  reserved_for: r.reservedFor,
  resource_uri: `/MAAS/api/2.0/placement-rule/${r.id}/`,
});

/** Allocate's subnet/VLAN specifiers (repeated or comma-separated). */
const specs = (p: Params, field: string) =>
  p
    .list(field)
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);

function matchForm(p: Params): Omit<PlacementMatch, 'subnets' | 'vlans'> {
  const num = (field: string) => {
    const v = p.string(field);
    if (v === undefined || v === '') return undefined;
    if (!/^\d{1,9}$/.test(v)) throw ValidationError.field(field, `'${v}' is not a non-negative whole number.`);
    return Number(v);
  };
  const tags = p
    .list('match_tags')
    .flatMap((v) => v.split(/[\s,]+/))
    .filter(Boolean);
  const m: PlacementMatch = {
    pool: p.string('match_pool') || undefined,
    zone: p.string('match_zone') || undefined,
    tags: tags.length ? tags : undefined,
    arch: p.string('match_arch') || undefined,
    cpu_count: num('match_cpu_count'),
    mem: num('match_mem'),
    hostname_prefix: p.string('match_hostname_prefix') || undefined,
  };
  return Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined)) as Omit<
    PlacementMatch,
    'subnets' | 'vlans'
  >;
}

export function placementRuleResources(deps: {
  services: Pick<RegionServices, 'placement'>;
}): Array<Resource<Principal>> {
  const { placement } = deps.services;
  return [
    {
      name: 'PlacementRulesHandler',
      path: '/placement-rules/',
      doc: 'Rules that place newly commissioned machines (admin only).',
      actions: [
        {
          method: 'GET',
          doc: 'List rules, highest priority first (the first match wins).',
          handle: async (c) => (adminOf(c), (await placement.list()).map(present)),
        },
        {
          method: 'POST',
          doc: 'Create a rule: name, priority, match_pool, match_zone, match_tags, match_arch, match_cpu_count, match_mem, match_hostname_prefix, match_subnets, match_vlans (specifiers as for allocate, stored as ids; attached = one of its MACs holds a DHCP lease or reserved IP there), all of which must hold; then pool and/or reserved_for (USERNAME or group:NAME).',
          async handle(c) {
            adminOf(c);
            const p = c.params;
            const priority = p.int('priority', { min: -1_000_000, max: 1_000_000 });
            return present(
              await placement.create({
                name: p.string('name', { maxLength: 256 }),
                priority,
                match: matchForm(p),
                matchSubnets: specs(p, 'match_subnets'),
                matchVlans: specs(p, 'match_vlans'),
                pool: p.string('pool') || undefined,
                reservedFor: p.string('reserved_for') || undefined,
              }),
            );
          },
        },
      ],
    },
    {
      name: 'PlacementRuleHandler',
      path: '/placement-rule/{id}/',
      doc: 'A placement rule.',
      actions: [
        { method: 'GET', doc: 'A rule.', handle: async (c) => (adminOf(c), present(await placement.get(c.path.id!))) },
        {
          method: 'DELETE',
          doc: 'Delete a rule (machines it placed stay where they are).',
          async handle(c) {
            adminOf(c);
            await placement.delete(c.path.id!);
            return Reply.noContent();
          },
        },
      ],
    },
  ];
}
