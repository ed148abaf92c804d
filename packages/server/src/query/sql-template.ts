/**
 * Compiled-query templates: a query's SQL with its now()-derived datetimes (and, for rule windows, the ingestion
 * window's bounds) as slots, so a query run again is rendered instead of compiled again (parse, bind, lower and
 * generate cost 0.3–8 ms, as much as a small query's execution).
 *
 * The template is not guessed from the SQL's shape: the query is compiled with two sets of sentinel times, every
 * datetime literal is classified by how it moved (window start, window end, now() plus a fixed offset, or
 * constant), and a third compile with other times must equal the rendered template byte for byte. Anything the
 * compiler folds non-linearly (e.g. `bin(now(), 1d)`, `dayofweek(now())`) fails that check, and such a query is
 * compiled for each run. Used by the detection scheduler (detect/sql-cache.ts) and by runKql for repeated queries.
 */
import type { CompiledQuery, ScalarTypeName } from '@vigil/kql';
import { clickhouse, duckdb } from '@vigil/kql';

type Slot = ({ readonly kind: 'start' | 'end' } | { readonly kind: 'now'; readonly offsetTicks: bigint }) & {
  readonly form: 'duckdb' | 'clickhouse';
};

export interface SqlTemplate {
  /** The compiler's result columns, for the engine's decoding. */
  readonly columns: readonly { readonly name: string; readonly type: ScalarTypeName | 'unknown' }[];
  render(window: { readonly startMs: number; readonly endMs: number }, nowMs: number): string;
  /** The first sentinel compile (diagnostics, columns, visualization are those of every run; its SQL and plan hold the sentinel times). */
  readonly compiled: CompiledQuery;
}

/** What a template cache needs of a workspace: its tables and functions (a change invalidates every template). */
export interface TemplateWorkspace {
  readonly engine: { tables(): readonly { readonly name: string; readonly columns: readonly unknown[] }[] };
  readonly functions?: readonly object[];
}

const MAX_ENTRIES = 5000;

export interface Times {
  readonly startMs: number;
  readonly endMs: number;
  readonly nowMs: number;
}

const DAY = 86_400_000;
// Sentinel times far from real data, distinct, and moved by different, non-round amounts between compiles, so
// that no literal can be mistaken for another kind and no folding (bins, parts of dates) survives the check.
const BASE = Date.UTC(2190, 0, 1, 0, 0, 0, 0);
const SENTINELS: readonly Times[] = [
  { startMs: BASE + 10 * DAY + 1_111, endMs: BASE + 20 * DAY + 2_222, nowMs: BASE + 30 * DAY + 3_333 },
  { startMs: BASE + 113 * DAY + 3_671_017, endMs: BASE + 127 * DAY + 7_302_043, nowMs: BASE + 149 * DAY + 11_223_071 },
  { startMs: BASE + 401 * DAY + 61_001, endMs: BASE + 433 * DAY + 122_003, nowMs: BASE + 467 * DAY + 183_007 },
];

// The datetime literals of both dialects: DuckDB's `TIMESTAMP '… .ffffff'` (µs) and ClickHouse's
// `toDateTime64('… .fffffff', 7, 'UTC')` (100-ns ticks). A slot is re-rendered in the form it was found in.
const LITERAL =
  /TIMESTAMP '(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,6}))?'|toDateTime64\('(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)(?:\.(\d{1,7}))?', 7, 'UTC'\)/g;

type Form = 'duckdb' | 'clickhouse';

/** A literal's value in 100-ns ticks since 1970, and its form. */
function literalTicks(m: RegExpMatchArray): { ticks: bigint; form: Form } {
  const form: Form = m[1] !== undefined ? 'duckdb' : 'clickhouse';
  const [y, mo, d, h, mi, s, frac] = form === 'duckdb' ? m.slice(1, 8) : m.slice(8, 15);
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  return { ticks: BigInt(ms) * 10_000n + BigInt((frac ?? '').padEnd(7, '0') || '0'), form };
}

function renderTicks(ticks: bigint, form: Form): string {
  return form === 'duckdb' ? duckdb.literal(String(ticks), 'datetime') : clickhouse.literal(String(ticks), 'datetime');
}

const ticksOf = (ms: number) => BigInt(Math.round(ms)) * 10_000n;

function split(sql: string): { texts: string[]; values: bigint[]; forms: Form[] } {
  const texts: string[] = [];
  const values: bigint[] = [];
  const forms: Form[] = [];
  let last = 0;
  for (const m of sql.matchAll(LITERAL)) {
    texts.push(sql.slice(last, m.index));
    const { ticks, form } = literalTicks(m);
    values.push(ticks);
    forms.push(form);
    last = (m.index ?? 0) + m[0].length;
  }
  texts.push(sql.slice(last));
  return { texts, values, forms };
}

