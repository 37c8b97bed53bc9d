import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { bodyParser, paramsOf, rawBodyOf } from '../../../src/api/http/body';
import { errorBoundary } from '../../../src/api/http/errors-middleware';
import { serve, type Served } from './serve';

let server: Served;
let handled = 0;

before(async () => {
  server = await serve((app) => {
    app.use(errorBoundary({ log: () => {} }));
    app.use(bodyParser({ fieldsBytes: 1024, filesBytes: 4096 }));
    app.use(async (ctx) => {
      handled++;
      const params = paramsOf(ctx);
      assert.ok(params);
      ctx.body = {
        // Binary parts are bytes: they are echoed under files, not read as text.
        values: Object.fromEntries(
          params
            .names()
            .filter((n) => !params.files.has(n))
            .map((n) => [n, params.getAll(n)]),
        ),
        files: Object.fromEntries([...params.files].map(([n, b]) => [n, b.toString('base64')])),
        op: { query: params.fromQuery('op') ?? null, body: params.fromBody('op') ?? null },
        raw: rawBodyOf(ctx)?.toString('utf8') ?? null,
      };
    });
  });
});
after(() => server.close());

interface Echo {
  values: Record<string, string[]>;
  files: Record<string, string>;
  op: { query: string | null; body: string | null };
  raw: string | null;
}

async function post(
  path: string,
  body: NonNullable<RequestInit['body']>,
  headers: Record<string, string> = {},
): Promise<Response> {
  return fetch(`${server.url}${path}`, { method: 'POST', body, headers });
}

/** A body as Python's email package writes it for the `maas` CLI: every part base64, MIME headers. */
function cliMultipart(parts: Array<{ name: string; data: Buffer; text?: boolean }>): {
  body: Buffer;
  contentType: string;
} {
  const boundary = '===============4518369204761425370==';
  const lines: string[] = [];
  for (const part of parts) {
    lines.push(`--${boundary}`);
    lines.push(part.text ? 'Content-Type: text/plain; charset="utf-8"' : 'Content-Type: application/octet-stream');
    lines.push(
      'MIME-Version: 1.0',
      'Content-Transfer-Encoding: base64',
      `Content-Disposition: form-data; name="${part.name}"`,
      '',
    );
    lines.push(...(part.data.toString('base64').match(/.{1,76}/g) ?? ['']));
  }
  lines.push(`--${boundary}--`, '');
  return { body: Buffer.from(lines.join('\r\n')), contentType: `multipart/form-data; boundary="${boundary}"` };
}

