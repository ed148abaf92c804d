/**
 * Running KQL for the API (REST, Kusto, Log Analytics): every query is registered while it runs (so its author or
 * an Owner can cancel it, and `GET .../queries` lists what runs), honours a timeout and the client's disconnect,
 * and may be limited to a time range (Log Analytics' `timespan`). Results the client pages through are held here
 * for a few minutes (`ResultStore`).
 */
import { randomUUID } from 'node:crypto';
import { tokenize } from '@vigil/kql';
import type { Principal } from '../auth/model.js';
import type { ResultSet } from '../engine/engine.js';
import { type QueryOutcome, runKql } from '../query/query-service.js';
import type { Workspace } from '../workspaces/workspace.js';
import { ApiError } from './errors.js';

export interface RunRequest {
  readonly ws: Workspace;
  readonly text: string;
  readonly principal: Principal;
  readonly queryId?: string;
  readonly timeoutMs?: number;
  readonly maxRows?: number;
  readonly maxBytes?: number;
  /** Only rows whose `TimeGenerated` is in [startMs, endMs) (Log Analytics' timespan). */
  readonly timeRange?: { readonly startMs: number; readonly endMs: number } | null;
  readonly nowMs?: number;
  /** Aborted when the client goes away. */
  readonly signal?: AbortSignal;
  readonly source: 'rest' | 'kusto' | 'loganalytics';
}

export interface RunningQuery {
  readonly queryId: string;
  readonly workspaceId: string;
  readonly userId: string;
  readonly userName: string;
  readonly text: string;
  readonly source: RunRequest['source'];
  readonly startedAt: string;
}

export interface RunResult {
  readonly queryId: string;
  readonly outcome: QueryOutcome;
  /** Characters added before the user's text (diagnostic offsets are already shifted back). */
  readonly ms: number;
}

const MAX_TIMEOUT_MS = 60 * 60_000;

export class QueryRunner {
  private readonly running = new Map<string, RunningQuery & { abort: AbortController }>();

  async run(req: RunRequest): Promise<RunResult> {
    const queryId = req.queryId ?? randomUUID();
    if (this.running.has(queryId)) throw new ApiError(409, 'query_id_in_use', `query id ${queryId} is running`);
    const abort = new AbortController();
    const onClientAbort = () => abort.abort();
    req.signal?.addEventListener('abort', onClientAbort, { once: true });
    this.running.set(queryId, {
      queryId,
      workspaceId: req.ws.id,
      userId: req.principal.user.id,
      userName: req.principal.user.name,
      text: req.text.slice(0, 4096),
      source: req.source,
      startedAt: new Date().toISOString(),
      abort,
    });
    const t0 = performance.now();
    try {
      const { text, offset } = req.timeRange
        ? withTimeRange(req.ws, req.text, req.timeRange)
        : { text: req.text, offset: 0 };
      const outcome = await runKql(req.ws.query, text, {
        queryId,
        signal: abort.signal,
        timeoutMs: Math.min(req.timeoutMs ?? 4 * 60_000, MAX_TIMEOUT_MS),
        ...(req.maxRows !== undefined ? { maxRows: req.maxRows } : {}),
        ...(req.maxBytes !== undefined ? { maxBytes: req.maxBytes } : {}),
        ...(req.nowMs !== undefined ? { nowMs: req.nowMs } : {}),
      });
      const shifted =
        offset === 0
          ? outcome
          : {
              ...outcome,
              diagnostics: outcome.diagnostics.map((d) => ({ ...d, start: Math.max(0, d.start - offset) })),
            };
      return { queryId, outcome: shifted, ms: performance.now() - t0 };
    } finally {
      req.signal?.removeEventListener('abort', onClientAbort);
      this.running.delete(queryId);
    }
  }

  /** Cancels a running query of the workspace: its author's, or anyone's for an Owner. */
  cancel(ws: Workspace, queryId: string, principal: Principal, isOwner: boolean): boolean {
    const q = this.running.get(queryId);
    if (!q || q.workspaceId !== ws.id) return false;
    if (q.userId !== principal.user.id && !isOwner)
      throw new ApiError(403, 'forbidden', 'only its author or an Owner can cancel a query');
    q.abort.abort();
    return true;
  }

  list(ws: Workspace, principal: Principal, all: boolean): RunningQuery[] {
    return [...this.running.values()]
      .filter((q) => q.workspaceId === ws.id && (all || q.userId === principal.user.id))
      .map(({ abort: _abort, ...q }) => q);
  }
}

/**
 * Limits every table the query (or a stored function it may call) names to `TimeGenerated` in the range, by
 * shadowing the tables with `let` statements — what Log Analytics does with a request's timespan.
 */
export function withTimeRange(
  ws: Workspace,
  text: string,
  range: { readonly startMs: number; readonly endMs: number },
): { text: string; offset: number } {
  const tables = new Map(ws.query.definitions.map((d) => [d.name, d] as const));
  for (const t of ws.engine.tables()) if (!tables.has(t.name)) tables.set(t.name, { name: t.name, columns: t.columns });
  const names = new Set<string>();
  const sources = [text, ...(ws.query.functions ?? []).map((f) => f.body)];
  for (const src of sources) {
    for (const tok of tokenize(src).tokens) {
      const t = tables.get(tok.text);
      if (t?.columns.some((c) => c.name === 'TimeGenerated' && c.type === 'datetime')) names.add(t.name);
    }
  }
  if (names.size === 0) return { text, offset: 0 };
  const start = new Date(range.startMs).toISOString();
  const end = new Date(range.endMs).toISOString();
  const prefix = [...names]
    .map((n) => `let ${n} = ${n} | where TimeGenerated >= datetime(${start}) and TimeGenerated < datetime(${end});`)
    .join('\n');
  return { text: `${prefix}\n${text}`, offset: prefix.length + 1 };
}

