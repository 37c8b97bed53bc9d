// MAAS's event JSON (api/events.py event_to_dict).
import type { EventRow } from '../../region/services/event-queries';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');

/** strftime("%a, %d %b. %Y %H:%M:%S") in UTC, e.g. "Fri, 07 Dec. 2018 20:11:08". */
export function maasEventTime(d: Date): string {
  return `${DAYS[d.getUTCDay()]}, ${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]}. ${d.getUTCFullYear()} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}

export function presentEvent(e: EventRow): Record<string, unknown> {
  return {
    id: e.id,
    node: e.systemId,
    hostname: e.hostname,
    // MAAS shows who caused the event, "unknown" when nobody did; metalflow does not record it.
    username: 'unknown',
    level: e.level,
    created: maasEventTime(e.created),
    type: e.type,
    description: e.description,
  };
}
