/**
 * SQL generation: a logical plan becomes one SQL statement, a chain of CTEs (one per relation), through a
 * dialect's templates. Identifiers are always quoted and literals always escaped by the dialect, so no KQL text
 * reaches the SQL unquoted.
 *
 * Column names: KQL names are case-sensitive, SQL engines' are not, so every CTE column gets a SQL name that is
 * unique case-insensitively within its CTE; the final SELECT names result columns by position (`c0`, `c1`, ...)
 * and the caller maps them back to KQL names and types.
 *
 * Row order: after a `sort`, the sort keys travel as hidden columns through order-preserving operators (filter,
 * project, take, mv-expand, window functions), and the final SELECT (or a later `take`) applies the ORDER BY, which
 * lets the engine run `sort | take` as a top-N.
 */
import type { ColumnType, ScalarTypeName } from '../binder/types.js';
import type { NamedScalar, PlanColumn, PlanValue, Rel, ScalarExpr, SortKey, SourceSpan } from '../plan/nodes.js';
import type { Dialect, SqlArg, TemplateContext } from './dialect.js';

/** Thrown when a construct cannot be expressed in the dialect; the span of the nearest plan node is attached. */
export class SqlUnsupported extends Error {
  span: SourceSpan | undefined;
}

export interface StorageNaming {
  /** The storage table name of a workspace table. */
  table(name: string): string;
  /** The storage column name of a table's KQL column. */
  column(table: string, column: string): string;
}

export interface GenerateOptions {
  readonly storage: StorageNaming;
  /** Maximum rows to return (Kusto's truncation limit + 1 lets the engine detect truncation cheaply). */
  readonly rowLimit?: number;
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
  /** KQL column name → SQL column name in this CTE. */
  readonly sqlNames: ReadonlyMap<string, string>;
  /** Hidden sort-key columns (SQL names) carried through order-preserving operators. */
  readonly order: readonly OrderKey[] | null;
}

interface Frame {
  readonly input: Source | null;
  readonly left?: { alias: string; source: Source };
  readonly right?: { alias: string; source: Source };
  /** Table alias prefix for input columns (joins). */
  readonly alias?: string;
}

export function generateSql(rel: Rel, dialect: Dialect, options: GenerateOptions): GeneratedSql {
  const g = new Generator(dialect, options);
  const src = g.relation(rel);
  return { sql: g.finish(src), columns: rel.columns };
}

class Generator {
  private readonly ctes: string[] = [];
  private readonly bindings = new Map<string, Source>();
  private counter = 0;

  constructor(
    private readonly d: Dialect,
    private readonly options: GenerateOptions,
  ) {}

  private q(name: string): string {
    return this.d.quoteIdentifier(name);
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
    sqlNames: Map<string, string>,
    order: readonly OrderKey[] | null,
    materialized = false,
  ): Source {
    const name = `q${this.counter++}`;
    this.ctes.push(`${this.q(name)} AS ${materialized ? 'MATERIALIZED ' : ''}(\n  ${body}\n)`);
    return { name, columns, sqlNames, order };
  }

  private col(src: Source, kqlName: string, alias?: string): string {
    const sql = src.sqlNames.get(kqlName);
    if (sql === undefined) throw new Error(`internal: column ${kqlName} not in ${src.name}`);
    return alias ? `${alias}.${this.q(sql)}` : this.q(sql);
  }

  /** The hidden order columns of a source, to carry along: `"__o0", "__o1"`. */
  private carryOrder(src: Source): { select: string[]; order: OrderKey[] | null } {
    if (!src.order) return { select: [], order: null };
    return { select: src.order.map((o) => o.sql), order: [...src.order] };
  }

  finish(src: Source): string {
    const cols = src.columns.map((c, i) => `${this.col(src, c.name)} AS ${this.q(`c${i}`)}`);
    let sql = `SELECT ${cols.length ? cols.join(', ') : '1 AS "c0"'} FROM ${this.q(src.name)}`;
    if (src.order) sql += ` ORDER BY ${this.orderBy(src.order)}`;
    if (this.options.rowLimit !== undefined) sql += ` LIMIT ${this.options.rowLimit}`;
    return this.ctes.length ? `WITH ${this.ctes.join(',\n')}\n${sql}` : sql;
  }

