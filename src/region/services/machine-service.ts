// Creating, editing and deleting machines. Status changes live in machine-actions.ts.
import type { DataSource, EntityManager } from 'typeorm';
import { isTransitional, MachineStatus as S, type MachineStatus } from '../../contracts/lifecycle';
import { WorkflowType } from '../../contracts/workflows';
import { ApiTokenEntity, InterfaceEntity, MachineEntity, type ApiToken, type Machine } from '../db/entities';
import { selectOne } from '../db/entity-rows';
import { POWER_TYPES } from '../../contracts/power';
import type { PowerConfig, PowerTargets } from '../../contracts/rack-api';
import { ConflictError, NotFoundError, ValidationError } from '../errors';
import { newConsumerKey, newSystemId, newTokenKey, newTokenSecret } from '../ids';
import type { SecretBox } from '../secrets';
import { recordEvent } from './events';
import { validateHostId } from './host-registration';
import { hasMac, powerTypeNeedsMac } from './mac-rules';
import { powerOnNetboots } from './boot-phase';
import { mayNetboot } from './macless-commissioning';
import {
  generatedHostname,
  validateArchitecture,
  validateDomain,
  validateHostname,
  validateMacs,
} from './machine-validation';
import { defaultDomainName, existingDomain } from './domains';
import { assertHostnameFree, assertMacsFree, identityClash } from './node-identity';
import { validatePowerParameters } from './power-parameters';
import type { RackService } from './racks';
import { lockMachine } from './transitions';

export interface CreateMachineInput {
  hostname?: string;
  architecture?: string;
  macAddresses: string[];
  description?: string;
  powerType?: string;
  powerParameters: Record<string, string>;
  zone?: string;
  pool?: string;
  domain?: string;
  /** Already running a workload: registered DEPLOYED, owned by the caller, never powered. */
  deployed: boolean;
  /** A deployed host's stable identity (see host-registration.ts); kept only with deployed. */
  hostId?: string;
  ownerId: number | null;
}

export interface UpdateMachineInput {
  hostname?: string;
  architecture?: string;
  description?: string;
  powerType?: string;
  powerParameters: Record<string, string>;
  zone?: string;
  pool?: string;
  domain?: string;
  cpuCount?: number;
  memory?: number;
}

/**
 * Two requests at the same moment pass the checks for a free hostname or MAC together (a machine
 * and a device too); the database then refuses the loser. It gets the same 400 as a request that
 * came second, in MAAS's words: PostgreSQL's own text ("Key (mac_address)=…") never reaches the client.
 */
async function raceLoser(err: unknown, m: EntityManager): Promise<ValidationError | undefined> {
  const pg = err as { code?: string; constraint?: string };
  // The domain named was deleted (or renamed) between the check and the insert.
  if (pg.code === '23503' && pg.constraint === 'machines_domain_fk')
    return ValidationError.field('domain', 'Select a valid choice. That choice is not one of the available choices.');
  return identityClash(err, m);
}

export class MachineService {
  constructor(
    private readonly db: DataSource,
    private readonly secrets: SecretBox,
    private readonly racks: RackService,
  ) {}

  async create(input: CreateMachineInput): Promise<Machine> {
    const errors: Record<string, string[]> = {};
    const collect = <T>(f: () => T): T | undefined => {
      try {
        return f();
      } catch (e) {
        if (e instanceof ValidationError) Object.assign(errors, e.fields);
        else throw e;
        return undefined;
      }
    };
    const architecture = input.architecture
      ? collect(() => validateArchitecture(input.architecture!))
      : input.deployed
        ? ''
        : undefined;
    if (architecture === undefined && !input.architecture) errors.architecture = ['This field is required.'];
    const macs = collect(() => validateMacs(input.macAddresses)) ?? [];
    if (macs.length === 0 && !input.deployed && !errors.mac_addresses)
      errors.mac_addresses = ['This field is required.'];
    const hostname = input.hostname ? collect(() => validateHostname(input.hostname!)) : undefined;
    const domain = input.domain ? collect(() => validateDomain(input.domain!)) : undefined;
    const powerType = input.powerType ?? (input.deployed ? 'manual' : '');
    const power = powerType ? collect(() => validatePowerParameters(powerType, input.powerParameters)) : undefined;
    if (!powerType && Object.keys(input.powerParameters).length > 0)
      errors.power_type = ['Power parameters given without a power type.'];
    if (macs.length === 0 && input.deployed && powerTypeNeedsMac(powerType) && !errors.mac_addresses) {
      errors.mac_addresses = [
        `A MAC address is required with power type '${powerType}' (only manual and ipmi machines may have none).`,
      ];
    }
    const hostId = input.deployed && input.hostId ? collect(() => validateHostId(input.hostId!)) : undefined;
    if (Object.keys(errors).length > 0) throw new ValidationError(errors);

    return this.db
      .transaction(async (tx) => {
        const zoneId = await this.nameToId(tx, 'zones', 'zone', input.zone ?? 'default');
        const poolId = await this.nameToId(tx, 'resource_pools', 'pool', input.pool ?? 'default');
        await assertMacsFree(tx, macs);
        const systemId = newSystemId();
        const name = hostname ?? generatedHostname(systemId);
        await assertHostnameFree(tx, name);
        const status: MachineStatus = input.deployed ? S.DEPLOYED : S.NEW;
        const machine = await tx.getRepository(MachineEntity).save({
          systemId,
          hostname: name,
          description: input.description ?? '',
          domain: domain ? await existingDomain(tx, domain) : await defaultDomainName(tx),
          architecture: architecture ?? '',
          status,
          previousStatus: status,
          statusMessage: '',
          ownerId: input.deployed ? input.ownerId : null,
          powerType,
          powerParameters: power?.visible ?? {},
          powerSecrets: this.secrets.seal(power?.secret ?? {}),
          zoneId,
          poolId,
          rackId: await this.racks.defaultRackId(tx),
          workflowId: null,
          workflowType: input.deployed ? WorkflowType.registerDeployed : null,
          hostId: hostId ?? null,
        } as Partial<Machine>);
        await tx.getRepository(InterfaceEntity).save(
          macs.map((mac, i) => ({
            machineId: machine.id,
            name: `eth${i}`,
            type: 'physical',
            macAddress: mac,
            enabled: true,
            linkSpeed: 0,
            isBoot: i === 0,
          })),
        );
        await recordEvent(tx, machine.id, {
          type: input.deployed ? 'Deployed' : 'New',
          description: input.deployed ? 'Registered as deployed.' : 'Machine created.',
          level: 'INFO',
        });
        return machine;
      })
      .catch(async (err: unknown) => {
        throw (await raceLoser(err, this.db.manager)) ?? err;
      });
  }

