// MAAS's DHCPSnippetsHandler and DHCPSnippetHandler (`/dhcp-snippets/`): users read, admins change.
// `value` holds ISC dhcpd statements, of which the rack's DHCP server applies those that map onto
// what it sends (contracts/dhcp-snippets.ts); anything else is refused at write with a 400.
import type { RegionServices } from '../../region/services';
import type { DhcpSnippetInput, DhcpSnippetRow } from '../../region/services/network/dhcp-snippets';
import type { Principal } from '../../region/services/principal';
import { field, form, notFound, pathId, Reply, type Resource } from '../http';
import { action, may } from './access';
import { networkView, type NetworkView } from './network-view';

const VALUE_DOC =
  'ISC dhcpd statements the rack’s DHCP server applies: `option NAME VALUE;` (standard names, or ones ' +
  'defined with `option NAME code NNN = TYPE;`), `next-server`, `filename`, `default-lease-time`, ' +
  '`max-lease-time`; anything else is refused. A boot file (filename, next-server, options 66/67) ' +
  'never replaces the one the server gives a netbooting (PXE/HTTP boot) client: it reaches the others only.';

const snippetId = (value: string | undefined): number => {
  const id = pathId(value);
  if (id === undefined) throw notFound('No DHCPSnippet matches the given query.');
  return id;
};

// name and value are required on create: the service says so (one form for create and update).
const snippetForm = () =>
  form(
    {
      name: field.text('The name of the DHCP snippet.', { maxLength: 255 }),
      value: field.text(VALUE_DOC, { maxLength: 65536 }),
      description: field.text('A description of what the DHCP snippet does.', { maxLength: 65536 }),
      enabled: field.bool('Whether or not the DHCP snippet is enabled (default true).'),
      node: field.text('The node (system_id of a machine) the snippet is for; not with subnet.'),
      subnet: field.text('The subnet (id or CIDR) the snippet is for; not with node.'),
      global_snippet: field.bool('Make the snippet global: removes its node or subnet.'),
    },
    (v): DhcpSnippetInput => ({
      name: v.name,
      value: v.value,
      description: v.description,
      enabled: v.enabled,
      node: v.node,
      subnet: v.subnet,
      globalSnippet: v.global_snippet,
    }),
  );

export function dhcpSnippetResources(deps: {
  services: Pick<RegionServices, 'fabrics' | 'subnets' | 'dhcpSnippets'>;
}): Array<Resource<Principal>> {
  const { services } = deps;
  const { dhcpSnippets } = services;
  const json = async (row: DhcpSnippetRow) => present(row, await networkView(services));
  return [
    {
      name: 'DHCPSnippetsHandler',
      path: '/dhcp-snippets/',
      doc: 'Manage the collection of all DHCP snippets.',
      actions: [
        action({
          method: 'GET',
          access: may('dhcp-snippet', 'read'),
          doc: 'List all DHCP snippets.',
          async handle() {
            const view = await networkView(services);
            return (await dhcpSnippets.list()).map((r) => present(r, view));
          },
        }),
        action({
          method: 'POST',
          access: may('dhcp-snippet', 'create'),
          form: snippetForm(),
          doc: 'Create a DHCP snippet (admin only): name and value required; node, subnet or global_snippet.',
          handle: async (c) => json(await dhcpSnippets.create(c.form)),
        }),
      ],
    },
    {
      name: 'DHCPSnippetHandler',
      path: '/dhcp-snippets/{id}/',
      doc: 'Manage an individual DHCP snippet, by id.',
      actions: [
        action({
          method: 'GET',
          access: may('dhcp-snippet', 'read'),
          doc: 'Read a DHCP snippet.',
          handle: async (c) => json(await dhcpSnippets.get(snippetId(c.path.id))),
        }),
        action({
          method: 'PUT',
          access: may('dhcp-snippet', 'update'),
          form: snippetForm(),
          doc: 'Update a DHCP snippet (admin only); a new value keeps the old one in its history.',
          handle: async (c) => json(await dhcpSnippets.update(snippetId(c.path.id), c.form)),
        }),
        action({
          method: 'DELETE',
          access: may('dhcp-snippet', 'delete'),
          doc: 'Delete a DHCP snippet (admin only).',
          handle: async (c) => (await dhcpSnippets.delete(snippetId(c.path.id)), Reply.noContent()),
        }),
        action({
          method: 'POST',
          op: 'revert',
          access: may('dhcp-snippet', 'update'),
          form: form({
            to: field.text('The version id in the history to revert to, or how far back to go (a negative number).'),
          }),
          doc: 'Revert the value of a DHCP snippet to an earlier revision (admin only); later revisions are deleted.',
          handle: async (c) => json(await dhcpSnippets.revert(snippetId(c.path.id), c.form.to)),
        }),
      ],
    },
  ];
}

function present(r: DhcpSnippetRow, view: NetworkView): Record<string, unknown> {
  return {
    id: r.id,
    name: r.name,
    value: r.history[0]?.value ?? '',
    history: r.history.map((v) => ({ id: v.id, value: v.value, created: v.created.toUTCString() })),
    description: r.description,
    enabled: r.enabled,
    node: r.node
      ? {
          system_id: r.node.systemId,
          hostname: r.node.hostname,
          resource_uri: `/MAAS/api/2.0/machines/${r.node.systemId}/`,
        }
      : null,
    subnet: r.subnetId === null ? null : view.subnet(r.subnetId),
    global_snippet: r.node === null && r.subnetId === null,
    resource_uri: `/MAAS/api/2.0/dhcp-snippets/${r.id}/`,
  };
}
