// OAuth credentials → who is calling: a user (API key) or a machine (its own token).
import type { DataSource } from 'typeorm';
import { MachineEntity, UserEntity } from '../region/db/entities';
import type { Principal } from '../region/services/principal';
import type { CredentialStore } from './http';

export function tokenStore(db: DataSource): CredentialStore<Principal> {
  return {
    async findByTokenKey(tokenKey) {
      const rows: Array<{
        consumer_key: string;
        token_secret: string;
        user_id: number | null;
        machine_id: number | null;
      }> = await db.query(
        `SELECT consumer_key, token_secret, user_id, machine_id FROM api_tokens WHERE token_key = $1`,
        [tokenKey],
      );
      const row = rows[0];
      if (!row) return null;
      if (row.user_id !== null) {
        const user = await db.getRepository(UserEntity).findOneBy({ id: row.user_id });
        return user
          ? { consumerKey: row.consumer_key, tokenSecret: row.token_secret, principal: { kind: 'user', user } }
          : null;
      }
      const machine = await db.getRepository(MachineEntity).findOneBy({ id: row.machine_id! });
      return machine
        ? { consumerKey: row.consumer_key, tokenSecret: row.token_secret, principal: { kind: 'machine', machine } }
        : null;
    },
  };
}
