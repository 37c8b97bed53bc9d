// Boot resources: the deployable images the region knows, MAAS's `boot-resources/`. They are the
// manifests images/os/build.sh writes next to each image under the boot root
// (<bootRoot>/images/os/<os>/<series>/<arch>/metalflow.json), the same directory the racks serve
// over HTTP, so what the region lists is what a rack can hand to an installer. Read from disk on
// demand (a few small files), so a rebuilt image is listed without a restart.
import fs from 'node:fs';
import path from 'node:path';
import { OS_IMAGE_MANIFEST, OS_IMAGES_DIR } from '../../contracts/boot';
import { NotFoundError } from '../errors';

export interface BootResource {
  /** Stable for a given set of images: position in name order, from 1. */
  id: number;
  /** `os/series`, as MAAS names them: debian/bookworm. */
  name: string;
  os: string;
  series: string;
  /** MAAS style: amd64/generic. */
  architecture: string;
  title: string;
  /** The file on the rack's HTTP boot server (a path under the boot root). */
  path: string;
  filetype: string;
  size: number;
  sha256: string;
  rawSize: number;
  rawSha256: string;
  built: string;
}

interface Manifest {
  name?: string;
  title?: string;
  architecture?: string;
  file?: string;
  size?: number;
  sha256?: string;
  raw_size?: number;
  raw_sha256?: string;
  built?: string;
}

const CACHE_MS = 2_000;

export class BootResourceService {
  private cached: { at: number; list: BootResource[] } | undefined;

  constructor(private readonly bootRoot: string | undefined) {}

  list(): BootResource[] {
    if (this.cached && Date.now() - this.cached.at < CACHE_MS) return this.cached.list;
    const list = this.bootRoot ? scan(this.bootRoot) : [];
    this.cached = { at: Date.now(), list };
    return list;
  }

  get(id: number): BootResource {
    const found = this.list().find((r) => r.id === id);
    if (!found) throw new NotFoundError(`No BootResource matches the given query.`);
    return found;
  }

  /**
   * The image for a deploy's distro_series: `bookworm` or `debian/bookworm`; empty picks the
   * first (the default series). Undefined when the region has no such image.
   */
  resolve(series: string, arch = 'amd64'): BootResource | undefined {
    const forArch = this.list().filter((r) => r.architecture.split('/')[0] === arch);
    if (!series) return forArch[0];
    return forArch.find((r) => r.name === series || r.series === series);
  }

  /**
   * The image a deployment resolved to (`os/series`, which MachineActions.deploy stores on the
   * machine): looked up by exactly that name, never by series alone, which two OSes may share.
   */
  named(name: string, arch = 'amd64'): BootResource | undefined {
    return this.list().find((r) => r.name === name && r.architecture.split('/')[0] === arch);
  }
}

function scan(bootRoot: string): BootResource[] {
  const base = path.join(bootRoot, OS_IMAGES_DIR);
  const found: Array<Omit<BootResource, 'id'>> = [];
  for (const os of dirs(base)) {
    for (const series of dirs(path.join(base, os))) {
      for (const arch of dirs(path.join(base, os, series))) {
        const dir = path.join(base, os, series, arch);
        let m: Manifest;
        try {
          m = JSON.parse(fs.readFileSync(path.join(dir, OS_IMAGE_MANIFEST), 'utf8')) as Manifest;
        } catch {
          continue; // no manifest (or a half-written one): not a boot resource yet
        }
        if (!m.file || !m.sha256 || !fs.existsSync(path.join(dir, m.file))) continue;
        found.push({
          name: `${os}/${series}`,
          os,
          series,
          architecture: m.architecture ?? `${arch}/generic`,
          title: m.title ?? `${os}/${series}`,
          path: `/${path.posix.join(OS_IMAGES_DIR, os, series, arch, m.file)}`,
          filetype: 'root-dd.gz',
          size: m.size ?? fs.statSync(path.join(dir, m.file)).size,
          sha256: m.sha256,
          rawSize: m.raw_size ?? 0,
          rawSha256: m.raw_sha256 ?? '',
          built: m.built ?? '',
        });
      }
    }
  }
  found.sort((a, b) =>
    a.name === b.name ? a.architecture.localeCompare(b.architecture) : a.name.localeCompare(b.name),
  );
  return found.map((r, i) => ({ id: i + 1, ...r }));
}

function dirs(dir: string): string[] {
  try {
    return fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isDirectory() && /^[a-z0-9][a-z0-9._-]*$/i.test(d.name))
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}
