// Anonymous enlistment (`POST machines/` without credentials): anyone on a network that reaches
// the region can call it, so it takes only what an ephemeral environment sends — MAAS's
// maas-enlist and metalflow's images/ephemeral/init: architecture, MACs, hostname, domain, and
// the BMC that environment detected (IPMI, Redfish, or none: manual). Anything else, such as a
// webhook whose URLs a rack would then call with the supplied credentials, needs an admin.
import { ValidationError } from '../errors';

const FIELDS = new Set(['architecture', 'mac_addresses', 'hostname', 'domain', 'power_type', 'power_parameters']);
export const ENLISTMENT_POWER_TYPES: readonly string[] = ['ipmi', 'redfish', 'manual'];

/**
 * Refuses (400, naming the field) what enlistment does not use. `fields` are the request's
 * parameter names; `power_parameters_<name>` fields are checked by the power type's own rules.
 */
export function assertEnlistmentInput(fields: readonly string[], powerType: string | undefined): void {
  const errors: Record<string, string[]> = {};
  for (const field of fields) {
    if (!FIELDS.has(field) && !field.startsWith('power_parameters_'))
      errors[field] = [`Anonymous enlistment does not take ${field}; an admin can set it after enlistment.`];
  }
  if (powerType && !ENLISTMENT_POWER_TYPES.includes(powerType))
    errors.power_type = [
      `Anonymous enlistment takes power type ${ENLISTMENT_POWER_TYPES.join(', ')} (what an ephemeral environment detects), not ${powerType}; an admin can set it after enlistment.`,
    ];
  if (Object.keys(errors).length > 0) throw new ValidationError(errors);
}
