// The `maas` handler (get_config/set_config): MAAS's names, validation and reply shapes, stored in
// the database, and each setting metalflow honours changing what it drives: deploy's default image,
// release's erase defaults, node_timeout for workflows started after the change, the UI's title.
// Real HTTP, PostgreSQL and Temporal (the rack is scripted).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { lifecycleWorkflowId } from '../../src/contracts/workflows';
import { SESSION_COOKIE } from '../../src/api/ui/session';
import { startApi, type ApiClient } from '../helpers/api';
import { bootRootWith } from '../helpers/boot-images';
import { startTestRegion, waitForStatus, type TestRegion } from '../helpers/region';
import { ScriptedRack } from '../helpers/scripted-rack';

type Json = Record<string, unknown>;

describe('MAAS API: maas get_config/set_config', () => {
  let region: TestRegion;
  let api: ApiClient;
  let admin: string;
  let alice: string;
  const rack = new ScriptedRack(50);
  let macs = 0;

  before(async () => {
    const bootRoot = bootRootWith(['debian/bookworm', 'debian/trixie', 'ubuntu/noble']);
    region = await startTestRegion({ nodeTimeoutMs: 60_000, bootRoot, rack: rack.activities() });
    rack.services = region.services;
    api = await startApi(region);
    admin = await api.keyFor('admin', true);
    alice = await api.keyFor('alice');
  });
  after(async () => {
    await api?.close();
    await region?.stop();
  });

  const get = (name: string, key = alice) => api.call('GET', `/MAAS/api/2.0/maas/?op=get_config&name=${name}`, { key });
  const set = (name: string, value: string, key = admin) =>
    api.call('POST', '/MAAS/api/2.0/maas/?op=set_config', { key, form: { name, value } });
  const stored = async () =>
    (await region.services.db.query(`SELECT name, value FROM config ORDER BY name`)) as Array<{ name: string }>;
  const ready = async (hostname: string) => {
    const r = await api.call('POST', '/MAAS/api/2.0/machines/', {
      key: admin,
      form: {
        hostname,
        architecture: 'amd64/generic',
        mac_addresses: `52:54:00:cc:00:${(macs++).toString(16).padStart(2, '0')}`,
        power_type: 'manual',
      },
    });
    assert.equal(r.status, 200, r.text);
    const systemId = (r.body as Json).system_id as string;
    await waitForStatus(region.services, systemId, S.READY);
    return systemId;
  };
  const op = (id: string, name: string, form: Record<string, string> = {}) =>
    api.call('POST', `/MAAS/api/2.0/machines/${id}/op-${name}`, { key: admin, form });
  const events = async (id: string) =>
    (
      (await region.services.db.query(
        `SELECT e.description FROM events e JOIN machines m ON m.id = e.machine_id WHERE m.system_id = $1 ORDER BY e.id`,
        [id],
      )) as Array<{ description: string }>
    ).map((e) => e.description);

  it('get_config answers the JSON value (defaults until set); set_config answers OK and stores it', async () => {
    assert.deepEqual((await get('default_osystem')).body, 'debian');
    assert.deepEqual((await get('default_distro_series')).body, 'bookworm');
    assert.deepEqual((await get('enable_disk_erasing_on_release')).body, false);
    assert.deepEqual((await get('node_timeout')).body, 1, 'METALFLOW_NODE_TIMEOUT_SECONDS (60 s) is the default');
    assert.deepEqual((await get('default_storage_layout')).body, 'flat');
    assert.deepEqual((await get('upstream_dns')).body, null);

    const r = await set('upstream_dns', '8.8.8.8, 2001:db8::1  1.1.1.1');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.text, 'OK');
    assert.deepEqual((await get('upstream_dns')).body, '8.8.8.8 2001:db8::1 1.1.1.1');
    assert.equal((await set('ntp_server', 'ntp.example.com 10.0.0.1')).status, 200, "MAAS's old name");
    assert.deepEqual((await get('ntp_servers')).body, 'ntp.example.com 10.0.0.1');
    assert.equal((await set('default_storage_layout', 'lvm')).status, 200);
    assert.deepEqual((await get('default_storage_layout')).body, 'lvm');
    assert.equal((await set('default_min_hwe_kernel', 'hwe-22.04')).status, 200);
    assert.deepEqual((await get('default_min_hwe_kernel')).body, 'hwe-22.04');
    assert.equal((await set('commissioning_distro_series', 'noble')).status, 200);
    assert.deepEqual((await get('commissioning_distro_series')).body, 'noble');
  });

  it('refuses bad values, unsupported and unknown names with a 400 naming the setting, and stores nothing', async () => {
    const before = await stored();
    const refused: Array<[string, string, RegExp]> = [
      [
        'default_osystem',
        'windows',
        /^'windows' is not a valid osystem\. {2}It should be one of: 'debian', 'ubuntu'\.$/,
      ],
      [
        'default_distro_series',
        'noble',
        /'noble' is not a valid release\. {2}It should be one of: 'bookworm', 'trixie'/,
      ],
      ['commissioning_distro_series', 'jammy', /'jammy' is not a valid commissioning_distro_series/],
      ['default_storage_layout', 'zfs', /^Select a valid choice\. zfs is not one of the available choices\.$/],
      ['upstream_dns', '8.8.8.8 dns.example.com', /^Invalid IP address: dns\.example\.com/],
      ['ntp_servers', 'bad_host!', /^Invalid IP address or hostname: 'bad_host!'/],
      ['node_timeout', '0', /greater than or equal to 1/],
      ['node_timeout', 'ten', /^Enter a whole number\.$/],
      ['enable_disk_erasing_on_release', 'maybe', /is not a boolean/],
      ['maas_name', '  ', /^This field is required\.$/],
      ['default_min_hwe_kernel', 'linux-6.1', /is not a valid default_min_hwe_kernel/],
      ['http_proxy', 'http://proxy:3128', /^metalflow does not support the MAAS setting http_proxy/],
      [
        'no_such_setting',
        'x',
        /^no_such_setting is not a valid config setting \(valid settings are: .*maas_name.*\)\.$/,
      ],
    ];
    for (const [name, value, message] of refused) {
      const r = await set(name, value);
      assert.equal(r.status, 400, `${name}=${value}: ${r.text}`);
      const body = r.body as Record<string, string[]>;
      assert.deepEqual(Object.keys(body), [name], r.text);
      assert.match(body[name]![0]!, message);
    }
    const unsupported = await get('theme');
    assert.equal(unsupported.status, 400);
    assert.match(unsupported.text, /metalflow does not support the MAAS setting theme/);
    assert.equal((await get('nope')).status, 400);
    const noValue = await api.call('POST', '/MAAS/api/2.0/maas/?op=set_config', {
      key: admin,
      form: { name: 'maas_name' },
    });
    assert.equal(noValue.status, 400);
    assert.match(noValue.text, /value/);
    assert.equal((await set('maas_name', 'mine', alice)).status, 403, 'set_config is for admins');
    assert.deepEqual(await stored(), before);
  });

  it('default_osystem/default_distro_series: a deploy without distro_series installs them', async () => {
    const id = await ready('config-deploy');
    assert.equal((await set('default_distro_series', 'trixie')).status, 200);
    const r = await op(id, 'deploy');
    assert.equal(r.status, 200, r.text);
    assert.equal((r.body as Json).distro_series, 'trixie');
    assert.equal((r.body as Json).osystem, 'debian');
    await waitForStatus(region.services, id, S.DEPLOYED);

    // Another OS: its series are the choices now, and a deploy follows.
    assert.equal((await set('default_osystem', 'ubuntu')).status, 200);
    assert.equal((await set('default_distro_series', 'noble')).status, 200);
    assert.equal((await op(id, 'release')).status, 200);
    await waitForStatus(region.services, id, S.READY);
    const again = await op(id, 'deploy');
    assert.equal(again.status, 200, again.text);
    assert.equal((again.body as Json).osystem, 'ubuntu');
    assert.equal((again.body as Json).distro_series, 'noble');
    await waitForStatus(region.services, id, S.DEPLOYED);
    assert.equal((await op(id, 'release')).status, 200);
    await waitForStatus(region.services, id, S.READY);
  });

  it('enable_disk_erasing_on_release forces an erase; disk_erase_with_* set its mode unless the release says', async () => {
    const id = await ready('config-erase');
    const deployAndRelease = async (form: Record<string, string>) => {
      assert.equal((await op(id, 'deploy', { distro_series: 'bookworm' })).status, 200);
      await waitForStatus(region.services, id, S.DEPLOYED);
      const r = await op(id, 'release', form);
      assert.equal(r.status, 200, r.text);
      await waitForStatus(region.services, id, S.READY);
      return (await events(id)).filter((e) => /erase disks/.test(e));
    };
    assert.deepEqual(await deployAndRelease({}), [], 'no erase by default');
    assert.equal((await set('enable_disk_erasing_on_release', 'true')).status, 200);
    assert.equal((await set('disk_erase_with_secure_erase', 'true')).status, 200);
    assert.deepEqual(await deployAndRelease({ erase: 'false' }), ['Powering on to erase disks (secure).']);
    const withQuick = await deployAndRelease({ secure_erase: 'false', quick_erase: 'true' });
    assert.equal(withQuick.at(-1), 'Powering on to erase disks (quick).');
    assert.equal((await set('enable_disk_erasing_on_release', 'false')).status, 200);
    assert.equal((await deployAndRelease({})).length, 2, 'no further erase once the setting is off');
  });

  it('node_timeout: workflows started after a change get the new deadline', async () => {
    const id = await ready('config-timeout');
    assert.equal((await set('node_timeout', '7')).status, 200);
    assert.deepEqual((await get('node_timeout')).body, 7);
    assert.equal((await op(id, 'commission')).status, 200);
    const history = await region.client.workflow.getHandle(lifecycleWorkflowId(id)).fetchHistory();
    const input = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads![0]!.data!;
    const params = JSON.parse(Buffer.from(input).toString('utf8')) as { deadlines: { nodeTimeoutMs: number } };
    assert.equal(params.deadlines.nodeTimeoutMs, 7 * 60_000);
    await waitForStatus(region.services, id, S.READY);
  });

  it("maas_name: the web UI's page title and header", async () => {
    assert.equal((await set('maas_name', 'lab <east>')).status, 200);
    assert.deepEqual((await get('maas_name')).body, 'lab <east>');
    const user = await region.services.users.create({
      username: 'uiuser',
      password: 'pw',
      email: 'u@example.com',
      isSuperuser: false,
    });
    const token = await region.services.uiSessions.create(user.id);
    const page = await fetch(`${api.base}/MAAS/r/machines`, { headers: { cookie: `${SESSION_COOKIE}=${token}` } });
    const html = await page.text();
    assert.match(html, /<title>Machines \| lab &lt;east&gt;<\/title>/, html.slice(0, 400));
  });
});
