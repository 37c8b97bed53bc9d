// The hardware report the ephemeral environment uploads (file `metalflow-hardware.json` with
// `op=signal`), applied to the machine as MAAS applies commissioning results once
// hardware-report-schema.ts has validated it.
import type { EntityManager } from 'typeorm';
import { HARDWARE_FILE, type HardwareReport } from '../../contracts/hardware';
import { MachineStatus } from '../../contracts/lifecycle';
import type { BlockDevice, Machine } from '../db/entities';
import { applyDefaultLayout } from './storage/default-layout';
import { syncPhysicalDevices } from './storage/repository';
import { setInitialNetworking } from './machine-network/initial-config';

export { HARDWARE_FILE };
export { parseHardwareReport } from './hardware-report-schema';

/**
 * `machine` is the locked row: its skip_networking / skip_storage (set by this commissioning's
 * start) keep the interfaces / block devices as they were. They hold for every report of the run
 * (the resources JSON and lshw may each come first, and each remakes this record); the run's end
 * clears them (metadata.ts), as MAAS's hooks do.
 */
export async function applyHardwareReport(manager: EntityManager, machine: Machine, r: HardwareReport): Promise<void> {
  const blockDevices: BlockDevice[] = r.block_devices.map((d) => ({
    name: d.name,
    size: d.size_bytes,
    serial: d.serial,
    model: d.model,
    path: `/dev/${d.name}`,
  }));
  const storageMb = r.block_devices.reduce((sum, d) => sum + d.size_bytes, 0) / 1_000_000;
  const hardwareInfo: Record<string, string> = {
    cpu_model: r.cpu.model,
    system_vendor: r.dmi.vendor ?? r.dmi.sys_vendor ?? '',
    system_product: r.dmi.product ?? r.dmi.product_name ?? '',
    system_serial: r.dmi.serial ?? r.dmi.product_serial ?? '',
    system_uuid: r.dmi.uuid ?? r.dmi.product_uuid ?? '',
  };
  await manager.query(
    `UPDATE machines SET cpu_count = $2, cpu_speed = $3, memory = $4,
            storage = CASE WHEN $9 THEN storage ELSE $5 END,
            block_devices = CASE WHEN $9 THEN block_devices ELSE $6 END,
            hardware_info = $7, architecture = COALESCE(NULLIF(architecture, ''), $8),
            updated = now(),
            hardware_report = $10, hardware_report_at = now(),
            bios_boot_method = COALESCE($11, bios_boot_method)
      WHERE id = $1`,
    [
      machine.id,
      r.cpu.count,
      r.cpu.speed_mhz,
      r.memory_mib,
      storageMb,
      JSON.stringify(blockDevices),
      JSON.stringify(hardwareInfo),
      r.architecture ?? '',
      machine.skipStorage,
      // As validated: node-results/ and the machine's details show what commissioning reported.
      JSON.stringify(r),
      // The firmware it booted (a report may not say): the default layout below reads it (an ESP for UEFI).
      r.firmware ? (r.firmware === 'uefi' ? 'uefi' : 'pxe') : null,
    ],
  );
  await applyStorageReport(manager, machine, r);
  if (machine.skipNetworking) return;
  const virtual: string[] = [];
  for (const [i, nic] of r.interfaces.entries()) {
    if ((nic.type ?? 'physical') === 'physical') {
      // sysfs gives the negotiated speed only: it is the interface's speed too while the link is
      // up, and a NIC seen down keeps the interface speed it had. Carrier unknown: connected.
      await manager.query(
        // A MAC a device has stays the device's, as one another machine has stays that machine's.
        `INSERT INTO interfaces (machine_id, name, type, mac_address, enabled, link_speed, is_boot, link_connected, interface_speed)
         SELECT $1::int, $2::text, 'physical', $3::macaddr, true, $4::int, false, $5::boolean, $4::int
          WHERE NOT EXISTS (SELECT 1 FROM device_interfaces WHERE mac_address = $3::macaddr)
         ON CONFLICT (mac_address) WHERE type = 'physical' DO UPDATE SET name = EXCLUDED.name, link_speed = EXCLUDED.link_speed,
           link_connected = EXCLUDED.link_connected, interface_speed = GREATEST(EXCLUDED.interface_speed, interfaces.interface_speed)
         WHERE interfaces.machine_id = EXCLUDED.machine_id`,
        [machine.id, nic.name || `eth${i}`, nic.mac, nic.link_speed_mbps, nic.link_connected ?? true],
      );
      continue;
    }
    // A VLAN, bridge or bond shares a MAC with a NIC: it is known by its machine and name.
    virtual.push(nic.name);
    await manager.query(
      `INSERT INTO interfaces (machine_id, name, type, mac_address, enabled, link_speed, is_boot)
       VALUES ($1, $2, $3, $4, true, $5, false)
       ON CONFLICT (machine_id, name) WHERE type <> 'physical'
       DO UPDATE SET type = EXCLUDED.type, mac_address = EXCLUDED.mac_address, link_speed = EXCLUDED.link_speed`,
      [machine.id, nic.name, nic.type, nic.mac, nic.link_speed_mbps],
    );
  }
  // The host's current VLANs, bridges and bonds replace the ones reported before. The ones users
  // configured (they name their parents) stay, but commissioning starts the network afresh.
  await manager.query(
    `DELETE FROM interfaces i WHERE i.machine_id = $1 AND i.type <> 'physical' AND NOT (i.name = ANY($2::text[]))
        AND ($3 OR NOT EXISTS (SELECT 1 FROM interface_parents p WHERE p.child_id = i.id))`,
    [machine.id, virtual, machine.status === MachineStatus.COMMISSIONING],
  );
  // Commissioning (not a deployed host's own report) sets MAAS's initial network configuration.
  if (machine.status === MachineStatus.COMMISSIONING) await setInitialNetworking(manager, machine.id);
}

/**
 * The storage tables (migration 0016): the reported disks become the machine's physical block
 * devices (ids kept for the same disk), and at the end of a commissioning the default layout is
 * laid out on them, as MAAS does; skip_storage keeps all of it. A deployed machine's own report
 * (maas-run-scripts) updates its disks but lays nothing out.
 */
async function applyStorageReport(manager: EntityManager, machine: Machine, r: HardwareReport): Promise<void> {
  if (machine.skipStorage) return;
  await syncPhysicalDevices(
    manager,
    machine.id,
    r.block_devices.map((d) => ({
      name: d.name,
      size: d.size_bytes,
      serial: d.serial,
      model: d.model,
      idPath: d.id_path ?? '',
      blockSize: d.block_size || 512,
    })),
  );
  if (machine.status === MachineStatus.COMMISSIONING) await applyDefaultLayout(manager, machine.id);
}
