/**
 * SQL generation: a logical plan becomes one SQL statement, a chain of CTEs (one or a few per relation), through a
 * dialect's templates. Identifiers are always quoted and literals always escaped by the dialect, so no KQL text
 * reaches the SQL unquoted.
 *
 * Column names: KQL names are case-sensitive, SQL engines' are not, so every CTE column gets a SQL name that is
 * unique case-insensitively within its CTE; the final SELECT names result columns by position (`c0`, `c1`, ...)
 * and the caller maps them back to KQL names and types.
 *
 * Row order: after a `sort` (or a `datatable`, `range`, window stage), the sort keys travel as hidden columns
 * (`__o…`, `__s…`) through order-preserving operators (filter, project, take, mv-expand, window functions), and
 * the final SELECT (or a later `take`) applies the ORDER BY, which lets the engine run `sort | take` as a top-N.
 * Hidden columns are never part of a relation's KQL columns; a CTE may carry more SQL columns than it declares.
 *
 * Window functions (`row_number`, `prev`, `next`, `row_cumsum`, `row_rank_*`): a projection that uses them first
 * numbers its rows (a hidden serial column, so every window sees the same total order even when sort keys tie),
 * then computes the window calls in stages — innermost first, one CTE per nesting level, each call into a hidden
 * column — and finally the projection reads those columns. KQL's functions are composed from the dialect's window
 * primitives (`$row_number`, `$lag`, `$running_sum`, ...): a `restart` argument becomes a partition by the running
 * count of restarts, ranks become running aggregates of "value changed" flags.
 *
 * Multi-valued results: the elements of `arg_max(x, *)` / `take_any(*)` (plan `agg` nodes sharing a `group`) are
 * fields of one struct aggregate, so they come from the same row; a tuple-valued scalar function (`__tuple_element`
 * calls made by lowering) returns a struct and each element is read by position (dialect `tupleElement`).
 */
import type { ColumnType, ScalarTypeName } from '../binder/types.js';
import type { SchemaProbe } from '../plan/lower.js';
import type { NamedScalar, PlanColumn, PlanValue, Rel, ScalarExpr, SortKey, SourceSpan } from '../plan/nodes.js';
import { INGESTION_TIME, OPEN_BAG } from '../plan/nodes.js';
import type { Dialect, SqlArg, TemplateContext, WindowSpec } from './dialect.js';

/** Thrown when a construct cannot be expressed in the dialect; the span of the nearest plan node is attached. */
export class SqlUnsupported extends Error {
  span: SourceSpan | undefined;
}

export interface StorageNaming {
  /** The storage table name of a workspace table. */
  table(name: string): string;
  /** The storage column name of a table's KQL column. */
  column(table: string, column: string): string;
  /** The storage column holding a table's ingestion time (default `__ingestion_time`). */
  ingestionTime?(table: string): string;
}

export interface GenerateOptions {
  readonly storage: StorageNaming;
  /** Maximum rows to return (Kusto's truncation limit + 1 lets the engine detect truncation cheaply). */
  readonly rowLimit?: number;
  /**
   * Restricts every table scan to rows whose ingestion time is in [start, end) (datetime ticks since 1970, as
   * decimal strings). Detection rules query by ingestion time, so that consecutive windows see each row once.
   */
  readonly ingestionWindow?: { readonly start: string; readonly end: string };
}

export interface GeneratedSql {
  readonly sql: string;
  /** Result columns in order (SQL result column i is `c<i>`). */
  readonly columns: readonly PlanColumn[];
}

interface OrderKey {
  readonly sql: string;
  readonly descending: boolean;
  readonly nullsFirst: boolean;
}

interface Source {
  /** CTE name. */
  readonly name: string;
  readonly columns: readonly PlanColumn[];
  /** KQL column name → SQL column name in this CTE (also hidden columns such as window results). */
  readonly sqlNames: ReadonlyMap<string, string>;
  /** Hidden sort-key columns (SQL names) carried through order-preserving operators. */
  readonly order: readonly OrderKey[] | null;
  /** Hidden KQL-named columns carried through row-preserving operators (the ingestion time), KQL → SQL. */
  readonly carried: ReadonlyMap<string, string>;
}

interface Frame {
  readonly input: Source | null;
  readonly left?: { alias: string; source: Source };
  readonly right?: { alias: string; source: Source };
  /** Table alias prefix for input columns (joins). */
  readonly alias?: string;
}

const NO_CARRY: ReadonlyMap<string, string> = new Map();

/** Which sides' rows a join kind returns: semi/anti joins return one side only. */
function joinReturns(kind: string): 'left' | 'right' | 'both' {
  if (kind === 'leftsemi' || kind === 'leftanti') return 'left';
  if (kind === 'rightsemi' || kind === 'rightanti') return 'right';
  return 'both';
}

/**
 * A relation as the FROM item of the next SELECT: a CTE, or — for a table scan and filters over it — the table
 * itself with the filters as WHERE conditions (`src` then names the table's storage columns). Reading the table
 * directly spares the engine one or two SQL layers of column aliases to parse and bind per query (a few ms for
 * wide tables, see bench/README.md); the rows are the same.
 */
interface FromItem {
  readonly src: Source;
  readonly from: string;
  readonly where: readonly string[];
  /** Set when `from` is a table read directly: the select list giving the relation's columns their SQL names. */
  readonly direct?: { readonly select: readonly string[]; readonly names: Map<string, string> };
}

export function generateSql(rel: Rel, dialect: Dialect, options: GenerateOptions): GeneratedSql {
  const g = new Generator(dialect, options);
  const src = g.relation(rel);
  return { sql: g.finish(src), columns: src.columns };
}

/**
 * The SQL answering a schema probe (plan/lower.ts SchemaProbe): rows `(name, type)` — the columns to lower the
 * query again with (`LowerOptions.dynamicSchemas`). `probeColumns` reads those rows back.
 */
export function generateProbeSql(probe: SchemaProbe, dialect: Dialect, options: GenerateOptions): string {
  const build = dialect.relational.probe;
  if (!build) throw new SqlUnsupported('discovering columns at run time');
  const g = new Generator(dialect, options);
  const src = g.relation(probe.rel);
  const value = g.scalar(probe.expr, { input: src });
  return g.finishWith(build(probe.kind, value.sql, dialect.quoteIdentifier(src.name), probe.valueType ?? 'dynamic'));
}

const KQL_TYPES = new Set([
  'bool',
  'int',
  'long',
  'real',
  'decimal',
  'string',
  'datetime',
  'timespan',
  'guid',
  'dynamic',
]);

/** A probe's result rows as plan columns. */
export function probeColumns(rows: readonly (readonly unknown[])[]): PlanColumn[] {
  return rows.map((r) => {
    const type = String(r[1]);
    return { name: String(r[0]), type: (KQL_TYPES.has(type) ? type : 'dynamic') as ColumnType };
  });
}

/** An open bag column (see OPEN_BAG) travels hidden, as a carried column, never as a result column. */
function isOpenBag(name: string): boolean {
  return name.startsWith(OPEN_BAG);
}

/** Does an expression contain a window call (outside nested relations)? */
function hasWindow(e: ScalarExpr): boolean {
  switch (e.kind) {
    case 'win':
      return true;
    case 'op':
    case 'call':
    case 'agg':
      return e.args.some(hasWindow);
    case 'path':
      return hasWindow(e.expr) || e.path.some((s) => typeof s === 'object' && hasWindow(s));
    case 'in-rel':
      return hasWindow(e.value);
    default:
      return false;
  }
}

/** Rebuilds the immediate sub-expressions of an expression through `f` (nested relations are left alone). */
function mapChildren(e: ScalarExpr, f: (x: ScalarExpr) => ScalarExpr): ScalarExpr {
  switch (e.kind) {
    case 'op':
    case 'call':
    case 'agg':
      return { ...e, args: e.args.map(f) };
    case 'win':
      return { ...e, args: e.args.map(f), ...(e.partition ? { partition: e.partition.map(f) } : {}) };
    case 'path':
      return { ...e, expr: f(e.expr), path: e.path.map((s) => (typeof s === 'object' ? f(s) : s)) };
    case 'in-rel':
      return { ...e, value: f(e.value) };
    default:
      return e;
  }
}

/** Rebuilds an expression bottom-up through `f`. */
function mapExpr(e: ScalarExpr, f: (x: ScalarExpr) => ScalarExpr): ScalarExpr {
  return f(mapChildren(e, (x) => mapExpr(x, f)));
}

const lit = (type: ScalarTypeName, value: PlanValue): ScalarExpr => ({ kind: 'lit', type, value });

/** Is this optional argument absent or the literal `false`? */
function isFalse(e: ScalarExpr | undefined): boolean {
  return e === undefined || (e.kind === 'lit' && (e.value === false || e.value === null));
}

/**
 * KQL's row-order functions in terms of the dialect's window primitives (names starting with `$`). A `restart`
 * argument splits the rows into runs that start where it is true: a partition by the running count of restarts.
 */
