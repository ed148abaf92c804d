/**
 * Plans printed as S-expressions, for golden tests and debugging. One relation per line, its inputs indented below
 * it; scalars inline. Literals print in KQL-like syntax (`datetime(2026-01-01T00:00:00.0000000Z)`, `int(3)`,
 * `string(null)`), operators by Kusto operator kind (`(GreaterThan Timestamp ...)`), built-in functions and
 * aggregates by their KQL name (`(strcat a "x")`, `(count)`), column references by name (`$left.k` in join
 * conditions). The output is stable: it depends only on the plan.
 */
import type { ColumnType } from '../binder/types.js';
import { ticksToIso, ticksToTimespan } from './lower.js';
import type { PlanColumn, PlanValue, QueryPlan, Rel, ScalarExpr, SortKey, TimeBound, TimeRange } from './nodes.js';

export interface PrintOptions {
  /** The declared columns of a table: a scan that reads all of them, in order, prints as `(scan T *)`. */
  readonly tableColumns?: (table: string) => readonly PlanColumn[] | undefined;
}

export function printPlan(plan: QueryPlan | Rel, options: PrintOptions = {}): string {
  const rel = 'rel' in plan ? plan.rel : plan;
  const lines: string[] = [];
  printRel(rel, 0, lines, options);
  if ('rel' in plan && plan.visualization) {
    const v = plan.visualization;
    const props = Object.entries(v.properties)
      .map(([k, x]) => ` :${k} ${JSON.stringify(x)}`)
      .join('');
    lines.push(`(render ${v.type}${props})`);
  }
  return lines.join('\n');
}

const SIMPLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function name(n: string): string {
  return SIMPLE_NAME.test(n) ? n : `['${escapeControls(n.replace(/\\/g, '\\\\').replace(/'/g, "\\'"))}']`;
}

/** Control characters as `\xNN` (hidden columns start with U+0000), so that printed plans stay text. */
function escapeControls(text: string): string {
  let out = '';
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    out += code < 0x20 ? `\\x${code.toString(16).padStart(2, '0')}` : ch;
  }
  return out;
}

function column(c: PlanColumn): string {
  return `${name(c.name)}:${c.type}`;
}

function columns(cs: readonly PlanColumn[]): string {
  return `[${cs.map(column).join(' ')}]`;
}

/** `[name:type = expr ...]`, with `= expr` left out when the expression is the same-named input column. */
function assignments(cs: readonly PlanColumn[], exprs: readonly ScalarExpr[]): string {
  const parts = cs.map((c, i) => {
    const e = exprs[i];
    if (!e) return `${column(c)} = ?`;
    if (e.kind === 'col' && e.name === c.name && e.side === undefined) return column(c);
    return `${column(c)} = ${printScalar(e)}`;
  });
  return `[${parts.join(', ')}]`;
}

function sortKey(k: SortKey): string {
  return `${printScalar(k.expr)} ${k.descending ? 'desc' : 'asc'} nulls-${k.nullsFirst ? 'first' : 'last'}`;
}

/** `(X < d <= Y)`, `(d > X)`, `(d <= Y)`: a time range as a chained comparison. */
function timeRange(r: TimeRange): string {
  const lower = (b: TimeBound) => `${literal(b.ticks, 'datetime')} ${b.inclusive ? '<=' : '<'} `;
  const upper = (b: TimeBound) => ` ${b.inclusive ? '<=' : '<'} ${literal(b.ticks, 'datetime')}`;
  if (r.lower && r.upper) return `(${lower(r.lower)}${name(r.column)}${upper(r.upper)})`;
  if (r.lower) return `(${name(r.column)} ${r.lower.inclusive ? '>=' : '>'} ${literal(r.lower.ticks, 'datetime')})`;
  if (r.upper) return `(${name(r.column)}${upper(r.upper)})`;
  return `(${name(r.column)})`;
}

