// The rack API (`/MAAS/rack/v1`): registration, service health, and the secrets a rack needs at
// the moment it acts (BMC credentials, a machine's boot configuration with its token).
import crypto from 'node:crypto';
import type Koa from 'koa';
import {
  RACK_API_PREFIX,
  type DhcpLeaseReport,
  type PowerConfig,
  type PowerStates,
  type PowerTargets,
  type RackHeartbeat,
  type RackRegistration,
} from '../contracts/rack-api';
import { MachineEntity } from '../region/db/entities';
import type { RegionServices } from '../region/services';
import { BootConfigService } from '../region/services/boot-config';
import { mayNetboot } from '../region/services/macless-commissioning';
import {
  badRequest,
  ensureParams,
  hasAnyControl,
  notFound,
  parseJson,
  rawBodyOf,
  sendResult,
  unauthorized,
  Reply,
} from './http';

export function rackApiRouter(services: RegionServices, o: { rackSecret: string; regionUrl: string }): Koa.Middleware {
  const expected = Buffer.from(`Bearer ${o.rackSecret}`);
  const authorised = (ctx: Koa.Context) => {
    const given = Buffer.from(ctx.get('authorization'));
    return given.length === expected.length && crypto.timingSafeEqual(given, expected);
  };
  const machine = async (systemId: string) => {
    const m = await services.db.getRepository(MachineEntity).findOneBy({ systemId });
    if (!m) throw notFound(`No machine ${systemId}.`);
    return m;
  };
  const json = async <T>(ctx: Koa.Context): Promise<T> => {
    await ensureParams(ctx);
    return parseJson(rawBodyOf(ctx) ?? Buffer.from('{}'), undefined, 'rack API body') as T;
  };
  /** A percent-encoded path segment (a MAC); malformed or holding a control character, it names nothing. */
  const segment = (raw: string): string => {
    let decoded: string;
    try {
      decoded = decodeURIComponent(raw);
    } catch {
      throw notFound(`Malformed path segment: ${raw}`);
    }
    if (hasAnyControl(decoded)) throw notFound(`Malformed path segment: ${raw}`);
    return decoded;
  };

  const boot = new BootConfigService(services.db, services.machines, `${o.regionUrl}/metadata`, services.bootResources);

  return async function rackApi(ctx, next) {
    if (!ctx.path.startsWith(`${RACK_API_PREFIX}/`)) return next();
    if (!authorised(ctx)) throw unauthorized('Rack authorisation failed: wrong or missing shared secret.');
    const parts = ctx.path.slice(RACK_API_PREFIX.length).split('/').filter(Boolean);
    const [a, b, c, d] = parts;
    if (ctx.method === 'POST' && a === 'register' && !b) {
      return sendResult(ctx, await services.racks.register(await json<RackRegistration>(ctx)));
    }
    if (ctx.method === 'POST' && a === 'racks' && b && c === 'heartbeat') {
      await services.racks.heartbeat(b, await json<RackHeartbeat>(ctx));
      return sendResult(ctx, Reply.noContent());
    }
    if (ctx.method === 'GET' && a === 'racks' && b && c === 'power-targets') {
      const body: PowerTargets = { systemIds: await services.racks.powerTargets(b) };
      return sendResult(ctx, body);
    }
    if (ctx.method === 'POST' && a === 'racks' && b && c === 'power-states') {
      const report = await json<PowerStates>(ctx);
      await services.racks.recordPowerStates(b, report.states ?? {}, report.errors ?? {});
      return sendResult(ctx, Reply.noContent());
    }
    if (ctx.method === 'GET' && a === 'machines' && b && c === 'power') {
      const m = await machine(b);
      const body: PowerConfig = {
        systemId: m.systemId,
        powerType: m.powerType,
        parameters: services.machines.powerParametersOf(m),
        netboot: await mayNetboot(services.db.manager, m),
      };
      return sendResult(ctx, body);
    }
    if (ctx.method === 'GET' && a === 'machines' && b && c === 'boot-config') {
      return sendResult(ctx, await boot.forSystemId(b));
    }
    if (ctx.method === 'GET' && a === 'racks' && b && c === 'boot-config' && d) {
      return sendResult(ctx, await boot.forMac(segment(d)));
    }
    if (ctx.method === 'GET' && a === 'racks' && b && c === 'dhcp-config') {
      return sendResult(ctx, await services.rackDhcp.config(b));
    }
    if (ctx.method === 'POST' && a === 'racks' && b && c === 'leases') {
      const report = await json<DhcpLeaseReport>(ctx);
      if (!Array.isArray(report.events)) throw badRequest('Expected {"events": [...]}.');
      return sendResult(
        ctx,
        await services.rackDhcp.recordLeases(b, report.events, { replace: report.replace === true }),
      );
    }
    throw notFound(`No rack API endpoint ${ctx.method} ${ctx.path}.`);
  };
}