function expandWindow(e: ScalarExpr & { kind: 'win' }): ScalarExpr {
  if (e.fn.startsWith('$')) return e;
  const base = e.partition ?? [];
  const prim = (fn: string, args: readonly ScalarExpr[], type: ColumnType, partition = base): ScalarExpr => ({
    kind: 'win',
    fn,
    args,
    type,
    ...(partition.length ? { partition } : {}),
  });
  const restarted = (restart: ScalarExpr | undefined): readonly ScalarExpr[] =>
    isFalse(restart) ? base : [...base, prim('$running_count_true', [restart as ScalarExpr], 'long')];
  const [a0, a1, a2] = e.args;
  switch (e.fn) {
    case 'row_number': {
      const n = prim('$row_number', [], 'long', restarted(a1));
      if (!a0 || (a0.kind === 'lit' && String(a0.value) === '1')) return n;
      const start: ScalarExpr = a0.type === 'long' ? a0 : { kind: 'call', fn: 'tolong', args: [a0], type: 'long' };
      return {
        kind: 'op',
        op: 'Add',
        args: [n, { kind: 'op', op: 'Subtract', args: [start, lit('long', '1')], type: 'long' }],
        type: 'long',
      };
    }
    case 'row_cumsum':
      return prim('$running_sum', a0 ? [a0] : [], e.type, restarted(a1));
    case 'prev':
    case 'next':
      return prim(e.fn === 'prev' ? '$lag' : '$lead', e.args, e.type);
    case 'row_rank_dense': {
      const p = restarted(a1);
      return prim('$running_count_true', [prim('$changed', a0 ? [a0] : [], 'bool', p)], 'long', p);
    }
    case 'row_rank_min': {
      const p = restarted(a1);
      return prim('$running_max', [prim('$run_start', a0 ? [a0] : [], 'long', p)], 'long', p);
    }
    case 'row_window_session': {
      // A one-step scan: a session starts at the first row, on restart, or when the value is too far from the
      // session's first value or from the previous row's; the result is the session's first value.
      const [x, maxFirst, maxNeighbor, restart] = e.args;
      if (!x || !maxFirst || !maxNeighbor) return e;
      const t = x.type;
      const gap: ColumnType = t === 'datetime' ? 'timespan' : t;
      const ref = (c: string): ScalarExpr => ({
        kind: 'call',
        fn: '__scan_ref',
        args: [lit('long', '1'), lit('string', c)],
        type: t,
      });
      const or = (a: ScalarExpr, b: ScalarExpr): ScalarExpr => ({ kind: 'op', op: 'Or', args: [a, b], type: 'bool' });
      const farFrom = (c: string, limit: ScalarExpr): ScalarExpr => ({
        kind: 'op',
        op: 'GreaterThan',
        args: [{ kind: 'op', op: 'Subtract', args: [x, ref(c)], type: gap }, limit],
        type: 'bool',
      });
      let fresh = or(
        or({ kind: 'call', fn: 'isnull', args: [ref('start')], type: 'bool' }, farFrom('start', maxFirst)),
        farFrom('last', maxNeighbor),
      );
      if (!isFalse(restart)) fresh = or(fresh, restart as ScalarExpr);
      const scan: ScalarExpr = {
        kind: 'win',
        fn: '$scan',
        args: [
          lit('dynamic', {
            steps: [
              {
                name: 's',
                output: 'all',
                cond: 3,
                assigns: [
                  [0, 4],
                  [1, 5],
                ],
              },
            ],
            declared: [
              { name: 'start', type: t, dflt: 1 },
              { name: 'last', type: t, dflt: 2 },
            ],
          }),
          { kind: 'lit', type: t === 'unknown' ? 'dynamic' : t, value: null },
          { kind: 'lit', type: t === 'unknown' ? 'dynamic' : t, value: null },
          lit('bool', true),
          { kind: 'call', fn: 'iff', args: [fresh, x, ref('start')], type: t },
          x,
        ],
        type: 'unknown',
        ...(base.length ? { partition: base } : {}),
      };
      // The scan's struct: matched, match id, start, last.
      return { kind: 'call', fn: '__tuple_element', args: [scan, lit('long', '2')], type: e.type };
    }
    default:
      void a2;
      return e;
  }
}

class Generator {
  private readonly ctes: string[] = [];
  /**
   * What the final statement may fold (see finish): per CTE, its pushed text, its body, the body's exact output
   * columns when known (SQL names, in order; null when the body also returns hidden columns or `*` of unknown
   * width), and whether ORDER BY / LIMIT may be appended to the body (a plain SELECT … FROM … WHERE … GROUP BY).
   */
  private readonly shapes = new Map<
    string,
    { text: string; body: string; outputs: readonly string[] | null; appendable: boolean }
  >();
  /** Sorts that can become the final statement's ORDER BY (keys that are visible input columns). */
  private readonly foldableSorts = new Map<
    string,
    { input: Source; keys: readonly { position: number; descending: boolean; nullsFirst: boolean }[]; limit: string }
  >();
  private readonly bindings = new Map<string, Source>();
  private counter = 0;
  private recursive = false;

  constructor(
    private readonly d: Dialect,
    private readonly options: GenerateOptions,
  ) {}

  private q(name: string): string {
    return this.d.quoteIdentifier(name);
  }

  /** A fresh SQL name for a hidden column (unique in the whole statement, so CTEs can `SELECT *` freely). */
  private hidden(prefix: string): string {
    return `__${prefix}${this.counter++}`;
  }

  /** Unique (case-insensitively) SQL names for a relation's columns. */
  private sqlNamesFor(columns: readonly PlanColumn[]): Map<string, string> {
    const used = new Set<string>();
    const out = new Map<string, string>();
    for (const c of columns) {
      let base = c.name.replace(/[^A-Za-z0-9_$]/g, '_');
      if (base === '' || /^[0-9]/.test(base) || base.startsWith('__')) base = `x${base}`;
      let name = base;
      for (let i = 2; used.has(name.toLowerCase()); i++) name = `${base}__${i}`;
      used.add(name.toLowerCase());
      out.set(c.name, name);
    }
    return out;
  }

  private cte(
    body: string,
    columns: readonly PlanColumn[],
    sqlNames: ReadonlyMap<string, string>,
    order: readonly OrderKey[] | null,
    carried: ReadonlyMap<string, string> = NO_CARRY,
    materialized = false,
  ): Source {
    const name = `q${this.counter++}`;
    const text = `${this.q(name)} AS ${materialized ? 'MATERIALIZED ' : ''}(\n  ${body}\n)`;
    this.ctes.push(text);
    if (!materialized) this.shapes.set(name, { text, body, outputs: null, appendable: false });
    return { name, columns, sqlNames, order, carried };
  }

  /**
   * Records that `src`'s body returns exactly `outputs` (SQL names, in order) and whether ORDER BY / LIMIT may be
   * appended to it; returns `src`.
   */
  private shaped(src: Source, outputs: readonly string[] | null, appendable: boolean): Source {
    const shape = this.shapes.get(src.name);
    if (shape) this.shapes.set(src.name, { ...shape, outputs, appendable });
    return src;
  }

  /** The SQL names of a source's visible columns, in order. */
  private visibleNames(src: Source): string[] {
    return src.columns.map((c) => src.sqlNames.get(c.name) as string);
  }

  /** The body of `src` when it is the last CTE and returns exactly its visible columns, in order; else null. */
  private lastBody(src: Source): { body: string; appendable: boolean } | null {
    const shape = this.shapes.get(src.name);
    if (!shape?.outputs || this.ctes[this.ctes.length - 1] !== shape.text) return null;
    if (src.order || src.carried.size > 0) return null;
    const visible = this.visibleNames(src);
    if (visible.length !== shape.outputs.length || visible.some((n, i) => n !== shape.outputs?.[i])) return null;
    return shape;
  }

  private col(src: Source, kqlName: string, alias?: string): string {
    const sql = src.sqlNames.get(kqlName);
    if (sql === undefined) throw new Error(`internal: column ${kqlName} not in ${src.name}`);
    return alias ? `${alias}.${this.q(sql)}` : this.q(sql);
  }

  /** The hidden columns of a source to carry along (order keys and carried columns), as quoted SQL names. */
  private carry(src: Source): string[] {
    return [...(src.order ?? []).map((o) => this.q(o.sql)), ...[...src.carried.values()].map((s) => this.q(s))];
  }

  /** sqlNames for a new relation's columns plus the carried hidden columns of its input. */
  private withCarried(names: Map<string, string>, src: Source): Map<string, string> {
    for (const [k, v] of src.carried) if (!names.has(k)) names.set(k, v);
    return names;
  }

  finish(src: Source): string {
    const folded = this.options.rowLimit === undefined && src.columns.length > 0 ? this.fold(src) : null;
    if (folded !== null) return this.finishWith(folded);
    const cols = src.columns.map((c, i) => `${this.col(src, c.name)} AS ${this.q(`c${i}`)}`);
    let sql = `SELECT ${cols.length ? cols.join(', ') : '1 AS "c0"'} FROM ${this.q(src.name)}`;
    if (src.order) sql += ` ORDER BY ${this.orderBy(src.order)}`;
    if (this.options.rowLimit !== undefined) sql += ` LIMIT ${this.options.rowLimit}`;
    return this.ctes.length ? `WITH ${this.recursive ? 'RECURSIVE ' : ''}${this.ctes.join(',\n')}\n${sql}` : sql;
  }

  /**
   * The final SELECT without a renaming layer over the last CTE: that CTE's body itself when it returns exactly
   * the result's columns (the engines name result columns by position), or for a final `sort | take` over such a
   * body, the body with ORDER BY / LIMIT appended. Each SQL layer costs DuckDB parse and bind time per query
   * (~1–2 ms for a wide table; bench/README.md). Null when nothing folds; the folded CTEs are removed.
   */
  private fold(src: Source): string | null {
    const sort = this.foldableSorts.get(src.name);
    const sortShape = this.shapes.get(src.name);
    if (sort && sortShape && this.ctes[this.ctes.length - 1] === sortShape.text && src.carried.size === 0) {
      const orderBy = sort.keys
        .map((k) => `${k.position} ${k.descending ? 'DESC' : 'ASC'} NULLS ${k.nullsFirst ? 'FIRST' : 'LAST'}`)
        .join(', ');
      this.ctes.pop();
      const inner = this.lastBody(sort.input);
      if (inner?.appendable) {
        this.ctes.pop();
        return `${inner.body} ORDER BY ${orderBy} LIMIT ${sort.limit}`;
      }
      const cols = this.visibleNames(sort.input).map((n) => this.q(n));
      return `SELECT ${cols.join(', ')} FROM ${this.q(sort.input.name)} ORDER BY ${orderBy} LIMIT ${sort.limit}`;
    }
    const last = this.lastBody(src);
    if (!last) return null;
    this.ctes.pop();
    return last.body;
  }

