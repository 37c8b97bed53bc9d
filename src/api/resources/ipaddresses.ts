// MAAS's IPAddressesHandler: `op=reserve` keeps an address out of every pool, and with
// `mac` makes it that MAC's fixed DHCP address; `op=release` gives it back.
import type { RegionServices } from '../../region/services';
import type { Principal } from '../../region/services/principal';
import { Reply, type Resource } from '../http';
import { presentReservedIp } from '../presenters/network';
import { userOf } from './access';
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
        {
          method: 'GET',
          doc: "Your reserved IP addresses; admins may pass all=true for everyone's.",
          async handle(c) {
            const user = userOf(c);
            const everyone = user.isSuperuser && c.params.bool('all') === true;
            const view = await networkView(services);
            return (await reservedIps.list(everyone ? null : user.id)).map((r) =>
              presentReservedIp(r, view.subnet(r.subnetId)),
            );
          },
        },
        {
          method: 'POST',
          op: 'reserve',
          doc: 'Reserve an IP address: ip (or ip_address; required), subnet (id or CIDR; found from ip if omitted), mac (its fixed DHCP address), hostname, comment.',
          async handle(c) {
            const user = userOf(c);
            const p = c.params;
            const row = await reservedIps.reserve(
              {
                ip: p.string('ip') ?? p.string('ip_address'),
                subnet: p.string('subnet'),
                macAddress: p.string('mac') ?? p.string('mac_address'),
                hostname: p.string('hostname'),
                comment: p.string('comment', { maxLength: 10_000 }),
              },
              user.id,
              user.isSuperuser,
            );
            return presentReservedIp(row, (await networkView(services)).subnet(row.subnetId));
          },
        },
        {
          method: 'POST',
          op: 'release',
          doc: 'Release a reserved IP address: ip. Users release their own; admins any.',
          async handle(c) {
            const user = userOf(c);
            await reservedIps.release(
              c.params.string('ip') ?? c.params.string('ip_address'),
              user.isSuperuser ? null : user.id,
            );
            return Reply.noContent();
          },
        },
      ],
    },
  ];
}
