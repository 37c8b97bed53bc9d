// MAAS's tag JSON (TagHandler.fields + resource_uri).
import type { Tag } from '../../region/services';

export function presentTag(t: Tag): Record<string, unknown> {
  return {
    name: t.name,
    definition: t.definition,
    comment: t.comment,
    kernel_opts: t.kernelOpts,
    resource_uri: `/MAAS/api/2.0/tags/${encodeURIComponent(t.name)}/`,
  };
}