  /** The statement: the CTEs so far and a final SELECT over them. */
  finishWith(select: string): string {
    return this.ctes.length ? `WITH ${this.recursive ? 'RECURSIVE ' : ''}${this.ctes.join(',\n')}\n${select}` : select;
  }

  private orderBy(keys: readonly OrderKey[], alias?: string): string {
    return keys
      .map(
        (k) =>
          `${alias ? `${alias}.` : ''}${this.q(k.sql)} ${k.descending ? 'DESC' : 'ASC'} NULLS ${k.nullsFirst ? 'FIRST' : 'LAST'}`,
      )
      .join(', ');
  }

  // ───────────────────────────── relations ─────────────────────────────

  /** Relations already generated (a plan may share a sub-plan, e.g. mv-apply's numbered input). */
  private readonly generated = new Map<Rel, Source>();

  relation(rel: Rel): Source {
    const done = this.generated.get(rel);
    if (done) return done;
    const src = this.relationOnce(rel);
    this.generated.set(rel, src);
    return src;
  }

  /** `rel` as a FROM item: the table itself for a scan (with its filters) not generated yet, else its CTE. */
  private fromItem(rel: Rel): FromItem {
    const direct = this.directScan(rel);
    if (direct) return direct;
    const src = this.relation(rel);
    return { src, from: this.q(src.name), where: [] };
  }

  /** FROM item text with its WHERE conditions. */
  private fromClause(item: FromItem): string {
    return `${item.from}${item.where.length ? ` WHERE ${item.where.join(' AND ')}` : ''}`;
  }

  /**
   * A scan, or filters over one, read straight from the table; null when `rel` is something else, was generated
   * already (shared sub-plans keep their one CTE), carries the ingestion time, or its storage name could be taken
   * for one of the statement's CTE names (`q<n>`).
   */
  private directScan(rel: Rel): FromItem | null {
    if (this.generated.has(rel)) return null;
    if (rel.kind === 'filter') {
      if (hasWindow(rel.predicate)) return null;
      const inner = this.directScan(rel.input);
      if (!inner) return null;
      return { ...inner, where: [...inner.where, this.scalar(rel.predicate, { input: inner.src }).sql] };
    }
    if (rel.kind !== 'scan' || rel.ingestionTime) return null;
    const table = this.options.storage.table(rel.table);
    if (/^q\d+$/i.test(table)) return null;
    const names = this.sqlNamesFor(rel.columns);
    const storage = new Map(rel.columns.map((c) => [c.name, this.options.storage.column(rel.table, c.name)]));
    // `"x"` rather than `"x" AS "x"`: a shorter text for the engine to parse (wide tables list every column).
    const select = rel.columns.map((c) => {
      const from = storage.get(c.name) as string;
      const to = names.get(c.name) as string;
      return from === to ? this.q(to) : `${this.q(from)} AS ${this.q(to)}`;
    });
    const window = this.options.ingestionWindow;
    const where: string[] = [];
    if (window) {
      const it = this.q(this.options.storage.ingestionTime?.(rel.table) ?? '__ingestion_time');
      where.push(
        `${it} >= ${this.d.literal(window.start, 'datetime')}`,
        `${it} < ${this.d.literal(window.end, 'datetime')}`,
      );
    }
    return {
      src: { name: table, columns: rel.columns, sqlNames: storage, order: null, carried: NO_CARRY },
      from: this.q(table),
      where,
      direct: { select, names },
    };
  }

  /** The select list that gives a FROM item's relation its own columns (`*` for a CTE). */
  private ownColumns(item: FromItem): { select: string; names: ReadonlyMap<string, string> } {
    if (!item.direct) return { select: '*', names: item.src.sqlNames };
    return { select: item.direct.select.join(', ') || '1 AS "__none"', names: item.direct.names };
  }

  /** The output columns (SQL names, in order) of a directly read table's select list. */
  private directOutputs(item: FromItem): readonly string[] | null {
    const direct = item.direct;
    if (!direct || direct.select.length === 0) return null;
    return item.src.columns.map((c) => direct.names.get(c.name) as string);
  }

  private relationOnce(rel: Rel): Source {
    switch (rel.kind) {
      case 'scan': {
        const direct = this.directScan(rel);
        if (direct) {
          const own = this.ownColumns(direct);
          const src = this.cte(`SELECT ${own.select} FROM ${this.fromClause(direct)}`, rel.columns, own.names, null);
          return this.shaped(src, this.directOutputs(direct), true);
        }
        return this.scan(rel);
      }
      case 'values':
        return this.values(rel.columns, rel.rows);
      case 'range':
        return this.range(rel);
      case 'filter': {
        const direct = this.directScan(rel);
        if (direct) {
          const own = this.ownColumns(direct);
          const src = this.cte(`SELECT ${own.select} FROM ${this.fromClause(direct)}`, rel.columns, own.names, null);
          return this.shaped(src, this.directOutputs(direct), true);
        }
        const src = this.relation(rel.input);
        if (hasWindow(rel.predicate)) {
          // A predicate over row functions (`where prev(x) != x`): compute them first, filter on the result.
          const staged = this.stageWindows(src, [rel.predicate]);
          const pred = this.scalar(staged.exprs[0] as ScalarExpr, { input: staged.src });
          return this.cte(
            `SELECT * FROM ${this.q(staged.src.name)} WHERE ${pred.sql}`,
            src.columns,
            staged.src.sqlNames,
            staged.src.order,
            staged.src.carried,
          );
        }
        const pred = this.scalar(rel.predicate, { input: src });
        const filtered = this.cte(
          `SELECT * FROM ${this.q(src.name)} WHERE ${pred.sql}`,
          src.columns,
          src.sqlNames,
          src.order,
          src.carried,
        );
        return this.shaped(filtered, this.shapes.get(src.name)?.outputs ?? null, true);
      }
      case 'project':
      case 'window':
        if (!rel.exprs.some(hasWindow)) {
          const direct = this.directScan(rel.input);
          if (direct) return this.project(direct.src, rel.columns, rel.exprs, direct);
        }
        return this.project(this.relation(rel.input), rel.columns, rel.exprs);
      case 'aggregate':
        return this.aggregate(rel.input, rel.keys, rel.aggregates, rel.columns);
      case 'sort': {
        const src = this.relation(rel.input);
        return this.sort(src, rel.keys);
      }
      case 'limit': {
        if (rel.input.kind === 'sort' && !this.generated.has(rel.input)) {
          return this.sort(this.relation(rel.input.input), rel.input.keys, this.limitCount(rel.count).sql);
        }
        const item = this.fromItem(rel.input);
        const src = item.src;
        const n = this.limitCount(rel.count);
        const order = src.order ? ` ORDER BY ${this.orderBy(src.order)}` : '';
        const own = this.ownColumns(item);
        const limited = this.cte(
          `SELECT ${own.select} FROM ${this.fromClause(item)}${order} LIMIT ${n.sql}`,
          src.columns,
          own.names,
          src.order,
          src.carried,
        );
        const outputs = item.direct ? this.directOutputs(item) : (this.shapes.get(src.name)?.outputs ?? null);
        return this.shaped(limited, outputs, false);
      }
      case 'distinct': {
        const src = this.relation(rel.input);
        const cols = src.columns.map((c) => this.col(src, c.name));
        const distinct = this.cte(
          `SELECT DISTINCT ${cols.join(', ') || '1 AS "__none"'} FROM ${this.q(src.name)}`,
          src.columns,
          new Map([...src.columns].map((c) => [c.name, src.sqlNames.get(c.name) as string])),
          null,
        );
        return this.shaped(distinct, cols.length ? this.visibleNames(src) : null, true);
      }
      case 'join':
        return this.join(rel);
      case 'union':
        return this.union(rel);
      case 'mv-expand':
        return this.mvExpand(rel);
      case 'ref': {
        const b = this.bindings.get(rel.name);
        if (!b) throw new Error(`internal: unknown binding ${rel.name}`);
        return b;
      }
      case 'with': {
        for (const binding of rel.bindings) {
          const src = this.relation(binding.rel);
          const named = binding.materialized
            ? this.cte(`SELECT * FROM ${this.q(src.name)}`, src.columns, src.sqlNames, src.order, src.carried, true)
            : src;
          this.bindings.set(binding.name, named);
        }
        return this.relation(rel.body);
      }
      case 'make-series':
        return this.makeSeries(rel);
    }
  }

  private scan(rel: Rel & { kind: 'scan' }): Source {
    const names = this.sqlNamesFor(rel.columns);
    const table = this.options.storage.table(rel.table);
    const cols = rel.columns.map(
      (c) => `${this.q(this.options.storage.column(rel.table, c.name))} AS ${this.q(names.get(c.name) as string)}`,
    );
    let carried: ReadonlyMap<string, string> = NO_CARRY;
    if (rel.ingestionTime) {
      const sql = this.hidden('it');
      const storage = this.options.storage.ingestionTime?.(rel.table) ?? '__ingestion_time';
      cols.push(`${this.q(storage)} AS ${this.q(sql)}`);
      names.set(INGESTION_TIME, sql);
      carried = new Map([[INGESTION_TIME, sql]]);
    }
    const window = this.options.ingestionWindow;
    let where = '';
    if (window) {
      const it = this.q(this.options.storage.ingestionTime?.(rel.table) ?? '__ingestion_time');
      where =
        ` WHERE ${it} >= ${this.d.literal(window.start, 'datetime')}` +
        ` AND ${it} < ${this.d.literal(window.end, 'datetime')}`;
    }
    return this.cte(
      `SELECT ${cols.join(', ') || '1 AS "__none"'} FROM ${this.q(table)}${where}`,
      rel.columns,
      names,
      null,
      carried,
    );
  }