describe('body parsing', () => {
  it('keeps repeated keys of the query string and of a form body, query first', async () => {
    const res = await post(
      '/x?op=create&tags=q1&tags=q2',
      'mac_addresses=aa%3Abb&mac_addresses=cc%3Add&hostname=my+node&tags=b1',
      {
        'Content-Type': 'application/x-www-form-urlencoded',
      },
    );
    assert.equal(res.status, 200);
    const echo = (await res.json()) as Echo;
    assert.deepEqual(echo.values.mac_addresses, ['aa:bb', 'cc:dd']);
    assert.deepEqual(echo.values.hostname, ['my node']);
    assert.deepEqual(echo.values.tags, ['q1', 'q2', 'b1']);
    assert.deepEqual(echo.op, { query: 'create', body: null });
  });

  it('parses standard multipart (fetch FormData): repeated fields and files with filenames', async () => {
    const form = new FormData();
    form.append('op', 'signal');
    form.append('status', 'OK');
    form.append('tags', 'a');
    form.append('tags', 'b');
    form.append('result.out', new Blob([Buffer.from([0, 1, 2, 255])]), 'result.out');
    const echo = (await (await post('/x', form)).json()) as Echo;
    assert.deepEqual(echo.values.tags, ['a', 'b']);
    assert.deepEqual(echo.op, { query: null, body: 'signal' });
    assert.equal(echo.files['result.out'], Buffer.from([0, 1, 2, 255]).toString('base64'));
    assert.equal(echo.values['result.out'], undefined, 'a named file is not a text field');
  });

  it('reads the maas CLI multipart form: base64 parts, and binary parts without a filename as bytes', async () => {
    const binary = Buffer.from(Array.from({ length: 300 }, (_, i) => i % 256));
    const { body, contentType } = cliMultipart([
      { name: 'op', data: Buffer.from('signal'), text: true },
      { name: 'error', data: Buffer.from('déjà vu'), text: true },
      { name: 'script.out', data: binary },
    ]);
    const res = await post('/x', body, { 'Content-Type': contentType });
    assert.equal(res.status, 200);
    const echo = (await res.json()) as Echo;
    assert.deepEqual(echo.values.op, ['signal']);
    assert.deepEqual(echo.values.error, ['déjà vu']);
    assert.equal(echo.files['script.out'], binary.toString('base64'));
    assert.equal(echo.files.op, undefined, 'text parts are not files');
  });

  it('parses a hand-written multipart part without headers beyond its name, with LF line ends', async () => {
    const body =
      '--b\nContent-Disposition: form-data; name="a"\n\none\n--b\nContent-Disposition: form-data; name="a"\n\ntwo\n--b--\n';
    const echo = (await (await post('/x', body, { 'Content-Type': 'multipart/form-data; boundary=b' })).json()) as Echo;
    assert.deepEqual(echo.values.a, ['one', 'two']);
  });

  it('turns a JSON object into parameters and keeps the raw body', async () => {
    const json = JSON.stringify({ event_type: 'finish', files: [{ name: 'x' }], tags: ['a', 'b'], n: 3, skip: null });
    const echo = (await (await post('/x', json, { 'Content-Type': 'application/json' })).json()) as Echo;
    assert.deepEqual(echo.values.event_type, ['finish']);
    assert.deepEqual(echo.values.tags, ['a', 'b']);
    assert.deepEqual(echo.values.n, ['3']);
    assert.deepEqual(echo.values.files, ['{"name":"x"}']);
    assert.equal(echo.values.skip, undefined);
    assert.equal(echo.raw, json);
  });

  it('answers 400 to malformed JSON and multipart', async () => {
    const bad = await post('/x', '{nope', { 'Content-Type': 'application/json' });
    assert.equal(bad.status, 400);
    assert.match(await bad.text(), /Invalid JSON body/);
    const noBoundary = await post('/x', 'x', { 'Content-Type': 'multipart/form-data' });
    assert.equal(noBoundary.status, 400);
    const unterminated = await post('/x', '--b\r\nContent-Disposition: form-data; name="a"\r\n\r\nvalue', {
      'Content-Type': 'multipart/form-data; boundary=b',
    });
    assert.equal(unterminated.status, 400);
    assert.match(await unterminated.text(), /closing boundary/);
  });

  it('refuses bodies over the field limit with 413, before any handler runs', async () => {
    const before = handled;
    const declared = await post('/x', `a=${'x'.repeat(64 * 1024)}`, {
      'Content-Type': 'application/x-www-form-urlencoded',
    });
    assert.equal(declared.status, 413);
    assert.match(await declared.text(), /Request body too large: a request body may be at most 1024 bytes/);
    const chunks = [Buffer.from('a='), Buffer.alloc(8 * 1024, 'y')];
    const streamed = await fetch(`${server.url}/x`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new ReadableStream({
        pull: (c) => {
          const chunk = chunks.shift();
          if (chunk) c.enqueue(chunk);
          else c.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    assert.equal(streamed.status, 413);
    assert.equal(handled, before);
  });

  it('refuses uploads over the file limit with 413', async () => {
    const before = handled;
    const form = new FormData();
    form.append('big', new Blob([Buffer.alloc(4500, 1)]), 'big.bin'); // under the wire limit, over files
    const overFiles = await post('/x', form);
    assert.equal(overFiles.status, 413);
    assert.match(await overFiles.text(), /uploaded files may total at most 4096 bytes/);
    const huge = new FormData();
    huge.append('big', new Blob([Buffer.alloc(64 * 1024, 1)]), 'big.bin');
    assert.equal((await post('/x', huge)).status, 413);
    const { body, contentType } = cliMultipart([{ name: 'f', data: Buffer.alloc(2000, 'z'), text: true }]);
    const overFields = await post('/x', body, { 'Content-Type': contentType });
    assert.equal(overFields.status, 413);
    assert.match(await overFields.text(), /form fields may total at most 1024 bytes/);
    assert.equal(handled, before);
  });
});

describe('body limits while streaming', () => {
  let capped: Served;
  let reached = 0;
  before(async () => {
    capped = await serve((app) => {
      app.use(errorBoundary({ log: () => {} }));
      app.use(bodyParser({ parts: 3, partBytes: 100, jsonDepth: 4 }));
      app.use((ctx) => {
        reached++;
        ctx.body = { names: paramsOf(ctx)?.names() ?? [] };
      });
    });
  });
  after(() => capped.close());

  /**
   * A body that sends `chunks` and then stays open until `end()`: a reply that arrives before
   * then shows the server refused the body while it was still streaming, not once it was complete.
   */
  function openBody(chunks: Buffer[]): { body: ReadableStream<Uint8Array>; end: () => void } {
    let end!: () => void;
    const ended = new Promise<void>((resolve) => (end = resolve));
    let i = 0;
    return {
      body: new ReadableStream({
        pull: async (c) => {
          const chunk = chunks[i++];
          if (chunk !== undefined) return c.enqueue(chunk);
          await ended;
          c.close();
        },
      }),
      end,
    };
  }
  function streamed(chunks: Buffer[]): { body: ReadableStream<Uint8Array> } {
    let i = 0;
    return {
      body: new ReadableStream({
        pull: (c) => {
          const chunk = chunks[i++];
          if (chunk === undefined) c.close();
          else c.enqueue(chunk);
        },
      }),
    };
  }
  const part = (name: string, value: string) =>
    Buffer.from(`--b\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`);

  it('refuses a JSON body nested deeper than the limit with a 400, even 50,000 deep', async () => {
    for (const json of ['{"a":[[[[1]]]]}', `{"a":${'['.repeat(50_000)}${']'.repeat(50_000)}}`]) {
      const res = await fetch(`${capped.url}/x`, {
        method: 'POST',
        body: json,
        headers: { 'Content-Type': 'application/json' },
      });
      assert.equal(res.status, 400);
      assert.match(await res.text(), /nested more than 4 levels deep/);
    }
    const ok = await fetch(`${capped.url}/x`, {
      method: 'POST',
      body: '{"a":[[["[[[[[["]]]}',
      headers: { 'Content-Type': 'application/json' },
    });
    assert.equal(ok.status, 200, 'brackets inside strings do not count');
  });

  it('refuses the part past the cap while the body is still streaming', { timeout: 30_000 }, async () => {
    const before = reached;
    const ok = await fetch(`${capped.url}/x`, {
      method: 'POST',
      body: Buffer.concat([part('a', '1'), part('b', '2'), part('c', '3'), Buffer.from('--b--\r\n')]),
      headers: { 'Content-Type': 'multipart/form-data; boundary=b' },
    });
    assert.equal(ok.status, 200);
    const s = openBody(Array.from({ length: 5 }, (_, i) => part(`p${i}`, 'x')));
    const tooMany = await fetch(`${capped.url}/x`, {
      method: 'POST',
      body: s.body,
      headers: { 'Content-Type': 'multipart/form-data; boundary=b' },
      duplex: 'half',
    } as RequestInit);
    assert.equal(tooMany.status, 413);
    assert.match(await tooMany.text(), /at most 3 parts/);
    s.end();
    assert.equal(reached, before + 1);
  });

  it('refuses one oversized part while it streams, split delimiters included', { timeout: 30_000 }, async () => {
    const big = openBody([
      Buffer.from('--b\r\nContent-Disposition: form-data; name="a"\r\n\r\n'),
      ...Array.from({ length: 2 }, () => Buffer.alloc(16 * 1024, 'y')),
    ]);
    const res = await fetch(`${capped.url}/x`, {
      method: 'POST',
      body: big.body,
      headers: { 'Content-Type': 'multipart/form-data; boundary=b' },
      duplex: 'half',
    } as RequestInit);
    assert.equal(res.status, 413);
    assert.match(await res.text(), /one multipart part may take at most/);
    big.end();

    // A delimiter split across chunks still ends a part: three small parts, byte by byte.
    const whole = Buffer.concat([part('a', '1'), part('b', '2'), part('c', '3'), Buffer.from('--b--\r\n')]);
    const bytes = streamed([...whole].map((b) => Buffer.from([b])));
    const split = await fetch(`${capped.url}/x`, {
      method: 'POST',
      body: bytes.body,
      headers: { 'Content-Type': 'multipart/form-data; boundary=b' },
      duplex: 'half',
    } as RequestInit);
    assert.equal(split.status, 200);
    assert.deepEqual(((await split.json()) as { names: string[] }).names, ['a', 'b', 'c']);
  });
});
