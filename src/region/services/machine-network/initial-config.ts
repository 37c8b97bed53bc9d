// What commissioning leaves a machine's network as (MAAS's set_initial_networking_configuration),
// and restore_networking_configuration's way back to it (restore_network_interfaces first): the
// boot interface on the VLAN of the subnet it PXE-booted from with an AUTO link there, every other
// connected NIC brought up (LINK_UP) on the VLAN its lease was on, if any; no explicit gateway.
import type { EntityManager } from 'typeorm';

export async function setInitialNetworking(tx: EntityManager, machineId: number): Promise<void> {
  await tx.query(
    `DELETE FROM interface_links WHERE interface_id IN (SELECT id FROM interfaces WHERE machine_id = $1)`,
    [machineId],
  );
  // The rest in one statement (a commissioning's report makes it, on the machine's row lock).
  // Each NIC's most recent lease names the subnet (so the VLAN) it was seen on. The boot NIC is
  // the boot interface, else the first NIC with a lease: it gets the AUTO link when it has a
  // subnet; every other connected, enabled NIC (the boot NIC too when it has none) is LINK_UP.
  await tx.query(
    `WITH gateway AS (
       UPDATE machines SET gateway_link_ipv4 = NULL, gateway_link_ipv6 = NULL WHERE id = $1
     ), nics AS (
       SELECT i.id, i.is_boot, i.link_connected AND i.enabled AS up, l.subnet_id, s.vlan_id
         FROM interfaces i
         LEFT JOIN LATERAL (SELECT subnet_id FROM dhcp_leases WHERE mac_address = i.mac_address AND subnet_id IS NOT NULL
                             ORDER BY updated DESC LIMIT 1) l ON true
         LEFT JOIN subnets s ON s.id = l.subnet_id
        WHERE i.machine_id = $1 AND i.type = 'physical'
     ), boot AS (
       SELECT id FROM nics WHERE is_boot OR subnet_id IS NOT NULL ORDER BY is_boot DESC, id LIMIT 1
     ), vlans AS (
       UPDATE interfaces i SET vlan_id = n.vlan_id FROM nics n WHERE i.id = n.id AND n.vlan_id IS NOT NULL
     ), links AS (
       SELECT n.id, n.is_boot, n.subnet_id, n.id IN (SELECT id FROM boot) AND n.subnet_id IS NOT NULL AS auto, n.up
         FROM nics n
     )
     INSERT INTO interface_links (interface_id, mode, subnet_id)
     SELECT id, CASE WHEN auto THEN 'auto' ELSE 'link_up' END, CASE WHEN auto THEN subnet_id END
       FROM links WHERE auto OR up ORDER BY is_boot DESC, id`,
    [machineId],
  );
}

/**
 * MAAS's restore_network_interfaces then set_initial_networking_configuration: the workload's
 * bonds, bridges and VLAN interfaces go, the NICs lose what users set (params, tags, VLAN), and
 * commissioning's configuration comes back. Link state and speeds stay as commissioning found them.
 */
export async function restoreNetworking(tx: EntityManager, machineId: number): Promise<void> {
  await tx.query(`DELETE FROM interfaces WHERE machine_id = $1 AND type <> 'physical'`, [machineId]);
  await tx.query(
    `UPDATE interfaces SET params = '{}', tags = '{}', vlan_id = NULL, enabled = true WHERE machine_id = $1`,
    [machineId],
  );
  await setInitialNetworking(tx, machineId);
}
