// A machine interface's links to subnets (forms/interface_link.py): link_subnet with AUTO (its
// address comes at deploy), STATIC (a given or picked address, through devices/static-addresses.ts
// under the subnet's lock), DHCP, LINK_UP; unlink_subnet; set_default_gateway.
import type { EntityManager } from 'typeorm';
import { NotFoundError, ValidationError } from '../../errors';
import type { SubnetService } from '../network/subnets';
import { linkAddress } from '../devices/static-addresses';
import { nicOf, type MachineNetworkEditor, type User } from './machine-edit';
import { linkUp } from './machine-interfaces';
import { LINK_MODES, type MachineNic, type NicLink, type NicLinkMode } from './model';

export interface MachineLinkInput {
  mode: string;
  subnet?: string;
  ipAddress?: string;
  defaultGateway?: boolean;
  force?: boolean;
}

export class MachineLinkService {
  constructor(
    private readonly editor: MachineNetworkEditor,
    private readonly subnets: SubnetService,
  ) {}

  link(caller: User, systemId: string, id: number, input: MachineLinkInput): Promise<MachineNic> {
    return this.editor.edit(caller, systemId, 'link subnet', async ({ tx, machine, nics }) => {
      const nic = nicOf(nics, id);
      const mode = LINK_MODES.find((m) => m === input.mode.toLowerCase()) as NicLinkMode | undefined;
      if (!mode)
        throw ValidationError.field(
          'mode',
          `Select a valid choice. ${input.mode.slice(0, 32)} is not one of the available choices (AUTO, DHCP, STATIC, LINK_UP).`,
        );
      const bond = nics.find((n) => n.type === 'bond' && n.parentIds.includes(nic.id));
      if (bond) throw ValidationError.field('__all__', `${nic.name} is in bond ${bond.name}: link the bond instead.`);
      if (input.ipAddress !== undefined && mode !== 'static')
        throw ValidationError.field('ip_address', 'ip_address is only taken with mode STATIC.');
      if (input.defaultGateway && mode !== 'auto' && mode !== 'static')
        throw ValidationError.field('default_gateway', 'Default gateway can only be set with mode AUTO or STATIC.');
      const subnet =
        input.subnet === undefined || input.subnet === ''
          ? undefined
          : await this.subnets.get(input.subnet, tx).catch((err: unknown) => {
              if (err instanceof NotFoundError)
                throw ValidationError.field(
                  'subnet',
                  `Select a valid choice. No subnet ${input.subnet!.slice(0, 64)}.`,
                );
              throw err;
            });
      if (!subnet && (mode === 'auto' || mode === 'static'))
        throw ValidationError.field('subnet', 'This field is required.');
      if (input.defaultGateway && !subnet!.gatewayIp)
        throw ValidationError.field('default_gateway', `Subnet ${subnet!.cidr} has no gateway IP address.`);
      const others = nic.links.filter((l) => l.mode !== 'link_up');
      if (subnet && nic.vlan && nic.vlan.id !== subnet.vlanId) {
        if (!input.force)
          throw ValidationError.field(
            'subnet',
            `Subnet ${subnet.cidr} is not on the interface's VLAN (use force to move it).`,
          );
        // force: the interface moves to the subnet's VLAN and keeps none of its links.
        await tx.query(`DELETE FROM interface_links WHERE interface_id = $1`, [id]);
        others.length = 0;
      }
      if (mode === 'link_up' && others.length) {
        if (!input.force)
          throw ValidationError.field(
            'mode',
            'Cannot configure LINK_UP on an interface that has subnet links: unlink them first or use force.',
          );
        await tx.query(`DELETE FROM interface_links WHERE interface_id = $1`, [id]);
      }
      if (mode === 'dhcp' && others.some((l) => l.mode === 'dhcp'))
        throw ValidationError.field('mode', 'The interface already has a DHCP link.');
      if (subnet && mode !== 'link_up' && others.some((l) => l.subnet?.id === subnet.id))
        throw ValidationError.field('subnet', `The interface is already linked to subnet ${subnet.cidr}.`);
      if (subnet) await tx.query(`UPDATE interfaces SET vlan_id = $2 WHERE id = $1`, [id, subnet.vlanId]);
      const ip = await linkAddress(tx, mode, subnet?.id, input.ipAddress);
      await tx.query(`DELETE FROM interface_links WHERE interface_id = $1 AND mode = 'link_up'`, [id]);
      const [{ id: linkId }] = (await tx.query(
        `INSERT INTO interface_links (interface_id, mode, subnet_id, ip) VALUES ($1, $2, $3, $4) RETURNING id`,
        [id, mode, subnet?.id ?? null, ip],
      )) as [{ id: number }];
      if (input.defaultGateway) await setGateway(tx, machine.id, linkId, subnet!.cidr);
      return id;
    });
  }

