// docs/maas-compat.md: every handler and action of MAAS 3.7's API (docs/maas-api-3.7.json, read
// from MAAS's source by scripts/maas-api-list.py) against what metalflow's describe/ says it
// serves, built in-process from the same registry the app serves (src/api/app.ts apiResources).
//
//   node --import tsx scripts/maas-compat.ts          rewrite docs/maas-compat.md
//   node --import tsx scripts/maas-compat.ts --check  exit 1 when the file is out of date
//
// test/unit/maas-compat.test.ts fails when the checked-in file differs from what this writes, so a
// branch that adds an action regenerates it with the first command (a merge: the same, once).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { apiResources } from '../src/api/app';
import { describeApi, type ApiDescription, type HandlerDescription } from '../src/api/http/describe';
import { versionResource } from '../src/api/http/version';
import type { RegionServices } from '../src/region/services';

const ROOT = join(__dirname, '..');
export const MAAS_LIST_FILE = join(ROOT, 'docs/maas-api-3.7.json');
export const COMPAT_FILE = join(ROOT, 'docs/maas-compat.md');
export const REGENERATE = 'node --import tsx scripts/maas-compat.ts';
const PREFIX = '/MAAS/api/2.0';

/** docs/maas-api-3.7.json, as scripts/maas-api-list.py writes it. */
export interface MaasApiList {
  source: string;
  rev: string;
  commit: string | null;
  handlers: MaasHandler[];
}
export interface MaasHandler {
  name: string;
  path: string;
  /** Who MAAS lets in: user (RestrictedResource), admin, any (internal), anonymous. */
  access: string;
  /** false: MAAS serves it but leaves it out of describe/ (internal or hidden). */
  in_describe: boolean;
  actions: MaasAction[];
  anonymous_handler?: string;
  anonymous_actions?: MaasAction[];
}
export interface MaasAction {
  method: string;
  op: string | null;
  name: string;
  params: string[];
}

/**
 * Why a MAAS handler is not served, by handler name. A handler that gains an implementation simply
 * stops being looked up here; one missing here is reported as "not implemented yet".
 */
const NOT_SERVED_REASONS: ReadonlyArray<[RegExp, string]> = [
  [
    /^(Pod|Pods|VmHost|VmHosts|VmCluster|VmClusters|VirtualMachine|VirtualMachines)Handler$/,
    'metalflow has no VM hosts (KVM/LXD pods).',
  ],
  [
    /^(Bcache|Bcaches|BcacheCacheSet|BcacheCacheSets|Raid|Raids|VolumeGroup|VolumeGroups|VmfsDatastore|VmfsDatastores|Partition|Partitions)Handler$/,
    'no storage layouts: deploy writes the image to the first disk (the storage issue adds them).',
  ],
  [/^(BlockDevice|BlockDevices)Handler$/, "block devices are listed in the machine's JSON, not editable yet."],
  [/^(Interface|Interfaces)Handler$/, "interfaces are listed in the machine's JSON, not editable yet."],
  [/^(DHCPSnippet|DHCPSnippets)Handler$/, "the rack's own DHCP server has no ISC dhcpd snippets."],
  [
    /^(PackageRepository|PackageRepositories)Handler$/,
    'deployed images are installed whole; no apt repositories are configured.',
  ],
  [/^(LicenseKey|LicenseKeys)Handler$/, 'no images that need a licence key (Windows, RHEL) are deployed.'],
  [
    /^(CommissioningScript|CommissioningScripts)Handler$/,
    "commissioning runs one built-in script, listed read-only at scripts/; user scripts (MAAS's older commissioning-scripts API included) are issue 20.",
  ],
  [/^(Discoveries|Discovery)Handler$/, 'no network discovery.'],
  [/^(Network|Networks)Handler$/, "MAAS's deprecated networks API (replaced by subnets)."],
  [/^(Notification|Notifications)Handler$/, 'no notifications.'],
  [/^(SSLKey|SSLKeys)Handler$/, 'no SSL keys are used.'],
  [/^(File|Files)Handler$/, 'no file storage.'],
  [/^(NodeDevice|NodeDevices)Handler$/, 'PCI/USB devices are not collected by the hardware report.'],
  [
    /^(AgentConfig|ImageSyncProgress|ImagesSyncProgress|BootResourceFileUpload)Handler$/,
    "MAAS-internal (its agents and image sync), not in MAAS's describe/.",
  ],
];
const DEFAULT_REASON = 'not implemented yet.';

export function notServedReason(name: string): string {
  return NOT_SERVED_REASONS.find(([pattern]) => pattern.test(name))?.[1] ?? DEFAULT_REASON;
}

