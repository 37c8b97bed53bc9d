// Issue 15 over real HTTP on PostgreSQL and Temporal: anonymous enlistment takes only what an
// ephemeral environment sends; domain and hostname are validated as given; DELETE does not reveal
// an invisible machine; losers of a concurrent create get MAAS's 400, never PostgreSQL's text.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startApi, type ApiClient } from '../helpers/api';
import { startTestRegion, type TestRegion } from '../helpers/region';

type Json = Record<string, unknown>;
const MACHINES = '/MAAS/api/2.0/machines/';

describe('machines API hardening (real HTTP, PostgreSQL, Temporal)', () => {
  let region: TestRegion;
  let api: ApiClient;
  let admin: string;
  let alice: string;
  let macs = 0;
  const mac = () =>
    `52:54:00:bb:${Math.floor(macs / 256)
      .toString(16)
      .padStart(2, '0')}:${(macs++ % 256).toString(16).padStart(2, '0')}`;
  const count = async () =>
    Number(((await region.services.db.query('SELECT count(*) AS n FROM machines')) as Array<{ n: string }>)[0]!.n);
  const enlist = (form: Record<string, string | string[]>) =>
    api.call('POST', MACHINES, { key: null, form: { architecture: 'amd64', mac_addresses: mac(), ...form } });
  const create = (form: Record<string, string | string[]>, key = admin) =>
    api.call('POST', MACHINES, {
      key,
      form: { architecture: 'amd64', mac_addresses: mac(), power_type: 'manual', commission: 'false', ...form },
    });

  before(async () => {
    region = await startTestRegion({});
    api = await startApi(region);
    admin = await api.keyFor('admin', true);
    alice = await api.keyFor('alice');
    await api.keyFor('bob');
    // A machine's domain must exist (MAAS's choice field); these tests name this one.
    await region.services.domains.create({ name: 'lab.example' });
  });
  after(async () => {
    await api?.close();
    await region?.stop();
  });

  it('anonymous enlistment refuses a webhook (or any power type an ephemeral environment does not detect) and writes nothing', async () => {
    const before = await count();
    const r = await enlist({
      power_type: 'webhook',
      power_parameters_power_on_uri: 'http://attacker.example/on',
      power_parameters_power_off_uri: 'http://attacker.example/off',
      power_parameters_power_user: 'u',
      power_parameters_power_pass: 'p',
    });
    assert.equal(r.status, 400, r.text);
    assert.match(
      ((r.body as Json).power_type as string[])[0]!,
      /Anonymous enlistment takes power type ipmi, redfish, manual/,
    );
    assert.equal(await count(), before);
  });

  it('anonymous enlistment refuses fields enlistment does not send, naming each', async () => {
    const before = await count();
    for (const field of ['zone', 'pool', 'description', 'deployed', 'host_id', 'commission']) {
      const r = await enlist({ [field]: field === 'deployed' || field === 'commission' ? 'true' : 'x' });
      assert.equal(r.status, 400, `${field}: ${r.text}`);
      assert.deepEqual(Object.keys(r.body as Json), [field]);
    }
    assert.equal(await count(), before);
  });

  it("anonymous enlistment validates the detected BMC's parameters and takes what an ephemeral environment sends", async () => {
    const bad = await enlist({ power_type: 'ipmi', power_parameters_power_address: 'not a host' });
    assert.equal(bad.status, 400, bad.text);
    assert.ok((bad.body as Json).power_parameters_power_address);
    const unknown = await enlist({ power_type: 'manual', power_parameters_power_on_uri: 'http://x.example/' });
    assert.equal(unknown.status, 400, unknown.text);
    assert.ok((unknown.body as Json).power_parameters_power_on_uri);

    const plain = await enlist({});
    assert.equal(plain.status, 200, plain.text);
    const ipmi = await enlist({
      hostname: 'enlisted-ipmi',
      domain: 'lab.example',
      power_type: 'ipmi',
      power_parameters: JSON.stringify({ power_address: '10.9.0.5', power_user: 'maas', power_pass: 'secret' }),
    });
    assert.equal(ipmi.status, 200, ipmi.text);
    assert.equal((ipmi.body as Json).hostname, 'enlisted-ipmi');
    assert.equal((ipmi.body as Json).power_type, 'ipmi');
  });

  it('validates domain as a DNS name (400 naming it, nothing written)', async () => {
    const before = await count();
    for (const domain of ['bad_domain', '-lab.example', 'lab..example', 'a'.repeat(64), 'lab.example\n', 'x y'])
      assert.deepEqual(
        ((await create({ domain })).body as Json).domain,
        [`Invalid domain name: ${domain}.`],
        JSON.stringify(domain),
      );
    assert.equal(await count(), before);
    const ok = await create({ domain: 'Lab.Example.', hostname: 'in-a-domain' });
    assert.equal(ok.status, 200, ok.text);
    const rows: Array<{ domain: string }> = await region.services.db.query(
      `SELECT domain FROM machines WHERE hostname = 'in-a-domain'`,
    );
    assert.equal(rows[0]?.domain, 'lab.example');
    const unknown = await create({ domain: 'nowhere.example' });
    assert.equal(unknown.status, 400, unknown.text);
    assert.deepEqual((unknown.body as Json).domain, [
      'Select a valid choice. nowhere.example is not one of the available choices.',
    ]);
  });

  it("refuses a hostname's trailing newline instead of trimming it", async () => {
    const before = await count();
    for (const hostname of ['web1\n', ' web1', 'web1\r\n']) {
      const r = await create({ hostname });
      assert.equal(r.status, 400, `${JSON.stringify(hostname)}: ${r.text}`);
      assert.ok((r.body as Json).hostname);
    }
    assert.equal(await count(), before);
    const created = await create({ hostname: 'web2' });
    const systemId = (created.body as Json).system_id as string;
    const renamed = await api.call('PUT', `${MACHINES}${systemId}/`, { key: admin, form: { hostname: 'web3\n' } });
    assert.equal(renamed.status, 400, renamed.text);
  });

  it('DELETE of a machine the caller cannot see is a 404, like every other action; a visible one stays 403', async () => {
    const bobId = (
      (await region.services.db.query(`SELECT id FROM users WHERE username = 'bob'`)) as Array<{ id: number }>
    )[0]!.id;
    const bobs = await region.services.machines.create({
      hostname: 'bobs-machine',
      macAddresses: [mac()],
      powerParameters: {},
      deployed: true,
      ownerId: bobId,
    });
    const hidden = await api.call('DELETE', `${MACHINES}${bobs.systemId}/`, { key: alice });
    assert.equal(hidden.status, 404, hidden.text);
    assert.equal(
      (await api.call('GET', `${MACHINES}${bobs.systemId}/`, { key: alice })).status,
      404,
      'the same answer as a read',
    );
    const free = (await create({ hostname: 'free-one' })).body as Json;
    const visible = await api.call('DELETE', `${MACHINES}${free.system_id as string}/`, { key: alice });
    assert.equal(visible.status, 403, visible.text);
    assert.equal((await api.call('DELETE', `${MACHINES}nosuchid/`, { key: alice })).status, 404);
  });

  it("losers of concurrent creates with the same MAC or hostname all get MAAS's 400, never PostgreSQL's text", async () => {
    const shared = mac();
    const sameMac = await Promise.all(
      Array.from({ length: 8 }, (_, i) => create({ hostname: `race-mac-${i}`, mac_addresses: shared })),
    );
    const sameName = await Promise.all(Array.from({ length: 8 }, () => create({ hostname: 'race-name' })));
    const winner = (sameMac.find((r) => r.status === 200)?.body as Json | undefined)?.hostname;
    for (const [results, field, message] of [
      [sameMac, 'mac_addresses', `MAC address ${shared} already in use on ${String(winner)}.`],
      [sameName, 'hostname', 'Node with hostname "race-name" already exists.'],
    ] as const) {
      assert.equal(results.filter((r) => r.status === 200).length, 1, results.map((r) => r.status).join(' '));
      for (const r of results.filter((x) => x.status !== 200)) {
        assert.equal(r.status, 400, r.text);
        assert.deepEqual((r.body as Json)[field], [message]);
        assert.doesNotMatch(r.text, /Key \(|duplicate key|violates/);
      }
    }
  });
});
