import { POWER_TYPES, isPowerType } from '../../contracts/power';
import { ValidationError } from '../errors';

export interface SplitPowerParameters {
  /** Shown to everyone who can see the machine. */
  visible: Record<string, string>;
  /** Encrypted at rest, shown to admins only. */
  secret: Record<string, string>;
}

/**
 * Validate `power_parameters_<name>` against the power type's fields (MAAS's names), filling
 * defaults. `current` carries the stored values an update does not mention. Values given now are
 * checked against their field's rule (contracts/power.ts: addresses, URLs, regexes), so a bad one
 * is a 400 naming it rather than a surprise when the driver runs; stored values are not rechecked.
 */
export function validatePowerParameters(
  powerType: string,
  given: Record<string, string>,
  current: Record<string, string> = {},
): SplitPowerParameters {
  if (!isPowerType(powerType)) {
    throw ValidationError.field(
      'power_type',
      `Select a valid choice. ${powerType} is not one of the available choices: ${Object.keys(POWER_TYPES).join(', ')}.`,
    );
  }
  const spec = POWER_TYPES[powerType]!;
  const known = new Set(spec.fields.map((f) => f.name));
  const errors: Record<string, string[]> = {};
  for (const name of Object.keys(given)) {
    if (!known.has(name)) errors[`power_parameters_${name}`] = [`Unknown parameter for power type ${powerType}.`];
  }
  const out: SplitPowerParameters = { visible: {}, secret: {} };
  for (const field of spec.fields) {
    const value = given[field.name] ?? current[field.name] ?? field.default ?? '';
    if (field.required && value === '') errors[`power_parameters_${field.name}`] = ['This field is required.'];
    if (field.choices && value !== '' && !field.choices.includes(value)) {
      errors[`power_parameters_${field.name}`] = [
        `Select a valid choice. ${value} is not one of the available choices: ${field.choices.join(', ')}.`,
      ];
    }
    if (value === '') continue;
    const problem =
      given[field.name] !== undefined && !errors[`power_parameters_${field.name}`] ? field.check?.(value) : undefined;
    if (problem) errors[`power_parameters_${field.name}`] = [problem];
    (field.secret ? out.secret : out.visible)[field.name] = value;
  }
  if (Object.keys(errors).length > 0) throw new ValidationError(errors);
  return out;
}

/** `power_parameters_foo=bar` form fields → `{foo: bar}`. */
export function powerParametersFromForm(fields: Iterable<[string, string]>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of fields) {
    if (key.startsWith('power_parameters_')) out[key.slice('power_parameters_'.length)] = value;
  }
  return out;
}
