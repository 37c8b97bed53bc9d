// The rack API (`/MAAS/rack/v1`): registration, service health, and the secrets a rack needs at
// the moment it acts (BMC credentials, a machine's boot configuration with its token). Keyed by
// the contract's rackPaths, which the rack's client builds its requests from.
import crypto from 'node:crypto';
import type Koa from 'koa';
import {
  RACK_API_PREFIX,
  rackPaths,
  type DhcpLeaseReport,
  type PowerStates,
  type PowerTargets,
  type RackHeartbeat,
  type RackRegistration,
} from '../contracts/rack-api';
import type { RegionServices } from '../region/services';
import { badRequest, ensureParams, hasAnyControl, notFound, parseJson, rawBodyOf, unauthorized, Reply } from './http';
import { routeTable, template, type Route } from './http/routes';

export function rackApiRouter(services: RegionServices, o: { rackSecret: string; regionUrl: string }): Koa.Middleware {
  const expected = Buffer.from(`Bearer ${o.rackSecret}`);
  const authorised = (ctx: Koa.Context) => {
    const given = Buffer.from(ctx.get('authorization'));
    return given.length === expected.length && crypto.timingSafeEqual(given, expected);
  };
  const json = async <T>(ctx: Koa.Context): Promise<T> => {
    await ensureParams(ctx);
    return parseJson(rawBodyOf(ctx) ?? Buffer.from('{}'), undefined, 'rack API body') as T;
  };
  /** A MAC path segment holding a control character names nothing (the matcher has decoded it). */
  const macSegment = (mac: string): string => {
    if (hasAnyControl(mac)) throw notFound(`Malformed path segment: ${JSON.stringify(mac)}`);
    return mac;
  };
  const boot = services.bootConfig(`${o.regionUrl}/metadata`);

  const routes: Route[] = [
    {
      method: 'POST',
      path: rackPaths.register,
      handle: async (ctx) => services.racks.register(await json<RackRegistration>(ctx)),
    },
    {
      method: 'POST',
      path: template(rackPaths.heartbeat, 'rack'),
      async handle(ctx, p) {
        await services.racks.heartbeat(p.rack!, await json<RackHeartbeat>(ctx));
        return Reply.noContent();
      },
    },
    {
      method: 'GET',
      path: template(rackPaths.powerTargets, 'rack'),
      handle: async (_ctx, p): Promise<PowerTargets> => services.machines.pollTargets(p.rack!),
    },
    {
      method: 'POST',
      path: template(rackPaths.powerStates, 'rack'),
      async handle(ctx, p) {
        const report = await json<PowerStates>(ctx);
        // An age that is not a sane number of ms (a day at most) is taken as none: the report as of now.
        const age =
          typeof report.ageMs === 'number' && report.ageMs >= 0 && report.ageMs <= 86_400_000 ? report.ageMs : 0;
        await services.racks.recordPowerStates(p.rack!, report.states ?? {}, report.errors ?? {}, age);
        return Reply.noContent();
      },
    },
    {
      method: 'GET',
      path: template(rackPaths.power, 'system_id'),
      handle: async (_ctx, p) => services.machines.powerConfig(p.system_id!),
    },
    {
      method: 'GET',
      path: template(rackPaths.bootConfig, 'system_id'),
      handle: async (_ctx, p) => boot.forSystemId(p.system_id!),
    },
    {
      method: 'GET',
      path: template(rackPaths.bootConfigByMac, 'rack', 'mac'),
      handle: async (_ctx, p) => boot.forMac(macSegment(p.mac!)),
    },
    {
      method: 'GET',
      path: template(rackPaths.dhcpConfig, 'rack'),
      handle: async (_ctx, p) => services.rackDhcp.config(p.rack!),
    },
    {
      method: 'GET',
      path: template(rackPaths.coveredQueues, 'rack'),
      handle: async (_ctx, p) => services.rackFailover.coveredQueues(p.rack!),
    },
    {
      method: 'POST',
      path: template(rackPaths.leases, 'rack'),
      async handle(ctx, p) {
        const report = await json<DhcpLeaseReport>(ctx);
        if (!Array.isArray(report.events)) throw badRequest('Expected {"events": [...]}.');
        return services.rackDhcp.recordLeases(p.rack!, report.events, { replace: report.replace === true });
      },
    },
  ];

  const table = routeTable({
    prefix: RACK_API_PREFIX,
    routes,
    guard: (ctx) => {
      if (!authorised(ctx)) throw unauthorized('Rack authorisation failed: wrong or missing shared secret.');
    },
    unknown: (ctx) => notFound(`No rack API endpoint ${ctx.method} ${ctx.path}.`),
  });
  // Only paths under the prefix's slash are the rack API (the bare prefix passes on, as before).
  return (ctx, next) => (ctx.path.startsWith(`${RACK_API_PREFIX}/`) ? table(ctx, next) : next());
}
