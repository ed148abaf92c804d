/**
 * A real automation stack for tests: a SQLite state store in a temporary folder, the incident service, the
 * automation service (optionally over a DuckDB workspace for KQL look-ups), a clock the test can move, and HTTP
 * receivers on 127.0.0.1 that record what they get and perform each `Idempotency-Key` once.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HttpAdapterConfig } from '../../src/automation/actions.js';
import { AutomationService, type AutomationServiceOptions } from '../../src/automation/service.js';
import type { Engine, TableDefinition } from '../../src/engine/engine.js';
import { openWorkspace } from '../../src/engine/workspace.js';
import type { Actor } from '../../src/incidents/model.js';
import { IncidentService } from '../../src/incidents/service.js';
import { SqliteDriver } from '../../src/state/sql-driver.js';
import { workspaceDefinitions } from '../conformance/runner.js';

export const analyst = (upn: string): Actor => ({ type: 'analyst', id: upn, name: upn });
export const ADMIN = analyst('admin@contoso.com');

export class MovableClock {
  private offset = 0;
  readonly now = () => Date.now() + this.offset;
  advance(ms: number): void {
    this.offset += ms;
  }
}

export interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  readonly json: unknown;
  readonly at: number;
}

export type Reply = { status: number; body?: unknown; delayMs?: number } | 'hang';

/** An HTTP receiver: records every request; each idempotency key is "performed" once (later ones get the same answer). */
export class Receiver {
  readonly requests: Received[] = [];
  /** Keys seen, with the answer given the first time. */
  readonly performed = new Map<string, { status: number; body: unknown }>();
  private server!: Server;
  url = '';
  /** Decides the answer to a request (default 200 `{ok: true}`). */
  respond: (r: Received, n: number) => Reply = () => ({ status: 200, body: { ok: true } });
  private readonly hung: ServerResponse[] = [];

  static async start(respond?: Receiver['respond']): Promise<Receiver> {
    const r = new Receiver();
    if (respond) r.respond = respond;
    r.server = createServer((req, res) => void r.handle(req, res));
    await new Promise<void>((done) => r.server.listen(0, '127.0.0.1', done));
    r.url = `http://127.0.0.1:${(r.server.address() as AddressInfo).port}`;
    return r;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    const rec: Received = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      text,
      json,
      at: Date.now(),
    };
    this.requests.push(rec);
    const key = req.headers['idempotency-key'];
    const k = typeof key === 'string' ? key : null;
    const again = k ? this.performed.get(k) : undefined;
    if (again) {
      res.writeHead(again.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(again.body));
      return;
    }
    const reply = this.respond(rec, this.requests.length);
    if (reply === 'hang') {
      this.hung.push(res);
      return;
    }
    if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
    if (k && reply.status < 500 && reply.status !== 429)
      this.performed.set(k, { status: reply.status, body: reply.body ?? null });
    res.writeHead(reply.status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(reply.body ?? null));
  }

  /** Requests to a path (prefix). */
  to(path: string): Received[] {
    return this.requests.filter((r) => r.url.startsWith(path));
  }

  async close(): Promise<void> {
    for (const h of this.hung) h.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((done) => this.server.close(() => done()));
  }
}

export interface Stack {
  readonly dir: string;
  readonly state: SqliteDriver;
  readonly clock: MovableClock;
  readonly key: Buffer;
  readonly engine: Engine | null;
  readonly definitions: readonly TableDefinition[];
  incidents: IncidentService;
  automation: AutomationService;
  /** Stops both services and opens them again on the same state (a restart). */
  restart(extra?: Partial<AutomationServiceOptions>): Promise<void>;
  /** Loads rows into a workspace table (needs `workspace: true`). */
  ingest(table: string, rows: readonly Record<string, unknown>[]): Promise<void>;
  close(): Promise<void>;
}

let fileSeq = 0;

export async function openStack(
  o: {
    workspace?: boolean;
    allow?: readonly string[];
    adapters?: readonly HttpAdapterConfig[];
    automation?: Partial<AutomationServiceOptions>;
  } = {},
): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-automation-'));
  const state = new SqliteDriver(join(dir, 'state.db'));
  const clock = new MovableClock();
  const key = randomBytes(32);
  const engine = o.workspace ? await openWorkspace(join(dir, 'ws'), { threads: 1 }) : null;
  const definitions = o.workspace ? workspaceDefinitions() : [];
  const openIncidents = () => IncidentService.open({ state, clock: clock.now, tenantId: 'test-workspace' });
  const openAutomation = (incidents: IncidentService, extra: Partial<AutomationServiceOptions> = {}) =>
    AutomationService.open({
      state,
      incidents,
      query: engine ? { engine, definitions } : null,
      secretKey: key,
      clock: clock.now,
      http: { allow: o.allow ?? ['127.0.0.1'] },
      adapters: o.adapters ?? [],
      actionRetryBackoffMs: 20,
      ...o.automation,
      ...extra,
    });
  const incidents = await openIncidents();
  const s: Stack = {
    dir,
    state,
    clock,
    key,
    engine,
    definitions,
    incidents,
    automation: await openAutomation(incidents),
    async restart(extra) {
      await s.automation.close();
      await s.incidents.close();
      s.incidents = await openIncidents();
      s.automation = await openAutomation(s.incidents, extra);
    },
    async ingest(table, rows) {
      if (!engine) throw new Error('the stack has no workspace');
      const def = definitions.find((d) => d.name === table);
      if (!def) throw new Error(`no table ${table}`);
      await engine.ensureTable(def);
      const file = join(dir, `rows-${++fileSeq}.ndjson`);
      writeFileSync(file, rows.map((r) => JSON.stringify(r)).join('\n'));
      const report = await engine.loadFile(table, file, { format: 'ndjson' });
      if (report.rowsRejected) throw new Error(`rejected rows: ${JSON.stringify(report.rejected)}`);
    },
    async close() {
      await s.automation.close();
      await s.incidents.close();
      await engine?.close();
      await state.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return s;
}

/** Polls until `fn` returns a truthy value (bounded). */
export async function waitFor<T>(
  fn: () => Promise<T | null | undefined | false>,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
