// The setup of the integration files that drive machines through the API: an in-process region
// whose rack is scripted (the test plays the machines), its API over real HTTP, and an admin's key.
import { startApi, type ApiClient } from './api';
import { startTestRegion, type TestRegion } from './region';
import type { ScriptedRack } from './scripted-rack';

export interface ApiRegion {
  region: TestRegion;
  api: ApiClient;
  /** The API key of the user `admin` (a superuser). */
  admin: string;
}

/**
 * `rack` plays the rack's activities against this region's services. node_timeout is 2 min
 * unless given: long enough that no operation a test drives times out on a loaded machine.
 */
export async function startApiRegion(rack: ScriptedRack, o: { nodeTimeoutMs?: number } = {}): Promise<ApiRegion> {
  const region = await startTestRegion({ nodeTimeoutMs: o.nodeTimeoutMs ?? 120_000, rack: rack.activities() });
  rack.services = region.services;
  let api: ApiClient | undefined;
  try {
    api = await startApi(region);
    return { region, api, admin: await api.keyFor('admin', true) };
  } catch (err) {
    // The caller's after hook never sees what was started here: stop it, or the file hangs.
    await api?.close();
    await region.stop();
    throw err;
  }
}
