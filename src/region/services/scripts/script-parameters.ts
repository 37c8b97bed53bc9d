// A run's script parameters as MAAS resolves them (forms/commission.py _get_script_param_dict, then
// forms/parameters.py ParametersForm), pure: the request's `<script>_<parameter>=value` (or a bare
// `<parameter>=value` for every chosen script declaring it) checked against what each script
// declares and the machine's hardware, defaults filled in, and a storage or interface parameter
// turned into one run per disk or interface it names (`all`, MAAS's default, is every one). What a
// run's parameters hold is what the ephemeral runner (runner.sh script_args) reads from index.json.
import { FieldErrors } from './field-errors';

/** One parameter as a script's embedded YAML declares it (scripts.parameters). */
export interface DeclaredParameter {
  type?: string;
  default?: unknown;
  required?: boolean;
  min?: number;
  max?: number;
  allow_list?: boolean;
  choices?: unknown[];
  [key: string]: unknown;
}

export interface ParameterizedScript {
  name: string;
  timeoutSeconds: number;
  declared: Readonly<Record<string, DeclaredParameter>>;
}

export interface MachineDisk {
  id: number;
  name: string;
  idPath: string;
  model: string;
  serial: string;
  tags: readonly string[];
}

export interface MachineNic {
  id: number;
  name: string;
  macAddress: string;
  tags: readonly string[];
}

export interface MachineHardware {
  /** For MAAS's wording: "Unknown storage device for <fqdn>(<system_id>)". */
  fqdn: string;
  systemId: string;
  /** Physical block devices. */
  disks: readonly MachineDisk[];
  /** Enabled interfaces with no children (MAAS's _get_interfaces). */
  nics: readonly MachineNic[];
}

/** One result's parameters and the hardware instance it runs on (MAAS's physical_blockdevice / interface). */
export interface ParameterizedRun {
  parameters: Record<string, DeclaredParameter & { value?: unknown }>;
  physicalBlockdeviceId: number | null;
  interfaceId: number | null;
}

/** Request values per script: script name → parameter → [the request's name for it, its value]. */
export type ScriptInput = Map<string, Map<string, { field: string; value: string }>>;

const SEPARATORS = ['_', '-'];
/** MAAS's validate_url schemes (curl's, plus icmp for the network tests). */
const URL_SCHEMES = new Set(
  'icmp file ftp ftps gopher http https imap imaps ldap ldaps pop3 pop3s rtmp rtsp scp sftp smb smbs smtp smtps telnet tftp'.split(
    ' ',
  ),
);
const MAC = /^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/i;

/**
 * Which script each request parameter is for: `<script>_<parameter>` (or `-`) for that script, a
 * bare `<parameter>` for every chosen script that declares it and was not given it by name. A name
 * no chosen script declares is a 400 naming it (MAAS's form ignores it; a parameter we accept is
 * one we honour).
 */
export function assignInput(
  scripts: readonly ParameterizedScript[],
  input: Readonly<Record<string, string>>,
): ScriptInput {
  const errors = new FieldErrors();
  const out: ScriptInput = new Map();
  const give = (script: string, param: string, field: string, value: string) => {
    const mine = out.get(script) ?? new Map<string, { field: string; value: string }>();
    out.set(script, mine);
    mine.set(param, { field, value });
  };
  const bare: Array<[string, string]> = [];
  for (const [field, value] of Object.entries(input)) {
    // The longest name that fits: `badblocks-destructive_storage` is badblocks-destructive's, not
    // badblocks' `destructive_storage`.
    const owner = scripts
      .filter((s) => SEPARATORS.some((sep) => field.startsWith(`${s.name}${sep}`)))
      .sort((a, b) => b.name.length - a.name.length)[0];
    if (owner) {
      const param = field.slice(owner.name.length + 1);
      if (Object.hasOwn(owner.declared, param)) give(owner.name, param, field, value);
      else errors.add(field, `Unknown parameter '${param}' for ${owner.name}`);
    } else bare.push([field, value]);
  }
  for (const [field, value] of bare) {
    const takers = scripts.filter((s) => Object.hasOwn(s.declared, field));
    if (takers.length === 0) {
      const chosen = scripts.map((s) => s.name).join(', ') || 'none';
      errors.add(
        field,
        `Unknown parameter: no chosen script declares it (chosen: ${chosen}); give <script>_<parameter> or a parameter one of them declares.`,
      );
    }
    for (const s of takers) if (!out.get(s.name)?.has(field)) give(s.name, field, field, value);
  }
  errors.throwIfAny();
  return out;
}

