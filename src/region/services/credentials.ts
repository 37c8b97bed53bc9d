// OAuth token key → who is calling: a user (API key) or a machine (its own token). Looked up per
// request, so a deleted or regenerated token stops working at once.
import type { DataSource, EntitySchema } from 'typeorm';
import { MachineEntity, UserEntity, type Machine, type User } from '../db/entities';
import { columnsOf, hydrate } from '../db/entity-rows';
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
    const table = this.db.getMetadata(holder).tableName;
    // The holder's columns prefixed `h_`, apart from the token's.
    const rows: Array<{ token_consumer_key: string; token_token_secret: string }> = await this.db.query(
      `SELECT ${columnsOf(this.db, holder, 'h', 'h_')}, k.consumer_key AS token_consumer_key, k.token_secret AS token_token_secret
         FROM "${table}" h JOIN api_tokens k ON k.${kind === 'user' ? 'user_id' : 'machine_id'} = h.id
        WHERE k.token_key = $1 LIMIT 1`,
      [tokenKey],
    );
    const row = rows[0];
    if (!row) return null;
    const principal: Principal =
      kind === 'user'
        ? { kind, user: hydrate(this.db, UserEntity, row, 'h_') }
        : { kind, machine: hydrate(this.db, MachineEntity, row, 'h_') };
    return { consumerKey: row.token_consumer_key, tokenSecret: row.token_token_secret, principal };
  }
}
