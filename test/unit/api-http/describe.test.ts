import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { apiDescriptionHash, describeApi } from '../../../src/api/http/describe';
import { errorBoundary } from '../../../src/api/http/errors-middleware';
import { createApiRouter } from '../../../src/api/http/router';
import { versionResource } from '../../../src/api/http/version';
import { sampleResources, testAuthenticate } from './sample-registry';
import { serve, type Served } from './serve';

interface Action {
  doc: string;
  method: string;
  name: string;
  op: string | null;
  restful: boolean;
}
interface Handler {
  actions: Action[];
  doc: string;
  name: string;
  params: string[];
  path: string;
  uri: string;
}
interface Description {
  doc: string;
  handlers: Handler[];
  hash: string;
  resources: Array<{ anon: Handler | null; auth: Handler | null; name: string }>;
}

let server: Served;
let description: Description;
let contentType: string | null;

before(async () => {
  server = await serve((app) => {
    app.proxy = true;
    app.use(errorBoundary({ log: () => {} }));
    app.use(createApiRouter({ resources: sampleResources(), authenticate: testAuthenticate }));
  });
  const res = await fetch(`${server.url}/MAAS/api/2.0/describe/`);
  assert.equal(res.status, 200);
  contentType = res.headers.get('content-type');
  description = (await res.json()) as Description;
});
after(() => server.close());

function resource(name: string) {
  const found = description.resources.find((r) => r.name === name);
  assert.ok(found, `resource ${name}`);
  return found;
}

/** python-libmaas bones.SessionAPI: handler names with Anon/Handler stripped, auth preferred. */
function libmaasHandlers(withCredentials: boolean): Map<string, Handler> {
  const handlers = new Map<string, Handler>();
  for (const r of description.resources) {
    const h = withCredentials ? (r.auth ?? r.anon) : r.anon;
    if (h) handlers.set(h.name.replace(/^Anon/, '').replace(/Handler$/, ''), h);
  }
  return handlers;
}

