/** `--name value` and `--flag` pairs; only entry points parse arguments. */
export function parseArgs(argv: string[]): { command: string; options: Map<string, string | true> } {
  const [command = 'help', ...rest] = argv;
  const options = new Map<string, string | true>();
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (!arg.startsWith('--')) throw new Error(`Unexpected argument: ${arg}`);
    const [name, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    const next = rest[i + 1];
    if (inline !== undefined) options.set(name, inline);
    else if (next !== undefined && !next.startsWith('--')) {
      options.set(name, next);
      i++;
    } else options.set(name, true);
  }
  return { command, options };
}

export function required(options: Map<string, string | true>, name: string): string {
  const v = options.get(name);
  if (typeof v !== 'string' || v === '') throw new Error(`--${name} is required.`);
  return v;
}
