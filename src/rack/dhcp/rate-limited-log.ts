// A log that says at most `limit` lines per window and then how many it held back: a flood of
// garbage packets must not become a flood of log lines (or CPU spent writing them).

export function rateLimitedLog(
  log: (line: string) => void,
  limit: number,
  windowMs: number,
  now: () => number = Date.now,
): (line: string) => void {
  let windowStart = -Infinity;
  let said = 0;
  let held = 0;
  return (line) => {
    const t = now();
    if (t - windowStart >= windowMs) {
      if (held) log(`(${held} more such line(s) were suppressed)`);
      windowStart = t;
      said = 0;
      held = 0;
    }
    if (said < limit) {
      said += 1;
      log(line);
    } else {
      held += 1;
    }
  };
}