function build(texts: readonly string[], slots: readonly (Slot | string)[]): SqlTemplate['render'] {
  return (window, nowMs) => {
    let out = texts[0] ?? '';
    for (let i = 0; i < slots.length; i++) {
      const s = slots[i] as Slot | string;
      out +=
        typeof s === 'string'
          ? s
          : renderTicks(
              s.kind === 'now'
                ? ticksOf(nowMs) + s.offsetTicks
                : ticksOf(s.kind === 'start' ? window.startMs : window.endMs),
              s.form,
            );
      out += texts[i + 1] ?? '';
    }
    return out;
  };
}

/** Derives a template from compiles at the sentinel times, or null when the query is not templatable. */
export function deriveTemplate(compileAt: (t: Times) => CompiledQuery | null): SqlTemplate | null {
  const [t1, t2, t3] = SENTINELS as [Times, Times, Times];
  const c1 = compileAt(t1);
  const c2 = compileAt(t2);
  if (!c1?.ok || !c1.sql || !c2?.ok || !c2.sql) return null;
  const a = split(c1.sql);
  const b = split(c2.sql);
  if (a.values.length !== b.values.length || a.texts.some((t, i) => t !== b.texts[i])) return null;
  const slots: (Slot | string)[] = [];
  for (let i = 0; i < a.values.length; i++) {
    const v1 = a.values[i] as bigint;
    const v2 = b.values[i] as bigint;
    const form = a.forms[i] as Form;
    if (form !== b.forms[i]) return null;
    if (v1 === v2) slots.push(renderTicks(v1, form));
    else if (v1 === ticksOf(t1.startMs) && v2 === ticksOf(t2.startMs)) slots.push({ kind: 'start', form });
    else if (v1 === ticksOf(t1.endMs) && v2 === ticksOf(t2.endMs)) slots.push({ kind: 'end', form });
    else if (v1 - ticksOf(t1.nowMs) === v2 - ticksOf(t2.nowMs))
      slots.push({ kind: 'now', offsetTicks: v1 - ticksOf(t1.nowMs), form });
    else return null;
  }
  // A constant literal re-rendered must give back its text, or the template would change the query.
  const render = build(a.texts, slots);
  if (render(t1, t1.nowMs) !== c1.sql) return null;
  const c3 = compileAt(t3);
  if (!c3?.ok || !c3.sql || render(t3, t3.nowMs) !== c3.sql) return null;
  return { columns: c1.columns.map((c) => ({ name: c.name, type: c.type })), render, compiled: c1 };
}

/**
 * Templates by query text, valid while the workspace's tables and functions stay the same (a new table, a column
 * added or a function changed compiles again).
 */
export class SqlTemplateCache {
  private readonly entries = new Map<string, SqlTemplate | null>();
  private signature = '';
  private readonly functionIds = new WeakMap<object, number>();
  private lastFunctionId = 0;

  constructor(
    private readonly ws: TemplateWorkspace,
    /** Compiles the query at the given times; null when it must not be templated (tables to create, probes). */
    private readonly compileAt: (query: string, t: Times) => CompiledQuery | null,
  ) {}

  private currentSignature(): string {
    const tables = this.ws.engine
      .tables()
      .map((t) => `${t.name}:${t.columns.length}`)
      .join(',');
    // A function is known by its object: stores replace the object when a function changes (reading every body on
    // every evaluation would cost more than the compile the cache saves).
    const functions = (this.ws.functions ?? [])
      .map((f) => {
        let id = this.functionIds.get(f);
        if (id === undefined) {
          id = ++this.lastFunctionId;
          this.functionIds.set(f, id);
        }
        return id;
      })
      .join(',');
    return `${tables}|${functions}`;
  }

  /** The query's template, or null when it must be compiled for each evaluation. */
  get(query: string): SqlTemplate | null {
    const sig = this.currentSignature();
    if (sig !== this.signature) {
      this.entries.clear();
      this.signature = sig;
    }
    if (this.entries.has(query)) return this.entries.get(query) ?? null;
    // Combined NRT queries vary with the rules of a round, hunts with the analyst: keep the map bounded.
    if (this.entries.size >= MAX_ENTRIES) this.entries.clear();
    let template: SqlTemplate | null = null;
    try {
      template = deriveTemplate((t) => this.compileAt(query, t));
    } catch {
      template = null;
    }
    this.entries.set(query, template);
    return template;
  }
}