/**
 * A script's runs: its declared parameters with their values (given, else the default), and one
 * run per disk or interface a storage or interface parameter selects. Bad values are a 400 naming
 * the request field (or the parameter, for a required one with no value and no default).
 */
export function resolveRuns(
  script: ParameterizedScript,
  given: ReadonlyMap<string, { field: string; value: string }> | undefined,
  hw: MachineHardware,
  /** false: a required parameter may stay unset (a set's defaults, before the request's values). */
  enforceRequired = true,
): ParameterizedRun[] {
  const errors = new FieldErrors();
  const single: Record<string, DeclaredParameter & { value?: unknown }> = {};
  const multi: Array<[string, DeclaredParameter, string, string]> = [];
  for (const [name, declared] of Object.entries(script.declared)) {
    const input = given?.get(name);
    const field = input?.field ?? name;
    const type = declared.type ?? '';
    if (type === 'storage' || type === 'interface') {
      const value = input?.value ?? (declared.default === undefined ? 'all' : String(declared.default ?? ''));
      if (value === '') {
        if (enforceRequired && (declared.required ?? true)) errors.add(field, 'Field is required');
        continue;
      }
      multi.push([name, declared, field, value]);
      continue;
    }
    if (type === 'runtime') {
      const raw = input?.value ?? declared.default ?? script.timeoutSeconds;
      const seconds = runtimeSeconds(raw, declared, field, errors);
      if (seconds !== undefined) single[name] = { ...declared, value: seconds };
      continue;
    }
    const value = input?.value ?? (declared.default === undefined ? '' : String(declared.default));
    if (value === '') {
      if (enforceRequired && (declared.required ?? false)) errors.add(field, 'Field is required');
      continue;
    }
    if (type === 'url') checkUrls(declared.allow_list ? value.split(',') : [value], field, errors);
    if (type === 'choice' && !choiceValues(declared).includes(value))
      errors.add(field, `Select a valid choice. ${value} is not one of the available choices.`);
    if (type === 'boolean' && !/^(true|false|1|0|on|off|yes|no)$/i.test(value))
      errors.add(field, `'${value}' is not a boolean.`);
    single[name] = { ...declared, value };
  }
  const runs: ParameterizedRun[] = [];
  for (const [name, declared, field, value] of multi) {
    const run = (v: unknown, disk: number | null, nic: number | null): ParameterizedRun => ({
      parameters: { ...single, [name]: { ...declared, value: v } },
      physicalBlockdeviceId: disk,
      interfaceId: nic,
    });
    if (declared.type === 'storage') {
      // MAAS keeps `all` as a placeholder while the machine has no disks yet (before commissioning).
      const disks = value === 'all' && hw.disks.length === 0 ? null : selectDisks(value, hw, field, errors);
      if (disks === null) runs.push(run('all', null, null));
      else for (const d of disks) runs.push(run(diskValue(d), d.id, null));
    } else {
      const nics = value === 'all' && hw.nics.length === 0 ? null : selectNics(value, hw, field, errors);
      if (nics === null) runs.push(run('all', null, null));
      else for (const n of nics) runs.push(run(nicValue(n), null, n.id));
    }
  }
  errors.throwIfAny();
  return runs.length > 0 ? runs : [{ parameters: single, physicalBlockdeviceId: null, interfaceId: null }];
}

/** What index.json carries for a disk: the fields runner.sh finds it by (id_path, then model/serial, then name). */
function diskValue(d: MachineDisk): Record<string, unknown> {
  return { name: d.name, id_path: d.idPath, model: d.model, serial: d.serial };
}

/** What index.json carries for an interface (runner.sh finds it by MAC); no vendor/product is recorded here. */
function nicValue(n: MachineNic): Record<string, unknown> {
  return { name: n.name, mac_address: n.macAddress, vendor: '', product: '' };
}