function printRel(rel: Rel, depth: number, out: string[], options: PrintOptions = {}): void {
  const pad = '  '.repeat(depth);
  const head = (text: string, inputs: readonly Rel[]): void => {
    if (inputs.length === 0) {
      out.push(`${pad}(${text})`);
      return;
    }
    out.push(`${pad}(${text}`);
    for (const input of inputs) printRel(input, depth + 1, out, options);
    out[out.length - 1] += ')';
  };
  switch (rel.kind) {
    case 'scan': {
      const time = rel.timeRanges?.length ? ` :time [${rel.timeRanges.map(timeRange).join(' ')}]` : '';
      const declared = options.tableColumns?.(rel.table);
      const all =
        declared !== undefined &&
        declared.length === rel.columns.length &&
        declared.every((c, i) => c.name === rel.columns[i]?.name && c.type === rel.columns[i]?.type);
      head(`scan ${name(rel.table)} ${all ? '*' : columns(rel.columns)}${time}`, []);
      return;
    }
    case 'values': {
      const rows = rel.rows.map((r) => ` (row ${r.map(printScalar).join(' ')})`).join('');
      head(`values ${columns(rel.columns)}${rows}`, []);
      return;
    }
    case 'range':
      head(
        `range ${columns(rel.columns)} :from ${printScalar(rel.from)} :to ${printScalar(rel.to)} :step ${printScalar(rel.step)}`,
        [],
      );
      return;
    case 'filter':
      head(`filter ${printScalar(rel.predicate)}`, [rel.input]);
      return;
    case 'project':
      head(`project ${assignments(rel.columns, rel.exprs)}`, [rel.input]);
      return;
    case 'window':
      head(`window ${assignments(rel.columns, rel.exprs)}`, [rel.input]);
      return;
    case 'aggregate': {
      const keys = rel.keys.map((k, i) => ({ c: rel.columns[i], e: k.expr }));
      const aggs = rel.aggregates.map((a, i) => ({ c: rel.columns[rel.keys.length + i], e: a.expr }));
      const part = (xs: { c: PlanColumn | undefined; e: ScalarExpr }[]) =>
        assignments(
          xs.map((x, i) => x.c ?? { name: `?${i}`, type: 'unknown' }),
          xs.map((x) => x.e),
        );
      head(`aggregate :by ${part(keys)} :agg ${part(aggs)}`, [rel.input]);
      return;
    }
    case 'sort':
      head(`sort [${rel.keys.map(sortKey).join(', ')}]`, [rel.input]);
      return;
    case 'limit':
      head(`limit ${printScalar(rel.count)}`, [rel.input]);
      return;
    case 'distinct':
      head('distinct', [rel.input]);
      return;
    case 'join': {
      const on = rel.on.map((k) => `(== ${printScalar(k.left)} ${printScalar(k.right)})`).join(' ');
      const where = rel.where ? ` :where ${printScalar(rel.where)}` : '';
      const output = rel.output.map((o, i) => {
        const c = rel.columns[i];
        const from = `${o.side}.${name(o.name)}`;
        return c ? (c.name === o.name ? `${column(c)}<-${o.side}` : `${column(c)}<-${from}`) : `?<-${from}`;
      });
      head(`join ${rel.joinKind} :on [${on}]${where} :output [${output.join(' ')}]`, [rel.left, rel.right]);
      return;
    }
    case 'union': {
      const source = rel.sourceValues ? ` :source [${rel.sourceValues.map((s) => JSON.stringify(s)).join(' ')}]` : '';
      const maps = rel.mapping.map((m) => `[${m.map((x) => (x === null ? '-' : name(x))).join(' ')}]`).join(' ');
      head(`union ${columns(rel.columns)}${source} :mapping [${maps}]`, rel.inputs);
      return;
    }
    case 'mv-expand': {
      const items = rel.items.map((it) => `${name(it.name)}:${it.type} = ${printScalar(it.expr)}`).join(', ');
      const index = rel.indexColumn !== null ? ` :index ${name(rel.indexColumn)}` : '';
      const limit = rel.limit ? ` :limit ${printScalar(rel.limit)}` : '';
      head(`mv-expand ${columns(rel.columns)} :items [${items}] :bag ${rel.bagExpansion}${index}${limit}`, [rel.input]);
      return;
    }
    case 'ref':
      head(`ref ${name(rel.name)} ${columns(rel.columns)}`, []);
      return;
    case 'with': {
      out.push(`${pad}(with`);
      for (const b of rel.bindings) {
        out.push(`${pad}  (let ${name(b.name)}${b.materialized ? ' :materialized' : ''}`);
        printRel(b.rel, depth + 2, out, options);
        out[out.length - 1] += ')';
      }
      printRel(rel.body, depth + 1, out, options);
      out[out.length - 1] += ')';
      return;
    }
    case 'make-series': {
      const keys = rel.keys.map((k) => `${name(k.name)} = ${printScalar(k.expr)}`).join(', ');
      const aggs = rel.aggregates
        .map((a) => `${name(a.name)} = ${printScalar(a.expr)} default ${printScalar(a.defaultValue)}`)
        .join(', ');
      const range = [
        rel.from ? ` :from ${printScalar(rel.from)}` : '',
        rel.to ? ` :to ${printScalar(rel.to)}` : '',
        ` :step ${printScalar(rel.step)}`,
      ].join('');
      head(
        `make-series ${columns(rel.columns)} :by [${keys}] :agg [${aggs}] :on ${name(rel.axis.name)} = ${printScalar(rel.axis.expr)}${range}`,
        [rel.input],
      );
      return;
    }
  }
}

