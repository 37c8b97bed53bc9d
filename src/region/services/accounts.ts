// What MAAS's account and user handlers need beyond UserService: naming API tokens, and deleting
// users without orphaning the machines they own.
import type { DataSource } from 'typeorm';
import { ApiTokenEntity, UserEntity } from '../db/entities';
import { NotFoundError, ValidationError } from '../errors';
import { transactionRetryingDeadlocks } from '../db/deadlock-retry';

export class AccountService {
  constructor(private readonly db: DataSource) {}

  /** MAAS's update_token_name: `token` is the token key or the whole `consumer:key:secret` API key. */
  async renameToken(userId: number, token: string, name: string): Promise<void> {
    const parts = token.split(':');
    const tokenKey = parts.length === 3 ? (parts[1] ?? '') : token;
    const result = await this.db.getRepository(ApiTokenEntity).update({ userId, tokenKey }, { name });
    if (!result.affected) throw new NotFoundError('No Token matches the given query.');
  }

  /**
   * MAAS's user deletion: never oneself; a user who still owns machines is refused unless
   * `transferTo` names who gets them. Tokens and SSH keys go with the user (cascade).
   */
  async deleteUser(callerId: number, username: string, transferTo?: string): Promise<void> {
    // It locks the user's machines in scan order (the transfer's UPDATE, the count's FOR UPDATE):
    // an allocation's wait can close a cycle.
    await transactionRetryingDeadlocks(this.db, async (tx) => {
      const users = tx.getRepository(UserEntity);
      const user = await users
        .createQueryBuilder('u')
        .setLock('pessimistic_write')
        .where('u.username = :username', { username })
        .getOne();
      if (!user) throw new NotFoundError('No User matches the given query.');
      if (user.id === callerId) throw new ValidationError({ __all__: ['An administrator cannot self-delete.'] });
      if (transferTo !== undefined) {
        const heir = await users.findOneBy({ username: transferTo });
        if (!heir) throw ValidationError.field('transfer_resources_to', `No user named '${transferTo}'.`);
        if (heir.id === user.id)
          throw ValidationError.field('transfer_resources_to', 'Cannot transfer resources to the user being deleted.');
        await tx.query(`UPDATE machines SET owner_id = $1, updated = now() WHERE owner_id = $2`, [heir.id, user.id]);
      }
      // The user's row lock makes a concurrent allocation to them wait (its foreign-key check
      // needs a key-share lock on that row), so the count cannot miss a machine.
      const owned: Array<{ id: number }> = await tx.query(`SELECT id FROM machines WHERE owner_id = $1 FOR UPDATE`, [
        user.id,
      ]);
      if (owned.length > 0) {
        throw new ValidationError({
          __all__: [`User ${username} cannot be deleted: ${owned.length} node(s) are still allocated.`],
        });
      }
      await users.delete({ id: user.id });
    });
  }
}
