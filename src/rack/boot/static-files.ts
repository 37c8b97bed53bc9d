// Files from the boot root over HTTP: kernels, initrds, ipxe.efi. Streamed from the open file,
// with Content-Length, HEAD and single byte ranges (iPXE and UEFI HTTP boot use plain GETs; curl
// and resumable downloads use ranges).
import type http from 'node:http';
import { pipeline } from 'node:stream/promises';
import { openInRoot } from './boot-root';

export type ByteRange = { start: number; end: number };

/**
 * A `Range: bytes=…` header against a file of `size` bytes: the range to send, 'unsatisfiable'
 * (416), or undefined to send the whole file (no header, another unit, or several ranges, which
 * a server may answer with the full file).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'unsatisfiable' | undefined {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header?.trim() ?? '');
  if (!m) return undefined;
  const [, first = '', last = ''] = m;
  if (first === '' && last === '') return undefined;
  if (first === '') {
    // Suffix range: the last n bytes.
    const n = Number(last);
    if (n === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - n), end: size - 1 };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (start >= size || end < start) return 'unsatisfiable';
  return { start, end };
}

const TYPES: Record<string, string> = {
  ipxe: 'text/plain; charset=utf-8',
  cfg: 'text/plain; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
};

function contentType(file: string): string {
  const ext = /\.([a-z0-9]+)$/i.exec(file)?.[1]?.toLowerCase() ?? '';
  return TYPES[ext] ?? 'application/octet-stream';
}

/** Answers a GET or HEAD for `relative` under `root`; returns a short note for the request log. */
export async function serveFile(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  root: string,
  relative: string,
): Promise<string> {
  const file = await openInRoot(root, relative);
  if (!file.ok) {
    const status = file.reason === 'not-found' ? 404 : 403;
    res
      .writeHead(status, { 'content-type': 'text/plain; charset=utf-8' })
      .end(`${status === 404 ? 'Not found' : 'Forbidden'}: ${req.url ?? ''}\n`);
    return file.detail;
  }
  const { handle, size } = file;
  let streaming = false;
  try {
    const headers: http.OutgoingHttpHeaders = {
      'content-type': contentType(relative),
      'accept-ranges': 'bytes',
      'last-modified': file.mtime.toUTCString(),
    };
    const range = parseRange(req.headers.range, size);
    if (range === 'unsatisfiable') {
      res.writeHead(416, { ...headers, 'content-range': `bytes */${size}`, 'content-length': 0 }).end();
      return 'range not satisfiable';
    }
    const { start, end } = range ?? { start: 0, end: size - 1 };
    const length = size === 0 ? 0 : end - start + 1;
    if (range) headers['content-range'] = `bytes ${start}-${end}/${size}`;
    res.writeHead(range ? 206 : 200, { ...headers, 'content-length': length });
    if (req.method === 'HEAD' || length === 0) {
      res.end();
      return '';
    }
    // The stream owns the handle from here and closes it, also when the client goes away.
    const stream = handle.createReadStream({ start, end, autoClose: true });
    streaming = true;
    await pipeline(stream, res).catch(() => undefined);
    return res.writableFinished ? '' : 'client went away';
  } finally {
    if (!streaming) await handle.close().catch(() => undefined);
  }
}
