// MAAS's BootResourcesHandler and BootResourceHandler (read-only): the deployable images the
// region knows (src/region/services/boot-resources.ts), each a set with its one file and SHA-256.
import type { RegionServices } from '../../region/services';
import type { BootResource } from '../../region/services/boot-resources';
import type { Principal } from '../../region/services/principal';
import { notFound, pathId, type Resource } from '../http';
import { action, may } from './access';

const uri = (id: number) => `/MAAS/api/2.0/boot-resources/${id}/`;

const summary = (r: BootResource) => ({
  id: r.id,
  type: 'Uploaded',
  name: r.name,
  architecture: r.architecture,
  resource_uri: uri(r.id),
});

function detail(r: BootResource) {
  const version = r.built.slice(0, 10).replace(/-/g, '') || 'current';
  return {
    ...summary(r),
    title: r.title,
    subarches: r.architecture.split('/')[1] ?? 'generic',
    base_image: '',
    sets: {
      [version]: {
        version,
        label: 'uploaded',
        size: r.size,
        complete: true,
        files: {
          [r.filetype]: {
            filename: r.filetype,
            filetype: r.filetype,
            size: r.size,
            sha256: r.sha256,
            complete: true,
            url: r.path,
          },
        },
      },
    },
    metalflow: { path: r.path, raw_size: r.rawSize, raw_sha256: r.rawSha256, built: r.built },
  };
}

export function bootResourceResources(deps: {
  services: Pick<RegionServices, 'bootResources'>;
}): Array<Resource<Principal>> {
  const { bootResources } = deps.services;
  return [
    {
      name: 'BootResourcesHandler',
      path: '/boot-resources/',
      doc: "The deployable images (boot resources) this region has; a deploy's distro_series names one.",
      actions: [
        action({
          access: may('boot-resource', 'read'),
          method: 'GET',
          doc: 'List boot resources: id, type, name (os/series), architecture.',
          async handle() {
            return bootResources.list().map(summary);
          },
        }),
      ],
    },
    {
      name: 'BootResourceHandler',
      path: '/boot-resources/{id}/',
      doc: 'One boot resource, with its set of files and their SHA-256.',
      actions: [
        action({
          access: may('boot-resource', 'read'),
          method: 'GET',
          doc: 'A boot resource by id.',
          async handle(c) {
            const id = pathId(c.path.id);
            if (id === undefined) throw notFound('No BootResource matches the given query.');
            return detail(bootResources.get(id));
          },
        }),
      ],
    },
  ];
}
