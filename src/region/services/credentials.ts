// OAuth token key → who is calling: a user (API key) or a machine (its own token). Looked up per
// request, so a deleted or regenerated token stops working at once.
import type { DataSource, EntitySchema } from 'typeorm';
import { ApiTokenEntity, MachineEntity, UserEntity, type Machine, type User } from '../db/entities';
import type { Principal } from './principal';

export interface Credentials {
  consumerKey: string;
  tokenSecret: string;
  principal: Principal;
}

/** Whose tokens a caller mostly presents: the MAAS API sees users', the metadata server machines'. */
export type TokenHolder = Principal['kind'];

export class CredentialService {
  constructor(private readonly db: DataSource) {}

  /**
   * The token and its holder in one statement when the holder is of the `expected` kind (the
   * request's one round trip to the database for who is calling), two otherwise.
   */
  async findByTokenKey(tokenKey: string, expected: TokenHolder = 'user'): Promise<Credentials | null> {
    const other: TokenHolder = expected === 'user' ? 'machine' : 'user';
    return (await this.heldBy(expected, tokenKey)) ?? this.heldBy(other, tokenKey);
  }

  private async heldBy(kind: TokenHolder, tokenKey: string): Promise<Credentials | null> {
    const holder: EntitySchema<User> | EntitySchema<Machine> = kind === 'user' ? UserEntity : MachineEntity;
    const { raw, entities } = await this.db
      .getRepository<User | Machine>(holder)
      .createQueryBuilder('holder')
      // The token's entity by its registered name (innerJoin's types take no EntitySchema).
      .innerJoin(ApiTokenEntity.options.name, 'token', `token.${kind === 'user' ? 'userId' : 'machineId'} = holder.id`)
      .addSelect(['token.consumerKey', 'token.tokenSecret'])
      .where('token.tokenKey = :tokenKey', { tokenKey })
      .getRawAndEntities();
    const row = raw[0] as { token_consumer_key: string; token_token_secret: string } | undefined;
    const entity = entities[0];
    if (!row || !entity) return null;
    const principal: Principal =
      kind === 'user' ? { kind, user: entity as User } : { kind, machine: entity as Machine };
    return { consumerKey: row.token_consumer_key, tokenSecret: row.token_token_secret, principal };
  }
}
