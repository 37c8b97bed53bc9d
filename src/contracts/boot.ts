// What crosses from the rack's boot servers into a booting machine: the kernel command line the
// rack's iPXE script writes and the ephemeral environment reads, and where the rack serves images.
// The rack writes these (src/rack/boot), the environment reads them (images/ephemeral/init).

/** Kernel command-line keys (`key=value`), besides Linux's own `BOOTIF=01-aa-bb-…`. */
export const CMDLINE = {
  /** What to do: commissioning | enlist (other purposes never boot the ephemeral environment). */
  purpose: 'mf.purpose',
  /** Metadata server root as the machine reaches it, e.g. http://10.77.0.1:5248/MAAS/metadata */
  metadataUrl: 'mf.metadata',
  /** MAAS API root as the machine reaches it (enlistment), e.g. http://10.77.0.1:5248/MAAS */
  apiUrl: 'mf.api',
  /** The machine's own OAuth credentials (MAAS puts them on the kernel command line too). */
  consumerKey: 'mf.ck',
  tokenKey: 'mf.tk',
  tokenSecret: 'mf.ts',
  /** The machine's system_id (absent when enlisting). */
  systemId: 'mf.system_id',
  /** xinstall: the gzip'd raw disk image to write to the first disk, as the machine reaches it. */
  image: 'mf.image',
  /** xinstall: SHA-256 of that download (hex), checked while it streams. */
  imageSha256: 'mf.image_sha256',
  /**
   * xinstall of a root filesystem image: run it from RAM (ephemeral deploy), disks untouched. `1`
   * while deploying (the environment reports), `again` for a DEPLOYED machine's reboot (no reports).
   */
  ephemeral: 'mf.ephemeral',
  /** commissioning for release: erase the disks instead (quick | full | secure | secure,quick). */
  erase: 'mf.erase',
} as const;

/** How release erases disks (MAAS: secure falls back to quick when both were asked for, else full). */
export type EraseMode = 'quick' | 'full' | 'secure' | 'secure,quick';

/** Where boot resources (deployable images) live under the boot root: images/os/<os>/<series>/<arch>/. */
export const OS_IMAGES_DIR = 'images/os';
/**
 * Where real root filesystem images (root-tgz, built by images/debian/build.sh) live under the
 * boot root: images/rootfs/<os>/<series>/<arch>/, with the image's kernel and initrd beside them.
 */
export const OS_ROOTFS_DIR = 'images/rootfs';
/** The manifest each image build writes next to its image; the region lists these. */
export const OS_IMAGE_MANIFEST = 'metalflow.json';

/** Paths on the rack's HTTP boot server (port RACK_HTTP_PORT). */
export const BOOT_HTTP = {
  /** The first iPXE script (DHCP hands it to iPXE clients): chains to the per-MAC script. */
  bootScript: '/ipxe/boot.ipxe',
  /** Per-MAC script, built from the region's boot config for that MAC. */
  macScript: (mac: string) => `/ipxe/mac/${mac.toLowerCase().replace(/:/g, '-')}.ipxe`,
  /** The ephemeral environment (built by images/ephemeral/build.sh). */
  ephemeralKernel: (arch: string) => `/images/ephemeral/${arch}/vmlinuz`,
  ephemeralInitrd: (arch: string) => `/images/ephemeral/${arch}/initrd.gz`,
  /** Under /MAAS/, what machines use is proxied to the region (metadata server, enlistment API, run-scripts). */
  regionProxyPrefix: '/MAAS/',
} as const;

/** TFTP file names handed out by DHCP to non-iPXE firmware (Debian package `ipxe` provides them). */
export const TFTP_FILES = {
  biosIpxe: 'undionly.kpxe',
  uefiIpxe: 'ipxe.efi',
  /** iPXE asking over TFTP instead of HTTP gets the same first script. */
  bootScript: 'boot.ipxe',
} as const;
