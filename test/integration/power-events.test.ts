// Power state changes the rack's poller sees become machine events (MAAS: "Power state
// changed"), recorded with the change itself, only on change, once even when reports race; a
// failed query carries the BMC's reason. The poller (pollOnce) runs against the real region
// service on PostgreSQL; the BMCs are in-memory drivers.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventResources } from '../../src/api/resources/events';
import type { PowerConfig } from '../../src/contracts/rack-api';
import type { PowerState } from '../../src/contracts/workflows';
import { PowerError, type PowerDriver } from '../../src/rack/power/driver';
import { pollOnce, type PollerOptions } from '../../src/rack/power/poller';
import { createRegionActivities } from '../../src/activities/region';
import { recordPowerStateWithEvents } from '../../src/region/services/events';
import { startResourceApi, type ResourceApi } from '../helpers/resource-api';

type Json = Record<string, unknown>;

describe('power state events from the rack poller', () => {
  let api: ResourceApi;
  let admin: string;
  let rack: string;
  const ids: string[] = [];
  /** What each machine's BMC answers next: a state, or an error. */
  const bmc = new Map<string, PowerState | Error>();

  const driver: PowerDriver = {
    name: 'ipmi',
    queryable: true,
    query: async (cfg: PowerConfig) => {
      const answer = bmc.get(cfg.systemId)!;
      if (answer instanceof Error) throw answer;
      return answer;
    },
    on: () => Promise.reject(new Error('unused')),
    off: () => Promise.reject(new Error('unused')),
    cycle: () => Promise.reject(new Error('unused')),
  };
  const poller = (): PollerOptions => ({
    region: {
      powerTargets: async () => ({ systemIds: ids }),
      powerConfig: async (systemId) => ({ systemId, powerType: 'ipmi', parameters: {} }),
      reportPowerStates: (r, report) =>
        api.services.racks.recordPowerStates(r, report.states, report.errors, report.ageMs),
    },
    drivers: { get: () => driver },
    rackSystemId: () => rack,
    everyMs: 0,
    concurrency: 2,
    queryTimeoutMs: 5_000,
    log: () => undefined,
  });
  const never = new AbortController().signal;
  const powerEvents = async (systemId: string) => {
    const r = await api.call('GET', `/MAAS/api/2.0/events/?op=query&id=${systemId}&level=DEBUG`, { key: admin });
    assert.equal(r.status, 200, r.text);
    return (r.body as { events: Json[] }).events
      .filter((e) => e.type === 'Power state changed')
      .map((e) => `${e.level as string} ${e.description as string}`)
      .reverse();
  };

  before(async () => {
    api = await startResourceApi((services) => eventResources({ services }));
    admin = (await api.user('admin', true)).key;
    rack = (await api.services.racks.register({ name: 'rack-a', interfaces: [], version: 'test' })).systemId;
    for (const hostname of ['m1', 'm2']) {
      const m = await api.services.machines.create({
        hostname,
        macAddresses: [],
        powerType: 'ipmi',
        powerParameters: { power_address: '192.0.2.1' },
        deployed: true,
        ownerId: null,
        zone: 'default',
      });
      ids.push(m.systemId);
    }
  });
  after(async () => api?.close());

  it('records a change once, with the rack that saw it; no event while the state holds', async () => {
    const [m1, m2] = ids as [string, string];
    bmc.set(m1, 'on');
    bmc.set(m2, 'off');
    await pollOnce(poller(), never);
    await pollOnce(poller(), never);
    const initial = async (id: string) =>
      (await api.services.db.query(`SELECT power_state FROM machines WHERE system_id = $1`, [id]))[0]
        .power_state as string;
    assert.equal(await initial(m1), 'on');
    assert.deepEqual(await powerEvents(m1), [`INFO Power state changed from unknown to on (queried by rack rack-a)`]);
    assert.deepEqual(await powerEvents(m2), [`INFO Power state changed from unknown to off (queried by rack rack-a)`]);

    bmc.set(m1, 'off');
    await pollOnce(poller(), never);
    assert.deepEqual((await powerEvents(m1)).slice(1), [
      `INFO Power state changed from on to off (queried by rack rack-a)`,
    ]);
    assert.equal((await powerEvents(m2)).length, 1, 'm2 did not change');
  });

  it("a failed query is an ERROR event with the BMC's reason, once", async () => {
    const [m1] = ids as [string];
    bmc.set(m1, PowerError.fatal('ipmi query m1: the BMC refused the request: RAKP 2 HMAC is invalid'));
    await pollOnce(poller(), never);
    await pollOnce(poller(), never);
    const events = await powerEvents(m1);
    assert.equal(
      events.at(-1),
      'ERROR Power state changed from off to error (queried by rack rack-a): ipmi query m1: the BMC refused the request: RAKP 2 HMAC is invalid',
    );
    assert.equal(events.filter((e) => e.startsWith('ERROR')).length, 1);
  });

  it('the same report applied concurrently records one event', async () => {
    const [m1] = ids as [string];
    const before = (await powerEvents(m1)).length;
    await Promise.all(Array.from({ length: 8 }, () => api.services.racks.recordPowerStates(rack, { [m1]: 'on' })));
    const events = await powerEvents(m1);
    assert.equal(events.length, before + 1, events.join('\n'));
    assert.equal(events.at(-1), 'INFO Power state changed from error to on (queried by rack rack-a)');
  });

  const powerOf = async (systemId: string) =>
    (
      (await api.services.db.query(`SELECT power_state FROM machines WHERE system_id = $1`, [systemId])) as Array<{
        power_state: string;
      }>
    )[0]!.power_state;

  it("a sample taken before the workflow's own power command does not overwrite it; a later one does", async () => {
    const [m1] = ids as [string];
    await api.services.racks.recordPowerStates(rack, { [m1]: 'on' });
    // The workflow powers the machine off and records it (activities: recordPowerOutcome)...
    await recordPowerStateWithEvents(api.services.db.manager, m1, 'off', []);
    // ...while a poll that sampled `on` 5 s ago reports only now: stale, it changes nothing.
    const before = await powerEvents(m1);
    await api.services.racks.recordPowerStates(rack, { [m1]: 'on' }, {}, 5_000);
    assert.equal(await powerOf(m1), 'off');
    assert.deepEqual(await powerEvents(m1), before);
    // A round that began after the power command is newer: its answer is written.
    await new Promise((r) => setTimeout(r, 50));
    await api.services.racks.recordPowerStates(rack, { [m1]: 'on' }, {}, 10);
    assert.equal(await powerOf(m1), 'on');
  });

  /** A deployed manual machine and the region activities a workflow's steps call. */
  const workflowMachine = async (hostname: string) => ({
    m: await api.services.machines.create({
      hostname,
      macAddresses: [],
      powerType: 'manual',
      powerParameters: {},
      deployed: true,
      ownerId: null,
      zone: 'default',
    }),
    activities: createRegionActivities(api.services.db, { release: {} as never }),
  });

  it("a workflow's power step: its state and events in one write, in order, once on a retry; nothing for a machine that is gone", async () => {
    const { m, activities } = await workflowMachine('m-workflow');
    const event = (n: number, level: 'INFO' | 'WARNING' = 'INFO') => ({
      type: `Step ${n}`,
      description: `step ${n} of the workflow`,
      level,
      dedupeKey: `wf-test/${m.systemId}/${n}`,
    });
    const recorded = async () =>
      (
        (await api.services.db.query(
          `SELECT type, description, level FROM events WHERE machine_id = $1 AND dedupe_key LIKE 'wf-test/%' ORDER BY id`,
          [m.id],
        )) as Array<{ type: string; description: string; level: string }>
      ).map((e) => `${e.level} ${e.type}: ${e.description}`);

    await activities.recordEvents({ systemId: m.systemId, events: [event(1), event(2)] });
    await activities.recordPowerOutcome({ systemId: m.systemId, state: 'on', events: [event(3), event(4)] });
    const once = [
      'INFO Step 1: step 1 of the workflow',
      'INFO Step 2: step 2 of the workflow',
      'INFO Step 3: step 3 of the workflow',
      'INFO Step 4: step 4 of the workflow',
    ];
    assert.deepEqual(await recorded(), once);
    assert.equal(await powerOf(m.systemId), 'on');

    // Temporal runs an activity again after a timeout: the same keys record nothing twice.
    await activities.recordEvents({ systemId: m.systemId, events: [event(1), event(2)] });
    await activities.recordPowerOutcome({ systemId: m.systemId, state: 'on', events: [event(3), event(4)] });
    assert.deepEqual(await recorded(), once);

    // A manual machine: the status message is written with the state and the event.
    await api.services.db.query(`UPDATE machines SET workflow_id = 'wf-test' WHERE id = $1`, [m.id]);
    await activities.recordPowerOutcome({
      systemId: m.systemId,
      state: 'unknown',
      events: [event(5, 'WARNING')],
      statusMessage: { workflowId: 'wf-test', message: 'Power on m-workflow by hand.' },
    });
    assert.equal(await powerOf(m.systemId), 'unknown');
    assert.deepEqual((await recorded()).at(-1), 'WARNING Step 5: step 5 of the workflow');
    const [row] = (await api.services.db.query(`SELECT status_message FROM machines WHERE id = $1`, [m.id])) as Array<{
      status_message: string;
    }>;
    assert.equal(row!.status_message, 'Power on m-workflow by hand.');

    // A machine deleted under its workflow: nothing recorded, no error for Temporal to retry.
    const gone = 'no-such-machine';
    await activities.recordEvents({ systemId: gone, events: [{ ...event(6), dedupeKey: 'wf-test/gone/6' }] });
    await activities.recordPowerOutcome({
      systemId: gone,
      state: 'off',
      events: [{ ...event(7), dedupeKey: 'wf-test/gone/7' }],
    });
    assert.deepEqual(await api.services.db.query(`SELECT id FROM events WHERE dedupe_key LIKE 'wf-test/gone/%'`), []);
  });

  it("a netboot's power-on: the boot purpose and erase mode with its announcements, in one write, once on a retry; nothing for a machine that is gone", async () => {
    const { m, activities } = await workflowMachine('m-netboot');
    const event = (n: number) => ({
      type: 'Powering on',
      description: `announcement ${n}`,
      level: 'INFO' as const,
      dedupeKey: `wf-netboot/${m.systemId}/${n}`,
    });
    const state = async () => {
      const [row] = (await api.services.db.query(
        `SELECT boot_purpose, boot_erase, updated::text AS updated FROM machines WHERE id = $1`,
        [m.id],
      )) as Array<{ boot_purpose: string; boot_erase: string; updated: string }>;
      const events = (await api.services.db.query(
        `SELECT description FROM events WHERE machine_id = $1 AND dedupe_key LIKE 'wf-netboot/%' ORDER BY id`,
        [m.id],
      )) as Array<{ description: string }>;
      return {
        purpose: row!.boot_purpose,
        erase: row!.boot_erase,
        updated: row!.updated,
        events: events.map((e) => e.description),
      };
    };
    const before = await state();
    const netboot = { purpose: 'commissioning' as const, erase: 'quick' as const };
    await activities.recordEvents({ systemId: m.systemId, events: [event(1), event(2)], netboot });
    const after = await state();
    assert.deepEqual(
      { ...after, updated: undefined },
      { purpose: 'commissioning', erase: 'quick', updated: undefined, events: ['announcement 1', 'announcement 2'] },
    );
    // As setBootPurpose writes it: the row's update time moves too.
    assert.notEqual(after.updated, before.updated);
    // A retry records no event twice, and writes back no purpose the machine has left since (a
    // release set it to power off meanwhile); a later netboot without an erase clears the mode.
    await api.services.db.query(`UPDATE machines SET boot_purpose = 'poweroff' WHERE id = $1`, [m.id]);
    await activities.recordEvents({ systemId: m.systemId, events: [event(1), event(2)], netboot });
    assert.deepEqual((await state()).events, ['announcement 1', 'announcement 2']);
    assert.equal((await state()).purpose, 'poweroff');
    await activities.recordEvents({ systemId: m.systemId, events: [event(3)], netboot: { purpose: 'xinstall' } });
    assert.deepEqual(
      { ...(await state()), updated: undefined },
      {
        purpose: 'xinstall',
        erase: '',
        updated: undefined,
        events: ['announcement 1', 'announcement 2', 'announcement 3'],
      },
    );
    // A machine deleted under its workflow: nothing written, no error for Temporal to retry.
    await activities.recordEvents({
      systemId: 'no-such-machine',
      events: [{ ...event(4), dedupeKey: 'wf-netboot/gone/4' }],
      netboot,
    });
    assert.deepEqual(
      await api.services.db.query(`SELECT id FROM events WHERE dedupe_key LIKE 'wf-netboot/gone/%'`),
      [],
    );
  });

  // The machines it makes are this rack's too (the only rack yet); the poller above polls `ids` only.
  it("gives the rack each target's power parameters with the round, secrets decrypted, as machines/{id}/power does", async () => {
    const make = (hostname: string, powerType: string, powerParameters: Record<string, string>) =>
      api.services.machines.create({
        hostname,
        macAddresses: [],
        powerType,
        powerParameters,
        deployed: true,
        ownerId: null,
        zone: 'default',
      });
    const withSecret = await make('m-secret', 'ipmi', { power_address: '192.0.2.9', power_pass: 's3cret' });
    const manual = await make('m-manual', 'manual', {});
    const targets = await api.services.machines.pollTargets(rack);
    assert.ok(targets.systemIds.includes(withSecret.systemId));
    assert.ok(!targets.systemIds.includes(manual.systemId), 'manual power cannot be queried: not a target');
    assert.deepEqual(Object.keys(targets.configs ?? {}).sort(), [...targets.systemIds].sort());
    for (const id of targets.systemIds) {
      const own = await api.services.machines.powerConfig(id);
      assert.deepEqual(targets.configs![id], { systemId: id, powerType: own.powerType, parameters: own.parameters });
    }
    assert.equal(targets.configs![withSecret.systemId]!.parameters.power_pass, 's3cret');
    // Secrets that cannot be opened (sealed under another key): that machine is left for the
    // poller to ask for alone; the round still carries every other machine's config.
    await api.services.db.query(`UPDATE machines SET power_secrets = 'not-sealed-here' WHERE system_id = $1`, [
      withSecret.systemId,
    ]);
    const after = await api.services.machines.pollTargets(rack);
    assert.ok(after.systemIds.includes(withSecret.systemId), 'still polled');
    assert.ok(!(withSecret.systemId in after.configs!), 'its config is asked for alone');
    assert.equal(Object.keys(after.configs!).length, after.systemIds.length - 1);
  });

  it("another rack's report about a machine it does not serve changes nothing", async () => {
    const [m1] = ids as [string];
    const other = (await api.services.racks.register({ name: 'rack-b', interfaces: [], version: 'test' })).systemId;
    const before = await powerEvents(m1);
    await api.services.racks.recordPowerStates(other, { [m1]: 'off' });
    assert.deepEqual(await powerEvents(m1), before);
  });
});
