// A resource routed at more than one path (MAAS's NodeResultsHandler answers at both
// commissioning-results/ and installation-results/) is described once, at its own path.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errorBoundary } from '../../../src/api/http/errors-middleware';
import { type Resource, validateResources } from '../../../src/api/http/resource';
import { createApiRouter } from '../../../src/api/http/router';
import { testAuthenticate } from './sample-registry';
import { serve, type Served } from './serve';

const results: Resource<unknown> = {
  name: 'NodeResultsHandler',
  path: '/installation-results/',
  aliasPaths: ['/commissioning-results/'],
  doc: 'Results.',
  actions: [{ method: 'GET', doc: 'List.', handle: async (c) => ({ path: c.koa.path }) }],
};

let server: Served;
before(async () => {
  server = await serve((app) => {
    app.use(errorBoundary({ log: () => {} }));
    app.use(createApiRouter({ resources: [results], authenticate: testAuthenticate }));
  });
});
after(() => server.close());

const get = (path: string) => fetch(`${server.url}/MAAS/api/2.0${path}`, { headers: { Authorization: 'Test alice' } });

describe('alias paths', () => {
  it('routes the resource at its path and at each alias', async () => {
    for (const path of ['/installation-results/', '/commissioning-results/', '/commissioning-results']) {
      const res = await get(path);
      assert.equal(res.status, 200, path);
    }
  });

  it('describes the resource once, at its own path', async () => {
    const description = (await (await get('/describe/')).json()) as {
      resources: Array<{ name: string; auth: { path: string } | null }>;
    };
    const described = description.resources.filter((r) => r.name === 'NodeResultsHandler');
    assert.equal(described.length, 1);
    assert.equal(described[0]!.auth!.path, '/MAAS/api/2.0/installation-results/');
    const text = JSON.stringify(description);
    assert.ok(!text.includes('commissioning-results'), 'the alias stays out of describe/');
  });

  it('refuses an alias that collides with another path or changes the placeholders', () => {
    const other: Resource<unknown> = { ...results, name: 'Other', path: '/commissioning-results/', aliasPaths: [] };
    assert.throws(() => validateResources([results, other]), /same path \(\/commissioning-results\/\)/);
    const selfClash = { ...results, aliasPaths: ['/installation-results'] };
    assert.throws(() => validateResources([selfClash]), /same path/);
    const withId = { ...results, aliasPaths: ['/results/{id}/'] };
    assert.throws(() => validateResources([withId]), /placeholders of its path/);
  });
});
