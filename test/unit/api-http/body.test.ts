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
        values: Object.fromEntries(params.names().map((n) => [n, params.getAll(n)])),
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
