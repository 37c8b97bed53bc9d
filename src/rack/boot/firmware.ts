// The first-stage loaders TFTP hands to PXE firmware (TFTP_FILES): copied at startup from Debian's
// `ipxe` package into the boot root's tftp directory, so the rack serves what is installed on it
// and nothing outside the boot root has to be readable by the TFTP server.
import fs from 'node:fs/promises';
import path from 'node:path';
import { TFTP_FILES } from '../../contracts/boot';

/** Where Debian's `ipxe` package puts them (ipxe.efi is a symlink into /boot there). */
export const DEBIAN_IPXE_DIR = '/usr/lib/ipxe';

export interface FirmwareReport {
  installed: string[];
  /** Loaders neither in the tftp directory nor in the source: PXE clients asking for them fail. */
  missing: string[];
}

/**
 * Copies each loader that is missing or differs from the one in `sourceDir` into `tftpDir`
 * (through a temporary name, so a transfer never reads half a file). A loader already in
 * `tftpDir` with no source is kept: an operator may have put their own build there.
 */
export async function installIpxeFirmware(tftpDir: string, sourceDir = DEBIAN_IPXE_DIR): Promise<FirmwareReport> {
  await fs.mkdir(tftpDir, { recursive: true });
  const report: FirmwareReport = { installed: [], missing: [] };
  for (const name of [TFTP_FILES.biosIpxe, TFTP_FILES.uefiIpxe]) {
    const source = path.join(sourceDir, name);
    const target = path.join(tftpDir, name);
    // Loaders are about 1 MB: comparing the bytes is cheap and catches a package upgrade that
    // kept the size (mtimes from a .deb say nothing about which copy is newer).
    const [from, to] = await Promise.all([
      fs.readFile(source).catch(() => undefined),
      fs.readFile(target).catch(() => undefined),
    ]);
    if (!from) {
      if (!to) report.missing.push(name);
      continue;
    }
    if (to?.equals(from)) continue;
    const temporary = `${target}.${process.pid}.tmp`;
    await fs.writeFile(temporary, from);
    await fs.rename(temporary, target);
    report.installed.push(name);
  }
  return report;
}
