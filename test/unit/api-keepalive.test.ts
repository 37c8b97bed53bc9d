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
  private readonly wake = new Set<() => void>();

  constructor(port: number) {
    this.socket = net.connect(port, '127.0.0.1');
    this.socket.setEncoding('utf8');
    this.socket.on('data', (d: string) => {
      this.data += d;
      this.wake.forEach((f) => f());
    });
    this.socket.on('close', () => {
      this.closed = true;
      this.wake.forEach((f) => f());
    });
    this.socket.on('error', () => undefined);
  }

  /** The status line of the reply, or null when the server closed the connection instead. */
  async get(path: string): Promise<string | null> {
    this.data = '';
    this.socket.write(`GET ${path} HTTP/1.1\r\nHost: region\r\nConnection: keep-alive\r\n\r\n`);
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

async function server(keepAliveMs: number) {
  const app = new Koa();
  app.use((ctx) => {
    ctx.body = 'ok';
  });
  return listenApi(app, { port: 0, host: '127.0.0.1', keepAliveMs });
}

describe("the region API's idle keep-alive connections", () => {
  it('stay open 75 s unless configured (METALFLOW_HTTP_KEEPALIVE_SECONDS): longer than the proxies in front keep theirs', () => {
    assert.equal(loadConfig({}).httpKeepAliveMs, 75_000);
    assert.equal(loadConfig({ METALFLOW_HTTP_KEEPALIVE_SECONDS: '120' }).httpKeepAliveMs, 120_000);
  });

  it("serve a request that comes after Node's default 5 s of idleness on the same connection", async () => {
    const s = await server(75_000);
    const c = new Connection((s.address() as net.AddressInfo).port);
    try {
      assert.equal(await c.get('/first'), 'HTTP/1.1 200 OK');
      await sleep(6_000);
      assert.equal(c.closed, false, 'the region closed the idle connection');
      assert.equal(await c.get('/second'), 'HTTP/1.1 200 OK');
    } finally {
      c.end();
      s.close();
    }
  });

  it('close after the configured idle time (the same check fails when the timeout is short)', async () => {
    const s = await server(1_000);
    const c = new Connection((s.address() as net.AddressInfo).port);
    try {
      assert.equal(await c.get('/first'), 'HTTP/1.1 200 OK');
      await sleep(2_500);
      assert.equal(c.closed, true);
    } finally {
      c.end();
      s.close();
    }
  });

  it('do not hold up a stopping region: closing the server ends an idle connection at once', async () => {
    const s = await server(75_000);
    const c = new Connection((s.address() as net.AddressInfo).port);
    assert.equal(await c.get('/first'), 'HTTP/1.1 200 OK');
    const closed = new Promise<void>((r) => s.close(() => r()));
    await Promise.race([closed, sleep(2_000).then(() => assert.fail('the server waited for the idle connection'))]);
    c.end();
  });
});
