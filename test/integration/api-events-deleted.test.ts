// A deleted machine's events stay, as in MAAS: `node` null, `hostname` the one it had, found by
// its hostname or system_id (admins; nobody owns a deleted machine's history).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { recordEvent } from '../../src/region/services/events';
import { startApi, type ApiClient } from '../helpers/api';
import { macAddress } from '../helpers/factories';
import { startTestRegion, type TestRegion } from '../helpers/region';

type Json = Record<string, unknown>;

describe('events outlive their machine', () => {
  let region: TestRegion;
  let api: ApiClient;
  let admin: string;
  let alice: string;

  before(async () => {
    region = await startTestRegion({});
    api = await startApi(region);
    admin = await api.keyFor('admin', true);
    alice = await api.keyFor('alice');
  });
  after(async () => {
    await api?.close();
    await region?.stop();
  });

  const events = async (key: string, query: string) => {
    const r = await api.call('GET', `/MAAS/api/2.0/events/?op=query&${query}`, { key });
    assert.equal(r.status, 200, r.text);
    return (r.body as { events: Json[] }).events;
  };

  it('keeps the events of a deleted machine with its hostname and system_id', async () => {
    const r = await api.call('POST', '/MAAS/api/2.0/machines/', {
      key: admin,
      form: {
        hostname: 'gone-soon',
        architecture: 'amd64/generic',
        mac_addresses: macAddress(),
        power_type: 'manual',
        commission: 'false',
      },
    });
    assert.equal(r.status, 200, r.text);
    const systemId = (r.body as Json).system_id as string;
    const rows = (await region.services.db.query('SELECT id FROM machines WHERE system_id = $1', [systemId])) as Array<{
      id: number;
    }>;
    const id = rows[0]!.id;
    await recordEvent(region.services.db.manager, id, {
      type: 'Before deletion',
      description: 'remember me',
      level: 'INFO',
    });
    const before = await events(admin, `hostname=gone-soon`);
    assert.equal(before.length >= 1, true);
    assert.equal(before[0]!.node, systemId);

    const del = await api.call('DELETE', `/MAAS/api/2.0/machines/${systemId}/`, { key: admin });
    assert.equal(del.status, 204, del.text);

    for (const query of ['hostname=gone-soon', `id=${systemId}`, 'level=DEBUG']) {
      const kept = (await events(admin, query)).filter((e) => e.type === 'Before deletion');
      assert.equal(kept.length, 1, query);
      assert.equal(kept[0]!.node, null, query);
      assert.equal(kept[0]!.hostname, 'gone-soon', query);
      assert.equal(kept[0]!.description, 'remember me', query);
    }
    // Nobody owns a deleted machine: a user does not see its history.
    assert.deepEqual(
      (await events(alice, 'hostname=gone-soon')).filter((e) => e.type === 'Before deletion'),
      [],
    );
    const [row] = (await region.services.db.query(
      `SELECT machine_id, node_system_id, node_hostname FROM events WHERE type = 'Before deletion'`,
    )) as Array<Json>;
    assert.deepEqual(row, { machine_id: null, node_system_id: systemId, node_hostname: 'gone-soon' });
  });
});
