// MAAS's ScriptForm as a pure function: a script's text with its embedded YAML metadata
// (`# --- Start MAAS 1.0 script metadata ---` … `# --- End MAAS 1.0 script metadata ---`) and the
// request's explicit values become one checked script definition, or MAAS's form errors. As in
// MAAS, an explicit value that contradicts the YAML is refused, except tags and timeout, which the
// request may set (a user keeps them when an upstream script is uploaded again).
import { parse as parseYaml } from 'yaml';
import { type ValidationError } from '../../errors';
import { fileNameProblem } from './file-names';
import { translateHardwareType, translateParallel, translateScriptType } from './script-enums';
import { FieldErrors } from './field-errors';

/** What a create or update request says; undefined: not given. */
export interface ScriptRequest {
  name?: string;
  title?: string;
  description?: string;
  tags?: string;
  type?: string;
  hardwareType?: string;
  parallel?: string;
  timeout?: string;
  destructive?: boolean;
  script?: Buffer;
  comment?: string;
  forHardware?: string;
  mayReboot?: boolean;
  recommission?: boolean;
  applyConfiguredNetworking?: boolean;
  packages?: string;
}

export interface ScriptDefinition {
  name: string;
  title: string;
  description: string;
  tags: string[];
  scriptType: number;
  hardwareType: number;
  parallel: number;
  timeoutSeconds: number;
  destructive: boolean;
  parameters: Record<string, unknown>;
  results: unknown;
  packages: Record<string, unknown>;
  forHardware: string[];
  mayReboot: boolean;
  recommission: boolean;
  applyConfiguredNetworking: boolean;
}

/** A script's text: MAAS keeps text; scripts are small (MAAS's own are a few KiB). */
export const SCRIPT_MAX_BYTES = 1024 * 1024;
const PARAMETER_TYPES = ['runtime', 'storage', 'interface', 'url', 'string', 'password', 'choice'];
const HARDWARE_ID =
  /^(modalias|pci|usb|system_vendor|system_product|system_version|mainboard_vendor|mainboard_product):.+$/;
const DELIMITER = /\s*#\s*-+\s*(Start|End) MAAS (?<version>\d+\.\d+) script metadata\s+-+/i;
/** shlex.quote leaves a name alone only when it is made of these (MAAS refuses any other name);
 * `/` and `.` pass it, so file-names.ts refuses what would leave a directory. */
const SHELL_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** The embedded YAML of a script's text (MAAS's _read_script); an empty object when it has none. */
export function readEmbeddedYaml(text: string, errors: FieldErrors): Record<string, unknown> {
  const lines = text.split(/\r?\n/);
  if (lines.length >= 1 && !lines[0]!.startsWith('#!/')) errors.add('script', 'Must start with shebang.');
  let found = false;
  let yaml = '';
  for (const line of lines.slice(1)) {
    const m = DELIMITER.exec(line);
    if (m) {
      if (!found && m.groups!.version === '1.0') {
        found = true;
        continue;
      }
      if (found) break;
    } else if (found && line.trim() !== '') {
      if (!line.includes('#')) {
        errors.add('script', 'Missing "#" on YAML line.');
        return {};
      }
      yaml += `${line.slice(line.indexOf('#') + 1)}\n`;
    }
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(yaml);
  } catch (e) {
    errors.add('script', `Invalid YAML: ${(e as Error).message}`);
    return {};
  }
  return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
    ? (parsed as Record<string, unknown>)
    : {};
}

/** Django's DurationField: seconds, or [[HH:]MM:]SS. */
function parseTimeout(value: string, errors: FieldErrors): number | undefined {
  const m = /^\s*(?:(?:(\d{1,6}):)?(\d{1,6}):)?(\d{1,9})(?:\.\d+)?\s*$/.exec(value);
  const seconds = m ? Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3]) : NaN;
  if (!Number.isSafeInteger(seconds) || seconds > 2_147_483_647) {
    errors.add('timeout', 'Enter a valid duration.');
    return undefined;
  }
  return seconds;
}

/**
 * A script's packages (MAAS's apt/snap/url installs before it runs) are never installed here: the
 * ephemeral environment is busybox with no apt, snap or package tools, so such a script would run
 * without what it needs. Refused rather than stored and ignored.
 */
