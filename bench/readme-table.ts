// bench/README.md's table (issue 17 item 5): the latest number of every benchmark beside its
// target, with the date, commit and machine load it was measured at, rendered from the
// bench/results/<name>.json files `npm run bench` writes — so the table says what was measured, not
// what someone remembered. Pure: bench/write-readme.ts reads the files and writes the README;
// test/unit/bench-readme.test.ts renders a fixture.

type Json = Record<string, unknown>;

/** The value at a dotted path, or undefined when any step is missing. */
export function pick(result: Json, dotted: string): unknown {
  let v: unknown = result;
  for (const key of dotted.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Json)[key];
  }
  return v;
}

interface Row {
  what: string;
  bench: string;
  target: string;
  /**
   * The measured numbers as one short line; parts whose field is missing are left out. With a
   * second path, "label a / b unit" (e.g. orchestrated / bare).
   */
  now: Array<[label: string, path: string, unit: string, versus?: string]>;
}

/** Issue 17's figures (and the earlier benches') as rows; the targets are the issues' own. */
export const ROWS: Row[] = [
  {
    what: 'admin `GET machines/` at 10,000 machines',
    bench: 'list-machines',
    target: 'p99 ≤ 300 ms, ≤ 0.2 API CPU-s/request, RSS peak ≤ 250 MiB',
    now: [
      ['p50', 'admin.latency_ms.p50', ' ms'],
      ['p99', 'admin.latency_ms.p99', ' ms'],
      ['', 'admin.api_cpu_seconds_per_request', ' CPU-s'],
      ['RSS peak', 'admin.api_rss_mib.peak_sampled', ' MiB'],
    ],
  },
  {
    what: '4 concurrent admin listings',
    bench: 'list-machines',
    target: 'p50 ≤ 800 ms',
    now: [
      ['p50', 'admin_4_concurrent.latency_ms.p50', ' ms'],
      ['RSS peak', 'admin_4_concurrent.api_rss_peak_mib', ' MiB'],
    ],
  },
  {
    what: '`GET version/` while a listing runs',
    bench: 'list-machines',
    target: 'p99 ≤ 20 ms',
    now: [
      ['p99', 'other_requests_during_admin_listing.during_admin_listing_ms.p99', ' ms'],
      ['max', 'other_requests_during_admin_listing.during_admin_listing_ms.max', ' ms'],
      ['idle p50', 'other_requests_during_admin_listing.idle_ms.p50', ' ms'],
    ],
  },
  {
    what: '1,000 machines commissioned (fake power)',
    bench: 'commission-1000',
    target: '≥ 20 workflows/s; ≤ 0.1 CPU-s per commissioning, all processes',
    now: [
      ['', 'workflows_per_second', ' workflows/s'],
      ['ready', 'ready', ''],
      ['API CPU-s/machine', 'cpu_seconds_per_machine.api', ''],
      ['worker', 'cpu_seconds_per_machine.worker', ''],
      ['temporal', 'cpu_seconds_per_machine.temporal', ''],
    ],
  },
  {
    what: '`op=commission` latency, 50 in flight',
    bench: 'commission-1000',
    target: 'p99 ≤ 250 ms',
    now: [
      ['p50', 'commission_requests.latency_ms.p50', ' ms'],
      ['p99', 'commission_requests.latency_ms.p99', ' ms'],
    ],
  },
  {
    what: '`whoami` under abusive listings',
    bench: 'whoami-under-abuse',
    target: 'p99 < 100 ms',
    now: [
      ['p50', 'whoami_under_abuse_ms.p50', ' ms'],
      ['p99', 'whoami_under_abuse_ms.p99', ' ms'],
    ],
  },
  {
    what: 'DHCP DORA/s at ≤ 2.5 % loss',
    bench: 'dhcp',
    target: 'recorded against dnsmasq and kea in the same run',
    now: [
      ['metalflow', 'servers.metalflow.max_dora_per_second', '/s'],
      ['dnsmasq', 'servers.dnsmasq.max_dora_per_second', '/s'],
      ['ratio', 'ratios.metalflow_vs_dnsmasq', '×'],
    ],
  },
  {
    what: 'TFTP, one 64 MiB file',
    bench: 'tftp',
    target: 'recorded against tftpd-hpa and dnsmasq in the same run',
    now: [
      ['metalflow', 'servers.metalflow.single_64mib.mb_per_s_median', ' MB/s'],
      ['tftpd-hpa', 'servers.tftpd-hpa.single_64mib.mb_per_s_median', ' MB/s'],
    ],
  },
  {
    what: 'real VM deploy (stand-in image), per phase',
    bench: 'deploy',
    target: 'recorded',
    now: [
      ['create + commission', 'phases_seconds.create + commission', ' s'],
      ['deploy', 'phases_seconds.deploy', ' s'],
      ['release', 'phases_seconds.release (quick erase)', ' s'],
    ],
  },
  {
    what: 'real VM commissioning vs its bare netboot',
    bench: 'commission-real',
    target: 'ratio ≤ 1.2',
    now: [
      ['orchestrated', 'orchestrated_total_seconds', ' s'],
      ['bare', 'bare_total_seconds', ' s'],
      ['ratio', 'ratio', '×'],
    ],
  },
  {
    what: 'real VM commissioning per phase, orchestrated / bare (s)',
    bench: 'commission-real',
    target: '— (where the ratio goes)',
    now: (
      [
        'power_command',
        'firmware_to_dhcp',
        'dhcp',
        'loader_scripts',
        'kernel_initrd_fetch',
        'kernel_boot_to_env_up',
        'env_up_to_report_received',
        'report_to_vm_off',
        'vm_off_to_done',
      ] as const
    ).map((phase) => [phase, `orchestrated.phases.${phase}`, '', `bare.phases.${phase}`]),
  },
  {
    what: 'real Debian deploy (SeaBIOS) vs plain boot',
    bench: 'deploy-real-bios',
    target: 'recorded',
    now: [
      ['deploy', 'total_seconds', ' s'],
      ['plain boot → SSH', 'plain_boot_to_ssh_seconds', ' s'],
      ['ratio', 'overhead_ratio', '×'],
    ],
  },
  {
    what: 'real Debian deploy (OVMF) vs plain boot',
    bench: 'deploy-real-uefi',
    target: 'recorded',
    now: [
      ['deploy', 'total_seconds', ' s'],
      ['plain boot → SSH', 'plain_boot_to_ssh_seconds', ' s'],
      ['ratio', 'overhead_ratio', '×'],
    ],
  },
];

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function numbers(row: Row, result: Json): string {
  const parts = row.now
    .map(([label, p, unit, versus]) => {
      const shown = (x: unknown) => (typeof x === 'number' || typeof x === 'string' ? String(x) : undefined);
      const v = shown(pick(result, p));
      if (v === undefined) return undefined;
      const both = versus === undefined ? v : `${v} / ${shown(pick(result, versus)) ?? '?'}`;
      return `${label ? `${label} ` : ''}${both}${unit}`;
    })
    .filter((x): x is string => x !== undefined);
  return parts.length ? parts.join(', ') : 'no such figures in the result (the bench changed?)';
}

