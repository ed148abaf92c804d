/**
 * Users, role assignments, sessions, API tokens and OpenID Connect identities, in the server's state store
 * (migrations 800–819). Secrets are never stored: passwords as argon2id hashes, session and token secrets as SHA-256.
 *
 * Authentication is on every request, so principals are cached for a few seconds by credential id; the secret is
 * still checked on every request, and every change to a user, assignment, session or token drops the cache.
 */
import { randomUUID } from 'node:crypto';
import type { Migration } from '../state/migrations.js';
import { migrate } from '../state/migrations.js';
import type { SqlDriver } from '../state/sql-driver.js';
import {
  type AuthMethod,
  isPermission,
  isRole,
  type Membership,
  type Permission,
  type Principal,
  type Role,
  type User,
} from './model.js';
import {
  hashPassword,
  issueCredential,
  oneTimeCode,
  parseCredential,
  passwordProblem,
  secretMatches,
  sha256,
  verifyPassword,
} from './secrets.js';

export const AUTH_MIGRATIONS: readonly Migration[] = [
  {
    version: 800,
    name: 'auth: users, memberships, sessions, tokens, identities, setup codes',
    statements: [
      `CREATE TABLE auth_users (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, name_lower TEXT NOT NULL UNIQUE, display_name TEXT NOT NULL,
        email TEXT, email_lower TEXT, password_hash TEXT, server_admin INTEGER NOT NULL DEFAULT 0,
        disabled INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`,
      'CREATE INDEX auth_users_email ON auth_users (email_lower)',
      `CREATE TABLE auth_memberships (
        user_id TEXT NOT NULL REFERENCES auth_users (id) ON DELETE CASCADE, workspace_id TEXT NOT NULL,
        role TEXT NOT NULL, approver INTEGER NOT NULL DEFAULT 0, updated_at TEXT NOT NULL,
        PRIMARY KEY (user_id, workspace_id))`,
      'CREATE INDEX auth_memberships_ws ON auth_memberships (workspace_id, user_id)',
      `CREATE TABLE auth_sessions (
        id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES auth_users (id) ON DELETE CASCADE,
        secret_hash TEXT NOT NULL, method TEXT NOT NULL, created_at TEXT NOT NULL, expires_at TEXT NOT NULL,
        client TEXT NOT NULL DEFAULT '')`,
      'CREATE INDEX auth_sessions_user ON auth_sessions (user_id)',
      `CREATE TABLE auth_tokens (
        id TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES auth_users (id) ON DELETE CASCADE, name TEXT NOT NULL,
        secret_hash TEXT NOT NULL, scopes TEXT, workspace_id TEXT, created_at TEXT NOT NULL, expires_at TEXT NOT NULL,
        last_used_at TEXT, revoked_at TEXT)`,
      'CREATE INDEX auth_tokens_user ON auth_tokens (user_id, created_at)',
      `CREATE TABLE auth_identities (
        issuer TEXT NOT NULL, subject TEXT NOT NULL, user_id TEXT NOT NULL REFERENCES auth_users (id) ON DELETE CASCADE,
        created_at TEXT NOT NULL, PRIMARY KEY (issuer, subject))`,
      `CREATE TABLE auth_setup_codes (
        code_hash TEXT PRIMARY KEY, user_id TEXT NOT NULL REFERENCES auth_users (id) ON DELETE CASCADE,
        expires_at TEXT NOT NULL)`,
    ],
  },
];

/** A user mistake or a refusal, answered with `status`. */
export class AuthError extends Error {
  override readonly name = 'AuthError';
  constructor(
    readonly code: 'invalid' | 'not_found' | 'conflict' | 'unauthenticated' | 'forbidden' | 'locked',
    message: string,
  ) {
    super(message);
  }
  get status(): number {
    return { invalid: 400, not_found: 404, conflict: 409, unauthenticated: 401, forbidden: 403, locked: 429 }[
      this.code
    ];
  }
}

export interface AuthOptions {
  readonly clock?: () => number;
  /** Session lifetime (default 12 hours). */
  readonly sessionTtlMs?: number;
  /** Longest API token lifetime (default 366 days). */
  readonly maxTokenTtlMs?: number;
  /** How long a principal stays cached (default 5 s). */
  readonly cacheMs?: number;
}

