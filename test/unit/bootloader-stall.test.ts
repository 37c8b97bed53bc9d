// The e2e lab's reading of a guest stuck in GRUB after a reboot (test/e2e/lab/bootloader-stall.ts):
// only GRUB's welcome with nothing printable after it counts; a menu, a prompt or a kernel does not.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { stuckAfterWelcome } from '../e2e/lab/bootloader-stall';

const ESC = '\x1b';
const restart = '[  197.674489] reboot: Restarting system\n[  197.675193] reboot: machine restart\n';
const firmware = 'BdsDxe: starting Boot0008 "debian" from HD(1,GPT,...)/\\EFI\\debian\\shimx64.efi\n';
const welcome = `${ESC}[2J${ESC}[01;01H${ESC}[0m${ESC}[30m${ESC}[47mWelcome to GRUB!\n\n${ESC}[0m${ESC}[37m${ESC}[40m\n\0`;

describe('a guest stuck in GRUB (the e2e lab)', () => {
  it('is stuck when GRUB printed nothing but terminal escapes after its welcome, since the restart', () => {
    // Shaped as the one stall seen (its last lines; the escapes are GRUB's, a NUL added): the first
    // boot's GRUB went on to the kernel, the second's printed nothing after its welcome.
    const firstBoot = `Welcome to GRUB!\n  Booting 'Debian GNU/Linux'\n[    0.000000] Linux version 6.1.0\n`;
    assert.equal(stuckAfterWelcome(firstBoot + restart + firmware + welcome), true);
  });

  it('is not stuck when GRUB went on, stopped at a prompt, or has not started yet', () => {
    assert.equal(stuckAfterWelcome(restart + firmware + welcome + "  Booting `Debian GNU/Linux'\n"), false);
    assert.equal(stuckAfterWelcome(restart + firmware + welcome + 'grub> '), false);
    assert.equal(stuckAfterWelcome(restart + firmware), false);
    assert.equal(stuckAfterWelcome(`Welcome to GRUB!\n[    0.000000] Linux version 6.1.0\n${restart}`), false);
  });
});
