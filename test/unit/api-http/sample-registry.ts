// A small registry shaped like MAAS's machines API, shared by the router and describe tests.
import type Koa from 'koa';
import { unauthorized } from '../../../src/api/http/errors';
import { form, list, text } from '../../../src/api/http/form';
import { Reply } from '../../../src/api/http/reply';
import type { ActionContext, Resource } from '../../../src/api/http/resource';

export interface User {
  name: string;
}

export const API_KEY = 'ck:tk:ts';

/** Test authentication: "Bearer-ish" header `Test <name>`; `Test !` is a bad credential. */
export async function testAuthenticate(ctx: Koa.Context): Promise<User | null> {
  const header = ctx.get('Authorization');
  if (!header) return null;
  const name = header.replace(/^Test /, '');
  if (name === '!') throw unauthorized('Authorization Error: Invalid access token.');
  return { name };
}

/** What create and allocate take; every other action takes no parameter. */
const tagsForm = form({ tags: list('Tags.'), hostname: text('A hostname.') });

/** Every handler reports what it saw, so tests can check dispatch. */
function echo(action: string) {
  return async (c: ActionContext<User>) => ({
    action,
    principal: c.principal?.name ?? null,
    path: c.path,
    tags: c.params.getAll('tags'),
  });
}

export function sampleResources(): Array<Resource<User>> {
  return [
    {
      name: 'MachinesHandler',
      path: '/machines/',
      doc: 'Manage the collection of all the machines in the MAAS.',
      anonDoc: 'Anonymous access to Machines.',
      actions: [
        { method: 'GET', doc: 'List Nodes visible to the user.', handle: echo('read') },
        { method: 'POST', anonymous: true, doc: 'Create a new machine.', form: tagsForm, handle: echo('create') },
        {
          method: 'POST',
          op: 'allocate',
          doc: 'Allocate an available machine.',
          form: tagsForm,
          handle: echo('allocate'),
        },
        {
          method: 'GET',
          op: 'is_registered',
          anonymous: true,
          doc: 'Is a MAC address registered?',
          handle: echo('is_registered'),
        },
      ],
    },
    {
      name: 'MachineHandler',
      path: '/machines/{system_id}/',
      doc: 'Manage an individual machine.',
      actions: [
        { method: 'GET', doc: 'Read a machine.', handle: echo('read') },
        { method: 'PUT', doc: 'Update a machine.', handle: async () => Reply.text('updated', 202) },
        { method: 'DELETE', doc: 'Delete a machine.', handle: async () => undefined },
        { method: 'POST', op: 'deploy', doc: 'Deploy an operating system.', handle: echo('deploy') },
        {
          method: 'POST',
          op: 'release',
          doc: 'Release a machine.',
          handle: async (c) => Reply.created({ released: c.path.system_id }),
        },
      ],
    },
    {
      name: 'NodeResultsHandler',
      path: '/nodes/{system_id}/results/{id}',
      doc: 'Read one script result.',
      actions: [{ method: 'GET', doc: 'Read a result.', handle: echo('read') }],
    },
  ];
}
