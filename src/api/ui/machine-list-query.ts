// The machine list's query string ⇄ the list service's query. Everything an operator chose lives in
// the URL (a filtered, sorted view can be bookmarked or shared), and the links the page draws
// (sort headers, status counts, pages) are built from the same parsed state, so they keep it.
import { MachineStatus, type MachineStatusName, statusFromName } from '../../contracts/lifecycle';
import {
  MACHINE_LIST_SORTS,
  MACHINE_LIST_TEXT_MAX,
  type MachineListQuery,
  type MachineListSort,
} from '../../region/services/machine-list';
import { badRequest, type Params } from '../http';

export const LIST_PAGE_SIZE = 100;
const MAX_PAGE = 1_000_000;
/** Values per filter field in the UI (the API's caps are higher; nobody ticks 20 zones by hand). */
const MAX_VALUES = 20;

/** The list's state as the URL carries it. */
export interface ListState {
  q: string;
  status: string[];
  owner: string[];
  pool: string[];
  zone: string[];
  tags: string[];
  arch: string[];
  sort: MachineListSort;
  descending: boolean;
  page: number;
}

export const FILTER_NAMES = ['status', 'owner', 'pool', 'zone', 'tags', 'arch'] as const;
const KNOWN = new Set(['q', ...FILTER_NAMES, 'sort', 'dir', 'page']);

/** The status's name in URLs: MAAS's enum name in lower case (`failed_commissioning`). */
export function statusParam(status: MachineStatus): string {
  const entry = (Object.entries(MachineStatus) as Array<[MachineStatusName, MachineStatus]>).find(
    ([, code]) => code === status,
  );
  return entry![0].toLowerCase();
}

export function parseListState(params: Params): ListState {
  // A parameter the list does not read would be silently ignored: refuse it instead.
  const unknown = params.names().filter((n) => !KNOWN.has(n));
  if (unknown.length) throw badRequest({ [unknown[0]!]: [`Unknown parameter '${unknown[0]}' for the machine list.`] });
  // Repeated or comma-separated (the form's text fields): no name metalflow stores has a comma.
  const values = (name: string) => {
    const out = params
      .list(name, { maxValues: MAX_VALUES })
      .flatMap((v) => v.split(','))
      .map((v) => v.trim())
      .filter((v) => v !== '');
    if (out.length > MAX_VALUES)
      throw badRequest({ [name]: [`At most ${MAX_VALUES} values of ${name} may be given.`] });
    for (const v of out)
      if (v.length > MACHINE_LIST_TEXT_MAX)
        throw badRequest({ [name]: [`Ensure each value has at most ${MACHINE_LIST_TEXT_MAX} characters.`] });
    return [...new Set(out)];
  };
  const status = values('status').map((v) => {
    const code = statusFromName(v);
    if (code === undefined) throw badRequest({ status: [`'${v}' is not a valid status.`] });
    return statusParam(code);
  });
  const sort = params.string('sort') || 'hostname';
  if (!Object.hasOwn(MACHINE_LIST_SORTS, sort))
    throw badRequest({ sort: [`Sort by one of ${Object.keys(MACHINE_LIST_SORTS).join(', ')} (not '${sort}').`] });
  const dir = params.string('dir') || 'asc';
  if (dir !== 'asc' && dir !== 'desc') throw badRequest({ dir: [`Give dir=asc or dir=desc (not '${dir}').`] });
  return {
    q: (params.string('q', { maxLength: MACHINE_LIST_TEXT_MAX }) ?? '').trim(),
    status: [...new Set(status)],
    owner: values('owner'),
    pool: values('pool'),
    zone: values('zone'),
    tags: values('tags'),
    arch: values('arch'),
    sort: sort as MachineListSort,
    descending: dir === 'desc',
    page: params.int('page', { min: 1, max: MAX_PAGE }) ?? 1,
  };
}

export function listQuery(s: ListState): MachineListQuery {
  const some = <T>(v: T[]) => (v.length ? v : undefined);
  return {
    filter: {
      status: some(s.status.map((v) => statusFromName(v)!)),
      owner: some(s.owner),
      pool: some(s.pool),
      zone: some(s.zone),
      tags: some(s.tags),
      arch: some(s.arch),
    },
    text: s.q || undefined,
    sort: s.sort,
    descending: s.descending,
    limit: LIST_PAGE_SIZE,
    offset: (s.page - 1) * LIST_PAGE_SIZE,
  };
}

/** The query string of `s` with `change` applied (defaults left out, so URLs stay short). */
export function listSearch(s: ListState, change: Partial<ListState> = {}): string {
  const next = { ...s, ...change };
  const out = new URLSearchParams();
  if (next.q) out.append('q', next.q);
  for (const name of FILTER_NAMES) for (const v of next[name]) out.append(name, v);
  if (next.sort !== 'hostname') out.append('sort', next.sort);
  if (next.descending) out.append('dir', 'desc');
  if (next.page > 1) out.append('page', String(next.page));
  const text = out.toString();
  return text ? `?${text}` : '';
}
