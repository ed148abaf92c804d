/** Secrets: AES-256-GCM at rest (bound to their name), the key file, write-only listing, and redaction. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSecretKey, parseKey, Redactor, SecretBox, SecretStore } from '../../src/automation/secrets.js';
import { AUTOMATION_MIGRATIONS, AutomationStore } from '../../src/state/automation-repo.js';
import { migrate } from '../../src/state/migrations.js';
import { SqliteDriver } from '../../src/state/sql-driver.js';
import { ADMIN } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-secrets-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('secrets', () => {
  it('encrypts with the name as authenticated data', () => {
    const box = new SecretBox(randomBytes(32));
    const c = box.encrypt('teamsWebhook', 'https://contoso.webhook.office.com/abc');
    expect(c).toMatch(/^v1:/);
    expect(c).not.toContain('contoso');
    expect(box.decrypt('teamsWebhook', c)).toBe('https://contoso.webhook.office.com/abc');
    expect(() => box.decrypt('otherName', c)).toThrow(/cannot be decrypted/);
    expect(() => new SecretBox(randomBytes(32)).decrypt('teamsWebhook', c)).toThrow(/cannot be decrypted/);
    // Two encryptions of one value differ (random IV).
    expect(box.encrypt('a', 'same value!')).not.toBe(box.encrypt('a', 'same value!'));
  });

  it('creates a key file readable by its owner only, and reads it back; the environment wins', async () => {
    const file = join(dir, 'keys', 'secret.key');
    const k1 = await loadSecretKey(file, {});
    expect(k1.length).toBe(32);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect((await loadSecretKey(file, {})).equals(k1)).toBe(true);
    const env = randomBytes(32);
    expect((await loadSecretKey(file, { VIGIL_SECRET_KEY: env.toString('base64') })).equals(env)).toBe(true);
    expect(parseKey(env.toString('hex')).equals(env)).toBe(true);
    expect(() => parseKey('short')).toThrow(/32 bytes/);
  });

  it('stores only ciphertext; lists names, never values', async () => {
    const db = new SqliteDriver(join(dir, 'state.db'));
    await migrate(db, AUTOMATION_MIGRATIONS);
    const store = new SecretStore(db, new AutomationStore(), new SecretBox(randomBytes(32)), Date.now);
    const value = 'xoxb-SECRET-token-value-123456';
    await store.set('slackToken', value, ADMIN);
    expect(await store.reveal('slackToken')).toBe(value);
    expect(JSON.stringify(await store.list())).not.toContain(value);
    expect((await store.list()).map((s) => s.name)).toEqual(['slackToken']);
    await expect(store.set('bad name', value, ADMIN)).rejects.toThrow(/secret name/);
    await expect(store.set('short', 'abc', ADMIN)).rejects.toThrow(/at least 8/);
    await db.close();
    // Neither the database nor its write-ahead log holds the value.
    for (const f of ['state.db', 'state.db-wal'])
      try {
        expect(readFileSync(join(dir, f)).includes(Buffer.from(value))).toBe(false);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
  });

  it('redacts values and their encoded forms in text and JSON', () => {
    const r = new Redactor();
    const url = 'https://hooks.slack.com/services/T000/B000/XXXXSECRET';
    r.add('slackWebhook', url);
    r.add('short', 'abc');
    expect(r.text(`posting to ${url} failed`)).toBe('posting to ***slackWebhook*** failed');
    expect(r.text(`?u=${encodeURIComponent(url)}`)).toBe('?u=***slackWebhook***');
    expect(r.text(Buffer.from(url).toString('base64'))).toBe('***slackWebhook***');
    expect(r.value({ input: { webhook: url, list: [url] }, [url]: 1 })).toEqual({
      input: { webhook: '***slackWebhook***', list: ['***slackWebhook***'] },
      '***slackWebhook***': 1,
    });
    expect(r.text('abc is too short to mask')).toBe('abc is too short to mask');
  });
});
