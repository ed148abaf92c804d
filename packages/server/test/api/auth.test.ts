/**
 * Accounts and credentials: the first start (an Owner with no password and a one-time setup code; nothing on
 * restart), argon2id password hashes and hashed API tokens at rest, expiry of sessions and tokens, sign-in
 * lockout, cookie sessions with CSRF protection, and OpenID Connect sign-in against a real (local) identity
 * provider: discovery, PKCE, code exchange, RS256 ID-token verification, linking by verified e-mail.
 */
import { createHash, generateKeyPairSync, randomUUID, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FirstStart, startVigil } from '../../src/api/server.js';
import { AuthService } from '../../src/auth/service.js';
import { SqliteDriver } from '../../src/state/sql-driver.js';
import { call } from './helpers.js';

const FAST = { workspace: { engine: { threads: 1, connections: 1 }, scheduler: false, automation: false as const } };

describe('first start', () => {
  it('creates an Owner without a password, prints a one-time code, and does it only once', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-first-'));
    try {
      let first: FirstStart | null = null;
      const v = await startVigil({ dataDir: dir, port: 0, ...FAST, onFirstStart: (i) => (first = i) });
      const url = v.url as string;
      const info = first as FirstStart | null;
      expect(info?.user).toBe('admin');
      expect(info?.setupCode).toMatch(/^[A-Za-z0-9_-]{20,}$/);
      expect(info?.message).toContain('/api/auth/setup');
      expect(info?.message).toContain(info?.setupCode);
      // No default password: nothing signs in before the code is used.
      for (const password of ['admin', 'password', 'changeme', '']) {
        const r = await call(url, 'POST', '/api/auth/login', { body: { name: 'admin', password: password || 'x' } });
        expect(r.status).toBe(401);
      }
      expect(
        (await call(url, 'POST', '/api/auth/setup', { body: { code: info?.setupCode, password: 'short' } })).status,
      ).toBe(400);
      expect(
        (
          await call(url, 'POST', '/api/auth/setup', {
            body: { code: info?.setupCode, password: 'Pale-Harbor-Signal-31' },
          })
        ).status,
      ).toBe(200);
      expect(
        (
          await call(url, 'POST', '/api/auth/setup', {
            body: { code: info?.setupCode, password: 'Another-Harbor-Signal-31' },
          })
        ).status,
      ).toBe(403);
      const login = await call<{ token: string }>(url, 'POST', '/api/auth/login', {
        body: { name: 'admin', password: 'Pale-Harbor-Signal-31' },
      });
      expect(login.status).toBe(200);
      const tok = await call<{ value: string }>(url, 'POST', '/api/tokens', {
        token: login.json.token,
        body: { name: 'ci', scopes: ['read'] },
      });
      expect((await call(url, 'GET', '/api/workspaces', { token: tok.json.value })).status).toBe(200);
      await v.close();

      // At rest: an argon2id hash, and token secrets only as SHA-256.
      const db = new SqliteDriver(join(dir, 'server.sqlite'));
      const user = await db.get<{ password_hash: string }>("SELECT password_hash FROM auth_users WHERE name = 'admin'");
      expect(user?.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
      const secret = tok.json.value.split('.')[1] as string;
      const row = await db.get<{ secret_hash: string }>('SELECT secret_hash FROM auth_tokens');
      expect(row?.secret_hash).toBe(createHash('sha256').update(secret).digest('hex'));
      // Token uses are written in batches, and at the latest when the server stops.
      const used = await db.get<{ last_used_at: string | null }>('SELECT last_used_at FROM auth_tokens');
      expect(used?.last_used_at).toEqual(expect.any(String));
      await db.close();
      const bytes = readFileSync(join(dir, 'server.sqlite')).toString('latin1');
      expect(bytes.includes(secret)).toBe(false);
      expect(bytes.includes('Pale-Harbor-Signal-31')).toBe(false);

      let again: FirstStart | null = null;
      const v2 = await startVigil({ dataDir: dir, port: 0, ...FAST, onFirstStart: (i) => (again = i) });
      expect(again).toBeNull();
      expect((await call(v2.url as string, 'GET', '/api/workspaces', { token: tok.json.value })).status).toBe(200);
      await v2.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('credentials', () => {
  let dir: string;
  let db: SqliteDriver;
  let now = Date.parse('2026-01-01T00:00:00Z');
  let auth: AuthService;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'vigil-auth-'));
    db = new SqliteDriver(join(dir, 's.sqlite'));
    auth = await AuthService.open(db, { clock: () => now, sessionTtlMs: 3600_000, cacheMs: 0 });
  });
  afterAll(async () => {
    await db.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('expires sessions and tokens, revokes tokens, and locks out guessing', async () => {
    const u = await auth.createUser({ name: 'eve', password: 'Quiet-Meadow-Lamp-88' });
    await auth.setMembership(u.id, 'ws1', 'Reader', false);
    const s = await auth.login('eve', 'Quiet-Meadow-Lamp-88');
    const t = await auth.createToken(u.id, { name: 't', scopes: ['read'], expiresInDays: 2 });
    expect(await auth.authenticate(s.token)).not.toBeNull();
    expect((await auth.authenticate(t.value))?.scopes).toEqual(['read']);
    now += 3600_000 + 1;
    expect(await auth.authenticate(s.token)).toBeNull();
    expect(await auth.authenticate(t.value)).not.toBeNull();
    now += 2 * 86_400_000;
    expect(await auth.authenticate(t.value)).toBeNull();
    const t2 = await auth.createToken(u.id, { name: 't2' });
    expect(await auth.authenticate(t2.value)).not.toBeNull();
    expect(await auth.revokeToken(u.id, t2.token.id)).toBe(true);
    expect(await auth.authenticate(t2.value)).toBeNull();
    // A tampered secret with a real id is refused.
    expect(await auth.authenticate(`${t2.value.slice(0, -2)}AA`)).toBeNull();
    await expect(auth.createToken(u.id, { name: 'long', expiresInDays: 400 })).rejects.toThrow(/expires within/);
    for (let i = 0; i < 10; i++) await expect(auth.login('eve', 'wrong-password-here')).rejects.toThrow(/wrong/);
    await expect(auth.login('eve', 'Quiet-Meadow-Lamp-88')).rejects.toThrow(/too many/);
    now += 61_000;
    expect((await auth.login('eve', 'Quiet-Meadow-Lamp-88')).user.name).toBe('eve');
  });
});

describe('cookie sessions and OpenID Connect', () => {
  let idp: Server;
  let idpUrl = '';
  let dir: string;
  let v: Awaited<ReturnType<typeof startVigil>>;
  let url = '';
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = 'k1';
  const codes = new Map<string, { nonce: string; challenge: string; sub: string; email: string }>();
  let nextIdentity = { sub: 'oidc-sub-1', email: 'olga@contoso.com' };

  const jwt = (claims: Record<string, unknown>) => {
    const h = Buffer.from(JSON.stringify({ alg: 'RS256', kid, typ: 'JWT' })).toString('base64url');
    const p = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `${h}.${p}.${sign('sha256', Buffer.from(`${h}.${p}`), privateKey).toString('base64url')}`;
  };

  beforeAll(async () => {
    idp = createServer((req, res) => {
      const u = new URL(req.url ?? '/', idpUrl);
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (u.pathname === '/.well-known/openid-configuration')
        return json(200, {
          issuer: idpUrl,
          authorization_endpoint: `${idpUrl}/authorize`,
          token_endpoint: `${idpUrl}/token`,
          jwks_uri: `${idpUrl}/jwks`,
        });
      if (u.pathname === '/jwks')
        return json(200, { keys: [{ ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' }] });
      if (u.pathname === '/token' && req.method === 'POST') {
        let body = '';
        req.on('data', (d: Buffer) => (body += d.toString()));
        req.on('end', () => {
          const f = new URLSearchParams(body);
          const c = codes.get(f.get('code') ?? '');
          const verifier = f.get('code_verifier') ?? '';
          // PKCE: the verifier must hash to the challenge sent with the authorization request.
          if (
            !c ||
            createHash('sha256').update(verifier).digest('base64url') !== c.challenge ||
            f.get('client_id') !== 'vigil'
          )
            return json(400, { error: 'invalid_grant' });
          const iat = Math.floor(Date.now() / 1000);
          json(200, {
            access_token: 'at',
            token_type: 'Bearer',
            id_token: jwt({
              iss: idpUrl,
              aud: 'vigil',
              sub: c.sub,
              email: c.email,
              email_verified: true,
              nonce: c.nonce,
              iat,
              exp: iat + 300,
            }),
          });
        });
        return;
      }
      json(404, { error: 'not_found' });
    });
    await new Promise<void>((r) => idp.listen(0, '127.0.0.1', () => r()));
    const a = idp.address();
    idpUrl = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
    dir = await mkdtemp(join(tmpdir(), 'vigil-oidc-'));
    v = await startVigil({
      dataDir: dir,
      port: 0,
      ...FAST,
      initialAdminPassword: 'Lunar-Copper-Thistle-5',
      oidc: { issuer: idpUrl, clientId: 'vigil', clientSecret: 's3cret' },
    });
    url = v.url as string;
  }, 60_000);

  afterAll(async () => {
    await v?.close();
    await new Promise((r) => idp?.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  /** The browser's part: follow the login redirect, "authenticate" at the IdP, come back to the callback. */
  async function signIn(returnTo: string): Promise<Response> {
    const start = await fetch(`${url}/api/auth/oidc/login?returnTo=${encodeURIComponent(returnTo)}`, {
      redirect: 'manual',
    });
    expect(start.status).toBe(302);
    const auth = new URL(start.headers.get('location') as string);
    expect(auth.origin + auth.pathname).toBe(`${idpUrl}/authorize`);
    expect(auth.searchParams.get('code_challenge_method')).toBe('S256');
    const code = randomUUID();
    codes.set(code, {
      nonce: auth.searchParams.get('nonce') as string,
      challenge: auth.searchParams.get('code_challenge') as string,
      ...nextIdentity,
    });
    return fetch(`${url}/api/auth/oidc/callback?code=${code}&state=${auth.searchParams.get('state')}`, {
      redirect: 'manual',
    });
  }

  it('signs an invited user in by verified e-mail, with a cookie session protected against CSRF', async () => {
    const admin = (
      await call<{ token: string }>(url, 'POST', '/api/auth/login', {
        body: { name: 'admin', password: 'Lunar-Copper-Thistle-5' },
      })
    ).json.token;
    expect((await call(url, 'GET', '/api/auth/providers')).json).toMatchObject({ oidc: { issuer: idpUrl } });

    // Not invited yet: refused.
    const refused = await signIn('/incidents');
    expect(refused.status).toBe(403);

    expect(
      (
        await call(url, 'POST', '/api/workspaces/default/users', {
          token: admin,
          body: { name: 'olga', email: 'olga@contoso.com', role: 'Responder' },
        })
      ).status,
    ).toBe(201);
    const ok = await signIn('/incidents');
    expect(ok.status).toBe(302);
    expect(ok.headers.get('location')).toBe('/incidents');
    const cookie = (ok.headers.get('set-cookie') ?? '').split(';')[0] as string;
    expect(ok.headers.get('set-cookie')).toContain('HttpOnly');
    const me = await call<{ user: { name: string }; method: string }>(url, 'GET', '/api/auth/me', {
      headers: { cookie },
    });
    expect(me.json.user.name).toBe('olga');
    expect(me.json.method).toBe('oidc');

    // Changes through the cookie need a header a cross-site form cannot send.
    const body = { name: 'x' };
    expect((await call(url, 'POST', '/api/tokens', { body, headers: { cookie } })).status).toBe(403);
    expect(
      (await call(url, 'POST', '/api/tokens', { body, headers: { cookie, 'x-requested-with': 'vigil' } })).status,
    ).toBe(201);

    // The identity is linked: a later sign-in with the same subject works even if the e-mail claim changed.
    nextIdentity = { sub: 'oidc-sub-1', email: 'olga.new@contoso.com' };
    expect((await signIn('/')).status).toBe(302);

    // Only local paths are redirect targets.
    const open = await signIn('https://evil.example/');
    expect(open.headers.get('location')).toBe('/');
  });

  it('refuses replayed or forged callbacks', async () => {
    expect(
      (await fetch(`${url}/api/auth/oidc/callback?code=x&state=never-issued`, { redirect: 'manual' })).status,
    ).toBe(401);
    // A token signed by another key fails verification.
    const { privateKey: other } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const h = Buffer.from(JSON.stringify({ alg: 'RS256', kid })).toString('base64url');
    const p = Buffer.from(
      JSON.stringify({ iss: idpUrl, aud: 'vigil', sub: 'x', nonce: 'n', exp: Date.now() / 1000 + 60 }),
    ).toString('base64url');
    const forged = `${h}.${p}.${sign('sha256', Buffer.from(`${h}.${p}`), other).toString('base64url')}`;
    const { OidcClient } = await import('../../src/auth/oidc.js');
    const client = new OidcClient({ issuer: idpUrl, clientId: 'vigil', redirectUri: 'http://x/cb' });
    await expect(client.verifyIdToken(forged, 'n')).rejects.toThrow(/signature/);
    await expect(
      client.verifyIdToken(jwt({ iss: idpUrl, aud: 'other', sub: 'x', nonce: 'n', exp: Date.now() / 1000 + 60 }), 'n'),
    ).rejects.toThrow(/another client/);
    await expect(
      client.verifyIdToken(jwt({ iss: idpUrl, aud: 'vigil', sub: 'x', nonce: 'm', exp: Date.now() / 1000 + 60 }), 'n'),
    ).rejects.toThrow(/nonce/);
    await expect(
      client.verifyIdToken(jwt({ iss: idpUrl, aud: 'vigil', sub: 'x', nonce: 'n', exp: Date.now() / 1000 - 600 }), 'n'),
    ).rejects.toThrow(/expired/);
  });
});
