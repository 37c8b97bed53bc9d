import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errorBoundary } from '../../../src/api/http/errors-middleware';
import { validateResources } from '../../../src/api/http/resource';
import { createApiRouter } from '../../../src/api/http/router';
import { sampleResources, testAuthenticate } from './sample-registry';
import { serve, type Served } from './serve';

let server: Served;
const API = '/MAAS/api/2.0';

before(async () => {
  server = await serve((app) => {
    app.use(errorBoundary({ log: () => {} }));
    app.use(createApiRouter({ resources: sampleResources(), authenticate: testAuthenticate }));
  });
});
after(() => server.close());

function call(
  method: string,
  path: string,
  options: { user?: string; form?: Record<string, string> } = {},
): Promise<Response> {
  const headers: Record<string, string> = {};
  if (options.user) headers.Authorization = `Test ${options.user}`;
  const body = options.form ? new URLSearchParams(options.form).toString() : undefined;
  if (body !== undefined) headers['Content-Type'] = 'application/x-www-form-urlencoded';
  return fetch(`${server.url}${API}${path}`, { method, headers, body });
}

async function json(res: Response): Promise<Record<string, unknown>> {
  assert.equal(res.headers.get('content-type'), 'application/json');
  return (await res.json()) as Record<string, unknown>;
}

