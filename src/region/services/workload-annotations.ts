// Workload annotations (MAAS's owner_data): key=value pairs a machine's owner sets. Every
// listing of the machine carries them, so their number and size are capped (issue 15: 20,000
// were accepted) and a request past a cap is refused whole, with the key or the field named.
import { ValidationError } from '../errors';

export const ANNOTATION_LIMITS = { count: 100, keyLength: 255, valueLength: 4_096 } as const;

const FIELD = 'workload_annotations';
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** `current` with `changes` applied (an empty value removes the key); refuses what breaks a cap. */
export function annotate(
  current: Record<string, string>,
  changes: ReadonlyArray<readonly [string, string]>,
): Record<string, string> {
  const next = { ...current };
  for (const [key, value] of changes) {
    if (key === '' || key.length > ANNOTATION_LIMITS.keyLength || CONTROL.test(key))
      throw ValidationError.field(
        FIELD,
        `Annotation key ${JSON.stringify(key.slice(0, 64))}${key.length > 64 ? '…' : ''} must be 1 to ${ANNOTATION_LIMITS.keyLength} characters without control characters.`,
      );
    if (value.length > ANNOTATION_LIMITS.valueLength || CONTROL.test(value))
      throw ValidationError.field(
        key,
        `The value of annotation ${key} must be at most ${ANNOTATION_LIMITS.valueLength} characters without control characters.`,
      );
    if (value === '') delete next[key];
    else next[key] = value;
  }
  const count = Object.keys(next).length;
  if (count > ANNOTATION_LIMITS.count)
    throw ValidationError.field(
      FIELD,
      `A machine has at most ${ANNOTATION_LIMITS.count} workload annotations; this would make ${count}.`,
    );
  return next;
}
