// MAAS's DomainsHandler and DomainHandler. Everyone reads domains; admins create, edit, delete
// them and choose the default. DNS itself is not served here yet (issue 14).
import type { RegionServices } from '../../region/services';
import { TTL_MAX, TTL_MIN, type DomainInput } from '../../region/services/domains';
import type { Principal } from '../../region/services/principal';
import { field, form, Reply, type Resource } from '../http';
import { presentDomain } from '../presenters/domain';
import { action, may } from './access';

const domainForm = (create: boolean) =>
  form(
    {
      name: create
        ? field.text('The name of the domain (a DNS name).', { maxLength: 255, required: true })
        : field.text('The new name (a DNS name); its machines follow it.', { maxLength: 255 }),
      authoritative: field.bool('Whether MAAS is authoritative for this domain (default true).'),
      // withRaw: an empty ttl (sent, no number) clears it; absent leaves it.
      ttl: field.withRaw(
        field.int("The default TTL of the domain's records, in seconds; empty clears it.", {
          min: TTL_MIN,
          max: TTL_MAX,
        }),
      ),
    },
    (v): DomainInput => ({
      name: v.name,
      authoritative: v.authoritative,
      ttl: v.ttl.raw.length === 0 ? undefined : (v.ttl.value ?? null),
    }),
  );

export function domainResources(deps: { services: Pick<RegionServices, 'domains'> }): Array<Resource<Principal>> {
  const { domains } = deps.services;
  return [
    {
      name: 'DomainsHandler',
      path: '/domains/',
      doc: 'Manage domains.',
      actions: [
        action({
          method: 'GET',
          access: may('domain', 'read'),
          doc: 'List all domains; the default domain maas (id 0) exists from the start.',
          handle: async () => (await domains.list()).map(presentDomain),
        }),
        action({
          method: 'POST',
          access: may('domain', 'create'),
          form: domainForm(true),
          doc: 'Create a domain (admin only).',
          handle: async (c) => presentDomain(await domains.create(c.form)),
        }),
      ],
    },
    {
      name: 'DomainHandler',
      path: '/domains/{id}/',
      doc: 'Manage a domain, by id or name.',
      actions: [
        action({
          method: 'GET',
          access: may('domain', 'read'),
          doc: 'A domain by id or name.',
          handle: async (c) => presentDomain(await domains.get(c.path.id!)),
        }),
        action({
          method: 'PUT',
          access: may('domain', 'update'),
          form: domainForm(false),
          doc: 'Update a domain (admin only): name, authoritative, ttl.',
          handle: async (c) => presentDomain(await domains.update(c.path.id!, c.form)),
        }),
        action({
          method: 'DELETE',
          access: may('domain', 'delete'),
          doc: 'Delete a domain (admin only); not the default domain, not one that machines are in.',
          handle: async (c) => (await domains.delete(c.path.id!), Reply.noContent()),
        }),
        action({
          method: 'POST',
          op: 'set_default',
          access: may('domain', 'update'),
          doc: 'Make this the default domain (admin only): machines created without a domain get it.',
          handle: async (c) => presentDomain(await domains.setDefault(c.path.id!)),
        }),
      ],
    },
  ];
}
