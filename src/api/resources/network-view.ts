// Subnets and ranges are shown with their VLAN (and ranges with their subnet) nested, as MAAS
// does: one lookup of every VLAN and subnet per request instead of one query per row.
import type { RegionServices } from '../../region/services';
import type { SubnetRow, VlanRow } from '../../region/services/network/rows';
import { presentSubnet } from '../presenters/network';

export interface NetworkView {
  vlan(id: number): VlanRow | undefined;
  subnet(id: number): Record<string, unknown> | null;
}

export async function networkView(
  services: Pick<RegionServices, 'fabrics' | 'subnets'>,
  withSubnets = true,
): Promise<NetworkView> {
  const vlans = new Map((await services.fabrics.vlans()).map((v) => [v.id, v]));
  const subnets = new Map<number, SubnetRow>(withSubnets ? (await services.subnets.list()).map((s) => [s.id, s]) : []);
  return {
    vlan: (id) => vlans.get(id),
    subnet: (id) => {
      const s = subnets.get(id);
      return s ? presentSubnet(s, vlans.get(s.vlanId)) : null;
    },
  };
}
