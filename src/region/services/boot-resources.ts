// Boot resources: the images the region knows, MAAS's `boot-resources/`. They are the manifests
// the image builds write next to each image under the boot root, the same directory the racks
// serve over HTTP, so what the region lists is what a rack can hand to an installer:
//   <bootRoot>/images/os/<os>/<series>/<arch>/metalflow.json      images/os/build.sh: the raw-disk
//       stand-in for fast tests (kernel + busybox), what deploys write today
//   <bootRoot>/images/rootfs/<os>/<series>/<arch>/metalflow.json  images/debian/build.sh: the real
//       Debian root filesystem (root-tgz); its manifest says `deployable: false` until the
//       installer that lays it on disk exists (issue 13 part 2)
// Every image is listed, each saying whether a deploy can use it; only deployable ones resolve
// a deploy's distro_series. Read from disk on demand (a few small files), so a rebuilt image is
// listed without a restart.
import fs from 'node:fs';
import path from 'node:path';
import { OS_IMAGE_MANIFEST, OS_IMAGES_DIR, OS_ROOTFS_DIR } from '../../contracts/boot';
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
  /** MAAS's filetype of that file: root-dd.gz (a raw disk), root-tgz (a root filesystem). */
  filetype: string;
  /** Whether a deploy can use it (resolve and named see only these). */
  deployable: boolean;
  /** What it is for, in words: the listing says it, so no one mistakes the stand-in for an OS. */
  role: string;
  /** Every file of the image (the root archive, and a real image's kernel and initrd). */
  files: BootResourceFile[];
  size: number;
  sha256: string;
  rawSize: number;
  rawSha256: string;
  built: string;
}

export interface BootResourceFile {
  filename: string;
  filetype: string;
  size: number;
  sha256: string;
  path: string;
}

interface Manifest {
  name?: string;
  title?: string;
  architecture?: string;
  deployable?: boolean;
  role?: string;
  state?: string;
  format?: string;
  files?: Record<string, { filetype?: string; size?: number; sha256?: string }>;
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
    const forArch = this.list().filter((r) => r.deployable && r.architecture.split('/')[0] === arch);
    if (!series) return forArch[0];
    return forArch.find((r) => r.name === series || r.series === series);
  }

  /**
   * The image a deployment resolved to (`os/series`, which MachineActions.deploy stores on the
   * machine): looked up by exactly that name, never by series alone, which two OSes may share.
   */
  named(name: string, arch = 'amd64'): BootResource | undefined {
    return this.list().find((r) => r.deployable && r.name === name && r.architecture.split('/')[0] === arch);
  }
}

/** MAAS's filetype for a manifest's `format`. */
const FILETYPES: Record<string, string> = { 'raw.gz': 'root-dd.gz', 'root-tgz': 'root-tgz' };
const STAND_IN_ROLE = 'stand-in for fast tests: kernel + busybox, no sshd, no cloud-init';

function scan(bootRoot: string): BootResource[] {
  const found = [...scanTree(bootRoot, OS_IMAGES_DIR), ...scanTree(bootRoot, OS_ROOTFS_DIR)];
  // Name, then architecture; a deployable image before one that is not, so ids stay put when a
  // not-yet-deployable image of the same name appears.
  found.sort(
    (a, b) =>
      a.name.localeCompare(b.name) ||
      a.architecture.localeCompare(b.architecture) ||
      Number(b.deployable) - Number(a.deployable),
  );
  return found.map((r, i) => ({ id: i + 1, ...r }));
}

function scanTree(bootRoot: string, tree: string): Array<Omit<BootResource, 'id'>> {
  const base = path.join(bootRoot, tree);
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
        const name = `${os}/${series}`;
        const urlOf = (file: string) => `/${path.posix.join(tree, os, series, arch, file)}`;
        const filetype = FILETYPES[m.format ?? 'raw.gz'] ?? m.format ?? 'root-dd.gz';
        const size = m.size ?? fs.statSync(path.join(dir, m.file)).size;
        const deployable = m.deployable !== false;
        const role = roleOf(m, deployable, filetype);
        found.push({
          name,
          os,
          series,
          architecture: m.architecture ?? `${arch}/generic`,
          title: role === STAND_IN_ROLE ? `Stand-in for fast tests: ${m.title ?? name}` : (m.title ?? name),
          path: urlOf(m.file),
          filetype,
          deployable,
          role,
          files: m.files
            ? Object.entries(m.files).map(([filename, f]) => ({
                filename,
                filetype: f.filetype ?? filename,
                size: f.size ?? 0,
                sha256: f.sha256 ?? '',
                path: urlOf(filename),
              }))
            : [{ filename: m.file, filetype, size, sha256: m.sha256, path: urlOf(m.file) }],
          size,
          sha256: m.sha256,
          rawSize: m.raw_size ?? 0,
          rawSha256: m.raw_sha256 ?? '',
          built: m.built ?? '',
        });
      }
    }
  }
  return found;
}

/**
 * What an image is for. A raw disk (images/os/build.sh's format) is only ever the stand-in, whose
 * manifest predates roles; a real image that cannot be deployed yet says why in its `state`.
 */
function roleOf(m: Manifest, deployable: boolean, filetype: string): string {
  if (m.role) return m.role;
  if (!deployable) return m.state ?? 'not deployable';
  return filetype === 'root-dd.gz' ? STAND_IN_ROLE : 'deployable';
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
