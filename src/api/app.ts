// The region's HTTP application: MAAS API 2.0, the metadata server, the rack API, the web UI.
import Koa from 'koa';
import type { Log } from '../contracts/log';
import type { RegionMetrics } from '../region/metrics';
import type { RegionServices } from '../region/services';
import type { Principal } from '../region/services/principal';
import { maasApiRouter, tokenStore } from './auth';
import { domainErrorMapper } from './domain-errors';
import { forwardedHeaders } from './forwarded-headers';
import { errorBoundary, type Resource } from './http';
import { metadataRouter } from './metadata/router';
import { rackApiRouter } from './rack-api';
import { runScriptsRoute } from './run-scripts/route';
import { accountResources } from './resources/account';
import { bootResourceResources } from './resources/boot-resources';
import { eventResources } from './resources/events';
import { groupResources } from './resources/groups';
import { fabricResources } from './resources/fabrics';
import { ipAddressResources } from './resources/ipaddresses';
import { reservedIpResources } from './resources/reserved-ips';
import { dhcpSnippetResources } from './resources/dhcp-snippets';
import { nodeResources } from './resources/nodes';
import { machineResources } from './resources/machines';
import { placementRuleResources } from './resources/placement-rules';
import { poolResources } from './resources/pools';
import { rackControllerResources } from './resources/rackcontrollers';
import { regionControllerResources } from './resources/regioncontrollers';
import { sshKeyResources } from './resources/sshkeys';
import { subnetResources } from './resources/subnets';
import { tagResources } from './resources/tags';
import { userResources } from './resources/users';
import { zoneResources } from './resources/zones';
import { deviceResources } from './resources/devices';
import { nodeInterfaceResources } from './resources/node-interfaces';
import { maasResources } from './resources/maas';
import { bootSourceResources } from './resources/boot-sources';
import { nodeResultResources } from './resources/node-results';
import { blockDeviceResources } from './resources/block-devices';
import { volumeGroupResources } from './resources/volume-groups';
import { spaceResources } from './resources/spaces';
import { nodeScriptResultResources } from './resources/node-script-results';
import { scriptResources } from './resources/scripts';
import { dnsResourceResources } from './resources/dns-resources';
import { domainResources } from './resources/domains';
import { staticRouteResources } from './resources/static-routes';
import { uiRouter } from './ui/router';
import { requestMetrics } from './http/request-metrics';
import { routeOf } from './http/route-label';
import { metricsRoute } from './metrics-route';
import type { PresentOptions } from './presenters/machine';

export interface AppOptions {
  rackSecret: string;
  /** How machines and racks reach the region, e.g. http://10.0.0.1:5240/MAAS */
  regionUrl: string;
  temporalUiUrl: string | null;
  temporalNamespace: string;
  /** Peers (IPs, CIDRs) whose X-Forwarded-For/-Host/-Proto are believed; none by default. */
  trustedProxies?: readonly string[];
  log: Log;
  /** Requests are measured and /MAAS/metrics served when given. */
  metrics?: RegionMetrics;
}

export function createApp(services: RegionServices, o: AppOptions): Koa {
  const present = { temporalUiUrl: o.temporalUiUrl, temporalNamespace: o.temporalNamespace };
  const resources = apiResources(services, present);
  const app = new Koa();
  // On, but forwardedHeaders removes the headers it reads unless the peer is a trusted proxy.
  app.proxy = true;
  // First: it times everything after it, and reads the status the error boundary settles on.
  if (o.metrics) app.use(requestMetrics(o.metrics.httpRequestLatency));
  app.use(forwardedHeaders(o.trustedProxies ?? []));
  app.use(
    errorBoundary({
      map: domainErrorMapper(o.metrics?.dbBusy),
      log: (err, ctx) =>
        o.log(`${ctx.method} ${ctx.path} failed: ${(err as Error).stack ?? String(err)}`, {
          level: 'error',
          system_id: routeOf(ctx).systemId,
        }),
    }),
  );
  if (o.metrics) app.use(metricsRoute(o.metrics.registry));
  app.use(maasApiRouter(services, resources));
  app.use(metadataRouter(services, tokenStore(services, 'machine')));
  app.use(runScriptsRoute());
  app.use(rackApiRouter(services, { rackSecret: o.rackSecret, regionUrl: o.regionUrl }));
  app.use(uiRouter(services, present));
  app.use(async (ctx) => {
    ctx.status = 404;
    ctx.type = 'text/plain';
    ctx.body = `Not found: ${ctx.path}`;
  });
  return app;
}

/** Every MAAS API resource: the app serves these, and the forms test checks each one's describe/ doc. */
export function apiResources(services: RegionServices, present: PresentOptions): Array<Resource<Principal>> {
  return [
    ...machineResources(services, present),
    ...userResources({ services }),
    ...accountResources({ services }),
    ...sshKeyResources({ services }),
    ...zoneResources({ services }),
    ...poolResources({ services }),
    ...tagResources({ services, present }),
    ...eventResources({ services }),
    ...groupResources({ services }),
    ...placementRuleResources({ services }),
    ...fabricResources({ services }),
    ...subnetResources({ services }),
    ...ipAddressResources({ services }),
    ...rackControllerResources({ services }),
    ...regionControllerResources({ services }),
    ...bootResourceResources({ services }),
    ...deviceResources({ services }),
    ...nodeInterfaceResources({ services }),
    ...maasResources({ services }),
    ...bootSourceResources({ services }),
    ...nodeResultResources({ services }),
    ...spaceResources({ services }),
    ...domainResources({ services }),
    ...staticRouteResources({ services }),
    ...nodeResources(services, present),
    ...dnsResourceResources({ services }),
    ...scriptResources({ services }),
    ...nodeScriptResultResources({ services }),
    ...blockDeviceResources({ services }),
    ...volumeGroupResources({ services }),
    ...reservedIpResources({ services }),
    ...dhcpSnippetResources({ services }),
  ];
}