  private values(columns: readonly PlanColumn[], rows: readonly (readonly ScalarExpr[])[]): Source {
    const names = this.sqlNamesFor(columns);
    const aliases = columns.map((c) => this.q(names.get(c.name) as string));
    if (rows.length === 0) {
      const cols = columns.map((c, i) => `${this.cast(this.d.nullOf(c.type), c.type)} AS ${aliases[i]}`);
      return this.cte(`SELECT ${cols.join(', ') || '1 AS "__none"'} WHERE false`, columns, names, null);
    }
    // A row-number column keeps datatable's row order.
    const order = this.hidden('o');
    const selects = rows.map((row, r) => {
      const cells = columns.map((c, i) => {
        const e = row[i];
        const v = e ? this.scalar(e, { input: null }).sql : this.d.nullOf(c.type);
        return `${this.cast(v, c.type)} AS ${aliases[i]}`;
      });
      return `SELECT ${[...cells, `${r} AS ${this.q(order)}`].join(', ')}`;
    });
    return this.cte(selects.join(' UNION ALL '), columns, names, [
      { sql: order, descending: false, nullsFirst: false },
    ]);
  }

  /**
   * A LIMIT count: a plain integer when it is an integer literal. DuckDB treats `LIMIT CAST(10 AS BIGINT)` as a
   * limit computed at run time and plans it more slowly (measured: ~10% of a 10-row take over a wide table).
   */
  private limitCount(e: ScalarExpr): { sql: string } {
    if (e.kind === 'lit' && /^[0-9]{1,18}$/.test(String(e.value))) return { sql: String(e.value) };
    return this.scalar(e, { input: null });
  }

  private cast(sql: string, type: ColumnType): string {
    if (type === 'unknown') return sql;
    return `CAST(${sql} AS ${this.d.types[type]})`;
  }

  private op(name: string, args: SqlArg[], type: ColumnType): SqlArg {
    const t = this.d.operators[name];
    if (!t) throw new SqlUnsupported(`operator ${name}`);
    return { sql: `(${t(args, this.ctx(type))})`, type, expr: lit('long', null) };
  }

  private range(rel: Rel & { kind: 'range' }): Source {
    const names = this.sqlNamesFor(rel.columns);
    const col = rel.columns[0] as PlanColumn;
    const f = { input: null };
    const from = this.scalar(rel.from, f);
    const to = this.scalar(rel.to, f);
    const step = this.scalar(rel.step, f);
    const diff = this.op('Subtract', [to, from], from.type === 'datetime' ? 'timespan' : from.type);
    const count = this.op(
      'Divide',
      [diff, step],
      from.type === 'datetime' || from.type === 'timespan' ? 'real' : step.type,
    );
    const order = this.hidden('o');
    const i: SqlArg = { sql: this.q(order), type: 'long', expr: lit('long', null) };
    const offset = this.op('Multiply', [i, step], step.type === 'timespan' ? 'timespan' : step.type);
    const value = this.op('Add', [from, offset], col.type);
    const last = `CAST(floor(${count.sql}) AS ${this.d.types.long})`;
    const series =
      this.d.relational.series?.(last, this.q(order)) ?? `generate_series(0, ${last}) AS t(${this.q(order)})`;
    const body = `SELECT ${this.cast(value.sql, col.type)} AS ${this.q(names.get(col.name) as string)}, ${this.q(order)} FROM ${series}`;
    return this.cte(body, rel.columns, names, [{ sql: order, descending: false, nullsFirst: false }]);
  }

  private project(
    input: Source,
    columns: readonly PlanColumn[],
    exprList: readonly ScalarExpr[],
    item?: FromItem,
  ): Source {
    const windowed = this.stageWindows(input, exprList);
    const tupled = this.stageTuples(windowed.src, windowed.exprs, item);
    const { src, exprs } = tupled;
    item = tupled.item;
    const names = this.withCarried(this.sqlNamesFor(columns), src);
    const frame: Frame = { input: src };
    const cols = columns.map((c, i) => {
      const e = this.scalar(exprs[i] as ScalarExpr, frame);
      // parse_version's decimal has up to 32 integer digits (typed DECIMAL(38,0) by the dialect): the storage
      // decimal's 20 would overflow, so it keeps its own type.
      const wide = e.expr.kind === 'call' && e.expr.fn === 'parse_version';
      const sql = wide ? e.sql : this.cast(e.sql, c.type === 'unknown' ? e.type : c.type);
      return `${sql} AS ${this.q(names.get(c.name) as string)}`;
    });
    const select = [...cols, ...this.carry(src).filter((c) => !cols.some((x) => x.endsWith(` AS ${c}`)))];
    const open = columns.filter((c) => isOpenBag(c.name));
    const carried = new Map([...src.carried].filter(([k]) => !isOpenBag(k) || open.length === 0));
    for (const c of open) carried.set(c.name, names.get(c.name) as string);
    const projected = this.cte(
      `SELECT ${select.join(', ') || '1 AS "__none"'} FROM ${item ? this.fromClause(item) : this.q(src.name)}`,
      columns.filter((c) => !isOpenBag(c.name)),
      names,
      src.order,
      carried,
    );
    const exact = select.length === cols.length && cols.length > 0;
    return this.shaped(projected, exact ? columns.map((c) => names.get(c.name) as string) : null, true);
  }

  /**
   * A tuple-valued call read more than once (`extend (a, b) = series_fit_line(x)`: one `__tuple_element` per
   * element) is computed once, into a hidden column of a CTE of its own, and each element reads that column.
   */
  private stageTuples(
    input: Source,
    exprList: readonly ScalarExpr[],
    item: FromItem | undefined,
  ): { src: Source; exprs: ScalarExpr[]; item: FromItem | undefined } {
    const tupleOf = (x: ScalarExpr): ScalarExpr | null =>
      x.kind === 'call' && x.fn === '__tuple_element' && x.args[0] && !hasWindow(x.args[0]) ? x.args[0] : null;
    const counts = new Map<string, { expr: ScalarExpr; n: number }>();
    const count = (x: ScalarExpr): ScalarExpr => {
      const t = tupleOf(x);
      if (!t) return mapChildren(x, count);
      const key = JSON.stringify(t);
      const entry = counts.get(key) ?? { expr: t, n: 0 };
      entry.n++;
      counts.set(key, entry);
      return x;
    };
    for (const e of exprList) count(e);
    const shared = [...counts].filter(([, v]) => v.n > 1);
    if (shared.length === 0) return { src: input, exprs: [...exprList], item };
    const own = item ? this.ownColumns(item) : { select: '*', names: input.sqlNames };
    const names = new Map(own.names);
    const hidden = new Map<string, string>();
    const extra = shared.map(([key, v]) => {
      const name = this.hidden('t');
      hidden.set(key, name);
      names.set(`\u0000${name}`, name);
      return `${this.scalar(v.expr, { input }).sql} AS ${this.q(name)}`;
    });
    const from = item ? this.fromClause(item) : this.q(input.name);
    const src = this.cte(
      `SELECT ${[own.select, ...extra].join(', ')} FROM ${from}`,
      input.columns,
      names,
      input.order,
      input.carried,
    );
    const replace = (x: ScalarExpr): ScalarExpr => {
      const t = tupleOf(x);
      const name = t ? hidden.get(JSON.stringify(t)) : undefined;
      if (!t || name === undefined) return mapChildren(x, replace);
      const rest = x.kind === 'call' ? x.args.slice(1) : [];
      return { ...x, args: [{ kind: 'col', name: `\u0000${name}`, type: 'unknown' }, ...rest] } as ScalarExpr;
    };
    return { src, exprs: exprList.map(replace), item: undefined };
  }

  // ───────────────────────────── window functions ─────────────────────────────

  /** Numbers the rows in their current order (storage order when there is none) so windows see a total order. */
  private serialize(src: Source): Source {
    const sql = this.hidden('s');
    const over = src.order ? `ORDER BY ${this.orderBy(src.order)}` : '';
    const order: OrderKey[] = [{ sql, descending: false, nullsFirst: false }];
    const names = new Map(src.sqlNames);
    return this.cte(
      `SELECT *, row_number() OVER (${over}) AS ${this.q(sql)} FROM ${this.q(src.name)}`,
      src.columns,
      names,
      order,
      src.carried,
    );
  }

