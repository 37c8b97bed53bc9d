// Secrets at rest: power parameters such as BMC passwords are stored AES-256-GCM encrypted with a
// key that lives outside the database (METALFLOW_SECRET_KEY or a file in the state dir).
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export class SecretBox {
  private readonly key: Buffer;

  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error('The secret key must be 32 bytes.');
    this.key = key;
  }

  seal(plain: Record<string, string>): string {
    if (Object.keys(plain).length === 0) return '';
    const iv = crypto.randomBytes(12);
    const cipher = crypto.createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(plain), 'utf8'), cipher.final()]);
    return ['v1', iv.toString('base64'), cipher.getAuthTag().toString('base64'), body.toString('base64')].join(':');
  }

  open(sealed: string): Record<string, string> {
    if (!sealed) return {};
    const [version, iv, tag, body] = sealed.split(':');
    if (version !== 'v1' || !iv || !tag || !body) throw new Error('Unreadable sealed secret.');
    const decipher = crypto.createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
    decipher.setAuthTag(Buffer.from(tag, 'base64'));
    const plain = Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]);
    return JSON.parse(plain.toString('utf8')) as Record<string, string>;
  }
}

/** The region's key: from the environment, else generated once into the state dir. */
export function loadSecretKey(stateDir: string, env: NodeJS.ProcessEnv = process.env): Buffer {
  if (env.METALFLOW_SECRET_KEY) return crypto.createHash('sha256').update(env.METALFLOW_SECRET_KEY).digest();
  const file = path.join(stateDir, 'secret-key');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(stateDir, { recursive: true });
    fs.writeFileSync(file, crypto.randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
  }
  return Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'hex');
}

/** The shared secret racks present to the region (MAAS keeps one per region too). */
export function loadRackSecret(stateDir: string, env: NodeJS.ProcessEnv = process.env): string {
  if (env.METALFLOW_RACK_SECRET) return env.METALFLOW_RACK_SECRET;
  const file = path.join(stateDir, 'rack-secret');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(stateDir, { recursive: true });
    fs.writeFileSync(file, crypto.randomBytes(24).toString('hex'), { mode: 0o600, flag: 'wx' });
  }
  return fs.readFileSync(file, 'utf8').trim();
}
