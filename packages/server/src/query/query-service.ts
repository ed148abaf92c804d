/**
 * Running KQL against a workspace: compile with the engine's storage names, create tables the query reads that
 * the schema declares but storage does not have yet (an empty table answers as empty, not as an error), execute
 * with Kusto's limits, and hand back the encoded result. Hunting, rules, the API and the CLI all go through here.
 */
import type { CompiledQuery, Diagnostic, PlanColumn, StorageNaming, StoredFunction, WorkspaceSchema } from '@vigil/kql';
import { clickhouse, compile, duckdb, probeColumns } from '@vigil/kql';
import type { Engine, ExecuteOptions, ResultSet, TableDefinition } from '../engine/engine.js';
import { engineMessage, isEngineError } from '../engine/errors.js';
import { type SqlTemplate, SqlTemplateCache } from './sql-template.js';

export interface QueryWorkspace {
  readonly engine: Engine;
  /** Declared tables (the workspace schema plus custom tables). */
  readonly definitions: readonly TableDefinition[];
  /** Stored functions callable from every query. */
  readonly functions?: readonly StoredFunction[];
  readonly databaseName?: string;
}

export interface RunOptions extends Omit<ExecuteOptions, 'columns'> {
  /** The query's now() in ms since 1970 (default: the time the query starts). */
  readonly nowMs?: number;
  /** Reads only rows ingested in [startMs, endMs) from every table (detection rules; see CompileOptions). */
  readonly ingestionWindow?: { readonly startMs: number; readonly endMs: number };
}

export interface QueryError {
  /** `compile` for diagnostics; otherwise the engine's error code (`timeout`, `cancelled`, ...). */
  readonly code: string;
  readonly message: string;
}

export interface QueryOutcome {
  readonly compiled: CompiledQuery;
  readonly diagnostics: readonly Diagnostic[];
  /** The result when the query ran (the caller must close it). */
  readonly result: ResultSet | null;
  readonly error: QueryError | null;
  readonly compileMs: number;
}

export function compilerWorkspace(ws: QueryWorkspace): WorkspaceSchema {
  const declared = new Map(ws.definitions.map((d) => [d.name, d] as const));
  // Tables that exist in storage but are not declared (e.g. created by an earlier schema) stay queryable.
  for (const t of ws.engine.tables()) {
    if (!declared.has(t.name)) declared.set(t.name, { name: t.name, columns: t.columns });
  }
  return { database: ws.databaseName ?? 'Vigil', tables: [...declared.values()], functions: ws.functions ?? [] };
}

/** Storage naming that records tables the engine does not have yet. */
function storageNaming(engine: Engine, missing: Set<string>): StorageNaming {
  return {
    table(name) {
      const s = engine.storage(name);
      if (!s) missing.add(name);
      return s?.storageName ?? name;
    },
    column(table, column) {
      const s = engine.storage(table);
      return s?.columns.find((c) => c.name === column)?.storageName ?? column;
    },
  };
}

export function compileKql(
  ws: QueryWorkspace,
  text: string,
  nowMs: number,
  missing = new Set<string>(),
  ingestionWindow?: RunOptions['ingestionWindow'],
  dynamicSchemas?: ReadonlyMap<string, readonly PlanColumn[]>,
): CompiledQuery {
  return compile(text, compilerWorkspace(ws), {
    dialect: ws.engine.dialect === 'clickhouse' ? clickhouse : duckdb,
    storage: storageNaming(ws.engine, missing),
    nowMs,
    ...(ingestionWindow ? { ingestionWindow } : {}),
    ...(dynamicSchemas ? { dynamicSchemas } : {}),
  });
}

/**
 * Answers a compile's schema probes (the run-time columns of `bag_unpack`/`pivot` without an output schema) and
 * compiles again with them, so the result has Kusto's exact columns.
 */
