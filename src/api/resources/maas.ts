// MAAS's MaasHandler (`maas/`): get_config and set_config over the settings metalflow honours
// (region/services/config-items.ts); every other MAAS setting is refused by name.
import type { RegionServices } from '../../region/services';
import { configDoc, rewriteConfigName as canonical } from '../../region/services/config-items';
import type { Principal } from '../../region/services/principal';
import { badRequest, field, form, Reply, type Resource } from '../http';
import { action, may } from './access';

const getConfigForm = form(
  { name: field.text('The name of the config item to be retrieved.', { required: true, maxLength: 100 }) },
  (v) => canonical(v.name),
);

const setConfigForm = form(
  {
    name: field.text('The name of the config item to be set.', { required: true, maxLength: 100 }),
    value: field.text('The value of the config item to be set (an empty value clears a list).', { maxLength: 10_000 }),
  },
  (v) => {
    if (v.value === undefined) throw badRequest({ value: ['This field is required.'] });
    return { name: canonical(v.name), value: v.value };
  },
);

export function maasResources(deps: { services: Pick<RegionServices, 'config'> }): Array<Resource<Principal>> {
  const { config } = deps.services;
  return [
    {
      name: 'MaasHandler',
      path: '/maas/',
      doc: 'Manage the MAAS server.',
      actions: [
        action({
          method: 'GET',
          op: 'get_config',
          access: may('config', 'read'),
          form: getConfigForm,
          doc: `Get a config value, as JSON. Available configuration items: ${configDoc()}`,
          handle: async (c) => Reply.json(await config.get(c.form)),
        }),
        action({
          method: 'POST',
          op: 'set_config',
          access: may('config', 'update'),
          form: setConfigForm,
          doc: `Set a config value (admin only). Available configuration items: ${configDoc()}`,
          handle: async (c) => (await config.set(c.form.name, c.form.value), Reply.text('OK')),
        }),
      ],
    },
  ];
}
