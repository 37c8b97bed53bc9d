// A version per listed machine, computed by PostgreSQL in the listing's ids query: what lets the
// API keep each machine's presented JSON and send it again while nothing it was built from
// changed (issue 17: a 10,000-machine listing is then mostly bytes already made).
//
// The version covers every row MachineQueries.views() reads for one machine: its own row and the
// rows of its tags, interfaces, interface parents and links, DHCP leases on its MACs, its storage
// model and its latest commissioning and testing script results (the *_status fields), by xmin
// (PostgreSQL's id of the transaction that wrote the row version: any UPDATE, and an INSERT, gives
// a new one; a DELETE leaves the list shorter), plus the names the listing joins in
// (owner, reservation, zone, pool, rack, tag names) by content. Network rows many machines share
// (subnets, VLANs, fabrics, spaces, racks) go into one shared version for the whole listing, by the
// columns a machine shows. The machine's domain is not covered: its JSON (with the domain's
// record count, which any DNS change moves) is made for each listing (see domainRefs).
// A new column read by views() from a table not named here must be added here too: the
// listing-cache test compares the cached reply with the presenter's after changing each input.
import type { EntityManager } from 'typeorm';
import { domainRecordCountSql } from './domains';
import type { DomainRef } from './machine-queries';
import { queryAll } from './query-all';

export interface ListedMachine {
  id: number;
  /** Changes whenever anything the machine's JSON shows (but its domain) changes. */
  version: string;
  domain: string;
}

/** MD5 in hex: every machine's own version is this long. */
const VERSION_CHARS = 32;

/**
 * The listing's machines, in order, kept compact while the listing runs: ids in an Int32Array, the
 * versions as one string, the domains as indexes into the distinct names. A listing holds these for
 * all its life, so they outlive the young generation; 10,000 row objects (what pg makes of one row
 * per machine) were promoted on every listing and grew the old space until a major GC
 * (bench/results/list-profile.md). slice() makes the ListedMachine objects of one chunk.
 */
export class ListedMachines {
  constructor(
    private readonly ids: Int32Array,
    private readonly sharedVersion: string,
    private readonly versions: string,
    private readonly domainIndexes: Uint32Array,
    /** The distinct domain names, as domainRefs() wants them. */
    readonly domains: readonly string[],
  ) {}

  get length(): number {
    return this.ids.length;
  }

  slice(start: number, end: number): ListedMachine[] {
    const out: ListedMachine[] = [];
    for (let i = start; i < Math.min(end, this.ids.length); i++)
      out.push({
        id: this.ids[i]!,
        version: `${this.sharedVersion}:${this.versions.slice(i * VERSION_CHARS, (i + 1) * VERSION_CHARS)}`,
        domain: this.domains[this.domainIndexes[i]!]!,
      });
    return out;
  }

  /** Made from the listing query's aggregates (null when nothing is listed). */
  static parse(shared: string, ids: string | null, versions: string | null, domains: string | null): ListedMachines {
    if (ids === null || versions === null || domains === null)
      return new ListedMachines(new Int32Array(0), shared, '', new Uint32Array(0), []);
    const idList = new Int32Array(ids.split(',').map(Number));
    const names: string[] = [];
    const indexOf = new Map<string, number>();
    const domainList = domains.split('\n');
    if (versions.length !== idList.length * VERSION_CHARS || domainList.length !== idList.length)
      throw new Error('the listing query returned lists of different lengths');
    const domainIndexes = new Uint32Array(idList.length);
    domainList.forEach((name, i) => {
      let at = indexOf.get(name);
      if (at === undefined) indexOf.set(name, (at = names.push(name) - 1));
      domainIndexes[i] = at;
    });
    return new ListedMachines(idList, shared, versions, domainIndexes, names);
  }
}

