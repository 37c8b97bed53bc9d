// Playing MAAS's ephemeral environment over the metadata API in integration tests, as runner.sh
// does with the machine's token: fetch the maas-scripts tar, report each script's result
// (op=signal), end the run. And a READY machine the scripted rack then leaves to the test.
import assert from 'node:assert/strict';
import { oauthHeader } from '../../src/api/http';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import type { ApiClient } from './api';
import { waitForStatus, type TestRegion } from './region';
import type { ScriptedRack } from './scripted-rack';

type Json = Record<string, unknown>;
const API = '/MAAS/api/2.0';

/** The files of a ustar archive, in order (a path may repeat). */
export function untar(tar: Buffer): Array<[string, Buffer]> {
  const files: Array<[string, Buffer]> = [];
  for (let i = 0; i + 512 <= tar.length;) {
    const h = tar.subarray(i, i + 512);
    if (h.every((b) => b === 0)) break;
    const name = h.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(h.subarray(124, 136).toString('ascii').replace(/\0.*$/s, '').trim(), 8);
    files.push([name, tar.subarray(i + 512, i + 512 + size)]);
    i += 512 + Math.ceil(size / 512) * 512;
  }
  return files;
}

/**
 * `started` is read when a helper runs, not when this is called: a test file makes the helpers
 * before its `before` hook has started the region.
 */
export function scriptEnvironment(
  started: () => { region: TestRegion; api: ApiClient; admin: string },
  rack: ScriptedRack,
) {
  const o = {
    get region() {
      return started().region;
    },
    get api() {
      return started().api;
    },
    get admin() {
      return started().admin;
    },
    rack,
  };
  const call: ApiClient['call'] = (...args) => o.api.call(...args);
  const env = {
    machine: async (id: string) => (await call('GET', `${API}/machines/${id}/`, { key: o.admin })).body as Json,
    /** A machine commissioned by the scripted rack (READY), whose next boots the test plays. */
    ready: async (hostname: string, mac: string) => {
      const r = await call('POST', `${API}/machines/`, {
        key: o.admin,
        form: { hostname, architecture: 'amd64/generic', mac_addresses: mac, power_type: 'manual' },
      });
      assert.equal(r.status, 200, r.text);
      const id = (r.body as Json).system_id as string;
      await waitForStatus(o.region.services, id, S.READY);
      o.rack.behaviour.set(id, 'silent');
      return id;
    },
    tokenOf: async (id: string) => {
      const t = (await call('GET', `${API}/machines/${id}/?op=get_token`, { key: o.admin })).body as Json;
      return `${t.consumer_key as string}:${t.token_key as string}:${t.token_secret as string}`;
    },
    /** The maas-scripts tar's paths and its index.json's sections. */
    maasScripts: async (token: string) => {
      const r = await fetch(`${o.api.base}/MAAS/metadata/latest/maas-scripts/`, {
        headers: { Authorization: oauthHeader(token) },
      });
      assert.equal(r.status, 200);
      const files = untar(Buffer.from(await r.arrayBuffer()));
      const index = JSON.parse(files.find(([n]) => n === 'index.json')![1].toString()) as Json;
      return { paths: files.map(([n]) => n), index: index['1.0'] as Record<string, Json[]> };
    },
    /** op=signal as the environment sends it, with files. */
    signal: async (token: string, fields: Record<string, string>, files: Record<string, string> = {}) => {
      const body = new FormData();
      body.append('op', 'signal');
      for (const [k, v] of Object.entries(fields)) body.append(k, v);
      for (const [k, v] of Object.entries(files)) body.append(k, new Blob([v]), k);
      const r = await call('POST', '/MAAS/metadata/latest/', { key: token, body });
      assert.equal(r.status, 200, r.text);
    },
    /** The environment runs every script of a section, each exiting with `exit(name)`. */
    runSection: async (token: string, scripts: Json[], exit: (name: string) => number) => {
      for (const s of scripts) {
        const name = s.name as string;
        await env.signal(
          token,
          {
            status: 'WORKING',
            name,
            script_result_id: String(s.script_result_id),
            exit_status: String(exit(name)),
            error: `Finished ${name}: ${exit(name)}`,
          },
          { [`${name}.err`]: 'ran\n' },
        );
      }
    },
  };
  return env;
}
