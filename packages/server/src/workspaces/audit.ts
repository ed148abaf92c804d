/**
 * The audit log: who did what, when — every change (any non-GET API call, whatever its outcome) and every query
 * (REST, Kusto, Log Analytics), in the state store of the workspace it concerns (server-wide actions such as
 * sign-ins, user and workspace changes go to the server's store). Entries are group-committed: `record` resolves
 * once its entry is durable, and the API answers a change only after that, so an acknowledged change is audited.
 */
import type { Migration } from '../state/migrations.js';
import type { SqlDriver } from '../state/sql-driver.js';

export const AUDIT_MIGRATIONS: readonly Migration[] = [
  {
    version: 830,
    name: 'api: audit log',
    statements: [
      `CREATE TABLE api_audit (
        id INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, user_id TEXT, user_name TEXT NOT NULL,
        auth TEXT NOT NULL, credential_id TEXT, client_ip TEXT NOT NULL DEFAULT '', kind TEXT NOT NULL,
        action TEXT NOT NULL, method TEXT NOT NULL, path TEXT NOT NULL, target TEXT, status INTEGER NOT NULL,
        duration_ms REAL NOT NULL, request_id TEXT NOT NULL, details TEXT)`,
      'CREATE INDEX api_audit_at ON api_audit (at, id)',
      'CREATE INDEX api_audit_user ON api_audit (user_name, id)',
      'CREATE INDEX api_audit_action ON api_audit (action, id)',
    ],
  },
];

export type AuditKind = 'change' | 'query' | 'auth';

export interface AuditEntry {
  readonly id: number;
  readonly at: string;
  readonly userId: string | null;
  /** The user's sign-in name (`anonymous` for refused unauthenticated calls). */
  readonly userName: string;
  /** `session`, `token`, `oidc` or `none`. */
  readonly auth: string;
  readonly credentialId: string | null;
  readonly clientIp: string;
  readonly kind: AuditKind;
  /** The operation (`incidents.update`, `kusto.query`, `auth.login`, ...). */
  readonly action: string;
  readonly method: string;
  readonly path: string;
  /** The resource acted on (an incident id, a rule id, ...), when there is one. */
  readonly target: string | null;
  readonly status: number;
  readonly durationMs: number;
  readonly requestId: string;
  /** The query text and its statistics, the changed fields, ... (never secrets). */
  readonly details: unknown;
}

export type NewAuditEntry = Omit<AuditEntry, 'id'>;

export interface AuditFilter {
  readonly user?: string;
  readonly action?: string;
  readonly kind?: AuditKind;
  readonly target?: string;
  readonly from?: string;
  readonly to?: string;
  /** Newest first (default) or oldest first. */
  readonly order?: 'asc' | 'desc';
  readonly cursor?: string | null;
  readonly limit?: number;
}

interface Row {
  id: number;
  at: string;
  user_id: string | null;
  user_name: string;
  auth: string;
  credential_id: string | null;
  client_ip: string;
  kind: string;
  action: string;
  method: string;
  path: string;
  target: string | null;
  status: number;
  duration_ms: number;
  request_id: string;
  details: string | null;
}

export class AuditLog {
  private buffer: { entry: NewAuditEntry; done: (e?: unknown) => void }[] = [];
  private flushing: Promise<void> | null = null;

  constructor(private readonly db: SqlDriver) {}

  /** Stores an entry with the next group commit; resolves once it is committed. */
  record(entry: NewAuditEntry): Promise<void> {
    return new Promise((resolve, reject) => {
      this.buffer.push({ entry, done: (e) => (e ? reject(e) : resolve()) });
      if (!this.flushing) this.flushing = this.drain();
    });
  }

  private async drain(): Promise<void> {
    // Entries arriving while a commit runs go together into the next one.
    await Promise.resolve();
    while (this.buffer.length > 0) {
      const batch = this.buffer.splice(0, 500);
      try {
        await this.db.transaction(async (tx) => {
          for (const { entry: e } of batch) {
            await tx.run(
              `INSERT INTO api_audit (at, user_id, user_name, auth, credential_id, client_ip, kind, action, method, path,
               target, status, duration_ms, request_id, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
              [
                e.at,
                e.userId,
                e.userName,
                e.auth,
                e.credentialId,
                e.clientIp,
                e.kind,
                e.action,
                e.method,
                e.path.slice(0, 2048),
                e.target,
                e.status,
                Math.round(e.durationMs * 1000) / 1000,
                e.requestId,
                e.details === undefined ? null : JSON.stringify(e.details),
              ],
            );
          }
        });
        for (const b of batch) b.done();
      } catch (e) {
        for (const b of batch) b.done(e);
      }
    }
    this.flushing = null;
  }

  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  /** Entries matching the filter, newest first, with a cursor (the last id) for the next page. */
  async list(f: AuditFilter = {}): Promise<{ items: AuditEntry[]; nextCursor: string | null }> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    const desc = (f.order ?? 'desc') === 'desc';
    if (f.user) {
      where.push('user_name = ?');
      params.push(f.user);
    }
    if (f.action) {
      where.push('action = ?');
      params.push(f.action);
    }
    if (f.kind) {
      where.push('kind = ?');
      params.push(f.kind);
    }
    if (f.target) {
      where.push('target = ?');
      params.push(f.target);
    }
    if (f.from) {
      where.push('at >= ?');
      params.push(f.from);
    }
    if (f.to) {
      where.push('at < ?');
      params.push(f.to);
    }
    if (f.cursor) {
      const after = Number(f.cursor);
      if (!Number.isInteger(after)) throw new Error('invalid cursor');
      where.push(desc ? 'id < ?' : 'id > ?');
      params.push(after);
    }
    const limit = Math.min(Math.max(f.limit ?? 100, 1), 1000);
    const rows = await this.db.all<Row>(
      `SELECT * FROM api_audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY id ${desc ? 'DESC' : 'ASC'} LIMIT ?`,
      [...params, limit + 1],
    );
    const page = rows.slice(0, limit);
    return {
      items: page.map((r) => ({
        id: Number(r.id),
        at: r.at,
        userId: r.user_id,
        userName: r.user_name,
        auth: r.auth,
        credentialId: r.credential_id,
        clientIp: r.client_ip,
        kind: r.kind as AuditKind,
        action: r.action,
        method: r.method,
        path: r.path,
        target: r.target,
        status: Number(r.status),
        durationMs: Number(r.duration_ms),
        requestId: r.request_id,
        details: r.details === null ? null : (JSON.parse(r.details) as unknown),
      })),
      nextCursor: rows.length > limit ? String(page[page.length - 1]?.id) : null,
    };
  }
}
