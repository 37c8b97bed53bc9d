// MAAS's EventsHandler: `op=query` pages through the events of the machines the caller may see.
import type { RegionServices } from '../../region/services';
import { DEFAULT_EVENTS, EVENT_LEVELS, MAX_EVENTS, type EventLevel } from '../../region/services/event-queries';
import { normaliseMac } from '../../region/services/machine-validation';
import type { Principal } from '../../region/services/principal';
import { badRequest, field, form, type Resource } from '../http';
import { presentEvent } from '../presenters/event';
import { action, caller, may } from './access';

const EVENTS_URI = '/MAAS/api/2.0/events/';

/** Every filter MAAS carries over into next_uri/prev_uri (EventsHandler.all_params) keeps its raw values. */
const queryForm = form(
  {
    hostname: field.withRaw(field.list('Only events of the machine with this hostname.')),
    mac_address: field.withRaw(field.list('Only events of the machine with this MAC address.')),
    id: field.withRaw(field.list('Only events of the machine with this system_id.')),
    zone: field.withRaw(field.list('Only events of machines in this zone.')),
    agent_name: field.withRaw(field.list('Only events of machines with this agent name.')),
    domain: field.withRaw(field.list('Only events of machines in this domain.')),
    level: field.withRaw(
      field.text(
        'The minimum level: DEBUG, INFO (default), WARNING, ERROR, CRITICAL; AUDIT selects audit events only.',
      ),
    ),
    limit: field.withRaw(field.int(`How many events (default ${DEFAULT_EVENTS}, max ${MAX_EVENTS}).`)),
    before: field.int('Only events older than this event id.'),
    after: field.int('Only events newer than this event id.'),
    // MAAS filters on who caused each event; metalflow does not record that (see presentEvent).
    owner: field.present(field.list('Not supported (refused): metalflow does not record who caused an event.')),
  },
  (v) => {
    if (v.owner !== undefined)
      throw badRequest({
        owner: ['Filtering events by owner is not supported: metalflow does not record who caused an event.'],
      });
    const filter = {
      hostname: v.hostname.value.map((h) => h.split('.')[0] ?? h),
      macAddress: macsOf(v.mac_address.value),
      systemId: v.id.value,
      zone: v.zone.value,
      agentName: v.agent_name.value,
      domain: v.domain.value,
      level: levelOf(v.level.value),
    };
    const page = { limit: limitOf(v.limit.value), before: v.before, after: v.after };
    const carried: Array<[string, string[]]> = [
      ['op', ['query']],
      ['agent_name', v.agent_name.raw],
      ['domain', v.domain.raw],
      ['hostname', v.hostname.raw],
      ['id', v.id.raw],
      ['level', v.level.raw],
      ['limit', v.limit.raw],
      ['mac_address', v.mac_address.raw],
      ['zone', v.zone.raw],
    ];
    return { filter, page, carried };
  },
);

function levelOf(given: string | undefined): EventLevel {
  const raw = (given || 'INFO').toUpperCase();
  if (!(raw in EVENT_LEVELS))
    throw badRequest({
      level: [`Unrecognised log level: ${given ?? ''}. Choose from: ${Object.keys(EVENT_LEVELS).sort().join(', ')}.`],
    });
  return raw as EventLevel;
}

function limitOf(given: number | undefined): number {
  const limit = given ?? DEFAULT_EVENTS;
  if (limit > MAX_EVENTS)
    throw badRequest({ limit: [`Requested number of events ${limit} is greater than limit: ${MAX_EVENTS}`] });
  return Math.max(limit, 1);
}

function macsOf(values: string[]): string[] {
  return values.map((raw) => {
    const mac = normaliseMac(raw);
    if (!mac) throw badRequest({ mac_address: [`Invalid MAC address: ${raw}`] });
    return mac;
  });
}

/** MAAS's make_uri: the request's own parameters, with `before`/`after` replaced. */
function pageUri(carried: Array<[string, string[]]>, override: Record<string, number>): string {
  const q = new URLSearchParams();
  for (const [name, values] of carried) for (const value of values) q.append(name, value);
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
        action({
          method: 'GET',
          op: 'query',
          access: may('event', 'read'),
          form: queryForm,
          doc: 'Events of the machines the caller may see, newest first; before or after (an event id) to page.',
          async handle(c) {
            const { filter, page, carried } = c.form;
            const rows = await events.query(caller(c), filter, page);
            const newest = rows[0];
            const oldest = rows.at(-1);
            // As MAAS: next_uri asks for newer events, prev_uri for older ones (null when none can exist).
            const nextUri = newest
              ? pageUri(carried, { after: newest.id })
              : page.before !== undefined
                ? pageUri(carried, { after: page.before - 1 })
                : pageUri(carried, {});
            const prevUri = oldest
              ? pageUri(carried, { before: oldest.id })
              : page.after !== undefined
                ? pageUri(carried, { before: page.after + 1 })
                : null;
            return { count: rows.length, events: rows.map(presentEvent), next_uri: nextUri, prev_uri: prevUri };
          },
        }),
      ],
    },
  ];
}