  /**
   * Computes the window calls of `exprs` into hidden columns (innermost first, one CTE per nesting level) and
   * returns the expressions with those calls replaced by column references.
   */
  private stageWindows(input: Source, exprList: readonly ScalarExpr[]): { src: Source; exprs: ScalarExpr[] } {
    if (!exprList.some(hasWindow)) return { src: input, exprs: [...exprList] };
    let src = this.serialize(input);
    let exprs = exprList.map((e) => mapExpr(e, (x) => (x.kind === 'win' ? expandWindow(x) : x)));
    const scans = new Map<string, string>();
    const spec = (partition: readonly ScalarExpr[] | undefined, s: Source): WindowSpec => ({
      partitionBy: (partition ?? []).map((p) => this.scalar(p, { input: s }).sql),
      orderBy: this.orderBy(src.order ?? []),
    });
    for (let level = 0; exprs.some(hasWindow); level++) {
      if (level > 50) throw new SqlUnsupported('Row functions nested this deeply');
      const found = new Map<string, { name: string; sql: string; type: ColumnType }>();
      const current = src;
      const replace = (x: ScalarExpr): ScalarExpr => {
        if (x.kind !== 'win' || x.args.some(hasWindow) || (x.partition ?? []).some(hasWindow)) {
          return mapChildren(x, replace);
        }
        if (x.fn === '$scan') {
          // scan's state machine: a recursive query joined to the rows, its struct a hidden column.
          const key = JSON.stringify(x);
          let name = scans.get(key);
          if (!name) {
            const staged = this.scanState(x, src);
            src = staged.src;
            name = staged.column;
            scans.set(key, name);
          }
          return { kind: 'col', name: `\u0000${name}`, type: 'unknown' };
        }
        {
          const key = JSON.stringify(x);
          let entry = found.get(key);
          if (!entry) {
            const t = this.d.relational.windows[x.fn];
            if (!t) throw new SqlUnsupported(`The function ${x.fn}()`);
            const args = x.args.map((a) => this.scalar(a, { input: current }));
            entry = {
              name: this.hidden('w'),
              sql: t(args, spec(x.partition, current), this.ctx(x.type)),
              type: x.type,
            };
            found.set(key, entry);
          }
          return { kind: 'col', name: `\u0000${entry.name}`, type: x.type };
        }
      };
      exprs = exprs.map(replace);
      if (found.size === 0) continue;
      const names = new Map(src.sqlNames);
      const extra: string[] = [];
      for (const f of found.values()) {
        names.set(`\u0000${f.name}`, f.name);
        extra.push(`${f.sql} AS ${this.q(f.name)}`);
      }
      src = this.cte(
        `SELECT *, ${extra.join(', ')} FROM ${this.q(src.name)}`,
        src.columns,
        names,
        src.order,
        src.carried,
      );
    }
    return { src, exprs };
  }

  // ───────────────────────────── scan ─────────────────────────────

  /**
   * scan's state machine (plan: a `$scan` window call, see lower.ts scanOp) as a recursive query over the rows of
   * each partition in order. Per step k the state holds whether a sequence is at k (A), its match id (I) and the
   * snapshots its steps matched (V: the columns the steps reference as `s_j.c`); an empty state holds the declared
   * defaults. For each row, steps are tried from the last to the first, as Kusto does: step k takes the sequence
   * of step k-1 when its condition holds over that sequence (the sequence advances; step k-1 empties), or else
   * keeps its own sequence when the condition holds over it; step 1 starts a sequence (a new match id) when empty.
   * The row's result is a struct: per step, matched, match id and the declared values after its assignments.
   * Cost: one recursion per row of the largest partition.
   */
  private scanState(e: ScalarExpr & { kind: 'win' }, src: Source): { src: Source; column: string } {
    const specArg = e.args[0];
    if (specArg?.kind !== 'lit') throw new Error('internal: malformed scan');
    const spec = specArg.value as unknown as {
      steps: { name: string; output: string; cond: number; assigns: [number, number][] }[];
      declared: { name: string; type: ColumnType; dflt: number }[];
    };
    const arg = (i: number): ScalarExpr => {
      const a = e.args[i];
      if (!a) throw new Error('internal: malformed scan');
      return a;
    };
    const n = spec.steps.length;
    // The state columns the steps read: `s_j.c` references.
    const refCols: { name: string; type: ColumnType }[] = [];
    const collect = (x: ScalarExpr): ScalarExpr => {
      if (x.kind === 'call' && x.fn === '__scan_ref') {
        const c = x.args[1];
        const name = c?.kind === 'lit' ? String(c.value) : '';
        if (!refCols.some((r) => r.name === name)) refCols.push({ name, type: x.type });
      }
      return mapChildren(x, collect);
    };
    for (const a of e.args.slice(1)) collect(a);
    const q = (x: string) => this.q(x);
    const A = (k: number) => `__sA${k}`;
    const I = (k: number) => `__sI${k}`;
    const V = (k: number, j: number, c: number) => `__sV${k}_${j}_${c}`;
    const E = (k: number) => `__sE${k}`;
    const M = (k: number) => `__sM${k}`;
    const D = (k: number, d: number) => `__sD${k}_${d}`;
    const F = (k: number, kind: 'a' | 's') => `__sF${k}${kind}`;
    const declaredIndex = (name: string) => spec.declared.findIndex((d) => d.name === name);
    const dflt = (d: number) => this.scalar(arg((spec.declared[d] as { dflt: number }).dflt), { input: null });
    // The value a state column takes when empty: the declared default, or null for an input column.
    const emptyValue = (c: number): string => {
      const r = refCols[c] as { name: string; type: ColumnType };
      const d = declaredIndex(r.name);
      return this.cast(d >= 0 ? dflt(d).sql : this.d.nullOf(r.type), r.type);
    };
    // Compiles a step expression reading step states through `state(j)` (the V columns of step j's snapshot).
    const compile = (x: ScalarExpr, state: (j: number) => number | null): string => {
      const names = new Map(src.sqlNames);
      const rewrite = (y: ScalarExpr): ScalarExpr => {
        if (y.kind === 'call' && y.fn === '__scan_ref') {
          const j = Number((y.args[0] as { value: unknown }).value);
          const c = refCols.findIndex((r) => r.name === String((y.args[1] as { value: unknown }).value));
          const k = state(j);
          if (k === null) throw new SqlUnsupported('a scan step reading a later step');
          const name = `\u0001${V(k, j, c)}`;
          names.set(name, V(k, j, c));
          return { kind: 'col', name, type: y.type };
        }
        return mapChildren(y, rewrite);
      };
      const rewritten = rewrite(x);
      const frame: Source = { ...src, name: 'x', sqlNames: names };
      return this.scalar(rewritten, { input: frame }).sql;
    };
    // A snapshot value when step k matches: the row's column, or the declared column after k's assignments.
    const snapshot = (k: number, c: number, state: (j: number) => number | null): string => {
      const r = refCols[c] as { name: string; type: ColumnType };
      const d = declaredIndex(r.name);
      if (d < 0) return this.col(src, r.name);
      return declaredAfter(k, d, state);
    };
    const declaredAfter = (k: number, d: number, state: (j: number) => number | null): string => {
      const step = spec.steps[k - 1] as { assigns: [number, number][] };
      const assign = step.assigns.find(([x]) => x === d);
      const t = (spec.declared[d] as { type: ColumnType }).type;
      // The binder may leave a call over `s_j.c` untyped (a tuple to ClickHouse's templates); its value has the
      // declared type.
      const value = (x: ScalarExpr): ScalarExpr => (x.kind === 'call' && x.type === 'unknown' ? { ...x, type: t } : x);
      return this.cast(assign ? compile(value(arg(assign[1])), state) : dflt(d).sql, t);
    };
    const stateCols: { name: string; init: string }[] = [];
    const long = this.d.types.long;
    for (let k = 1; k <= n; k++) {
      stateCols.push({ name: A(k), init: 'FALSE' }, { name: I(k), init: this.d.nullOf('long') });
      for (let j = 1; j <= k; j++) {
        for (let c = 0; c < refCols.length; c++) stateCols.push({ name: V(k, j, c), init: emptyValue(c) });
      }
    }
    stateCols.push({ name: '__sN', init: `CAST(0 AS ${long})` });
    const outCols: { name: string; init: string }[] = [];
    for (let k = 1; k <= n; k++) {
      outCols.push({ name: E(k), init: 'FALSE' }, { name: M(k), init: this.d.nullOf('long') });
      spec.declared.forEach((d, i) => {
        outCols.push({ name: D(k, i), init: this.cast(this.d.nullOf(d.type), d.type) });
      });
      outCols.push({ name: F(k, 'a'), init: 'FALSE' }, { name: F(k, 's'), init: 'FALSE' });
    }
    // The rows, numbered within their partition.
    const partition = (e.partition ?? []).map((p) => this.scalar(p, { input: src }).sql);
    const pk = partition.length
      ? partition.length === 1
        ? (partition[0] as string)
        : `[${partition.join(', ')}]`
      : '0';
    const rowNumber = this.d.relational.windows.$row_number;
    if (!rowNumber) throw new SqlUnsupported('scan');
    const srn = rowNumber([], { partitionBy: partition, orderBy: this.orderBy(src.order ?? []) }, this.ctx('long'));
    const rows = this.cte(
      `SELECT *, ${pk} AS "__spk", ${srn} AS "__srn" FROM ${q(src.name)}`,
      src.columns,
      src.sqlNames,
      src.order,
      src.carried,
    );
    const all = [...stateCols, ...outCols];
    const recName = `q${this.counter++}`;
    const anchor = `SELECT DISTINCT "__spk", CAST(0 AS ${long}) AS "__srn", ${all.map((c) => `${c.init} AS ${q(c.name)}`).join(', ')} FROM ${q(rows.name)}`;
    // The recursive step: one nested SELECT per update, each replacing the columns it computes.
    // The row's columns: `r.*`, or each by name where a star over a join would qualify the names both sides have.
    const rowCols = this.d.capabilities.qualifiedJoinStar
      ? [...new Set([...[...src.sqlNames.values()].map((n) => this.q(n)), ...this.carry(src), '"__spk"', '"__srn"'])]
          .map((c) => `r.${c} AS ${c}`)
          .join(', ')
      : 'r.*';
    let level = `SELECT ${all.map((c) => `p.${q(c.name)}`).join(', ')}, ${rowCols} FROM ${q(recName)} AS p JOIN ${q(rows.name)} AS r ON r."__spk" IS NOT DISTINCT FROM p."__spk" AND r."__srn" = p."__srn" + 1`;
    const replace = (updates: [string, string][]) => {
      level = `SELECT * REPLACE (${updates.map(([c, v]) => `${v} AS ${q(c)}`).join(', ')}) FROM (${level}) AS x`;
    };
    for (let k = n; k >= 1; k--) {
      const step = spec.steps[k - 1] as { cond: number; output: string };
      const cond = arg(step.cond);
      const own = (j: number) => (j <= k ? k : null);
      if (k >= 2) {
        const prev = (j: number) => (j <= k - 1 ? k - 1 : j === k ? k : null);
        replace([
          [F(k, 'a'), `(${A(k - 1)} AND COALESCE(${compile(cond, prev)}, FALSE))`],
          [F(k, 's'), `(${A(k)} AND COALESCE(${compile(cond, own)}, FALSE))`],
        ]);
        replace([[F(k, 's'), `(${F(k, 's')} AND NOT ${F(k, 'a')})`]]);
        const upd: [string, string][] = [
          [A(k), `(${A(k)} OR ${F(k, 'a')})`],
          [I(k), `CASE WHEN ${F(k, 'a')} THEN ${I(k - 1)} ELSE ${I(k)} END`],
          [A(k - 1), `(${A(k - 1)} AND NOT ${F(k, 'a')})`],
        ];
        refCols.forEach((_r, c) => {
          for (let j = 1; j < k; j++) {
            upd.push([V(k, j, c), `CASE WHEN ${F(k, 'a')} THEN ${V(k - 1, j, c)} ELSE ${V(k, j, c)} END`]);
            upd.push([V(k - 1, j, c), `CASE WHEN ${F(k, 'a')} THEN ${emptyValue(c)} ELSE ${V(k - 1, j, c)} END`]);
          }
          upd.push([
            V(k, k, c),
            `CASE WHEN ${F(k, 'a')} THEN ${snapshot(k, c, prev)} WHEN ${F(k, 's')} THEN ${snapshot(k, c, own)} ELSE ${V(k, k, c)} END`,
          ]);
        });
        upd.push([E(k), `(${F(k, 'a')} OR ${F(k, 's')})${step.output === 'none' ? ' AND FALSE' : ''}`]);
        upd.push([M(k), `CASE WHEN ${F(k, 'a')} THEN ${I(k - 1)} ELSE ${I(k)} END`]);
        spec.declared.forEach((_d, i) => {
          upd.push([
            D(k, i),
            `CASE WHEN ${F(k, 'a')} THEN ${declaredAfter(k, i, prev)} ELSE ${declaredAfter(k, i, own)} END`,
          ]);
        });
        replace(upd);
      } else {
        replace([[F(1, 's'), `COALESCE(${compile(cond, own)}, FALSE)`]]);
        const upd: [string, string][] = [
          [A(1), `(${A(1)} OR ${F(1, 's')})`],
          [I(1), `CASE WHEN ${F(1, 's')} AND NOT ${A(1)} THEN "__sN" ELSE ${I(1)} END`],
          ['__sN', `"__sN" + CASE WHEN ${F(1, 's')} AND NOT ${A(1)} THEN 1 ELSE 0 END`],
          [E(1), `${F(1, 's')}${step.output === 'none' ? ' AND FALSE' : ''}`],
          [M(1), `CASE WHEN ${F(1, 's')} AND NOT ${A(1)} THEN "__sN" ELSE ${I(1)} END`],
        ];
        refCols.forEach((_r, c) => {
          upd.push([V(1, 1, c), `CASE WHEN ${F(1, 's')} THEN ${snapshot(1, c, own)} ELSE ${V(1, 1, c)} END`]);
        });
        spec.declared.forEach((_d, i) => {
          upd.push([D(1, i), declaredAfter(1, i, own)]);
        });
        replace(upd);
      }
    }
    const recursive = `SELECT "__spk", "__srn", ${all.map((c) => q(c.name)).join(', ')} FROM (${level})`;
    this.recursive = true;
    this.ctes.push(`${q(recName)} AS (
  ${anchor}
  UNION ALL
  ${recursive}
)`);
    // The struct per row: for each step, matched, match id, then the declared values.
    const fields: [string, string][] = [];
    for (let k = 1; k <= n; k++) {
      fields.push([`e${k}`, `s.${q(E(k))}`], [`m${k}`, `s.${q(M(k))}`]);
      for (let i = 0; i < spec.declared.length; i++) fields.push([`d${k}_${i}`, `s.${q(D(k, i))}`]);
    }
    const column = this.hidden('scan');
    const names = new Map(src.sqlNames);
    names.set(`\u0000${column}`, column);
    const cols = [...src.columns.map((c) => `r.${this.col(src, c.name)}`), ...this.carry(src).map((c) => `r.${c}`)];
    const joined = this.cte(
      `SELECT ${[...cols, `${this.d.relational.struct(fields)} AS ${q(column)}`].join(', ')} FROM ${q(rows.name)} AS r JOIN ${q(recName)} AS s ON s."__spk" IS NOT DISTINCT FROM r."__spk" AND s."__srn" = r."__srn"`,
      src.columns,
      names,
      src.order,
      src.carried,
    );
    return { src: joined, column };
  }

