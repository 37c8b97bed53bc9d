// The boot root: the one directory tree the rack's HTTP and TFTP servers read files from. Both
// open files only through openInRoot, which refuses `..` and anything whose real path (symlinks
// resolved) lies outside the root: a link to /etc/shadow in the root is not served.
import { constants } from 'node:fs';
import fs, { type FileHandle } from 'node:fs/promises';
import path from 'node:path';

/** Where things live under the boot root. */
export function bootLayout(bootRoot: string): { root: string; tftpDir: string } {
  const root = path.resolve(bootRoot);
  // TFTP carries only the first-stage loaders and boot.ipxe (see firmware.ts); kernels and
  // initrds go over HTTP from the rest of the root.
  return { root, tftpDir: path.join(root, 'tftp') };
}

export type RootFile =
  | { ok: true; handle: FileHandle; size: number; mtime: Date; realPath: string }
  | { ok: false; reason: 'not-found' | 'forbidden'; detail: string };

/**
 * Opens `relative` (a `/`-separated path, already URL-decoded) under `root` for reading. The caller
 * closes the handle. Never throws for a bad or missing path; only for real I/O trouble.
 */
export async function openInRoot(root: string, relative: string): Promise<RootFile> {
  if (relative.includes('\0')) return { ok: false, reason: 'forbidden', detail: 'NUL in path' };
  const segments = relative.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.includes('..')) return { ok: false, reason: 'forbidden', detail: '".." in path' };

  let realRoot: string;
  let real: string;
  try {
    realRoot = await fs.realpath(root);
    real = await fs.realpath(path.join(realRoot, ...segments));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { ok: false, reason: 'not-found', detail: 'no such file' };
    if (code === 'ELOOP' || code === 'EACCES') return { ok: false, reason: 'forbidden', detail: code };
    throw err;
  }
  if (real !== realRoot && !real.startsWith(realRoot + path.sep)) {
    return { ok: false, reason: 'forbidden', detail: `resolves outside the boot root (${real})` };
  }

  let handle: FileHandle;
  try {
    // O_NOFOLLOW: a symlink swapped in after the realpath check is refused, not followed.
    handle = await fs.open(real, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { ok: false, reason: 'not-found', detail: 'no such file' };
    if (code === 'ELOOP' || code === 'EACCES' || code === 'EPERM')
      return { ok: false, reason: 'forbidden', detail: code };
    throw err;
  }
  const stat = await handle.stat().catch(async (err: unknown) => {
    await handle.close();
    throw err;
  });
  if (!stat.isFile()) {
    await handle.close();
    return { ok: false, reason: 'not-found', detail: 'not a regular file' };
  }
  return { ok: true, handle, size: stat.size, mtime: stat.mtime, realPath: real };
}
