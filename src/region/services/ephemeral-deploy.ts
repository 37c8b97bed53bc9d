// MAAS 3.5's ephemeral deploy: the image runs from RAM, the disks are never written. Which images
// can do that, and what releasing such a machine means (MAAS: just a power off, nothing to erase).
import { EPHEMERAL_FILETYPE, type BootResource } from './boot-resources';
import { ValidationError } from '../errors';

/**
 * Only a real OS image (a root filesystem archive: its own systemd, sshd and cloud-init) can run
 * from RAM; the raw-disk stand-in has to be written to a disk to boot. An unknown distro_series is
 * left to deploy's own check, which names it.
 */
export function assertRunsFromRam(image: BootResource | undefined, known: readonly BootResource[]): void {
  const able = known.filter((r) => r.filetype === EPHEMERAL_FILETYPE).map((r) => r.name);
  if (image ? image.filetype === EPHEMERAL_FILETYPE : known.length > 0) return;
  const choice = able.length ? `choose one of: ${[...new Set(able)].join(', ')}` : 'this region has none';
  throw ValidationError.field(
    'ephemeral_deploy',
    image
      ? `${image.name} cannot run from RAM (it is a raw disk image); an ephemeral deploy needs a root filesystem image: ${choice}.`
      : `An ephemeral deploy needs a root filesystem image to run from RAM: ${choice}.`,
  );
}

/** Release never erases what an ephemeral deploy never wrote (MAAS skips the erase too). */
export function eraseOnRelease(ephemeralDeploy: boolean, erase: boolean): boolean {
  return erase && !ephemeralDeploy;
}
