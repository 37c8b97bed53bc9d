import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ApiError, badRequest, conflict, notFound, serviceUnavailable } from '../../../src/api/http/errors';
import { errorBoundary } from '../../../src/api/http/errors-middleware';
import { serve, type Served } from './serve';

class InvalidTransitionError extends Error {}

let server: Served;
const logged: unknown[] = [];

before(async () => {
  server = await serve((app) => {
    app.use(
      errorBoundary({
        map: (err) => (err instanceof InvalidTransitionError ? conflict(err.message) : undefined),
        log: (err) => logged.push(err),
      }),
    );
    app.use(async (ctx) => {
      switch (ctx.path) {
        case '/not-found':
          throw notFound('No Machine matches the given query.');
        case '/invalid':
          throw badRequest({ hostname: ['This field is required.'] });
        case '/domain':
          throw new InvalidTransitionError('Invalid transition: Deployed -> Commissioning.');
        case '/unavailable':
          throw serviceUnavailable('Temporal is unreachable; nothing was changed.');
        case '/koa-throw':
          ctx.throw(404, 'gone fishing');
          break;
        default:
          throw new Error('secret database password in /etc/metalflow');
      }
    });
  });
});
after(() => server.close());

async function get(path: string): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(`${server.url}${path}`);
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

describe('error boundary', () => {
  it('sends ApiErrors as MAAS does: plain text, or JSON field errors', async () => {
    assert.deepEqual(await get('/not-found'), {
      status: 404,
      type: 'text/plain; charset=utf-8',
      text: 'No Machine matches the given query.',
    });
    assert.deepEqual(await get('/invalid'), {
      status: 400,
      type: 'application/json',
      text: '{"hostname":["This field is required."]}',
    });
  });

  it("maps the app's domain errors through its hook", async () => {
    assert.deepEqual(await get('/domain'), {
      status: 409,
      type: 'text/plain; charset=utf-8',
      text: 'Invalid transition: Deployed -> Commissioning.',
    });
  });

  it('keeps Koa client errors, and logs 5xx ApiErrors', async () => {
    assert.equal((await get('/koa-throw')).text, 'gone fishing');
    const before = logged.length;
    assert.equal((await get('/unavailable')).status, 503);
    assert.equal(logged.length, before + 1);
  });

  it('answers anything else with a bare 500 and logs it, leaking nothing', async () => {
    const before = logged.length;
    const res = await get('/boom');
    assert.deepEqual(res, { status: 500, type: 'text/plain; charset=utf-8', text: 'Internal server error' });
    assert.equal(logged.length, before + 1);
    assert.ok(logged.at(-1) instanceof Error);
  });

  it('ApiError exposes 4xx messages to Koa and keeps its headers', () => {
    const err = new ApiError(418, 'teapot', undefined, { 'X-Why': 'because' });
    assert.equal(err.expose, true);
    assert.equal(err.contentType, 'text/plain; charset=utf-8');
    assert.equal(new ApiError(500, 'x').expose, false);
  });
});
