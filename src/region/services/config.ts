// The `maas` handler's settings, stored in `config` (one row per name an admin set). Read from the
// database at each use, never cached: every region process sees a change at once, and each use
// is one primary-key lookup (a deploy, a release, a lifecycle start, a UI page).
import os from 'node:os';
import type { DataSource, EntityManager } from 'typeorm';
import type { BootResourceService } from './boot-resources';
import {
  SUPPORTED_CONFIG,
  supportedName,
  type ConfigContext,
  type ConfigValue,
  type SupportedConfigName,
} from './config-items';

/** Serialises set_config: a value checked against another setting (default_distro_series against
 * default_osystem) is checked and written with that setting unchanged. */
const CONFIG_LOCK = 5240013;

export interface EraseDefaults {
  erase: boolean;
  secureErase: boolean;
  quickErase: boolean;
}

export class ConfigService {
  constructor(
    private readonly db: DataSource,
    private readonly images: Pick<BootResourceService, 'list'>,
    private readonly o: { nodeTimeoutMsFromEnv?: number; hostname?: string } = {},
  ) {}

  /** get_config: the effective value of a supported setting (stored, else its default). */
  async get(name: string): Promise<ConfigValue> {
    const known = supportedName(name);
    return this.context(await this.stored(this.db.manager)).current(known);
  }

  /** set_config: parse and check the value as MAAS would, then store it. */
  async set(name: string, raw: string): Promise<void> {
    const known = supportedName(name);
    await this.db.transaction(async (tx) => {
      await tx.query(`SELECT pg_advisory_xact_lock($1)`, [CONFIG_LOCK]);
      const value = SUPPORTED_CONFIG[known]!.parse(raw, this.context(await this.stored(tx)), known);
      await tx.query(
        `INSERT INTO config (name, value) VALUES ($1, $2::jsonb)
         ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, updated = now()`,
        [known, JSON.stringify(value)],
      );
    });
  }

  /** The deadline lifecycle operations wait for a machine, for workflows started now. */
  async nodeTimeoutMs(): Promise<number> {
    const stored = await this.stored(this.db.manager, ['node_timeout']);
    const minutes = stored.get('node_timeout');
    if (typeof minutes === 'number') return minutes * 60_000;
    return this.o.nodeTimeoutMsFromEnv ?? Number(this.context(stored).current('node_timeout')) * 60_000;
  }

  /** What a deploy without distro_series installs: `os/series`. */
  async defaultDeployImage(): Promise<string> {
    const ctx = this.context(await this.stored(this.db.manager, ['default_osystem', 'default_distro_series']));
    return `${String(ctx.current('default_osystem'))}/${String(ctx.current('default_distro_series'))}`;
  }

  /** What a release that does not say gets: erase forced on, and the erase mode. */
  async eraseDefaults(): Promise<EraseDefaults> {
    const ctx = this.context(
      await this.stored(this.db.manager, [
        'enable_disk_erasing_on_release',
        'disk_erase_with_secure_erase',
        'disk_erase_with_quick_erase',
      ]),
    );
    return {
      erase: ctx.current('enable_disk_erasing_on_release') === true,
      secureErase: ctx.current('disk_erase_with_secure_erase') === true,
      quickErase: ctx.current('disk_erase_with_quick_erase') === true,
    };
  }

  async maasName(): Promise<string> {
    return String(this.context(await this.stored(this.db.manager, ['maas_name'])).current('maas_name'));
  }

  private async stored(manager: EntityManager, names?: string[]): Promise<Map<string, ConfigValue>> {
    const rows = (await (names
      ? manager.query(`SELECT name, value FROM config WHERE name = ANY($1)`, [names])
      : manager.query(`SELECT name, value FROM config`))) as Array<{ name: string; value: ConfigValue }>;
    return new Map(rows.map((r) => [r.name, r.value]));
  }

  private context(stored: Map<string, ConfigValue>): ConfigContext {
    const ctx: ConfigContext = {
      // Only what a deploy would take: a default naming an image not deployable yet is refused.
      images: this.images.list().filter((r) => r.deployable),
      nodeTimeoutMsFromEnv: this.o.nodeTimeoutMsFromEnv,
      hostname: this.o.hostname ?? os.hostname(),
      current: (name: SupportedConfigName) =>
        stored.has(name) ? stored.get(name)! : SUPPORTED_CONFIG[name]!.default(ctx),
    };
    return ctx;
  }
}