  private orderBy(keys: readonly OrderKey[]): string {
    return keys
      .map((k) => `${this.q(k.sql)} ${k.descending ? 'DESC' : 'ASC'} NULLS ${k.nullsFirst ? 'FIRST' : 'LAST'}`)
      .join(', ');
  }

  // ───────────────────────────── relations ─────────────────────────────

  relation(rel: Rel): Source {
    switch (rel.kind) {
      case 'scan': {
        const names = this.sqlNamesFor(rel.columns);
        const table = this.options.storage.table(rel.table);
        const cols = rel.columns.map(
          (c) => `${this.q(this.options.storage.column(rel.table, c.name))} AS ${this.q(names.get(c.name) as string)}`,
        );
        return this.cte(`SELECT ${cols.join(', ')} FROM ${this.q(table)}`, rel.columns, names, null);
      }
      case 'values':
        return this.values(rel.columns, rel.rows);
      case 'range':
        return this.range(rel);
      case 'filter': {
        const src = this.relation(rel.input);
        const pred = this.scalar(rel.predicate, { input: src });
        return this.cte(
          `SELECT * FROM ${this.q(src.name)} WHERE ${pred.sql}`,
          src.columns,
          new Map(src.sqlNames),
          src.order,
        );
      }
      case 'project':
        return this.project(rel.input, rel.columns, rel.exprs);
      case 'aggregate':
        return this.aggregate(rel.input, rel.keys, rel.aggregates, rel.columns);
      case 'sort': {
        const src = this.relation(rel.input);
        return this.sort(src, rel.keys);
      }
      case 'limit': {
        const src = this.relation(rel.input);
        const n = this.scalar(rel.count, { input: null });
        const order = src.order ? ` ORDER BY ${this.orderBy(src.order)}` : '';
        return this.cte(
          `SELECT * FROM ${this.q(src.name)}${order} LIMIT ${n.sql}`,
          src.columns,
          new Map(src.sqlNames),
          src.order,
        );
      }
      case 'distinct': {
        const src = this.relation(rel.input);
        const cols = src.columns.map((c) => this.col(src, c.name));
        return this.cte(
          `SELECT DISTINCT ${cols.join(', ')} FROM ${this.q(src.name)}`,
          src.columns,
          new Map(src.sqlNames),
          null,
        );
      }
      case 'join':
        return this.join(rel);
      case 'union':
        return this.union(rel);
      case 'mv-expand':
        return this.mvExpand(rel);
      case 'window':
        return this.project(rel.input, rel.columns, rel.exprs);
      case 'ref': {
        const b = this.bindings.get(rel.name);
        if (!b) throw new Error(`internal: unknown binding ${rel.name}`);
        return b;
      }
      case 'with': {
        for (const binding of rel.bindings) {
          const src = this.relation(binding.rel);
          const named = binding.materialized
            ? this.cte(`SELECT * FROM ${this.q(src.name)}`, src.columns, new Map(src.sqlNames), src.order, true)
            : src;
          this.bindings.set(binding.name, named);
        }
        return this.relation(rel.body);
      }
      case 'make-series':
        throw new SqlUnsupported('make-series is not supported by this dialect yet');
    }
  }

  private values(columns: readonly PlanColumn[], rows: readonly (readonly ScalarExpr[])[]): Source {
    const names = this.sqlNamesFor(columns);
    const aliases = columns.map((c) => this.q(names.get(c.name) as string));
    if (rows.length === 0) {
      const cols = columns.map((c, i) => `${this.cast(this.d.nullOf(c.type), c.type)} AS ${aliases[i]}`);
      return this.cte(`SELECT ${cols.join(', ') || '1 AS "__none"'} WHERE false`, columns, names, null);
    }
    const selects = rows.map((row, r) => {
      const cells = columns.map((c, i) => {
        const e = row[i];
        const v = e ? this.scalar(e, { input: null }).sql : this.d.nullOf(c.type);
        return `${this.cast(v, c.type)} AS ${aliases[i]}`;
      });
      return `SELECT ${cells.join(', ')}${r === 0 ? '' : ''}`;
    });
    // A row-number column keeps datatable's row order.
    const ordered = selects.map((s, i) => `${s}, ${i} AS "__o0"`);
    return this.cte(ordered.join(' UNION ALL '), columns, names, [
      { sql: '__o0', descending: false, nullsFirst: false },
    ]);
  }