describe('describe/', () => {
  it('is anonymous JSON with exactly the content type the maas CLI demands', () => {
    assert.equal(contentType, 'application/json');
  });

  it("has MAAS's top-level shape with sorted keys", () => {
    assert.deepEqual(Object.keys(description), ['doc', 'handlers', 'hash', 'resources']);
    assert.equal(description.doc, 'MAAS API');
    assert.match(description.hash, /^[0-9a-f]{40}$/);
    assert.deepEqual(
      description.resources.map((r) => r.name),
      ['MachineHandler', 'MachinesHandler', 'NodeResultsHandler', 'VersionHandler'],
    );
    for (const r of description.resources) assert.deepEqual(Object.keys(r), ['anon', 'auth', 'name']);
  });

  it('splits anonymous and authenticated handlers as MAAS does', () => {
    const machines = resource('MachinesHandler');
    assert.equal(machines.auth?.name, 'MachinesHandler');
    assert.deepEqual(
      machines.auth?.actions.map((a) => a.name),
      ['allocate', 'create', 'is_registered', 'read'],
    );
    assert.equal(machines.anon?.name, 'AnonMachinesHandler');
    assert.equal(machines.anon?.doc, 'Anonymous access to Machines.');
    assert.deepEqual(
      machines.anon?.actions.map((a) => a.name),
      ['create', 'is_registered'],
    );
    assert.equal(resource('MachineHandler').anon, null);
    const version = resource('VersionHandler');
    assert.equal(version.auth, null, 'an all-anonymous resource is described like an unauthenticated MAAS resource');
    assert.equal(version.anon?.name, 'VersionHandler');
    assert.deepEqual(
      description.handlers.map((h) => h.name),
      ['AnonMachinesHandler', 'VersionHandler', 'MachineHandler', 'MachinesHandler', 'NodeResultsHandler'],
    );
  });

  it('describes handlers with absolute uri, path and params, and actions with method/op/restful', () => {
    const machine = resource('MachineHandler').auth;
    assert.ok(machine);
    assert.deepEqual(Object.keys(machine), ['actions', 'doc', 'name', 'params', 'path', 'uri']);
    assert.equal(machine.path, '/MAAS/api/2.0/machines/{system_id}/');
    assert.equal(machine.uri, `${server.url}/MAAS/api/2.0/machines/{system_id}/`);
    assert.deepEqual(machine.params, ['system_id']);
    assert.deepEqual(resource('NodeResultsHandler').auth?.params, ['system_id', 'id']);
    assert.deepEqual(machine.actions, [
      { doc: 'Delete a machine.', method: 'DELETE', name: 'delete', op: null, restful: true },
      { doc: 'Deploy an operating system.', method: 'POST', name: 'deploy', op: 'deploy', restful: false },
      { doc: 'Read a machine.', method: 'GET', name: 'read', op: null, restful: true },
      { doc: 'Release a machine.', method: 'POST', name: 'release', op: 'release', restful: false },
      { doc: 'Update a machine.', method: 'PUT', name: 'update', op: null, restful: true },
    ]);
    for (const h of description.handlers) assert.ok(h.uri.startsWith(server.url), 'handlers carry uri too');
  });

  it('gives python-libmaas and the maas CLI the handler names they look up', () => {
    const auth = libmaasHandlers(true);
    assert.deepEqual([...auth.keys()].sort(), ['Machine', 'Machines', 'NodeResults', 'Version']);
    assert.equal(auth.get('Machines')?.name, 'MachinesHandler');
    const anon = libmaasHandlers(false);
    assert.deepEqual([...anon.keys()].sort(), ['Machines', 'Version']);
    // maascli.utils.handler_command_name
    const command = (name: string) =>
      (name.match(/([A-Z]*[a-z0-9]+|[A-Z]+)(?=[^a-z0-9]|$)/g) ?? [])
        .map((p) => p.toLowerCase())
        .filter((p) => p !== 'handler')
        .join('-');
    assert.deepEqual(
      description.resources.map((r) => command(r.name)),
      ['machine', 'machines', 'node-results', 'version'],
    );
  });

  it('builds uri from the forwarded scheme and host when the app trusts its proxy', async () => {
    const res = await fetch(`${server.url}/MAAS/api/2.0/describe`, {
      headers: { 'X-Forwarded-Proto': 'https', 'X-Forwarded-Host': 'maas.example:5443' },
    });
    const forwarded = (await res.json()) as Description;
    assert.equal(forwarded.resources[0]?.auth?.uri, 'https://maas.example:5443/MAAS/api/2.0/machines/{system_id}/');
    assert.equal(forwarded.hash, description.hash, 'the hash does not depend on the host');
  });

  it('hashes the registry: stable for the same one, different when an action changes', () => {
    const withVersion = () => [...sampleResources(), versionResource()];
    const a = apiDescriptionHash(describeApi(withVersion(), '/MAAS/api/2.0'));
    assert.equal(a, description.hash);
    assert.equal(apiDescriptionHash(describeApi(withVersion(), '/MAAS/api/2.0')), a);
    const changed = withVersion();
    changed[0]?.actions.push({ method: 'POST', op: 'accept', doc: 'Accept.', handle: async () => null });
    assert.notEqual(apiDescriptionHash(describeApi(changed, '/MAAS/api/2.0')), a);
  });
});

describe('version endpoints', () => {
  it('GET /MAAS/api/version/ is the text 2.0', async () => {
    for (const path of ['/MAAS/api/version/', '/MAAS/api/version']) {
      const res = await fetch(`${server.url}${path}`);
      assert.equal(res.status, 200);
      assert.equal(await res.text(), '2.0');
    }
  });

  it('serves version/ and describe/ whatever the Authorization header says, as MAAS does', async () => {
    for (const path of ['/MAAS/api/2.0/version/', '/MAAS/api/2.0/describe/']) {
      for (const authorization of ['Test !', 'Test alice']) {
        const res = await fetch(`${server.url}${path}`, { headers: { Authorization: authorization } });
        assert.equal(res.status, 200, `${path} with ${authorization}: ${await res.clone().text()}`);
        assert.ok(await res.json());
      }
    }
  });

  it("GET /MAAS/api/2.0/version/ is anonymous JSON with MAAS's capabilities", async () => {
    const res = await fetch(`${server.url}/MAAS/api/2.0/version/`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { capabilities: string[]; version: string; subversion: string };
    assert.equal(body.version, '3.5.0');
    assert.equal(body.subversion, 'metalflow');
    for (const cap of [
      'networks-management',
      'static-ipaddresses',
      'devices-management',
      'network-deployment-ubuntu',
      'authenticate-api',
    ]) {
      assert.ok(body.capabilities.includes(cap), cap);
    }
  });
});
