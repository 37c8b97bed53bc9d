// MAAS's StaticRoutesHandler and StaticRouteHandler. Everyone reads static routes; admins create,
// edit and delete them.
import type { RegionServices } from '../../region/services';
import type { StaticRouteInput } from '../../region/services/network/static-routes';
import type { Principal } from '../../region/services/principal';
import { field, form, notFound, pathId, Reply, type Resource } from '../http';
import { presentStaticRoute } from '../presenters/network';
import { action, may } from './access';
import { networkView } from './network-view';

const routeForm = (required: boolean) => {
  const text = (doc: string) => (required ? field.text(doc, { required: true }) : field.text(doc));
  return form(
    {
      source: text('The source subnet (id or CIDR).'),
      destination: text('The destination subnet (id or CIDR).'),
      gateway_ip: text('The gateway, an address on the source subnet.'),
      metric: field.int('The weight of the route on a deployed machine (default 0).', { min: 0 }),
    },
    (v): StaticRouteInput => ({
      source: v.source,
      destination: v.destination,
      gatewayIp: v.gateway_ip,
      metric: v.metric,
    }),
  );
};

const routeId = (value: string | undefined): number => {
  const id = pathId(value);
  if (id === undefined) throw notFound('No StaticRoute matches the given query.');
  return id;
};

export function staticRouteResources(deps: {
  services: Pick<RegionServices, 'staticRoutes' | 'fabrics' | 'subnets'>;
}): Array<Resource<Principal>> {
  const { staticRoutes } = deps.services;
  const present = async (routes: Awaited<ReturnType<typeof staticRoutes.list>>) => {
    const view = await networkView(deps.services);
    return routes.map((r) => presentStaticRoute(r, view.subnet));
  };
  return [
    {
      name: 'StaticRoutesHandler',
      path: '/static-routes/',
      doc: 'Manage static routes.',
      actions: [
        action({
          method: 'GET',
          access: may('network', 'read'),
          doc: 'List all static routes.',
          handle: async () => present(await staticRoutes.list()),
        }),
        action({
          method: 'POST',
          access: may('network', 'create'),
          form: routeForm(true),
          doc: 'Create a static route (admin only): the gateway must be on the source subnet.',
          handle: async (c) => (await present([await staticRoutes.create(c.form)]))[0],
        }),
      ],
    },
    {
      name: 'StaticRouteHandler',
      path: '/static-routes/{id}/',
      doc: 'Manage a static route.',
      actions: [
        action({
          method: 'GET',
          access: may('network', 'read'),
          doc: 'A static route by id.',
          handle: async (c) => (await present([await staticRoutes.get(routeId(c.path.id))]))[0],
        }),
        action({
          method: 'PUT',
          access: may('network', 'update'),
          form: routeForm(false),
          doc: 'Update a static route (admin only).',
          handle: async (c) => (await present([await staticRoutes.update(routeId(c.path.id), c.form)]))[0],
        }),
        action({
          method: 'DELETE',
          access: may('network', 'delete'),
          doc: 'Delete a static route (admin only).',
          handle: async (c) => (await staticRoutes.delete(routeId(c.path.id)), Reply.noContent()),
        }),
      ],
    },
  ];
}