export interface ApiToken {
  readonly id: string;
  readonly userId: string;
  readonly name: string;
  readonly scopes: readonly Permission[] | null;
  readonly workspaceId: string | null;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly lastUsedAt: string | null;
  readonly revokedAt: string | null;
}

export interface IssuedSession {
  readonly token: string;
  readonly sessionId: string;
  readonly expiresAt: string;
  readonly user: User;
}

interface UserRow {
  id: string;
  name: string;
  display_name: string;
  email: string | null;
  password_hash: string | null;
  server_admin: number;
  disabled: number;
  created_at: string;
  updated_at: string;
}

interface TokenRow {
  id: string;
  user_id: string;
  name: string;
  secret_hash: string;
  scopes: string | null;
  workspace_id: string | null;
  created_at: string;
  expires_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;
const DAY = 86_400_000;

function userOf(r: UserRow): User {
  return {
    id: r.id,
    name: r.name,
    displayName: r.display_name,
    email: r.email,
    serverAdmin: r.server_admin === 1,
    disabled: r.disabled === 1,
    hasPassword: r.password_hash !== null,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

function tokenOf(r: TokenRow): ApiToken {
  return {
    id: r.id,
    userId: r.user_id,
    name: r.name,
    scopes: r.scopes === null ? null : (JSON.parse(r.scopes) as Permission[]),
    workspaceId: r.workspace_id,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    lastUsedAt: r.last_used_at,
    revokedAt: r.revoked_at,
  };
}

export interface NewUser {
  readonly name: string;
  readonly displayName?: string;
  readonly email?: string | null;
  readonly password?: string;
  readonly serverAdmin?: boolean;
}

export interface UserPatch {
  readonly displayName?: string;
  readonly email?: string | null;
  readonly disabled?: boolean;
  readonly serverAdmin?: boolean;
}

interface CacheEntry {
  readonly principal: Principal;
  readonly secretHash: string;
  readonly expiresAtMs: number;
  readonly until: number;
}

export class AuthService {
  private readonly clock: () => number;
  private readonly cache = new Map<string, CacheEntry>();
  /** Failed sign-ins per name: refused for a minute after 10 failures in a row. */
  private readonly failures = new Map<string, { count: number; lockedUntil: number }>();
  /** When each token's use was last noted (`last_used_at` is written at most once a minute per token). */
  private readonly tokenUse = new Map<string, number>();
  /** Uses not written yet, and the timer of the batch that writes them. */
  private readonly pendingUse = new Map<string, number>();
  private useTimer: ReturnType<typeof setTimeout> | null = null;

  private constructor(
    private readonly db: SqlDriver,
    private readonly options: AuthOptions,
  ) {
    this.clock = options.clock ?? Date.now;
  }

  static async open(db: SqlDriver, options: AuthOptions = {}): Promise<AuthService> {
    await migrate(db, AUTH_MIGRATIONS);
    return new AuthService(db, options);
  }

  private now(): string {
    return new Date(this.clock()).toISOString();
  }

  private invalidate(): void {
    this.cache.clear();
  }

  // ───────────────────────────── users ─────────────────────────────

  async userCount(): Promise<number> {
    const r = await this.db.get<{ n: number }>('SELECT COUNT(*) AS n FROM auth_users');
    return Number(r?.n ?? 0);
  }

  async getUser(id: string): Promise<User | null> {
    const r = await this.db.get<UserRow>('SELECT * FROM auth_users WHERE id = ?', [id]);
    return r ? userOf(r) : null;
  }

  async findUserByName(name: string): Promise<User | null> {
    const r = await this.db.get<UserRow>('SELECT * FROM auth_users WHERE name_lower = ?', [name.toLowerCase()]);
    return r ? userOf(r) : null;
  }

  /** Users with a role in the workspace, by name, after `afterName`. */
  async members(
    workspaceId: string,
    afterName: string | null,
    limit: number,
  ): Promise<{ user: User; membership: Membership }[]> {
    const rows = await this.db.all<UserRow & { role: string; approver: number }>(
      `SELECT u.*, m.role AS role, m.approver AS approver FROM auth_users u
       JOIN auth_memberships m ON m.user_id = u.id AND m.workspace_id = ?
       WHERE u.name_lower > ? ORDER BY u.name_lower LIMIT ?`,
      [workspaceId, (afterName ?? '').toLowerCase(), limit],
    );
    return rows.map((r) => ({
      user: userOf(r),
      membership: { workspaceId, role: r.role as Role, approver: r.approver === 1 },
    }));
  }

  async allUsers(afterName: string | null, limit: number): Promise<User[]> {
    const rows = await this.db.all<UserRow>(
      'SELECT * FROM auth_users WHERE name_lower > ? ORDER BY name_lower LIMIT ?',
      [(afterName ?? '').toLowerCase(), limit],
    );
    return rows.map(userOf);
  }

  async memberships(userId: string): Promise<Membership[]> {
    const rows = await this.db.all<{ workspace_id: string; role: string; approver: number }>(
      'SELECT workspace_id, role, approver FROM auth_memberships WHERE user_id = ? ORDER BY workspace_id',
      [userId],
    );
    return rows.map((r) => ({ workspaceId: r.workspace_id, role: r.role as Role, approver: r.approver === 1 }));
  }

  async createUser(input: NewUser): Promise<User> {
    if (!NAME_PATTERN.test(input.name))
      throw new AuthError('invalid', 'a user name is 1-128 letters, digits, ".", "_", "@" or "-"');
    if (input.password !== undefined) {
      const problem = passwordProblem(input.password, input.name);
      if (problem) throw new AuthError('invalid', problem);
    }
    if (await this.findUserByName(input.name)) throw new AuthError('conflict', `a user named '${input.name}' exists`);
    const now = this.now();
    const id = randomUUID();
    const hash = input.password !== undefined ? await hashPassword(input.password) : null;
    await this.db.run(
      `INSERT INTO auth_users (id, name, name_lower, display_name, email, email_lower, password_hash, server_admin,
       disabled, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?)`,
      [
        id,
        input.name,
        input.name.toLowerCase(),
        input.displayName ?? input.name,
        input.email ?? null,
        input.email ? input.email.toLowerCase() : null,
        hash,
        input.serverAdmin ? 1 : 0,
        now,
        now,
      ],
    );
    return (await this.getUser(id)) as User;
  }

  async updateUser(id: string, patch: UserPatch): Promise<User> {
    const u = await this.getUser(id);
    if (!u) throw new AuthError('not_found', `no user ${id}`);
    await this.db.run(
      'UPDATE auth_users SET display_name = ?, email = ?, email_lower = ?, disabled = ?, server_admin = ?, updated_at = ? WHERE id = ?',
      [
        patch.displayName ?? u.displayName,
        patch.email !== undefined ? patch.email : u.email,
        (patch.email !== undefined ? patch.email : u.email)?.toLowerCase() ?? null,
        (patch.disabled ?? u.disabled) ? 1 : 0,
        (patch.serverAdmin ?? u.serverAdmin) ? 1 : 0,
        this.now(),
        id,
      ],
    );
    if (patch.disabled) await this.db.run('DELETE FROM auth_sessions WHERE user_id = ?', [id]);
    this.invalidate();
    return (await this.getUser(id)) as User;
  }

  async deleteUser(id: string): Promise<boolean> {
    const n = await this.db.run('DELETE FROM auth_users WHERE id = ?', [id]);
    this.invalidate();
    return n > 0;
  }

  async setPassword(id: string, password: string): Promise<void> {
    const u = await this.getUser(id);
    if (!u) throw new AuthError('not_found', `no user ${id}`);
    const problem = passwordProblem(password, u.name);
    if (problem) throw new AuthError('invalid', problem);
    const hash = await hashPassword(password);
    await this.db.transaction(async (tx) => {
      await tx.run('UPDATE auth_users SET password_hash = ?, updated_at = ? WHERE id = ?', [hash, this.now(), id]);
      // A new password ends every session: whoever knew the old one is signed out.
      await tx.run('DELETE FROM auth_sessions WHERE user_id = ?', [id]);
      await tx.run('DELETE FROM auth_setup_codes WHERE user_id = ?', [id]);
    });
    this.invalidate();
  }

  /** Changes one's own password, proving the old one. */
  async changePassword(id: string, current: string, next: string): Promise<void> {
    const r = await this.db.get<UserRow>('SELECT * FROM auth_users WHERE id = ?', [id]);
    if (!r) throw new AuthError('not_found', `no user ${id}`);
    if (!r.password_hash || !(await verifyPassword(r.password_hash, current)))
      throw new AuthError('forbidden', 'the current password is wrong');
    await this.setPassword(id, next);
  }

  /** A one-time code that lets the user set a password (invitation, first Owner). */
  async issueSetupCode(userId: string, ttlMs = DAY): Promise<string> {
    const code = oneTimeCode();
    await this.db.run('INSERT INTO auth_setup_codes (code_hash, user_id, expires_at) VALUES (?, ?, ?)', [
      sha256(code),
      userId,
      new Date(this.clock() + ttlMs).toISOString(),
    ]);
    return code;
  }

  async completeSetup(code: string, password: string): Promise<User> {
    const r = await this.db.get<{ user_id: string; expires_at: string }>(
      'SELECT user_id, expires_at FROM auth_setup_codes WHERE code_hash = ?',
      [sha256(code)],
    );
    if (!r || r.expires_at <= this.now()) throw new AuthError('forbidden', 'the setup code is unknown or expired');
    await this.setPassword(r.user_id, password);
    return (await this.getUser(r.user_id)) as User;
  }

  // ───────────────────────────── role assignments ─────────────────────────────

  async setMembership(userId: string, workspaceId: string, role: Role, approver: boolean): Promise<Membership> {
    if (!isRole(role)) throw new AuthError('invalid', `role is one of Reader, Responder, Contributor, Owner`);
    if (!(await this.getUser(userId))) throw new AuthError('not_found', `no user ${userId}`);
    await this.db.run(
      `INSERT INTO auth_memberships (user_id, workspace_id, role, approver, updated_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (user_id, workspace_id) DO UPDATE SET role = excluded.role, approver = excluded.approver,
       updated_at = excluded.updated_at`,
      [userId, workspaceId, role, approver ? 1 : 0, this.now()],
    );
    this.invalidate();
    return { workspaceId, role, approver };
  }

  async removeMembership(userId: string, workspaceId: string): Promise<boolean> {
    const n = await this.db.run('DELETE FROM auth_memberships WHERE user_id = ? AND workspace_id = ?', [
      userId,
      workspaceId,
    ]);
    this.invalidate();
    return n > 0;
  }

  async ownerCount(workspaceId: string): Promise<number> {
    const r = await this.db.get<{ n: number }>(
      `SELECT COUNT(*) AS n FROM auth_memberships m JOIN auth_users u ON u.id = m.user_id
       WHERE m.workspace_id = ? AND m.role = 'Owner' AND u.disabled = 0`,
      [workspaceId],
    );
    return Number(r?.n ?? 0);
  }

  // ───────────────────────────── sessions ─────────────────────────────

  async login(name: string, password: string, client = ''): Promise<IssuedSession> {
    const key = name.toLowerCase();
    const f = this.failures.get(key);
    if (f && f.lockedUntil > this.clock())
      throw new AuthError('locked', 'too many failed sign-ins: try again in a minute');
    const r = await this.db.get<UserRow>('SELECT * FROM auth_users WHERE name_lower = ?', [key]);
    // Verify against a hash even for unknown users, so timing does not tell which names exist.
    const ok = await verifyPassword(r?.password_hash ?? DUMMY_HASH, password);
    if (!r?.password_hash || !ok || r.disabled === 1) {
      const count = (f?.count ?? 0) + 1;
      this.failures.set(key, { count, lockedUntil: count >= 10 ? this.clock() + 60_000 : 0 });
      throw new AuthError('unauthenticated', 'wrong user name or password');
    }
    this.failures.delete(key);
    return this.openSession(userOf(r), 'password', client);
  }

  async openSession(user: User, method: 'password' | 'oidc', client = ''): Promise<IssuedSession> {
    const c = issueCredential('s');
    const expiresAt = new Date(this.clock() + (this.options.sessionTtlMs ?? 12 * 3600_000)).toISOString();
    await this.db.run(
      'INSERT INTO auth_sessions (id, user_id, secret_hash, method, created_at, expires_at, client) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [c.id, user.id, c.secretHash, method, this.now(), expiresAt, client.slice(0, 256)],
    );
    return { token: c.value, sessionId: c.id, expiresAt, user };
  }

  async logout(sessionId: string): Promise<void> {
    await this.db.run('DELETE FROM auth_sessions WHERE id = ?', [sessionId]);
    this.cache.delete(sessionId);
  }

  // ───────────────────────────── API tokens ─────────────────────────────

  async createToken(
    userId: string,
    input: { name: string; scopes?: readonly Permission[] | null; workspaceId?: string | null; expiresInDays?: number },
  ): Promise<{ token: ApiToken; value: string }> {
    const scopes = input.scopes ?? null;
    if (scopes && (scopes.length === 0 || scopes.some((s) => !isPermission(s))))
      throw new AuthError('invalid', 'scopes are a non-empty list of read, triage, author, ingest, admin, approve');
    const days = input.expiresInDays ?? 90;
    const ttl = days * DAY;
    const max = this.options.maxTokenTtlMs ?? 366 * DAY;
    if (!(days > 0) || ttl > max)
      throw new AuthError('invalid', `a token expires within ${Math.floor(max / DAY)} days (expiresInDays)`);
    const c = issueCredential('t');
    await this.db.run(
      `INSERT INTO auth_tokens (id, user_id, name, secret_hash, scopes, workspace_id, created_at, expires_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        c.id,
        userId,
        input.name,
        c.secretHash,
        scopes ? JSON.stringify([...new Set(scopes)]) : null,
        input.workspaceId ?? null,
        this.now(),
        new Date(this.clock() + ttl).toISOString(),
      ],
    );
    const row = await this.db.get<TokenRow>('SELECT * FROM auth_tokens WHERE id = ?', [c.id]);
    return { token: tokenOf(row as TokenRow), value: c.value };
  }

  async tokens(userId: string): Promise<ApiToken[]> {
    const rows = await this.db.all<TokenRow>(
      'SELECT * FROM auth_tokens WHERE user_id = ? ORDER BY created_at DESC, id',
      [userId],
    );
    return rows.map(tokenOf);
  }

  async revokeToken(userId: string, tokenId: string): Promise<boolean> {
    const n = await this.db.run(
      'UPDATE auth_tokens SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL',
      [this.now(), tokenId, userId],
    );
    this.cache.delete(tokenId);
    return n > 0;
  }

  // ───────────────────────────── OpenID Connect ─────────────────────────────

  /**
   * The user an OIDC sign-in stands for: the linked identity, else the (single) enabled user whose e-mail the
   * provider verified, linked from now on. Users are never created by signing in: an Owner invites them first.
   */
  async userForIdentity(issuer: string, subject: string, email: string | null): Promise<User> {
    const linked = await this.db.get<UserRow>(
      'SELECT u.* FROM auth_identities i JOIN auth_users u ON u.id = i.user_id WHERE i.issuer = ? AND i.subject = ?',
      [issuer, subject],
    );
    if (linked) {
      if (linked.disabled === 1) throw new AuthError('forbidden', 'this account is disabled');
      return userOf(linked);
    }
    if (!email) throw new AuthError('forbidden', 'the identity provider did not send a verified e-mail address');
    const byEmail = await this.db.all<UserRow>('SELECT * FROM auth_users WHERE email_lower = ? AND disabled = 0', [
      email.toLowerCase(),
    ]);
    if (byEmail.length !== 1)
      throw new AuthError('forbidden', `no Vigil user has the e-mail address ${email}: ask an Owner to invite you`);
    const u = byEmail[0] as UserRow;
    await this.db.run('INSERT INTO auth_identities (issuer, subject, user_id, created_at) VALUES (?, ?, ?, ?)', [
      issuer,
      subject,
      u.id,
      this.now(),
    ]);
    return userOf(u);
  }

  // ───────────────────────────── authentication ─────────────────────────────

  /** The principal of a bearer value (session or API token), or null when it is not valid now. */
  async authenticate(bearer: string): Promise<Principal | null> {
    const c = parseCredential(bearer.trim());
    if (!c) return null;
    const now = this.clock();
    const hit = this.cache.get(c.id);
    if (hit && hit.until > now && hit.expiresAtMs > now) {
      if (!secretMatches(c.secret, hit.secretHash)) return null;
      if (c.kind === 't') this.noteTokenUse(c.id, now);
      return hit.principal;
    }
    let principal: Principal | null;
    let secretHash: string;
    let expiresAtMs: number;
    if (c.kind === 's') {
      const s = await this.db.get<{ user_id: string; secret_hash: string; expires_at: string; method: string }>(
        'SELECT user_id, secret_hash, expires_at, method FROM auth_sessions WHERE id = ?',
        [c.id],
      );
      if (!s || !secretMatches(c.secret, s.secret_hash) || Date.parse(s.expires_at) <= now) return null;
      secretHash = s.secret_hash;
      expiresAtMs = Date.parse(s.expires_at);
      principal = await this.principal(s.user_id, s.method === 'oidc' ? 'oidc' : 'session', c.id, null, null);
    } else {
      const t = await this.db.get<TokenRow>('SELECT * FROM auth_tokens WHERE id = ?', [c.id]);
      if (!t || t.revoked_at || !secretMatches(c.secret, t.secret_hash) || Date.parse(t.expires_at) <= now) return null;
      const token = tokenOf(t);
      secretHash = t.secret_hash;
      expiresAtMs = Date.parse(t.expires_at);
      principal = await this.principal(t.user_id, 'token', c.id, token.scopes, token.workspaceId);
      if (principal) this.noteTokenUse(c.id, now);
    }
    if (!principal) return null;
    this.cache.set(c.id, { principal, secretHash, expiresAtMs, until: now + (this.options.cacheMs ?? 5000) });
    return principal;
  }

  private async principal(
    userId: string,
    method: AuthMethod,
    credentialId: string,
    scopes: readonly Permission[] | null,
    workspaceId: string | null,
  ): Promise<Principal | null> {
    const u = await this.getUser(userId);
    if (!u || u.disabled) return null;
    const memberships = new Map((await this.memberships(userId)).map((m) => [m.workspaceId, m] as const));
    return { user: u, method, credentialId, scopes, workspaceId, memberships };
  }

  private noteTokenUse(id: string, now: number): void {
    const last = this.tokenUse.get(id) ?? 0;
    if (now - last < 60_000) return;
    this.tokenUse.set(id, now);
    this.pendingUse.set(id, now);
    // Written in one transaction a moment later: 200 scripts starting at once cost one commit (one fsync) instead
    // of 200 queued in front of every other state-store call (measured: first requests waited ~36 s under load).
    if (!this.useTimer) {
      this.useTimer = setTimeout(() => void this.flushTokenUse(), 2000);
      this.useTimer.unref?.();
    }
  }

  /** Writes the noted token uses (also called on shutdown). */
  async flushTokenUse(): Promise<void> {
    if (this.useTimer) clearTimeout(this.useTimer);
    this.useTimer = null;
    if (this.pendingUse.size === 0) return;
    const batch = [...this.pendingUse];
    this.pendingUse.clear();
    await this.db
      .transaction(async (tx) => {
        for (const [id, at] of batch)
          await tx.run('UPDATE auth_tokens SET last_used_at = ? WHERE id = ?', [new Date(at).toISOString(), id]);
      })
      .catch(() => undefined);
  }

  // ───────────────────────────── first start ─────────────────────────────

  /**
   * On a server without users: creates the Owner `admin` of the given workspace (a server admin), with no password,
   * and a one-time setup code to set one. Returns null when users exist.
   */
  async bootstrap(workspaceId: string, name = 'admin'): Promise<{ user: User; setupCode: string } | null> {
    if ((await this.userCount()) > 0) return null;
    const user = await this.createUser({ name, displayName: 'Administrator', serverAdmin: true });
    await this.setMembership(user.id, workspaceId, 'Owner', false);
    return { user, setupCode: await this.issueSetupCode(user.id, 7 * DAY) };
  }
}

/** An argon2id hash of a random value: unknown users are verified against it (constant-time sign-in). */
const DUMMY_HASH = '$argon2id$v=19$m=19456,t=2,p=1$45bQjB1x5SeO5BQcNYx6zg$Zju8Ns+KsJJIYsHc1IPxCGrhyJhQhN9UDbpDrXoGZ3U';
