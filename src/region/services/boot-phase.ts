// Which netboot a machine's status allows, and whether that boot gets the machine's credentials.
// The boot purpose a workflow stored is only a wish: it outlives the phase that set it (a READY
// machine still carries `commissioning`), and the rack's HTTP boot server answers anyone on the
// boot network. So the status decides: the machine's token goes out only while it is in a netboot
// phase whose ephemeral environment reports with it (commissioning, testing, deploying, disk erasing), and
// only with a purpose that phase uses. Enlisting needs no token (an unknown MAC; anonymous).
// One exception, as in MAAS (whose preseed for such a boot carries the token): a DEPLOYED
// ephemeral machine has no disk, so each netboot runs its OS from RAM again, and that OS's
// cloud-init reads the metadata server with the token.
import type { EraseMode } from '../../contracts/boot';
import { MachineStatus as S, type MachineStatus } from '../../contracts/lifecycle';
import type { BootPurpose } from '../../contracts/workflows';

export interface ServedBoot {
  purpose: BootPurpose;
  /** Whether the boot config carries the machine's OAuth credentials. */
  credentials: boolean;
  erase?: EraseMode;
  /** xinstall of an ephemeral deployment that is already DEPLOYED: run the OS again, report nothing. */
  again?: boolean;
}

/** The purposes each netboot phase's workflow sets (deploy: the installer, then the disk). */
const PHASES: ReadonlyMap<MachineStatus, readonly BootPurpose[]> = new Map<MachineStatus, readonly BootPurpose[]>([
  [S.COMMISSIONING, ['commissioning']],
  // op=test boots the commissioning environment, which runs the testing set.
  [S.TESTING, ['commissioning']],
  [S.DEPLOYING, ['xinstall', 'local']],
  // Release's erase boots the commissioning environment with mf.erase.
  [S.DISK_ERASING, ['commissioning']],
]);

export function servedBoot(status: number, stored: string, erase: string, ephemeral = false): ServedBoot {
  if (status === S.DEPLOYED && ephemeral && stored === 'xinstall')
    return { purpose: 'xinstall', credentials: true, again: true };
  const purposes = PHASES.get(status as MachineStatus);
  const wanted = stored as BootPurpose;
  if (purposes?.includes(wanted)) {
    if (status === S.DISK_ERASING) {
      // Erasing without an erase mode would commission instead: not what this phase is for.
      if (!erase) return { purpose: 'poweroff', credentials: false };
      return { purpose: wanted, credentials: true, erase: erase as EraseMode };
    }
    return { purpose: wanted, credentials: true };
  }
  // Outside those phases: a machine that boots from its disk keeps doing so (deployed); anything
  // else powers off, as MAAS's pxeconfig does for machines with nothing to netboot.
  return { purpose: stored === 'local' ? 'local' : 'poweroff', credentials: false };
}

/**
 * Whether powering the machine on sets next boot PXE (the rack's PowerConfig.netboot). Not when its
 * next boot is its own disk (deployed, or deploying once the image is written): its firmware's order
 * boots the installed OS, which the installer put first on UEFI. A netboot there would depend on the
 * rack's `local` answer handing back to the firmware, which stalls under OVMF. MAAS instead always
 * netboots and answers with a GRUB that chains the disk. An ephemeral deployment has no disk: it
 * netboots every time.
 */
export function powerOnNetboots(m: { bootPurpose: string; ephemeralDeploy: boolean }): boolean {
  return m.bootPurpose !== 'local' || m.ephemeralDeploy;
}