  async update(systemId: string, input: UpdateMachineInput): Promise<void> {
    await this.db
      .transaction(async (tx) => {
        const machine = await lockMachine(tx, systemId);
        if (machine.locked) throw new ConflictError(`Cannot edit machine ${systemId}: it is locked.`);
        const patch: Partial<Machine> = {};
        if (input.hostname !== undefined) {
          patch.hostname = validateHostname(input.hostname);
          await assertHostnameFree(tx, patch.hostname, { table: 'machines', id: machine.id });
        }
        if (input.architecture !== undefined) patch.architecture = validateArchitecture(input.architecture);
        if (input.description !== undefined) patch.description = input.description;
        if (input.cpuCount !== undefined) patch.cpuCount = input.cpuCount;
        if (input.memory !== undefined) patch.memory = input.memory;
        if (input.powerType !== undefined || Object.keys(input.powerParameters).length > 0) {
          const type = input.powerType ?? machine.powerType;
          // Checked first: without a MAC the driver's parameters are moot (issue 7's rule).
          if (powerTypeNeedsMac(type) && !(await hasMac(tx, machine.id))) {
            throw ValidationError.field(
              'mac_addresses',
              `Machine ${systemId} has no MAC address; power type '${type}' needs one (only manual and ipmi machines may have none).`,
            );
          }
          const current =
            type === machine.powerType
              ? { ...machine.powerParameters, ...this.secrets.open(machine.powerSecrets) }
              : {};
          const power = validatePowerParameters(type, input.powerParameters, current);
          patch.powerType = type;
          patch.powerParameters = power.visible;
          patch.powerSecrets = this.secrets.seal(power.secret);
        }
        if (input.zone !== undefined) patch.zoneId = await this.nameToId(tx, 'zones', 'zone', input.zone);
        if (input.pool !== undefined) patch.poolId = await this.nameToId(tx, 'resource_pools', 'pool', input.pool);
        if (input.domain !== undefined) patch.domain = await existingDomain(tx, input.domain);
        if (Object.keys(patch).length > 0) await tx.getRepository(MachineEntity).update({ id: machine.id }, patch);
      })
      .catch(async (err: unknown) => {
        throw (await raceLoser(err, this.db.manager)) ?? err;
      });
  }

  async delete(systemId: string): Promise<void> {
    await this.db.transaction(async (tx) => {
      const machine = await lockMachine(tx, systemId);
      if (machine.locked) throw new ConflictError(`Cannot delete machine ${systemId}: it is locked.`);
      if (isTransitional(machine.status)) {
        throw new ConflictError(`Cannot delete machine ${systemId} while an operation is in progress; abort it first.`);
      }
      await tx.getRepository(MachineEntity).delete({ id: machine.id });
    });
  }

