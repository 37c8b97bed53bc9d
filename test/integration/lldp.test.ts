// Issue 20 item 2's "LLDP where available": MAAS's two LLDP built-ins in a commissioning run, the
// capture's XML as the machine's lldp details (`details`), and XPath tags over MAAS's merged
// lshw+lldp document: `lldp:` names match the capture, unprefixed ones still match lshw alone.
// Real HTTP, PostgreSQL and Temporal; the rack is scripted and the test plays the ephemeral
// environment over the metadata API with the machine's token, as runner.sh does.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { oauthHeader } from '../../src/api/http';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import type { ApiClient } from '../helpers/api';
import { startApiRegion } from '../helpers/api-region';
import { decodeBson } from '../helpers/bson';
import { scriptEnvironment } from '../helpers/script-environment';
import { waitForStatus, type TestRegion } from '../helpers/region';
import { ScriptedRack } from '../helpers/scripted-rack';

const API = '/MAAS/api/2.0';
const fixture = (f: string) => fs.readFileSync(path.join(__dirname, '../fixtures/commissioning', f), 'utf8');
/** What lldp-listen printed for a crafted frame from "lab-switch", port swp7 (its --replay). */
const CAPTURE = fixture('vm-maas-capture-lldpd.xml');
const NOTHING_HEARD = '<?xml version="1.0" encoding="UTF-8"?>\n<lldp label="LLDP neighbors"/>\n';

