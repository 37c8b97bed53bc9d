// MAAS's BootResourcesHandler and BootResourceHandler (read-only): the images the region knows
// (src/region/services/boot-resources.ts), each a set with its files and their SHA-256. Each
// is something a deploy can install (`metalflow_deployable` is always true; `metalflow.role` says
// what it is for: the real debian/bookworm, or the stand-in for fast tests).
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
  metalflow_deployable: r.deployable,
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
        size: r.files.reduce((sum, f) => sum + f.size, 0),
        complete: true,
        // Keyed by filetype, as MAAS keys a set's files (root-tgz, boot-kernel, boot-initrd).
        files: Object.fromEntries(
          r.files.map((f) => [
            f.filetype,
            {
              filename: f.filetype,
              filetype: f.filetype,
              size: f.size,
              sha256: f.sha256,
              complete: true,
              url: f.path,
            },
          ]),
        ),
      },
    },
    metalflow: {
      path: r.path,
      deployable: r.deployable,
      role: r.role,
      raw_size: r.rawSize,
      raw_sha256: r.rawSha256,
      built: r.built,
    },
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
          doc: 'List boot resources: id, type, name (os/series), architecture, and whether a deploy can use it (metalflow_deployable).',
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