  // ───────────────────────────── aggregation ─────────────────────────────

  private aggregate(
    inputRel: Rel,
    keys: readonly NamedScalar[],
    aggregates: readonly NamedScalar[],
    columns: readonly PlanColumn[],
  ): Source {
    const item = this.fromItem(inputRel);
    const src = item.src;
    const names = this.sqlNamesFor(columns);
    const frame: Frame = { input: src };
    const groups = this.collectGroups(aggregates.map((a) => a.expr));
    const select: string[] = [];
    keys.forEach((k, i) => {
      const c = columns[i] as PlanColumn;
      select.push(`${this.scalar(k.expr, frame).sql} AS ${this.q(names.get(c.name) as string)}`);
    });
    aggregates.forEach((a, i) => {
      const c = columns[keys.length + i] as PlanColumn;
      const e = this.scalar(a.expr, frame, groups);
      select.push(
        `${this.cast(e.sql, c.type === 'unknown' ? e.type : c.type)} AS ${this.q(names.get(c.name) as string)}`,
      );
    });
    const groupBy = keys.length ? ` GROUP BY ${keys.map((_, i) => i + 1).join(', ')}` : '';
    const open = columns.filter((c) => isOpenBag(c.name));
    const aggregated = this.cte(
      `SELECT ${select.join(', ')} FROM ${this.fromClause(item)}${groupBy}`,
      columns.filter((c) => !isOpenBag(c.name)),
      names,
      null,
      new Map(open.map((c) => [c.name, names.get(c.name) as string])),
    );
    return this.shaped(
      aggregated,
      columns.map((c) => names.get(c.name) as string),
      true,
    );
  }

  /** The elements of each multi-column aggregate (`agg` nodes sharing a `group`), in order of appearance. */
  private collectGroups(exprs: readonly ScalarExpr[]): Map<string, (ScalarExpr & { kind: 'agg' })[]> {
    const groups = new Map<string, (ScalarExpr & { kind: 'agg' })[]>();
    for (const e of exprs) {
      mapExpr(e, (x) => {
        if (x.kind === 'agg' && x.group !== undefined) {
          const list = groups.get(x.group) ?? [];
          if (!list.some((y) => JSON.stringify(y) === JSON.stringify(x))) list.push(x);
          groups.set(x.group, list);
        }
        return x;
      });
    }
    return groups;
  }

  /**
   * One element of a multi-column aggregate: the aggregate runs over a struct of all the group's values (the
   * last argument of each element) and the element reads its field, so all elements come from the same row.
   */
  private groupElement(
    e: ScalarExpr & { kind: 'agg' },
    group: readonly (ScalarExpr & { kind: 'agg' })[],
    frame: Frame,
  ): SqlArg {
    const t = this.d.aggregates[e.fn];
    if (!t) throw new SqlUnsupported(`The aggregate ${e.fn}()`);
    const index = group.findIndex((x) => JSON.stringify(x) === JSON.stringify(e));
    const leading = e.args.slice(0, -1).map((a) => this.scalar(a, frame));
    const fields = group.map((x, i) => {
      const v = x.args[x.args.length - 1];
      return [`f${i}`, v ? this.scalar(v, frame).sql : 'NULL'] as const;
    });
    const struct: SqlArg = { sql: this.d.relational.struct(fields), type: 'dynamic', expr: e };
    const whole = t([...leading, struct], this.ctx('dynamic', this.inputOrder(frame)));
    return { sql: this.d.relational.structField(whole, `f${index}`), type: e.type, expr: e };
  }

  // ───────────────────────────── make-series ─────────────────────────────

  private makeSeries(rel: Rel & { kind: 'make-series' }): Source {
    const build = this.d.relational.makeSeries;
    if (!build) throw new SqlUnsupported('make-series');
    const src = this.relation(rel.input);
    const frame: Frame = { input: src };
    const names = this.sqlNamesFor(rel.columns);
    const alias = (name: string) => this.q(names.get(name) as string);
    const f = { input: null };
    const axisType = rel.axis.expr.type;
    const numeric = (t: ColumnType) => t === 'int' || t === 'long' || t === 'real' || t === 'decimal';
    for (const bound of [rel.from, rel.to]) {
      if (bound && bound.type !== axisType && !(numeric(bound.type) && numeric(axisType))) {
        throw new SqlUnsupported(`make-series with a ${bound.type} bound on a ${axisType} axis`);
      }
    }
    const body = build(
      {
        input: this.q(src.name),
        keys: rel.keys.map((k) => ({ sql: this.scalar(k.expr, frame).sql, alias: alias(k.name) })),
        aggregates: rel.aggregates.map((a) => ({
          value: this.scalar(a.expr, frame),
          default: this.scalar(a.defaultValue, f),
          alias: alias(a.name),
        })),
        axis: this.scalar(rel.axis.expr, frame),
        axisAlias: alias(rel.axis.name),
        from: rel.from ? this.scalar(rel.from, f) : null,
        to: rel.to ? this.scalar(rel.to, f) : null,
        step: this.scalar(rel.step, f),
        nonEmpty: rel.nonEmpty === true,
      },
      this.ctx('dynamic'),
    );
    return this.cte(body, rel.columns, names, null);
  }