/** `where`: the listing's visibility and filter conditions over `machines m`, with `params`. */
export async function listedMachines(
  manager: EntityManager,
  where: string,
  params: unknown[],
): Promise<ListedMachines> {
  const [rows, shared]: [
    Array<{ ids: string | null; versions: string | null; domains: string | null }>,
    Array<{ v: string }>,
  ] = await queryAll(manager, [
    () =>
      manager.query(
        `WITH listed AS (SELECT m.id FROM machines m WHERE ${where}),
       tag_v AS (SELECT mt.machine_id, string_agg(t.name, ',' ORDER BY t.name) AS v
                   FROM machine_tags mt JOIN tags t ON t.id = mt.tag_id
                  WHERE mt.machine_id IN (SELECT id FROM listed) GROUP BY 1),
       nic_v AS (SELECT i.machine_id, string_agg(i.id || '.' || i.xmin::text, ',' ORDER BY i.id) AS v
                   FROM interfaces i WHERE i.machine_id IN (SELECT id FROM listed) GROUP BY 1),
       parent_v AS (SELECT i.machine_id, string_agg(p.child_id || '>' || p.parent_id, ',' ORDER BY p.child_id, p.parent_id) AS v
                      FROM interface_parents p JOIN interfaces i ON i.id = p.child_id
                     WHERE i.machine_id IN (SELECT id FROM listed) GROUP BY 1),
       link_v AS (SELECT i.machine_id, string_agg(l.id || '.' || l.xmin::text, ',' ORDER BY l.id) AS v
                    FROM interface_links l JOIN interfaces i ON i.id = l.interface_id
                   WHERE i.machine_id IN (SELECT id FROM listed) GROUP BY 1),
       lease_v AS (SELECT i.machine_id, string_agg(i.id || '.' || host(l.ip) || '.' || l.subnet_id, ',' ORDER BY l.ip, i.id) AS v
                     FROM interfaces i JOIN dhcp_leases l ON l.mac_address = i.mac_address
                    WHERE i.machine_id IN (SELECT id FROM listed) GROUP BY 1),
       device_v AS (SELECT d.machine_id, string_agg(d.id || '.' || d.xmin::text
                            || COALESCE('/' || (SELECT string_agg(t.id || '.' || t.xmin::text || ':' ||
                                 COALESCE((SELECT string_agg(p.id || '.' || p.xmin::text, ',' ORDER BY p.id)
                                             FROM storage_partitions p WHERE p.partition_table_id = t.id), ''), ',' ORDER BY t.id)
                                 FROM storage_partition_tables t WHERE t.block_device_id = d.id), ''), ',' ORDER BY d.id) AS v
                      FROM storage_block_devices d WHERE d.machine_id IN (SELECT id FROM listed) GROUP BY 1),
       fs_v AS (SELECT f.machine_id, string_agg(f.id || '.' || f.xmin::text, ',' ORDER BY f.id) AS v
                  FROM storage_filesystems f WHERE f.machine_id IN (SELECT id FROM listed) GROUP BY 1),
       group_v AS (SELECT g.machine_id, string_agg(g.id || '.' || g.xmin::text, ',' ORDER BY g.id) AS v
                     FROM storage_filesystem_groups g WHERE g.machine_id IN (SELECT id FROM listed) GROUP BY 1),
       script_v AS (SELECT t.machine_id, string_agg(t.id || ':' || r.id || '.' || r.xmin::text || '.' ||
                            COALESCE(s.hardware_type::text, ''), ',' ORDER BY t.id, r.id) AS v
                      FROM (SELECT DISTINCT ON (machine_id, result_type) id, machine_id FROM script_sets
                             WHERE machine_id IN (SELECT id FROM listed) AND result_type IN (0, 1)
                             ORDER BY machine_id, result_type, id DESC) t
                      JOIN script_results r ON r.script_set_id = t.id LEFT JOIN scripts s ON s.id = r.script_id
                     GROUP BY 1),
       versions AS (SELECT m.id, m.domain, md5(concat_ws('|', m.xmin::text, u.username, ru.username, rg.name,
                z.id, z.name, z.description, p.id, p.name, p.description, r.system_id, r.name,
                tag_v.v, nic_v.v, parent_v.v, link_v.v, lease_v.v, device_v.v, fs_v.v, group_v.v, script_v.v)) AS v
         FROM machines m JOIN listed ON listed.id = m.id
         JOIN zones z ON z.id = m.zone_id
         LEFT JOIN users u ON u.id = m.owner_id
         LEFT JOIN users ru ON ru.id = m.reserved_user_id
         LEFT JOIN user_groups rg ON rg.id = m.reserved_group_id
         LEFT JOIN resource_pools p ON p.id = m.pool_id
         LEFT JOIN racks r ON r.id = m.rack_id
         LEFT JOIN tag_v ON tag_v.machine_id = m.id LEFT JOIN nic_v ON nic_v.machine_id = m.id
         LEFT JOIN parent_v ON parent_v.machine_id = m.id LEFT JOIN link_v ON link_v.machine_id = m.id
         LEFT JOIN lease_v ON lease_v.machine_id = m.id LEFT JOIN device_v ON device_v.machine_id = m.id
         LEFT JOIN fs_v ON fs_v.machine_id = m.id LEFT JOIN group_v ON group_v.machine_id = m.id
         LEFT JOIN script_v ON script_v.machine_id = m.id)
       -- One row of three strings, not a row per machine (see ListedMachines). Domain names hold
       -- no newline (DNS labels: letters, digits, hyphens).
       SELECT string_agg(id::text, ',' ORDER BY id) AS ids, string_agg(v, '' ORDER BY id) AS versions,
              string_agg(domain, E'\n' ORDER BY id) AS domains
         FROM versions`,
        params,
      ),
    () =>
      manager.query(
        `SELECT md5(concat_ws('|',
         (SELECT string_agg(concat_ws(',', s.id, s.name, s.cidr, s.vlan_id, s.gateway_ip, s.dns_servers::text), ';' ORDER BY s.id) FROM subnets s),
         (SELECT string_agg(concat_ws(',', v.id, v.fabric_id, v.vid, v.name, v.description, v.mtu, v.dhcp_on,
                   v.primary_rack_id, v.secondary_rack_id, v.space_id), ';' ORDER BY v.id) FROM vlans v),
         (SELECT string_agg(f.id || ',' || f.name, ';' ORDER BY f.id) FROM fabrics f),
         (SELECT string_agg(sp.id || ',' || sp.name, ';' ORDER BY sp.id) FROM spaces sp),
         (SELECT string_agg(r.id || ',' || r.system_id, ';' ORDER BY r.id) FROM racks r))) AS v`,
      ),
  ]);
  const row = rows[0]!;
  return ListedMachines.parse(shared[0]!.v, row.ids, row.versions, row.domains);
}

/** The listed machines' domains as views() gives them (a name with no domain row: id 0, no records). */
export async function domainRefs(manager: EntityManager, names: string[]): Promise<Map<string, DomainRef>> {
  const rows: Array<{
    id: number;
    name: string;
    ttl: number | null;
    authoritative: boolean;
    is_default: boolean;
    n: number;
  }> = await manager.query(
    `SELECT d.id, d.name, d.ttl, d.authoritative, d.is_default, ${domainRecordCountSql('d.name')} AS n
         FROM domains d WHERE d.name = ANY($1::text[])`,
    [names],
  );
  const byName = new Map(rows.map((r) => [r.name, r]));
  return new Map(
    names.map((name) => {
      const d = byName.get(name);
      return [
        name,
        {
          id: Number(d?.id ?? null),
          name,
          ttl: d?.ttl === null || d?.ttl === undefined ? null : Number(d.ttl),
          authoritative: Boolean(d?.authoritative),
          isDefault: Boolean(d?.is_default),
          resourceRecordCount: d?.n ?? 0,
        },
      ];
    }),
  );
}
