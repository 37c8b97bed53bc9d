// npm `tftp` 0.1.2 trusts every packet it receives, and a throw inside a dgram 'message' handler
// kills the process. Measured against the library's source:
// - a 0- or 1-byte packet on a transfer's port throws in readUInt16BE;
// - an ACK arriving while the sender waits for file data (a client's retransmitted ACK, or anyone's
//   forged one) calls a null callback in its window logic;
// - a duplicate ACK makes it resend the window *and* move on to the next one (the "sorcerer's
//   apprentice" RFC 1350 warns about): a client that repeats its ACKs never gets its file;
// - any host may send to a transfer's port (RFC 1350 says: answer a stranger with error 5 and go
//   on), so anyone can abort or derail someone else's transfer;
// - an RRQ from source port 0 makes the error reply's send() throw;
// - after a duplicate ACK the window logic starts its retransmission timer while one runs and
//   loses the first: that one resends stale blocks and, its retries spent, ends a healthy transfer
//   with "Timed out" (and keeps the process alive meanwhile).
// These guards keep all of that to one transfer (or to nothing) instead of the whole rack.
import type { RemoteInfo } from 'node:dgram';
import type { Server } from 'tftp';
import IncomingRequest = require('tftp/lib/protocol/server/incoming-request');

// ERROR, code 5 "Unknown transfer ID".
const UNKNOWN_TID = Buffer.from([0, 5, 0, 5, ...Buffer.from('Unknown transfer ID'), 0]);
const MALFORMED = 'Malformed TFTP message';
const ACK = 4;

let patched = false;

/** Guards every server-side transfer in this process (idempotent). */
export function hardenTftpTransfers(log: (line: string) => void): void {
  if (patched) return;
  patched = true;
  const original = IncomingRequest.prototype._initSocket;
  IncomingRequest.prototype._initSocket = function (this: typeof IncomingRequest.prototype, socket, onMessage) {
    const guarded = (message: Buffer, rinfo: RemoteInfo) => {
      if (rinfo.address !== this._address || rinfo.port !== this._port) {
        if (rinfo.port !== 0) socket.send(UNKNOWN_TID, rinfo.port, rinfo.address);
        return;
      }
      // Every packet a sender can receive (ACK, ERROR) is at least 4 bytes.
      if (message.length < 4) return;
      if (message.readUInt16BE(0) === ACK && isDuplicateAck(this, message.readUInt16BE(2))) return;
      try {
        onMessage.call(this, message, rinfo);
      } catch (err) {
        log(
          `tftp: transfer to ${rinfo.address}:${rinfo.port} aborted on a packet the library could not handle (${(err as Error).message})`,
        );
        try {
          this.abort(MALFORMED);
        } catch {
          // Already closing: nothing more to undo.
        }
      }
    };
    original.call(this, socket, guarded);
  };

  const createTimer = IncomingRequest.prototype._createRetransmitter;
  IncomingRequest.prototype._createRetransmitter = function (this: typeof IncomingRequest.prototype) {
    const timer = createTimer.call(this);
    const start = timer.start;
    // One timer per retransmitter: starting again replaces the running one.
    timer.start = function (this: typeof timer, resend) {
      if (this._timer) clearTimeout(this._timer);
      this._timer = null;
      start.call(this, resend);
    };
    return timer;
  };
}

/**
 * An ACK the sender is not waiting for: one while it is not waiting at all, or a repeat of the
 * last one. RFC 1350: a sender must not resend on a duplicate ACK, only when its own timer runs
 * out (which the library does).
 */
function isDuplicateAck(request: typeof IncomingRequest.prototype, block: number): boolean {
  const window = request._window;
  if (request._oackSent || !window) return false; // the ACK of the OACK (block 0) is handled apart
  return !window._cb || block === window._start - 1;
}

/** Guards the server's request socket (RRQ/WRQ arrive there). */
export function hardenTftpServer(server: Server, log: (line: string) => void): void {
  const socket = server._socket;
  const listeners = socket.listeners('message') as Array<(message: Buffer, rinfo: RemoteInfo) => void>;
  socket.removeAllListeners('message');
  socket.on('message', (message: Buffer, rinfo: RemoteInfo) => {
    // Nobody can be answered at port 0, and the library's reply would throw.
    if (rinfo.port === 0) return;
    for (const listener of listeners) {
      try {
        listener(message, rinfo);
      } catch (err) {
        log(`tftp: request from ${rinfo.address}:${rinfo.port} dropped (${(err as Error).message})`);
      }
    }
  });
}
