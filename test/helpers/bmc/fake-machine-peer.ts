// Machines that outlive their rack: a webhook BMC in the test process whose power-on boots a FAKE
// machine (src/rack/fake) here rather than inside a rack process, so killing a rack kills neither
// the machine nor its power. The machine netboots from the region's rack API (as the rack's boot
// servers would ask it) and talks to the metadata server like any fake machine.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { BootCache } from '../../../src/rack/boot-cache';
import { netbootSource } from '../../../src/rack/fake/boot-source';
import { FakePowerDriver } from '../../../src/rack/fake/fake-power';
import { RegionClient } from '../../../src/rack/region-client';

export interface FakeMachinePeer {
  /** Webhook power parameters (the API's form fields) for a machine on this peer. */
  powerParameters: Record<string, string>;
  /** How long a machine's steps take from its next power-on, by system_id (default 200 ms). */
  delays: Map<string, number>;
  /** Power-on requests seen, by system_id. */
  onRequests: Map<string, number>;
  /** Hold the next power-on of this machine until its caller goes away (a rack killed mid-request). */
  holdNextOn: Set<string>;
  log: string[];
  stop(): Promise<void>;
}

export async function startFakeMachinePeer(o: { regionUrl: string; secret: string }): Promise<FakeMachinePeer> {
  const log: string[] = [];
  const say = (line: string) => log.push(line);
  const region = new RegionClient({ regionUrl: o.regionUrl, secret: o.secret });
  const driver = new FakePowerDriver({
    netboot: netbootSource({ region, bootCache: new BootCache(), log: say }),
    log: say,
  });
  const onRequests = new Map<string, number>();
  const holdNextOn = new Set<string>();
  const delays = new Map<string, number>();

  const server = http.createServer((req, res) => {
    // The webhook driver names the machine in a header, as MAAS's does.
    const systemId = String(req.headers['system_id'] ?? '');
    const action = req.url?.slice(1);
    const delay = String(delays.get(systemId) ?? 200);
    const cfg = { systemId, powerType: 'fake', parameters: { fake_delay_ms: delay } };
    const answer = (state: string) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: state }));
    const stateOf = async () => ((await driver.query(cfg)) === 'on' ? 'running' : 'stopped');
    if (!systemId) return void res.writeHead(404).end();
    if (req.method === 'POST' && action === 'on') {
      onRequests.set(systemId, (onRequests.get(systemId) ?? 0) + 1);
      if (holdNextOn.delete(systemId)) {
        say(`peer: holding power on of ${systemId}`);
        req.socket.once('close', () => say(`peer: the caller of power on ${systemId} went away; not powered on`));
        return;
      }
      void driver.on(cfg).then(() => answer('running'));
    } else if (req.method === 'POST' && action === 'off') void driver.off(cfg).then(() => answer('stopped'));
    else if (req.method === 'GET' && action === 'status') void stateOf().then(answer);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    powerParameters: {
      power_parameters_power_on_uri: `${base}/on`,
      power_parameters_power_off_uri: `${base}/off`,
      power_parameters_power_query_uri: `${base}/status`,
      power_parameters_power_token: 'peer-token',
    },
    delays,
    onRequests,
    holdNextOn,
    log,
    async stop() {
      await driver.stopAll();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}
