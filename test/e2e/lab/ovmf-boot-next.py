#!/usr/bin/env python3
# The lab BMC's EFI boot override (chassis.sh: `chassis bootdev pxe options=efiboot` before a power
# on): sets BootNext in a powered-off OVMF VM's variable store to its network (PXEv4) boot entry, as
# a server's BMC has its firmware boot the network once whatever BootOrder says. OVMF takes
# BootNext, deletes it and boots that entry; later boots follow BootOrder again (the installed OS
# first). Nothing is written when the store has no PXEv4 entry yet (a fresh NVRAM: OVMF makes its
# entries on its first boot, and with no disk entry it netboots anyway).
#
#   ovmf-boot-next.py VARS.fd      prints the entry it chose (Boot####), or nothing
#
# The store is edk2's authenticated variable format after the firmware volume header: 60-byte
# variable headers (StartId 0x55AA, State, Attributes, ..., NameSize, DataSize, VendorGuid), the
# UTF-16 name, the data, each variable 4-byte aligned; the free space is 0xFF. A variable is
# replaced as edk2 does it: the old copy's State marked deleted, the new one appended.
import re
import struct
import sys
import uuid

GLOBAL = uuid.UUID('8be4df61-93ca-11d2-aa0d-00e098032b8c')
VAR_ADDED, VAR_IN_DELETED_TRANSITION, VAR_DELETED = 0x3F, 0xFE, 0xFD
HEADER = struct.Struct('<HBBIQ16sIII16s')  # StartId State Reserved Attributes Count Time PubKey NameSize DataSize Guid
NV_BS_RT = 0x7


def variables(store: bytearray, start: int, end: int):
    """(offset, state, name, guid, data, next offset) of each variable header in the store, deleted ones too."""
    off = start
    while off + HEADER.size <= end:
        start_id, state, _, _, _, _, _, name_size, data_size, guid = HEADER.unpack_from(store, off)
        if start_id != 0x55AA:
            return
        name_at = off + HEADER.size
        name = store[name_at : name_at + name_size].decode('utf-16-le').rstrip('\0')
        data = bytes(store[name_at + name_size : name_at + name_size + data_size])
        following = (name_at + name_size + data_size + 3) & ~3
        yield off, state, name, uuid.UUID(bytes_le=bytes(guid)), data, following
        off = following


def live(state: int) -> bool:
    return state in (VAR_ADDED, VAR_ADDED & VAR_IN_DELETED_TRANSITION)


def description(load_option: bytes) -> str:
    """An EFI_LOAD_OPTION's description: after Attributes (4) and FilePathListLength (2)."""
    text = load_option[6:]
    end = next((i for i in range(0, len(text) - 1, 2) if text[i : i + 2] == b'\0\0'), len(text))
    return text[:end].decode('utf-16-le', 'replace')


def main(path: str) -> None:
    with open(path, 'rb') as f:
        store = bytearray(f.read())
    if store[0x28:0x2C] != b'_FVH':
        sys.exit(f'{path}: not a firmware volume')
    fv_header = struct.unpack_from('<H', store, 0x30)[0]
    size = struct.unpack_from('<I', store, fv_header + 16)[0]
    start, end = (fv_header + 28 + 3) & ~3, fv_header + size
    found = list(variables(store, start, end))
    pxe = [
        int(name[4:], 16)
        for _, state, name, guid, data, _ in found
        if live(state) and guid == GLOBAL and re.fullmatch('Boot[0-9A-Fa-f]{4}', name)
        and description(data).startswith('UEFI PXEv4')
    ]
    if not pxe:
        return
    for off, state, name, guid, _, _ in found:
        if live(state) and guid == GLOBAL and name == 'BootNext':
            store[off + 2] = state & VAR_DELETED
    free = found[-1][5] if found else start
    name = 'BootNext\0'.encode('utf-16-le')
    data = struct.pack('<H', pxe[0])
    record = HEADER.pack(0x55AA, VAR_ADDED, 0, NV_BS_RT, 0, bytes(16), 0, len(name), len(data), GLOBAL.bytes_le)
    record += name + data
    if free + len(record) > end or any(b != 0xFF for b in store[free : free + len(record)]):
        sys.exit(f'{path}: no free space for BootNext at {free:#x}')
    store[free : free + len(record)] = record
    with open(path, 'r+b') as f:
        f.write(store)
    print(f'Boot{pxe[0]:04X}')


if __name__ == '__main__':
    main(sys.argv[1])
