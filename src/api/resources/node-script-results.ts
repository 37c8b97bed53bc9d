// MAAS's NodeScriptResultsHandler (nodes/{system_id}/results/) and NodeScriptResultHandler
// (nodes/{system_id}/results/{id}/): a machine's script sets (one per commissioning or testing
// run) with their results, read with MAAS's filters, downloaded, deleted.
import { spawn } from 'node:child_process';
import { ValidationError } from '../../region/errors';
import type { RegionServices } from '../../region/services';
import type { Principal } from '../../region/services/principal';
import type { ScriptResultRow, ScriptSetRow } from '../../region/services/scripts/script-results';
import { tarArchive } from '../../region/services/scripts/tar';
import { field, form, Reply, type Resource } from '../http';
import { presentScriptSet } from '../presenters/script-set';
import { RESULT_TYPE_NAME, translateHardwareType, translateResultType } from '../presenters/script-types';
import { action, caller, may } from './access';

const viewFields = {
  hardware_type: field.text('Only results of scripts for this hardware: node, cpu, memory, storage, network, gpu.', {
    maxLength: 32,
  }),
  filters: field.text('Comma-separated script names, tags or result ids to show.', { maxLength: 4096 }),
};
const viewOf = (v: { hardware_type?: string; filters?: string }, includeOutput: boolean) => ({
  hardwareType: v.hardware_type === undefined ? undefined : translateHardwareType(v.hardware_type),
  includeOutput,
  filters: v.filters?.split(','),
});
const includeOutput = field.bool('Include the base64-encoded output of each result (output, stdout, stderr, result).');

const OUTPUTS = ['combined', 'stdout', 'stderr', 'result', 'all'] as const;
type Output = (typeof OUTPUTS)[number];
const FILETYPES = ['txt', 'tar.xz'] as const;
type Filetype = (typeof FILETYPES)[number];
const oneOf = <T extends string>(name: string, value: string | undefined, allowed: readonly T[], fallback: T): T => {
  if (value === undefined) return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw ValidationError.field(
    '__all__',
    name === 'filetype'
      ? `Unknown filetype "${value}" must be txt or tar.xz`
      : `Unknown output "${value}" must be ${allowed.join(', ')}`,
  );
};

export function nodeScriptResultResources(deps: {
  services: Pick<RegionServices, 'scriptResults'>;
}): Array<Resource<Principal>> {
  const { scriptResults } = deps.services;
  return [
    {
      name: 'NodeScriptResultsHandler',
      path: '/nodes/{system_id}/results/',
      doc: 'Manage node script results.',
      actions: [
        action({
          method: 'GET',
          access: may('machine', 'read'),
          form: form(
            {
              type: field.text('Only results of this type: commissioning, testing, installation (or the number).', {
                maxLength: 32,
              }),
              include_output: includeOutput,
              ...viewFields,
            },
            (v) => ({
              type: v.type === undefined ? undefined : translateResultType(v.type),
              view: viewOf(v, v.include_output === true),
            }),
          ),
          doc: "A machine's script results grouped by run (script set), newest first.",
          handle: async (c) =>
            (await scriptResults.sets(caller(c), c.path.system_id!, c.form.type, c.form.view)).map(presentScriptSet),
        }),
      ],
    },
    {
      name: 'NodeScriptResultHandler',
      path: '/nodes/{system_id}/results/{id}/',
      doc: 'Manage node script results.',
      actions: [
        action({
          method: 'GET',
          access: may('machine', 'read'),
          form: form({ include_output: includeOutput, ...viewFields }, (v) => viewOf(v, v.include_output === true)),
          doc: 'One set of results: its id, or current-commissioning, current-testing, current-installation.',
          handle: async (c) =>
            presentScriptSet(await scriptResults.set(caller(c), c.path.system_id!, c.path.id!, c.form)),
        }),
        action({
          method: 'DELETE',
          access: may('script', 'change'),
          doc: 'Delete a set of results (admin only): its id, or current-commissioning, current-testing, current-installation.',
          handle: async (c) => (
            await scriptResults.deleteSet(caller(c), c.path.system_id!, c.path.id!),
            Reply.noContent()
          ),
        }),
        action({
          method: 'GET',
          op: 'download',
          access: may('machine', 'read'),
          form: form(
            {
              output: field.text('What to download: combined (default), stdout, stderr, result (the YAML) or all.', {
                maxLength: 16,
              }),
              filetype: field.text('txt (default) or tar.xz.', { maxLength: 16 }),
              ...viewFields,
            },
            (v) => ({
              output: oneOf<Output>('output', v.output, OUTPUTS, 'combined'),
              filetype: oneOf<Filetype>('filetype', v.filetype, FILETYPES, 'txt'),
              view: viewOf(v, true),
            }),
          ),
          doc: "Download the set's results: one result's output as is, several as text sections or a tar.xz.",
          handle: async (c) => {
            const set = await scriptResults.set(caller(c), c.path.system_id!, c.path.id!, c.form.view);
            return download(set, c.form.output, c.form.filetype);
          },
        }),
      ],
    },
  ];
}

/** MAAS's download: the files of each result the output names. */
function filesOf(r: ScriptResultRow, output: Output): Array<[string, Buffer]> {
  const empty = Buffer.alloc(0);
  const all: Record<Exclude<Output, 'all'>, [string, Buffer]> = {
    combined: [r.name, r.output ?? empty],
    stdout: [`${r.name}.out`, r.stdout ?? empty],
    stderr: [`${r.name}.err`, r.stderr ?? empty],
    result: [`${r.name}.yaml`, r.result ?? empty],
  };
  return output === 'all' ? Object.values(all) : [all[output]];
}

async function download(set: ScriptSetRow, output: Output, filetype: Filetype): Promise<Reply> {
  const files = set.results.flatMap((r) => filesOf(r, output).map((f) => ({ f, r })));
  if (filetype === 'txt' && files.length === 1) return Reply.bytes(files[0]!.f[1], 'application/binary');
  if (filetype === 'txt') {
    const parts = files.flatMap(({ f: [name, content] }) => {
      const dashes = '-'.repeat(Math.floor((80 - (2 + name.length)) / 2));
      return [Buffer.from(`${dashes} ${name} ${dashes}\n`), content, Buffer.from('\n')];
    });
    return Reply.bytes(Buffer.concat(parts), 'application/binary');
  }
  const root = `${set.hostname}-${RESULT_TYPE_NAME[set.resultType]!.toLowerCase()}-${set.id}`;
  const tar = tarArchive(
    files.map(({ f: [name, data], r }) => ({ path: `${root}/${name}`, data, mode: 0o644, mtime: r.updated })),
  );
  return Reply.bytes(await xz(tar), 'application/x-tar');
}

/** xz-compressed, as MAAS's tarfile "w:xz" (xz-utils' `xz`; Node has no LZMA of its own). */
function xz(data: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn('xz', ['-c', '-6'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolve(Buffer.concat(out))
        : reject(new Error(`xz exited ${code}: ${Buffer.concat(err).toString()}`)),
    );
    child.stdin.end(data);
  });
}
