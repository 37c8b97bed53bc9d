#!/usr/bin/env python3
"""The e2e lab's LLDP "switch": sends an LLDP frame (IEEE 802.1AB, ethertype 0x88cc, to the
nearest-bridge address 01:80:c2:00:00:0e) from the lab bridge every second, as a switch port does,
until it is stopped (SIGTERM) or the lab's process that started it is gone. A Linux bridge does not forward that group address between its
ports, but frames the host itself sends from the bridge device go out of every port, the VM's tap
among them, so the VM's commissioning hears a neighbour.

    lldp-switch.py IFACE SYSNAME PORT_ID PORT_DESCR SYS_DESCR MGMT_IPV4
"""
import os
import signal
import socket
import struct
import sys
import time


def tlv(kind: int, value: bytes) -> bytes:
    return struct.pack("!H", kind << 9 | len(value)) + value


def main() -> None:
    iface, sysname, port_id, port_descr, sys_descr, mgmt = sys.argv[1:7]
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    mac = s.getsockname()[4]
    lldpdu = (
        tlv(1, b"\x04" + mac)  # chassis ID: the bridge's MAC
        + tlv(2, b"\x05" + port_id.encode())  # port ID: an interface name
        + tlv(3, struct.pack("!H", 120))  # TTL
        + tlv(4, port_descr.encode())
        + tlv(5, sysname.encode())
        + tlv(6, sys_descr.encode())
        + tlv(7, struct.pack("!HH", 0x0014, 0x0004))  # bridge and router; bridge enabled
        + tlv(8, bytes([5, 1]) + socket.inet_aton(mgmt) + bytes([2, 0, 0, 0, 1, 0]))
        + tlv(0, b"")
    )
    frame = bytes.fromhex("0180c200000e") + mac + b"\x88\xcc" + lldpdu
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    parent = os.getppid()
    print(f"lldp-switch: {sysname} sending on {iface}", flush=True)
    while os.getppid() == parent:
        try:
            s.send(frame)
        except OSError as e:  # br0 without a port up yet: try again next second
            print(f"lldp-switch: {e}", flush=True)
        time.sleep(1)


if __name__ == "__main__":
    main()
