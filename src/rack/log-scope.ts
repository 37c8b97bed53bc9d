// The fields of what the rack is doing right now (the activity's system_id, workflow_id, run_id),
// so that every line logged on its behalf carries them, however deep the code that logs it
// (a power driver's retry, the fake machine) and without threading them through each call.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Log, LogFields } from '../contracts/log';

const scope = new AsyncLocalStorage<LogFields>();

/** Runs `fn` with `fields` added to every line logged through scopedLog() meanwhile. */
export function withLogFields<T>(fields: LogFields, fn: () => T): T {
  return scope.run({ ...scope.getStore(), ...fields }, fn);
}

/** `log` with the current scope's fields added (a line's own fields win). */
export function scopedLog(log: Log): Log {
  return (msg, fields) => log(msg, { ...scope.getStore(), ...fields });
}