/** metalflow's describe/ as the router serves it: the app's registry plus the VersionHandler. */
export function metalflowDescription(): ApiDescription {
  return describeApi(metalflowResources(), PREFIX);
}

function metalflowResources() {
  // Declarations only: no handler runs, so the services are never called.
  const unused: unknown = new Proxy(() => unused, { get: () => unused, apply: () => unused });
  return [
    ...apiResources(unused as RegionServices, { temporalUiUrl: null, temporalNamespace: 'compat' }),
    versionResource(),
  ];
}

/** Handler name → the absolute alias paths it is also routed at (not in describe/, so not in `ours`). */
export type AliasPaths = ReadonlyMap<string, readonly string[]>;

export function metalflowAliasPaths(): AliasPaths {
  return new Map(metalflowResources().map((r) => [r.name, (r.aliasPaths ?? []).map((p) => `${PREFIX}${p}`)]));
}

export type Status = 'served' | 'partial' | 'not served';

export interface HandlerReport {
  maas: MaasHandler;
  status: Status;
  /** Served handlers: what is missing or differs; not served: why. */
  notes: string[];
}

const sig = (a: { method: string; op: string | null }) => `${a.method} ${a.op ?? ''}`;
const label = (a: { method: string; name: string; op: string | null }) =>
  a.op === null ? `${a.method} (${a.name})` : `${a.method} op=${a.op}`;

/** `:param` names of an action's doc, and those documented as refused ("Not supported yet"). */
function paramsOf(doc: string): { taken: Set<string>; refused: Set<string> } {
  const taken = new Set<string>();
  const refused = new Set<string>();
  for (const m of doc.matchAll(/^:param ([^:]+): (?:Optional|Required)\. (.*)$/gm)) {
    // `{script}_{parameter}` (a `rest` field, MAAS's script parameters): any name, as `{key}` alone.
    const name = /^(\{\w+\}_?)+$/.test(m[1]!) ? '' : m[1]!.replace(/\{key\}$/, '');
    taken.add(name);
    if (m[2]!.startsWith('Not supported yet')) refused.add(name);
  }
  return { taken, refused };
}

/** True when MAAS's parameter `name` is read by a prefixed field (power_parameters_{key}; `{key}`: any name). */
function takenByPrefix(taken: Set<string>, name: string): boolean {
  return [...taken].some((t) => t === '' || (t.endsWith('_') && name.startsWith(t)));
}

/** `{system_id}` names of a MAAS path: some docstrings list them as plain parameters too. */
function pathParams(path: string): Set<string> {
  return new Set([...path.matchAll(/\{([^{}]+)\}/g)].map((m) => m[1]!));
}

function compareActions(
  maasActions: MaasAction[],
  inPath: Set<string>,
  ours: HandlerDescription | null,
  who: string,
): { missing: string[]; params: string[]; served: number } {
  const byName = new Map((ours?.actions ?? []).map((a) => [sig(a), a]));
  const missing: string[] = [];
  const params: string[] = [];
  let served = 0;
  for (const action of maasActions) {
    const mine = byName.get(sig(action));
    if (!mine) {
      missing.push(`${who}${label(action)}`);
      continue;
    }
    served++;
    const { taken, refused } = paramsOf(mine.doc);
    const absent = action.params.filter((p) => !inPath.has(p) && !taken.has(p) && !takenByPrefix(taken, p));
    const no = action.params.filter((p) => refused.has(p));
    // The router refuses a parameter no field declares (src/api/http/known-params.ts): never dropped.
    if (absent.length > 0)
      params.push(`${who}${label(action)} does not take ${absent.map(code).join(', ')} (refused: 400)`);
    if (no.length > 0) params.push(`${who}${label(action)} refuses ${no.map(code).join(', ')} (400)`);
  }
  return { missing, params, served };
}