  // ───────────────────────────── sort, join, union, mv-expand ─────────────────────────────

  /** `limit`: a `sort | take n` (or `top`) in one SELECT, which DuckDB runs as a top-N. */
  private sort(src: Source, keys: readonly SortKey[], limit?: string): Source {
    const frame: Frame = { input: src };
    const hidden = keys.map((k) => ({ key: k, sql: this.hidden('o'), value: this.scalar(k.expr, frame).sql }));
    const cols = src.columns.map((c) => this.col(src, c.name));
    const carried = [...src.carried.values()].map((s) => this.q(s));
    // Kusto's sort is stable: rows that tie keep their previous order (the input's order keys break ties).
    const previous = src.order ?? [];
    const select = [
      ...cols,
      ...carried,
      ...previous.map((o) => this.q(o.sql)),
      ...hidden.map((h) => `${h.value} AS ${this.q(h.sql)}`),
    ];
    const order = [
      ...hidden.map((h) => ({ sql: h.sql, descending: h.key.descending, nullsFirst: h.key.nullsFirst })),
      ...previous,
    ];
    const names = new Map([...src.columns].map((c) => [c.name, src.sqlNames.get(c.name) as string]));
    const top = limit === undefined ? '' : ` ORDER BY ${this.orderBy(order)} LIMIT ${limit}`;
    const sorted = this.cte(
      `SELECT ${select.join(', ')} FROM ${this.q(src.name)}${top}`,
      src.columns,
      this.withCarried(names, src),
      order,
      src.carried,
    );
    // A `sort | take` (top) by visible columns can become the statement's ORDER BY by position (see fold).
    const positions = keys.map((k) =>
      k.expr.kind === 'col' ? src.columns.findIndex((c) => c.name === (k.expr as { name: string }).name) + 1 : 0,
    );
    if (limit !== undefined && previous.length === 0 && src.carried.size === 0 && positions.every((p) => p > 0)) {
      this.foldableSorts.set(sorted.name, {
        input: src,
        keys: keys.map((k, i) => ({
          position: positions[i] as number,
          descending: k.descending,
          nullsFirst: k.nullsFirst,
        })),
        limit,
      });
    }
    return sorted;
  }

  private join(rel: Rel & { kind: 'join' }): Source {
    const left = this.relation(rel.left);
    const right = this.relation(rel.right);
    const frame: Frame = { input: null, left: { alias: 'l', source: left }, right: { alias: 'r', source: right } };
    // Kusto's join keys match when equal or both null.
    const conds = rel.on.map((k) => {
      const l = this.scalar(k.left, frame);
      const r = this.scalar(k.right, frame);
      return this.d.joinKeyEquals?.(l, r) ?? `${l.sql} IS NOT DISTINCT FROM ${r.sql}`;
    });
    if (rel.where) conds.push(this.scalar(rel.where, frame).sql);
    // A join on a condition alone (lookups by distance or range) where the engine needs an equality between sides.
    const [lc, rc] = [left.columns[0], right.columns[0]];
    if (rel.on.length === 0 && rel.where && this.d.joinWithoutKeys && lc && rc) {
      conds.unshift(this.d.joinWithoutKeys(this.col(left, lc.name, 'l'), this.col(right, rc.name, 'r')));
    }
    const on = conds.length ? conds.join(' AND ') : 'true';
    let leftFrom = this.q(left.name);
    if (rel.joinKind === 'innerunique') {
      // Kusto keeps one left row per key; with a known order, the first one.
      const keys = rel.on.map((k) => this.scalar(k.left, { input: left }).sql);
      const order = left.order ? ` ORDER BY ${[...keys, this.orderBy(left.order)].join(', ')}` : '';
      leftFrom = keys.length
        ? `(SELECT DISTINCT ON (${keys.join(', ')}) * FROM ${this.q(left.name)}${order})`
        : this.q(left.name);
    }
    const names = this.sqlNamesFor(rel.columns);
    const nullable = (side: 'left' | 'right'): boolean =>
      rel.joinKind === 'fullouter' ||
      (side === 'right' && rel.joinKind === 'leftouter') ||
      (side === 'left' && rel.joinKind === 'rightouter');
    const select = rel.output.map((o, i) => {
      const c = rel.columns[i] as PlanColumn;
      const src = o.side === 'left' ? left : right;
      let v = this.col(src, o.name, o.side === 'left' ? 'l' : 'r');
      if (c.type === 'string' && nullable(o.side)) v = `COALESCE(${v}, '')`;
      return `${v} AS ${this.q(names.get(c.name) as string)}`;
    });
    // Open bags (bag_unpack, pivot without a known schema) of the sides stay readable after the join.
    const carried = new Map<string, string>();
    const sides: [Source, string, boolean][] = [
      [left, 'l', joinReturns(rel.joinKind) !== 'right'],
      [right, 'r', joinReturns(rel.joinKind) !== 'left'],
    ];
    for (const [src, alias, visible] of sides) {
      if (!visible) continue;
      for (const [k, v] of src.carried) {
        if (!isOpenBag(k) || carried.has(k)) continue;
        const name = this.hidden('bag');
        select.push(`${alias}.${this.q(v)} AS ${this.q(name)}`);
        carried.set(k, name);
      }
    }
    const kind = rel.joinKind;
    let body: string;
    if (kind === 'leftsemi' || kind === 'leftanti') {
      body = `SELECT ${select.join(', ')} FROM ${leftFrom} AS l WHERE ${kind === 'leftanti' ? 'NOT ' : ''}EXISTS (SELECT 1 FROM ${this.q(right.name)} AS r WHERE ${on})`;
    } else if (kind === 'rightsemi' || kind === 'rightanti') {
      body = `SELECT ${select.join(', ')} FROM ${this.q(right.name)} AS r WHERE ${kind === 'rightanti' ? 'NOT ' : ''}EXISTS (SELECT 1 FROM ${leftFrom} AS l WHERE ${on})`;
    } else {
      const sqlKind = {
        innerunique: 'JOIN',
        inner: 'JOIN',
        leftouter: 'LEFT JOIN',
        rightouter: 'RIGHT JOIN',
        fullouter: 'FULL JOIN',
      }[kind];
      body = `SELECT ${select.join(', ')} FROM ${leftFrom} AS l ${sqlKind} ${this.q(right.name)} AS r ON ${on}`;
    }
    const cteNames = new Map(names);
    for (const [k, v] of carried) cteNames.set(k, v);
    const joined = this.cte(body, rel.columns, cteNames, null, carried);
    return this.shaped(joined, carried.size ? null : rel.columns.map((c) => names.get(c.name) as string), true);
  }

  private union(rel: Rel & { kind: 'union' }): Source {
    const names = this.sqlNamesFor(rel.columns);
    const hasSource = rel.sourceValues !== null;
    const dataColumns = hasSource ? rel.columns.slice(1) : rel.columns;
    // A wide union of tables that share few columns (search, find, `union *`): each leg selects only its own
    // columns and the engine fills the others, so the SQL grows with the number of columns, not legs × columns.
    const mapped = rel.mapping.reduce((n, m) => n + m.filter((x) => x !== null).length, 0);
    const byName =
      this.d.capabilities.unionByName === true &&
      rel.inputs.length > 2 &&
      mapped < 0.5 * rel.inputs.length * dataColumns.length;
    const sources = rel.inputs.map((input) => this.relation(input));
    // When every leg has a row order (datatables, sorted inputs), the union keeps it: leg by leg, in order.
    const ordered = !byName && sources.length > 0 && sources.every((src) => src.order !== null);
    const legKey = this.hidden('u');
    const rowKey = this.hidden('r');
    const parts = rel.inputs.map((_input, i) => {
      const src = sources[i] as Source;
      const mapping = rel.mapping[i] ?? [];
      const cols = dataColumns.flatMap((c, j) => {
        const from = mapping[j];
        if (byName && (from === null || from === undefined)) return [];
        const v = from !== null && from !== undefined ? this.col(src, from) : this.d.nullOf(c.type);
        return [`${this.cast(v, c.type)} AS ${this.q(names.get(c.name) as string)}`];
      });
      if (hasSource) {
        const first = rel.columns[0] as PlanColumn;
        cols.unshift(
          `${this.d.literal(rel.sourceValues?.[i] ?? '', 'string')} AS ${this.q(names.get(first.name) as string)}`,
        );
      }
      if (ordered) {
        cols.push(`${i} AS ${this.q(legKey)}`);
        cols.push(`row_number() OVER (ORDER BY ${this.orderBy(src.order ?? [])}) AS ${this.q(rowKey)}`);
      }
      return `SELECT ${cols.join(', ') || '1 AS "__none"'} FROM ${this.q(src.name)}`;
    });
    if (parts.length === 0) return this.values(rel.columns, []);
    if (byName) {
      // Columns no leg has, and strings a leg lacks (KQL strings are never null), are filled here.
      const all = rel.columns.map((c, j) => {
        const name = this.q(names.get(c.name) as string);
        const inSome = hasSource && j === 0 ? true : rel.mapping.some((m) => m[hasSource ? j - 1 : j] != null);
        if (!inSome) return `${this.cast(this.d.nullOf(c.type), c.type)} AS ${name}`;
        return c.type === 'string' ? `COALESCE(${name}, '') AS ${name}` : name;
      });
      return this.cte(
        `SELECT ${all.join(', ')} FROM (${parts.join('\nUNION ALL BY NAME\n')})`,
        rel.columns,
        names,
        null,
      );
    }
    const order: OrderKey[] | null = ordered
      ? [
          { sql: legKey, descending: false, nullsFirst: false },
          { sql: rowKey, descending: false, nullsFirst: false },
        ]
      : null;
    return this.cte(parts.join('\nUNION ALL\n'), rel.columns, names, order);
  }