export function printScalar(e: ScalarExpr): string {
  switch (e.kind) {
    case 'col':
      return e.side ? `$${e.side}.${name(e.name)}` : name(e.name);
    case 'lit':
      return literal(e.value, e.type);
    case 'op':
    case 'call':
    case 'win': {
      const fn = e.kind === 'op' ? e.op : e.fn;
      return `(${[fn, ...e.args.map(printScalar)].join(' ')})`;
    }
    case 'agg': {
      const group = e.group !== undefined ? ` :group ${JSON.stringify(e.group)}` : '';
      return `(${[e.fn, ...e.args.map(printScalar)].join(' ')}${group})`;
    }
    case 'path': {
      const steps = e.path.map((s) =>
        typeof s === 'string' ? `.${name(s)}` : typeof s === 'number' ? `[${s}]` : `[${printScalar(s)}]`,
      );
      return `(path ${printScalar(e.expr)} ${steps.join('')})`;
    }
    case 'star':
      return '*';
    case 'in-rel':
    case 'subquery': {
      // A nested relation prints on one line here; it is rare and small in practice.
      const lines: string[] = [];
      printRel(e.rel, 0, lines);
      const rel = lines.map((l) => l.trim()).join(' ');
      return e.kind === 'subquery' ? `(toscalar ${rel})` : `(${e.op} ${printScalar(e.value)} ${rel})`;
    }
  }
}

/** A literal in KQL-like syntax: `10` (long), `"x"` (string), `true`, otherwise `type(value)`. */
export function literal(value: PlanValue, type: ColumnType): string {
  if (value === null) return `${type}(null)`;
  switch (type) {
    case 'string':
      return JSON.stringify(value);
    case 'bool':
      return String(value);
    case 'long':
      return String(value);
    case 'datetime':
      return typeof value === 'string' && /^-?\d+$/.test(value)
        ? `datetime(${ticksToIso(BigInt(value))})`
        : `datetime(${JSON.stringify(value)})`;
    case 'timespan':
      return typeof value === 'string' && /^-?\d+$/.test(value)
        ? `timespan(${ticksToTimespan(BigInt(value))})`
        : `timespan(${JSON.stringify(value)})`;
    case 'dynamic':
      return `dynamic(${JSON.stringify(value)})`;
    default:
      return `${type}(${typeof value === 'string' ? value : JSON.stringify(value)})`;
  }
}
