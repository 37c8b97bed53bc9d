// One log line per event, the same on the region and the rack: a JSON object (time, level, msg,
// and system_id / workflow_id / run_id where they apply) an operator's log pipeline can index,
// or, with METALFLOW_LOG_FORMAT=text, the human line metalflow printed before. Pure: cli gives it
// the place to write; the rack adds the running activity's fields (rack/log-scope.ts).

export type LogLevel = 'info' | 'warn' | 'error';
export type LogFormat = 'json' | 'text';
export const LOG_FORMATS: readonly LogFormat[] = ['json', 'text'];

/** What a line is about; `level` defaults to info. Undefined fields are left out. */
export interface LogFields {
  level?: LogLevel;
  system_id?: string;
  workflow_id?: string;
  run_id?: string;
  [name: string]: string | number | boolean | undefined;
}

/** A log callback: any `(line: string) => void` parameter in the code base takes one. */
export type Log = (msg: string, fields?: LogFields) => void;

const RESERVED = new Set(['time', 'msg']);

export function formatLogLine(format: LogFormat, time: Date, msg: string, fields: LogFields = {}): string {
  const { level = 'info', ...rest } = fields;
  const extra = Object.entries(rest).filter(([k, v]) => v !== undefined && !RESERVED.has(k));
  if (format === 'text') {
    const tail = extra.map(([k, v]) => ` ${k}=${String(v)}`).join('');
    return `[${time.toISOString()}] ${level === 'info' ? '' : `${level.toUpperCase()} `}${msg}${tail}`;
  }
  // time, level and msg first (what a person scanning raw lines reads); a field cannot replace them.
  return JSON.stringify({ time: time.toISOString(), level, msg, ...Object.fromEntries(extra) });
}

/** A Log writing formatted lines to `write`, each line carrying `base`'s fields too. */
export function createLog(o: {
  write: (line: string) => void;
  format: LogFormat;
  base?: LogFields;
  now?: () => Date;
}): Log {
  return (msg, fields) =>
    o.write(formatLogLine(o.format, o.now?.() ?? new Date(), msg, { ...o.base, ...fields }) + '\n');
}

/** A Log that adds `fields` to every line it passes on to `log`. */
export function withFields(log: Log, fields: LogFields): Log {
  return (msg, more) => log(msg, { ...fields, ...more });
}
