import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tftp from 'tftp';
import { bootScript, httpBase } from '../../../src/rack/boot/ipxe-script';
import { startTftpServer, tftpPath, type RunningTftp } from '../../../src/rack/boot/tftp-server';
import { freePort } from '../../helpers/bmc/peers';
import { makeBootRoot, type BootRootFixture } from './boot-fixtures';

/** Fetches a file with the npm tftp client (what the library's own users do). */
function fetchFile(
  port: number,
  file: string,
  o: tftp.ClientOptions = {},
): Promise<{ data: Buffer; stats: tftp.TransferStats }> {
  return new Promise((resolve, reject) => {
    const client = tftp.createClient({ host: '127.0.0.1', port, retries: 3, timeout: 1000, ...o });
    const chunks: Buffer[] = [];
    let stats: tftp.TransferStats | undefined;
    const get = client.createGetStream(file);
    get.on('stats', (s) => (stats = s));
    get.on('data', (c) => chunks.push(c));
    get.on('error', reject);
    get.on('abort', () => reject(new Error('aborted')));
    get.on('end', () => resolve({ data: Buffer.concat(chunks), stats: stats! }));
  });
}

// --- Raw packets, for what the npm client will not send. ---
type Packet = {
  op: number;
  block?: number;
  code?: number;
  text?: string;
  data?: Buffer;
  options?: Record<string, string>;
  port: number;
};

function rrq(file: string, options: Record<string, string> = {}): Buffer {
  const parts = [file, 'octet', ...Object.entries(options).flat()];
  return Buffer.concat([Buffer.from([0, 1]), ...parts.map((p) => Buffer.from(`${p}\0`, 'latin1'))]);
}
const ack = (block: number) => Buffer.from([0, 4, block >> 8, block & 0xff]);

function parse(msg: Buffer, port: number): Packet {
  const op = msg.readUInt16BE(0);
  if (op === 3) return { op, block: msg.readUInt16BE(2), data: msg.subarray(4), port };
  if (op === 5) return { op, code: msg.readUInt16BE(2), text: msg.subarray(4, msg.length - 1).toString(), port };
  if (op === 6) {
    const f = msg.subarray(2).toString('latin1').split('\0');
    const options: Record<string, string> = {};
    for (let i = 0; i + 1 < f.length; i += 2) options[f[i]!] = f[i + 1]!;
    return { op, options, port };
  }
  return { op, port };
}

class RawPeer {
  private queue: Packet[] = [];
  private waiting: ((p: Packet) => void) | undefined;
  private constructor(readonly socket: dgram.Socket) {
    socket.on('message', (msg, rinfo) => {
      const p = parse(msg, rinfo.port);
      if (this.waiting) {
        const w = this.waiting;
        this.waiting = undefined;
        w(p);
      } else this.queue.push(p);
    });
  }
  static async open(): Promise<RawPeer> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
    return new RawPeer(socket);
  }
  send(buf: Buffer, port: number): void {
    this.socket.send(buf, port, '127.0.0.1');
  }
  next(timeoutMs = 2000): Promise<Packet> {
    const queued = this.queue.shift();
    if (queued) return Promise.resolve(queued);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting = undefined;
        reject(new Error('no packet in time'));
      }, timeoutMs);
      this.waiting = (p) => {
        clearTimeout(timer);
        resolve(p);
      };
    });
  }
  /** Sends an RRQ to the server's request port; resolves with the first answer. */
  request(port: number, file: string, options: Record<string, string> = {}): Promise<Packet> {
    this.send(rrq(file, options), port);
    return this.next();
  }
  /** Receives the rest of a file from transfer port `tid`, ACKing each block `acksEach` times. */
  async receiveFile(tid: number, blksize: number, o: { have?: Buffer[]; acksEach?: number } = {}): Promise<Buffer> {
    const parts = [...(o.have ?? [])];
    let block = parts.length;
    for (;;) {
      for (let i = 0; i < (o.acksEach ?? 1); i++) this.send(ack(block & 0xffff), tid);
      const p = await this.next();
      assert.equal(p.op, 3, `after block ${block}: opcode ${p.op} ${p.text ?? ''}`);
      if (p.block !== ((block + 1) & 0xffff)) continue; // a repeat of what we have
      block++;
      parts.push(p.data!);
      if (p.data!.length < blksize) break;
    }
    this.send(ack(block & 0xffff), tid);
    return Buffer.concat(parts);
  }
  close(): void {
    this.socket.close();
  }
}