export function compare(
  maas: MaasApiList,
  ours: ApiDescription,
  aliases: AliasPaths = new Map(),
): { reports: HandlerReport[]; extra: string[] } {
  const resources = new Map(ours.resources.map((r) => [r.name, r]));
  const reports = maas.handlers.map((h): HandlerReport => {
    const resource = resources.get(h.name);
    if (!resource) return { maas: h, status: 'not served', notes: [notServedReason(h.name)] };
    const auth = resource.auth ?? resource.anon;
    const inPath = pathParams(h.path);
    const main = compareActions(h.actions, inPath, auth, '');
    const anon = compareActions(h.anonymous_actions ?? [], inPath, resource.anon, 'anonymous ');
    const notes: string[] = [];
    const missing = [...main.missing, ...anon.missing];
    if (missing.length > 0) notes.push(`missing: ${missing.map(code).join(', ')}`);
    notes.push(...main.params, ...anon.params);
    const path = auth?.path ?? '';
    if (path !== h.path && !(aliases.get(h.name) ?? []).includes(h.path)) notes.push(`served at ${code(path)}`);
    return { maas: h, status: notes.length === 0 ? 'served' : 'partial', notes };
  });

  // What metalflow serves that MAAS 3.7 does not: whole handlers, or actions of MAAS's handlers.
  const maasByName = new Map(maas.handlers.map((h) => [h.name, h]));
  const extra: string[] = [];
  for (const r of ours.resources) {
    const h = maasByName.get(r.name);
    const auth = r.auth ?? r.anon;
    if (!h) {
      extra.push(
        `${code(r.name)} (${code(auth?.path ?? '')}): ${(auth?.actions ?? []).map((a) => code(label(a))).join(', ')}`,
      );
      continue;
    }
    const known = new Set([...h.actions, ...(h.anonymous_actions ?? [])].map(sig));
    const added = (auth?.actions ?? []).filter((a) => !known.has(sig(a)));
    if (added.length > 0) extra.push(`${code(r.name)}: ${added.map((a) => code(label(a))).join(', ')}`);
  }
  return { reports, extra: extra.sort() };
}

function code(s: string): string {
  return `\`${s}\``;
}

function cell(s: string): string {
  return s.replace(/\|/g, '\\|');
}

export function renderCompat(maas: MaasApiList, ours: ApiDescription, aliases: AliasPaths = new Map()): string {
  const { reports, extra } = compare(maas, ours, aliases);
  const count = (s: Status) => reports.filter((r) => r.status === s).length;
  const actions = (r: HandlerReport) => r.maas.actions.length + (r.maas.anonymous_actions?.length ?? 0);
  const lines = [
    '<!-- Generated by scripts/maas-compat.ts from describe/ and docs/maas-api-3.7.json: do not edit. -->',
    '',
    '# MAAS 3.7 API compatibility',
    '',
    `Every handler and action MAAS ${maas.rev} registers (${maas.source} at ${maas.commit ?? 'unknown commit'},`,
    `read from its source by \`scripts/maas-api-list.py\` into \`docs/maas-api-3.7.json\`), against what`,
    "metalflow's `describe/` declares. **served**: every action, with every parameter MAAS documents;",
    '**partial**: what is missing is listed (an action absent, a parameter it does not take, or one documented',
    'as not supported yet); a request that sends either kind of parameter gets a 400 naming it, never a',
    "silent drop. **not served**: why. An endpoint metalflow does not serve answers MAAS's 404",
    "`Unknown API endpoint: <path>.`, an unknown op MAAS's 400 `Unrecognised signature: method=GET op=<op>`.",
    '',
    `Regenerate after changing an API action: \`${REGENERATE}\` (\`test/unit/maas-compat.test.ts\``,
    "fails until the file matches). MAAS's list: `python3 scripts/maas-api-list.py --git-dir <maas>/.git",
    '--rev 3.7.3 > docs/maas-api-3.7.json`.',
    '',
    `Of ${reports.length} handlers: ${count('served')} served, ${count('partial')} partial, ${count('not served')} not served.`,
    '',
    '| MAAS handler | Path | Access | Actions | Status | Notes |',
    '| --- | --- | --- | --- | --- | --- |',
    ...reports.map((r) =>
      [
        '',
        code(r.maas.name) + (r.maas.in_describe ? '' : ' (internal)'),
        code(r.maas.path),
        r.maas.access,
        String(actions(r)),
        r.status,
        cell(r.notes.join('; ')),
        '',
      ]
        .join(' | ')
        .trim(),
    ),
    '',
    '## What metalflow serves that MAAS 3.7 does not',
    '',
    ...(extra.length === 0 ? ['Nothing.'] : extra.map((e) => `- ${e}`)),
    '',
  ];
  return lines.join('\n');
}

export function readMaasList(file = MAAS_LIST_FILE): MaasApiList {
  return JSON.parse(readFileSync(file, 'utf8')) as MaasApiList;
}

export function currentCompat(): string {
  return renderCompat(readMaasList(), metalflowDescription(), metalflowAliasPaths());
}

if (require.main === module) {
  const text = currentCompat();
  if (process.argv.includes('--check')) {
    const onDisk = readFileSync(COMPAT_FILE, 'utf8');
    if (onDisk !== text) {
      console.error(`docs/maas-compat.md is out of date: run ${REGENERATE}`);
      process.exit(1);
    }
  } else {
    writeFileSync(COMPAT_FILE, text);
    console.log(`wrote ${COMPAT_FILE}`);
  }
}
