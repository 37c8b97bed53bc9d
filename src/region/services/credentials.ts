// OAuth token key → who is calling: a user (API key) or a machine (its own token). Looked up per
// request, so a deleted or regenerated token stops working at once.
import type { DataSource } from 'typeorm';
import { MachineEntity, UserEntity } from '../db/entities';
import type { Principal } from './principal';

export interface Credentials {
  consumerKey: string;
  tokenSecret: string;
  principal: Principal;
}

export class CredentialService {
  constructor(private readonly db: DataSource) {}

  async findByTokenKey(tokenKey: string): Promise<Credentials | null> {
    const rows: Array<{
      consumer_key: string;
      token_secret: string;
      user_id: number | null;
      machine_id: number | null;
    }> = await this.db.query(
      `SELECT consumer_key, token_secret, user_id, machine_id FROM api_tokens WHERE token_key = $1`,
      [tokenKey],
    );
    const row = rows[0];
    if (!row) return null;
    if (row.user_id !== null) {
      const user = await this.db.getRepository(UserEntity).findOneBy({ id: row.user_id });
      return user
        ? { consumerKey: row.consumer_key, tokenSecret: row.token_secret, principal: { kind: 'user', user } }
        : null;
    }
    const machine = await this.db.getRepository(MachineEntity).findOneBy({ id: row.machine_id! });
    return machine
      ? { consumerKey: row.consumer_key, tokenSecret: row.token_secret, principal: { kind: 'machine', machine } }
      : null;
  }
}
