// MAAS's BootSourcesHandler/BootSourceHandler and BootSourceSelectionsHandler/BootSourceSelection-
// Handler, describing what metalflow has: one boot source, the images built locally under the boot
// root (images/os/build.sh), with one selection per os/series it holds. Nothing is downloaded, so
// creating, changing or deleting a source or a selection is refused (400) with the reason.
import type { RegionServices } from '../../region/services';
import type { BootResource } from '../../region/services/boot-resources';
import type { Principal } from '../../region/services/principal';
import { badRequest, field, form, notFound, pathId, type Resource } from '../http';
import { action, may } from './access';

const LOCAL_SOURCE_ID = 1;
const BUILT_LOCALLY =
  'metalflow builds its images locally (images/os/build.sh writes them under the boot root) and downloads none';
const sourceUri = (id: number) => `/MAAS/api/2.0/boot-sources/${id}/`;

/** Django's datetime as MAAS's API emits it (no zone); the epoch when no image says when it was built. */
const maasTime = (iso: string) => (Date.parse(iso) ? new Date(iso) : new Date(0)).toISOString().replace('Z', '');

function presentSource(images: BootResource[]) {
  const built = images.map((i) => i.built).filter((b) => Date.parse(b));
  const sorted = [...built].sort();
  return {
    id: LOCAL_SOURCE_ID,
    name: 'local',
    url: 'local:images/os/',
    priority: 1,
    enabled: true,
    keyring_filename: '',
    keyring_data: '',
    skip_keyring_verification: true,
    created: maasTime(sorted[0] ?? ''),
    updated: maasTime(sorted.at(-1) ?? ''),
    resource_uri: sourceUri(LOCAL_SOURCE_ID),
  };
}

/** One selection per os/series, its architectures those the images are built for; ids in name order. */
function selections(images: BootResource[]) {
  const byName = new Map<string, BootResource[]>();
  for (const image of images) byName.set(image.name, [...(byName.get(image.name) ?? []), image]);
  return [...byName.values()].map((set, i) => ({
    id: i + 1,
    boot_source_id: LOCAL_SOURCE_ID,
    os: set[0]!.os,
    release: set[0]!.series,
    arches: [...new Set(set.map((r) => r.architecture.split('/')[0]!))],
    subarches: ['*'],
    labels: ['*'],
    resource_uri: `${sourceUri(LOCAL_SOURCE_ID)}selections/${i + 1}/`,
  }));
}

const sourceForm = form({
  url: field.text('The URL of the BootSource (refused: images are built locally).'),
  name: field.text('The name of the BootSource (refused: images are built locally).'),
  keyring_filename: field.text('Path of the keyring file (refused: images are built locally).'),
  keyring_data: field.text('The GPG keyring, base64-encoded (refused: images are built locally).'),
  priority: field.text('The priority (refused: images are built locally).'),
  enabled: field.text('Whether it is enabled (refused: images are built locally).'),
  skip_keyring_verification: field.text('Skip keyring verification (refused: images are built locally).'),
});
const selectionForm = form({
  os: field.text('The OS (refused: images are built locally).'),
  release: field.text('The release (refused: images are built locally).'),
  arches: field.list('The architectures (refused: images are built locally).'),
  subarches: field.list('The subarchitectures (refused: images are built locally).'),
  labels: field.list('The labels (refused: images are built locally).'),
});

const refuse = (what: string) => {
  throw badRequest(`Cannot ${what}: ${BUILT_LOCALLY}. Build or remove an image on the region instead.`);
};

export function bootSourceResources(deps: {
  services: Pick<RegionServices, 'bootResources'>;
}): Array<Resource<Principal>> {
  const { bootResources } = deps.services;
  const source = (id: string | undefined) => {
    if (pathId(id) !== LOCAL_SOURCE_ID) throw notFound('No BootSource matches the given query.');
    return bootResources.list();
  };
  const selection = (sourceId: string | undefined, id: string | undefined) => {
    const found = selections(source(sourceId)).find((s) => s.id === pathId(id));
    if (!found) throw notFound('No BootSourceSelection matches the given query.');
    return found;
  };
  return [
    {
      name: 'BootSourcesHandler',
      path: '/boot-sources/',
      doc: 'Manage the collection of boot sources: here one, the images built locally.',
      actions: [
        action({
          method: 'GET',
          access: may('boot-resource', 'read'),
          doc: 'List boot sources: the one local source (id 1), whose images are boot-resources/.',
          handle: async () => [presentSource(bootResources.list())],
        }),
        action({
          method: 'POST',
          access: may('boot-resource', 'change'),
          form: sourceForm,
          doc: `Create a boot source: refused (400), as ${BUILT_LOCALLY}.`,
          handle: async () => refuse('create a boot source'),
        }),
      ],
    },
    {
      name: 'BootSourceHandler',
      path: '/boot-sources/{id}/',
      doc: 'Manage a boot source.',
      actions: [
        action({
          method: 'GET',
          access: may('boot-resource', 'read'),
          doc: 'Read a boot source by id (1, the local images).',
          handle: async (c) => presentSource(source(c.path.id)),
        }),
        action({
          method: 'PUT',
          access: may('boot-resource', 'change'),
          form: sourceForm,
          doc: `Update a boot source: refused (400), as ${BUILT_LOCALLY}.`,
          handle: async (c) => (source(c.path.id), refuse('update a boot source')),
        }),
        action({
          method: 'DELETE',
          access: may('boot-resource', 'change'),
          doc: `Delete a boot source: refused (400), as ${BUILT_LOCALLY}.`,
          handle: async (c) => (source(c.path.id), refuse('delete a boot source')),
        }),
      ],
    },
    {
      name: 'BootSourceSelectionsHandler',
      path: '/boot-sources/{boot_source_id}/selections/',
      doc: 'Manage the collection of boot source selections: one per os/series of the local images.',
      actions: [
        action({
          method: 'GET',
          access: may('boot-resource', 'read'),
          doc: 'List the selections of a boot source: os, release, arches of each local image set.',
          handle: async (c) => selections(source(c.path.boot_source_id)),
        }),
        action({
          method: 'POST',
          access: may('boot-resource', 'change'),
          form: selectionForm,
          doc: `Create a boot source selection: refused (400), as ${BUILT_LOCALLY}.`,
          handle: async (c) => (source(c.path.boot_source_id), refuse('select images to download')),
        }),
      ],
    },
    {
      name: 'BootSourceSelectionHandler',
      path: '/boot-sources/{boot_source_id}/selections/{id}/',
      doc: 'Manage a boot source selection.',
      actions: [
        action({
          method: 'GET',
          access: may('boot-resource', 'read'),
          doc: 'Read a boot source selection by id.',
          handle: async (c) => selection(c.path.boot_source_id, c.path.id),
        }),
        action({
          method: 'PUT',
          access: may('boot-resource', 'change'),
          form: selectionForm,
          doc: `Update a boot source selection: refused (400), as ${BUILT_LOCALLY}.`,
          handle: async (c) => (selection(c.path.boot_source_id, c.path.id), refuse('change a selection')),
        }),
        action({
          method: 'DELETE',
          access: may('boot-resource', 'change'),
          doc: `Delete a boot source selection: refused (400), as ${BUILT_LOCALLY}.`,
          handle: async (c) => (selection(c.path.boot_source_id, c.path.id), refuse('delete a selection')),
        }),
      ],
    },
  ];
}
