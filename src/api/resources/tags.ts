// MAAS's TagsHandler and TagHandler. Everyone reads tags and lists the machines they may see with
// a tag; admins create, edit and delete tags and attach them to machines (update_nodes).
// A tag's `definition` (MAAS: an XPath expression evaluated against machines' hardware details to
// tag them automatically) is stored and returned but NOT evaluated: see region/services/tags.ts.
import type { RegionServices } from '../../region/services';
import type { Principal } from '../../region/services/principal';
import type { Params } from '../http';
import { Reply, type Resource } from '../http';
import { presentMachine, presentOptionsFor, type PresentOptions } from '../presenters/machine';
import { presentTag } from '../presenters/tag';
import { adminOf, userOf, type Ctx } from './access';

const form = (p: Params) => ({
  name: p.string('name'),
  comment: p.string('comment', { maxLength: 10_000 }),
  definition: p.string('definition', { maxLength: 10_000 }),
  kernelOpts: p.string('kernel_opts', { maxLength: 10_000 }),
});

export function tagResources(deps: {
  services: Pick<RegionServices, 'tags' | 'queries'>;
  present: PresentOptions;
}): Array<Resource<Principal>> {
  const { tags, queries } = deps.services;
  const taggedMachines = async (c: Ctx) => {
    const user = userOf(c);
    const tag = await tags.get(c.path.name!);
    const views = await queries.list({ kind: 'user', user }, { tags: [tag.name] });
    return views.map((v) => presentMachine(v, presentOptionsFor(deps.present, c.principal)));
  };
  return [
    {
      name: 'TagsHandler',
      path: '/tags/',
      doc: 'Manage all tags known to MAAS.',
      actions: [
        {
          method: 'GET',
          doc: 'List tags.',
          async handle(c) {
            userOf(c);
            return (await tags.list()).map(presentTag);
          },
        },
        {
          method: 'POST',
          doc: 'Create a tag (admin only): name (letters, digits, "_", "-"), comment, definition (stored, not evaluated), kernel_opts.',
          async handle(c) {
            adminOf(c);
            const input = form(c.params);
            return presentTag(await tags.create(input));
          },
        },
      ],
    },
    {
      name: 'TagHandler',
      path: '/tags/{name}/',
      doc: 'A tag: a label on machines, usable to select them when allocating.',
      actions: [
        {
          method: 'GET',
          doc: 'A tag by name.',
          async handle(c) {
            userOf(c);
            return presentTag(await tags.get(c.path.name!));
          },
        },
        {
          method: 'PUT',
          doc: 'Update a tag (admin only): name, comment, definition, kernel_opts.',
          async handle(c) {
            adminOf(c);
            return presentTag(await tags.update(c.path.name!, form(c.params)));
          },
        },
        {
          method: 'DELETE',
          doc: 'Delete a tag (admin only); machines lose it.',
          async handle(c) {
            adminOf(c);
            await tags.delete(c.path.name!);
            return Reply.noContent();
          },
        },
        {
          method: 'GET',
          op: 'machines',
          doc: 'The machines with this tag that the caller may see.',
          handle: taggedMachines,
        },
        {
          method: 'GET',
          op: 'nodes',
          doc: 'The nodes with this tag that the caller may see (metalflow manages machines only).',
          handle: taggedMachines,
        },
        {
          method: 'POST',
          op: 'update_nodes',
          doc: "Tag (add) and untag (remove) machines by system_id (admin only); returns {added, removed}. A given definition must match the tag's (else 409).",
          async handle(c) {
            adminOf(c);
            return tags.updateMachines(c.path.name!, {
              add: c.params.list('add'),
              remove: c.params.list('remove'),
              definition: c.params.string('definition'),
            });
          },
        },
      ],
    },
  ];
}