  private cast(sql: string, type: ColumnType): string {
    if (type === 'unknown') return sql;
    return `CAST(${sql} AS ${this.d.types[type]})`;
  }

  private range(rel: Rel & { kind: 'range' }): Source {
    const names = this.sqlNamesFor(rel.columns);
    const col = rel.columns[0] as PlanColumn;
    const f = { input: null };
    const from = this.scalar(rel.from, f);
    const to = this.scalar(rel.to, f);
    const step = this.scalar(rel.step, f);
    const ctx = this.ctx('long');
    const op = (name: string, args: SqlArg[], type: ColumnType): SqlArg => {
      const t = this.d.operators[name];
      if (!t) throw new SqlUnsupported(`operator ${name}`);
      return { sql: t(args, this.ctx(type)), type, expr: { kind: 'lit', type: 'long', value: null } };
    };
    const diff = op('Subtract', [to, from], from.type === 'datetime' ? 'timespan' : from.type);
    const count = op('Divide', [diff, step], from.type === 'datetime' || from.type === 'timespan' ? 'real' : step.type);
    const i: SqlArg = { sql: '"__i"', type: 'long', expr: { kind: 'lit', type: 'long', value: null } };
    const offset = op('Multiply', [i, step], step.type === 'timespan' ? 'timespan' : step.type);
    const value = op('Add', [from, offset], col.type);
    void ctx;
    const body = `SELECT ${this.cast(value.sql, col.type)} AS ${this.q(names.get(col.name) as string)}, "__i" AS "__o0" FROM generate_series(0, CAST(floor(${count.sql}) AS BIGINT)) AS t("__i")`;
    return this.cte(body, rel.columns, names, [{ sql: '__o0', descending: false, nullsFirst: false }]);
  }

  private project(inputRel: Rel, columns: readonly PlanColumn[], exprs: readonly ScalarExpr[]): Source {
    const src = this.relation(inputRel);
    const names = this.sqlNamesFor(columns);
    const frame: Frame = { input: src };
    const cols = columns.map((c, i) => {
      const e = this.scalar(exprs[i] as ScalarExpr, frame);
      return `${this.cast(e.sql, c.type === 'unknown' ? e.type : c.type)} AS ${this.q(names.get(c.name) as string)}`;
    });
    const carry = this.carryOrder(src);
    const select = [...cols, ...carry.select.map((s) => this.q(s))];
    return this.cte(
      `SELECT ${select.join(', ') || '1 AS "__none"'} FROM ${this.q(src.name)}`,
      columns,
      names,
      carry.order,
    );
  }

  private aggregate(
    inputRel: Rel,
    keys: readonly NamedScalar[],
    aggregates: readonly NamedScalar[],
    columns: readonly PlanColumn[],
  ): Source {
    const src = this.relation(inputRel);
    const names = this.sqlNamesFor(columns);
    const frame: Frame = { input: src };
    const select: string[] = [];
    keys.forEach((k, i) => {
      const c = columns[i] as PlanColumn;
      select.push(`${this.scalar(k.expr, frame).sql} AS ${this.q(names.get(c.name) as string)}`);
    });
    aggregates.forEach((a, i) => {
      const c = columns[keys.length + i] as PlanColumn;
      const e = this.scalar(a.expr, frame);
      select.push(
        `${this.cast(e.sql, c.type === 'unknown' ? e.type : c.type)} AS ${this.q(names.get(c.name) as string)}`,
      );
    });
    const groupBy = keys.length ? ` GROUP BY ${keys.map((_, i) => i + 1).join(', ')}` : '';
    return this.cte(`SELECT ${select.join(', ')} FROM ${this.q(src.name)}${groupBy}`, columns, names, null);
  }

  private sort(src: Source, keys: readonly SortKey[]): Source {
    const frame: Frame = { input: src };
    const hidden = keys.map((k, i) => ({ key: k, sql: `__o${i}`, value: this.scalar(k.expr, frame).sql }));
    const cols = src.columns.map((c) => this.col(src, c.name));
    const select = [...cols, ...hidden.map((h) => `${h.value} AS ${this.q(h.sql)}`)];
    const order = hidden.map((h) => ({ sql: h.sql, descending: h.key.descending, nullsFirst: h.key.nullsFirst }));
    return this.cte(`SELECT ${select.join(', ')} FROM ${this.q(src.name)}`, src.columns, new Map(src.sqlNames), order);
  }