/** MAAS's storage choices: all, an id, a comma list of name (or /dev path), model, serial, model:serial, tag. */
function selectDisks(value: string, hw: MachineHardware, field: string, errors: FieldErrors): MachineDisk[] {
  if (value === 'all') return [...hw.disks];
  if (/^\d+$/.test(value)) {
    const d = hw.disks.find((x) => x.id === Number(value));
    if (!d) errors.add(field, 'Physical block id does not exist');
    return d ? [d] : [];
  }
  const out: MachineDisk[] = [];
  for (const item of value.split(',')) {
    const [model, serial, extra] = item.split(':');
    const byModelSerial =
      serial !== undefined && extra === undefined
        ? hw.disks.filter((d) => d.model === model && d.serial === serial)
        : [];
    const base = item.slice(item.lastIndexOf('/') + 1);
    const found =
      byModelSerial.length > 0
        ? byModelSerial
        : hw.disks.filter(
            (d) => d.name === item || d.name === base || d.model === item || d.serial === item || d.tags.includes(item),
          );
    if (found.length === 0) errors.add(field, `Unknown storage device for ${hw.fqdn}(${hw.systemId})`);
    for (const d of found) if (!out.includes(d)) out.push(d);
  }
  return out;
}

/** MAAS's interface choices: all, an id, a comma list of name, MAC, tag. */
function selectNics(value: string, hw: MachineHardware, field: string, errors: FieldErrors): MachineNic[] {
  if (value === 'all') return [...hw.nics];
  if (/^\d+$/.test(value)) {
    const n = hw.nics.find((x) => x.id === Number(value));
    if (!n) errors.add(field, 'Interface id does not exist');
    return n ? [n] : [];
  }
  const out: MachineNic[] = [];
  for (const item of value.split(',')) {
    const found = MAC.test(item)
      ? hw.nics.filter((n) => n.macAddress.toLowerCase() === item.toLowerCase().replaceAll('-', ':'))
      : hw.nics.filter((n) => n.name === item || n.tags.includes(item));
    if (found.length === 0) errors.add(field, `Unknown interface for ${hw.fqdn}(${hw.systemId})`);
    for (const n of found) if (!out.includes(n)) out.push(n);
  }
  return out;
}

/** A runtime in seconds (MAAS's DurationField: seconds, or [[HH:]MM:]SS), within the declared min/max. */
function runtimeSeconds(
  raw: unknown,
  declared: DeclaredParameter,
  field: string,
  errors: FieldErrors,
): number | undefined {
  let seconds: number | undefined;
  if (typeof raw === 'number' && Number.isInteger(raw)) seconds = raw;
  else if (typeof raw === 'string' && /^\d{1,9}$/.test(raw)) seconds = Number(raw);
  else if (typeof raw === 'string' && /^(\d{1,4}:)?\d{1,2}:\d{1,2}$/.test(raw))
    seconds = raw.split(':').reduce((total, part) => total * 60 + Number(part), 0);
  if (seconds === undefined) {
    errors.add(field, 'Must be an int');
    return undefined;
  }
  const min = typeof declared.min === 'number' ? declared.min : 0;
  if (seconds < min) errors.add(field, `Must be greater than ${min}`);
  if (typeof declared.max === 'number' && seconds > declared.max)
    errors.add(field, `Must be less than ${declared.max}`);
  return seconds;
}

/** MAAS's URL check: a bare host or IP is taken as http://; a scheme must be one curl speaks. */
function checkUrls(urls: readonly string[], field: string, errors: FieldErrors): void {
  for (const u of urls) {
    const withScheme = u.includes('://') ? u : u.includes(':') && !u.includes('.') ? `http://[${u}]` : `http://${u}`;
    if (!validUrl(withScheme)) errors.add(field, 'Invalid URL');
  }
}

function validUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return URL_SCHEMES.has(parsed.protocol.replace(/:$/, '')) && parsed.hostname !== '';
  } catch {
    return false;
  }
}

function choiceValues(declared: DeclaredParameter): string[] {
  return (declared.choices ?? []).map((c) => String(Array.isArray(c) ? c[0] : c));
}