const PACKAGES_REFUSED =
  "Installing packages is not supported: metalflow's ephemeral environment (busybox) has no apt, snap or package tools; the script must use only what the environment ships.";
const declaresSome = (v: unknown): boolean =>
  v !== null &&
  v !== undefined &&
  v !== '' &&
  !(Array.isArray(v) && v.length === 0) &&
  !(typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0);

function checkParameters(value: unknown, errors: FieldErrors): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    errors.add('parameters', 'Must be a dictionary.');
    return {};
  }
  for (const [name, p] of Object.entries(value)) {
    if (typeof p !== 'object' || p === null || Array.isArray(p)) {
      errors.add('parameters', `${name}: must be a dictionary.`);
      continue;
    }
    const type = (p as Record<string, unknown>).type;
    if (typeof type !== 'string' || !PARAMETER_TYPES.includes(type))
      errors.add('parameters', `${name}: type must be one of ${PARAMETER_TYPES.join(', ')}.`);
  }
  return value as Record<string, unknown>;
}

function listOf(field: string, value: unknown, errors: FieldErrors): string[] {
  if (typeof value === 'string')
    return value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.map((v) => v.trim());
  errors.add(field, 'Must be a list or string');
  return [];
}

const asText = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
const asBool = (v: unknown): boolean | undefined =>
  typeof v === 'boolean' ? v : v === 'true' || v === 'True' ? true : v === 'false' || v === 'False' ? false : undefined;

/**
 * The definition `req` makes of `current` (undefined: a new script). Throws MAAS's form errors,
 * every problem at once; `isDefault`: a built-in script, of which only tags and timeout change.
 */
