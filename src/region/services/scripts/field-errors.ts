// Every problem of a form at once, by field (MAAS's forms answer with all of them), thrown as one
// ValidationError (a 400 naming each field) when there is any.
import { ValidationError } from '../../errors';

export class FieldErrors {
  readonly fields: Record<string, string[]> = {};
  add(field: string, message: string): void {
    (this.fields[field] ??= []).push(message);
  }
  throwIfAny(): void {
    if (Object.keys(this.fields).length > 0) throw new ValidationError(this.fields);
  }
}
