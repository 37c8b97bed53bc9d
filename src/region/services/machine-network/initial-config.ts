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
  await tx.query(`UPDATE machines SET gateway_link_ipv4 = NULL, gateway_link_ipv6 = NULL WHERE id = $1`, [machineId]);
  // Each NIC's most recent lease names the subnet (so the VLAN) it was seen on.
  const nics: Array<{
    id: number;
    isBoot: boolean;
    connected: boolean;
    enabled: boolean;
    subnetId: number | null;
    vlanId: number | null;
  }> = await tx.query(
    `SELECT i.id, i.is_boot AS "isBoot", i.link_connected AS connected, i.enabled, l.subnet_id AS "subnetId", s.vlan_id AS "vlanId"
         FROM interfaces i
         LEFT JOIN LATERAL (SELECT subnet_id FROM dhcp_leases WHERE mac_address = i.mac_address AND subnet_id IS NOT NULL
                             ORDER BY updated DESC LIMIT 1) l ON true
         LEFT JOIN subnets s ON s.id = l.subnet_id
        WHERE i.machine_id = $1 AND i.type = 'physical' ORDER BY i.is_boot DESC, i.id`,
    [machineId],
  );
  const boot = nics.find((n) => n.isBoot) ?? nics.find((n) => n.subnetId !== null);
  for (const nic of nics) {
    await tx.query(`UPDATE interfaces SET vlan_id = COALESCE($2, vlan_id) WHERE id = $1`, [nic.id, nic.vlanId]);
    if (nic === boot && nic.subnetId !== null) {
      await tx.query(`INSERT INTO interface_links (interface_id, mode, subnet_id) VALUES ($1, 'auto', $2)`, [
        nic.id,
        nic.subnetId,
      ]);
    } else if (nic.connected && nic.enabled) {
      await tx.query(`INSERT INTO interface_links (interface_id, mode) VALUES ($1, 'link_up')`, [nic.id]);
    }
  }
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
