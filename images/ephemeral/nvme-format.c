/*
 * nvme-format: the two NVMe admin commands the ephemeral environment's secure erase needs, through
 * the kernel's passthrough ioctl (what `nvme id-ctrl` and `nvme format --ses` do; nvme-cli itself
 * would bring libnvme, libcrypto, libdbus and libsystemd, ~5 MB compressed, into the initramfs).
 * Built by images/ephemeral/build.sh.
 *
 *   nvme-format info DEVICE     prints "format=0|1 crypto=0|1 nsid=N lbaf=N" (Identify Controller:
 *                               OACS bit 1 Format NVM supported, FNA bit 2 cryptographic erase
 *                               supported; Identify Namespace: the current LBA format)
 *   nvme-format erase DEVICE SES  Format NVM of DEVICE's namespace with Secure Erase Settings SES
 *                               (1 user data erase, 2 cryptographic erase), keeping its LBA
 *                               format, metadata and protection settings
 *
 * Exit status 0 on success; otherwise a message on stderr (the NVMe status when the drive refused).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/nvme_ioctl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int admin(int fd, uint8_t opcode, uint32_t nsid, uint32_t cdw10, void *data, uint32_t len, uint32_t timeout_ms,
                 const char *what) {
  struct nvme_admin_cmd cmd;
  memset(&cmd, 0, sizeof cmd);
  cmd.opcode = opcode;
  cmd.nsid = nsid;
  cmd.cdw10 = cdw10;
  cmd.addr = (uint64_t)(uintptr_t)data;
  cmd.data_len = len;
  cmd.timeout_ms = timeout_ms;
  int r = ioctl(fd, NVME_IOCTL_ADMIN_CMD, &cmd);
  if (r < 0) {
    fprintf(stderr, "nvme-format: %s: %s\n", what, strerror(errno));
    return -1;
  }
  if (r > 0) {
    fprintf(stderr, "nvme-format: %s: NVMe status 0x%x\n", what, r);
    return -1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3 || (strcmp(argv[1], "info") != 0 && strcmp(argv[1], "erase") != 0) ||
      (strcmp(argv[1], "erase") == 0 && argc != 4)) {
    fprintf(stderr, "usage: nvme-format info DEVICE | nvme-format erase DEVICE SES\n");
    return 2;
  }
  int fd = open(argv[2], O_RDONLY);
  if (fd < 0) {
    fprintf(stderr, "nvme-format: %s: %s\n", argv[2], strerror(errno));
    return 1;
  }
  int nsid = ioctl(fd, NVME_IOCTL_ID);
  if (nsid <= 0) {
    fprintf(stderr, "nvme-format: %s is not an NVMe namespace\n", argv[2]);
    return 1;
  }
  static uint8_t ctrl[4096] __attribute__((aligned(4096))), ns[4096] __attribute__((aligned(4096)));
  if (admin(fd, 0x06, 0, 1, ctrl, sizeof ctrl, 0, "Identify Controller") ||
      admin(fd, 0x06, (uint32_t)nsid, 0, ns, sizeof ns, 0, "Identify Namespace"))
    return 1;
  unsigned oacs = ctrl[256] | (ctrl[257] << 8), fna = ctrl[524];
  unsigned flbas = ns[26], dps = ns[29];
  unsigned lbaf = (flbas & 0xf) | (((flbas >> 5) & 0x3) << 4);
  if (strcmp(argv[1], "info") == 0) {
    printf("format=%u crypto=%u nsid=%d lbaf=%u\n", (oacs >> 1) & 1, (fna >> 2) & 1, nsid, lbaf);
    return 0;
  }
  char *end;
  long ses = strtol(argv[3], &end, 10);
  if (*end || ses < 1 || ses > 2) {
    fprintf(stderr, "nvme-format: SES must be 1 (user data erase) or 2 (cryptographic erase)\n");
    return 2;
  }
  /* CDW10: LBAF[3:0], MSET (bit 4), PI[7:5], PIL (bit 8), SES[11:9], LBAF upper bits [13:12]. */
  uint32_t cdw10 = (lbaf & 0xf) | (((flbas >> 4) & 1) << 4) | ((dps & 0x7) << 5) | (((dps >> 3) & 1) << 8) |
                   ((uint32_t)ses << 9) | (((lbaf >> 4) & 0x3) << 12);
  /* A drive may take a long time: up to 4 hours before the kernel gives up on the command. */
  if (admin(fd, 0x80, (uint32_t)nsid, cdw10, NULL, 0, 4 * 3600 * 1000, "Format NVM")) return 1;
  /* The kernel rescans the namespace itself after a format. */
  close(fd);
  return 0;
}
