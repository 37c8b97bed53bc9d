// The anonymous VersionHandler (GET /MAAS/api/2.0/version/). Clients check `capabilities` before
// using features (Juju, for one, requires network-deployment-ubuntu), so the list is MAAS's own
// (src/maasserver/api/version.py, API_CAPABILITIES_LIST), not a description of metalflow.
import { type Resource } from './resource';

export const MAAS_CAPABILITIES: readonly string[] = [
  'networks-management',
  'static-ipaddresses',
  'ipv6-deployment-ubuntu',
  'devices-management',
  'storage-deployment-ubuntu',
  'network-deployment-ubuntu',
  'bridging-interface-ubuntu',
  'bridging-automatic-ubuntu',
  'authenticate-api',
];

export interface VersionInfo {
  version: string;
  subversion: string;
  capabilities: readonly string[];
}

export const DEFAULT_VERSION_INFO: VersionInfo = {
  version: '3.5.0',
  subversion: 'metalflow',
  capabilities: MAAS_CAPABILITIES,
};

export function versionResource<P>(info: Partial<VersionInfo> = {}): Resource<P> {
  const body = { ...DEFAULT_VERSION_INFO, ...info };
  return {
    name: 'VersionHandler',
    path: '/version/',
    doc: 'Information about this MAAS instance.',
    actions: [
      {
        method: 'GET',
        anonymous: true,
        doc: 'MAAS version information\n\nRead version and capabilities of this MAAS instance.',
        handle: async () => ({
          capabilities: [...body.capabilities],
          version: body.version,
          subversion: body.subversion,
        }),
      },
    ],
  };
}
