// Canonical's `maas` CLI 3.7.3, unmodified, drives a whole operator session against metalflow run
// as real processes (region API, region worker, a rack whose `fake` machines use the metadata
// server, and a real IPMI BMC, ipmi_sim, for the ipmi machine). One login; every command's JSON
// output is parsed and checked, and, through `-d`, the HTTP status and Content-Type the CLI saw.
// The steps run in order and build on each other, as an operator's session does.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startIpmiSim, type IpmiSim } from '../helpers/bmc/ipmi-sim';
import { installed } from '../helpers/bmc/peers';
import { signedCall } from '../helpers/http';
import { describeCall, loginMaasCli, maasCliMissing, type CliResult, type MaasCli } from '../helpers/maascli';
import { startStack, type Stack } from '../helpers/stack';

type Json = Record<string, unknown>;
type Machine = Json & { system_id: string; hostname: string; status_name: string };
const POLL_MS = 500;
const WAIT_MS = 90_000;
const USER_DATA = '#!/bin/sh\necho "deployed by the maas CLI" > /root/cli-was-here\n';
const SSH_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHg8YasMCO4AEMowQo+ZBDh5rj6fM4B/beM1tC4cvlgO cli@session';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the maas CLI 3.7.3 drives an operator session (separate processes)', () => {
  let stack: Stack;
  let cli: MaasCli & { login: CliResult };
  let bmc: IpmiSim | undefined;
  const ids: {
    fake?: string;
    ipmi?: string;
    accepted?: string;
    fabric?: number;
    vlanVid?: number;
    subnet?: number;
    subnet2?: number;
    space?: number;
    route?: number;
  } = {};
  const ranges: number[] = [];
  let sshKeyId: number;
  let tokenKey: string;

  /** The command must fail with `status`; its output must say `message`. */
  const refused = async (status: number, message: RegExp, handler: string, action: string, ...rest: string[]) => {
    const r = await cli.api(handler, action, ...rest);
    assert.notEqual(r.exitCode, 0, describeCall(r));
    assert.equal(r.status, status, describeCall(r));
    assert.match(r.stdout, message, describeCall(r));
  };
  /** A delete: 204, with a Content-Type (the CLI crashes on a 204 without one), exit 0. */
  const deleted = async (handler: string, ...rest: string[]) => {
    const r = await cli.api(handler, 'delete', ...rest);
    assert.equal(r.exitCode, 0, describeCall(r));
    assert.equal(r.status, 204, describeCall(r));
    assert.ok(r.headers['content-type'], `no Content-Type on the 204: ${describeCall(r)}`);
    assert.equal(r.stdout, '', describeCall(r));
  };
  const readMachine = (id: string) => cli.json<Machine>('machine', 'read', id);
  /** `machine read` until status_name is `status`; any status outside `passing` fails at once. */
  const waitFor = async (id: string, status: string, passing: string[]): Promise<Machine> => {
    const seen: string[] = [];
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const m = await readMachine(id);
      if (seen.at(-1) !== m.status_name) seen.push(m.status_name);
      if (m.status_name === status) return m;
      assert.ok(passing.includes(m.status_name), `${id} went ${seen.join(' → ')} (${String(m.status_message)})`);
      assert.ok(Date.now() < deadline, `${id} is still ${m.status_name}, not ${status}: ${seen.join(' → ')}`);
      await sleep(POLL_MS);
    }
  };
  const hostnames = (ms: Machine[]) => ms.map((m) => m.hostname).sort();

  before(async () => {
    const missing = maasCliMissing();
    assert.ok(!missing, missing);
    stack = await startStack({});
    if (installed('ipmi_sim')) bmc = await startIpmiSim();
    cli = await loginMaasCli(stack.apiUrl.replace(/api\/2\.0$/, ''), stack.adminKey);
  });
  after(async () => {
    cli?.stop();
    await bmc?.stop();
    await stack?.stop();
  });

  it('logs in with the API key, lists the profile and reads version and whoami', async () => {
    assert.equal(cli.login.exitCode, 0, describeCall(cli.login));
    assert.match(cli.login.stdout, /You are now logged in to the MAAS server/);
    const list = await cli.raw(['list']);
    assert.equal(list.exitCode, 0, describeCall(list));
    assert.match(list.stdout, new RegExp(`^admin ${stack.apiUrl}/ \\S+:\\S+:\\S+$`, 'm'));
    const version = await cli.json('version', 'read');
    assert.match(String(version.version), /^\d+\.\d+/);
    assert.ok((version.capabilities as string[]).includes('authenticate-api'));
    const me = await cli.json('users', 'whoami');
    assert.equal(me.username, 'admin');
    assert.equal(me.is_superuser, true);
  });

  it('reads and sets the maas config; a bad value and an unsupported name are 400s the CLI shows', async () => {
    const setConfig = async (name: string, value: string) => {
      const r = await cli.api('maas', 'set-config', `name=${name}`, `value=${value}`);
      assert.equal(r.exitCode, 0, describeCall(r));
      assert.equal(r.status, 200, describeCall(r));
      assert.equal(r.stdout.trim(), 'OK', describeCall(r));
    };
    // MAAS answers get_config with a JSON value; the CLI prints a JSON string bare.
    const getConfig = async (name: string) => {
      const r = await cli.api('maas', 'get-config', `name=${name}`);
      assert.equal(r.status, 200, describeCall(r));
      assert.match(r.headers['content-type'] ?? '', /^application\/json/, describeCall(r));
      return r.stdout.trim();
    };
    assert.notEqual(await getConfig('maas_name'), '');
    await setConfig('maas_name', 'cli-maas');
    assert.equal(await getConfig('maas_name'), 'cli-maas');
    // Used later: a deploy without distro_series, and a release that does not ask for an erase.
    await setConfig('default_distro_series', 'bookworm');
    assert.equal(await getConfig('default_distro_series'), 'bookworm');
    await setConfig('enable_disk_erasing_on_release', 'true');
    assert.equal(await getConfig('enable_disk_erasing_on_release'), 'true');
    await refused(
      400,
      /'noble' is not a valid release/,
      'maas',
      'set-config',
      'name=default_distro_series',
      'value=noble',
    );
    await refused(
      400,
      /metalflow does not support the MAAS setting http_proxy/,
      'maas',
      'set-config',
      'name=http_proxy',
      'value=http://proxy:3128',
    );
    assert.equal(await getConfig('default_distro_series'), 'bookworm');
  });

  it('creates, updates and reads a zone and a resource pool', async () => {
    const zone = await cli.json('zones', 'create', 'name=cli-zone', 'description=racks 1-4');
    assert.equal(zone.name, 'cli-zone');
    assert.equal(zone.description, 'racks 1-4');
    assert.equal((await cli.json('zone', 'update', 'cli-zone', 'description=racks 1-8')).description, 'racks 1-8');
    assert.deepEqual(
      (await cli.json<Json[]>('zones', 'read')).map((z) => z.name),
      ['cli-zone', 'default'],
    );
    const pool = await cli.json('resource-pools', 'create', 'name=cli-pool', 'description=batch jobs');
    assert.equal(pool.name, 'cli-pool');
    assert.equal((await cli.json('resource-pool', 'read', String(pool.id))).description, 'batch jobs');
    assert.equal(
      (await cli.json('resource-pool', 'update', String(pool.id), 'description=batch')).description,
      'batch',
    );
    await refused(400, /name/i, 'zones', 'create', 'name=');
  });

  it('creates a tag and reads it back', async () => {
    const tag = await cli.json('tags', 'create', 'name=cli-tag', 'comment=from the CLI');
    assert.deepEqual([tag.name, tag.comment], ['cli-tag', 'from the CLI']);
    assert.equal((await cli.json('tag', 'read', 'cli-tag')).comment, 'from the CLI');
    assert.ok((await cli.json<Json[]>('tags', 'read')).some((t) => t.name === 'cli-tag'));
  });

  it('creates a fake machine in a zone and pool, which is commissioned automatically to Ready', async () => {
    const created = await cli.json<Machine>(
      'machines',
      'create',
      'hostname=cli-fake',
      'architecture=amd64/generic',
      'mac_addresses=52:54:00:c1:10:01',
      'power_type=fake',
      'power_parameters_fake_delay_ms=50',
      'zone=cli-zone',
      'pool=cli-pool',
    );
    ids.fake = created.system_id;
    assert.equal(created.hostname, 'cli-fake');
    assert.equal(created.architecture, 'amd64/generic');
    assert.equal(created.power_type, 'fake');
    assert.equal((created.zone as Json).name, 'cli-zone');
    assert.equal((created.pool as Json).name, 'cli-pool');
    assert.deepEqual(
      (created.interface_set as Json[]).map((i) => i.mac_address),
      ['52:54:00:c1:10:01'],
    );
    const ready = await waitFor(ids.fake, 'Ready', ['New', 'Commissioning']);
    assert.ok(Number(ready.cpu_count) > 0 && Number(ready.memory) > 0, JSON.stringify(ready));
    assert.equal(ready.commissioning_status_name, 'Passed');
    assert.equal(
      (await cli.json('machine', 'power-parameters', ids.fake)).fake_delay_ms,
      '50',
      'power_parameters_fake_delay_ms was not stored',
    );
  });

  it('creates an ipmi machine whose power parameters are stored but never echoed, and refuses a bad BMC address', async () => {
    const address = bmc?.address ?? '127.0.0.1:6230';
    const created = await cli.json<Machine>(
      'machines',
      'create',
      'hostname=cli-ipmi',
      'architecture=amd64/generic',
      'mac_addresses=52:54:00:c1:10:02',
      'power_type=ipmi',
      `power_parameters_power_address=${address}`,
      'power_parameters_power_user=admin',
      'power_parameters_power_pass=password',
      'commission=false',
    );
    ids.ipmi = created.system_id;
    assert.equal(created.status_name, 'New');
    assert.equal(created.power_type, 'ipmi');
    const echoed = JSON.stringify(created) + JSON.stringify(await readMachine(ids.ipmi));
    assert.ok(!echoed.includes('password'), `the BMC password is echoed in the machine: ${echoed}`);
    // As MAAS: an admin's power-parameters shows the secrets (it is how an operator checks them).
    const params = await cli.json('machine', 'power-parameters', ids.ipmi);
    assert.deepEqual([params.power_address, params.power_user, params.power_pass], [address, 'admin', 'password']);
    const many = await cli.json<Record<string, Json>>('machines', 'power-parameters', `id=${ids.ipmi}`);
    assert.equal(many[ids.ipmi]?.power_address, address);

    await refused(
      400,
      /power_address/,
      'machines',
      'create',
      'hostname=cli-bad-bmc',
      'architecture=amd64/generic',
      'power_type=ipmi',
      'power_parameters_power_address=not an address',
      'commission=false',
    );
    assert.deepEqual(await cli.json<Machine[]>('machines', 'read', 'hostname=cli-bad-bmc'), []);
  });

  it(
    'powers the ipmi machine on and off through the rack and the real BMC',
    { skip: !installed('ipmi_sim') },
    async () => {
      await cli.json('machine', 'power-on', ids.ipmi!, 'comment=burn-in');
      assert.equal(bmc!.power(), 'on');
      assert.deepEqual(await cli.json('machine', 'query-power-state', ids.ipmi!), { state: 'on' });
      await refused(400, /stop_mode=soft is not supported/, 'machine', 'power-off', ids.ipmi!, 'stop_mode=soft');
      assert.equal(bmc!.power(), 'on', 'a refused power-off did nothing');
      await cli.json('machine', 'power-off', ids.ipmi!, 'stop_mode=hard', 'comment=burn-in done');
      assert.equal(bmc!.power(), 'off');
      assert.deepEqual(await cli.json('machine', 'query-power-state', ids.ipmi!), { state: 'off' });
      const events = await cli.json<{ events: Json[] }>('events', 'query', `id=${ids.ipmi}`, 'level=DEBUG');
      assert.deepEqual(
        events.events
          .filter((e) => String(e.type).startsWith('User powering'))
          .map((e) => `${String(e.type)}: ${String(e.description)}`),
        ['User powering down node: (admin) - burn-in done', 'User powering up node: (admin) - burn-in'],
      );
    },
  );

  it('commissions the fake machine again and finds it in the events', async () => {
    const started = await cli.json<Machine>('machine', 'commission', ids.fake!, 'skip_networking=true');
    assert.ok(['Commissioning', 'Ready'].includes(started.status_name), started.status_name);
    await waitFor(ids.fake!, 'Ready', ['Commissioning']);
    const events = await cli.json<{ count: number; events: Json[] }>(
      'events',
      'query',
      'hostname=cli-fake',
      'level=INFO',
      'limit=50',
    );
    assert.equal(events.count, events.events.length);
    assert.ok(events.events.length > 0);
    assert.ok(
      events.events.every((e) => e.node === ids.fake && e.hostname === 'cli-fake'),
      JSON.stringify(events.events),
    );
    assert.ok(
      events.events.some((e) => e.type === 'Commissioning'),
      `no Commissioning event: ${JSON.stringify(events.events.map((e) => e.type))}`,
    );
    const newest = events.events.map((e) => Number(e.id));
    assert.deepEqual(
      newest,
      [...newest].sort((a, b) => b - a),
      'events are newest first',
    );
    const two = await cli.json<{ events: Json[] }>('events', 'query', `id=${ids.fake}`, 'limit=2');
    assert.deepEqual(
      two.events.map((e) => e.id),
      events.events.slice(0, 2).map((e) => e.id),
    );
    assert.deepEqual(
      (await cli.json<{ events: Json[] }>('events', 'query', 'hostname=cli-ipmi', 'level=ERROR')).events,
      [],
    );
    // The CLI passes a script parameter (<script>_<parameter>=value) through as it is: checked against the machine's disks.
    await refused(
      400,
      /smartctl-validate_storage.*Unknown storage device for cli-fake/s,
      'machine',
      'test',
      ids.fake!,
      'testing_scripts=smartctl-validate',
      'smartctl-validate_storage=no-such-disk',
    );
    assert.equal((await readMachine(ids.fake!)).status_name, 'Ready');
  });

  it("reads nodes, node-results, boot-sources and the rack controllers' power types", async () => {
    const nodes = await cli.json<Machine[]>('nodes', 'read', 'hostname=cli-fake', 'hostname=cli-ipmi');
    assert.deepEqual(nodes.map((n) => [n.hostname, n.node_type_name]).sort(), [
      ['cli-fake', 'Machine'],
      ['cli-ipmi', 'Machine'],
    ]);
    assert.equal((await cli.json<Machine>('node', 'read', ids.fake!)).hostname, 'cli-fake');

    const results = await cli.json<Json[]>('node-results', 'read', `system_id=${ids.fake}`);
    assert.ok(results.length > 0, 'the commissioned machine has results');
    for (const r of results) {
      assert.equal((r.node as Json).system_id, ids.fake);
      assert.equal(r.result_type, 0);
      const report = JSON.parse(Buffer.from(String(r.data), 'base64').toString()) as Json;
      assert.ok(report.cpu && report.interfaces, `a hardware report: ${JSON.stringify(report).slice(0, 200)}`);
    }
    assert.deepEqual(await cli.json('node-results', 'read', `system_id=${ids.ipmi}`), [], 'never commissioned');

    const sources = await cli.json<Json[]>('boot-sources', 'read');
    assert.equal(sources.length, 1, JSON.stringify(sources));
    assert.ok(typeof sources[0]!.url === 'string' && typeof sources[0]!.id === 'number', JSON.stringify(sources));
    assert.equal((await cli.json('boot-source', 'read', String(sources[0]!.id))).id, sources[0]!.id);

    const types = await cli.json<Json[]>('rack-controllers', 'describe-power-types');
    const names = types.map((t) => t.name);
    for (const name of ['ipmi', 'manual', 'redfish', 'webhook']) assert.ok(names.includes(name), String(names));
    const ipmi = types.find((t) => t.name === 'ipmi')!;
    assert.ok(
      (ipmi.fields as Json[]).some((f) => f.name === 'power_address'),
      JSON.stringify(ipmi.fields),
    );
  });

  it('tags the fake machine and lists machines by hostname, status, zone, pool and tag', async () => {
    assert.deepEqual(await cli.json('tag', 'update-nodes', 'cli-tag', `add=${ids.fake}`), { added: 1, removed: 0 });
    assert.deepEqual(hostnames(await cli.json<Machine[]>('tag', 'machines', 'cli-tag')), ['cli-fake']);
    assert.deepEqual((await readMachine(ids.fake!)).tag_names, ['cli-tag']);
    const read = async (...filters: string[]) => hostnames(await cli.json<Machine[]>('machines', 'read', ...filters));
    assert.deepEqual(await read('hostname=cli-fake'), ['cli-fake']);
    assert.deepEqual(await read('hostname=cli-fake', 'hostname=cli-ipmi'), ['cli-fake', 'cli-ipmi']);
    assert.deepEqual(await read('status=ready'), ['cli-fake']);
    assert.deepEqual(await read('status=new'), ['cli-ipmi']);
    assert.deepEqual(await read('zone=cli-zone'), ['cli-fake']);
    assert.deepEqual(await read('pool=cli-pool'), ['cli-fake']);
    assert.deepEqual(await read('tags=cli-tag'), ['cli-fake']);
    assert.deepEqual(await read('zone=cli-zone', 'status=new'), []);
    await refused(400, /mac_address/, 'machines', 'read', 'mac_address=not-a-mac');
  });

  it('adds an SSH key and reads it back', async () => {
    const key = await cli.jsonWith(201, 'sshkeys', 'create', `key=${SSH_KEY}`); // 201 as in MAAS
    sshKeyId = Number(key.id);
    assert.equal(key.key, SSH_KEY);
    assert.deepEqual(
      (await cli.json<Json[]>('sshkeys', 'read')).map((k) => k.key),
      [SSH_KEY],
    );
    assert.equal((await cli.json('sshkey', 'read', String(sshKeyId))).key, SSH_KEY);
    await refused(400, /key/i, 'sshkeys', 'create', 'key=not a key');
  });

  it('allocates by constraints, and answers 409 when nothing matches', async () => {
    await refused(409, /./, 'machines', 'allocate', 'cpu_count=4096');
    const m = await cli.json<Machine>(
      'machines',
      'allocate',
      'cpu_count=2',
      'mem=4096',
      'tags=cli-tag',
      'zone=cli-zone',
      'pool=cli-pool',
    );
    assert.equal(m.system_id, ids.fake);
    assert.equal(m.status_name, 'Allocated');
    assert.equal(m.owner, 'admin');
    assert.deepEqual(hostnames(await cli.json<Machine[]>('machines', 'list-allocated')), ['cli-fake']);
  });

  it('deploys with distro_series and user_data, which the deployed machine gets', async () => {
    const started = await cli.json<Machine>(
      'machine',
      'deploy',
      ids.fake!,
      'distro_series=jammy',
      `user_data=${Buffer.from(USER_DATA).toString('base64')}`,
    );
    assert.ok(['Deploying', 'Deployed'].includes(started.status_name), started.status_name);
    const deployed = await waitFor(ids.fake!, 'Deployed', ['Deploying']);
    assert.deepEqual([deployed.osystem, deployed.distro_series, deployed.owner], ['ubuntu', 'jammy', 'admin']);
    // The region and rack are machines here too (deployed, locked, annotated controller=…).
    const deployedMachines = (await cli.json<Machine[]>('machines', 'read', 'status=deployed')).filter(
      (m) => !(m.workload_annotations as Json).controller,
    );
    assert.deepEqual(hostnames(deployedMachines), ['cli-fake']);
    // What the machine's own token reads from the metadata server, as cloud-init would.
    const token = await cli.json('machine', 'get-token', ids.fake!);
    const machineKey = [token.consumer_key, token.token_key, token.token_secret].join(':');
    const userData = await signedCall(`${stack.apiUrl.replace(/api\/2\.0$/, '')}metadata/latest/user-data`, 'GET', {
      key: machineKey,
    });
    assert.equal(userData.status, 200, userData.text);
    assert.equal(userData.text, USER_DATA);
  });

  it('releases with a quick erase back to Ready, owner cleared, the erase in the events', async () => {
    const started = await cli.json<Machine>(
      'machine',
      'release',
      ids.fake!,
      'erase=true',
      'quick_erase=true',
      'comment=done with it',
    );
    assert.ok(['Releasing', 'Disk erasing', 'Ready'].includes(started.status_name), started.status_name);
    const ready = await waitFor(ids.fake!, 'Ready', ['Releasing', 'Disk erasing']);
    assert.equal(ready.owner, null);
    // A retried release (e.g. after a lost reply) succeeds and does nothing, as in MAAS.
    const retried = await cli.json<Machine>('machine', 'release', ids.fake!, 'erase=true', 'quick_erase=true');
    assert.equal(retried.status_name, 'Ready');
    const events = await cli.json<{ events: Json[] }>('events', 'query', `id=${ids.fake}`, 'limit=30');
    assert.ok(
      events.events.some((e) => /Erasing disks \(quick\)/.test(String(e.description))),
      JSON.stringify(events.events.map((e) => e.description)),
    );
  });

  it('accepts a New machine (it commissions), moves it with set-zone, and bulk-releases by the config', async () => {
    const created = await cli.json<Machine>(
      'machines',
      'create',
      'hostname=cli-accept',
      'architecture=amd64/generic',
      'mac_addresses=52:54:00:c1:10:03',
      'power_type=fake',
      'commission=false',
    );
    ids.accepted = created.system_id;
    assert.equal(created.status_name, 'New');
    const accepted = await cli.json<Machine[]>('machines', 'accept', `machines=${ids.accepted}`);
    assert.deepEqual(
      accepted.map((m) => m.system_id),
      [ids.accepted],
    );
    await waitFor(ids.accepted, 'Ready', ['New', 'Commissioning']);
    // Already accepted: left out of the answer, as in MAAS.
    assert.deepEqual(await cli.json('machines', 'accept', `machines=${ids.accepted}`), []);
    await refused(400, /nosuch/, 'machines', 'accept', 'machines=nosuch');

    const zone = await cli.api('machines', 'set-zone', 'zone=cli-zone', `nodes=${ids.accepted}`, `nodes=${ids.fake}`);
    assert.equal(zone.exitCode, 0, describeCall(zone));
    assert.ok([200, 204].includes(zone.status!), describeCall(zone));
    for (const id of [ids.accepted, ids.fake!]) assert.equal(((await readMachine(id)).zone as Json).name, 'cli-zone');
    await refused(400, /zone/, 'machines', 'set-zone', 'zone=no-such-zone', `nodes=${ids.accepted}`);

    // The config's default_distro_series for a deploy that names none; its forced erase on release.
    await cli.json('machines', 'allocate', `system_id=${ids.fake}`);
    await cli.json('machine', 'deploy', ids.fake!);
    const deployed = await waitFor(ids.fake!, 'Deployed', ['Deploying']);
    assert.deepEqual([deployed.osystem, deployed.distro_series], ['debian', 'bookworm']);
    const erases = async () =>
      (await cli.json<{ events: Json[] }>('events', 'query', `id=${ids.fake}`, 'limit=100')).events.filter((e) =>
        /erase disks/.test(String(e.description)),
      ).length;
    const erasedBefore = await erases();
    await refused(400, /erase/, 'machines', 'release', `machines=${ids.fake}`, 'erase=bogus');
    const released = await cli.json<unknown>('machines', 'release', `machines=${ids.fake}`, `machines=${ids.accepted}`);
    // The Ready machine is left alone; the deployed one is released.
    assert.deepEqual(released, [ids.fake]);
    await waitFor(ids.fake!, 'Ready', ['Releasing', 'Disk erasing']);
    assert.equal(await erases(), erasedBefore + 1, 'enable_disk_erasing_on_release erased without erase=');
  });

  it('creates a fabric, a VLAN, subnets and IP ranges, and reads them back', async () => {
    const fabric = await cli.json('fabrics', 'create', 'name=cli-fabric');
    ids.fabric = Number(fabric.id);
    assert.equal(fabric.name, 'cli-fabric');
    const vlan = await cli.json('vlans', 'create', String(ids.fabric), 'vid=42', 'name=cli-vlan', 'mtu=9000');
    ids.vlanVid = 42;
    assert.deepEqual([vlan.vid, vlan.name, vlan.mtu, vlan.fabric], [42, 'cli-vlan', 9000, 'cli-fabric']);
    assert.equal(
      (await cli.json('vlan', 'update', String(ids.fabric), '42', 'description=storage')).description,
      'storage',
    );
    assert.equal((await cli.json('vlan', 'read', String(ids.fabric), '42')).description, 'storage');
    const subnet = await cli.json(
      'subnets',
      'create',
      'cidr=10.199.0.0/24',
      `fabric=${ids.fabric}`,
      'vid=42',
      'name=cli-subnet',
      'gateway_ip=10.199.0.1',
      'dns_servers=10.199.0.2',
    );
    ids.subnet = Number(subnet.id);
    assert.deepEqual(
      [subnet.cidr, subnet.gateway_ip, subnet.dns_servers, (subnet.vlan as Json).vid],
      ['10.199.0.0/24', '10.199.0.1', ['10.199.0.2'], 42],
    );
    assert.equal((await cli.json('subnet', 'read', '10.199.0.0/24')).id, ids.subnet);
    assert.ok((await cli.json<Json[]>('subnets', 'read')).some((s) => s.id === ids.subnet));
    await refused(400, /cidr/i, 'subnets', 'create', 'cidr=10.199.0.0/33', `fabric=${ids.fabric}`);

    const dynamic = await cli.json(
      'ipranges',
      'create',
      'type=dynamic',
      'start_ip=10.199.0.100',
      'end_ip=10.199.0.150',
      'comment=pool',
    );
    assert.equal((dynamic.subnet as Json).id, ids.subnet, 'the range found its subnet from its addresses');
    const reserved = await cli.json(
      'ipranges',
      'create',
      'type=reserved',
      `subnet=${ids.subnet}`,
      'start_ip=10.199.0.10',
      'end_ip=10.199.0.20',
    );
    ranges.push(Number(dynamic.id), Number(reserved.id));
    assert.equal((await cli.json('iprange', 'update', String(reserved.id), 'comment=switches')).comment, 'switches');
    assert.deepEqual((await cli.json<Json[]>('ipranges', 'read')).map((r) => [r.type, r.start_ip, r.end_ip]).sort(), [
      ['dynamic', '10.199.0.100', '10.199.0.150'],
      ['reserved', '10.199.0.10', '10.199.0.20'],
    ]);
    await refused(400, /./, 'ipranges', 'create', 'type=dynamic', 'start_ip=10.199.0.140', 'end_ip=10.199.0.160');
  });

  it('creates a space, a domain and a static route, and reads them back', async () => {
    const space = await cli.json('spaces', 'create', 'name=cli-space', 'description=storage network');
    ids.space = Number(space.id);
    assert.deepEqual([space.name, space.description], ['cli-space', 'storage network']);
    assert.ok((await cli.json<Json[]>('spaces', 'read')).some((sp) => sp.name === 'cli-space'));
    assert.equal((await cli.json('space', 'read', String(ids.space))).name, 'cli-space');
    assert.equal((await cli.json('space', 'update', String(ids.space), 'description=storage')).description, 'storage');

    const domain = await cli.json('domains', 'create', 'name=cli.example', 'ttl=300');
    assert.deepEqual([domain.name, domain.ttl, domain.is_default], ['cli.example', 300, false]);
    const domains = await cli.json<Json[]>('domains', 'read');
    assert.deepEqual(
      domains.map((d) => [d.name, d.is_default]),
      [
        ['maas', true],
        ['cli.example', false],
      ],
    );
    assert.equal((await cli.json('domain', 'read', String(domain.id))).name, 'cli.example');
    await refused(400, /name/, 'domains', 'create', 'name=cli.example');

    const second = await cli.json('subnets', 'create', 'cidr=10.198.0.0/24', `fabric=${ids.fabric}`);
    ids.subnet2 = Number(second.id);
    const route = await cli.json(
      'static-routes',
      'create',
      `source=${ids.subnet}`,
      'destination=10.198.0.0/24',
      'gateway_ip=10.199.0.254',
      'metric=5',
    );
    ids.route = Number(route.id);
    assert.deepEqual(
      [(route.source as Json).cidr, (route.destination as Json).cidr, route.gateway_ip, route.metric],
      ['10.199.0.0/24', '10.198.0.0/24', '10.199.0.254', 5],
    );
    assert.deepEqual(
      (await cli.json<Json[]>('static-routes', 'read')).map((r) => r.id),
      [ids.route],
    );
    assert.equal((await cli.json('static-route', 'read', String(ids.route))).gateway_ip, '10.199.0.254');
    await refused(
      400,
      /gateway_ip/,
      'static-routes',
      'create',
      `source=${ids.subnet}`,
      `destination=${ids.subnet2}`,
      'gateway_ip=10.198.0.1',
    );
  });

  it('creates a device with a parent in a domain, reads it, and deletes it', async () => {
    const device = await cli.json<Machine>(
      'devices',
      'create',
      'hostname=cli-dev',
      'mac_addresses=52:54:00:c1:10:09',
      `parent=${ids.fake}`,
      'domain=cli.example',
    );
    assert.deepEqual(
      [device.hostname, device.fqdn, device.parent, device.node_type_name],
      ['cli-dev', 'cli-dev.cli.example', ids.fake, 'Device'],
    );
    assert.deepEqual([(device.domain as Json).name, (device.domain as Json).resource_record_count], ['cli.example', 1]);
    assert.deepEqual(
      (device.interface_set as Json[]).map((i) => i.mac_address),
      ['52:54:00:c1:10:09'],
    );
    assert.equal((await cli.json('device', 'read', device.system_id)).fqdn, 'cli-dev.cli.example');
    assert.deepEqual(
      (await cli.json<Machine[]>('devices', 'read', 'hostname=cli-dev')).map((d) => d.system_id),
      [device.system_id],
    );
    // One hostname and one MAC per node, machines and devices alike.
    await refused(
      400,
      /Node with hostname \\"cli-dev\\" already exists/,
      'machines',
      'create',
      'hostname=cli-dev',
      'architecture=amd64/generic',
      'mac_addresses=52:54:00:c1:10:0b',
      'power_type=manual',
      'commission=false',
    );
    await refused(
      400,
      /MAC address 52:54:00:c1:10:09 already in use on cli-dev/,
      'machines',
      'create',
      'hostname=cli-dev-twin',
      'architecture=amd64/generic',
      'mac_addresses=52:54:00:c1:10:09',
      'power_type=manual',
      'commission=false',
    );
    await refused(400, /protected foreign keys: 'Node.domain'/, 'domain', 'delete', 'cli.example');
    await refused(400, /domain/, 'devices', 'create', 'mac_addresses=52:54:00:c1:10:0a', 'domain=nowhere.example');
    await deleted('device', device.system_id);
    await refused(404, /./, 'device', 'read', device.system_id);
    await deleted('domain', 'cli.example');
  });

  it('creates a user and an API token, and lists the tokens', async () => {
    const bob = await cli.json(
      'users',
      'create',
      'username=bob',
      'email=bob@example.com',
      'password=s3cret-pw',
      'is_superuser=0',
    );
    assert.deepEqual([bob.username, bob.email, bob.is_superuser], ['bob', 'bob@example.com', false]);
    assert.equal((await cli.json('user', 'read', 'bob')).email, 'bob@example.com');
    const token = await cli.json('account', 'create-authorisation-token', 'name=cli-session');
    tokenKey = String(token.token_key);
    assert.equal(token.name, 'cli-session');
    const tokens = await cli.json<Json[]>('account', 'list-authorisation-tokens');
    assert.ok(
      tokens.some((t) => t.name === 'cli-session' && String(t.token).split(':')[1] === tokenKey),
      JSON.stringify(tokens),
    );
  });

  it('deletes everything it made, each a 204 with a Content-Type, and each gone afterwards', async () => {
    await deleted('static-route', String(ids.route));
    for (const id of ranges) await deleted('iprange', String(id));
    await deleted('subnet', String(ids.subnet2));
    await deleted('subnet', String(ids.subnet));
    await deleted('space', String(ids.space));
    await deleted('vlan', String(ids.fabric), String(ids.vlanVid));
    await deleted('fabric', String(ids.fabric));
    await refused(404, /./, 'fabric', 'read', String(ids.fabric));
    await deleted('sshkey', String(sshKeyId));
    assert.deepEqual(await cli.json('sshkeys', 'read'), []);
    await deleted('tag', 'cli-tag');
    await refused(404, /./, 'tag', 'read', 'cli-tag');
    // A pool with machines cannot go; a zone's machines move to the default zone.
    await refused(400, /machines/i, 'resource-pool', 'delete', 'cli-pool');
    await deleted('zone', 'cli-zone');
    assert.equal(((await readMachine(ids.fake!)).zone as Json).name, 'default');
    await deleted('machine', ids.fake!);
    await deleted('machine', ids.ipmi!);
    await deleted('machine', ids.accepted!);
    await refused(404, /./, 'machine', 'read', ids.fake!);
    assert.deepEqual(await cli.json('machines', 'read', 'hostname=cli-fake', 'hostname=cli-ipmi'), []);
    await deleted('resource-pool', 'cli-pool');
    await deleted('user', 'bob');
    await refused(404, /./, 'user', 'read', 'bob');
    const r = await cli.api('account', 'delete-authorisation-token', `token_key=${tokenKey}`);
    assert.equal(r.status, 204, describeCall(r));
    assert.ok(r.headers['content-type'], describeCall(r));
    assert.ok(!(await cli.json<Json[]>('account', 'list-authorisation-tokens')).some((t) => t.name === 'cli-session'));
  });

  it('never saw the CLI warn that the API differs from the description it logged in with', async () => {
    const r = await cli.api('version', 'read');
    assert.ok(r.headers['x-maas-api-hash'], describeCall(r));
    assert.doesNotMatch(r.stderr, /API on the server differs/, describeCall(r));
  });
});
