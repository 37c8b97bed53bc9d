// MAAS's TagsHandler and TagHandler. Everyone reads tags and lists the machines they may see with
// a tag; admins create, edit and delete tags and attach them to machines (update_nodes).
// A tag's `definition` is an XPath expression over machines' lshw XML that tags them
// automatically (region/services/tags.ts); `rebuild` recomputes its machines.
import type { RegionServices } from '../../region/services';
import { MACHINE_FILTER_CAPS } from '../../region/services/machine-filter';
import type { Principal } from '../../region/services/principal';
import { field, form, Reply, type Resource } from '../http';
import { presentMachine, presentOptionsFor, type PresentOptions } from '../presenters/machine';
import { presentTag } from '../presenters/tag';
import { action, caller, may, type Ctx } from './access';

const tagForm = form(
  {
    name: field.text('The name: letters, digits, "_" and "-".'),
    comment: field.text('A comment.', { maxLength: 10_000 }),
    definition: field.text(
      'An XPath expression over the lshw XML of commissioning: the machines it matches get the tag.',
      { maxLength: 4096 },
    ),
    kernel_opts: field.text('Kernel options for machines with this tag.', { maxLength: 10_000 }),
  },
  (v) => ({ name: v.name, comment: v.comment, definition: v.definition, kernelOpts: v.kernel_opts }),
);

export function tagResources(deps: {
  services: Pick<RegionServices, 'tags' | 'queries'>;
  present: PresentOptions;
}): Array<Resource<Principal>> {
  const { tags, queries } = deps.services;
  const taggedMachines = async (c: Ctx) => {
    const tag = await tags.get(c.path.name!);
    const views = await queries.list(caller(c), { tags: [tag.name] });
    return views.map((v) => presentMachine(v, presentOptionsFor(deps.present, c.principal)));
  };
  return [
    {
      name: 'TagsHandler',
      path: '/tags/',
      doc: 'Manage all tags known to MAAS.',
      actions: [
        action({
          method: 'GET',
          access: may('tag', 'read'),
          doc: 'List tags.',
          handle: async () => (await tags.list()).map(presentTag),
        }),
        action({
          method: 'POST',
          access: may('tag', 'create'),
          form: tagForm,
          doc: 'Create a tag (admin only).',
          handle: async (c) => presentTag(await tags.create(c.form)),
        }),
      ],
    },
    {
      name: 'TagHandler',
      path: '/tags/{name}/',
      doc: 'A tag: a label on machines, usable to select them when allocating.',
      actions: [
        action({
          method: 'GET',
          access: may('tag', 'read'),
          doc: 'A tag by name.',
          handle: async (c) => presentTag(await tags.get(c.path.name!)),
        }),
        action({
          method: 'PUT',
          access: may('tag', 'update'),
          form: tagForm,
          doc: 'Update a tag (admin only).',
          handle: async (c) => presentTag(await tags.update(c.path.name!, c.form)),
        }),
        action({
          method: 'DELETE',
          access: may('tag', 'delete'),
          doc: 'Delete a tag (admin only); machines lose it.',
          handle: async (c) => (await tags.delete(c.path.name!), Reply.noContent()),
        }),
        action({
          method: 'GET',
          op: 'machines',
          access: may('tag', 'read'),
          doc: 'The machines with this tag that the caller may see.',
          handle: taggedMachines,
        }),
        action({
          method: 'GET',
          op: 'nodes',
          access: may('tag', 'read'),
          doc: 'The nodes with this tag that the caller may see (metalflow manages machines only).',
          handle: taggedMachines,
        }),
        action({
          method: 'POST',
          op: 'update_nodes',
          access: may('tag', 'update'),
          form: form({
            add: field.list('The system_id of a machine to tag.', { maxValues: MACHINE_FILTER_CAPS.systemId }),
            remove: field.list('The system_id of a machine to untag.', { maxValues: MACHINE_FILTER_CAPS.systemId }),
            definition: field.text("The tag's definition as the caller knows it; a different one is a 409."),
          }),
          doc: 'Tag (add) and untag (remove) machines (admin only); returns {added, removed}.',
          handle: async (c) => tags.updateMachines(c.path.name!, c.form),
        }),
        action({
          method: 'POST',
          op: 'rebuild',
          access: may('tag', 'update'),
          doc: "Rebuild the tag's machines from its XPath definition over their lshw output (admin only).",
          handle: async (c) => ({ rebuilding: (await tags.rebuild(c.path.name!)).name }),
        }),
      ],
    },
  ];
}
