// Property tests of the TFTP server's request handling: arbitrary datagrams on the request port
// and on a transfer's port never crash the rack (an uncaught throw in a UDP handler would end
// this process, failing the run), the server keeps serving afterwards, and no requested name,
// however built from ../, backslashes, symlinks and junk, reads a byte from outside the root.
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import * as tftp from 'tftp';
import { startTftpServer, tftpPath, type RunningTftp } from '../../../src/rack/boot/tftp-server';
import { freePort } from '../../helpers/bmc/peers';
import { makeBootRoot, SECRET_TEXT, type BootRootFixture } from '../rack/boot-fixtures';

const REPLY_WAIT_MS = 3000;

/** A UDP socket that collects what comes back, to read the server's first answer to a request. */
async function openPeer() {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  const inbox: Array<{ msg: Buffer; port: number }> = [];
  let wake: (() => void) | undefined;
  socket.on('message', (msg, rinfo) => {
    inbox.push({ msg, port: rinfo.port });
    wake?.();
  });
  return {
    send: (buf: Buffer, port: number) => socket.send(buf, port, '127.0.0.1'),
    /** The next datagram; rejects if none comes (a request the server never answered). */
    next: async (): Promise<{ msg: Buffer; port: number }> => {
      if (!inbox.length) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('no answer from the TFTP server')), REPLY_WAIT_MS);
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        wake = undefined;
      }
      return inbox.shift()!;
    },
    close: () => socket.close(),
  };
}

function fetchFile(port: number, file: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const client = tftp.createClient({ host: '127.0.0.1', port, retries: 3, timeout: 1000 });
    const chunks: Buffer[] = [];
    const get = client.createGetStream(file);
    get.on('data', (c: Buffer) => chunks.push(c));
    get.on('error', reject);
    get.on('end', () => resolve(Buffer.concat(chunks)));
  });
}

const rrq = (file: string, mode = 'octet', options: string[] = []) =>
  Buffer.concat([Buffer.from([0, 1]), ...[file, mode, ...options].map((p) => Buffer.from(`${p}\0`, 'latin1'))]);
const ERROR_TO_STOP = Buffer.from([0, 5, 0, 0, ...Buffer.from('stop'), 0]);

/** Datagrams as a confused client or an attacker would send them. */
const datagram = fc.oneof(
  fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)),
  fc
    .record({
      op: fc.integer({ min: 0, max: 9 }),
      rest: fc.uint8Array({ maxLength: 60 }),
    })
    .map(({ op, rest }) => Buffer.concat([Buffer.from([0, op]), Buffer.from(rest)])),
  fc
    .record({
      file: fc.string({ maxLength: 30 }),
      mode: fc.constantFrom('octet', 'netascii', 'mail', 'OCTET', '', 'x'),
      options: fc.array(
        fc.constantFrom('blksize', 'tsize', 'timeout', 'windowsize', '0', '8', '65464', '99999999', '-1', 'abc', ''),
        { maxLength: 6 },
      ),
      cut: fc.nat(80),
    })
    .map(({ file, mode, options, cut }) => {
      const whole = rrq(file, mode, options);
      return cut < whole.length ? whole.subarray(0, cut) : whole;
    }),
);

const nameSegment = fc.constantFrom(
  '..',
  '.',
  '',
  'tftp',
  'outside',
  'outside-dir',
  'secret',
  'secret-link',
  'kernel-link',
  'undionly.kpxe',
  'images',
  '%2e%2e',
  '...',
  'a',
);
const requestedName = fc
  .record({
    segments: fc.array(nameSegment, { minLength: 1, maxLength: 6 }),
    sep: fc.constantFrom('/', '\\'),
    lead: fc.constantFrom('', '/', '\\', '//'),
  })
  .map(({ segments, sep, lead }) => lead + segments.join(sep));

describe('TFTP server (property)', () => {
  let fx: BootRootFixture;
  let server: RunningTftp;
  let port: number;

  before(async () => {
    fx = makeBootRoot();
    port = await freePort('udp');
    server = await startTftpServer({
      root: path.join(fx.root, 'tftp'),
      host: '127.0.0.1',
      port,
      bootScript: () => Promise.resolve('#!ipxe\n'),
      log: () => undefined,
    });
  });
  after(async () => {
    await server.close();
    fx.remove();
  });

  it('tftpPath never leaves a leading slash or a backslash', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('/', '\\', 'a', '.', ':'), maxLength: 20 }), (file) => {
        const p = tftpPath(file);
        assert.ok(!p.startsWith('/') && !p.includes('\\'), p);
      }),
      { numRuns: 300 },
    );
  });

  it('arbitrary datagrams on the request port and on a transfer port crash nothing; the server keeps serving', async () => {
    const junk = await openPeer();
    const client = await openPeer();
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.array(datagram, { minLength: 1, maxLength: 10 }),
          fc.array(datagram, { maxLength: 5 }),
          async (toServer, toTransfer) => {
            for (const d of toServer) junk.send(d, port);
            // A transfer in progress receives the same kind of junk, from its own client and from a stranger.
            client.send(rrq('undionly.kpxe'), port);
            let first: { msg: Buffer; port: number };
            do first = await client.next();
            while (first.port === port);
            for (const d of toTransfer) {
              client.send(d, first.port);
              junk.send(d, first.port);
            }
            client.send(ERROR_TO_STOP, first.port);
          },
        ),
        { numRuns: 30 },
      );
    } finally {
      junk.close();
      client.close();
    }
    assert.ok((await fetchFile(port, 'undionly.kpxe')).equals(fx.loader));
  });

  it('no requested name reads outside the root: the answer is an error or a file of the root', async () => {
    const peer = await openPeer();
    try {
      await fc.assert(
        fc.asyncProperty(requestedName, async (name) => {
          peer.send(rrq(name), port);
          const reply = await peer.next();
          const op = reply.msg.readUInt16BE(0);
          assert.ok(op === 3 || op === 5, `${name}: opcode ${op}`);
          if (op === 3) {
            assert.ok(!reply.msg.subarray(4).toString('latin1').includes(SECRET_TEXT), `${name} read the secret`);
            peer.send(ERROR_TO_STOP, reply.port);
          }
        }),
        { numRuns: 80 },
      );
    } finally {
      peer.close();
    }
  });
});