describe('issue 20: LLDP in commissioning', () => {
  let region: TestRegion;
  let api: ApiClient;
  let admin: string;
  const rack = new ScriptedRack(50);

  before(async () => {
    ({ region, api, admin } = await startApiRegion(rack));
  });
  after(async () => {
    await api?.close();
    await region?.stop();
  });

  const { machine, ready, tokenOf, maasScripts, signal } = scriptEnvironment(() => ({ region, api, admin }), rack);
  const details = async (id: string) => {
    const r = await fetch(`${api.base}${API}/machines/${id}/op-details`, {
      headers: { Authorization: oauthHeader(admin) },
    });
    assert.equal(r.status, 200);
    return decodeBson(Buffer.from(await r.arrayBuffer()));
  };
  const createTag = async (name: string, definition: string) => {
    const r = await api.call('POST', `${API}/tags/`, { key: admin, form: { name, definition } });
    assert.equal(r.status, 200, r.text);
  };
  const tagNames = async (id: string) => ((await machine(id)).tag_names as string[]).slice().sort();

  /**
   * A commissioning run: every built-in reported passed, lshw and the capture with their output
   * (`capture` null: the capture failed), then OK. Returns the run's index entries.
   */
  const commission = async (id: string, capture: string | null) => {
    const started = await api.call('POST', `${API}/machines/${id}/op-commission`, {
      key: admin,
      form: { testing_scripts: 'none' },
    });
    assert.equal(started.status, 200, started.text);
    await waitForStatus(region.services, id, S.COMMISSIONING);
    const token = await tokenOf(id);
    const scripts = (await maasScripts(token)).index.commissioning_scripts!;
    for (const s of scripts) {
      const name = s.name as string;
      const files: Record<string, string> = { [`${name}.err`]: '' };
      let exit = 0;
      if (name === '00-maas-01-lshw') files[name] = files[`${name}.out`] = fixture('vm-00-maas-01-lshw.xml');
      if (name === '50-maas-01-commissioning') files[`${name}.out`] = fixture('vm-50-maas-01-commissioning.json');
      if (name === 'maas-capture-lldpd') {
        if (capture === null) exit = 1;
        else files[name] = files[`${name}.out`] = capture;
      }
      await signal(
        token,
        { status: 'WORKING', name, script_result_id: String(s.script_result_id), exit_status: String(exit) },
        files,
      );
    }
    return { token, scripts };
  };

  it("the two built-ins run with MAAS's metadata; the capture is the lldp details; lldp: tags match it", async () => {
    const id = await ready('lldp-heard', '52:54:00:11:d0:01');
    assert.deepEqual(await details(id), { lshw: null, lldp: null }, 'never captured: null');
    // Defined before the run: the run's end recomputes the machine's tags.
    await createTag('lab-switch', '//lldp:chassis/lldp:name = "lab-switch"');
    await createTag('other-switch', '//lldp:chassis/lldp:name = "other-switch"');
    await createTag('virtio-lshw', '//node[@class="system"]//vendor = "Red Hat, Inc."');
    await createTag('unprefixed-lldp', '//chassis'); // lldpctl's names are in the lldp namespace only

    const { token, scripts } = await commission(id, CAPTURE);
    const entry = (name: string) => scripts.find((e) => e.name === name)!;
    // MAAS 3.7's: install runs alone early (parallel disabled), the capture with the others (any).
    assert.equal(entry('20-maas-01-install-lldpd').parallel, 0);
    assert.equal(entry('20-maas-01-install-lldpd').timeout_seconds, 30);
    assert.equal(entry('20-maas-01-install-lldpd').hardware_type, 0);
    assert.equal(entry('maas-capture-lldpd').parallel, 2);
    assert.equal(entry('maas-capture-lldpd').timeout_seconds, 60);
    assert.equal(entry('maas-capture-lldpd').hardware_type, 0);
    await signal(token, { status: 'OK', error: 'All scripts successfully ran' });
    await waitForStatus(region.services, id, S.READY);

    const d = await details(id);
    assert.equal(d.lldp?.toString('utf8'), CAPTURE);
    assert.ok(d.lshw, 'lshw as before');
    assert.deepEqual(await tagNames(id), ['lab-switch', 'virtio-lshw']);

    // A tag defined afterwards: the population walk reads the same merged document.
    await createTag(
      'port-swp7',
      '//lldp:port/lldp:id[@type="ifname"] = "swp7" and //lldp:capability[@type="Bridge"]/@enabled = "on"',
    );
    await createTag('lshw-namespace', '//lshw:node[@class="system"]');
    assert.deepEqual(await tagNames(id), ['lab-switch', 'lshw-namespace', 'port-swp7', 'virtio-lshw']);
    const rebuilt = await api.call('POST', `${API}/tags/lab-switch/?op=rebuild`, { key: admin });
    assert.equal(rebuilt.status, 200, rebuilt.text);
    assert.ok((await tagNames(id)).includes('lab-switch'), 'rebuild: still matched');
  });

  it('a later run that heard nothing: the empty capture is the details and the lldp: tags go; a failed capture: null', async () => {
    const id = await ready('lldp-quiet', '52:54:00:11:d0:02');
    await createTag('quiet-switch', '//lldp:chassis/lldp:name = "lab-switch"');
    await createTag('quiet-any-neighbour', 'count(//lldp:interface) > 0');
    await createTag('quiet-lshw', '//node[@class="system"]');
    const first = await commission(id, CAPTURE);
    await signal(first.token, { status: 'OK', error: 'All scripts successfully ran' });
    await waitForStatus(region.services, id, S.READY);
    assert.ok((await tagNames(id)).includes('quiet-switch'));
    assert.ok((await tagNames(id)).includes('quiet-any-neighbour'));

    const second = await commission(id, NOTHING_HEARD);
    await signal(second.token, { status: 'OK', error: 'All scripts successfully ran' });
    await waitForStatus(region.services, id, S.READY);
    assert.equal((await details(id)).lldp?.toString('utf8'), NOTHING_HEARD);
    const names = await tagNames(id);
    assert.ok(!names.includes('quiet-switch') && !names.includes('quiet-any-neighbour'), names.join(','));
    assert.ok(names.includes('quiet-lshw'), 'the lshw tag stays');

    // MAAS's details are the current commissioning run's: a failed capture there leaves none.
    await commission(id, null);
    assert.equal((await details(id)).lldp, null);
    await api.call('POST', `${API}/machines/${id}/op-abort`, { key: admin });
    await waitForStatus(region.services, id, S.NEW);
  });
});
