// An action's chain: the access rule is asked before the form is read, a refusal runs nothing,
// and the handler sees only the parsed form.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { errorBoundary } from '../../../src/api/http/errors-middleware';
import { forbidden } from '../../../src/api/http/errors';
import * as field from '../../../src/api/http/form';
import { actionsOf, type AccessRule, type Resource } from '../../../src/api/http/resource';
import { createApiRouter } from '../../../src/api/http/router';
import { testAuthenticate, type User } from './sample-registry';
import { serve, type Served } from './serve';

const API = '/MAAS/api/2.0';
const asked: string[] = [];
const handled: unknown[] = [];
const action = actionsOf<User>();

const resources: Array<Resource<User>> = [
  {
    name: 'ZonesHandler',
    path: '/zones/',
    doc: 'Zones.',
    actions: [
      action({
        method: 'POST',
        access: { object: 'zone', verb: 'create' },
        form: field.form({ name: field.text('The name.', { required: true, maxLength: 5 }) }),
        doc: 'Create a zone.',
        handle: async (c) => (handled.push(c.form), c.form),
      }),
    ],
  },
];

/** Only "admin" may create. */
function authorize(user: User, access: AccessRule): void {
  asked.push(`${user.name} ${access.verb} ${access.object}`);
  if (user.name !== 'admin') throw forbidden('admin only');
}

let server: Served;
before(async () => {
  server = await serve((app) => {
    app.use(errorBoundary({ log: () => {} }));
    app.use(createApiRouter({ resources, authenticate: testAuthenticate, authorize }));
  });
});
after(() => server.close());

const post = (user: string, body: string) =>
  fetch(`${server.url}${API}/zones/`, {
    method: 'POST',
    headers: { Authorization: `Test ${user}`, 'Content-Type': 'application/x-www-form-urlencoded' },
    body,
  });

describe('the action chain', () => {
  it('refuses before reading the form: a bad form from a refused caller is a 403, not a 400', async () => {
    const r = await post('alice', 'name=far-too-long');
    assert.equal(r.status, 403);
    assert.deepEqual(asked, ['alice create zone']);
    assert.deepEqual(handled, []);
  });

  it('then refuses parameters the form does not declare, parses it with its caps, and runs the handler', async () => {
    assert.equal((await post('admin', 'name=far-too-long')).status, 400);
    const unknown = await post('admin', 'name=z1&other=x');
    assert.equal(unknown.status, 400);
    assert.deepEqual(await unknown.json(), {
      other: [
        "Unknown parameter: metalflow's POST (create) does not take it (describe/ lists the parameters it takes).",
      ],
    });
    assert.deepEqual(handled, [], 'the handler never ran');
    const ok = await post('admin', 'name=z1');
    assert.equal(ok.status, 200);
    assert.deepEqual(await ok.json(), { name: 'z1' });
  });

  it('will not start without a policy when actions declare access rules', () => {
    assert.throws(() => createApiRouter({ resources, authenticate: testAuthenticate }), /authorize option/);
  });
});