async function resolveProbes(
  ws: QueryWorkspace,
  text: string,
  nowMs: number,
  compiled: CompiledQuery,
  ingestionWindow: RunOptions['ingestionWindow'],
  options: RunOptions,
): Promise<CompiledQuery> {
  if (!compiled.ok || !compiled.probes?.length) return compiled;
  const schemas = new Map<string, readonly PlanColumn[]>();
  for (const probe of compiled.probes) {
    const res = await ws.engine.query(probe.sql, {
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      columns: [
        { name: 'name', type: 'string' },
        { name: 'type', type: 'string' },
      ],
    });
    try {
      schemas.set(probe.key, probeColumns(await res.rows()));
    } finally {
      await res.close();
    }
  }
  return compileKql(ws, text, nowMs, undefined, ingestionWindow, schemas);
}

/**
 * Templates of the queries a workspace runs again (dashboards refreshing, API clients polling, an analyst re-running
 * a hunt): from its second run, a query text is rendered from its template instead of compiled (see
 * sql-template.ts; only the now()-derived datetimes change between runs). A text seen once costs nothing extra.
 */
const repeated = new WeakMap<QueryWorkspace, { readonly templates: SqlTemplateCache; readonly seen: Set<string> }>();
const NO_WINDOW = { startMs: 0, endMs: 0 };
const MAX_SEEN = 5000;

function repeatedQueryTemplate(ws: QueryWorkspace, text: string): SqlTemplate | null {
  let entry = repeated.get(ws);
  if (!entry) {
    const templates = new SqlTemplateCache(ws, (query, t) => {
      const missing = new Set<string>();
      const c = compileKql(ws, query, t.nowMs, missing);
      return missing.size > 0 || (c.probes?.length ?? 0) > 0 ? null : c;
    });
    entry = { templates, seen: new Set() };
    repeated.set(ws, entry);
  }
  if (!entry.seen.has(text)) {
    if (entry.seen.size >= MAX_SEEN) entry.seen.clear();
    entry.seen.add(text);
    return null;
  }
  return entry.templates.get(text);
}

export async function runKql(ws: QueryWorkspace, text: string, options: RunOptions = {}): Promise<QueryOutcome> {
  const { ingestionWindow, ...executeOptions } = options;
  const nowMs = options.nowMs ?? Date.now();
  const t0 = performance.now();
  const missing = new Set<string>();
  const template = ingestionWindow ? null : repeatedQueryTemplate(ws, text);
  let compiled = template
    ? { ...template.compiled, sql: template.render(NO_WINDOW, nowMs), plan: null }
    : compileKql(ws, text, nowMs, missing, ingestionWindow);
  if (compiled.ok && missing.size > 0) {
    for (const name of missing) {
      const def = ws.definitions.find((d) => d.name === name);
      if (def) await ws.engine.ensureTable(def);
    }
    compiled = compileKql(ws, text, nowMs, undefined, ingestionWindow);
  }
  try {
    compiled = await resolveProbes(ws, text, nowMs, compiled, ingestionWindow, options);
  } catch (e) {
    const code = isEngineError(e) ? e.code : 'engine';
    return {
      compiled,
      diagnostics: compiled.diagnostics,
      result: null,
      error: { code, message: engineMessage(e) },
      compileMs: performance.now() - t0,
    };
  }
  const compileMs = performance.now() - t0;
  if (!compiled.ok || !compiled.sql) {
    const first = compiled.diagnostics.find((d) => d.severity === 'error');
    return {
      compiled,
      diagnostics: compiled.diagnostics,
      result: null,
      error: { code: 'compile', message: first ? first.message : 'the query cannot be compiled' },
      compileMs,
    };
  }
  try {
    const result = await ws.engine.query(compiled.sql, {
      ...executeOptions,
      columns: compiled.columns.map((c) => ({ name: c.name, type: c.type })),
    });
    return { compiled, diagnostics: compiled.diagnostics, result, error: null, compileMs };
  } catch (e) {
    const code = isEngineError(e) ? e.code : 'engine';
    return {
      compiled,
      diagnostics: compiled.diagnostics,
      result: null,
      error: { code, message: engineMessage(e) },
      compileMs,
    };
  }
}
