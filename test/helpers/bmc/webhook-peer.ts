// A webhook power endpoint for tests: a local Node HTTP(S) server that keeps one machine's power
// state, answers the query URI with MAAS's default shapes ({"status": "running"|"stopped"}) and
// wants a bearer token or Basic credentials.
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { selfSignedCert } from './self-signed';

export interface WebhookPeer {
  url: string;
  /** Requests seen, "METHOD /path auth-header". */
  requests: string[];
  state: 'running' | 'stopped';
  /** Answer the next N requests with 503 (a struggling endpoint). */
  failNext: number;
  /** Every request is handled this long after it arrived (a slow endpoint); 0 = at once. */
  delayMs: number;
  stop(): Promise<void>;
}

export async function startWebhookPeer(
  opts: { token?: string; basic?: string; tls?: boolean } = {},
): Promise<WebhookPeer> {
  const peer: WebhookPeer = {
    url: '',
    requests: [],
    state: 'stopped',
    failNext: 0,
    delayMs: 0,
    stop: async () => undefined,
  };
  const handler: http.RequestListener = (req, res) => {
    peer.requests.push(`${req.method} ${req.url} ${req.headers.authorization ?? ''}`.trim());
    // A caller that gave up meanwhile has closed the connection: nothing is done for it.
    if (peer.delayMs) setTimeout(() => !res.destroyed && answer(req, res), peer.delayMs);
    else answer(req, res);
  };
  const answer: http.RequestListener = (req, res) => {
    const auth = req.headers.authorization ?? '';
    const allowed =
      (opts.token && auth === `Bearer ${opts.token}`) ||
      (opts.basic && auth === `Basic ${Buffer.from(opts.basic).toString('base64')}`);
    if (!allowed) return void res.writeHead(401).end('{"error": "bad token"}');
    if (peer.failNext > 0) {
      peer.failNext--;
      return void res.writeHead(503).end('busy');
    }
    if (req.method === 'POST' && req.url === '/on') peer.state = 'running';
    else if (req.method === 'POST' && req.url === '/off') peer.state = 'stopped';
    else if (!(req.method === 'GET' && req.url === '/status')) return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ status: peer.state }));
  };
  let server: http.Server;
  if (opts.tls) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'metalflow-webhook-'));
    const tls = selfSignedCert(dir, 'webhook.test');
    server = https.createServer({ key: fs.readFileSync(tls.key), cert: fs.readFileSync(tls.cert) }, handler);
    fs.rmSync(dir, { recursive: true, force: true });
  } else server = http.createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  peer.url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
  peer.stop = () => new Promise((resolve) => server.close(() => resolve()));
  return peer;
}
