// MAAS's IPAddressesHandler: `op=reserve` keeps an address out of every pool, and with
// `mac` makes it that MAC's fixed DHCP address; `op=release` gives it back.
import type { RegionServices } from '../../region/services';
import type { Principal } from '../../region/services/principal';
import { mayDo } from '../../region/policy';
import { field, form, Reply, type Resource } from '../http';
import { presentReservedIp } from '../presenters/network';
import { action, caller, may } from './access';

const ipField = { ip: field.text('The IP address.'), ip_address: field.text('The IP address (when ip is absent).') };
import { networkView } from './network-view';

export function ipAddressResources(deps: {
  services: Pick<RegionServices, 'fabrics' | 'subnets' | 'reservedIps'>;
}): Array<Resource<Principal>> {
  const { services } = deps;
  const { reservedIps } = services;
  return [
    {
      name: 'IPAddressesHandler',
      path: '/ipaddresses/',
      doc: 'Manage IP addresses reserved by users.',
      actions: [
        action({
          method: 'GET',
          access: may('ip-address', 'read'),
          form: form({ all: field.bool("Admins: everyone's addresses.") }),
          doc: "Your reserved IP addresses; admins may pass all=true for everyone's.",
          async handle(c) {
            const p = caller(c);
            const user = p.user;
            const everyone = c.form.all === true && mayDo(p, may('ip-address', 'administer'));
            const view = await networkView(services);
            return (await reservedIps.list(everyone ? null : user.id)).map((r) =>
              presentReservedIp(r, view.subnet(r.subnetId)),
            );
          },
        }),
        action({
          method: 'POST',
          op: 'reserve',
          access: may('ip-address', 'create'),
          form: form(
            {
              ...ipField,
              subnet: field.text('The subnet, by id or CIDR (found from the address if omitted).'),
              mac: field.text(
                "A MAC address: the address becomes its fixed DHCP address (one of the caller's machines').",
              ),
              mac_address: field.text('The MAC address (when mac is absent).'),
              hostname: field.text('A hostname for the address.'),
              comment: field.text('A comment.', { maxLength: 10_000 }),
            },
            (v) => ({
              ip: v.ip ?? v.ip_address,
              subnet: v.subnet,
              macAddress: v.mac ?? v.mac_address,
              hostname: v.hostname,
              comment: v.comment,
            }),
          ),
          doc: 'Reserve an IP address (ip or ip_address is required).',
          async handle(c) {
            const p = caller(c);
            const row = await reservedIps.reserve(c.form, p.user.id, mayDo(p, may('ip-address', 'administer')));
            return presentReservedIp(row, (await networkView(services)).subnet(row.subnetId));
          },
        }),
        action({
          method: 'POST',
          op: 'release',
          access: may('ip-address', 'delete'),
          form: form(ipField, (v) => v.ip ?? v.ip_address),
          doc: 'Release a reserved IP address. Users release their own; admins any.',
          async handle(c) {
            const p = caller(c);
            await reservedIps.release(c.form, mayDo(p, may('ip-address', 'administer')) ? null : p.user.id);
            return Reply.noContent();
          },
        }),
      ],
    },
  ];
}
