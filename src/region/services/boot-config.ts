// What a machine's next network boot gets (MAAS's pxeconfig): its boot purpose and, only while its
// status is a netboot phase that reports with it (boot-phase.ts), its own metadata credentials; a
// MAC nobody registered enlists, unless a machine with no known MAC is commissioning
// (macless-commissioning.ts).
import type { DataSource } from 'typeorm';
import type { BootConfig, MacBootConfig } from '../../contracts/rack-api';
import { MachineEntity, type Machine } from '../db/entities';
import { selectOne } from '../db/entity-rows';
import { NotFoundError, ValidationError } from '../errors';
import type { BootResourceService } from './boot-resources';
import type { MachineService } from './machine-service';
import { servedBoot } from './boot-phase';
import { claimUnknownMac } from './macless-commissioning';
import { normaliseMac } from './machine-validation';

export class BootConfigService {
  constructor(
    private readonly db: DataSource,
    private readonly machines: Pick<MachineService, 'machineToken'>,
    private readonly metadataUrl: string,
    private readonly images?: Pick<BootResourceService, 'named'>,
  ) {}

  async forSystemId(systemId: string): Promise<BootConfig> {
    const m = await selectOne(this.db, MachineEntity, 't.system_id = $1', [systemId]);
    if (!m) throw new NotFoundError(`No machine ${systemId}.`);
    return this.of(m);
  }

  async forMac(rawMac: string): Promise<MacBootConfig> {
    const mac = normaliseMac(rawMac);
    if (!mac) throw ValidationError.field('mac', `'${rawMac}' is not a valid MAC address.`);
    const rows: Array<{ id: number }> = await this.db.query(
      `SELECT machine_id AS id FROM interfaces WHERE mac_address = $1::macaddr LIMIT 1`,
      [mac],
    );
    const id = rows[0]?.id ?? (await this.db.transaction((tx) => claimUnknownMac(tx, mac)));
    const m = id !== null ? await selectOne(this.db, MachineEntity, 't.id = $1', [id]) : null;
    if (!m) return { known: false, purpose: 'enlist', mac, metadataUrl: this.metadataUrl };
    return { known: true, ...(await this.of(m)) };
  }

  private async of(m: Machine): Promise<BootConfig> {
    const served = servedBoot(m.status, m.bootPurpose, m.bootErase, m.ephemeralDeploy);
    const macs: Array<{ mac: string }> = await this.db.query(
      `SELECT mac_address::text AS mac FROM interfaces WHERE machine_id = $1 ORDER BY is_boot DESC, id`,
      [m.id],
    );
    const config: BootConfig = {
      systemId: m.systemId,
      hostname: m.hostname,
      purpose: served.purpose,
      macAddresses: macs.map((r) => r.mac),
      metadataUrl: this.metadataUrl,
    };
    if (!served.credentials) return config;
    const token = await this.machines.machineToken(m.id);
    return {
      ...config,
      credentials: { consumerKey: token.consumerKey, tokenKey: token.tokenKey, tokenSecret: token.tokenSecret },
      ...this.image(m, served.purpose),
      ...(served.erase ? { erase: served.erase } : {}),
      ...(served.again ? { deployed: true } : {}),
    };
  }

  /**
   * xinstall: the image the deployment resolved to (its os/series, not the series alone), and
   * whether it runs from RAM (ephemeral_deploy) rather than being written to disk.
   */
  private image(m: Machine, purpose: BootConfig['purpose']): Pick<BootConfig, 'image' | 'ephemeral'> {
    if (purpose !== 'xinstall') return {};
    const image = this.images?.named(`${m.osystem}/${m.distroSeries}`);
    if (!image) return {};
    return {
      image: { name: image.name, path: image.path, sha256: image.sha256 },
      ...(m.ephemeralDeploy ? { ephemeral: true } : {}),
    };
  }
}
