// What a machine may say in one metadata signal or status event. Everything here ends up in an
// event row that every event listing shows, so a machine (or whoever holds its token) cannot make
// the region store and serve megabytes per request (issue 15: a 1 MB `error=` was stored).
// `op=signal` fields past a cap are refused with a 400 naming the field and nothing is recorded;
// cloud-init's reporting events are truncated visibly instead, as they were, because cloud-init
// sends its own descriptions (e.g. whole tracebacks) and a refused event would only be resent.
import { ValidationError } from '../errors';
import { fileNameProblem } from './scripts/file-names';

export const SIGNAL_LIMITS = {
  /** `error=`: one message (MAAS's error_description), shown in the event. */
  errorLength: 10_000,
  /** Result files per signal (MAAS's commissioning sends one per script). */
  files: 64,
  fileNameLength: 255,
  /**
   * Bytes of one result file as stored (a script's output, stdout, stderr or result YAML). A large
   * server's lshw XML is about a MiB; automatic tags parse this much at most per machine.
   */
  fileBytes: 4 * 1024 * 1024,
  /** A status event's description as stored. */
  eventDescriptionLength: 2_000,
  eventTypeLength: 100,
} as const;

// C0 controls but tab, newline and carriage return (messages have lines); NUL cannot be stored.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** op=signal's error and files, before anything is written: a 400 naming the first problem. */
export function checkSignal(error: string, files: ReadonlyMap<string, Buffer>): void {
  if (error.length > SIGNAL_LIMITS.errorLength)
    throw ValidationError.field('error', `error is ${error.length} characters; at most ${SIGNAL_LIMITS.errorLength}.`);
  if (CONTROL.test(error)) throw ValidationError.field('error', 'error contains a control character.');
  if (files.size > SIGNAL_LIMITS.files)
    throw ValidationError.field('files', `${files.size} result files in one signal; at most ${SIGNAL_LIMITS.files}.`);
  for (const [name, content] of files) {
    if (name.length > SIGNAL_LIMITS.fileNameLength || CONTROL.test(name))
      throw ValidationError.field(
        'files',
        `A result file's name must be at most ${SIGNAL_LIMITS.fileNameLength} characters without control characters.`,
      );
    // The name becomes a result's script name and a path in the results download.
    const problem = fileNameProblem(name);
    if (problem !== undefined)
      throw ValidationError.field(
        'files',
        `Result file '${name}' ${problem}: a result file is named after its script.`,
      );
    if (content.length > SIGNAL_LIMITS.fileBytes)
      throw ValidationError.field(
        'files',
        `Result file '${name}' is ${content.length} bytes; at most ${SIGNAL_LIMITS.fileBytes}.`,
      );
  }
}

/** A status event's text as stored: control characters refused (named), length cut with a mark. */
export function eventText(field: string, value: string, max: number): string {
  if (CONTROL.test(value)) throw ValidationError.field(field, `${field} contains a control character.`);
  if (value.length <= max) return value;
  const mark = ` … [truncated: ${value.length} characters]`;
  return value.slice(0, Math.max(0, max - mark.length)) + mark;
}
