// IPAM at deploy over real HTTP, PostgreSQL and Temporal (scripted rack): many machines deploy at
// once on a small subnet; each AUTO link gets a distinct free address (never the gateway, a range,
// a reserved IP or another machine's STATIC address), the deploys left without one are refused
// with MAAS's 503 and keep nothing, and release returns the addresses to the pool.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { startApi, type ApiClient } from '../helpers/api';
import { macAddress } from '../helpers/factories';
import { startTestRegion, waitForStatus, type TestRegion } from '../helpers/region';
import { ScriptedRack } from '../helpers/scripted-rack';

type Json = Record<string, unknown>;
const API = '/MAAS/api/2.0';
const MACHINES = 20;
// 10.99.0.0/27: .1 gateway, .2 reserved, .3 another machine's STATIC link, .10-.25 dynamic.
const FREE = ['4', '5', '6', '7', '8', '9', '26', '27', '28', '29', '30'].map((n) => `10.99.0.${n}`);

describe('IPAM: AUTO addresses at deploy, under concurrency', () => {
  let region: TestRegion;
  let api: ApiClient;
  let admin: string;
  let subnetId: number;
  const rack = new ScriptedRack(50);

  before(async () => {
    region = await startTestRegion({ nodeTimeoutMs: 120_000, rack: rack.activities() });
    rack.services = region.services;
    api = await startApi(region);
    admin = await api.keyFor('admin', true);
    const subnet = await api.call('POST', `${API}/subnets/`, {
      key: admin,
      form: { cidr: '10.99.0.0/27', gateway_ip: '10.99.0.1' },
    });
    assert.equal(subnet.status, 200, subnet.text);
    subnetId = (subnet.body as Json).id as number;
    const range = await api.call('POST', `${API}/ipranges/`, {
      key: admin,
      form: { type: 'dynamic', start_ip: '10.99.0.10', end_ip: '10.99.0.25' },
    });
    assert.equal(range.status, 200, range.text);
    const reserved = await api.call('POST', `${API}/ipaddresses/?op=reserve`, {
      key: admin,
      form: { ip: '10.99.0.2' },
    });
    assert.equal(reserved.status, 200, reserved.text);
  });
  after(async () => {
    await api?.close();
    await region?.stop();
  });

  const ready = async (hostname: string): Promise<string> => {
    const r = await api.call('POST', `${API}/machines/`, {
      key: admin,
      form: {
        hostname,
        architecture: 'amd64/generic',
        mac_addresses: macAddress(),
        power_type: 'manual',
        commission: 'true',
      },
    });
    assert.equal(r.status, 200, r.text);
    const id = (r.body as Json).system_id as string;
    await waitForStatus(region.services, id, S.READY, 60_000);
    return id;
  };
  /** A link on the machine's boot interface, as h1's link_subnet would write it. */
  const link = (systemId: string, mode: 'auto' | 'static', ip: string | null = null) =>
    region.services.db.query(
      `INSERT INTO interface_links (interface_id, mode, subnet_id, ip)
       SELECT i.id, $2, $3, $4::inet FROM interfaces i JOIN machines m ON m.id = i.machine_id WHERE m.system_id = $1`,
      [systemId, mode, subnetId, ip],
    );
  /** An AUTO link on the given subnet, on the machine's boot interface. */
  const autoLinkOn = (systemId: string, subnet: number) =>
    region.services.db.query(
      `INSERT INTO interface_links (interface_id, mode, subnet_id)
       SELECT i.id, 'auto', $2 FROM interfaces i JOIN machines m ON m.id = i.machine_id WHERE m.system_id = $1`,
      [systemId, subnet],
    );
  const autoIp = async (systemId: string): Promise<string | null> => {
    const rows: Array<{ ip: string | null }> = await region.services.db.query(
      `SELECT host(l.ip) AS ip FROM interface_links l JOIN interfaces i ON i.id = l.interface_id
         JOIN machines m ON m.id = i.machine_id WHERE m.system_id = $1 AND l.mode = 'auto'`,
      [systemId],
    );
    assert.equal(rows.length, 1);
    return rows[0]!.ip;
  };
  const deploy = (systemId: string) =>
    api.call('POST', `${API}/machines/${systemId}/op-deploy`, { key: admin, form: { distro_series: 'jammy' } });
  const release = (systemId: string) => api.call('POST', `${API}/machines/${systemId}/op-release`, { key: admin });

  it(`deploys ${MACHINES} machines at once on a /27: distinct free addresses, the rest refused (503), release returns them`, async () => {
    const staticHolder = await ready('ipam-static');
    await link(staticHolder, 'static', '10.99.0.3');
    const ids = await Promise.all(Array.from({ length: MACHINES }, (_, n) => ready(`ipam-${n}`)));
    for (const id of ids) await link(id, 'auto');

    const started = Date.now();
    const replies = await Promise.all(ids.map(async (id) => ({ id, r: await deploy(id) })));
    const took = Date.now() - started;
    const deployed = replies.filter((x) => x.r.status === 200).map((x) => x.id);
    const refused = replies.filter((x) => x.r.status !== 200);
    console.log(
      `IPAM concurrency: ${MACHINES} deploys at once, ${FREE.length} free addresses: ${deployed.length} claimed, ${refused.length} refused, in ${took} ms`,
    );
    assert.equal(deployed.length, FREE.length, 'every free address is claimed');
    for (const { r } of refused)
      assert.deepEqual([r.status, r.text], [503, 'No more IPs available in subnet: 10.99.0.0/27.']);

    const claimed = await Promise.all(deployed.map(autoIp));
    assert.deepEqual([...claimed].sort(), [...FREE].sort(), 'each free address once, nothing else');
    for (const { id } of refused) {
      assert.equal(await autoIp(id), null, 'a refused deploy keeps no address');
      const [m] = (await region.services.db.query(`SELECT status, owner_id FROM machines WHERE system_id = $1`, [
        id,
      ])) as Array<{ status: number; owner_id: number | null }>;
      assert.deepEqual(m, { status: S.READY, owner_id: null }, 'a refused deploy writes nothing');
    }
    await Promise.all(deployed.map((id) => waitForStatus(region.services, id, S.DEPLOYED, 60_000)));
    // Deployed: the addresses stay while the machines run.
    assert.deepEqual((await Promise.all(deployed.map(autoIp))).sort(), [...FREE].sort());

    for (const id of deployed) assert.equal((await release(id)).status, 200);
    await Promise.all(deployed.map((id) => waitForStatus(region.services, id, S.READY, 60_000)));
    for (const id of deployed) assert.equal(await autoIp(id), null, 'release returns the AUTO address');

    // What release returned, the machines refused before can now claim.
    const second = await Promise.all(refused.map(({ id }) => deploy(id)));
    for (const r of second) assert.equal(r.status, 200, r.text);
    const again = await Promise.all(refused.map(({ id }) => autoIp(id)));
    assert.equal(new Set(again).size, refused.length);
    for (const ip of again) assert.ok(FREE.includes(ip!), `${ip} is one of the free addresses`);
  });

  it("claims all of a machine's AUTO addresses or none: a full second subnet refuses the deploy and keeps the first free", async () => {
    // Subnets are claimed in id order: the free one first, so its address is claimed, then undone.
    const free = await api.call('POST', `${API}/subnets/`, { key: admin, form: { cidr: '10.97.0.0/29' } });
    const full = await api.call('POST', `${API}/subnets/`, {
      key: admin,
      form: { cidr: '10.98.0.0/30', gateway_ip: '10.98.0.1' },
    });
    assert.equal(full.status, 200, full.text);
    const reserved = await api.call('POST', `${API}/ipaddresses/?op=reserve`, {
      key: admin,
      form: { ip: '10.98.0.2' },
    });
    assert.equal(reserved.status, 200, reserved.text);
    const id = await ready('ipam-two-links');
    await autoLinkOn(id, (free.body as Json).id as number);
    await autoLinkOn(id, (full.body as Json).id as number);
    const r = await deploy(id);
    assert.deepEqual([r.status, r.text], [503, 'No more IPs available in subnet: 10.98.0.0/30.']);
    const ips: Array<{ ip: string | null }> = await region.services.db.query(
      `SELECT host(l.ip) AS ip FROM interface_links l JOIN interfaces i ON i.id = l.interface_id
         JOIN machines m ON m.id = i.machine_id WHERE m.system_id = $1`,
      [id],
    );
    assert.deepEqual(
      ips.map((x) => x.ip),
      [null, null],
      "the first subnet's address was not kept",
    );
    const [m] = (await region.services.db.query(`SELECT status FROM machines WHERE system_id = $1`, [id])) as Array<{
      status: number;
    }>;
    assert.equal(m!.status, S.READY);
  });
});