/** When, at what commit, and how busy the machine was: the figures mean nothing without it. */
function measured(result: Json): [string, string, string] {
  const date = String(pick(result, 'environment.date') ?? '?')
    .slice(0, 16)
    .replace('T', ' ');
  const commit = pick(result, 'environment.git_commit');
  const modified = pick(result, 'environment.src_modified') === true ? ' + local changes' : '';
  const other = pick(result, 'machine_load.other_processes_cpu_seconds');
  const seconds = pick(result, 'bench_seconds');
  const quiet = pick(result, 'machine_load.quiet');
  const load =
    typeof other === 'number' && typeof seconds === 'number'
      ? `${quiet === true ? 'quiet' : 'busy'}: others ${other} CPU-s in ${seconds} s`
      : 'not recorded';
  return [date, typeof commit === 'string' ? `${commit.slice(0, 8)}${modified}` : '?', load];
}

/**
 * The table: one line per row whose benchmark has a result, then every other result (its summary
 * lines, no target), then the rows never measured here. A result with ok=false says so. A
 * benchmark with no result in this checkout (results are not in git) keeps its lines from
 * `previous`, the table as it was, so one run does not erase another checkout's figures.
 */
export function renderBenchTable(results: Record<string, Json>, previous = ''): string {
  const lines = [
    '| what | now | target | bench | measured (UTC) | commit | machine load |',
    '|---|---|---|---|---|---|---|',
  ];
  const line = (what: string, now: string, target: string, bench: string, r: Json) => {
    const failed = r.ok === false ? ` **(failed: ${String(r.error ?? 'a correctness check').split('\n')[0]})**` : '';
    lines.push(`| ${[what, now + failed, target, `\`${bench}\``, ...measured(r)].map(cell).join(' | ')} |`);
  };
  const covered = new Set(ROWS.map((r) => r.bench));
  const carried = new Set<string>();
  for (const row of ROWS) {
    const r = results[row.bench];
    if (r) line(row.what, numbers(row, r), row.target, row.bench, r);
    else if (!carried.has(row.bench)) {
      const earlier = linesOf(previous, row.bench);
      if (earlier.length) carried.add(row.bench);
      lines.push(...earlier);
    }
  }
  for (const [name, r] of Object.entries(results).sort(([a], [b]) => a.localeCompare(b))) {
    if (covered.has(name) || name === 'summary') continue;
    const summary = Array.isArray(r.summary) ? (r.summary as unknown[]).map(String).join('; ') : 'no summary recorded';
    line(
      String(r.description ?? name)
        .split('.')[0]!
        .slice(0, 80),
      summary,
      '—',
      name,
      r,
    );
  }
  const missing = [
    ...new Set(ROWS.filter((row) => !results[row.bench] && !carried.has(row.bench)).map((row) => row.bench)),
  ];
  if (missing.length)
    lines.push('', `Not measured in this checkout yet: ${missing.map((m) => `\`${m}\``).join(', ')}.`);
  return `${lines.join('\n')}\n`;
}

/** A table's lines for one benchmark (its bench cell, the fourth). */
function linesOf(table: string, bench: string): string[] {
  return table.split('\n').filter((l) => l.startsWith('| ') && l.split(' | ')[3] === `\`${bench}\``);
}

export const BEGIN = '<!-- bench-table: generated by bench/write-readme.ts from bench/results/*.json; do not edit -->';
export const END = '<!-- /bench-table -->';

/** The README with its table replaced (or appended when the markers are not there yet). */
export function withTable(readme: string, table: string): string {
  const block = `${BEGIN}\n${table}${END}`;
  const a = readme.indexOf(BEGIN);
  const b = readme.indexOf(END);
  if (a >= 0 && b > a) return readme.slice(0, a) + block + readme.slice(b + END.length);
  return `${readme.trimEnd()}\n\n${block}\n`;
}

/** The README's generated table as it is ('' when it has none). */
export function tableOf(readme: string): string {
  const a = readme.indexOf(BEGIN);
  const b = readme.indexOf(END);
  return a >= 0 && b > a ? readme.slice(a + BEGIN.length, b) : '';
}
