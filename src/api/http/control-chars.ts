// Text that reaches the database, logs or HTML must be text: PostgreSQL refuses NUL in text
// columns (a 500 when it gets there), and the other C0 controls and DEL are never meaningful in a
// name, id or comment. TAB, LF and CR stay allowed because free text (user_data, comments,
// descriptions) legitimately spans lines.
import { badRequest } from './errors';

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** The first forbidden control character of `text`, or undefined when it has none. */
export function controlCharOf(text: string): string | undefined {
  return CONTROL.exec(text)?.[0];
}

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const ANY_CONTROL = /[\u0000-\u001f\u007f]/;

/** Identifiers (path ids, OAuth keys and tokens) never hold any control character, not even TAB/LF/CR. */
export function hasAnyControl(text: string): boolean {
  return ANY_CONTROL.test(text);
}

/** `U+0000` for a message: the character itself would be invisible or break the reply. */
export function describeChar(char: string): string {
  return `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`;
}

/** 400 naming the field when `value` holds a control character other than TAB, LF or CR. */
export function assertText(field: string, value: string): void {
  const bad = controlCharOf(value);
  if (bad !== undefined) {
    throw badRequest({ [field]: [`Control characters are not allowed (found ${describeChar(bad)}).`] });
  }
}
