import type { DataSource, EntityManager } from 'typeorm';
import { ApiTokenEntity, SshKeyEntity, UserEntity, type ApiToken, type SshKey, type User } from '../db/entities';
import { ConflictError, NotFoundError, ValidationError } from '../errors';
import { newConsumerKey, newTokenKey, newTokenSecret } from '../ids';
import { hashPassword, verifyPassword } from '../passwords';

export interface ApiKey {
  consumerKey: string;
  tokenKey: string;
  tokenSecret: string;
  name: string;
}
export const formatApiKey = (t: Pick<ApiKey, 'consumerKey' | 'tokenKey' | 'tokenSecret'>): string =>
  `${t.consumerKey}:${t.tokenKey}:${t.tokenSecret}`;

const USERNAME = /^[\w.@+-]{1,150}$/;

let dummy: Promise<string> | undefined;
const dummyHash = () => (dummy ??= hashPassword('no such user'));

/** Users, their API tokens and SSH keys. */
export class UserService {
  constructor(private readonly db: DataSource) {}

  async create(input: { username: string; password: string; email: string; isSuperuser: boolean }): Promise<User> {
    if (!USERNAME.test(input.username))
      throw ValidationError.field('username', 'Enter a valid username: letters, digits and @/./+/-/_ only.');
    if (input.password.length < 1) throw ValidationError.field('password', 'This field is required.');
    // Hashed before the transaction: scrypt's time holds no connection.
    const passwordHash = await hashPassword(input.password);
    // A save is several statements (TypeORM's own transaction around the INSERT): in ours, a
    // connection lost between them is the outage it is (db/lost-connections.ts), not a 500.
    return this.db.transaction(async (tx) => {
      const repo = tx.getRepository(UserEntity);
      if (await repo.findOneBy({ username: input.username })) {
        throw ValidationError.field('username', 'A user with that username already exists.');
      }
      return repo.save({ username: input.username, email: input.email, passwordHash, isSuperuser: input.isSuperuser });
    });
  }

  async byUsername(username: string): Promise<User> {
    const user = await this.db.getRepository(UserEntity).findOneBy({ username });
    if (!user) throw new NotFoundError(`No User matches the given query.`);
    return user;
  }

  /**
   * The user whose password this is, else null (whichever part was wrong). An unknown username
   * costs the same scrypt as a wrong password, so timing does not tell which it was.
   */
  async checkPassword(username: string, password: string): Promise<User | null> {
    const user = await this.db.getRepository(UserEntity).findOneBy({ username });
    const ok = await verifyPassword(password, user?.passwordHash ?? (await dummyHash()));
    return user && ok ? user : null;
  }

  list(): Promise<User[]> {
    return this.db.getRepository(UserEntity).find({ order: { id: 'ASC' } });
  }

  async delete(username: string): Promise<void> {
    const user = await this.byUsername(username);
    await this.db.getRepository(UserEntity).delete({ id: user.id });
  }

  /** In the caller's transaction, or one of its own (a save is several statements: see create). */
  async createToken(userId: number, name = '', manager?: EntityManager): Promise<ApiToken> {
    const save = (m: EntityManager) =>
      m.getRepository(ApiTokenEntity).save({
        userId,
        machineId: null,
        name,
        consumerKey: newConsumerKey(),
        tokenKey: newTokenKey(),
        tokenSecret: newTokenSecret(),
      });
    return manager ? save(manager) : this.db.transaction(save);
  }

  /** The first API key of a user, made on demand (MAAS's `maas apikey`). */
  async apiKeyFor(username: string, generate = false): Promise<ApiToken> {
    const user = await this.byUsername(username);
    const existing = await this.tokens(user.id);
    if (existing[0] && !generate) return existing[0];
    return this.createToken(user.id, generate ? 'generated' : 'default');
  }

  tokens(userId: number): Promise<ApiToken[]> {
    return this.db.getRepository(ApiTokenEntity).find({ where: { userId }, order: { id: 'ASC' } });
  }

  async deleteToken(userId: number, tokenKey: string): Promise<void> {
    const result = await this.db.getRepository(ApiTokenEntity).delete({ userId, tokenKey });
    if (!result.affected) throw new NotFoundError(`No token ${tokenKey} for this user.`);
  }

  sshKeys(userId: number): Promise<SshKey[]> {
    return this.db.getRepository(SshKeyEntity).find({ where: { userId }, order: { id: 'ASC' } });
  }

  async addSshKey(userId: number, key: string): Promise<SshKey> {
    const trimmed = key.trim();
    if (
      !/^(ssh-(rsa|ed25519|dss)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/=]+( .*)?$/.test(
        trimmed,
      )
    ) {
      throw ValidationError.field('key', 'Invalid SSH public key format.');
    }
    // In a transaction of ours: a save is several statements (see create).
    return this.db.transaction(async (tx) => {
      const repo = tx.getRepository(SshKeyEntity);
      if (await repo.findOneBy({ userId, key: trimmed }))
        throw new ConflictError('This key has already been added for this user.');
      return repo.save({ userId, key: trimmed });
    });
  }

  async sshKey(userId: number, id: number): Promise<SshKey> {
    const key = await this.db.getRepository(SshKeyEntity).findOneBy({ id, userId });
    if (!key) throw new NotFoundError('No SSHKey matches the given query.');
    return key;
  }

  async deleteSshKey(userId: number, id: number): Promise<void> {
    await this.sshKey(userId, id);
    await this.db.getRepository(SshKeyEntity).delete({ id, userId });
  }
}
