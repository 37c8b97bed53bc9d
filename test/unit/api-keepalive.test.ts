import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import Koa from 'koa';
import { closeApi, listenApi } from '../../src/api/http/listen';
import { loadConfig } from '../../src/runtime/config';

/** One connection of our own: requests written on it in turn, each whole reply read before the next. */
class Connection {
  private readonly socket: net.Socket;
  private data = '';
  closed = false;
  /** Resolves when the server (or we) closed the connection. */
  readonly gone: Promise<void>;
  private readonly wake = new Set<() => void>();

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.setEncoding('utf8');
    this.socket.on('data', (d: string) => {
      this.data += d;
      this.wake.forEach((f) => f());
    });
    this.gone = new Promise((r) => this.socket.once('close', () => r()));
    this.socket.on('close', () => {
      this.closed = true;
      this.wake.forEach((f) => f());
    });
    this.socket.on('error', () => undefined);
  }

  /** The status line of the reply, or null when the server closed the connection instead. */
  async get(path: string): Promise<string | null> {
    this.send(path);
    return this.reply();
  }

  send(path: string): void {
    this.data = '';
    this.socket.write(`GET ${path} HTTP/1.1\r\nHost: region\r\nConnection: keep-alive\r\n\r\n`);
  }

  async reply(): Promise<string | null> {
    for (;;) {
      const end = this.data.indexOf('\r\n\r\n');
      if (end >= 0 && this.data.endsWith('ok')) return this.data.slice(0, this.data.indexOf('\r\n'));
      if (this.closed) return null;
      await new Promise<void>((r) => {
        const f = () => {
          this.wake.delete(f);
          r();
        };
        this.wake.add(f);
      });
    }
  }

  end(): void {
    this.socket.destroy();
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Rejects after `ms` with `what` (a bound on a wait that must end). */
const within = <T>(p: Promise<T>, ms: number, what: string) =>
  Promise.race([p, sleep(ms).then(() => assert.fail(what))]);

/** A region-like server; `/slow` answers once `release` is called. */
async function server(keepAliveMs: number) {
  let release = () => undefined as void;
  const released = new Promise<void>((r) => (release = r));
  let arrived = () => undefined as void;
  const slowArrived = new Promise<void>((r) => (arrived = r));
  const app = new Koa();
  app.use(async (ctx) => {
    if (ctx.path === '/slow') {
      arrived();
      await released;
    }
    ctx.body = 'ok';
  });
  const s = await listenApi(app, { port: 0, host: '127.0.0.1', keepAliveMs });
  return { s, port: (s.address() as net.AddressInfo).port, release, slowArrived };
}

describe("the region API's idle keep-alive connections", () => {
  it('stay open 75 s unless configured (METALFLOW_HTTP_KEEPALIVE_SECONDS): longer than the proxies in front keep theirs', () => {
    assert.equal(loadConfig({}).httpKeepAliveMs, 75_000);
    assert.equal(loadConfig({ METALFLOW_HTTP_KEEPALIVE_SECONDS: '120' }).httpKeepAliveMs, 120_000);
    // Node reads 0 as "never close": refused.
    assert.throws(() => loadConfig({ METALFLOW_HTTP_KEEPALIVE_SECONDS: '0' }), /must be at least 1/);
  });

  it("serve a request that comes after Node's default 5 s of idleness on the same connection", async () => {
    const { s, port } = await server(75_000);
    const c = new Connection(port);
    try {
      assert.equal(await c.get('/first'), 'HTTP/1.1 200 OK');
      await sleep(6_000);
      assert.equal(c.closed, false, 'the region closed the idle connection');
      assert.equal(await c.get('/second'), 'HTTP/1.1 200 OK');
    } finally {
      c.end();
      await closeApi(s);
    }
  });

  it('close after the configured idle time (the check above fails when the timeout is short)', async () => {
    const { s, port } = await server(1_000);
    const c = new Connection(port);
    try {
      assert.equal(await c.get('/first'), 'HTTP/1.1 200 OK');
      await within(c.gone, 10_000, 'the idle connection was never closed');
    } finally {
      c.end();
      await closeApi(s);
    }
  });

  it('do not hold up a stopping region: an idle connection ends at once, a busy one once its reply is written', async () => {
    const { s, port, release, slowArrived } = await server(75_000);
    const idle = new Connection(port);
    const busy = new Connection(port);
    assert.equal(await idle.get('/first'), 'HTTP/1.1 200 OK');
    busy.send('/slow');
    await slowArrived;
    const closed = closeApi(s);
    await within(idle.gone, 2_000, 'the idle connection outlived the stop');
    release();
    assert.equal(await busy.reply(), 'HTTP/1.1 200 OK', 'the request under way is answered');
    await within(busy.gone, 2_000, 'the busy connection stayed open its keep-alive time after its reply');
    await within(closed, 2_000, 'the stop waited for a connection');
  });
});