describe('API router', () => {
  it('dispatches RESTful actions, with or without the trailing slash', async () => {
    for (const path of ['/machines/', '/machines']) {
      const res = await call('GET', path, { user: 'alice' });
      assert.equal(res.status, 200);
      assert.deepEqual(await json(res), { action: 'read', principal: 'alice', path: {}, tags: [] });
    }
    const one = await call('GET', '/machines/abc123', { user: 'alice' });
    assert.deepEqual((await json(one)).path, { system_id: 'abc123' });
  });

  it('dispatches named operations by ?op=, by the body, and by the /op-NAME suffix', async () => {
    const byQuery = await json(await call('POST', '/machines/abc123/?op=deploy', { user: 'alice' }));
    assert.deepEqual(byQuery, { action: 'deploy', principal: 'alice', path: { system_id: 'abc123' }, tags: [] });
    const byBody = await json(await call('POST', '/machines/abc123/', { user: 'alice', form: { op: 'deploy' } }));
    assert.equal(byBody.action, 'deploy');
    for (const suffix of ['/machines/abc123/op-deploy', '/machines/abc123/op-deploy/']) {
      const bySuffix = await json(await call('POST', suffix, { user: 'alice' }));
      assert.deepEqual(bySuffix.path, { system_id: 'abc123' }, suffix);
      assert.equal(bySuffix.action, 'deploy');
    }
    const collection = await json(await call('POST', '/machines/op-allocate', { user: 'alice', form: { tags: 'x' } }));
    assert.deepEqual(collection, { action: 'allocate', principal: 'alice', path: {}, tags: ['x'] });
  });

  it('reads op from the query before the body, as MAAS does', async () => {
    const res = await json(
      await call('POST', '/machines/abc123/?op=deploy', { user: 'alice', form: { op: 'frobnicate' } }),
    );
    assert.equal(res.action, 'deploy');
  });

  it("answers an unknown op with MAAS's 400 message", async () => {
    const res = await call('POST', '/machines/abc123/?op=frobnicate', { user: 'alice' });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(await res.text(), 'Unrecognised signature: method=POST op=frobnicate');
    const noOp = await call('POST', '/machines/abc123/', { user: 'alice' });
    assert.equal(noOp.status, 400);
    assert.equal(await noOp.text(), 'Unrecognised signature: method=POST op=None');
    const get = await call('GET', '/machines/abc123/?op=foo', { user: 'alice' });
    assert.equal(get.status, 400);
    assert.equal(await get.text(), 'Unrecognised signature: method=GET op=foo');
  });

  it('answers 405 with Allow for a method the resource never accepts', async () => {
    const res = await call('PUT', '/machines/', { user: 'alice' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET, POST');
    const patch = await call('PATCH', '/machines/abc/', { user: 'alice' });
    assert.equal(patch.status, 405);
    assert.equal(patch.headers.get('allow'), 'GET, POST, PUT, DELETE');
  });

  it('requires credentials except for anonymous actions', async () => {
    const denied = await call('GET', '/machines/');
    assert.equal(denied.status, 401);
    assert.match(await denied.text(), /needs credentials/);
    assert.equal(denied.headers.get('www-authenticate'), 'OAuth realm="MAAS API"');
    assert.equal((await call('POST', '/machines/?op=allocate')).status, 401);
    assert.equal((await call('POST', '/machines/abc/?op=frobnicate')).status, 401, 'no anonymous action here at all');

    const anonymous = await json(await call('GET', '/machines/?op=is_registered'));
    assert.deepEqual(anonymous, { action: 'is_registered', principal: null, path: {}, tags: [] });
    const anonCreate = await json(await call('POST', '/machines/', { form: { tags: 'a' } }));
    assert.equal(anonCreate.principal, null);
    const authCreate = await json(await call('POST', '/machines/', { user: 'bob' }));
    assert.equal(authCreate.principal, 'bob', 'anonymous actions still see the principal when there is one');
  });

  it('rejects bad credentials even on anonymous actions', async () => {
    const res = await call('GET', '/machines/?op=is_registered', { user: '!' });
    assert.equal(res.status, 401);
    assert.equal(await res.text(), 'Authorization Error: Invalid access token.');
  });

  it('gives anonymous callers the small body limits, decided before the body is read', async () => {
    const multipart = (size: number) => {
      const form = new FormData();
      form.append('hostname', 'x');
      form.append('blob', new Blob([Buffer.alloc(size, 1)]), 'blob.bin');
      return form;
    };
    const big = 2 * 1024 * 1024; // over ANONYMOUS_BODY_LIMITS, far under DEFAULT_BODY_LIMITS
    const anonymous = await fetch(`${server.url}${API}/machines/`, { method: 'POST', body: multipart(big) });
    assert.equal(anonymous.status, 413);
    const signed = await fetch(`${server.url}${API}/machines/`, {
      method: 'POST',
      body: multipart(big),
      headers: { Authorization: 'Test alice' },
    });
    // Read whole, past the anonymous limit: then refused for the file part no form takes.
    assert.equal(signed.status, 400);
    assert.deepEqual(Object.keys((await signed.json()) as object), ['blob']);
    const small = await fetch(`${server.url}${API}/machines/`, { method: 'POST', body: multipart(1000) });
    assert.equal(small.status, 400);
    assert.match(await small.text(), /"blob":\["Unknown parameter: POST \(create\) takes no file uploads/);
  });

  it('refuses a parameter the action does not declare, a GET with no form included, before its handler runs', async () => {
    const get = await call('GET', '/machines/abc/?foo=1', { user: 'alice' });
    assert.equal(get.status, 400);
    assert.deepEqual(await json(get), {
      foo: ["Unknown parameter: metalflow's GET (read) does not take it (describe/ lists the parameters it takes)."],
    });
    // PUT's handler answers 202: a 400 shows it never ran.
    const put = await call('PUT', '/machines/abc/', { user: 'alice', form: { swap_size: '1G' } });
    assert.equal(put.status, 400);
    assert.deepEqual(Object.keys(await json(put)), ['swap_size']);
    const allocate = await call('POST', '/machines/?op=allocate&tags=a', { user: 'alice', form: { tag: 'b' } });
    assert.deepEqual(Object.keys(await json(allocate)), ['tag']);
  });

  it('answers 404 to a path placeholder holding a control character', async () => {
    for (const id of ['%00', 'a%01b', '%7F', 'x%1B']) {
      const res = await call('GET', `/machines/${id}/`, { user: 'alice' });
      assert.equal(res.status, 404, id);
    }
    assert.equal((await call('GET', '/machines/a%09b/', { user: 'alice' })).status, 404);
    assert.equal((await call('GET', '/machines/%C3%A9/', { user: 'alice' })).status, 200, 'unicode is fine');
  });

  it('writes Reply statuses, 204 for undefined, and the API hash header', async () => {
    const updated = await call('PUT', '/machines/abc/', { user: 'alice' });
    assert.equal(updated.status, 202);
    assert.equal(updated.headers.get('content-type'), 'text/plain; charset=utf-8');
    assert.equal(await updated.text(), 'updated');
    const released = await call('POST', '/machines/abc/op-release', { user: 'alice' });
    assert.equal(released.status, 201);
    assert.deepEqual(await json(released), { released: 'abc' });
    const deleted = await call('DELETE', '/machines/abc/', { user: 'alice' });
    assert.equal(deleted.status, 204);
    assert.equal(await deleted.text(), '');
    // The maas CLI reads every reply's Content-Type (utils.is_response_textual) and crashes without one.
    assert.equal(deleted.headers.get('content-type'), 'text/html; charset=utf-8');
    const describe = (await (await fetch(`${server.url}${API}/describe/`)).json()) as { hash: string };
    assert.match(describe.hash, /^[0-9a-f]{40}$/);
    assert.equal(deleted.headers.get('x-maas-api-hash'), describe.hash);
  });

  it('matches templates without a trailing slash and decodes path parameters', async () => {
    const res = await json(await call('GET', '/nodes/abc%20d/results/7', { user: 'alice' }));
    assert.deepEqual(res.path, { system_id: 'abc d', id: '7' });
    const slash = await json(await call('GET', '/nodes/abc/results/7/', { user: 'alice' }));
    assert.deepEqual(slash.path, { system_id: 'abc', id: '7' });
  });

  it('answers HEAD as GET and leaves paths outside the API to later middleware', async () => {
    const head = await call('HEAD', '/machines/', { user: 'alice' });
    assert.equal(head.status, 200);
    assert.equal((await fetch(`${server.url}/elsewhere`)).status, 404);
  });

  it("answers an unknown endpoint under the API with MAAS's 404, whoever asks", async () => {
    for (const user of ['alice', undefined]) {
      for (const method of ['GET', 'POST', 'DELETE']) {
        const res = await call(method, '/nothing-here/?op=read', { user });
        assert.equal(res.status, 404, `${method} ${user}`);
        assert.equal(res.headers.get('content-type'), 'text/plain; charset=utf-8');
        assert.equal(await res.text(), 'Unknown API endpoint: /MAAS/api/2.0/nothing-here/.');
      }
    }
    const nested = await call('GET', '/machines/abc123/frobnicate/', { user: 'alice' });
    assert.equal(await nested.text(), 'Unknown API endpoint: /MAAS/api/2.0/machines/abc123/frobnicate/.');
  });

  it('refuses an ambiguous registry at startup', () => {
    const [machines] = sampleResources();
    assert.ok(machines);
    const twice = {
      ...machines,
      actions: [...machines.actions, { method: 'POST' as const, op: 'allocate', doc: '', handle: async () => 1 }],
    };
    assert.throws(() => validateResources([twice]), /declared twice/);
    const misnamed = {
      ...machines,
      actions: [{ name: 'list', method: 'GET' as const, doc: '', handle: async () => 1 }],
    };
    assert.throws(() => validateResources([misnamed]), /name must be "read"/);
    assert.throws(() => validateResources([machines, { ...machines, name: 'Other' }]), /same path/);
  });
});
