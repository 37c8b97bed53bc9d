// Reads node's TAP output as it streams by and keeps each failing test's name, file and error, so
// `npm test` can repeat them as its last lines: CI keeps only the tail of a long run, and the unit
// tests' failures otherwise scroll away behind half an hour of e2e output.

export interface TapFailure {
  /** Where the test is declared (node's `location`, relative to the working directory). */
  location: string;
  /** The failing test's name, its suites first. */
  name: string;
  /** The first lines of its error, then its first stack frame in this project's code. */
  error: string[];
}

const ERROR_LINES = 6;

interface Open {
  failure: TapFailure;
  indent: number;
  key: string;
  /** A suite's `not ok` only says that its subtests failed; they are reported themselves. */
  leaf: boolean;
  stackKept: boolean;
}

export class TapFailureCollector {
  readonly failures: TapFailure[] = [];
  private pending = '';
  /** Names of the `# Subtest:` lines seen, by depth (4 spaces of indent per level). */
  private readonly path: string[] = [];
  private current: Open | null = null;

  constructor(private readonly cwd = process.cwd()) {}

  push(chunk: string): void {
    this.pending += chunk;
    const lines = this.pending.split('\n');
    this.pending = lines.pop() ?? '';
    for (const line of lines) this.line(line);
  }

  end(): void {
    if (this.pending) this.line(this.pending);
    this.pending = '';
    this.close();
  }

  private line(line: string): void {
    const indent = line.length - line.trimStart().length;
    const text = line.trim();
    const subtest = /^# Subtest: (.*)$/.exec(text);
    if (subtest) {
      this.close();
      const depth = Math.floor(indent / 4);
      this.path.length = depth;
      this.path[depth] = subtest[1] ?? '';
      return;
    }
    const notOk = /^not ok \d+ - (.*?)(?: # (SKIP|TODO).*)?$/.exec(text);
    // A todo test's failure is expected: node counts it as todo, not as a failure.
    if (notOk?.[2] === 'TODO') {
      this.close();
      return;
    }
    if (notOk) {
      this.close();
      const depth = Math.floor(indent / 4);
      const name = [...this.path.slice(0, depth), notOk[1]].join(' › ');
      this.current = { failure: { location: '', name, error: [] }, indent, key: '', leaf: true, stackKept: false };
      return;
    }
    if (!this.current || text === '') return;
    if (indent <= this.current.indent) this.close();
    else this.yamlLine(text, indent);
  }

  /** Keeps the lines of the failure's YAML block that say what went wrong and where. */
  private yamlLine(text: string, indent: number): void {
    const open = this.current;
    if (!open || text === '---' || text === '...') return;
    const key = indent === open.indent + 2 ? /^(\w+):\s?(.*)$/.exec(text) : null;
    if (key) {
      open.key = key[1] ?? '';
      const value = (key[2] ?? '').replace(/^'(.*)'$/, '$1');
      if (open.key === 'failureType' && value === 'subtestsFailed') open.leaf = false;
      if (open.key === 'location') open.failure.location = value.replace(`${this.cwd}/`, '');
      if (open.key === 'error' && value !== '|-' && value !== '|' && value !== '>-') this.keep(value);
      return;
    }
    if (open.key === 'error') this.keep(text);
    if (open.key === 'stack' && !open.stackKept && text.includes(this.cwd) && !text.includes('node_modules')) {
      open.stackKept = true;
      this.keep(`at ${text.replace(`file://${this.cwd}/`, '').replace(`${this.cwd}/`, '')}`, true);
    }
  }

  private keep(line: string, always = false): void {
    const error = this.current?.failure.error;
    if (error && (always || error.length < ERROR_LINES)) error.push(line);
  }

  private close(): void {
    if (this.current?.leaf) this.failures.push(this.current.failure);
    this.current = null;
  }
}

export function failureSummary(failures: TapFailure[], what: string): string {
  if (failures.length === 0) return '';
  const lines = [`[test] ${failures.length} failing ${what}:`];
  for (const f of failures) {
    lines.push(`  ✖ ${f.name} (${f.location || 'no location'})`);
    for (const e of f.error) lines.push(`      ${e}`);
  }
  return lines.join('\n');
}
