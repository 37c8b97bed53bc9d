// MAAS's EventsHandler: `op=query` pages through the events of the machines the caller may see.
import type { RegionServices } from '../../region/services';
import { DEFAULT_EVENTS, EVENT_LEVELS, MAX_EVENTS, type EventLevel } from '../../region/services/event-queries';
import { normaliseMac } from '../../region/services/machine-validation';
import type { Principal } from '../../region/services/principal';
import { badRequest, type Params, type Resource } from '../http';
import { presentEvent } from '../presenters/event';
import { userOf } from './access';

const EVENTS_URI = '/MAAS/api/2.0/events/';
/** The parameters MAAS carries over into next_uri/prev_uri (EventsHandler.all_params). */
const CARRIED = ['op', 'agent_name', 'domain', 'hostname', 'id', 'level', 'limit', 'mac_address', 'zone'];

function levelOf(p: Params): EventLevel {
  const raw = (p.string('level') || 'INFO').toUpperCase();
  if (!(raw in EVENT_LEVELS))
    throw badRequest({
      level: [
        `Unrecognised log level: ${p.string('level') ?? ''}. Choose from: ${Object.keys(EVENT_LEVELS).sort().join(', ')}.`,
      ],
    });
  return raw as EventLevel;
}

function limitOf(p: Params): number {
  const limit = p.int('limit') ?? DEFAULT_EVENTS;
  if (limit > MAX_EVENTS)
    throw badRequest({ limit: [`Requested number of events ${limit} is greater than limit: ${MAX_EVENTS}`] });
  return Math.max(limit, 1);
}

function macsOf(p: Params): string[] {
  return p.list('mac_address').map((raw) => {
    const mac = normaliseMac(raw);
    if (!mac) throw badRequest({ mac_address: [`Invalid MAC address: ${raw}`] });
    return mac;
  });
}

/** MAAS's make_uri: the request's own parameters, with `before`/`after` replaced. */
function pageUri(p: Params, override: Record<string, number>): string {
  const q = new URLSearchParams();
  for (const name of CARRIED) for (const value of p.getAll(name)) q.append(name, value);
  for (const [name, value] of Object.entries(override)) q.append(name, String(value));
  return `${EVENTS_URI}?${q.toString()}`;
}

export function eventResources(deps: { services: Pick<RegionServices, 'events'> }): Array<Resource<Principal>> {
  const { events } = deps.services;
  return [
    {
      name: 'EventsHandler',
      path: '/events/',
      doc: 'Retrieve filtered node events.',
      actions: [
        {
          method: 'GET',
          op: 'query',
          doc:
            'Events of the machines the caller may see, newest first. Filters: hostname, mac_address, id (system_id), zone, agent_name, domain; ' +
            'level (minimum: DEBUG, INFO (default), WARNING, ERROR, CRITICAL; AUDIT selects audit events only); limit (default 100, max 1000); ' +
            'before or after (an event id) to page.',
          async handle(c) {
            const user = userOf(c);
            const p = c.params;
            // MAAS filters on who caused each event; metalflow does not record that (see presentEvent).
            if (p.has('owner'))
              throw badRequest({
                owner: ['Filtering events by owner is not supported: metalflow does not record who caused an event.'],
              });
            const filter = {
              hostname: p.list('hostname').map((h) => h.split('.')[0] ?? h),
              macAddress: macsOf(p),
              systemId: p.list('id'),
              zone: p.list('zone'),
              agentName: p.list('agent_name'),
              domain: p.list('domain'),
              level: levelOf(p),
            };
            const page = { limit: limitOf(p), before: p.int('before'), after: p.int('after') };
            const rows = await events.query({ kind: 'user', user }, filter, page);
            const newest = rows[0];
            const oldest = rows.at(-1);
            // As MAAS: next_uri asks for newer events, prev_uri for older ones (null when none can exist).
            const nextUri = newest
              ? pageUri(p, { after: newest.id })
              : page.before !== undefined
                ? pageUri(p, { after: page.before - 1 })
                : pageUri(p, {});
            const prevUri = oldest
              ? pageUri(p, { before: oldest.id })
              : page.after !== undefined
                ? pageUri(p, { before: page.after + 1 })
                : null;
            return { count: rows.length, events: rows.map(presentEvent), next_uri: nextUri, prev_uri: prevUri };
          },
        },
      ],
    },
  ];
}
