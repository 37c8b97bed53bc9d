// The web UI an operator acts in (issue 19 items 1, 2, 5), over real HTTP with cookies and CSRF
// on PostgreSQL and Temporal: the Add machine form (errors beside their fields, nothing written),
// machine actions offered by status and rights (a forged POST refused with the reason), a
// selection's per-machine results, SSH keys, API keys shown once, users (admins only), escaping.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { UserEntity } from '../../src/region/db/entities';
import { layoutStepForDeploy } from '../../src/region/services/storage/layout-at-deploy';
import { startApi, type ApiClient } from '../helpers/api';
import { createUser, deployedMachineInput, machineInput } from '../helpers/factories';
import { giveDisk, startTestRegion, type TestRegion } from '../helpers/region';
import { UI, UiBrowser } from '../helpers/ui-browser';

const XSS = '<script>alert(1)</script>';
const ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGpQm3Vb0xXz1v9N5Rj7jL9r2xk8t3cQy1f5Zk4wYb0E alice@laptop';

describe('web UI: add machine, actions, keys and users (real HTTP, PostgreSQL, Temporal)', () => {
  let region: TestRegion;
  let api: ApiClient;
  const users: Record<string, number> = {};
  const as = (name: string) => new UiBrowser(api.base).loggedIn(name);
  const machine = (systemId: string) =>
    region.services.db
      .query(`SELECT hostname, status, locked, owner_id, user_data FROM machines WHERE system_id = $1`, [systemId])
      .then(
        (r: Array<{ hostname: string; status: number; locked: boolean; owner_id: number | null; user_data: string }>) =>
          r[0],
      );
  const ready = async (hostname: string) => {
    const m = await region.services.machines.create(machineInput({ hostname, zone: 'default' }));
    await region.services.db.query(`UPDATE machines SET status = $2 WHERE id = $1`, [m.id, S.READY]);
    return m.systemId;
  };

  before(async () => {
    region = await startTestRegion({});
    api = await startApi(region);
    for (const [name, admin] of [
      ['admin', true],
      ['alice', false],
    ] as const)
      users[name] = (await createUser(region.services, name, { admin })).id;
    await region.services.zones.create({ name: 'zone-b', description: '' });
    await region.services.tags.create({ name: 'gpu' });
  });
  after(async () => {
    await api?.close();
    await region?.stop();
  });

  it('Add machine: power parameters from the power type, errors beside their fields, nothing written', async () => {
    const admin = await as('admin');
    const form = await admin.get(`${UI}/machines/add?power_type=ipmi`);
    assert.equal(form.status, 200);
    assert.match(form.text, /<label for="power_parameters_power_address">IP address \(required\)<\/label>/);
    assert.match(form.text, /<select id="power_parameters_power_driver" name="power_parameters_power_driver">/);
    assert.match(
      form.text,
      /<input id="power_parameters_power_pass" name="power_parameters_power_pass" type="password"/,
    );
    assert.match(form.text, /id="deployed" name="deployed"/);
    // Filled in, not a placeholder: a placeholder sent nothing and the API refused the machine.
    assert.match(form.text, /<input id="architecture" name="architecture" value="amd64\/generic"/);

    const bad = await admin.post(
      `${UI}/machines/add`,
      [
        ['hostname', XSS],
        ['architecture', 'amd64/generic'],
        ['mac_addresses', 'not-a-mac'],
        ['power_type', 'ipmi'],
        ['power_parameters_power_pass', 'sekrit-password'],
        ['zone', 'default'],
      ],
      `${UI}/machines/add`,
    );
    assert.equal(bad.status, 400, bad.text);
    assert.match(bad.text, /id="mac_addresses-error">[^<]*not-a-mac[^<]*is not a valid MAC address/);
    assert.doesNotMatch(bad.text, /<script>alert/, 'the typed hostname is escaped when shown again');
    assert.match(bad.text, /&lt;script&gt;alert\(1\)&lt;\/script&gt;/);
    assert.doesNotMatch(bad.text, /sekrit-password/, 'a secret is never sent back');
    const missing = await admin.post(
      `${UI}/machines/add`,
      [
        ['hostname', 'ipmi-1'],
        ['mac_addresses', '52:54:00:aa:00:01'],
        ['power_type', 'ipmi'],
      ],
      `${UI}/machines/add`,
    );
    assert.equal(missing.status, 400);
    assert.match(missing.text, /id="power_parameters_power_address-error">This field is required\./);
    const written: unknown[] = await region.services.db.query(
      `SELECT 1 FROM machines WHERE hostname IN ('ipmi-1', $1)`,
      [XSS],
    );
    assert.equal(written.length, 0, 'nothing written on error');

    const added = await admin.post(
      `${UI}/machines/add`,
      [
        ['hostname', 'running-host'],
        ['architecture', 'amd64/generic'],
        ['mac_addresses', '52:54:00:aa:00:02\n52:54:00:aa:00:03'],
        ['power_type', 'manual'],
        ['zone', 'zone-b'],
        ['deployed', 'true'],
        ['commission', 'false'],
        ['commission', 'true'],
      ],
      `${UI}/machines/add`,
    );
    assert.equal(added.status, 303, added.text);
    const systemId = decodeURIComponent(added.location!.split('/').pop()!);
    const m = (await machine(systemId))!;
    assert.equal(m.status, S.DEPLOYED, 'deployed: registered as running, not commissioned');
    const macs: unknown[] = await region.services.db.query(
      `SELECT 1 FROM interfaces i JOIN machines m ON m.id = i.machine_id WHERE m.system_id = $1`,
      [systemId],
    );
    assert.equal(macs.length, 2, 'both MACs, one a line');
    const shown = await admin.get(added.location!);
    assert.match(shown.text, /id="flash"[^>]*><p>Machine running-host registered as deployed\./);
    assert.doesNotMatch((await admin.get(added.location!)).text, /id="flash"/, 'shown once');
  });

  it('Add machine and Users are for admins: the page and a forged POST are refused, nothing written', async () => {
    const alice = await as('alice');
    assert.equal((await alice.get(`${UI}/machines/add`)).status, 403);
    const forged = await alice.post(`${UI}/machines/add`, { hostname: 'sneaky', power_type: 'manual' });
    assert.equal(forged.status, 403);
    assert.match(forged.text, /You do not have permission to create machines\./);
    assert.equal((await alice.get(`${UI}/users`)).status, 403);
    const user = await alice.post(`${UI}/users`, { username: 'mallory', email: 'm@x.y', password: 'pw' });
    assert.equal(user.status, 403);
    const rows: unknown[] = await region.services.db.query(
      `SELECT 1 FROM machines WHERE hostname = 'sneaky' UNION ALL SELECT 1 FROM users WHERE username = 'mallory'`,
    );
    assert.equal(rows.length, 0);
    assert.doesNotMatch((await alice.get(`${UI}/machines`)).text, /nav-add-machine|nav-users/);
  });

  it("offers only what the machine's status and the user's rights allow; a forged POST gets the reason", async () => {
    const id = await ready('ready-1');
    const alice = await as('alice');
    const detail = await alice.get(`${UI}/machine/${id}`);
    assert.match(detail.text, /id="action-allocate"/);
    assert.match(detail.text, /id="action-deploy"/);
    for (const not of ['commission', 'release', 'abort', 'lock', 'delete', 'mark-fixed', 'set-zone'])
      assert.doesNotMatch(detail.text, new RegExp(`id="action-${not}"`), not);
    assert.equal((await alice.get(`${UI}/machine/${id}/action/commission`)).status, 403);
    const forged = await alice.post(`${UI}/machine/${id}/action/commission`);
    assert.equal(forged.status, 403);
    assert.match(forged.text, new RegExp(`You do not have permission to commission machine ${id}\\.`));
    const noCsrf = await alice.request('POST', `${UI}/machine/${id}/action/allocate`, {});
    assert.equal(noCsrf.status, 403, 'no CSRF token');
    assert.equal((await machine(id))!.owner_id, null, 'nothing done');

    // Deploy from Ready: allocated to alice, her user data (typed as text) stored as the API stores it.
    const confirm = await alice.get(`${UI}/machine/${id}/action/deploy`);
    assert.match(confirm.text, /Are you sure you want to deploy 1 machine\?/);
    assert.match(confirm.text, /<label for="user_data">/);
    const deployed = await alice.post(`${UI}/machine/${id}/action/deploy`, {
      user_data: '#cloud-config\npackages: [htop]\n',
    });
    assert.equal(deployed.status, 303, deployed.text);
    const m = (await machine(id))!;
    assert.equal(m.status, S.DEPLOYING);
    assert.equal(m.owner_id, users.alice);
    assert.equal(Buffer.from(m.user_data, 'base64').toString(), '#cloud-config\npackages: [htop]\n');
    assert.match((await alice.get(deployed.location!)).text, /ready-1 started deploying\./);

    // Deploying: lock, then release is not offered, and a forged release is refused as the state says.
    assert.equal((await alice.post(`${UI}/machine/${id}/action/lock`, { comment: XSS })).status, 303);
    const locked = await alice.get(`${UI}/machine/${id}`);
    assert.match(locked.text, /id="action-unlock"/);
    assert.doesNotMatch(locked.text, /id="action-release"|id="action-power-on"/);
    const release = await alice.post(`${UI}/machine/${id}/action/release`, { erase: 'true' });
    assert.equal(release.status, 409);
    assert.match(release.text, /The machine is locked\./);
    assert.equal((await machine(id))!.status, S.DEPLOYING);
    assert.equal((await alice.get(`${UI}/machine/${id}/action/no-such-action`)).status, 404);
  });

  it('commission, mark broken and fixed as an admin; a service refusal comes back on the confirmation page', async () => {
    const id = await ready('ready-2');
    const admin = await as('admin');
    const c = await admin.post(`${UI}/machine/${id}/action/commission`, [
      ['skip_storage', 'false'],
      ['skip_storage', 'true'],
    ]);
    assert.equal(c.status, 303, c.text);
    assert.equal((await machine(id))!.status, S.COMMISSIONING);
    const busy = await admin.get(`${UI}/machine/${id}`);
    assert.match(busy.text, /id="action-abort"/);
    assert.doesNotMatch(busy.text, /id="action-delete"|id="action-commission"/);
    // The page's poll carries the same offers, so live.js keeps the bar in step with the status.
    const live = await admin.get(`${UI}/machine/${id}/live`);
    assert.equal(live.status, 200, live.text);
    const actions = (JSON.parse(live.text) as { actions: Array<{ name: string; label: string; href: string }> })
      .actions;
    assert.deepEqual(
      actions.map((a) => a.name),
      [...busy.text.matchAll(/id="action-([a-z-]+)"/g)].map((m) => m[1]),
      'the same actions as the bar served',
    );
    assert.deepEqual(
      actions.find((a) => a.name === 'abort'),
      {
        name: 'abort',
        label: 'Abort actions for machine…',
        href: `${UI}/machine/${id}/action/abort`,
      },
    );
    assert.equal((await admin.post(`${UI}/machine/${id}/action/mark-broken`, { comment: 'fan' })).status, 303);
    assert.equal((await machine(id))!.status, S.BROKEN);
    assert.equal((await admin.post(`${UI}/machine/${id}/action/mark-fixed`)).status, 303);
    assert.equal((await machine(id))!.status, S.READY);

    const zone = await admin.post(`${UI}/machine/${id}/action/set-zone`, { zone: 'no-such-zone' });
    assert.equal(zone.status, 400, 'the service refused: shown on the confirmation page');
    assert.match(zone.text, /id="confirm-action"/);
    assert.match(zone.text, /zone: Select a valid choice/);
  });

  it('a selection acts machine by machine and reports each refusal after the redirect', async () => {
    const admin = await as('admin');
    const a = await ready('sel-a');
    const b = await ready('sel-b');
    const locked = await region.services.machines.create(deployedMachineInput('sel-locked', users.admin!));
    await region.services.db.query(`UPDATE machines SET locked = true WHERE id = $1`, [locked.id]);
    const list = await admin.get(`${UI}/machines`);
    assert.match(
      list.text,
      new RegExp(`<input type="checkbox" form="machine-selection" name="system_id" value="${a}"`),
    );
    assert.match(list.text, /<select id="selection-action" name="action">/);

    const q = new URLSearchParams([
      ['action', 'delete'],
      ['system_id', a],
      ['system_id', locked.systemId],
    ]);
    const confirm = await admin.get(`${UI}/machines/action?${q.toString()}`);
    assert.equal(confirm.status, 200);
    assert.match(confirm.text, /Are you sure you want to delete 1 machine\?/);
    assert.match(confirm.text, /skipped: The machine is locked\./);

    // Posting the locked one anyway (a stale or forged form): refused with the reason, the other done.
    const done = await admin.post(`${UI}/machines/action`, [
      ['action', 'delete'],
      ['system_id', a],
      ['system_id', locked.systemId],
      ['system_id', 'nosuch'],
    ]);
    assert.equal(done.status, 303);
    assert.equal(await machine(a), undefined, 'deleted');
    assert.ok(await machine(locked.systemId), 'the locked one stays');
    const shown = (await admin.get(done.location!)).text;
    assert.match(shown, /1 machine deleted; 2 not\./);
    assert.match(shown, /<li>sel-locked: The machine is locked\.<\/li>/);
    assert.match(shown, /<li>nosuch: No Machine matches the given query\.<\/li>/);

    // Release with the erase box unticked (the hidden false the page sends): released without erasing.
    const running = await region.services.machines.create(deployedMachineInput('sel-running', users.admin!));
    const released = await admin.post(`${UI}/machines/action`, [
      ['action', 'release'],
      ['erase', 'false'],
      ['system_id', running.systemId],
    ]);
    assert.equal(released.status, 303);
    assert.equal((await machine(running.systemId))!.status, S.RELEASING);

    const tag = await admin.post(`${UI}/machines/action`, [
      ['action', 'tag'],
      ['tag', 'gpu'],
      ['system_id', b],
    ]);
    assert.equal(tag.status, 303);
    assert.match((await admin.get(`${UI}/machine/${b}`)).text, /<th>Tags<\/th><td>gpu<\/td>/);
  });

  it('deploy with a storage layout: applied first; one that cannot apply is an error on the form, nothing written', async () => {
    const admin = await as('admin');
    const groups = (systemId: string) =>
      region.services.db
        .query(
          `SELECT g.group_type FROM storage_filesystem_groups g JOIN machines m ON m.id = g.machine_id WHERE m.system_id = $1`,
          [systemId],
        )
        .then((r: Array<{ group_type: string }>) => r.map((g) => g.group_type));
    const diskless = await ready('layout-nodisk');
    const confirm = await admin.get(`${UI}/machine/${diskless}/action/deploy`);
    assert.match(
      confirm.text,
      /<select id="storage_layout" name="storage_layout"><option value="" selected>Keep the machine's current storage configuration<\/option><option value="flat">Flat layout<\/option><option value="lvm">LVM layout<\/option><option value="blank">No storage \(blank\) layout<\/option><\/select>/,
    );
    const noDisk = await admin.post(`${UI}/machine/${diskless}/action/deploy`, { storage_layout: 'flat' });
    assert.equal(noDisk.status, 400, noDisk.text);
    assert.match(noDisk.text, /id="confirm-action"/);
    assert.match(noDisk.text, /Machine is missing a boot disk; no storage layout can be applied\./);
    const bcache = await admin.post(`${UI}/machine/${diskless}/action/deploy`, { storage_layout: 'bcache' });
    assert.equal(bcache.status, 400);
    assert.match(
      bcache.text,
      /id="storage_layout-error">bcache is not one of the layouts metalflow applies: flat, lvm, blank\./,
    );
    let m = (await machine(diskless))!;
    assert.deepEqual([m.status, m.owner_id], [S.READY, null], 'not allocated, not deploying');

    // A user who may deploy but not lay out storage (MAAS's configure-storage): refused before the allocation.
    const withDisk = await ready('layout-disk');
    await giveDisk(region.services, withDisk);
    const alice = await as('alice');
    const notHers = await alice.post(`${UI}/machine/${withDisk}/action/deploy`, { storage_layout: 'lvm' });
    assert.equal(notHers.status, 403, notHers.text);
    m = (await machine(withDisk))!;
    assert.deepEqual([m.status, m.owner_id], [S.READY, null]);
    assert.deepEqual(await groups(withDisk), [], 'still the flat layout');

    const lvm = await admin.post(`${UI}/machine/${withDisk}/action/deploy`, { storage_layout: 'lvm' });
    assert.equal(lvm.status, 303, lvm.text);
    assert.deepEqual(await groups(withDisk), ['lvm-vg'], 'laid out as LVM');
    assert.equal((await machine(withDisk))!.status, S.DEPLOYING);

    // Allocated (not Ready): the layout cannot apply, and the deploy is not started either.
    const held = await ready('layout-held');
    await giveDisk(region.services, held);
    await region.services.db.query(`UPDATE machines SET status = $2, owner_id = $3 WHERE system_id = $1`, [
      held,
      S.ALLOCATED,
      users.admin,
    ]);
    const heldDeploy = await admin.post(`${UI}/machine/${held}/action/deploy`, { storage_layout: 'lvm' });
    assert.equal(heldDeploy.status, 409, heldDeploy.text);
    assert.match(heldDeploy.text, /Cannot change the storage layout on a machine that is not Ready\./);
    assert.equal((await machine(held))!.status, S.ALLOCATED);

    // The layout is one step of the deploy's transaction: a deploy refused after it (here by a step
    // that fails right after the layout) leaves the storage as it was.
    const reserved = await ready('layout-rolled-back');
    await giveDisk(region.services, reserved);
    const adminUser = await region.services.db.getRepository(UserEntity).findOneByOrFail({ id: users.admin });
    const caller = { kind: 'user' as const, user: adminUser };
    const step = await layoutStepForDeploy(region.services, caller, 'lvm', { distroSeries: '' });
    let laidOut: string[] = [];
    await assert.rejects(
      region.services.machineOps.deploy(caller, reserved, {
        distroSeries: '',
        userData: '',
        agentName: '',
        comment: '',
        storageLayout: {
          name: step.name,
          layOut: async (tx, m) => {
            await step.layOut(tx, m);
            laidOut = (
              await tx.query(`SELECT group_type FROM storage_filesystem_groups WHERE machine_id = $1`, [m.id])
            ).map((g: { group_type: string }) => g.group_type);
            throw new Error('refused after the layout');
          },
        },
      }),
      /refused after the layout/,
    );
    assert.deepEqual(laidOut, ['lvm-vg'], 'laid out inside the deploy');
    assert.deepEqual(await groups(reserved), [], 'the layout went with the refused deploy');
    m = (await machine(reserved))!;
    assert.deepEqual([m.status, m.owner_id], [S.READY, null]);

    // A selection: a bad layout is the form's error before any machine is touched.
    const sel = await admin.post(`${UI}/machines/action`, [
      ['action', 'deploy'],
      ['storage_layout', 'zfs'],
      ['system_id', diskless],
    ]);
    assert.equal(sel.status, 400, sel.text);
    assert.match(sel.text, /id="storage_layout-error">zfs is not one of the layouts/);
    assert.equal((await machine(diskless))!.status, S.READY);
  });

  it('tag action: a new tag typed in is created and applied; a bad or taken name is a field error, nothing written', async () => {
    const admin = await as('admin');
    const a = await ready('newtag-a');
    const b = await ready('newtag-b');
    const tagNames = () =>
      region.services.db
        .query(`SELECT name FROM tags ORDER BY name`)
        .then((r: Array<{ name: string }>) => r.map((t) => t.name));
    const before = await tagNames();
    const confirm = await admin.get(`${UI}/machine/${a}/action/tag`);
    assert.match(confirm.text, /<input id="new_tag" name="new_tag"/);
    const bad = await admin.post(`${UI}/machine/${a}/action/tag`, { new_tag: 'rack 7!' });
    assert.equal(bad.status, 400, bad.text);
    assert.match(
      bad.text,
      /id="new_tag-error">Enter a valid value: tag names are letters, digits, &quot;_&quot; and &quot;-&quot; only\./,
    );
    const taken = await admin.post(`${UI}/machine/${a}/action/tag`, { new_tag: 'gpu' });
    assert.match(taken.text, /id="new_tag-error">Tag with this Name already exists\./);
    const both = await admin.post(`${UI}/machine/${a}/action/tag`, { tag: 'gpu', new_tag: 'other' });
    assert.match(both.text, /id="new_tag-error">Choose an existing tag or type a new one, not both\./);
    const none = await admin.post(`${UI}/machine/${a}/action/tag`, { tag: '' });
    assert.match(none.text, /id="tag-error">Choose a tag, or type a new tag&#39;s name\./);
    const badSel = await admin.post(`${UI}/machines/action`, [
      ['action', 'tag'],
      ['new_tag', 'bad name'],
      ['system_id', a],
    ]);
    assert.equal(badSel.status, 400);
    assert.match(badSel.text, /id="new_tag-error">Enter a valid value/);
    assert.deepEqual(await tagNames(), before, 'no tag created');

    const one = await admin.post(`${UI}/machine/${a}/action/tag`, { new_tag: 'rack-7' });
    assert.equal(one.status, 303, one.text);
    assert.match((await admin.get(`${UI}/machine/${a}`)).text, /<th>Tags<\/th><td>rack-7<\/td>/);
    const sel = await admin.post(`${UI}/machines/action`, [
      ['action', 'tag'],
      ['new_tag', 'row-3'],
      ['system_id', a],
      ['system_id', b],
    ]);
    assert.equal(sel.status, 303);
    assert.match((await admin.get(sel.location!)).text, /2 machines tagged\./);
    assert.match((await admin.get(`${UI}/machine/${b}`)).text, /<th>Tags<\/th><td>row-3<\/td>/);
    assert.deepEqual(await tagNames(), [...before, 'rack-7', 'row-3'].sort());
    const alice = await as('alice');
    const forged = await alice.post(`${UI}/machine/${a}/action/tag`, { new_tag: 'hers' });
    assert.equal(forged.status, 403);
    assert.ok(!(await tagNames()).includes('hers'));
  });

  it('Test action: offered by status and rights, the testing scripts to choose, MAAS confirmation', async () => {
    const admin = await as('admin');
    const id = await ready('test-1');
    assert.match(
      (await admin.get(`${UI}/machine/${id}`)).text,
      /id="action-test" href="[^"]+\/action\/test">Test machine…</,
    );
    const alice = await as('alice');
    assert.doesNotMatch((await alice.get(`${UI}/machine/${id}`)).text, /id="action-test"/);
    const forged = await alice.post(`${UI}/machine/${id}/action/test`, { testing_scripts: 'smartctl-validate' });
    assert.equal(forged.status, 403);
    assert.match(forged.text, new RegExp(`You do not have permission to test machine ${id}\\.`));

    const confirm = await admin.get(`${UI}/machine/${id}/action/test`);
    assert.match(confirm.text, /Are you sure you want to test 1 machine\?/);
    assert.match(
      confirm.text,
      /<input type="checkbox" id="test-smartctl-validate" name="testing_scripts" value="smartctl-validate" checked>/,
    );
    const none = await admin.post(`${UI}/machine/${id}/action/test`, { comment: 'x' });
    assert.equal(none.status, 400);
    assert.match(none.text, /id="testing_scripts-error">Choose at least one test\./);
    const unknown = await admin.post(`${UI}/machine/${id}/action/test`, { testing_scripts: 'no-such-test' });
    assert.equal(unknown.status, 400, unknown.text);
    assert.equal((await machine(id))!.status, S.READY);
    const started = await admin.post(`${UI}/machine/${id}/action/test`, { testing_scripts: 'smartctl-validate' });
    assert.equal(started.status, 303, started.text);
    assert.equal((await machine(id))!.status, S.TESTING);

    const running = await region.services.machines.create(deployedMachineInput('test-deployed', users.admin!));
    assert.doesNotMatch((await admin.get(`${UI}/machine/${running.systemId}`)).text, /id="action-test"/);
    const deployed = await admin.post(`${UI}/machine/${running.systemId}/action/test`, {
      testing_scripts: 'smartctl-validate',
    });
    assert.equal(deployed.status, 409);
    assert.match(deployed.text, /Not possible in this status\./);
  });

  it('Add machine: the power type chooser is live.js-driven, the button kept for no JS', async () => {
    const admin = await as('admin');
    const form = await admin.get(`${UI}/machines/add`);
    assert.match(form.text, /<button type="submit" id="choose-power-type-submit">Show its parameters<\/button>/);
    assert.match(form.text, /<script src="\/MAAS\/r\/static\/live\.js" defer><\/script>/);
    const script = await admin.get(`${UI}/static/live.js`);
    assert.match(script.text, /getElementById\('choose-power-type'\)/);
  });

  it('SSH keys and API keys: a new key shown once, hostile input escaped, another user cannot delete them', async () => {
    const alice = await as('alice');
    const page = await alice.get(`${UI}/account`);
    assert.match(page.text, /maas login alice http:\/\/[^ ]+\/MAAS\/api\/2\.0\/ &lt;API key&gt;/);
    const bad = await alice.post(`${UI}/account/sshkeys`, { key: `ssh-rsa ${XSS}` }, `${UI}/account`);
    assert.equal(bad.status, 400);
    assert.match(bad.text, /id="key-error"/);
    assert.doesNotMatch(bad.text, /<script>alert/);
    assert.equal((await alice.post(`${UI}/account/sshkeys`, { key: ED25519 }, `${UI}/account`)).status, 303);
    const dup = await alice.post(`${UI}/account/sshkeys`, { key: ED25519 }, `${UI}/account`);
    assert.equal(dup.status, 400, 'a duplicate is a form error beside the key');
    const keys = await region.services.users.sshKeys(users.alice!);
    assert.equal(keys.length, 1);

    const made = await alice.post(`${UI}/account/tokens`, { name: XSS }, `${UI}/account`);
    assert.equal(made.status, 303);
    const [token] = (await region.services.users.tokens(users.alice!)).filter((t) => t.name === XSS);
    assert.ok(token);
    const full = `${token.consumerKey}:${token.tokenKey}:${token.tokenSecret}`;
    const once = await alice.get(`${UI}/account`);
    assert.ok(once.text.includes(`value="${full}"`), 'the whole key, this once');
    assert.doesNotMatch(once.text, /<script>alert/);
    const later = await alice.get(`${UI}/account`);
    assert.ok(!later.text.includes(token.tokenSecret), 'never again');

    const admin = await as('admin');
    const other = await admin.post(`${UI}/account/sshkeys/${keys[0]!.id}/delete`, {}, `${UI}/account`);
    assert.equal(other.status, 404, "another user's key does not exist for them");
    assert.equal((await alice.post(`${UI}/account/sshkeys/${keys[0]!.id}/delete`, {}, `${UI}/account`)).status, 303);
    assert.equal(
      (await alice.post(`${UI}/account/tokens/delete`, { token_key: token.tokenKey }, `${UI}/account`)).status,
      303,
    );
    assert.equal((await region.services.users.sshKeys(users.alice!)).length, 0);
    assert.ok(!(await region.services.users.tokens(users.alice!)).some((t) => t.tokenKey === token.tokenKey));
  });

  it('an admin adds a user who can then log in, and deletes them', async () => {
    const admin = await as('admin');
    const bad = await admin.post(`${UI}/users`, { username: XSS, email: 'nope', password: 'pw' }, `${UI}/users`);
    assert.equal(bad.status, 400);
    assert.match(bad.text, /id="email-error">Enter a valid email address\./);
    assert.doesNotMatch(bad.text, /<script>alert/);
    const added = await admin.post(
      `${UI}/users`,
      [
        ['username', 'carol'],
        ['email', 'carol@example.com'],
        ['password', 'carols-pw'],
        ['is_superuser', 'false'],
      ],
      `${UI}/users`,
    );
    assert.equal(added.status, 303, added.text);
    // The page a new user starts from: their keys, without the CLI.
    const carol = await new UiBrowser(api.base).loggedIn('carol', 'carols-pw');
    assert.equal((await carol.get(`${UI}/account`)).status, 200);
    const confirm = await admin.get(`${UI}/users/carol/delete`);
    assert.match(confirm.text, /Are you sure you want to delete user carol\?/);
    assert.equal((await admin.post(`${UI}/users/carol/delete`, {}, `${UI}/users`)).status, 303);
    assert.equal(
      (await region.services.users.list()).some((u) => u.username === 'carol'),
      false,
    );
  });
});
