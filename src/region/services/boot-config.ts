// What a machine's next network boot gets (MAAS's pxeconfig): its boot purpose and, only while its
// status is a netboot phase that reports with it (boot-phase.ts), its own metadata credentials; a
// MAC nobody registered enlists, unless a machine with no known MAC is commissioning
// (macless-commissioning.ts).
import type { DataSource } from 'typeorm';
import type { BootConfig, MacBootConfig } from '../../contracts/rack-api';
import type { ApiToken, Machine } from '../db/entities';
import { NotFoundError, ValidationError } from '../errors';
import type { BootResourceService } from './boot-resources';
import type { MachineService } from './machine-service';
import { servedBoot } from './boot-phase';
import { claimUnknownMac } from './macless-commissioning';
import { normaliseMac } from './machine-validation';

/**
 * What a boot config reads, in one statement (a netboot asks twice: the rack's preparation at
 * power-on, and the boot itself): the machine's columns it uses, its MACs (the boot interface
 * first) and its metadata token, if it has one yet.
 */
type BootRow = Pick<
  Machine,
  | 'id'
  | 'systemId'
  | 'hostname'
  | 'status'
  | 'bootPurpose'
  | 'bootErase'
  | 'ephemeralDeploy'
  | 'osystem'
  | 'distroSeries'
> & { macs: string[]; token: Pick<ApiToken, 'consumerKey' | 'tokenKey' | 'tokenSecret'> | null };

const bootRowSql = (where: string) =>
  `SELECT m.id, m.system_id AS "systemId", m.hostname, m.status, m.boot_purpose AS "bootPurpose",
          m.boot_erase AS "bootErase", m.ephemeral_deploy AS "ephemeralDeploy", m.osystem,
          m.distro_series AS "distroSeries",
          ARRAY(SELECT i.mac_address::text FROM interfaces i WHERE i.machine_id = m.id ORDER BY i.is_boot DESC, i.id) AS macs,
          CASE WHEN t.id IS NULL THEN NULL ELSE json_build_object('consumerKey', t.consumer_key,
            'tokenKey', t.token_key, 'tokenSecret', t.token_secret) END AS token
     FROM machines m LEFT JOIN api_tokens t ON t.machine_id = m.id
    WHERE ${where}`;

export class BootConfigService {
  constructor(
    private readonly db: DataSource,
    private readonly machines: Pick<MachineService, 'machineToken'>,
    private readonly metadataUrl: string,
    private readonly images?: Pick<BootResourceService, 'named'>,
  ) {}

  async forSystemId(systemId: string): Promise<BootConfig> {
    const m = await this.bootRow('m.system_id = $1', systemId);
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
    const m = id !== null ? await this.bootRow('m.id = $1', id) : null;
    if (!m) return { known: false, purpose: 'enlist', mac, metadataUrl: this.metadataUrl };
    return { known: true, ...(await this.of(m)) };
  }

  private async bootRow(where: string, key: string | number): Promise<BootRow | null> {
    const rows: BootRow[] = await this.db.query(bootRowSql(where), [key]);
    return rows[0] ?? null;
  }

  private async of(m: BootRow): Promise<BootConfig> {
    const served = servedBoot(m.status, m.bootPurpose, m.bootErase, m.ephemeralDeploy);
    const config: BootConfig = {
      systemId: m.systemId,
      hostname: m.hostname,
      purpose: served.purpose,
      macAddresses: m.macs,
      metadataUrl: this.metadataUrl,
    };
    if (!served.credentials) return config;
    // Made on the machine's first netboot that reports (one per machine, machineToken).
    const token = m.token ?? (await this.machines.machineToken(m.id));
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
  private image(m: BootRow, purpose: BootConfig['purpose']): Pick<BootConfig, 'image' | 'ephemeral'> {
    if (purpose !== 'xinstall') return {};
    const image = this.images?.named(`${m.osystem}/${m.distroSeries}`);
    if (!image) return {};
    return {
      image: { name: image.name, path: image.path, sha256: image.sha256 },
      ...(m.ephemeralDeploy ? { ephemeral: true } : {}),
    };
  }
}
