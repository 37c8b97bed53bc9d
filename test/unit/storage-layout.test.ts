// The deploy installer's storage description (until the storage model API stores a machine's own).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FIRST_DISK, installerStorageLayout } from '../../src/region/services/storage-layout';

const disk = (name: string) => ({ name, size: 8e9, serial: '', model: '', path: `/dev/${name}` });

describe('installerStorageLayout', () => {
  it("is MAAS's flat layout on the first commissioned disk, bootable by BIOS and UEFI", () => {
    assert.equal(
      installerStorageLayout({ blockDevices: [disk('vda'), disk('vdb')] }),
      'disk /dev/vda\npart bios_grub 1M none none\npart esp 512M vfat /boot/efi\npart linux rest ext4 / root\n',
    );
    assert.match(installerStorageLayout({ blockDevices: [disk('nvme0n1')] }), /^disk \/dev\/nvme0n1\n/);
  });

  it('leaves the disk to the installer when commissioning reported none, or a name that is no kernel name', () => {
    assert.match(installerStorageLayout({ blockDevices: [] }), new RegExp(`^disk ${FIRST_DISK}\\n`));
    for (const bad of ['sda\npart linux 1M ext4 /', '../sda', 'sd a', ''])
      assert.match(installerStorageLayout({ blockDevices: [disk(bad)] }), new RegExp(`^disk ${FIRST_DISK}\\n`), bad);
  });
});
