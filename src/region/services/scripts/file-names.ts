// Script names and the result file names a machine uploads become paths: the maas-scripts tar's
// `commissioning/<name>`, the environment's `$WORK/out/<name>` (images/ephemeral/scripts/runner.sh)
// and the results download's `<root>/<name>`. MAAS's own check (shlex.quote leaves the name alone)
// lets `/` and `.` through, so `../x` would name a file outside those directories: refused here.

// C0 controls and DEL: a name is one line of a path, never a terminal's instructions.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** Why `name` cannot be a file name inside a directory, or undefined when it can. */
export function fileNameProblem(name: string): string | undefined {
  if (name.includes('/')) return "contains '/'";
  if (name.includes('..')) return "contains '..'";
  if (name.startsWith('.')) return "starts with '.'";
  if (CONTROL.test(name)) return 'contains a control character';
  return undefined;
}