  /** MAAS's unlink_subnet; an interface left with no link on a VLAN is brought up there (LINK_UP). */
  unlink(caller: User, systemId: string, id: number, linkId: number | undefined): Promise<MachineNic> {
    return this.editor.edit(caller, systemId, 'unlink subnet', async ({ tx, nics }) => {
      const nic = nicOf(nics, id);
      if (linkId === undefined) throw ValidationError.field('id', 'This field is required.');
      if (!nic.links.some((l) => l.id === linkId))
        throw ValidationError.field('id', `Select a valid choice. ${linkId} is not one of the interface's links.`);
      await tx.query(`DELETE FROM interface_links WHERE id = $1`, [linkId]);
      if (nic.vlan) await linkUp(tx, id);
      return id;
    });
  }

  /** MAAS's set_default_gateway: the interface's AUTO/STATIC link (link_id when several in a family). */
  setDefaultGateway(caller: User, systemId: string, id: number, linkId: number | undefined): Promise<MachineNic> {
    return this.editor.edit(caller, systemId, 'set default gateway', async ({ tx, machine, nics }) => {
      const nic = nicOf(nics, id);
      const usable = nic.links.filter((l) => (l.mode === 'auto' || l.mode === 'static') && l.subnet);
      if (usable.length === 0) throw ValidationError.field('__all__', 'This interface has no AUTO or STATIC links.');
      const withGateway = usable.filter((l) => l.subnet!.gatewayIp);
      let chosen: NicLink[];
      if (linkId !== undefined) {
        const link = usable.find((l) => l.id === linkId);
        if (!link)
          throw ValidationError.field(
            'link_id',
            `Select a valid choice. ${linkId} is not one of the interface's AUTO or STATIC links.`,
          );
        if (!link.subnet!.gatewayIp)
          throw ValidationError.field(
            'link_id',
            `Subnet ${link.subnet!.cidr} of link ${linkId} has no gateway IP address.`,
          );
        chosen = [link];
      } else {
        if (withGateway.length === 0)
          throw ValidationError.field('__all__', "None of this interface's subnets has a gateway IP address.");
        const v4 = withGateway.filter((l) => !l.subnet!.cidr.includes(':'));
        const v6 = withGateway.filter((l) => l.subnet!.cidr.includes(':'));
        if (v4.length > 1 || v6.length > 1)
          throw ValidationError.field(
            'link_id',
            'This interface has more than one link with a gateway in the same IP family: link_id is required.',
          );
        chosen = [...v4, ...v6];
      }
      for (const l of chosen) await setGateway(tx, machine.id, l.id, l.subnet!.cidr);
      return id;
    });
  }
}

async function setGateway(tx: EntityManager, machineId: number, linkId: number, cidr: string): Promise<void> {
  const column = cidr.includes(':') ? 'gateway_link_ipv6' : 'gateway_link_ipv4';
  await tx.query(`UPDATE machines SET ${column} = $2 WHERE id = $1`, [machineId, linkId]);
}
