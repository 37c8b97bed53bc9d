// The rack API (`/MAAS/rack/v1`): registration, service health, and the secrets a rack needs at
// the moment it acts (BMC credentials, a machine's boot configuration with its token).
import crypto from 'node:crypto';
import type Koa from 'koa';
import { RACK_API_PREFIX, type BootConfig, type PowerConfig, type PowerStates, type PowerTargets, type RackHeartbeat, type RackRegistration } from '../contracts/rack-api';
import type { BootPurpose } from '../contracts/workflows';
import { MachineEntity } from '../region/db/entities';
import type { RegionServices } from '../region/services';
import { badRequest, ensureParams, notFound, rawBodyOf, sendResult, unauthorized, Reply } from './http';

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
    try {
      return JSON.parse((rawBodyOf(ctx) ?? Buffer.from('{}')).toString('utf8')) as T;
    } catch {
      throw badRequest('Expected a JSON body.');
    }
  };

  return async function rackApi(ctx, next) {
    if (!ctx.path.startsWith(`${RACK_API_PREFIX}/`)) return next();
    if (!authorised(ctx)) throw unauthorized('Rack authorisation failed: wrong or missing shared secret.');
    const parts = ctx.path.slice(RACK_API_PREFIX.length).split('/').filter(Boolean);
    const [a, b, c] = parts;
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
      await services.racks.recordPowerStates(b, (await json<PowerStates>(ctx)).states ?? {});
      return sendResult(ctx, Reply.noContent());
    }
    if (ctx.method === 'GET' && a === 'machines' && b && c === 'power') {
      const m = await machine(b);
      const body: PowerConfig = { systemId: m.systemId, powerType: m.powerType, parameters: services.machines.powerParametersOf(m) };
      return sendResult(ctx, body);
    }
    if (ctx.method === 'GET' && a === 'machines' && b && c === 'boot-config') {
      const m = await machine(b);
      const token = await services.machines.machineToken(m.id);
      const macs: Array<{ mac: string }> = await services.db.query(`SELECT mac_address::text AS mac FROM interfaces WHERE machine_id = $1 ORDER BY is_boot DESC, id`, [m.id]);
      const body: BootConfig = {
        systemId: m.systemId,
        hostname: m.hostname,
        purpose: m.bootPurpose as BootPurpose,
        macAddresses: macs.map((r) => r.mac),
        metadataUrl: `${o.regionUrl}/metadata`,
        credentials: { consumerKey: token.consumerKey, tokenKey: token.tokenKey, tokenSecret: token.tokenSecret },
      };
      return sendResult(ctx, body);
    }
    throw notFound(`No rack API endpoint ${ctx.method} ${ctx.path}.`);
  };
}
