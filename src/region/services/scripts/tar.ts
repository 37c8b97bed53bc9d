// A POSIX ustar archive writer (what Python's tarfile, MAAS's and the ephemeral environment's
// reader, reads): regular files only. A path longer than ustar's 100 bytes gets a GNU long-name
// entry first, as tarfile writes one.

export interface TarEntry {
  path: string;
  data: Buffer;
  /** Unix permission bits: 0o755 for scripts, 0o644 for data. */
  mode: number;
  mtime: Date;
}

const BLOCK = 512;

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, '0')}\0`;
}

function header(name: Buffer, size: number, mode: number, mtime: number, type: string): Buffer {
  const h = Buffer.alloc(BLOCK);
  name.copy(h, 0, 0, Math.min(name.length, 100));
  h.write(octal(mode, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(mtime, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write(type, 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write('root', 265, 'ascii');
  h.write('root', 297, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

const padding = (size: number) => Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);

export function tarArchive(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    // Names are checked where they are accepted (file-names.ts); an entry that would still unpack
    // outside the reader's directory is a bug, not an archive to hand out.
    if (e.path.startsWith('/') || e.path.split('/').some((s) => s === '..' || s === ''))
      throw new Error(`tar entry '${e.path}' would unpack outside its directory`);
    const name = Buffer.from(e.path, 'utf8');
    const mtime = Math.floor(e.mtime.getTime() / 1000);
    if (name.length > 100) {
      const long = Buffer.concat([name, Buffer.from([0])]);
      parts.push(header(Buffer.from('././@LongLink'), long.length, 0o644, mtime, 'L'), long, padding(long.length));
    }
    parts.push(header(name, e.data.length, e.mode, mtime, '0'), e.data, padding(e.data.length));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}
