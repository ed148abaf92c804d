/**
 * Secrets of playbooks and action adapters (webhook URLs, API tokens): stored encrypted with AES-256-GCM (the
 * secret's name is the authenticated data, so a ciphertext cannot be moved to another name), decrypted only when a
 * step sends them, and masked wherever text is kept: run history, step inputs and outputs, errors and logs go
 * through a `Redactor` that knows every secret value the run used (and its URL-encoded, JSON and base64 forms).
 * The key comes from `VIGIL_SECRET_KEY` (32 bytes, base64 or hex) or a key file created next to the state (0600).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Actor } from '../incidents/model.js';
import type { AutomationStore } from '../state/automation-repo.js';
import type { SqlDriver } from '../state/sql-driver.js';
import { AutomationError } from './source.js';

export const SECRET_NAME = /^[A-Za-z][A-Za-z0-9_]{0,63}$/;
/** Shorter values would be masked everywhere they happen to occur. */
export const MIN_SECRET_LENGTH = 8;
const FORMAT = 'v1';

export function parseKey(text: string): Buffer {
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== 32) throw new Error('the secret key must be 32 bytes (base64 or hex)');
  return key;
}

/** The key from `VIGIL_SECRET_KEY`, else from the key file (created with a random key when missing). */
export async function loadSecretKey(keyFile: string, env: NodeJS.ProcessEnv = process.env): Promise<Buffer> {
  const fromEnv = env.VIGIL_SECRET_KEY;
  if (fromEnv) return parseKey(fromEnv);
  try {
    return parseKey(await readFile(keyFile, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  await mkdir(dirname(keyFile), { recursive: true });
  const key = randomBytes(32);
  // `wx`: never overwrite a key another process just wrote.
  try {
    await writeFile(keyFile, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return parseKey(await readFile(keyFile, 'utf8'));
    throw e;
  }
  await chmod(keyFile, 0o600);
  return key;
}

export class SecretBox {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('the secret key must be 32 bytes');
  }

  encrypt(name: string, value: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.key, iv);
    c.setAAD(Buffer.from(name, 'utf8'));
    const body = Buffer.concat([c.update(value, 'utf8'), c.final()]);
    return `${FORMAT}:${Buffer.concat([iv, c.getAuthTag(), body]).toString('base64')}`;
  }

  decrypt(name: string, text: string): string {
    const [format, data] = text.split(':');
    if (format !== FORMAT || !data) throw new Error(`secret ${name}: unknown format`);
    const raw = Buffer.from(data, 'base64');
    const d = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
    d.setAAD(Buffer.from(name, 'utf8'));
    d.setAuthTag(raw.subarray(12, 28));
    try {
      return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
    } catch {
      throw new Error(`secret ${name} cannot be decrypted (another key, or the data was changed)`);
    }
  }
}

export class SecretStore {
  constructor(
    private readonly db: SqlDriver,
    private readonly store: AutomationStore,
    private readonly box: SecretBox,
    private readonly clock: () => number,
  ) {}

  async set(name: string, value: string, actor: Actor): Promise<void> {
    if (!SECRET_NAME.test(name))
      throw new AutomationError('invalid', 'a secret name is a letter then up to 63 letters, digits or underscores');
    if (typeof value !== 'string' || value.length < MIN_SECRET_LENGTH)
      throw new AutomationError('invalid', `a secret value is at least ${MIN_SECRET_LENGTH} characters`);
    await this.store.putSecret(
      this.db,
      name,
      this.box.encrypt(name, value),
      actor,
      new Date(this.clock()).toISOString(),
    );
  }

  async delete(name: string): Promise<boolean> {
    return this.store.deleteSecret(this.db, name);
  }

  /** Names and change dates only: values never leave the store through the API. */
  async list(): Promise<{ name: string; updatedAt: string; updatedBy: Actor }[]> {
    return this.store.secretNames(this.db);
  }

  async has(name: string): Promise<boolean> {
    return (await this.store.secretCiphertext(this.db, name)) !== null;
  }

  /** The plain value, for the step that sends it (null when there is no such secret). */
  async reveal(name: string): Promise<string | null> {
    const c = await this.store.secretCiphertext(this.db, name);
    return c === null ? null : this.box.decrypt(name, c);
  }
}

/** Masks secret values in text and JSON values before they are stored or logged. */
export class Redactor {
  private readonly forms: { text: string; mask: string }[] = [];

  /** Registers a value (and its usual encodings) under a name. */
  add(name: string, value: string): void {
    if (value.length < MIN_SECRET_LENGTH) return;
    const mask = `***${name}***`;
    const forms = new Set([
      value,
      encodeURIComponent(value),
      JSON.stringify(value).slice(1, -1),
      Buffer.from(value, 'utf8').toString('base64'),
    ]);
    for (const text of forms)
      if (text.length >= MIN_SECRET_LENGTH && !this.forms.some((f) => f.text === text)) this.forms.push({ text, mask });
    // Longest first, so that a value containing another is masked whole.
    this.forms.sort((a, b) => b.text.length - a.text.length);
  }

  get size(): number {
    return this.forms.length;
  }

  text(s: string): string {
    let out = s;
    for (const f of this.forms) if (out.includes(f.text)) out = out.split(f.text).join(f.mask);
    return out;
  }

  value<T>(v: T): T {
    if (this.forms.length === 0) return v;
    if (typeof v === 'string') return this.text(v) as T;
    if (Array.isArray(v)) return v.map((x) => this.value(x)) as T;
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[this.text(k)] = this.value(x);
      return out as T;
    }
    return v;
  }
}
