/**
 * KQL → SQL in one call: analyze (parse + bind), lower to a logical plan, run the plan passes, and generate SQL
 * for one dialect. Every failure is a diagnostic; `sql` is present only when there is no error.
 */
import type { Analysis } from './analyze.js';
import { analyze } from './analyze.js';
import type { WorkspaceSchema } from './catalog/workspace.js';
import { Codes } from './diagnostics/codes.js';
import type { Diagnostic } from './diagnostics/diagnostic.js';
import { lower } from './plan/lower.js';
import type { PlanColumn, QueryPlan, Visualization } from './plan/nodes.js';
import { optimize } from './plan/passes/index.js';
import type { Dialect } from './sql/dialect.js';
import type { StorageNaming } from './sql/generate.js';
import { generateProbeSql, generateSql, SqlUnsupported } from './sql/generate.js';

export interface CompileOptions {
  readonly dialect: Dialect;
  /** Storage names of tables and columns (the engine's mapping); identity by default. */
  readonly storage?: StorageNaming;
  /** The query's now(), in ms since 1970 (default: Date.now()). */
  readonly nowMs?: number;
  /** Appended as a final LIMIT (e.g. truncation limit + 1). */
  readonly rowLimit?: number;
  /** Run the plan passes (plan/passes) before generating SQL; default true. False is for comparisons and tests. */
  readonly optimize?: boolean;
  /** Restricts every table scan to rows ingested in [startMs, endMs) (ms since 1970): how detection rules read. */
  readonly ingestionWindow?: { readonly startMs: number; readonly endMs: number };
  /**
   * Answers to the schema probes of an earlier compile (`CompiledQuery.probes`): the run-time columns of
   * `bag_unpack`/`pivot` without an output schema, keyed by probe key.
   */
  readonly dynamicSchemas?: ReadonlyMap<string, readonly PlanColumn[]>;
}

/** A question the engine must answer before the query can be compiled exactly (see plan/lower.ts SchemaProbe). */
export interface CompiledProbe {
  readonly key: string;
  /** A SELECT returning rows `(name, type)`; read them back with `probeColumns`. */
  readonly sql: string;
}

export interface CompiledQuery {
  readonly ok: boolean;
  readonly diagnostics: readonly Diagnostic[];
  readonly analysis: Analysis;
  readonly plan: QueryPlan | null;
  readonly sql: string | null;
  /** Result columns, in order (SQL column i is named `c<i>`). */
  readonly columns: readonly PlanColumn[];
  readonly visualization: Visualization | null;
  /**
   * Schema probes: when present, run each `sql`, map its rows with `probeColumns`, and compile again with
   * `dynamicSchemas` to get Kusto's exact result columns (the first compile's SQL runs too, with fewer columns).
   */
  readonly probes?: readonly CompiledProbe[];
}

export const IDENTITY_STORAGE: StorageNaming = { table: (t) => t, column: (_t, c) => c };

export function compile(text: string, workspace: WorkspaceSchema, options: CompileOptions): CompiledQuery {
  const analysis = analyze(text, workspace);
  try {
    return compileAnalysis(text, analysis, options);
  } catch (e) {
    // Lowering and generation recurse over the plan; a pathologically deep query must not take the process down.
    // Any other exception is a compiler defect: the query is refused with a diagnostic, never crashes its caller.
    const deep = e instanceof RangeError;
    return {
      ok: false,
      diagnostics: [
        ...analysis.diagnostics,
        {
          code: deep ? Codes.TooDeep.code : Codes.InternalError.code,
          severity: 'error',
          message: deep
            ? 'The query is nested too deeply to run.'
            : `Vigil's compiler failed on this query (${e instanceof Error ? e.message : String(e)}); please report it.`,
          start: 0,
          length: text.length,
        },
      ],
      analysis,
      plan: null,
      sql: null,
      columns: [],
      visualization: null,
    };
  }
}

function compileAnalysis(text: string, analysis: Analysis, options: CompileOptions): CompiledQuery {
  const fail = (diagnostics: readonly Diagnostic[], plan: QueryPlan | null = null): CompiledQuery => ({
    ok: false,
    diagnostics,
    analysis,
    plan,
    sql: null,
    columns: [],
    visualization: null,
  });
  if (!analysis.ok) return fail(analysis.diagnostics);
  const nowTicks = BigInt(Math.round(options.nowMs ?? Date.now())) * 10000n;
  const lowered = lower(analysis, {
    now: nowTicks,
    capabilities: options.dialect.capabilities,
    ...(options.dynamicSchemas ? { dynamicSchemas: options.dynamicSchemas } : {}),
  });
  const diagnostics = [...analysis.diagnostics, ...lowered.diagnostics];
  const plan = lowered.plan && options.optimize !== false ? optimize(lowered.plan) : lowered.plan;
  if (!plan) {
    if (lowered.diagnostics.length === 0) {
      diagnostics.push({
        code: Codes.QueryExpected.code,
        severity: 'error',
        message: 'The query has no tabular expression to run.',
        start: 0,
        length: text.length,
      });
    }
    return fail(diagnostics);
  }
  try {
    const generateOptions = {
      storage: options.storage ?? IDENTITY_STORAGE,
      ...(options.rowLimit !== undefined ? { rowLimit: options.rowLimit } : {}),
      ...(options.ingestionWindow ? { ingestionWindow: ticksWindow(options.ingestionWindow) } : {}),
    };
    const gen = generateSql(plan.rel, options.dialect, generateOptions);
    const probes = (lowered.probes ?? []).map((p) => ({
      key: p.key,
      sql: generateProbeSql(p, options.dialect, generateOptions),
    }));
    return {
      ok: true,
      diagnostics,
      analysis,
      plan,
      sql: gen.sql,
      columns: gen.columns,
      visualization: plan.visualization,
      ...(probes.length ? { probes } : {}),
    };
  } catch (e) {
    if (e instanceof SqlUnsupported) {
      const span = e.span ?? [0, text.length];
      diagnostics.push({
        code: Codes.Unsupported.code,
        severity: 'error',
        message: `${e.message} is not supported by Vigil's ${options.dialect.name} engine yet.`,
        start: span[0],
        length: span[1] - span[0],
      });
      return fail(diagnostics, plan);
    }
    throw e;
  }
}

function ticksWindow(w: { readonly startMs: number; readonly endMs: number }): { start: string; end: string } {
  const ticks = (ms: number) => String(BigInt(Math.round(ms)) * 10000n);
  return { start: ticks(w.startMs), end: ticks(w.endMs) };
}