export function defineScript(
  req: ScriptRequest,
  current: ScriptDefinition | undefined,
  isDefault = false,
): { definition: ScriptDefinition; text?: Buffer; comment: string } {
  const errors = new FieldErrors();
  const creating = current === undefined;
  if (creating && req.script === undefined) errors.add('script', 'This field is required.');
  if (req.comment !== undefined && req.script === undefined)
    errors.add('comment', '"comment" may only be used when specifying a "script" as well.');
  if (isDefault) {
    const given = Object.entries(req).filter(([k, v]) => v !== undefined && k !== 'tags' && k !== 'timeout');
    for (const [k] of given) errors.add(snake(k), 'Not allowed to change on default scripts.');
    errors.throwIfAny();
  }
  if (req.script !== undefined && req.script.length > SCRIPT_MAX_BYTES)
    errors.add('script', `A script may be at most ${SCRIPT_MAX_BYTES} bytes (it has ${req.script.length}).`);
  const text = req.script?.toString('utf8');
  const embedded = text === undefined ? {} : readEmbeddedYaml(text, errors);

  // Explicit values; embedded ones fill the gaps and may not contradict them.
  const explicit: Record<string, unknown> = {
    name: req.name,
    title: req.title,
    description: req.description,
    script_type: req.type,
    hardware_type: req.hardwareType,
    parallel: req.parallel,
    destructive: req.destructive,
    may_reboot: req.mayReboot,
    recommission: req.recommission,
    apply_configured_networking: req.applyConfiguredNetworking,
  };
  const values: Record<string, unknown> = { ...explicit };
  const { results, parameters, tags, timeout, packages, for_hardware: forHardware, ...rest } = embedded;
  if (rest.type !== undefined && rest.script_type === undefined) rest.script_type = rest.type;
  for (const [key, value] of Object.entries(rest)) {
    if (!(key in explicit)) continue;
    if (values[key] === undefined) values[key] = value;
    else if (!sameValue(key, values[key], value)) errors.add(key, 'May not override values defined in embedded YAML.');
  }

  const base: ScriptDefinition = current ?? {
    name: '',
    title: '',
    description: '',
    tags: [],
    scriptType: 2,
    hardwareType: 0,
    parallel: 0,
    timeoutSeconds: 0,
    destructive: false,
    parameters: {},
    results: {},
    packages: {},
    forHardware: [],
    mayReboot: false,
    recommission: false,
    applyConfiguredNetworking: false,
  };
  const def: ScriptDefinition = { ...base };
  const translated = (field: string, v: unknown, f: (s: string) => number, fallback: number): number => {
    if (v === undefined || v === '') return fallback;
    try {
      return f(String(v));
    } catch (e) {
      for (const m of Object.values((e as ValidationError).fields ?? {}).flat()) errors.add(field, m);
      return fallback;
    }
  };
  if (values.name !== undefined) def.name = asText(values.name).trim();
  if (values.title !== undefined) def.title = asText(values.title);
  if (values.description !== undefined) def.description = asText(values.description);
  def.scriptType = translated('script_type', values.script_type, translateScriptType, def.scriptType);
  def.hardwareType = translated('hardware_type', values.hardware_type, translateHardwareType, def.hardwareType);
  def.parallel = translated('parallel', values.parallel, translateParallel, def.parallel);
  for (const k of ['destructive', 'may_reboot', 'recommission', 'apply_configured_networking'] as const) {
    if (values[k] === undefined) continue;
    const b = asBool(values[k]);
    if (b === undefined) errors.add(k, `'${asText(values[k])}' value must be either True or False.`);
    else def[camel(k) as 'destructive'] = b;
  }
  // Tags and timeout: the request's, else (a new script only) the YAML's.
  if (req.tags !== undefined) def.tags = listOf('tags', req.tags, errors);
  else if (creating && tags !== undefined) {
    if (typeof tags !== 'string' && !(Array.isArray(tags) && tags.every((t) => typeof t === 'string')))
      errors.add('tags', 'Embedded tags must be a string of comma seperated values, or a list of strings.');
    else def.tags = listOf('tags', tags, errors);
  }
  if (req.timeout !== undefined) def.timeoutSeconds = parseTimeout(req.timeout, errors) ?? 0;
  else if (creating && timeout !== undefined) def.timeoutSeconds = parseTimeout(String(timeout), errors) ?? 0;
  if (req.script !== undefined) {
    def.parameters = parameters === undefined ? {} : checkParameters(parameters, errors);
    def.results = results ?? {};
  }
  const pkgs = req.packages !== undefined ? parseJsonText('packages', req.packages, errors) : packages;
  if (pkgs !== undefined) {
    if (typeof pkgs !== 'object' || pkgs === null || Array.isArray(pkgs))
      errors.add('packages', 'Must be a dictionary.');
    else if (Object.values(pkgs).some(declaresSome)) errors.add('packages', PACKAGES_REFUSED);
    else def.packages = pkgs as Record<string, unknown>;
  }
  const hw = req.forHardware ?? forHardware;
  if (hw !== undefined) {
    def.forHardware = listOf('for_hardware', hw, errors);
    for (const id of def.forHardware)
      if (!HARDWARE_ID.test(id))
        errors.add(
          'for_hardware',
          `Hardware identifier '${id}' must be a modalias, PCI ID, USB ID, system vendor, system product, system version, mainboard vendor, or mainboard product.`,
        );
  }
  for (const t of def.tags) if (t.includes(',')) errors.add('tags', 'Tag may not contain a ",".');

  if (def.name === '') errors.add('name', 'This field is required.');
  else if (def.name.toLowerCase() === 'none') errors.add('name', '"none" is a reserved name.');
  else if (/^\d+$/.test(def.name)) errors.add('name', 'Cannot be a number.');
  else if (!SHELL_SAFE.test(def.name))
    errors.add('name', `Name '${def.name}' contains disallowed characters, e.g. space or quotes.`);
  else if (fileNameProblem(def.name) !== undefined)
    errors.add('name', `Name '${def.name}' ${fileNameProblem(def.name)}: a script's name is its file name.`);
  else if (def.name.length > 255)
    errors.add('name', `Ensure this value has at most 255 characters (it has ${def.name.length}).`);
  errors.throwIfAny();
  return { definition: def, text: req.script, comment: req.comment ?? '' };
}

function parseJsonText(field: string, text: string, errors: FieldErrors): unknown {
  try {
    return JSON.parse(text);
  } catch {
    errors.add(field, 'Enter a valid JSON value.');
    return undefined;
  }
}

function sameValue(key: string, a: unknown, b: unknown): boolean {
  if (key === 'script_type') {
    try {
      return translateScriptType(String(a)) === translateScriptType(String(b));
    } catch {
      return false;
    }
  }
  return asText(a) === asText(b);
}

/** A request key as MAAS's form names the field (`type` is its script_type). */
const snake = (k: string) => (k === 'type' ? 'script_type' : k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`));
const camel = (k: string) => k.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
