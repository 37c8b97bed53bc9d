// Placement rules (metalflow's addition, admin only): where newly commissioned machines land (pool,
// reservation), applied atomically as commissioning ends. /placement-rules/ and /placement-rule/{id}/.
import type { RegionServices } from '../../region/services';
import type { PlacementMatch, PlacementRule } from '../../region/services/placement';
import type { Principal } from '../../region/services/principal';
import { ValidationError } from '../../region/errors';
import { field, form, Reply, type FieldSpec, type Resource } from '../http';
import { action, may } from './access';

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
const specs = (values: string[]) =>
  values
    .flatMap((v) => v.split(','))
    .map((v) => v.trim())
    .filter(Boolean);

/** A non-negative whole number (as text, so the error names the field in this form's words). */
function count(doc: string): FieldSpec<number | undefined> {
  return {
    ...field.text(doc),
    type: 'Int',
    read: (p, name) => {
      const v = p.string(name);
      if (v === undefined || v === '') return undefined;
      if (!/^\d{1,9}$/.test(v)) throw ValidationError.field(name, `'${v}' is not a non-negative whole number.`);
      return Number(v);
    },
  };
}

const createRuleForm = form(
  {
    name: field.text('The name of the rule.', { maxLength: 256 }),
    priority: field.int('Higher first; the first match wins.', { min: -1_000_000, max: 1_000_000 }),
    match_pool: field.text('Match: the machine is in this pool.'),
    match_zone: field.text('Match: the machine is in this zone.'),
    match_tags: field.list('Match: the machine has these tags (comma- or space-separated).'),
    match_arch: field.text('Match: the architecture.'),
    match_cpu_count: count('Match: at least this many CPUs.'),
    match_mem: count('Match: at least this much memory (MiB).'),
    match_hostname_prefix: field.text('Match: the hostname starts with this.'),
    match_subnets: field.list(
      'Match: attached to this subnet (a specifier as for allocate; attached = one of its MACs holds a DHCP lease or reserved IP there).',
    ),
    match_vlans: field.list('Match: attached to this VLAN (a specifier as for allocate).'),
    pool: field.text('Then: move the machine to this pool.'),
    reserved_for: field.text('Then: reserve it for USERNAME or group:NAME.'),
  },
  (v) => {
    const tags = v.match_tags.flatMap((t) => t.split(/[\s,]+/)).filter(Boolean);
    const m: PlacementMatch = {
      pool: v.match_pool || undefined,
      zone: v.match_zone || undefined,
      tags: tags.length ? tags : undefined,
      arch: v.match_arch || undefined,
      cpu_count: v.match_cpu_count,
      mem: v.match_mem,
      hostname_prefix: v.match_hostname_prefix || undefined,
    };
    const match = Object.fromEntries(Object.entries(m).filter(([, x]) => x !== undefined)) as Omit<
      PlacementMatch,
      'subnets' | 'vlans'
    >;
    return {
      name: v.name,
      priority: v.priority,
      match,
      matchSubnets: specs(v.match_subnets),
      matchVlans: specs(v.match_vlans),
      pool: v.pool || undefined,
      reservedFor: v.reserved_for || undefined,
    };
  },
);

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
        action({
          method: 'GET',
          access: may('placement-rule', 'read'),
          doc: 'List rules, highest priority first (the first match wins).',
          handle: async () => (await placement.list()).map(present),
        }),
        action({
          method: 'POST',
          access: may('placement-rule', 'create'),
          form: createRuleForm,
          doc: 'Create a rule: every match_* given must hold; then pool and/or reserved_for apply.',
          handle: async (c) => present(await placement.create(c.form)),
        }),
      ],
    },
    {
      name: 'PlacementRuleHandler',
      path: '/placement-rule/{id}/',
      doc: 'A placement rule.',
      actions: [
        action({
          method: 'GET',
          access: may('placement-rule', 'read'),
          doc: 'A rule.',
          handle: async (c) => present(await placement.get(c.path.id!)),
        }),
        action({
          method: 'DELETE',
          access: may('placement-rule', 'delete'),
          doc: 'Delete a rule (machines it placed stay where they are).',
          handle: async (c) => (await placement.delete(c.path.id!), Reply.noContent()),
        }),
      ],
    },
  ];
}