  private join(rel: Rel & { kind: 'join' }): Source {
    const left = this.relation(rel.left);
    const right = this.relation(rel.right);
    const frame: Frame = { input: null, left: { alias: 'l', source: left }, right: { alias: 'r', source: right } };
    const conds = rel.on.map((k) => {
      const l = this.scalar(k.left, frame);
      const r = this.scalar(k.right, frame);
      return `${l.sql} = ${r.sql}`;
    });
    if (rel.where) conds.push(this.scalar(rel.where, frame).sql);
    const on = conds.length ? conds.join(' AND ') : 'true';
    let leftFrom = this.q(left.name);
    if (rel.joinKind === 'innerunique') {
      const keys = rel.on.map((k) => this.scalar(k.left, { input: left }).sql);
      leftFrom = keys.length
        ? `(SELECT DISTINCT ON (${keys.join(', ')}) * FROM ${this.q(left.name)})`
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
    return this.cte(body, rel.columns, names, null);
  }

  private union(rel: Rel & { kind: 'union' }): Source {
    const names = this.sqlNamesFor(rel.columns);
    const hasSource = rel.sourceValues !== null;
    const dataColumns = hasSource ? rel.columns.slice(1) : rel.columns;
    const parts = rel.inputs.map((input, i) => {
      const src = this.relation(input);
      const mapping = rel.mapping[i] ?? [];
      const cols = dataColumns.map((c, j) => {
        const from = mapping[j];
        const v = from !== null && from !== undefined ? this.col(src, from) : this.d.nullOf(c.type);
        return `${this.cast(v, c.type)} AS ${this.q(names.get(c.name) as string)}`;
      });
      if (hasSource) {
        const first = rel.columns[0] as PlanColumn;
        cols.unshift(
          `${this.d.literal(rel.sourceValues?.[i] ?? '', 'string')} AS ${this.q(names.get(first.name) as string)}`,
        );
      }
      return `SELECT ${cols.join(', ') || '1 AS "__none"'} FROM ${this.q(src.name)}`;
    });
    if (parts.length === 0) return this.values(rel.columns, []);
    return this.cte(parts.join('\nUNION ALL\n'), rel.columns, names, null);
  }

  private mvExpand(rel: Rel & { kind: 'mv-expand' }): Source {
    const src = this.relation(rel.input);
    const names = this.sqlNamesFor(rel.columns);
    const frame: Frame = { input: src };
    const expand = this.d.functions.__mv_expand_list;
    if (!expand) throw new SqlUnsupported('mv-expand');
    const itemNames = new Set(rel.items.map((i) => i.name));
    const lists = rel.items.map((item) => {
      const e = this.scalar(item.expr, frame);
      return expand(
        [
          e,
          {
            sql: this.d.literal(rel.bagExpansion, 'string'),
            type: 'string',
            expr: { kind: 'lit', type: 'string', value: rel.bagExpansion },
          },
        ],
        this.ctx('dynamic'),
      );
    });
    // Expand in a sub-select (unnest zips several lists, padding the shorter ones with nulls, as Kusto does).
    const inner = [
      '*',
      ...lists.map((l, i) => `unnest(${l}) AS "__v${i}"`),
      ...(rel.indexColumn !== null && lists[0] ? [`unnest(range(0, len(${lists[0]}))) AS "__idx"`] : []),
    ];
    const cast = this.d.functions.__mv_expand_cast;
    const outCols = rel.columns.map((c) => {
      const alias = this.q(names.get(c.name) as string);
      const itemIndex = rel.items.findIndex((it) => it.name === c.name);
      if (itemIndex >= 0) {
        const v: SqlArg = {
          sql: `"__v${itemIndex}"`,
          type: 'dynamic',
          expr: { kind: 'lit', type: 'dynamic', value: null },
        };
        const typed =
          cast && c.type !== 'dynamic'
            ? cast(
                [
                  v,
                  {
                    sql: this.d.literal(c.type, 'string'),
                    type: 'string',
                    expr: { kind: 'lit', type: 'string', value: c.type },
                  },
                ],
                this.ctx(c.type),
              )
            : v.sql;
        return `${typed} AS ${alias}`;
      }
      if (c.name === rel.indexColumn && !itemNames.has(c.name)) return `CAST("__idx" AS BIGINT) AS ${alias}`;
      return `${this.col(src, c.name)} AS ${alias}`;
    });
    const carry = this.carryOrder(src);
    const limit = rel.limit ? '' : '';
    const body = `SELECT ${[...outCols, ...carry.select.map((s) => this.q(s))].join(', ')} FROM (SELECT ${inner.join(', ')} FROM ${this.q(src.name)})${limit}`;
    return this.cte(body, rel.columns, names, carry.order);
  }

  // ───────────────────────────── scalars ─────────────────────────────

  private ctx(resultType: ColumnType): TemplateContext {
    return {
      resultType,
      dialect: this.d,
      unsupported: (reason: string) => {
        throw new SqlUnsupported(reason);
      },
      literal: (value: PlanValue, type: ScalarTypeName) => this.d.literal(value, type),
    };
  }

  scalar(e: ScalarExpr, frame: Frame): SqlArg {
    try {
      return this.scalarInner(e, frame);
    } catch (err) {
      if (err instanceof SqlUnsupported && !err.span && 'span' in e && e.span) err.span = e.span;
      throw err;
    }
  }

  private scalarInner(e: ScalarExpr, frame: Frame): SqlArg {
    switch (e.kind) {
      case 'col': {
        if (e.side === 'left' && frame.left) {
          return { sql: this.col(frame.left.source, e.name, frame.left.alias), type: e.type, expr: e };
        }
        if (e.side === 'right' && frame.right) {
          return { sql: this.col(frame.right.source, e.name, frame.right.alias), type: e.type, expr: e };
        }
        if (!frame.input) throw new Error(`internal: column ${e.name} outside of a row context`);
        return { sql: this.col(frame.input, e.name, frame.alias), type: e.type, expr: e };
      }
      case 'lit':
        return {
          sql: this.d.literal(e.value, e.type),
          type: e.type,
          literal: { value: e.value, type: e.type },
          expr: e,
        };
      case 'op': {
        const t = this.d.operators[e.op];
        if (!t) throw new SqlUnsupported(`The operator ${e.op}`);
        const args = e.args.map((a) => this.scalar(a, frame));
        return { sql: `(${t(args, this.ctx(e.type))})`, type: e.type, expr: e };
      }
      case 'call': {
        const t = this.d.functions[e.fn];
        if (!t) throw new SqlUnsupported(`The function ${e.fn}()`);
        const args = e.args.map((a) => this.scalar(a, frame));
        return { sql: t(args, this.ctx(e.type)), type: e.type, expr: e };
      }
      case 'agg': {
        const t = this.d.aggregates[e.fn];
        if (!t) throw new SqlUnsupported(`The aggregate ${e.fn}()`);
        const args = e.args.map((a) => this.scalar(a, frame));
        return { sql: t(args, this.ctx(e.type)), type: e.type, expr: e };
      }
      case 'path': {
        const base = this.scalar(e.expr, frame);
        const steps = e.path.map((s) => (typeof s === 'object' ? this.scalar(s, frame) : s));
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
        const value = this.scalar(e.value, frame);
        const t = this.d.operators[`${e.op}Subquery`];
        if (!t) throw new SqlUnsupported(`The operator ${e.op} over a table`);
        const sub: SqlArg = {
          sql: `SELECT ${this.col(src, first.name)} FROM ${this.q(src.name)}`,
          type: first.type,
          expr: e,
        };
        return { sql: `(${t([value, sub], this.ctx('bool'))})`, type: 'bool', expr: e };
      }
      case 'star': {
        const cols = e.columns.map((c) => this.scalar({ kind: 'col', name: c.name, type: c.type }, frame));
        return { sql: cols.map((c) => c.sql).join(', '), type: 'dynamic', expr: e };
      }
      case 'win': {
        const t = this.d.functions[`__window_${e.fn}`];
        if (!t) throw new SqlUnsupported(`The function ${e.fn}()`);
        const args = e.args.map((a) => this.scalar(a, frame));
        const order = frame.input?.order;
        const over = order ? `ORDER BY ${this.orderBy(order)}` : '';
        const orderArg: SqlArg = { sql: over, type: 'string', expr: e };
        return { sql: t([orderArg, ...args], this.ctx(e.type)), type: e.type, expr: e };
      }
    }
  }
}