/**
 * ISO 8601 durations and intervals as Log Analytics reads `timespan`: `PT1H` (the last hour), `start/end`,
 * `start/PT1H`, `PT1H/end`. Null when absent; throws a 400 when malformed.
 */
export function parseTimespan(
  value: string | undefined | null,
  nowMs: number,
): { startMs: number; endMs: number } | null {
  if (value === undefined || value === null || value.trim() === '') return null;
  const bad = () =>
    new ApiError(400, 'invalid_timespan', `timespan '${value}' is not an ISO 8601 duration or interval`);
  const parts = value.trim().split('/');
  if (parts.length === 1) {
    const d = durationMs(parts[0] as string);
    if (d === null) throw bad();
    return { startMs: nowMs - d, endMs: nowMs };
  }
  if (parts.length !== 2) throw bad();
  const [a, b] = parts as [string, string];
  const da = durationMs(a);
  const db = durationMs(b);
  const ta = Date.parse(a);
  const tb = Date.parse(b);
  if (da === null && db === null && Number.isFinite(ta) && Number.isFinite(tb)) return { startMs: ta, endMs: tb };
  if (Number.isFinite(ta) && db !== null) return { startMs: ta, endMs: ta + db };
  if (da !== null && Number.isFinite(tb)) return { startMs: tb - da, endMs: tb };
  throw bad();
}

function durationMs(s: string): number | null {
  const m =
    /^P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/i.exec(
      s.trim(),
    );
  if (!m || s.trim().toUpperCase() === 'P' || s.trim().toUpperCase().endsWith('T')) return null;
  const n = (i: number) => Number(m[i] ?? 0);
  return ((n(1) * 7 + n(2)) * 86_400 + n(3) * 3600 + n(4) * 60 + n(5)) * 1000;
}

interface HeldResult {
  readonly id: string;
  readonly workspaceId: string;
  readonly userId: string;
  readonly result: ResultSet;
  iterator: AsyncIterator<string> | null;
  position: number;
  expiresAt: number;
  busy: Promise<unknown>;
}

/** Results held for paging: per user, bounded in number and time. */
export class ResultStore {
  private readonly held = new Map<string, HeldResult>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly ttlMs = 5 * 60_000,
    private readonly maxHeld = 200,
  ) {
    this.timer = setInterval(() => void this.expire(), 30_000);
    this.timer.unref();
  }

  async hold(ws: Workspace, principal: Principal, result: ResultSet): Promise<string> {
    while (this.held.size >= this.maxHeld) {
      const oldest = [...this.held.values()].sort((a, b) => a.expiresAt - b.expiresAt)[0];
      if (!oldest) break;
      await this.release(oldest.id);
    }
    const id = randomUUID();
    this.held.set(id, {
      id,
      workspaceId: ws.id,
      userId: principal.user.id,
      result,
      iterator: null,
      position: 0,
      expiresAt: Date.now() + this.ttlMs,
      busy: Promise.resolve(),
    });
    return id;
  }

  get(ws: Workspace, principal: Principal, id: string): HeldResult {
    const h = this.held.get(id);
    if (!h || h.workspaceId !== ws.id || h.userId !== principal.user.id)
      throw new ApiError(404, 'not_found', `no result ${id} (results are kept ${this.ttlMs / 60_000} minutes)`);
    return h;
  }

  /** Rows [offset, offset + n) of a held result, decoded. */
  async rows(h: HeldResult, offset: number, n: number): Promise<unknown[][]> {
    const run = async () => {
      h.expiresAt = Date.now() + this.ttlMs;
      if (!h.iterator || offset < h.position) {
        await h.iterator?.return?.();
        h.iterator = h.result.rowTexts()[Symbol.asyncIterator]();
        h.position = 0;
      }
      const it = h.iterator;
      while (h.position < offset) {
        const r = await it.next();
        if (r.done) return [];
        h.position++;
      }
      const out: unknown[][] = [];
      while (out.length < n) {
        const r = await it.next();
        if (r.done) break;
        h.position++;
        out.push(JSON.parse(r.value) as unknown[]);
      }
      return out;
    };
    // One reader at a time per result.
    const p = h.busy.then(run, run);
    h.busy = p.catch(() => undefined);
    return p;
  }

  async release(id: string): Promise<boolean> {
    const h = this.held.get(id);
    if (!h) return false;
    this.held.delete(id);
    await h.busy.catch(() => undefined);
    await h.iterator?.return?.().catch(() => undefined);
    await h.result.close().catch(() => undefined);
    return true;
  }

  private async expire(): Promise<void> {
    const now = Date.now();
    for (const h of [...this.held.values()]) if (h.expiresAt <= now) await this.release(h.id);
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    for (const id of [...this.held.keys()]) await this.release(id);
  }
}
