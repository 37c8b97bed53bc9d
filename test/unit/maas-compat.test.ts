// docs/maas-compat.md cannot drift: it is regenerated here from describe/ (built from the app's
// registry) and docs/maas-api-3.7.json, and any difference fails with the command that fixes it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { ApiDescription } from '../../src/api/http/describe';
import {
  COMPAT_FILE,
  compare,
  currentCompat,
  type MaasApiList,
  notServedReason,
  readMaasList,
  REGENERATE,
} from '../../scripts/maas-compat';

describe('docs/maas-compat.md', () => {
  it('is what scripts/maas-compat.ts writes today', () => {
    const onDisk = readFileSync(COMPAT_FILE, 'utf8');
    assert.ok(onDisk === currentCompat(), `docs/maas-compat.md is out of date: run \`${REGENERATE}\` and commit it.`);
  });

  it("lists MAAS 3.7's handlers as read from its source (not a hand-typed list)", () => {
    const maas = readMaasList();
    assert.equal(maas.rev, '3.7.3');
    assert.match(maas.commit ?? '', /^[0-9a-f]{40}$/);
    assert.equal(maas.handlers.length, 104);
    const machine = maas.handlers.find((h) => h.name === 'MachineHandler');
    const deploy = machine?.actions.find((a) => a.op === 'deploy');
    assert.deepEqual([deploy?.method, deploy?.params.includes('distro_series')], ['POST', true]);
    // CRUD a class removed (create = None) is not listed.
    assert.equal(
      machine?.actions.some((a) => a.method === 'POST' && a.op === null),
      false,
    );
  });
});

describe('the comparison', () => {
  const maas: MaasApiList = {
    source: 'canonical/maas',
    rev: 'test',
    commit: null,
    handlers: [
      {
        name: 'ZonesHandler',
        path: '/MAAS/api/2.0/zones/',
        access: 'user',
        in_describe: true,
        actions: [
          { method: 'GET', op: null, name: 'read', params: [] },
          { method: 'POST', op: null, name: 'create', params: ['name', 'description'] },
        ],
      },
      { name: 'PodsHandler', path: '/MAAS/api/2.0/pods/', access: 'user', in_describe: true, actions: [] },
    ],
  };
  const ours = (createDoc: string | null): ApiDescription => ({
    doc: 'MAAS API',
    handlers: [],
    resources: [
      {
        name: 'ZonesHandler',
        anon: null,
        auth: {
          name: 'ZonesHandler',
          doc: '',
          params: [],
          path: '/MAAS/api/2.0/zones/',
          actions: [
            { method: 'GET', name: 'read', op: null, restful: true, doc: 'List.' },
            ...(createDoc === null
              ? []
              : [{ method: 'POST' as const, name: 'create', op: null, restful: true, doc: createDoc }]),
          ],
        },
      },
      {
        name: 'ExtrasHandler',
        anon: null,
        auth: {
          name: 'ExtrasHandler',
          doc: '',
          params: [],
          path: '/MAAS/api/2.0/extras/',
          actions: [{ method: 'GET', name: 'read', op: null, restful: true, doc: '' }],
        },
      },
    ],
  });
  const full =
    'Create.\n\n:param name: Required. The name.\n:type name: String\n:param description: Optional. Text.\n:type description: String\n';

  it('serves a handler with every action and parameter, and gives a reason for one it does not serve', () => {
    const { reports, extra } = compare(maas, ours(full));
    assert.deepEqual(
      reports.map((r) => [r.maas.name, r.status]),
      [
        ['ZonesHandler', 'served'],
        ['PodsHandler', 'not served'],
      ],
    );
    assert.deepEqual(reports[1]!.notes, [notServedReason('PodsHandler')]);
    assert.match(notServedReason('PodsHandler'), /no VM hosts/);
    assert.deepEqual(extra, ['`ExtrasHandler` (`/MAAS/api/2.0/extras/`): `GET (read)`']);
  });

  it('calls a missing action, a missing parameter and a refused one partial, naming each', () => {
    assert.deepEqual(compare(maas, ours(null)).reports[0]!.notes, ['missing: `POST (create)`']);
    const noDescription = 'Create.\n\n:param name: Required. The name.\n:type name: String\n';
    assert.deepEqual(compare(maas, ours(noDescription)).reports[0]!.notes, [
      'POST (create) does not take `description` (refused: 400)',
    ]);
    const refused = full.replace('Optional. Text.', 'Optional. Not supported yet (a value is refused): no.');
    assert.deepEqual(compare(maas, ours(refused)).reports[0]!.notes, ['POST (create) refuses `description` (400)']);
  });
});
