// Boot resources: the images the region knows, MAAS's `boot-resources/`. They are the manifests
// the image builds write next to each image under the boot root, the same directory the racks
// serve over HTTP, so what the region lists is what a rack can hand to an installer:
//   <bootRoot>/images/rootfs/<os>/<series>/<arch>/metalflow.json  images/debian/build.sh: the real
//       Debian root filesystem (root-tgz): THE debian/bookworm, installed by
//       images/installer/install-to-disk.sh or run from RAM (ephemeral deploy)
//   <bootRoot>/images/os/<os>/<series>/<arch>/metalflow.json      raw disks written with dd: the
//       stand-in for fast tests (images/os/build.sh: custom/metalflow-standin, kernel + busybox)
// Only what a deploy can install is listed: a format metalflow has an installer for (INSTALLERS).
// Whether an image is deployable is metalflow's fact, not the image's, so a manifest's own
// `deployable`/`state` (older Debian builds still say `false`, written before the installer
// existed) is not read. Real images come first (the default deploy is the first), stand-ins after.
// Read from disk on demand (a few small files), so a rebuilt image is listed without a restart.
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
  /** Whether a deploy can use it: always true for a listed image (kept for the API's field). */
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
  role?: string;
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

/**
 * The formats metalflow can install, by a manifest's `format`, with MAAS's filetype: a raw disk
 * (the ephemeral environment's dd) and a root filesystem archive (install-to-disk.sh, or unpacked
 * into RAM for an ephemeral deploy). An image in any other format is not listed.
 */
const INSTALLERS: Record<string, string> = { 'raw.gz': 'root-dd.gz', 'root-tgz': 'root-tgz' };
export const STAND_IN_ROLE = 'stand-in for fast tests: kernel + busybox, no sshd, no cloud-init';
/** What only a real OS image can do: run from RAM with its own systemd and cloud-init. */
export const EPHEMERAL_FILETYPE = 'root-tgz';

function scan(bootRoot: string): BootResource[] {
  const found = [...scanTree(bootRoot, OS_ROOTFS_DIR), ...scanTree(bootRoot, OS_IMAGES_DIR)];
  // Real images before stand-ins (a deploy naming no image, and default_osystem, take the first),
  // then name and architecture.
  found.sort(
    (a, b) =>
      Number(a.role === STAND_IN_ROLE) - Number(b.role === STAND_IN_ROLE) ||
      a.name.localeCompare(b.name) ||
      a.architecture.localeCompare(b.architecture),
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
        const filetype = INSTALLERS[m.format ?? 'raw.gz'];
        if (!filetype) continue; // nothing here can install it: not listed
        const size = m.size ?? fs.statSync(path.join(dir, m.file)).size;
        const role = m.role ?? (filetype === 'root-dd.gz' ? STAND_IN_ROLE : 'deployable');
        found.push({
          name,
          os,
          series,
          architecture: m.architecture ?? `${arch}/generic`,
          title: titleOf(m.title ?? name, role),
          path: urlOf(m.file),
          filetype,
          deployable: true,
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

/** A stand-in's title says what it is, so no one mistakes it for an OS. */
function titleOf(title: string, role: string): string {
  return role === STAND_IN_ROLE && !/stand-in/i.test(title) ? `Stand-in for fast tests: ${title}` : title;
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