describe('TFTP server', () => {
  let fx: BootRootFixture;
  let server: RunningTftp;
  let port: number;
  const lines: string[] = [];
  let big: Buffer;

  before(async () => {
    fx = makeBootRoot();
    big = crypto.randomBytes(2 * 1024 * 1024 + 7);
    fs.writeFileSync(path.join(fx.root, 'tftp', 'big.bin'), big);
    port = await freePort('udp');
    server = await startTftpServer({
      root: path.join(fx.root, 'tftp'),
      host: '127.0.0.1',
      port,
      bootScript: ({ address }) => Promise.resolve(bootScript(httpBase(address, 5248))),
      log: (l) => lines.push(l),
    });
  });
  after(async () => {
    await server.close();
    fx.remove();
  });

  it('serves a file, with tsize and the block size the client asked for', async () => {
    const got = await fetchFile(port, 'undionly.kpxe');
    assert.ok(got.data.equals(fx.loader));
    assert.equal(got.stats.size, fx.loader.length);
    assert.equal(got.stats.blockSize, 1468);
    for (const blockSize of [512, 8192]) {
      const again = await fetchFile(port, 'undionly.kpxe', { blockSize, windowSize: 1 });
      assert.equal(again.stats.blockSize, blockSize);
      assert.ok(again.data.equals(fx.loader));
    }
    // Paths as firmware sends them.
    assert.ok((await fetchFile(port, '/ipxe.efi')).data.equals(fx.loader));
    assert.equal(tftpPath('\\boot\\undionly.kpxe'), 'boot/undionly.kpxe');
    // Empty files and links that stay inside work too.
    assert.equal((await fetchFile(port, 'empty.bin')).data.length, 0);
    assert.ok((await fetchFile(port, 'loader-link')).data.equals(fx.loader));
  });

  it('answers tsize in the OACK; a client that stops after it (as PXE ROMs do) does not hurt the server', async () => {
    const peer = await RawPeer.open();
    try {
      const oack = await peer.request(port, 'undionly.kpxe', { tsize: '0', blksize: '1456' });
      assert.equal(oack.op, 6);
      assert.deepEqual(oack.options, { blksize: '1456', tsize: String(fx.loader.length) });
      // "tsize query": the ROM aborts, then asks again for real.
      peer.send(Buffer.from([0, 5, 0, 8, ...Buffer.from('tsize query'), 0]), oack.port);
      const first = await peer.request(port, 'undionly.kpxe');
      assert.equal(first.op, 3);
      assert.equal(first.block, 1);
      assert.equal(first.data!.length, 512);
      peer.send(Buffer.from([0, 5, 0, 0, 0]), first.port);
    } finally {
      peer.close();
    }
    assert.ok((await fetchFile(port, 'undionly.kpxe')).data.equals(fx.loader));
  });

  it('boot.ipxe is rendered for the client: it chains to the HTTP boot server', async () => {
    for (const name of ['boot.ipxe', '/boot.ipxe']) {
      const got = await fetchFile(port, name);
      assert.match(got.data.toString(), /^#!ipxe\n/);
      assert.match(
        got.data.toString(),
        /^chain --replace http:\/\/127\.0\.0\.1:5248\/ipxe\/mac\/\$\{mac:hexhyp\}\.ipxe /m,
      );
      assert.equal(got.stats.size, got.data.length);
    }
  });

  it('refuses ../ traversal and symlinks that lead out of the root', async () => {
    const peer = await RawPeer.open();
    try {
      for (const file of [
        '../outside/secret',
        'a/../../outside/secret',
        '../../../../etc/passwd',
        '/../outside/secret',
        '..\\outside\\secret',
        'secret-link',
        'outside-dir/secret',
        'kernel-link',
      ]) {
        const reply = await peer.request(port, file, { tsize: '0' });
        assert.equal(reply.op, 5, `${file}: got opcode ${reply.op}, not an error`);
        assert.ok(
          reply.code === 1 || reply.code === 2 || reply.code === 0,
          `${file}: code ${reply.code} ${reply.text}`,
        );
      }
    } finally {
      peer.close();
    }
    await assert.rejects(fetchFile(port, 'secret-link'), /Access violation/);
    await assert.rejects(fetchFile(port, 'outside-dir/secret'), /Access violation/);
    await assert.rejects(fetchFile(port, 'no-such-file'), /File not found/);
  });

  it('is read-only: a WRQ gets an error and writes nothing', async () => {
    const client = tftp.createClient({ host: '127.0.0.1', port, retries: 1, timeout: 500 });
    const err = await new Promise<Error>((resolve) => {
      const put = client.createPutStream('uploaded.bin', { size: 4 });
      put.on('error', resolve);
      put.end(Buffer.from('evil'));
    });
    assert.match(err.message, /Cannot PUT files/);
    assert.equal(fs.existsSync(path.join(fx.root, 'tftp', 'uploaded.bin')), false);
  });

  it('20 concurrent transfers all arrive intact', async () => {
    const files = Array.from({ length: 20 }, (_, i) => (i % 4 === 0 ? 'big.bin' : 'undionly.kpxe'));
    const got = await Promise.all(files.map((f) => fetchFile(port, f)));
    got.forEach((g, i) =>
      assert.ok(g.data.equals(files[i] === 'big.bin' ? big : fx.loader), `transfer ${i} corrupted`),
    );
  });

  it('garbage on the request port, and on a transfer port from anyone, crashes nothing; transfers go on', async () => {
    const junk = await RawPeer.open();
    const peer = await RawPeer.open();
    try {
      const garbage = [
        Buffer.alloc(0),
        Buffer.from([1]),
        Buffer.from([0, 1]),
        crypto.randomBytes(600),
        Buffer.from([0, 9, 1, 2, 3, 4, 5, 6, 7, 8]),
        Buffer.from('\0\x01undionly.kpxe'), // no NULs after the name
        Buffer.from('\0\x01undionly.kpxe\0bogus\0'), // bad mode
        Buffer.from('\0\x01undionly.kpxe\0octet\0blksize\0abc\0'), // bad option value
        Buffer.from('\0\x01undionly.kpxe\0octet\0blksize\0'), // option without a value
        Buffer.from([0, 3, 0, 1, 0, 0, 0, 0, 0]), // DATA to the request port
        Buffer.from([0, 5, 0, 1, 0, 0, 0, 0, 0]), // ERROR to the request port
      ];
      for (let i = 0; i < 200; i++) garbage.push(crypto.randomBytes(1 + (i % 40)));
      for (const g of garbage) junk.send(g, port);

      // A transfer in progress (no options: 512-byte blocks, one at a time).
      const first = await peer.request(port, 'undionly.kpxe');
      assert.equal(first.op, 3);
      const tid = first.port;
      // A stranger is told "unknown transfer ID" and changes nothing. A socket of its own: the junk
      // socket may still hold replies to its garbage from an earlier transfer whose port the OS
      // has since given to this one.
      const outsider = await RawPeer.open();
      let stranger: Packet;
      try {
        outsider.send(Buffer.from([7]), tid);
        outsider.send(ack(1), tid);
        outsider.send(Buffer.from([0, 5, 0, 0, 0]), tid);
        do stranger = await outsider.next();
        while (stranger.port !== tid);
      } finally {
        outsider.close();
      }
      assert.equal(stranger.op, 5);
      assert.equal(stranger.code, 5);
      // Short and odd packets from the client itself are dropped or end only this transfer.
      peer.send(Buffer.alloc(0), tid);
      peer.send(Buffer.from([0]), tid);
      peer.send(Buffer.from([0, 4, 0]), tid);
      // The transfer goes on to the end.
      assert.ok((await peer.receiveFile(tid, 512, { have: [first.data!] })).equals(fx.loader));
    } finally {
      junk.close();
      peer.close();
    }
    // And the server still serves everyone.
    assert.ok((await fetchFile(port, 'undionly.kpxe')).data.equals(fx.loader));
  });

  it("a client that repeats every ACK still gets its file (no sorcerer's apprentice)", async () => {
    const peer = await RawPeer.open();
    try {
      for (const blksize of [512, 1024]) {
        const oack = await peer.request(port, 'big.bin', { blksize: String(blksize) });
        assert.equal(oack.op, 6);
        assert.ok(
          (await peer.receiveFile(oack.port, blksize, { acksEach: 2 })).equals(big),
          `blksize ${blksize}: file differs`,
        );
        while (await peer.next(100).catch(() => undefined)); // drain repeats
      }
    } finally {
      peer.close();
    }
  });

  it('an ACK the library does not expect (a retransmitted or forged one) ends at most that transfer', async () => {
    const peer = await RawPeer.open();
    try {
      // Duplicate ACKs at every step, as a client with a short timeout sends them.
      const oack = await peer.request(port, 'big.bin', { blksize: '1024', windowsize: '4' });
      assert.equal(oack.op, 6);
      for (let i = 0; i < 50; i++) peer.send(ack(i % 5), oack.port);
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      peer.close();
    }
    assert.ok((await fetchFile(port, 'undionly.kpxe')).data.equals(fx.loader));
  });

  it('windowsize (RFC 7440): the OACK carries the agreed window and that many DATA blocks come per ACK; without it, lock-step', async () => {
    const peer = await RawPeer.open();
    const quiet = async (ms = 300) => {
      const extra = await peer.next(ms).catch(() => undefined);
      assert.equal(extra, undefined, `nothing more before the next ACK, got opcode ${extra?.op} block ${extra?.block}`);
    };
    const blocks = async (n: number) => {
      const got: number[] = [];
      for (let i = 0; i < n; i++) {
        const p = await peer.next();
        assert.equal(p.op, 3, `opcode ${p.op} ${p.text ?? ''}`);
        got.push(p.block!);
      }
      return got;
    };
    try {
      // windowsize=4: after the OACK's ACK, blocks 1-4 arrive without any ACK in between; then the
      // server waits; ACK 4 opens the next window.
      const oack = await peer.request(port, 'big.bin', { blksize: '512', windowsize: '4' });
      assert.equal(oack.op, 6);
      assert.deepEqual(oack.options, { blksize: '512', windowsize: '4' });
      peer.send(ack(0), oack.port);
      assert.deepEqual(await blocks(4), [1, 2, 3, 4]);
      await quiet();
      peer.send(ack(4), oack.port);
      assert.deepEqual(await blocks(4), [5, 6, 7, 8]);
      await quiet();
      peer.send(Buffer.from([0, 5, 0, 0, 0]), oack.port);

      // More than the server's maximum (16) is cut down to it, in the OACK and on the wire.
      const capped = await peer.request(port, 'big.bin', { blksize: '512', windowsize: '64' });
      assert.deepEqual(capped.options, { blksize: '512', windowsize: '16' });
      peer.send(ack(0), capped.port);
      assert.deepEqual(
        await blocks(16),
        Array.from({ length: 16 }, (_, i) => i + 1),
      );
      await quiet();
      peer.send(Buffer.from([0, 5, 0, 0, 0]), capped.port);

      // No windowsize asked for: the OACK has none and every block waits for its ACK.
      const plain = await peer.request(port, 'big.bin', { blksize: '512' });
      assert.deepEqual(plain.options, { blksize: '512' });
      for (let block = 0; block < 3; block++) {
        peer.send(ack(block), plain.port);
        assert.deepEqual(await blocks(1), [block + 1]);
        await quiet();
      }
      peer.send(Buffer.from([0, 5, 0, 0, 0]), plain.port);

      // No options at all (no OACK): block 1 at once, then one block per ACK.
      const first = await peer.request(port, 'big.bin');
      assert.equal(first.op, 3);
      assert.equal(first.block, 1);
      await quiet();
      peer.send(ack(1), first.port);
      assert.deepEqual(await blocks(1), [2]);
      await quiet();
      peer.send(Buffer.from([0, 5, 0, 0, 0]), first.port);
    } finally {
      peer.close();
    }
    assert.ok((await fetchFile(port, 'undionly.kpxe')).data.equals(fx.loader));
  });

  it('logs one line per transfer', () => {
    assert.ok(
      lines.some((l) => /^tftp: 127\.0\.0\.1:\d+ RRQ undionly\.kpxe done \d+ ms$/.test(l)),
      lines.slice(0, 5).join('\n'),
    );
    assert.ok(lines.some((l) => /RRQ secret-link refused \(resolves outside/.test(l)));
  });

  it('close() aborts transfers in flight and frees the port', async () => {
    const p2 = await freePort('udp');
    const second = await startTftpServer({
      root: path.join(fx.root, 'tftp'),
      host: '127.0.0.1',
      port: p2,
      bootScript: () => Promise.resolve(''),
      log: () => undefined,
    });
    const slow = fetchFile(p2, 'big.bin', { blockSize: 512, windowSize: 1 });
    await new Promise((r) => setTimeout(r, 50));
    await second.close();
    await assert.rejects(slow);
    const again = await startTftpServer({
      root: path.join(fx.root, 'tftp'),
      host: '127.0.0.1',
      port: p2,
      bootScript: () => Promise.resolve(''),
      log: () => undefined,
    });
    await again.close();
  });
});