  /** What the rack's power driver needs for one machine (rack API), secrets decrypted. */
  async powerConfig(systemId: string): Promise<PowerConfig> {
    // The columns it needs only: a power step asks twice per operation, and the whole row carries
    // the hardware report.
    const [m] = (await this.db.query(
      `SELECT id, system_id AS "systemId", power_type AS "powerType", power_parameters AS "powerParameters",
              power_secrets AS "powerSecrets", status, boot_purpose AS "bootPurpose", ephemeral_deploy AS "ephemeralDeploy"
         FROM machines WHERE system_id = $1`,
      [systemId],
    )) as Array<
      Pick<
        Machine,
        | 'id'
        | 'systemId'
        | 'powerType'
        | 'powerParameters'
        | 'powerSecrets'
        | 'status'
        | 'bootPurpose'
        | 'ephemeralDeploy'
      >
    >;
    if (!m) throw new NotFoundError(`No machine ${systemId}.`);
    return {
      systemId: m.systemId,
      powerType: m.powerType,
      parameters: this.powerParametersOf(m),
      netboot: powerOnNetboots(m) && (await mayNetboot(this.db.manager, m)),
    };
  }

  /**
   * The machines this rack polls (queryable power types), each with what its query needs, in one
   * read: the poller's round costs one request, whatever the number of machines.
   */
  async pollTargets(rackSystemId: string): Promise<PowerTargets> {
    const queryable = Object.values(POWER_TYPES)
      .filter((t) => t.queryable)
      .map((t) => t.name);
    const rows: Array<Pick<Machine, 'systemId' | 'powerType' | 'powerParameters' | 'powerSecrets'>> =
      await this.db.query(
        `SELECT m.system_id AS "systemId", m.power_type AS "powerType", m.power_parameters AS "powerParameters",
                m.power_secrets AS "powerSecrets"
           FROM machines m JOIN racks r ON r.id = m.rack_id
          WHERE r.system_id = $1 AND m.power_type = ANY($2::text[]) ORDER BY m.id`,
        [rackSystemId, queryable],
      );
    return {
      systemIds: rows.map((m) => m.systemId),
      configs: Object.fromEntries(rows.flatMap((m) => this.pollConfig(m))),
    };
  }

  /**
   * One target's config for the round, or none when its secrets cannot be opened (a changed
   * region key): the poller then asks for that machine alone, whose answer names the problem,
   * and the other machines are polled all the same.
   */
  private pollConfig(
    m: Pick<Machine, 'systemId' | 'powerType' | 'powerParameters' | 'powerSecrets'>,
  ): Array<[string, PowerConfig]> {
    try {
      return [[m.systemId, { systemId: m.systemId, powerType: m.powerType, parameters: this.powerParametersOf(m) }]];
    } catch {
      return [];
    }
  }

  /**
   * The power parameters (secrets included, for admins) of the racks' controller machines, by rack
   * system_id: all racks, or those named (controller-machines.ts annotates each with rack_system_id).
   */
  async rackPowerParameters(rackSystemIds: string[]): Promise<Record<string, Record<string, string>>> {
    const q = this.db
      .getRepository(MachineEntity)
      .createQueryBuilder('m')
      .where(`m.workload_annotations ? 'rack_system_id'`);
    if (rackSystemIds.length > 0)
      q.andWhere(`m.workload_annotations->>'rack_system_id' = ANY(:ids)`, { ids: rackSystemIds });
    const rows = await q.getMany();
    return Object.fromEntries(rows.map((m) => [m.workloadAnnotations.rack_system_id!, this.powerParametersOf(m)]));
  }

  /** Power parameters with secrets, for admins and for the rack that drives the BMC. */
  powerParametersOf(machine: Pick<Machine, 'powerParameters' | 'powerSecrets'>): Record<string, string> {
    return { ...machine.powerParameters, ...this.secrets.open(machine.powerSecrets) };
  }

  /** The machine's own OAuth token for the metadata server (one per machine). */
  async machineToken(
    machineId: number,
    regenerate = false,
    manager: EntityManager = this.db.manager,
  ): Promise<ApiToken> {
    const repo = manager.getRepository(ApiTokenEntity);
    const existing = await selectOne(manager, ApiTokenEntity, 't.machine_id = $1', [machineId]);
    if (existing && !regenerate) return existing;
    if (existing) await repo.delete({ id: existing.id });
    const fresh = {
      userId: null,
      machineId,
      name: 'machine',
      consumerKey: newConsumerKey(),
      tokenKey: newTokenKey(),
      tokenSecret: newTokenSecret(),
    };
    await manager.query(
      `INSERT INTO api_tokens (user_id, machine_id, name, consumer_key, token_key, token_secret)
       VALUES (NULL, $1, $2, $3, $4, $5) ON CONFLICT (machine_id) WHERE machine_id IS NOT NULL DO NOTHING`,
      [machineId, fresh.name, fresh.consumerKey, fresh.tokenKey, fresh.tokenSecret],
    );
    return (await repo.findOneBy({ machineId }))!;
  }

  private async nameToId(
    manager: EntityManager,
    table: 'zones' | 'resource_pools',
    field: string,
    name: string,
  ): Promise<number> {
    const rows: Array<{ id: number }> = await manager.query(`SELECT id FROM ${table} WHERE name = $1`, [name]);
    if (!rows[0]) throw ValidationError.field(field, `No such ${field}: '${name}'.`);
    return rows[0].id;
  }
}
