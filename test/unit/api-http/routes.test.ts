// The rack API's routes are the contract's rackPaths: the templates come from the same functions
// the rack's client builds its requests with, so a path changed on one side changes on both. The
// table's hooks for the web UI: a guard or handler that answers itself, and a route for any method.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rackPaths } from '../../../src/contracts/rack-api';
import { errorBoundary, notFound } from '../../../src/api/http';
import { ANSWERED, routeTable, template } from '../../../src/api/http/routes';
import { PathMatcher } from '../../../src/api/http/path-match';
import { serve } from './serve';

describe('route templates from shared path functions', () => {
  it('turns path functions into templates, encoded arguments included', () => {
    assert.equal(template(rackPaths.heartbeat, 'rack'), '/racks/{rack}/heartbeat');
    assert.equal(template(rackPaths.bootConfigByMac, 'rack', 'mac'), '/racks/{rack}/boot-config/{mac}');
    assert.equal(template(rackPaths.power, 'system_id'), '/machines/{system_id}/power');
  });

  it('matches what the client sends, decoding the MAC the client encoded', () => {
    const matcher = new PathMatcher([{ template: template(rackPaths.bootConfigByMac, 'rack', 'mac'), value: 1 }]);
    const m = matcher.match(rackPaths.bootConfigByMac('abc', '52:54:00:12:34:56'));
    assert.deepEqual(m?.params, { rack: 'abc', mac: '52:54:00:12:34:56' });
  });
});

describe('route table', () => {
  it('lets a guard or a handler answer itself, and a `*` route take the methods others do not declare', async () => {
    const server = await serve((app) => {
      app.use(errorBoundary());
      app.use(
        routeTable({
          prefix: '/t',
          routes: [
            { method: 'GET', path: '/json', handle: async () => ({ ok: true }) },
            {
              method: 'GET',
              path: '/self',
              handle: async (ctx) => {
                ctx.status = 202;
                ctx.body = 'mine';
                return ANSWERED;
              },
            },
            { method: 'POST', path: '/any', handle: async () => 'post' },
            { method: '*', path: '/any', handle: async (ctx) => `any ${ctx.method}` },
          ],
          guard: (ctx) => {
            if (ctx.get('x-guard') !== 'answer') return;
            ctx.redirect('/elsewhere');
            return ANSWERED;
          },
          unknown: () => notFound('nope'),
        }),
      );
    });
    try {
      const get = (path: string, init?: RequestInit) =>
        fetch(`${server.url}/t${path}`, { redirect: 'manual', ...init });
      assert.deepEqual(await (await get('/json')).json(), { ok: true });
      const self = await get('/self');
      assert.equal(self.status, 202);
      assert.equal(await self.text(), 'mine');
      const guarded = await get('/json', { headers: { 'x-guard': 'answer' } });
      assert.equal(guarded.status, 302);
      assert.equal(guarded.headers.get('location'), '/elsewhere');
      assert.equal(await (await get('/any', { method: 'POST' })).text(), '"post"');
      assert.equal(await (await get('/any', { method: 'PUT' })).text(), '"any PUT"');
      assert.equal((await get('/missing')).status, 404);
    } finally {
      await server.close();
    }
  });
});