  private mvExpand(rel: Rel & { kind: 'mv-expand' }): Source {
    const src = this.relation(rel.input);
    const names = this.withCarried(this.sqlNamesFor(rel.columns), src);
    const frame: Frame = { input: src };
    const expand = this.d.functions.__mv_expand_list;
    if (!expand) throw new SqlUnsupported('mv-expand');
    const itemNames = new Set(rel.items.map((i) => i.name));
    const strArg = (v: string): SqlArg => ({
      sql: this.d.literal(v, 'string'),
      type: 'string',
      literal: { value: v, type: 'string' },
      expr: lit('string', v),
    });
    const lists = rel.items.map((item) => {
      const e = this.scalar(item.expr, frame);
      return expand([e, strArg(rel.bagExpansion)], this.ctx('dynamic'));
    });
    const idx = this.hidden('i');
    const needIndex = rel.indexColumn !== null || rel.limit !== null || src.order !== null;
    // Expand in a sub-select: unnest zips several lists, padding the shorter ones with nulls, as Kusto does.
    const expandLists = this.d.relational.expandLists;
    const inner = expandLists
      ? ['*', ...expandLists(lists, needIndex && lists.length ? this.q(idx) : null)]
      : [
          '*',
          ...lists.map((l, i) => `unnest(${l}) AS "__v${i}"`),
          ...(needIndex && lists.length
            ? [`unnest(range(0, greatest(${lists.map((l) => `len(${l})`).join(', ')}))) AS ${this.q(idx)}`]
            : []),
        ];
    const cast = this.d.functions.__mv_expand_cast;
    const outCols = rel.columns.map((c) => {
      const alias = this.q(names.get(c.name) as string);
      const itemIndex = rel.items.findIndex((it) => it.name === c.name);
      if (itemIndex >= 0) {
        const v: SqlArg = { sql: `"__v${itemIndex}"`, type: 'dynamic', expr: lit('dynamic', null) };
        const typed = cast && c.type !== 'dynamic' ? cast([v, strArg(c.type)], this.ctx(c.type)) : v.sql;
        return `${typed} AS ${alias}`;
      }
      if (c.name === rel.indexColumn && !itemNames.has(c.name)) return `CAST(${this.q(idx)} AS BIGINT) AS ${alias}`;
      return `${this.col(src, c.name)} AS ${alias}`;
    });
    const order: OrderKey[] | null = src.order
      ? [...src.order, { sql: idx, descending: false, nullsFirst: false }]
      : null;
    const carry = [...this.carry(src), ...(src.order ? [this.q(idx)] : [])];
    const limit = rel.limit ? ` WHERE ${this.q(idx)} < ${this.scalar(rel.limit, { input: null }).sql}` : '';
    const body = `SELECT ${[...outCols, ...carry].join(', ')} FROM (SELECT ${inner.join(', ')} FROM ${this.q(src.name)})${limit}`;
    return this.cte(body, rel.columns, names, order, src.carried);
  }

  // ───────────────────────────── scalars ─────────────────────────────

  private ctx(resultType: ColumnType, withinOrder?: string): TemplateContext {
    return {
      resultType,
      dialect: this.d,
      unsupported: (reason: string) => {
        throw new SqlUnsupported(reason);
      },
      literal: (value: PlanValue, type: ScalarTypeName) => this.d.literal(value, type),
      ...(withinOrder ? { withinOrder } : {}),
    };
  }

  /**
   * A column the relation does not have, read from its open bag (bag_unpack/pivot results): the property named
   * like the column (minus the bag's prefix), as a dynamic value.
   */
  private openProperty(src: Source, name: string, alias?: string): SqlArg | null {
    for (const [kql, sql] of src.carried) {
      if (!isOpenBag(kql)) continue;
      const prefix = kql.slice(OPEN_BAG.length);
      if (!name.startsWith(prefix)) continue;
      const bag: SqlArg = {
        sql: alias ? `${alias}.${this.q(sql)}` : this.q(sql),
        type: 'dynamic',
        expr: lit('dynamic', null),
      };
      return { sql: this.d.path(bag, [name.slice(prefix.length)]), type: 'dynamic', expr: bag.expr };
    }
    return null;
  }

  /** The `ORDER BY` text of the frame's input order, for order-sensitive aggregates. */
  private inputOrder(frame: Frame): string | undefined {
    const order = frame.input?.order;
    return order ? this.orderBy(order) : undefined;
  }

  scalar(e: ScalarExpr, frame: Frame, groups?: ReadonlyMap<string, readonly (ScalarExpr & { kind: 'agg' })[]>): SqlArg {
    try {
      return this.scalarInner(e, frame, groups);
    } catch (err) {
      if (err instanceof SqlUnsupported && !err.span && 'span' in e && e.span) err.span = e.span;
      throw err;
    }
  }

  private scalarInner(
    e: ScalarExpr,
    frame: Frame,
    groups?: ReadonlyMap<string, readonly (ScalarExpr & { kind: 'agg' })[]>,
  ): SqlArg {
    const sub = (x: ScalarExpr) => this.scalar(x, frame, groups);
    switch (e.kind) {
      case 'col': {
        const side = e.side === 'left' ? frame.left : e.side === 'right' ? frame.right : undefined;
        if (side) {
          // A join side with an open bag (bag_unpack, pivot) reads a column it does not list from the bag.
          const open = side.source.sqlNames.has(e.name) ? null : this.openProperty(side.source, e.name, side.alias);
          if (open) return { ...open, expr: e };
          return { sql: this.col(side.source, e.name, side.alias), type: e.type, expr: e };
        }
        if (!frame.input) throw new Error(`internal: column ${e.name} outside of a row context`);
        // ingestion_time() where no table row is at hand (after summarize, on a datatable) is null, as in Kusto.
        if (e.name === INGESTION_TIME && !frame.input.sqlNames.has(e.name)) {
          return { sql: this.d.nullOf('datetime'), type: 'datetime', expr: e };
        }
        if (!frame.input.sqlNames.has(e.name)) {
          const open = this.openProperty(frame.input, e.name, frame.alias);
          if (open) return { ...open, expr: e };
        }
        return { sql: this.col(frame.input, e.name, frame.alias), type: e.type, expr: e };
      }
      case 'lit':
        return {
          sql: e.json !== undefined ? this.d.literal(e.value, e.type, e.json) : this.d.literal(e.value, e.type),
          type: e.type,
          literal: { value: e.value, type: e.type },
          expr: e,
        };
      case 'op': {
        const t = this.d.operators[e.op];
        if (!t) throw new SqlUnsupported(`The operator ${e.op}`);
        const args = e.args.map(sub);
        return { sql: `(${t(args, this.ctx(e.type))})`, type: e.type, expr: e };
      }
      case 'call': {
        if (e.fn === '__tuple_element') {
          const [value, element] = e.args;
          const index = element?.kind === 'lit' ? Number(element.value) : Number.NaN;
          if (!value || Number.isNaN(index)) throw new Error('internal: malformed tuple element');
          const v = sub(value);
          return { sql: this.d.relational.tupleElement(v.sql, '', index), type: e.type, expr: e };
        }
        const t = this.d.functions[e.fn];
        if (!t) throw new SqlUnsupported(`The function ${e.fn}()`);
        const args = e.args.map(sub);
        return { sql: t(args, this.ctx(e.type)), type: e.type, expr: e };
      }
      case 'agg': {
        const group = e.group !== undefined ? groups?.get(e.group) : undefined;
        if (group) return this.groupElement(e, group, frame);
        const t = this.d.aggregates[e.fn];
        if (!t) throw new SqlUnsupported(`The aggregate ${e.fn}()`);
        // count(x) of a non-bool value counts rows, as count() does (Kusto service; binder countOfValue).
        const counted = e.fn === 'count' && e.args.length === 1 && e.args[0]?.type !== 'bool';
        const args = counted ? [] : e.args.map(sub);
        return { sql: t(args, this.ctx(e.type, this.inputOrder(frame))), type: e.type, expr: e };
      }
      case 'path': {
        const base = sub(e.expr);
        const steps = e.path.map((s) => (typeof s === 'object' ? sub(s) : s));
        return { sql: this.d.path(base, steps), type: e.type, expr: e };
      }
      case 'subquery': {
        const src = this.relation(e.rel);
        const first = src.columns[0];
        if (!first) throw new SqlUnsupported('toscalar() of a table without columns');
        const order = src.order ? ` ORDER BY ${this.orderBy(src.order)}` : '';
        return {
          sql: this.d.scalarSubquery(`SELECT ${this.col(src, first.name)} FROM ${this.q(src.name)}${order} LIMIT 1`),
          type: e.type,
          expr: e,
        };
      }
      case 'in-rel': {
        const src = this.relation(e.rel);
        const first = src.columns[0];
        if (!first) throw new SqlUnsupported('in() over a table without columns');
        const value = sub(e.value);
        const t = this.d.operators[`${e.op}Subquery`];
        if (!t) throw new SqlUnsupported(`The operator ${e.op} over a table`);
        const subq: SqlArg = {
          sql: `SELECT ${this.col(src, first.name)} FROM ${this.q(src.name)}`,
          type: first.type,
          expr: e,
        };
        return { sql: `(${t([value, subq], this.ctx('bool'))})`, type: 'bool', expr: e };
      }
      case 'star': {
        const cols = e.columns.map((c) => sub({ kind: 'col', name: c.name, type: c.type }));
        return { sql: cols.map((c) => c.sql).join(', '), type: 'dynamic', expr: e };
      }
      case 'win':
        // Window calls are computed into hidden columns before the expression that uses them (stageWindows).
        throw new SqlUnsupported(`The function ${e.fn}() in this position`);
    }
  }
}
