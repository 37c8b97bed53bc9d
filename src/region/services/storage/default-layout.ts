// Writing a storage layout: MAAS's configure() (clear the configuration, lay the plan out), for
// op=set_storage_layout, op=restore_storage_configuration and the end of commissioning, which
// applies the `default_storage_layout` setting as MAAS's set_default_storage_layout does.
import type { EntityManager } from 'typeorm';
import { ValidationError } from '../../errors';
import { planLayout, type AppliedLayout, type LayoutParams } from './layouts';
import { alignDown, hasConfiguration, LVM_PE_SIZE, type MachineStorage } from './model';
import { clearConfiguration, loadOne, writePlan } from './repository';

export async function applyLayout(
  tx: EntityManager,
  s: MachineStorage,
  layout: AppliedLayout,
  params: LayoutParams,
): Promise<void> {
  // Planned (and so validated) before anything is cleared: a refused layout writes nothing.
  const plan = planLayout(s, layout, params);
  const machineId = s.devices[0]?.machineId;
  if (machineId === undefined) return;
  // `s` was read in this transaction: with nothing on the disks yet (a first commissioning),
  // there is nothing to clear.
  if (hasConfiguration(s)) await clearConfiguration(tx, machineId);
  await writePlan(tx, machineId, plan, (pv) => alignDown(pv) - LVM_PE_SIZE);
}

/**
 * The `default_storage_layout` setting as a layout metalflow applies: MAAS falls back from bcache
 * to lvm when there is no cache device (there never is here); custom and vmfs* have nothing to
 * lay out on Debian, so they fall back to flat, MAAS's default.
 */
export async function defaultLayoutOf(tx: EntityManager): Promise<AppliedLayout> {
  const rows: Array<{ value: unknown }> = await tx.query(
    `SELECT value FROM config WHERE name = 'default_storage_layout'`,
  );
  const v = rows[0]?.value;
  if (v === 'lvm' || v === 'bcache') return 'lvm';
  if (v === 'blank') return 'blank';
  return 'flat';
}

/** After commissioning stored the physical devices: the default layout, if a disk can take it. */
export async function applyDefaultLayout(tx: EntityManager, machineId: number): Promise<void> {
  const s = await loadOne(tx, machineId);
  if (!s.devices.some((d) => d.type === 'physical')) return;
  try {
    await applyLayout(tx, s, await defaultLayoutOf(tx), {});
  } catch (err) {
    // MAAS leaves a machine whose disks cannot take the layout without one (allow_fallback):
    // commissioning still succeeds, and the operator lays the storage out by hand.
    if (!(err instanceof ValidationError)) throw err;
    await clearConfiguration(tx, machineId);
  }
}
