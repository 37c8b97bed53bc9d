// MAAS's rules for a machine's interfaces that need no database (forms/interface.py,
// models/interface.py): names, tags, which interfaces may be parents of a bond, a bridge or a
// VLAN interface, fields that do not apply to a type. Pure: the edits call these before writing.
import { ValidationError } from '../../errors';
import type { MachineNic } from './model';
import type { UpdateInput } from './machine-interfaces';

const INTERFACE_NAME = /^[A-Za-z0-9_.:-]{1,15}$/;
/** Tags: MAAS's tag names, bounded. */
const TAG = /^[\w.:-]{1,256}$/;
export const MAX_INTERFACE_TAGS = 64;
export const MAX_PARENTS = 64;

export function interfaceName(value: string): string {
  if (!INTERFACE_NAME.test(value))
    throw ValidationError.field(
      'name',
      `Invalid interface name '${value.slice(0, 64)}': 1 to 15 letters, digits or any of _ . : -.`,
    );
  return value;
}

export function tagList(tags: string[] | undefined): string[] | undefined {
  if (tags === undefined) return undefined;
  const list = [
    ...new Set(
      tags
        .flatMap((t) => t.split(','))
        .map((t) => t.trim())
        .filter(Boolean),
    ),
  ];
  const bad = list.find((t) => !TAG.test(t));
  if (bad) throw ValidationError.field('tags', `Invalid tag '${bad.slice(0, 64)}'.`);
  if (list.length > MAX_INTERFACE_TAGS) throw ValidationError.field('tags', `At most ${MAX_INTERFACE_TAGS} tags.`);
  return list;
}

export function apiName(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

export function speed(field: string, v: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 10_000_000)
    throw ValidationError.field(field, 'Ensure this value is between 0 and 10000000.');
  return v;
}

/** Fields MAAS's form for this type does not have are refused by name rather than dropped. */
export function refuseForType(type: string, input: UpdateInput): void {
  const refuse = (field: string, why: string) => {
    throw ValidationError.field(field, why);
  };
  if (type !== 'physical') {
    if (input.linkConnected !== undefined) refuse('link_connected', 'Only a physical interface has link_connected.');
    if (input.interfaceSpeed !== undefined) refuse('interface_speed', 'Only a physical interface has interface_speed.');
    if (input.linkSpeed !== undefined) refuse('link_speed', 'Only a physical interface has link_speed.');
  }
  if (type === 'physical' && input.parents !== undefined) refuse('parents', 'A physical interface has no parents.');
  if (type === 'vlan' && (input.name !== undefined || input.macAddress !== undefined))
    refuse(
      input.name !== undefined ? 'name' : 'mac_address',
      'A VLAN interface takes its name and MAC from its parent and VLAN.',
    );
}

export function checkNameFree(nics: MachineNic[], name: string, self?: number): void {
  if (nics.some((n) => n.name === name && n.id !== self))
    throw ValidationError.field('name', `Interface with name ${name} already exists on this machine.`);
}

export function nextName(nics: MachineNic[]): string {
  const taken = new Set(nics.map((n) => n.name));
  let n = 0;
  while (taken.has(`eth${n}`)) n++;
  return `eth${n}`;
}

/** Who else uses an interface as a parent (other than `self`). */
export function usedBy(nics: MachineNic[], parent: MachineNic, self: MachineNic | null): MachineNic | undefined {
  return nics.find((n) => n.id !== self?.id && n.parentIds.includes(parent.id));
}

export function parentsOf(nics: MachineNic[], ids: number[] | undefined, field: string): MachineNic[] {
  if (!ids || ids.length === 0) throw ValidationError.field(field, 'This field is required.');
  if (ids.length > MAX_PARENTS) throw ValidationError.field(field, `At most ${MAX_PARENTS} parents.`);
  return [...new Set(ids)].map((id) => {
    const p = nics.find((n) => n.id === id);
    if (!p) throw ValidationError.field(field, `Select a valid choice. ${id} is not one of the available choices.`);
    return p;
  });
}

/** MAAS's bond rules: physical members, each in no other bond, bridge or VLAN, all on one VLAN. */
export function bondParents(nics: MachineNic[], ids: number[] | undefined, self: MachineNic | null): MachineNic[] {
  const parents = parentsOf(nics, ids, 'parents');
  for (const p of parents) {
    if (p.type !== 'physical')
      throw ValidationError.field(
        'parents',
        `${p.name} is a ${p.type} interface: only physical interfaces can be in a bond.`,
      );
    const user = usedBy(nics, p, self);
    if (user) throw ValidationError.field('parents', `${p.name} is already in use by ${user.name}.`);
  }
  return parents;
}

/** A bridge's or VLAN interface's one parent: not a bond member, not bridged already, not itself a VLAN for a VLAN. */
export function oneParent(
  nics: MachineNic[],
  ids: number[] | undefined,
  type: string,
  self: MachineNic | null,
): MachineNic[] {
  const parents = parentsOf(nics, ids, 'parent');
  if (parents.length !== 1) throw ValidationError.field('parent', `A ${type} interface must have exactly one parent.`);
  const p = parents[0]!;
  if (self && p.id === self.id) throw ValidationError.field('parent', 'An interface cannot be its own parent.');
  const bond = nics.find((n) => n.type === 'bond' && n.parentIds.includes(p.id) && n.id !== self?.id);
  if (bond) throw ValidationError.field('parent', `${p.name} is in bond ${bond.name}: use the bond instead.`);
  if (type === 'vlan' && p.type === 'vlan')
    throw ValidationError.field('parent', `${p.name} is a VLAN interface: a VLAN interface cannot be its parent.`);
  if (type === 'bridge') {
    const bridge = nics.find((n) => n.type === 'bridge' && n.parentIds.includes(p.id) && n.id !== self?.id);
    if (bridge) throw ValidationError.field('parent', `${p.name} is already in use by ${bridge.name}.`);
  }
  return parents;
}
