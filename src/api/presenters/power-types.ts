// describe_power_types in MAAS's shape (provisioningserver's power driver settings, as
// get_all_power_types answers them): one entry per power type metalflow's racks drive, from
// contracts/power.ts, each parameter with MAAS's field keys.
import type { PowerField, PowerTypeSpec } from '../../contracts/power';

const ADDRESS_FIELDS = new Set(['power_address']);

function fieldType(f: PowerField): string {
  if (f.secret) return 'password';
  if (f.choices) return 'choice';
  if (f.name === 'mac_address') return 'mac_address';
  return 'string';
}

function presentField(f: PowerField) {
  return {
    name: f.name,
    label: f.label,
    required: f.required ?? false,
    field_type: fieldType(f),
    choices: (f.choices ?? []).map((c) => [c, c]),
    default: f.default ?? '',
    // MAAS: the BMC's address and credentials are shared by its machines (bmc); the rest is per node.
    scope: ADDRESS_FIELDS.has(f.name) || f.secret || f.name === 'power_user' ? 'bmc' : 'node',
    secret: f.secret ?? false,
  };
}

export function presentPowerType(t: PowerTypeSpec) {
  return {
    driver_type: 'power',
    name: t.name,
    description: t.description,
    chassis: false,
    can_probe: false,
    can_set_boot_order: false,
    fields: t.fields.map(presentField),
    missing_packages: [],
    queryable: t.queryable,
  };
}
