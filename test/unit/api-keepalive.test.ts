import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import Koa from 'koa';
import { listenApi } from '../../src/api/http/listen';
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

  /** The last reply's status line and headers. */
  head(): string {
    return this.data.slice(0, this.data.indexOf('\r\n\r\n') + 2);
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
/** `p`, or a failure saying `what` after `ms` (a bound on a wait that must end). */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(what)), ms)));
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A region-like server. `/slow` answers once `release` is called; `/stream` sends its headers and
 * the first byte at once, the rest once `release` is called.
 */
async function server(keepAliveMs: number) {
  let release = () => undefined as void;
  const released = new Promise<void>((r) => (release = r));
  let arrivals = 0;
  let arrived = () => undefined as void;
  const bothArrived = new Promise<void>((r) => (arrived = r));
  const app = new Koa();
  app.use(async (ctx) => {
    if (ctx.path === '/slow' || ctx.path === '/stream') {
      if (++arrivals === 2) arrived();
      if (ctx.path === '/stream') {
        ctx.respond = false;
        ctx.res.writeHead(200, { 'Content-Length': '2' });
        ctx.res.write('o');
        await released;
        ctx.res.end('k');
        return;
      }
      await released;
    }
    ctx.body = 'ok';
  });
  const api = await listenApi(app, { port: 0, host: '127.0.0.1', keepAliveMs });
  return { api, port: (api.server.address() as net.AddressInfo).port, release, bothArrived };
}

describe("the region API's idle keep-alive connections", () => {
  it('stay open 75 s unless configured (METALFLOW_HTTP_KEEPALIVE_SECONDS): longer than the proxies in front keep theirs', () => {
    assert.equal(loadConfig({}).httpKeepAliveMs, 75_000);
    assert.equal(loadConfig({ METALFLOW_HTTP_KEEPALIVE_SECONDS: '120' }).httpKeepAliveMs, 120_000);
    // Node reads 0 as "never close": refused.
    assert.throws(() => loadConfig({ METALFLOW_HTTP_KEEPALIVE_SECONDS: '0' }), /between 1 and 3600/);
    assert.throws(() => loadConfig({ METALFLOW_HTTP_KEEPALIVE_SECONDS: '3000000' }), /between 1 and 3600/);
  });

  it("serve a request that comes after Node's default 5 s of idleness on the same connection", async () => {
    const { api, port } = await server(75_000);
    const c = new Connection(port);
    try {
      assert.equal(await c.get('/first'), 'HTTP/1.1 200 OK');
      await sleep(6_000);
      assert.equal(c.closed, false, 'the region closed the idle connection');
      assert.equal(await c.get('/second'), 'HTTP/1.1 200 OK');
    } finally {
      c.end();
      await api.close();
    }
  });

  it("close after the configured idle time, sooner than Node's 5 s (the check above fails when the timeout is short)", async () => {
    const { api, port } = await server(1_000);
    const c = new Connection(port);
    try {
      assert.equal(await c.get('/first'), 'HTTP/1.1 200 OK');
      await within(c.gone, 4_000, 'the idle connection was not closed after its 1 s');
    } finally {
      c.end();
      await api.close();
    }
  });

  it('do not hold up a stopping region: an idle connection ends at once, a busy one once its whole reply is out', async () => {
    const { api, port, release, bothArrived } = await server(75_000);
    const idle = new Connection(port);
    const waiting = new Connection(port);
    const streaming = new Connection(port);
    assert.equal(await idle.get('/first'), 'HTTP/1.1 200 OK');
    waiting.send('/slow');
    streaming.send('/stream');
    await bothArrived;
    const closed = api.close();
    await within(idle.gone, 2_000, 'the idle connection outlived the stop');
    release();
    // Both answered in whole; the one whose headers were not out yet says it is the last.
    assert.equal(await waiting.reply(), 'HTTP/1.1 200 OK');
    assert.match(waiting.head(), /\r\nConnection: close\r\n/i);
    assert.equal(await streaming.reply(), 'HTTP/1.1 200 OK');
    await within(waiting.gone, 2_000, 'the waiting connection stayed open after its reply');
    await within(streaming.gone, 2_000, 'the streaming connection stayed open after its reply');
    await within(closed, 2_000, 'the stop waited for a connection');
  });
});
