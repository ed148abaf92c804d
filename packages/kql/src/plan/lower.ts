/**
 * Lowering: a bound query (syntax tree + semantic model) becomes a logical plan. Column naming and typing were
 * decided by the binder (the projection sources in the model say where each output column comes from), so
 * lowering only translates. Constructs Vigil cannot execute become `KQL0901` diagnostics with the span of the
 * construct — never a wrong plan.
 */
import type { Analysis } from '../analyze.js';
import { BINARY_OPERATOR_KIND, IN_OPERATOR_KIND } from '../binder/operator-types.js';
import type { ProjectedColumn } from '../binder/projection.js';
import type { Expansion, ExprInfo, SemanticModel } from '../binder/semantic-model.js';
import type { BoundSymbol, VariableSymbol } from '../binder/symbols.js';
import type { Column, ColumnType, Type } from '../binder/types.js';
import { toColumnType } from '../binder/types.js';
import type { TupleElementSource } from '../catalog/custom-returns.js';
import { Codes } from '../diagnostics/codes.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { DialectCapabilities } from '../sql/dialect.js';
import type {
  Call,
  DynamicValue,
  Expr,
  Literal,
  Node,
  Ordered,
  QueryOperator,
  Span,
  Statement,
} from '../syntax/nodes.js';
import type { GraphHost } from './graph.js';
import { isGraphValue, lowerGraphOperator } from './graph.js';
import type {
  JoinKind,
  NamedScalar,
  PlanColumn,
  PlanValue,
  QueryPlan,
  Rel,
  ScalarExpr,
  SortKey,
  SourceSpan,
  Visualization,
} from './nodes.js';
import { INGESTION_TIME, OPEN_BAG } from './nodes.js';
import type { KvOptions, ParseMode, ParsePart } from './parse-patterns.js';
import { kvRegex, parsePatternRegex } from './parse-patterns.js';
import { PartitionUnsupported, partitionBy } from './partition.js';
import { lowerBasket } from './plugins-basket.js';
import { lowerSequenceDetect } from './plugins-sequence.js';

/** Thrown inside lowering to abandon a construct; turned into a diagnostic at the statement boundary. */
class Unsupported extends Error {
  constructor(
    readonly span: Span,
    message: string,
  ) {
    super(message);
  }
}

/** Window (row-order) functions of serialized rows. */
const WINDOW_FUNCTIONS = new Set([
  'row_number',
  'row_cumsum',
  'prev',
  'next',
  'row_rank_dense',
  'row_rank_min',
  'row_window_session',
]);

export interface LoweringResult {
  readonly plan: QueryPlan | null;
  readonly diagnostics: readonly Diagnostic[];
  /**
   * Columns known only at run time (`bag_unpack`/`pivot` without an output schema) that the plan reads from an
   * open bag: run each probe (generate.ts `generateProbeSql`) and lower again with the answers in
   * `LowerOptions.dynamicSchemas` to get Kusto's exact columns. Absent when there is nothing to probe.
   */
  readonly probes?: readonly SchemaProbe[];
}

/**
 * A question about the data whose answer is part of the query's schema. `bag-keys`: the properties of the bags
 * `expr` takes over `rel` (in order of first appearance) and the KQL type of their values; `pivot-values`: the
 * distinct values of `expr` over `rel` (text), each becoming a column of `valueType`.
 */
export interface SchemaProbe {
  /** Identifies the plugin call (its offset in the query text); the key of `dynamicSchemas`. */
  readonly key: string;
  readonly kind: 'bag-keys' | 'pivot-values';
  readonly rel: Rel;
  readonly expr: ScalarExpr;
  readonly valueType?: ColumnType;
}

export interface LowerOptions {
  /** The query's `now()` in ticks since 1970 (fixed for the whole query, as in Kusto). */
  readonly now: bigint;
  /** Answers to earlier probes (see LoweringResult.probes), by probe key: the columns each probe found. */
  readonly dynamicSchemas?: ReadonlyMap<string, readonly PlanColumn[]>;
  /** The target dialect's capabilities, for constructs some engines cannot run (see DialectCapabilities). */
  readonly capabilities?: DialectCapabilities;
}

export function lower(analysis: Analysis, options: LowerOptions): LoweringResult {
  const l = new Lowerer(analysis, options);
  return l.run();
}

interface Frame {
  /** The input columns that plain column references refer to. */
  readonly input: readonly PlanColumn[] | null;
  /** Columns of the right side, in a join condition. */
  readonly right?: readonly Column[];
  readonly left?: readonly Column[];
}

class Lowerer {
  private readonly models: SemanticModel[];
  private readonly diagnostics: Diagnostic[] = [];
  private readonly bindings: { name: string; rel: Rel; materialized: boolean }[] = [];
  private readonly letRefs = new Map<object, Rel>();
  private readonly substitutions = new Map<object, ScalarExpr | Rel>();
  private visualization: Visualization | null = null;
  /** While lowering scan steps: the step names and the declared columns' defaults (see scanOp). */
  private scanContext: {
    readonly steps: ReadonlyMap<string, number>;
    readonly declared: ReadonlyMap<string, ScalarExpr>;
    readonly columns: readonly PlanColumn[];
  } | null = null;
  /** Schema questions for the data (see LoweringResult.probes). */
  private readonly probes: SchemaProbe[] = [];
  /** The inputs of the sub-queries being lowered (mv-apply, partition): what a leading operator reads. */
  private readonly implicitInputs: Rel[] = [];
  private nameCounter = 0;
  /** Scans read the hidden ingestion time only when the query (or a stored function) may ask for it. */
  private readonly ingestionTime: boolean;

  constructor(
    private readonly analysis: Analysis,
    private readonly options: LowerOptions,
  ) {
    this.models = [analysis.model];
    const uses = (text: string) => /ingestion_time\s*\(/.test(text);
    this.ingestionTime = uses(analysis.text) || analysis.workspace.functions.some((f) => uses(f.body));
  }

  run(): LoweringResult {
    const statements = this.analysis.root.statements;
    let last: Statement | undefined;
    for (const st of statements) if (st.kind === 'ExprStatement') last = st;
    if (last?.kind !== 'ExprStatement') {
      return { plan: null, diagnostics: this.diagnostics };
    }
    try {
      let rel = this.rel(last.expr);
      if (isGraphValue(rel)) {
        this.unsupported(last.expr, 'A graph as the query result (make-graph must be followed by a graph operator)');
      }
      if (this.bindings.length > 0) {
        rel = { kind: 'with', bindings: this.bindings, body: rel, columns: rel.columns };
      }
      return {
        plan: { rel, visualization: this.visualization },
        diagnostics: this.diagnostics,
        ...(this.probes.length ? { probes: this.probes } : {}),
      };
    } catch (e) {
      if (e instanceof Unsupported) {
        this.diagnostics.push({
          code: Codes.Unsupported.code,
          severity: 'error',
          message: e.message,
          start: e.span.start,
          length: e.span.end - e.span.start,
        });
        return { plan: null, diagnostics: this.diagnostics };
      }
      throw e;
    }
  }

  /** A probe runs on its own: it carries the `let` bindings its input may reference (those lowered so far). */
  private withBindings(rel: Rel): Rel {
    if (this.bindings.length === 0) return rel;
    return { kind: 'with', bindings: [...this.bindings], body: rel, columns: rel.columns };
  }

  // ───────────────────────────── model access ─────────────────────────────

  private info(node: Node): ExprInfo | undefined {
    for (let i = this.models.length - 1; i >= 0; i--) {
      const found = this.models[i]?.info(node);
      if (found) return found;
    }
    return undefined;
  }

  private model(): SemanticModel {
    return this.models[this.models.length - 1] as SemanticModel;
  }

  private callOf(node: Node) {
    for (let i = this.models.length - 1; i >= 0; i--) {
      const found = this.models[i]?.call(node);
      if (found) return found;
    }
    return undefined;
  }

  private projectionOf(op: Node) {
    for (let i = this.models.length - 1; i >= 0; i--) {
      const found = this.models[i]?.projection(op);
      if (found) return found;
    }
    throw new Error('internal: operator without a recorded projection');
  }

  private typeOf(node: Node): ColumnType {
    return toColumnType(this.info(node)?.type ?? { kind: 'unknown' });
  }

  private tableColumns(node: Node): PlanColumn[] {
    const t = this.info(node)?.type;
    return t?.kind === 'table' ? t.columns.map((c) => ({ name: c.name, type: c.type })) : [];
  }

  private unsupported(at: Span, what: string): never {
    throw new Unsupported(at, `${what} is not supported by Vigil yet.`);
  }

  private freshName(base: string): string {
    this.nameCounter++;
    return `${base.replace(/[^A-Za-z0-9_]/g, '_')}_${this.nameCounter}`;
  }

  // ───────────────────────────── relations ─────────────────────────────

  rel(e: Expr): Rel {
    switch (e.kind) {
      case 'Paren':
        return this.rel(e.expr);
      case 'Name':
        return this.relFromName(e);
      case 'Pipe': {
        const input = this.rel(e.left);
        return this.operator(e.op, input);
      }
      case 'Call':
        return this.relFromCall(e);
      default:
        if (isOperator(e)) return this.operator(e, null);
        return this.unsupported(e, `Using '${e.kind}' as a table`);
    }
  }

  private relFromName(e: Expr & { kind: 'Name' }): Rel {
    const call = this.callOf(e);
    if (call?.kind === 'user') return this.inlineUser(call.expansion, [], e);
    const sym = this.info(e)?.symbol;
    if (!sym) return this.unsupported(e, `The table '${e.name}'`);
    return this.relFromSymbol(sym, e);
  }

  private relFromSymbol(sym: BoundSymbol, at: Span): Rel {
    switch (sym.kind) {
      case 'table':
        return this.scanOf(sym.name, sym.columns);
      case 'variable': {
        const sub = this.substitutions.get(sym);
        if (sub && isRel(sub)) return sub;
        return this.relFromVariable(sym, at);
      }
      default:
        return this.unsupported(at, `Referring to a ${sym.kind} as a table`);
    }
  }

  private relFromVariable(sym: VariableSymbol, at: Span): Rel {
    const cached = this.letRefs.get(sym);
    if (cached) return cached;
    let rel: Rel;
    let materialized = sym.materialized ?? false;
    if (sym.value) {
      rel = this.rel(sym.value);
    } else if (sym.declaration.kind === 'As') {
      const bound = this.letRefs.get(sym.declaration);
      if (!bound) return this.unsupported(at, 'This use of an `as` name');
      return bound;
    } else {
      return this.unsupported(at, `The tabular parameter '${sym.name}' without a value`);
    }
    if (rel.kind === 'with') materialized = materialized || false;
    const name = this.freshName(sym.name);
    this.bindings.push({ name, rel, materialized });
    const ref: Rel = { kind: 'ref', name, columns: rel.columns };
    this.letRefs.set(sym, ref);
    return ref;
  }

  private relFromCall(e: Call): Rel {
    const call = this.callOf(e);
    if (call?.kind === 'user') return this.inlineUser(call.expansion, e.args, e);
    const name = e.name.name;
    if (name === 'materialize') {
      const arg = e.args[0];
      if (!arg) return this.unsupported(e, 'materialize() without an argument');
      const rel = this.rel(arg);
      const bindingName = this.freshName('materialized');
      this.bindings.push({ name: bindingName, rel, materialized: true });
      return { kind: 'ref', name: bindingName, columns: rel.columns };
    }
    if (name === 'table') {
      const sym = this.info(e)?.symbol;
      if (sym) return this.relFromSymbol(sym, e);
    }
    return this.unsupported(e, `The function '${name}' as a table`);
  }

  /** Inlines a user function call: parameters become the lowered arguments, the body is lowered in place. */
  private inlineUser(expansion: Expansion | null, args: readonly Expr[], at: Span): Rel {
    const value = this.withExpansion(expansion, args, at, (body) => this.rel(body));
    return value;
  }

  private withExpansion<T>(
    expansion: Expansion | null,
    args: readonly Expr[],
    at: Span,
    fn: (body: Expr) => T,
    piped?: Rel,
  ): T {
    if (!expansion) return this.unsupported(at, 'This function call');
    const decl = expansion.declaration;
    const params = expansion.parameters;
    // Arguments are lowered in the caller's context, before the body's model is pushed. `invoke` pipes its input
    // in as the first argument.
    const offset = piped ? 1 : 0;
    // Named arguments (`f(c=7, a=12)`) go to the parameter of that name; the others to the parameter at their own
    // position in the argument list (`f(len=3, input)`: input is the second parameter), as Kusto binds them.
    const positional = args.map((a) => (a.kind === 'NamedArg' ? undefined : a));
    const named = new Map<string, Expr>();
    for (const a of args) if (a.kind === 'NamedArg') named.set(a.name.name, a.value);
    const values = params.map((p, i) => {
      if (piped && i === 0) return piped;
      const param = decl.params[i];
      const arg = (param ? named.get(param.name.name) : undefined) ?? positional[i - offset];
      const value = arg ?? param?.defaultValue ?? null;
      if (!value) return null;
      const t = this.info(value)?.type ?? (arg ? undefined : p.type);
      return t?.kind === 'table' ? this.rel(value) : this.scalar(value, { input: null });
    });
    this.models.push(expansion.model);
    const saved: [object, ScalarExpr | Rel | undefined][] = [];
    params.forEach((p, i) => {
      const v = values[i];
      saved.push([p, this.substitutions.get(p)]);
      if (v) this.substitutions.set(p, v);
    });
    try {
      for (const st of decl.body.statements) this.statementInBody(st);
      return fn(decl.body.expr);
    } finally {
      this.models.pop();
      for (const [k, v] of saved) {
        if (v === undefined) this.substitutions.delete(k);
        else this.substitutions.set(k, v);
      }
    }
  }

  /** `let` statements inside function bodies need no work: references lower their values on demand. */
  private statementInBody(_st: Statement): void {}

  // ───────────────────────────── operators ─────────────────────────────

  private operator(op: QueryOperator, input: Rel | null): Rel {
    switch (op.kind) {
      case 'Where': {
        const src = this.need(input, op);
        return {
          kind: 'filter',
          input: src,
          predicate: this.scalar(op.predicate, { input: src.columns }),
          columns: src.columns,
        };
      }
      case 'Project':
      case 'Extend':
      case 'ProjectRename':
      case 'ProjectReorder':
      case 'ProjectByNames':
      case 'Serialize':
        return this.projection(op, this.need(input, op));
      case 'ProjectAway':
      case 'ProjectKeep': {
        const src = this.need(input, op);
        const out = this.tableColumns(op);
        return {
          kind: 'project',
          input: src,
          exprs: out.map((c) => ({ kind: 'col', name: c.name, type: c.type })),
          columns: out,
        };
      }
      case 'Distinct': {
        const src = this.need(input, op);
        const projected = this.projection(op, src);
        return { kind: 'distinct', input: projected, columns: projected.columns };
      }
      case 'Summarize':
        return this.summarize(op, this.need(input, op));
      case 'Count': {
        const src = this.need(input, op);
        const name = op.asName?.name ?? 'Count';
        return {
          kind: 'aggregate',
          input: src,
          keys: [],
          aggregates: [{ name, expr: { kind: 'agg', fn: 'count', args: [], type: 'long' } }],
          columns: [{ name, type: 'long' }],
        };
      }
      case 'Take': {
        const src = this.need(input, op);
        return { kind: 'limit', input: src, count: this.scalar(op.count, { input: null }), columns: src.columns };
      }
      case 'Sort': {
        const src = this.need(input, op);
        return { kind: 'sort', input: src, keys: op.by.map((o) => this.sortKey(o, src.columns)), columns: src.columns };
      }
      case 'Top': {
        const src = this.need(input, op);
        const sorted: Rel = {
          kind: 'sort',
          input: src,
          keys: [this.sortKey(op.by, src.columns)],
          columns: src.columns,
        };
        return { kind: 'limit', input: sorted, count: this.scalar(op.count, { input: null }), columns: src.columns };
      }
      case 'Join':
        return this.join(op, this.need(input, op));
      case 'Lookup':
        return this.lookup(op, this.need(input, op));
      case 'Union':
        return this.union(op, input);
      case 'MvExpand':
        return this.mvExpand(op, this.need(input, op));
      case 'MvApply':
        return this.mvApply(op, this.need(input, op));
      case 'Render': {
        const props: Record<string, PlanValue> = {};
        for (const p of op.properties) {
          const v = p.value;
          props[p.name] = v.kind === 'Literal' ? literalValue(v) : v.kind === 'Name' ? v.name : this.sourceText(v);
        }
        this.visualization = { type: op.chart.name, properties: props };
        return this.need(input, op);
      }
      case 'As': {
        const src = this.need(input, op);
        const name = this.freshName(op.name.name);
        const materialized = op.params.some((p) => p.name === 'hint.materialized');
        this.bindings.push({ name, rel: src, materialized });
        const ref: Rel = { kind: 'ref', name, columns: src.columns };
        this.letRefs.set(op, ref);
        return ref;
      }
      case 'GetSchema': {
        const src = this.need(input, op);
        const visible = visibleColumns(src.columns);
        if (paramText(op.params, 'kind') === 'csl') {
          const schema = visible.map((c) => `${cslName(c.name)}:${c.type}`).join(', ');
          return { kind: 'values', rows: [[str(schema)]], columns: this.tableColumns(op) };
        }
        return {
          kind: 'values',
          rows: visible.map((c, i) => [
            str(c.name),
            { kind: 'lit', type: 'long', value: String(i) },
            str(systemTypeName(c.type)),
            str(c.type),
          ]),
          columns: this.tableColumns(op),
        };
      }
      case 'Datatable': {
        const columns = this.tableColumns(op);
        const n = Math.max(1, columns.length);
        const rows: ScalarExpr[][] = [];
        for (let i = 0; i + n <= op.values.length; i += n) {
          rows.push(op.values.slice(i, i + n).map((v) => this.scalar(v, { input: null })));
        }
        return { kind: 'values', rows, columns };
      }
      case 'Print': {
        const columns = this.tableColumns(op);
        const entries = this.projectionOf(op).entries;
        const row = entries.map((en) => this.fromSource(en, { input: null }));
        return { kind: 'values', rows: [row], columns };
      }
      case 'Range': {
        const columns = this.tableColumns(op);
        const f = { input: null };
        return {
          kind: 'range',
          from: this.scalar(op.from, f),
          to: this.scalar(op.to, f),
          step: this.scalar(op.step, f),
          columns,
        };
      }
      case 'MakeSeries':
        return this.makeSeries(op, this.need(input, op));
      case 'Invoke': {
        const src = this.need(input, op);
        const call = this.callOf(op.call);
        if (call?.kind !== 'user') return this.unsupported(op, 'This invoke');
        return this.withExpansion(call.expansion, op.call.args, op, (body) => this.rel(body), src);
      }
      case 'Consume': {
        // consume reads its input and returns nothing: an empty result.
        const src = this.need(input, op);
        return { kind: 'limit', input: src, count: long(0), columns: [] };
      }
      case 'AssertSchema':
        // The binder checked the schema; at run time the rows pass through unchanged.
        return this.need(input, op);
      case 'Sample': {
        const src = this.need(input, op);
        const shuffled: Rel = {
          kind: 'sort',
          input: src,
          keys: [{ expr: call('rand', [], 'real'), descending: false, nullsFirst: false }],
          columns: src.columns,
        };
        return { kind: 'limit', input: shuffled, count: this.scalar(op.count, { input: null }), columns: src.columns };
      }
      case 'SampleDistinct': {
        const src = this.need(input, op);
        const columns = this.tableColumns(op);
        const value = this.scalar(op.of, { input: src.columns });
        const only: Rel = { kind: 'project', input: src, exprs: [value], columns };
        const distinct: Rel = { kind: 'distinct', input: only, columns };
        return { kind: 'limit', input: distinct, count: this.scalar(op.count, { input: null }), columns };
      }
      case 'TopHitters':
        return this.topHitters(op, this.need(input, op));
      case 'TopNested':
        return this.topNested(op, this.need(input, op));
      case 'Partition':
        return this.partition(op, this.need(input, op));
      case 'Scan':
        return this.scanOp(op, this.need(input, op));
      case 'Evaluate':
        return this.evaluate(op, input);
      case 'Fork':
      case 'Facet':
        return this.unsupported(op, `The '${operatorKeyword(op)}' operator (it returns several tables)`);
      case 'Parse':
      case 'ParseWhere':
        return this.parse(op, this.need(input, op));
      case 'ParseKv':
        return this.parseKv(op, this.need(input, op));
      case 'Search':
        return this.search(op, input);
      case 'Find':
        return this.find(op, input);
      case 'ExternalData':
        return this.unsupported(op, 'externaldata (reading external URLs)');
      case 'GraphOperator':
        return lowerGraphOperator(this.graphHost(), op, input);
      default:
        return this.unsupported(op, `The '${operatorKeyword(op)}' operator`);
    }
  }

  private need(input: Rel | null, op: QueryOperator): Rel {
    // An operator starting a sub-query (mv-apply, partition) reads the sub-query's implicit input.
    const implicit = this.implicitInputs[this.implicitInputs.length - 1];
    if (!input && implicit) return implicit;
    if (!input) return this.unsupported(op, `The '${operatorKeyword(op)}' operator without input`);
    return input;
  }

  private sourceText(e: Expr): string {
    return this.analysis.text.slice(e.start, e.end);
  }

  private sortKey(o: Ordered | Expr, input: readonly PlanColumn[]): SortKey {
    const ordered = o.kind === 'Ordered' ? o : null;
    const expr = this.scalar(ordered ? ordered.expr : o, { input });
    const descending = ordered?.direction !== 'asc';
    const nullsFirst = ordered?.nulls ? ordered.nulls === 'first' : !descending;
    return { expr, descending, nullsFirst };
  }

  /** The value of one projected column in the input frame. */
  private fromSource(entry: ProjectedColumn, frame: Frame): ScalarExpr {
    const src = entry.source;
    if (src.kind === 'input') return { kind: 'col', name: src.column.name, type: src.column.type };
    if (src.tupleIndex !== undefined) return this.tupleElement(src.expr, src.tupleIndex, frame);
    const e = this.scalar(src.expr, frame);
    // A column whose declared type differs (e.g. make-series dynamic) keeps the binder's type.
    return e;
  }

  private tupleElement(e: Expr, index: number, frame: Frame): ScalarExpr {
    const inner = e.kind === 'NamedExpr' ? e.expr : e;
    if (inner.kind === 'Call') {
      const call = this.callOf(inner);
      if (call && call.kind !== 'user' && call.kind === 'aggregate') {
        const def = call.definition;
        const name = def.isObsolete && def.alternative ? (def.alternative.split("'")[0] ?? def.name) : def.name;
        return this.aggregateTupleElement(inner, name, index, frame);
      }
      if (call?.kind === 'builtin') {
        // A tuple-valued function (series_fit_line, ...): its template returns a struct, read by position.
        const tuple = this.info(inner)?.type;
        const col = tuple?.kind === 'tuple' ? tuple.columns[index] : undefined;
        const value = this.scalarCall(inner, frame);
        return {
          kind: 'call',
          fn: '__tuple_element',
          args: [value, { kind: 'lit', type: 'long', value: String(index) }],
          type: col?.type ?? 'unknown',
          span: [inner.start, inner.end],
        };
      }
    }
    return this.unsupported(e, 'A multi-valued function result');
  }

  private aggregateTupleElement(call: Call, fn: string, index: number, frame: Frame): ScalarExpr {
    const args = call.args;
    const tuple = this.info(call)?.type;
    const cols = tuple?.kind === 'tuple' ? tuple.columns : [];
    const col = cols[index] as (Column & Partial<TupleElementSource>) | undefined;
    const type = col?.type ?? 'unknown';
    const group = `${fn}@${call.start}`;
    const element = (): ScalarExpr => {
      if (col?.sourceColumn !== undefined) return { kind: 'col', name: col.sourceColumn, type: col.type };
      // Without a recorded source (the obsolete argmax/argmin/any), element i is argument i.
      const source = col?.sourceArg ?? (index < args.length && args[index]?.kind !== 'Star' ? index : undefined);
      if (source === undefined) return this.unsupported(call, `This use of '${fn}'`);
      const a = args[source] as Expr;
      return this.scalar(a.kind === 'NamedArg' ? a.value : a, frame);
    };
    if (fn === 'arg_max' || fn === 'arg_min') {
      const by = this.scalar(args[0] as Expr, frame);
      return { kind: 'agg', fn, args: [by, element()], type, group };
    }
    if (fn === 'take_any' || fn === 'any') return { kind: 'agg', fn: 'take_any', args: [element()], type, group };
    if (fn === 'percentiles' || fn === 'percentilesw' || fn === 'percentile' || fn === 'percentilew') {
      const weighted = fn === 'percentilesw' || fn === 'percentilew';
      const start = weighted ? 2 : 1;
      const base = args.slice(0, start).map((a) => this.scalar(a, frame));
      const p = this.scalar(args[start + index] as Expr, frame);
      return {
        kind: 'agg',
        fn: weighted ? 'percentilew' : 'percentile',
        args: [...base, p],
        type,
        span: [call.start, call.end],
      };
    }
    // A one-column tuple (percentiles_array, percentilesw_array): the aggregate itself.
    if (cols.length === 1) {
      return { kind: 'agg', fn, args: args.map((a) => this.scalar(a, frame)), type, span: [call.start, call.end] };
    }
    return this.unsupported(call, `The multi-column aggregate '${fn}'`);
  }

  private projection(op: QueryOperator, src: Rel): Rel {
    // A column the binder passes through but the input does not have (scan's match id without with_match_id).
    const entries = this.projectionOf(op).entries.filter(
      (en) =>
        en.source.kind !== 'input' || src.columns.some((c) => c.name === (en.source as { column: Column }).column.name),
    );
    const frame: Frame = { input: src.columns };
    const exprs = entries.map((en) => this.fromSource(en, frame));
    const columns = entries.map((en) => ({ name: en.column.name, type: en.column.type }));
    // An open bag (bag_unpack, pivot) stays available to later operators.
    for (const c of src.columns) {
      if (c.name.startsWith(OPEN_BAG) && !columns.some((x) => x.name === c.name)) {
        exprs.push(colRef(c));
        columns.push(c);
      }
    }
    // Row functions make the projection depend on row order: a `window` node, which passes must not reorder.
    return { kind: exprs.some(usesRowOrder) ? 'window' : 'project', input: src, exprs, columns };
  }

  private summarize(op: QueryOperator, src: Rel): Rel {
    const { entries, keyCount } = this.projectionOf(op);
    const frame: Frame = { input: src.columns };
    const keys: NamedScalar[] = [];
    const aggregates: NamedScalar[] = [];
    entries.forEach((en, i) => {
      const expr = this.fromSource(en, frame);
      (i < keyCount ? keys : aggregates).push({ name: en.column.name, expr });
    });
    const columns = entries.map((en) => ({ name: en.column.name, type: en.column.type }));
    return { kind: 'aggregate', input: src, keys, aggregates, columns };
  }

  private join(op: QueryOperator & { kind: 'Join' }, left: Rel): Rel {
    const right = this.rel(op.right);
    const kindParam = op.params.find((p) => p.name === 'kind')?.value;
    const kindText = kindParam?.kind === 'Name' ? kindParam.name : 'innerunique';
    const joinKind = normalizeJoinKind(kindText);
    if (!joinKind) return this.unsupported(op, `The join kind '${kindText}'`);
    const on = this.joinKeys(op.on ?? [], left, right);
    const where = op.where ? this.joinCondition(op.where, left, right) : null;
    const leftOnly = joinKind === 'leftsemi' || joinKind === 'leftanti';
    const rightOnly = joinKind === 'rightsemi' || joinKind === 'rightanti';
    const output: { side: 'left' | 'right'; name: string }[] = [];
    // Hidden columns (an open bag, row numbers) do not take part in a join's output.
    if (!rightOnly) for (const c of visibleColumns(left.columns)) output.push({ side: 'left', name: c.name });
    if (!leftOnly) for (const c of visibleColumns(right.columns)) output.push({ side: 'right', name: c.name });
    let columns = this.tableColumns(op);
    if (columns.length !== output.length) {
      // A side whose columns the binder could not know (bag_unpack or pivot answered by a schema probe): the
      // output is the sides' columns, a right column named like an earlier one suffixed as Kusto does (`k1`).
      const taken = new Set<string>();
      columns = output.map((o) => {
        const c = (o.side === 'left' ? left : right).columns.find((x) => x.name === o.name) as PlanColumn;
        let name = c.name;
        for (let i = 1; taken.has(name); i++) name = `${c.name}${i}`;
        taken.add(name);
        return { name, type: c.type };
      });
    }
    return { kind: 'join', joinKind, left, right, on, where, output, columns };
  }

  private joinKeys(on: readonly Expr[], left: Rel, right: Rel): { left: ScalarExpr; right: ScalarExpr }[] {
    const out: { left: ScalarExpr; right: ScalarExpr }[] = [];
    const visit = (e: Expr): void => {
      let x = e;
      while (x.kind === 'Paren') x = x.expr;
      if (x.kind === 'Name') {
        const name = x.name;
        // A side whose columns are known only at run time (an open bag) reads the key from its bag.
        const find = (rel: Rel): PlanColumn | undefined =>
          rel.columns.find((c) => c.name === name) ??
          (rel.columns.some((c) => c.name.startsWith(OPEN_BAG)) ? { name, type: 'dynamic' } : undefined);
        const l = find(left);
        const r = find(right);
        if (!l || !r) this.unsupported(x, 'This join key');
        out.push({
          left: { kind: 'col', name: l.name, type: l.type, side: 'left' },
          right: { kind: 'col', name: r.name, type: r.type, side: 'right' },
        });
      } else if (x.kind === 'Binary' && x.op === 'and') {
        visit(x.left);
        visit(x.right);
      } else if (x.kind === 'Binary' && x.op === '==') {
        out.push({ left: this.sideColumn(x.left, 'left'), right: this.sideColumn(x.right, 'right') });
      } else {
        this.unsupported(x, 'This join condition');
      }
    };
    for (const e of on) visit(e);
    return out;
  }

  private sideColumn(e: Expr, side: 'left' | 'right'): ScalarExpr {
    let x = e;
    while (x.kind === 'Paren') x = x.expr;
    if (x.kind === 'Member') {
      const sym = this.info(x)?.symbol;
      if (sym?.kind === 'column') return { kind: 'col', name: sym.column.name, type: sym.column.type, side };
      // `$left.X` where that side's columns are known only at run time (bag_unpack, pivot): its open bag's X.
      if (!sym && x.expr.kind === 'Name' && (x.expr.name === '$left' || x.expr.name === '$right')) {
        return { kind: 'col', name: x.member.name, type: 'dynamic', side };
      }
    }
    return this.unsupported(x, 'This join condition operand');
  }

  private joinCondition(e: Expr, left: Rel, right: Rel): ScalarExpr {
    return this.scalar(e, {
      input: null,
      left: left.columns as Column[],
      right: right.columns as Column[],
    });
  }

  private lookup(op: QueryOperator & { kind: 'Lookup' }, left: Rel): Rel {
    const right = this.rel(op.right);
    const kindParam = op.params.find((p) => p.name === 'kind')?.value;
    const kindText = kindParam?.kind === 'Name' ? kindParam.name : 'leftouter';
    const joinKind: JoinKind = kindText === 'inner' ? 'inner' : 'leftouter';
    const on = this.joinKeys(op.on, left, right);
    const rightKeys = new Set(on.map((k) => (k.right.kind === 'col' ? k.right.name : '')));
    const output: { side: 'left' | 'right'; name: string }[] = [
      ...visibleColumns(left.columns).map((c) => ({ side: 'left' as const, name: c.name })),
      ...visibleColumns(right.columns)
        .filter((c) => !rightKeys.has(c.name))
        .map((c) => ({ side: 'right' as const, name: c.name })),
    ];
    // Kusto's lookup keeps every left row and takes one matching right row (the right side is a dimension table).
    return { kind: 'join', joinKind, left, right, on, where: null, output, columns: this.tableColumns(op) };
  }

  private union(op: QueryOperator & { kind: 'Union' }, input: Rel | null): Rel {
    const inputs: Rel[] = [];
    const names: string[] = [];
    if (input) {
      inputs.push(input);
      names.push('');
    }
    this.tableLegs(op.tables, inputs, names, 'union');
    const columns = this.tableColumns(op);
    const source = op.params.find((p) => p.name === 'withsource');
    return unionRel(inputs, source ? names : null, columns);
  }

  /**
   * The relations of union/search/find legs (names, wildcards over table names, sub-queries) and the name each
   * reports in a source column: the table's name, or `<prefix>_arg<i>` for anything that is not a table.
   */
  private tableLegs(legs: readonly Expr[], inputs: Rel[], names: string[], prefix: string): void {
    for (const leg of legs) {
      if (leg.kind === 'Wildcard') {
        const re = new RegExp(`^${leg.pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
        for (const t of this.analysis.workspace.tables) {
          if (re.test(t.name)) {
            inputs.push(this.scanOf(t.name, t.columns));
            names.push(t.name);
          }
        }
        continue;
      }
      const info = this.info(leg);
      if (info?.type.kind !== 'table') continue; // a fuzzy leg that does not exist
      const index = names.length;
      inputs.push(this.rel(leg));
      // Tables and views (functions called by name) report their name; anything else its position.
      const named = leg.kind === 'Name' && (info.symbol?.kind === 'table' || this.callOf(leg)?.kind === 'user');
      names.push(named ? leg.name : `${prefix}_arg${index}`);
    }
  }

  private scanOf(table: string, columns: readonly Column[]): Rel {
    return {
      kind: 'scan',
      table,
      columns: columns.map((c) => ({ name: c.name, type: c.type })),
      ...(this.ingestionTime ? { ingestionTime: true } : {}),
    };
  }

  /** The legs `search`/`find` look in: the piped input, `in (...)`, or every table of the workspace. */
  private searchLegs(tables: readonly Expr[] | null, input: Rel | null, prefix: string) {
    const inputs: Rel[] = [];
    const names: string[] = [];
    if (input) {
      inputs.push(input);
      names.push(`${prefix}_arg0`);
    } else if (tables) this.tableLegs(tables, inputs, names, prefix);
    else {
      for (const t of this.analysis.workspace.tables) {
        inputs.push(this.scanOf(t.name, t.columns));
        names.push(t.name);
      }
    }
    return { inputs, names };
  }

  /**
   * `search`: the union of the searched tables with `$table` first, filtered by the predicate, where a string
   * literal is a term looked up in every column (`has`; `x*` a prefix, `*x` a suffix, `*x*` a substring).
   */
  private search(op: QueryOperator & { kind: 'Search' }, input: Rel | null): Rel {
    const columns = this.tableColumns(op);
    const { inputs, names } = this.searchLegs(op.tables, input, 'search');
    const caseSensitive = paramText(op.params, 'kind') === 'case_sensitive';
    // Each table is filtered on its own columns before the union (a table without a column the predicate names
    // has no matching rows).
    const legs: Rel[] = [];
    const legNames: string[] = [];
    inputs.forEach((leg, i) => {
      // The text of all the row's columns is computed once per row when the predicate has terms.
      const hay = this.hiddenName('text');
      const texts = leg.columns.map((c) => (c.type === 'string' ? colRef(c) : call('tostring', [colRef(c)], 'string')));
      const haystack =
        texts.length === 1 ? (texts[0] as ScalarExpr) : call('strcat_delim', [str('\u0001'), ...texts], 'string');
      let usesTerms = false;
      const term = (t: string): ScalarExpr => {
        usesTerms = true;
        return termTest(t, col(hay, 'string'), caseSensitive);
      };
      let predicate: ScalarExpr;
      try {
        predicate = this.searchPredicate(op.predicate, leg.columns, term);
      } catch (err) {
        if (err instanceof Unsupported && inputs.length > 1) return;
        throw err;
      }
      const known = [...leg.columns.map((c) => c.name), hay];
      if (!referencedColumns(predicate).every((n) => known.includes(n))) return;
      const source = usesTerms ? this.extendWith(leg, [{ name: hay, type: 'string', expr: haystack }]) : leg;
      legs.push({ kind: 'filter', input: source, predicate, columns: source.columns });
      legNames.push(names[i] as string);
    });
    return unionRel(legs, legNames, columns);
  }

  private searchPredicate(e: Expr, columns: readonly PlanColumn[], term: (text: string) => ScalarExpr): ScalarExpr {
    if (e.kind === 'Literal' && e.type === 'string') return term(String(e.value ?? ''));
    if (e.kind === 'Paren') return this.searchPredicate(e.expr, columns, term);
    if (e.kind === 'Binary' && (e.op === 'and' || e.op === 'or')) {
      return {
        kind: 'op',
        op: e.op === 'and' ? 'And' : 'Or',
        args: [this.searchPredicate(e.left, columns, term), this.searchPredicate(e.right, columns, term)],
        type: 'bool',
      };
    }
    if (e.kind === 'Call' && e.name.name === 'not' && e.args.length === 1) {
      return call('not', [this.searchPredicate(e.args[0] as Expr, columns, term)], 'bool');
    }
    return this.scalar(e, { input: columns });
  }

  /**
   * `find`: per table, the rows matching the predicate (tables without a column it uses are skipped), with
   * `source_` first, then the projected columns (or the columns common to all tables) and `pack_`, a bag of the
   * row's other non-empty columns.
   */
  private find(op: QueryOperator & { kind: 'Find' }, input: Rel | null): Rel {
    const columns = this.tableColumns(op);
    const { inputs, names } = this.searchLegs(op.tables, input, 'find');
    const out = columns.slice(1);
    const keptInputs: Rel[] = [];
    const keptNames: string[] = [];
    inputs.forEach((leg, i) => {
      let predicate: ScalarExpr;
      try {
        predicate = this.scalar(op.predicate, { input: leg.columns });
      } catch (err) {
        if (err instanceof Unsupported) return;
        throw err;
      }
      if (!referencedColumns(predicate).every((n) => leg.columns.some((c) => c.name === n))) return;
      const filtered: Rel = { kind: 'filter', input: leg, predicate, columns: leg.columns };
      const exprs = out.map((c): ScalarExpr => {
        if (c.name === 'pack_' && c.type === 'dynamic' && !leg.columns.some((x) => x.name === 'pack_')) {
          const others = leg.columns.filter((x) => !out.some((o) => o.name === x.name));
          return call(
            'bag_pack',
            others.flatMap((x) => [str(x.name), colRef(x)]),
            'dynamic',
          );
        }
        const same = leg.columns.find((x) => x.name === c.name && x.type === c.type);
        return same ? colRef(same) : nullLiteral(c.type);
      });
      keptInputs.push({ kind: 'project', input: filtered, exprs, columns: out });
      keptNames.push(names[i] as string);
    });
    return unionRel(keptInputs, keptNames, columns);
  }

  /**
   * mv-apply: the rows are numbered, expanded, and the sub-query runs once per input row (partition.ts rewrites it
   * to work per row number); its rows are joined back to their input row, whose columns the sub-query's
   * same-named columns replace.
   */
  private mvApply(op: QueryOperator & { kind: 'MvApply' }, src: Rel): Rel {
    const rid: PlanColumn = { name: this.hiddenName('row'), type: 'long' };
    const numbered: Rel = {
      kind: 'window',
      input: src,
      exprs: [...src.columns.map(colRef), { kind: 'win', fn: 'row_number', args: [], type: 'long' }],
      columns: [...src.columns, rid],
    };
    const expandedColumns = this.projectionOf(op).entries.map((en) => ({ name: en.column.name, type: en.column.type }));
    const expanded = this.mvExpand(op, numbered, [...expandedColumns, rid]);
    this.implicitInputs.push(expanded);
    let sub: Rel;
    try {
      sub = this.rel(op.subquery);
    } finally {
      this.implicitInputs.pop();
    }
    let perRow: Rel;
    try {
      perRow = partitionBy(sub, expanded, rid, (b) => this.hiddenName(b));
    } catch (e) {
      if (e instanceof PartitionUnsupported) return this.unsupported(op.subquery, `mv-apply with ${e.message}`);
      throw e;
    }
    const out = this.tableColumns(op);
    const fromSub = new Set(perRow.columns.map((c) => c.name));
    return {
      kind: 'join',
      joinKind: 'inner',
      left: numbered,
      right: perRow,
      on: [
        {
          left: { kind: 'col', name: rid.name, type: rid.type, side: 'left' },
          right: { kind: 'col', name: rid.name, type: rid.type, side: 'right' },
        },
      ],
      where: null,
      output: out.map((c) => ({ side: fromSub.has(c.name) ? 'right' : 'left', name: c.name })),
      columns: out,
    };
  }

  /**
   * scan: a state machine over the rows in order (per `partition by` group). The generator computes, per row, which
   * steps it matched (a recursive query, see generate.ts `$scan`) into a hidden struct; each step with output
   * contributes the rows it matched, with that step's declared values and match id, in row order.
   */
  private scanOp(op: QueryOperator & { kind: 'Scan' }, input: Rel): Rel {
    let src = input;
    if (op.orderBy.length) {
      const keys = op.orderBy.map((o) => {
        const k = this.sortKey(o, src.columns);
        return o.direction === null ? { ...k, descending: false, nullsFirst: true } : k;
      });
      src = { kind: 'sort', input: src, keys, columns: src.columns };
    }
    const bound = this.tableColumns(op);
    const declaredCols = bound.slice(src.columns.length, src.columns.length + op.declare.length);
    // Kusto adds the match id column only when `with_match_id` names it (the binder always lists it).
    const withId = op.params.some((p) => p.name === 'with_match_id');
    const out = withId ? bound : bound.slice(0, src.columns.length + op.declare.length);
    const matchCol = withId ? out[src.columns.length + op.declare.length] : undefined;
    const f: Frame = { input: null };
    const declared = new Map<string, ScalarExpr>();
    op.declare.forEach((d, i) => {
      const c = declaredCols[i] as PlanColumn;
      declared.set(c.name, d.defaultValue ? this.scalar(d.defaultValue, f) : nullLiteral(c.type));
    });
    const steps = new Map(op.steps.map((st, i) => [st.name.name, i + 1] as const));
    const args: ScalarExpr[] = [];
    const spec: { steps: PlanValue[]; declared: PlanValue[] } = { steps: [], declared: [] };
    declaredCols.forEach((c) => {
      args.push(declared.get(c.name) as ScalarExpr);
      spec.declared.push({ name: c.name, type: c.type, dflt: args.length });
    });
    const saved = this.scanContext;
    this.scanContext = { steps, declared, columns: [...src.columns, ...declaredCols] };
    try {
      for (const st of op.steps) {
        if (st.output === 'last') this.unsupported(st, "scan steps with 'output=last'");
        const frame: Frame = { input: src.columns };
        args.push(this.scalar(st.predicate, frame));
        const cond = args.length;
        const assigns: PlanValue[] = [];
        for (const a of st.assignments) {
          if (a.kind !== 'NamedExpr' || a.names.length !== 1) return this.unsupported(a, 'This scan assignment');
          const name = (a.names[0] as { name: string }).name;
          const d = spec.declared.findIndex((x) => (x as { name: string }).name === name);
          if (d < 0) return this.unsupported(a, `Assigning '${name}' (only declared columns can be assigned)`);
          args.push(this.scalar(a.expr, frame));
          assigns.push([d, args.length]);
        }
        spec.steps.push({ name: st.name.name, output: st.output ?? 'all', cond, assigns });
      }
    } finally {
      this.scanContext = saved;
    }
    const partition = op.partitionBy.map((p) => this.scalar(p, { input: src.columns }));
    const stateCol: PlanColumn = { name: this.hiddenName('scan'), type: 'unknown' };
    const rowCol: PlanColumn = { name: this.hiddenName('row'), type: 'long' };
    const state: Rel = {
      kind: 'window',
      input: src,
      exprs: [
        ...src.columns.map(colRef),
        {
          kind: 'win',
          fn: '$scan',
          args: [{ kind: 'lit', type: 'dynamic', value: spec }, ...args],
          type: 'dynamic',
          ...(partition.length ? { partition } : {}),
        },
        { kind: 'win', fn: 'row_number', args: [], type: 'long' },
      ],
      columns: [...src.columns, stateCol, rowCol],
    };
    // The struct holds, per step: matched, match id, then the declared values.
    const width = 2 + declaredCols.length;
    const field = (step: number, i: number, type: ColumnType): ScalarExpr => ({
      kind: 'call',
      fn: '__tuple_element',
      args: [colRef(stateCol), long((step - 1) * width + i)],
      type,
    });
    const legs: Rel[] = [];
    op.steps.forEach((st, i) => {
      const k = i + 1;
      if ((st.output ?? 'all') === 'none') return;
      const matched: Rel = { kind: 'filter', input: state, predicate: field(k, 0, 'bool'), columns: state.columns };
      const exprs = out.map((c): ScalarExpr => {
        const d = declaredCols.findIndex((x) => x.name === c.name);
        if (d >= 0) return field(k, 2 + d, c.type);
        if (c === matchCol) return field(k, 1, 'long');
        return colRef(c);
      });
      legs.push({
        kind: 'project',
        input: matched,
        exprs: [...exprs, colRef(rowCol), long(k)],
        columns: [...out, rowCol, { name: '\u0000step', type: 'long' }],
      });
    });
    const all: Rel =
      legs.length === 1
        ? (legs[0] as Rel)
        : unionRel(legs, null, [...out, rowCol, { name: '\u0000step', type: 'long' }]);
    const ordered: Rel = {
      kind: 'sort',
      input: all,
      keys: [
        { expr: colRef(rowCol), descending: false, nullsFirst: false },
        { expr: col('\u0000step', 'long'), descending: false, nullsFirst: false },
      ],
      columns: all.columns,
    };
    return { kind: 'project', input: ordered, exprs: out.map(colRef), columns: out };
  }

  // ───────────────────────────── plugins ─────────────────────────────

  private evaluate(op: QueryOperator & { kind: 'Evaluate' }, input: Rel | null): Rel {
    const name = op.call.name.name;
    switch (name) {
      case 'python':
      case 'r':
      case 'csharp':
        return this.unsupported(op.call, `The '${name}' plugin (sandboxed code execution)`);
      case 'narrow':
        return this.narrow(op, this.need(input, op));
      case 'bag_unpack':
        return this.bagUnpack(op, this.need(input, op));
      case 'pivot':
        return this.pivot(op, this.need(input, op));
      case 'rows_near':
        return this.rowsNear(op, this.need(input, op));
      case 'dcount_intersect': {
        const src = this.need(input, op);
        const out = this.tableColumns(op);
        const sketches = this.pluginArgs(op.call).positional.map((a) => this.scalar(a, { input: src.columns }));
        const exprs = out.map((c, i): ScalarExpr => {
          if (i < src.columns.length) return colRef(c);
          const k = i - src.columns.length;
          return call('__hll_intersect_count', sketches.slice(0, k + 1), 'long');
        });
        return { kind: 'project', input: src, exprs, columns: out };
      }
      case 'geo_line_lookup':
      case 'geo_polygon_lookup':
        return this.geoLookup(op, this.need(input, op), name === 'geo_line_lookup');
      case 'sliding_window_counts':
        return this.slidingWindowCounts(op, this.need(input, op));
      case 'active_users_count':
        return this.activeUsersCount(op, this.need(input, op));
      case 'autocluster':
        // Seed-Expand's choices (seeds, scoring, which patterns survive) are not documented: refused, not guessed
        return this.unsupported(op.call, "The 'autocluster' plugin (basket returns every frequent pattern)");
      case 'sequence_detect':
        return lowerSequenceDetect(this.graphHost(), op, this.need(input, op));
      case 'basket':
        return lowerBasket(this.graphHost(), op, this.need(input, op));
      case 'ipv4_lookup':
      case 'ipv6_lookup':
        return this.ipLookup(
          op,
          this.need(input, op),
          name === 'ipv4_lookup' ? 'ipv4_is_in_range' : 'ipv6_is_in_range',
        );
      default:
        return this.unsupported(op.call, `The '${name}' plugin`);
    }
  }

  /**
   * `sliding_window_counts(id, time, start, end, lookback, bin [, dim...])`: per bin of the timeline (bins of `bin`
   * from `start` up to `end`), the records (Count) and distinct ids (dcount) of the lookback window that ends with the
   * bin. A record counts in the bins whose window holds it: its own and the next ceil(lookback / bin) - 1 bins (a
   * join with the offsets 0..n-1); bins without records are absent.
   */
  private slidingWindowCounts(op: QueryOperator & { kind: 'Evaluate' }, src: Rel): Rel {
    const { positional } = this.pluginArgs(op.call);
    const [idArg, timeArg, startArg, endArg, lookbackArg, binArg, ...dimArgs] = positional;
    if (!idArg || !timeArg || !startArg || !endArg || !lookbackArg || !binArg) {
      return this.unsupported(op.call, 'sliding_window_counts without its six arguments');
    }
    const out = this.tableColumns(op);
    if (out.length !== dimArgs.length + 3) return this.unsupported(op.call, 'This use of sliding_window_counts');
    const w = this.lookbackWindows(src, out, idArg, timeArg, startArg, endArg, lookbackArg, binArg, dimArgs);
    const [countCol, dcountCol] = out.slice(1 + dimArgs.length) as [PlanColumn, PlanColumn];
    return {
      kind: 'aggregate',
      input: w.rel,
      keys: w.keys,
      aggregates: [
        { name: countCol.name, expr: { kind: 'agg', fn: 'count', args: [], type: 'long' } },
        { name: dcountCol.name, expr: { kind: 'agg', fn: 'dcount', args: [colRef(w.idCol)], type: 'long' } },
      ],
      columns: out,
    };
  }

  /**
   * `active_users_count(id, time, start, end, lookback, period, activePeriods, bin [, dim...])`: an id is active on
   * a period (bin of `period` from start) where it was seen when it was seen in at least `activePeriods` distinct
   * periods of the lookback window ending with that one (`lookback` long, that period included); per bin of `bin`
   * from start to end, the number of ids active on some period of the bin. Bins without active ids are absent.
   */
  private activeUsersCount(op: QueryOperator & { kind: 'Evaluate' }, src: Rel): Rel {
    const { positional } = this.pluginArgs(op.call);
    const [idArg, timeArg, startArg, endArg, lookbackArg, periodArg, activeArg, binArg, ...dimArgs] = positional;
    if (!idArg || !timeArg || !startArg || !endArg || !lookbackArg || !periodArg || !activeArg || !binArg) {
      return this.unsupported(op.call, 'active_users_count without its eight arguments');
    }
    const out = this.tableColumns(op);
    if (out.length !== dimArgs.length + 2) return this.unsupported(op.call, 'This use of active_users_count');
    const frame: Frame = { input: src.columns };
    const none: Frame = { input: null };
    const [start, end, lookback, period, bin] = [startArg, endArg, lookbackArg, periodArg, binArg].map((a) =>
      this.scalar(a, none),
    ) as [ScalarExpr, ScalarExpr, ScalarExpr, ScalarExpr, ScalarExpr];
    const id = this.scalar(idArg, frame);
    const idCol: PlanColumn = { name: this.hiddenName('id'), type: id.type === 'unknown' ? 'dynamic' : id.type };
    const periodCol: PlanColumn = { name: this.hiddenName('period'), type: 'datetime' };
    const dimCols = out.slice(1, 1 + dimArgs.length);
    // One row per id, period seen and dimensions.
    const seen: Rel = {
      kind: 'distinct',
      input: {
        kind: 'project',
        input: src,
        exprs: [
          id,
          call('bin_at', [this.scalar(timeArg, frame), period, start], 'datetime'),
          ...dimArgs.map((a) => this.scalar(a, frame)),
        ],
        columns: [idCol, periodCol, ...dimCols],
      },
      columns: [idCol, periodCol, ...dimCols],
    };
    const side = (c: PlanColumn, s: 'left' | 'right'): ScalarExpr => ({
      kind: 'col',
      name: c.name,
      type: c.type,
      side: s,
    });
    // Each seen period joined to the same id's periods in its lookback window: (p - lookback, p].
    const from: ScalarExpr = {
      kind: 'op',
      op: 'Subtract',
      args: [side(periodCol, 'left'), lookback],
      type: 'datetime',
    };
    const within: ScalarExpr = {
      kind: 'op',
      op: 'And',
      args: [
        { kind: 'op', op: 'GreaterThan', args: [side(periodCol, 'right'), from], type: 'bool' },
        { kind: 'op', op: 'LessThanOrEqual', args: [side(periodCol, 'right'), side(periodCol, 'left')], type: 'bool' },
      ],
      type: 'bool',
    };
    const otherPeriod: PlanColumn = { name: this.hiddenName('other'), type: 'datetime' };
    const pairs: Rel = {
      kind: 'join',
      joinKind: 'inner',
      left: seen,
      right: seen,
      on: [idCol, ...dimCols].map((c) => ({ left: side(c, 'left'), right: side(c, 'right') })),
      where: within,
      output: [
        ...seen.columns.map((c) => ({ side: 'left' as const, name: c.name })),
        { side: 'right', name: periodCol.name },
      ],
      columns: [...seen.columns, otherPeriod],
    };
    const countCol: PlanColumn = { name: this.hiddenName('periods'), type: 'long' };
    const perPeriod: Rel = {
      kind: 'aggregate',
      input: pairs,
      keys: seen.columns.map((c) => ({ name: c.name, expr: colRef(c) })),
      aggregates: [
        { name: countCol.name, expr: { kind: 'agg', fn: 'dcount', args: [colRef(otherPeriod)], type: 'long' } },
      ],
      columns: [...seen.columns, countCol],
    };
    const timeCol: PlanColumn = { name: (out[0] as PlanColumn).name, type: 'datetime' };
    const t = colRef(timeCol);
    const activeRows: Rel = {
      kind: 'filter',
      input: {
        kind: 'project',
        input: {
          kind: 'filter',
          input: perPeriod,
          predicate: {
            kind: 'op',
            op: 'GreaterThanOrEqual',
            args: [colRef(countCol), this.scalar(activeArg, none)],
            type: 'bool',
          },
          columns: perPeriod.columns,
        },
        exprs: [call('bin_at', [colRef(periodCol), bin, start], 'datetime'), colRef(idCol), ...dimCols.map(colRef)],
        columns: [timeCol, idCol, ...dimCols],
      },
      predicate: betweenInclusive(t, start, end),
      columns: [timeCol, idCol, ...dimCols],
    };
    const dcountCol = out[out.length - 1] as PlanColumn;
    return {
      kind: 'aggregate',
      input: activeRows,
      keys: [{ name: timeCol.name, expr: t }, ...dimCols.map((c) => ({ name: c.name, expr: colRef(c) }))],
      aggregates: [{ name: dcountCol.name, expr: { kind: 'agg', fn: 'dcount', args: [colRef(idCol)], type: 'long' } }],
      columns: out,
    };
  }

  /**
   * The rows of sliding_window_counts: each record once per bin whose lookback window holds it (its own bin of `bin`
   * from start and the next ceil(lookback / bin) - 1, within [start, end]), with the bin in the timeline column
   * (out[0]), the id and the dimensions.
   */
  private lookbackWindows(
    src: Rel,
    out: readonly PlanColumn[],
    idArg: Expr,
    timeArg: Expr,
    startArg: Expr,
    endArg: Expr,
    lookbackArg: Expr,
    binArg: Expr,
    dimArgs: readonly Expr[],
  ): { rel: Rel; keys: NamedScalar[]; idCol: PlanColumn } {
    const frame: Frame = { input: src.columns };
    const none: Frame = { input: null };
    const [start, end, lookback, bin] = [startArg, endArg, lookbackArg, binArg].map((a) => this.scalar(a, none)) as [
      ScalarExpr,
      ScalarExpr,
      ScalarExpr,
      ScalarExpr,
    ];
    const id = this.scalar(idArg, frame);
    const time = this.scalar(timeArg, frame);
    const binCol: PlanColumn = { name: this.hiddenName('bin'), type: 'datetime' };
    const idCol: PlanColumn = { name: this.hiddenName('id'), type: id.type === 'unknown' ? 'dynamic' : id.type };
    const dimCols = out.slice(1, 1 + dimArgs.length);
    const binned: Rel = {
      kind: 'project',
      input: src,
      exprs: [call('bin_at', [time, bin, start], 'datetime'), id, ...dimArgs.map((a) => this.scalar(a, frame))],
      columns: [binCol, idCol, ...dimCols],
    };
    const kCol: PlanColumn = { name: this.hiddenName('k'), type: 'long' };
    const tick: ScalarExpr = { kind: 'lit', type: 'timespan', value: '1' };
    const spanned: ScalarExpr = { kind: 'op', op: 'Subtract', args: [lookback, tick], type: 'timespan' };
    const offsets: Rel = {
      kind: 'range',
      from: long(0),
      to: call('tolong', [{ kind: 'op', op: 'Divide', args: [spanned, bin], type: 'real' }], 'long'),
      step: long(1),
      columns: [kCol],
    };
    const joined: Rel = {
      kind: 'join',
      joinKind: 'inner',
      left: binned,
      right: offsets,
      on: [],
      where: null,
      output: [
        ...binned.columns.map((c) => ({ side: 'left' as const, name: c.name })),
        { side: 'right', name: kCol.name },
      ],
      columns: [...binned.columns, kCol],
    };
    const timeCol = out[0] as PlanColumn;
    const at: ScalarExpr = {
      kind: 'op',
      op: 'Add',
      args: [colRef(binCol), { kind: 'op', op: 'Multiply', args: [colRef(kCol), bin], type: 'timespan' }],
      type: 'datetime',
    };
    const shifted: Rel = {
      kind: 'project',
      input: joined,
      exprs: [at, colRef(idCol), ...dimCols.map(colRef)],
      columns: [{ name: timeCol.name, type: 'datetime' }, idCol, ...dimCols],
    };
    const t = colRef({ name: timeCol.name, type: 'datetime' });
    const inRange: Rel = {
      kind: 'filter',
      input: shifted,
      predicate: betweenInclusive(t, start, end),
      columns: shifted.columns,
    };
    const keys = [{ name: timeCol.name, expr: t }, ...dimCols.map((c) => ({ name: c.name, expr: colRef(c) }))];
    return { rel: inRange, keys, idCol };
  }

  /** `rows_near(condition, before [, after])`: the rows within that many rows of a row where the condition holds. */
  private rowsNear(op: QueryOperator & { kind: 'Evaluate' }, src: Rel): Rel {
    const { positional } = this.pluginArgs(op.call);
    const [cond, before, after] = positional;
    if (!cond || !before) return this.unsupported(op.call, 'rows_near without a condition and a row count');
    const f: Frame = { input: null };
    const nBefore = this.scalar(before, f);
    const nAfter =
      after && !(after.kind === 'Literal' && typeof after.value === 'boolean') ? this.scalar(after, f) : nBefore;
    const near: PlanColumn = { name: this.hiddenName('near'), type: 'bool' };
    // A row is kept when a matching row is at most `after` rows before it or `before` rows after it.
    const flagged: Rel = {
      kind: 'window',
      input: src,
      exprs: [
        ...src.columns.map(colRef),
        {
          kind: 'win',
          fn: '$any_in_frame',
          args: [this.scalar(cond, { input: src.columns }), nAfter, nBefore],
          type: 'bool',
        },
      ],
      columns: [...src.columns, near],
    };
    const kept: Rel = { kind: 'filter', input: flagged, predicate: colRef(near), columns: flagged.columns };
    return { kind: 'project', input: kept, exprs: src.columns.map(colRef), columns: src.columns };
  }

  /** The positional and named arguments of a plugin call. */
  private pluginArgs(call: Call): { positional: Expr[]; named: Map<string, Expr> } {
    const positional: Expr[] = [];
    const named = new Map<string, Expr>();
    for (const a of call.args) {
      if (a.kind === 'NamedArg') named.set(a.name.name, a.value);
      else positional.push(a);
    }
    return { positional, named };
  }

  /** `narrow()`: one row per input cell (Row, Column, Value as text), in row then column order. */
  private narrow(op: QueryOperator & { kind: 'Evaluate' }, src: Rel): Rel {
    const out = this.tableColumns(op) as [PlanColumn, PlanColumn, PlanColumn];
    const rn: PlanColumn = { name: this.hiddenName('row'), type: 'long' };
    const numbered: Rel = {
      kind: 'window',
      input: src,
      exprs: [...src.columns.map(colRef), { kind: 'win', fn: 'row_number', args: [], type: 'long' }],
      columns: [...src.columns, rn],
    };
    const ord: PlanColumn = { name: this.hiddenName('col'), type: 'long' };
    const legs = visibleColumns(src.columns).map(
      (c, i): Rel => ({
        kind: 'project',
        input: numbered,
        exprs: [
          { kind: 'op', op: 'Subtract', args: [colRef(rn), long(1)], type: 'long' },
          str(c.name),
          c.type === 'string' ? colRef(c) : call('tostring', [colRef(c)], 'string'),
          long(i),
        ],
        columns: [...out, ord],
      }),
    );
    const all = unionRel(legs, null, [...out, ord]);
    const sorted: Rel = {
      kind: 'sort',
      input: all,
      keys: [
        { expr: colRef(out[0]), descending: false, nullsFirst: false },
        { expr: colRef(ord), descending: false, nullsFirst: false },
      ],
      columns: all.columns,
    };
    return { kind: 'project', input: sorted, exprs: out.map(colRef), columns: out };
  }

  /**
   * `bag_unpack(bag [, prefix])`: with an output schema (`: (*, a:long)`), the listed columns read from the bag and
   * converted; without one, the bag's keys are only known at run time: the input (minus the bag) carries the bag as
   * an open column, and a later reference to an unknown column name reads that property (see generate.ts).
   */
  private bagUnpack(op: QueryOperator & { kind: 'Evaluate' }, src: Rel): Rel {
    const { positional, named } = this.pluginArgs(op.call);
    const bagExpr = positional[0];
    if (!bagExpr) return this.unsupported(op.call, 'bag_unpack without a column');
    const frame: Frame = { input: src.columns };
    const bag = this.scalar(bagExpr, frame);
    const prefixArg = positional[1];
    const prefix = prefixArg?.kind === 'Literal' ? String(prefixArg.value ?? '') : '';
    const bagName = bag.kind === 'col' ? bag.name : null;
    const kept = src.columns.filter((c) => c.name !== bagName);
    const keepSource = paramIs(named.get('columnsConflict'), 'keep_source');
    const schema = op.params.find((p) => p.name === 'schema')?.value;
    const property = (key: string, type: ColumnType): ScalarExpr => {
      const v: ScalarExpr = { kind: 'path', expr: bag, path: [key], type: 'dynamic' };
      return type === 'string' ? call('tostring', [v], 'string') : type === 'dynamic' ? v : fromDynamic(v, type);
    };
    if (schema?.kind === 'TypeOf' && schema.type.columns) {
      const columns: PlanColumn[] = [];
      const exprs: ScalarExpr[] = [];
      for (const d of schema.type.columns) {
        if (d.kind !== 'ColumnDecl') continue;
        const dn = d.name.name;
        if (dn === '*') continue;
        const type = this.declaredType(d.type);
        const inInput = kept.find((c) => c.name === dn);
        if (inInput && keepSource) continue;
        columns.push({ name: dn, type });
        const key = prefix && dn.startsWith(prefix) ? dn.slice(prefix.length) : dn;
        exprs.push(property(key, type));
      }
      const base = schema.type.star ? kept.filter((c) => !columns.some((x) => x.name === c.name)) : [];
      return {
        kind: 'project',
        input: src,
        exprs: [...base.map(colRef), ...exprs],
        columns: [...base, ...columns],
      };
    }
    // A schema found by a probe: the properties as typed columns (a property named like a kept column replaces
    // it unless columnsConflict='keep_source').
    const key = String(op.call.start);
    const probed = this.options.dynamicSchemas?.get(key);
    if (probed) {
      const ignored = this.ignoredProperties(named.get('ignoredProperties'));
      const props = probed
        .filter((c) => !ignored.has(c.name))
        .map((c) => ({ name: `${prefix}${c.name}`, key: c.name, type: c.type }))
        .filter((c) => !(keepSource && kept.some((k) => k.name === c.name)));
      const base = kept.filter((c) => !props.some((x) => x.name === c.name));
      // No properties at all (no rows, e.g. an empty table): the bag still travels open, so that later references
      // to properties read null instead of failing the query.
      const open: PlanColumn[] = probed.length === 0 ? [{ name: `${OPEN_BAG}${prefix}`, type: 'dynamic' }] : [];
      return {
        kind: 'project',
        input: src,
        exprs: [...base.map(colRef), ...props.map((c) => property(c.key, c.type)), ...open.map(() => bag)],
        columns: [...base, ...props.map((c) => ({ name: c.name, type: c.type })), ...open],
      };
    }
    this.probes.push({ key, kind: 'bag-keys', rel: this.withBindings(src), expr: bag });
    // No schema yet: the bag travels as an open column (its name carries the prefix).
    return {
      kind: 'project',
      input: src,
      exprs: [...kept.map(colRef), bag],
      columns: [...kept, { name: `${OPEN_BAG}${prefix}`, type: 'dynamic' }],
    };
  }

  /** bag_unpack's `ignoredProperties=dynamic([...])`. */
  private ignoredProperties(e: Expr | undefined): Set<string> {
    const v = e ? this.scalar(e, { input: null }) : null;
    const list = v?.kind === 'lit' && Array.isArray(v.value) ? v.value : [];
    return new Set(list.filter((x): x is string => typeof x === 'string'));
  }

  /** A type written in a schema (`long`, `string`, ...). */
  private declaredType(t: { scalar: string | null } | null): ColumnType {
    const name = t?.scalar?.toLowerCase();
    const aliases: Record<string, ColumnType> = {
      bool: 'bool',
      boolean: 'bool',
      int: 'int',
      long: 'long',
      real: 'real',
      double: 'real',
      decimal: 'decimal',
      string: 'string',
      datetime: 'datetime',
      date: 'datetime',
      timespan: 'timespan',
      time: 'timespan',
      guid: 'guid',
      dynamic: 'dynamic',
    };
    return (name && aliases[name]) || 'dynamic';
  }

  /**
   * `pivot(column [, aggregate] [, keep...])`: per group of the kept columns, one value per distinct value of the
   * pivot column; those columns are known only at run time, so the group carries them as an open bag (see
   * bagUnpack).
   */
  private pivot(op: QueryOperator & { kind: 'Evaluate' }, src: Rel): Rel {
    const { positional } = this.pluginArgs(op.call);
    const out = this.tableColumns(op);
    const frame: Frame = { input: src.columns };
    const pivotExpr = positional[0];
    if (!pivotExpr) return this.unsupported(op.call, 'pivot without a column');
    const pivotKey = this.asText(this.scalar(pivotExpr, frame));
    const aggArg = positional[1];
    const agg: ScalarExpr = aggArg ? this.scalar(aggArg, frame) : { kind: 'agg', fn: 'count', args: [], type: 'long' };
    const keyCol: PlanColumn = { name: this.hiddenName('key'), type: 'string' };
    const valueCol: PlanColumn = { name: this.hiddenName('value'), type: agg.type };
    const groups = out.map((c) => ({ name: c.name, expr: colRef(c) }));
    const perKey: Rel = {
      kind: 'aggregate',
      input: src,
      keys: [...groups, { name: keyCol.name, expr: pivotKey }],
      aggregates: [{ name: valueCol.name, expr: agg }],
      columns: [...out, keyCol, valueCol],
    };
    const key = String(op.call.start);
    const probed = this.options.dynamicSchemas?.get(key);
    // A probe that found no values (no rows) falls through to the open bag, so later references read null.
    if (probed && probed.length > 0) {
      // One column per value found by the probe: the aggregate of the group's rows with that value.
      return {
        kind: 'aggregate',
        input: perKey,
        keys: groups,
        aggregates: probed.map((c) => ({
          name: c.name,
          expr: {
            kind: 'agg',
            fn: 'take_anyif',
            args: [colRef(valueCol), { kind: 'op', op: 'Equal', args: [colRef(keyCol), str(c.name)], type: 'bool' }],
            type: valueCol.type,
          },
        })),
        columns: [...out, ...probed.map((c) => ({ name: c.name, type: valueCol.type }))],
      };
    }
    this.probes.push({ key, kind: 'pivot-values', rel: this.withBindings(src), expr: pivotKey, valueType: agg.type });
    const bagCol: PlanColumn = { name: OPEN_BAG, type: 'dynamic' };
    return {
      kind: 'aggregate',
      input: perKey,
      keys: groups,
      aggregates: [
        {
          name: bagCol.name,
          expr: {
            kind: 'agg',
            fn: 'make_bag',
            args: [call('bag_pack', [colRef(keyCol), colRef(valueCol)], 'dynamic')],
            type: 'dynamic',
          },
        },
      ],
      columns: [...out, bagCol],
    };
  }

  /** `ipv4_lookup(T, ip, range [, keys...] [, return_unmatched])`: the rows of T whose range holds the row's IP. */
  private ipLookup(op: QueryOperator & { kind: 'Evaluate' }, src: Rel, test: string): Rel {
    const { positional, named } = this.pluginArgs(op.call);
    const [tableArg, ipArg, rangeArg, ...rest] = positional;
    if (!tableArg || !ipArg || !rangeArg) return this.unsupported(op.call, 'This lookup');
    const right = this.rel(tableArg);
    const unmatchedArg =
      named.get('return_unmatched') ?? rest.find((a) => a.kind === 'Literal' && typeof a.value === 'boolean');
    const keys = rest.filter((a) => a !== unmatchedArg);
    const leftCol = (e: Expr): ScalarExpr => ({ ...this.sideExpr(e, src.columns), side: 'left' }) as ScalarExpr;
    const rightCol = (e: Expr): ScalarExpr => ({ ...this.sideExpr(e, right.columns), side: 'right' }) as ScalarExpr;
    let where: ScalarExpr = call(test, [leftCol(ipArg), rightCol(rangeArg)], 'bool');
    const on: { left: ScalarExpr; right: ScalarExpr }[] = [];
    for (const k of keys) on.push({ left: leftCol(k), right: rightCol(k) });
    void where;
    where = call(test, [leftCol(ipArg), rightCol(rangeArg)], 'bool');
    const unmatched = unmatchedArg?.kind === 'Literal' && unmatchedArg.value === true;
    const out = this.tableColumns(op);
    const keyNames = new Set(on.map((k) => (k.right.kind === 'col' ? k.right.name : '')));
    const rightCols = right.columns.filter((c) => !keyNames.has(c.name));
    const output = [
      ...visibleColumns(src.columns).map((c) => ({ side: 'left' as const, name: c.name })),
      ...visibleColumns(rightCols).map((c) => ({ side: 'right' as const, name: c.name })),
    ];
    return {
      kind: 'join',
      joinKind: unmatched ? 'leftouter' : 'inner',
      left: src,
      right,
      on,
      where,
      output: output.slice(0, out.length),
      columns: out,
    };
  }

  /**
   * `geo_polygon_lookup(T, polygon, lon, lat [, return_unmatched] [, return_lookup_key])` and
   * `geo_line_lookup(T, line, lon, lat, radius [, ...])`: the rows of T whose polygon holds the point, or whose line
   * is within `radius` meters of it (a join on geo_point_in_polygon / geo_distance_point_to_line). The shape column
   * is returned only with return_lookup_key=true.
   */
  private geoLookup(op: QueryOperator & { kind: 'Evaluate' }, src: Rel, line: boolean): Rel {
    const { positional, named } = this.pluginArgs(op.call);
    const [tableArg, shapeArg, lonArg, latArg, ...rest] = positional;
    const radiusArg = line ? rest[0] : undefined;
    if (!tableArg || !shapeArg || !lonArg || !latArg || (line && !radiusArg)) {
      return this.unsupported(op.call, 'This lookup');
    }
    const right = this.rel(tableArg);
    const isBool = (a: Expr | undefined) => a?.kind === 'Literal' && typeof a.value === 'boolean';
    const flags = rest.slice(line ? 1 : 0).filter(isBool);
    const unmatchedArg = named.get('return_unmatched') ?? flags[0];
    const unmatched = unmatchedArg?.kind === 'Literal' && unmatchedArg.value === true;
    const keyArg = named.get('return_lookup_key');
    const returnKey = keyArg?.kind === 'Literal' && keyArg.value === true;
    const lon = { ...this.sideExpr(lonArg, src.columns), side: 'left' } as ScalarExpr;
    const lat = { ...this.sideExpr(latArg, src.columns), side: 'left' } as ScalarExpr;
    const shapeCol = this.sideExpr(shapeArg, right.columns);
    const shape = { ...shapeCol, side: 'right' } as ScalarExpr;
    const where: ScalarExpr = line
      ? {
          kind: 'op',
          op: 'LessThanOrEqual',
          args: [
            call('geo_distance_point_to_line', [lon, lat, shape], 'real'),
            this.scalar(radiusArg as Expr, { input: null }),
          ],
          type: 'bool',
        }
      : call('geo_point_in_polygon', [lon, lat, shape], 'bool');
    const out = this.tableColumns(op);
    const rightCols = right.columns.filter((c) => returnKey || c.name !== shapeCol.name);
    const output = [
      ...visibleColumns(src.columns).map((c) => ({ side: 'left' as const, name: c.name })),
      ...visibleColumns(rightCols).map((c) => ({ side: 'right' as const, name: c.name })),
    ];
    if (output.length !== out.length) return this.unsupported(op.call, 'This lookup');
    return {
      kind: 'join',
      joinKind: unmatched ? 'leftouter' : 'inner',
      left: src,
      right,
      on: [],
      where,
      output,
      columns: out,
    };
  }

  /** A column of a join side named by an argument (`ip`, `network`). */
  private sideExpr(e: Expr, columns: readonly PlanColumn[]): ScalarExpr & { kind: 'col' } {
    const name = e.kind === 'Name' ? e.name : null;
    const c = name !== null ? columns.find((x) => x.name === name) : undefined;
    if (!c) return this.unsupported(e, 'A lookup argument that is not a column');
    return { kind: 'col', name: c.name, type: c.type };
  }

  /** `partition by k (sub-query)`: the sub-query per value of k, as one query (see partition.ts). */
  private partition(op: QueryOperator & { kind: 'Partition' }, src: Rel): Rel {
    if (op.braces) return this.unsupported(op, "partition with a '{ ... }' sub-query");
    let by: Expr = op.by;
    while (by.kind === 'Paren') by = by.expr;
    const sym = this.info(by)?.symbol;
    const key = sym?.kind === 'column' ? src.columns.find((c) => c.name === sym.column.name) : undefined;
    if (!key) return this.unsupported(op.by, 'partition by an expression that is not a column');
    this.implicitInputs.push(src);
    let sub: Rel;
    try {
      sub = this.rel(op.subquery);
    } finally {
      this.implicitInputs.pop();
    }
    let perKey: Rel;
    try {
      perKey = partitionBy(sub, src, key, (b) => this.hiddenName(b));
    } catch (e) {
      if (e instanceof PartitionUnsupported) return this.unsupported(op.subquery, `partition with ${e.message}`);
      throw e;
    }
    const out = this.tableColumns(op);
    return { kind: 'project', input: perKey, exprs: out.map(colRef), columns: out };
  }

  /** `top-hitters N of x [by e]`: the N most frequent values of x (by count or by the sum of e), exactly. */
  private topHitters(op: QueryOperator & { kind: 'TopHitters' }, src: Rel): Rel {
    const columns = this.tableColumns(op);
    const [of, weight] = columns as [PlanColumn, PlanColumn];
    const frame: Frame = { input: src.columns };
    const agg: ScalarExpr = op.by
      ? { kind: 'agg', fn: 'sum', args: [this.scalar(op.by, frame)], type: weight.type }
      : { kind: 'agg', fn: 'count', args: [], type: 'long' };
    const grouped: Rel = {
      kind: 'aggregate',
      input: src,
      keys: [{ name: of.name, expr: this.scalar(op.of, frame) }],
      aggregates: [{ name: weight.name, expr: agg }],
      columns,
    };
    const sorted: Rel = {
      kind: 'sort',
      input: grouped,
      keys: [{ expr: colRef(weight), descending: true, nullsFirst: false }],
      columns,
    };
    return { kind: 'limit', input: sorted, count: this.scalar(op.count, { input: null }), columns };
  }

  /**
   * `top-nested`: level by level, the groups of the level's value within each kept group of the levels above,
   * aggregated and ranked (descending unless `asc`), the first N kept.
   */
  private topNested(op: QueryOperator & { kind: 'TopNested' }, src: Rel): Rel {
    const out = this.tableColumns(op);
    const frame: Frame = { input: src.columns };
    const unwrap = (e: Expr): Expr => (e.kind === 'NamedExpr' ? e.expr : e);
    let result = null as Rel | null;
    const keyExprs: NamedScalar[] = [];
    op.clauses.forEach((clause, level) => {
      if (clause.withOthers) this.unsupported(clause.withOthers, "top-nested 'with others'");
      const ofCol = out[2 * level] as PlanColumn;
      const aggCol = out[2 * level + 1] as PlanColumn;
      keyExprs.push({ name: ofCol.name, expr: this.scalar(unwrap(clause.of), frame) });
      const grouped: Rel = {
        kind: 'aggregate',
        input: src,
        keys: [...keyExprs],
        aggregates: [{ name: aggCol.name, expr: this.scalar(unwrap(clause.by), frame) }],
        columns: [...keyExprs.map((_k, i) => out[2 * i] as PlanColumn), aggCol],
      };
      // Keep only the groups under the kept groups of the previous level (and bring their aggregates along).
      const previous: Rel | null = result;
      let joined: Rel = grouped;
      if (previous) {
        const prevCols = previous.columns;
        const parentKeys = keyExprs.slice(0, -1).map((k) => prevCols.find((c) => c.name === k.name) as PlanColumn);
        joined = {
          kind: 'join',
          joinKind: 'inner',
          left: previous,
          right: grouped,
          on: parentKeys.map((k) => ({
            left: { kind: 'col', name: k.name, type: k.type, side: 'left' },
            right: { kind: 'col', name: k.name, type: k.type, side: 'right' },
          })),
          where: null,
          output: [
            ...prevCols.map((c) => ({ side: 'left' as const, name: c.name })),
            { side: 'right' as const, name: ofCol.name },
            { side: 'right' as const, name: aggCol.name },
          ],
          columns: [...prevCols, ofCol, aggCol],
        };
      }
      const parents = previous
        ? keyExprs.slice(0, -1).map((k) => out.find((c) => c.name === k.name) as PlanColumn)
        : [];
      const ranked: Rel = {
        kind: 'sort',
        input: joined,
        keys: [{ expr: colRef(aggCol), descending: clause.direction !== 'asc', nullsFirst: false }],
        columns: joined.columns,
      };
      if (!clause.count) {
        result = ranked;
        return;
      }
      const rn: PlanColumn = { name: this.hiddenName('rank'), type: 'long' };
      const numbered: Rel = {
        kind: 'window',
        input: ranked,
        exprs: [
          ...joined.columns.map(colRef),
          {
            kind: 'win',
            fn: 'row_number',
            args: [],
            type: 'long',
            ...(parents.length ? { partition: parents.map(colRef) } : {}),
          },
        ],
        columns: [...joined.columns, rn],
      };
      const kept: Rel = {
        kind: 'filter',
        input: numbered,
        predicate: {
          kind: 'op',
          op: 'LessThanOrEqual',
          args: [colRef(rn), this.scalar(clause.count, { input: null })],
          type: 'bool',
        },
        columns: numbered.columns,
      };
      result = { kind: 'project', input: kept, exprs: joined.columns.map(colRef), columns: joined.columns };
    });
    if (!result) return this.unsupported(op, 'top-nested without clauses');
    // Rows come level by level: ordered by each level's aggregate (in that level's direction).
    const final: Rel = result;
    return {
      kind: 'sort',
      input: final,
      keys: op.clauses.map((clause, level) => ({
        expr: colRef(out[2 * level + 1] as PlanColumn),
        descending: clause.direction !== 'asc',
        nullsFirst: false,
      })),
      columns: final.columns,
    };
  }

  private mvExpand(op: QueryOperator & { kind: 'MvExpand' | 'MvApply' }, src: Rel, columns?: PlanColumn[]): Rel {
    const { entries } = this.projectionOf(op);
    const frame: Frame = { input: src.columns };
    const indexName = op.params.find((p) => p.name === 'with_itemindex');
    const items: { name: string; expr: ScalarExpr; type: ColumnType }[] = [];
    for (const en of entries) {
      if (en.source.kind === 'expr') {
        items.push({ name: en.column.name, expr: this.scalar(en.source.expr, frame), type: en.column.type });
      }
    }
    const bag = op.params.find((p) => p.name === 'bagexpansion' || p.name === 'kind')?.value;
    const limit = op.limit ? this.scalar(op.limit, { input: null }) : null;
    return {
      kind: 'mv-expand',
      input: src,
      items,
      bagExpansion: bag?.kind === 'Name' && bag.name === 'array' ? 'array' : 'bag',
      indexColumn: indexName && indexName.value.kind === 'Name' ? indexName.value.name : null,
      limit,
      columns: columns ?? this.tableColumns(op),
    };
  }

  // ───────────────────────────── parse family ─────────────────────────────

  /** A hidden plan column name (never a KQL name: it starts with NUL). */
  /** Graph operators (graph.ts) lower pattern clauses through a hook tried before every scalar expression. */
  private scalarHook: ((e: Expr) => ScalarExpr | null) | null = null;

  private graphHost(): GraphHost {
    return {
      rel: (e) => this.rel(e),
      scalar: (e, frame) => this.scalar(e, frame),
      info: (n) => this.info(n),
      tableColumns: (n) => this.tableColumns(n),
      hiddenName: (b) => this.hiddenName(b),
      unsupported: (at, what) => this.unsupported(at, what),
      capabilities: this.options.capabilities ?? null,
      bind: (rel) => {
        const name = this.freshName('graph');
        this.bindings.push({ name, rel, materialized: false });
        return { kind: 'ref', name, columns: rel.columns };
      },
      setScalarHook: (hook) => {
        this.scalarHook = hook;
      },
    };
  }

  private hiddenName(base: string): string {
    this.nameCounter++;
    return `\u0000${base}${this.nameCounter}`;
  }

  /** `src` extended with computed columns (in order, each may use the previous ones' inputs only). */
  private extendWith(src: Rel, extra: readonly { name: string; expr: ScalarExpr; type: ColumnType }[]): Rel {
    return {
      kind: 'project',
      input: src,
      exprs: [...src.columns.map((c) => colRef(c)), ...extra.map((x) => x.expr)],
      columns: [...src.columns, ...extra.map((x) => ({ name: x.name, type: x.type }))],
    };
  }

  /** A string view of a value (parse works on the text of non-string values). */
  private asText(e: ScalarExpr): ScalarExpr {
    return e.type === 'string' ? e : { kind: 'call', fn: 'tostring', args: [e], type: 'string' };
  }

  /**
   * parse / parse-where: the pattern's regex extracts each column's text (hidden columns), which is converted to the
   * column's type; in simple and regex mode a row whose regex or any conversion fails gets null/empty columns
   * (parse) or is dropped (parse-where).
   */
  private parse(op: QueryOperator & { kind: 'Parse' | 'ParseWhere' }, src: Rel): Rel {
    const out = this.tableColumns(op);
    const added = out.slice(src.columns.length);
    const kindText = paramText(op.params, 'kind') ?? 'simple';
    const mode: ParseMode = kindText === 'regex' ? 'regex' : kindText === 'relaxed' ? 'relaxed' : 'simple';
    const parts: ParsePart[] = op.pattern.map((p) => {
      if (p.kind === 'Star') return { kind: 'star' };
      if (p.kind === 'Literal') return { kind: 'text', text: String(p.value ?? '') };
      return { kind: 'column', name: p.name.name, type: added.find((c) => c.name === p.name.name)?.type ?? 'string' };
    });
    const { regex, columns } = parsePatternRegex(parts, mode, paramText(op.params, 'flags') ?? '');
    const text = this.asText(this.scalar(op.expr, { input: src.columns }));
    const matched = this.hiddenName('ok');
    const raws = columns.map((c) => ({ ...c, raw: this.hiddenName('raw'), typed: this.hiddenName('val') }));
    const step1 = this.extendWith(src, [
      { name: matched, type: 'bool', expr: { kind: 'op', op: 'MatchRegex', args: [text, str(regex)], type: 'bool' } },
      ...raws.map((r) => ({
        name: r.raw,
        type: 'string' as const,
        expr: call('extract', [str(regex), long(r.group), text], 'string'),
      })),
    ]);
    const step2 = this.extendWith(
      step1,
      raws.map((r) => ({ name: r.typed, type: r.type, expr: fromText(col(r.raw, 'string'), r.type) })),
    );
    // Simple and regex modes are strict: every typed column must convert.
    let good: ScalarExpr = col(matched, 'bool');
    if (mode !== 'relaxed') {
      for (const r of raws) {
        if (r.type === 'string') continue;
        good = and(good, call('isnotnull', [col(r.typed, r.type)], 'bool'));
      }
    }
    const filtered: Rel =
      op.kind === 'ParseWhere' ? { kind: 'filter', input: step2, predicate: good, columns: step2.columns } : step2;
    const exprs = out.map((c): ScalarExpr => {
      const r = raws.find((x) => x.name === c.name);
      if (!r) return colRef(c);
      const v = col(r.typed, c.type);
      if (mode === 'relaxed' || op.kind === 'ParseWhere') return v;
      return call('iff', [good, v, nullLiteral(c.type)], c.type);
    });
    return { kind: 'project', input: filtered, exprs, columns: out };
  }

  /** parse-kv: each key's value by a regex (see kvRegex), or by the `regex=` option's key/value groups. */
  private parseKv(op: QueryOperator & { kind: 'ParseKv' }, src: Rel): Rel {
    const out = this.tableColumns(op);
    const option = (name: string): string | null => {
      const v = op.options.find((o) => o.name === name)?.value;
      if (!v) return null;
      if (v.kind === 'Literal') return String(v.value);
      if (v.kind === 'Name') return v.name;
      return null;
    };
    const text = this.asText(this.scalar(op.expr, { input: src.columns }));
    const userRegex = option('regex');
    const o: KvOptions = {
      pairDelimiter: option('pair_delimiter'),
      kvDelimiter: option('kv_delimiter'),
      quote: option('quote') ?? '',
      escape: option('escape') ?? '',
      greedy: option('greedy') === 'true',
    };
    const raws = op.columns.map((c) => {
      const name = c.name.name;
      let raw: ScalarExpr;
      if (userRegex !== null) raw = call('__kv_regex_value', [text, str(userRegex), str(name)], 'string');
      else {
        const { regex, groups } = kvRegex(name, o);
        const values: ScalarExpr[] = [];
        for (let g = 1; g <= groups; g++) values.push(call('extract', [str(regex), long(g), text], 'string'));
        // A quoted form that matched wins over the (then empty) plain form.
        raw = values.reduceRight((acc, v) => call('iff', [call('isnotempty', [v], 'bool'), v, acc], 'string'));
        if (o.escape !== '' && groups > 1) {
          raw = call(
            'replace_regex',
            [raw, str(`[${o.escape.replace(/[\\\]^-]/g, '\\$&')}](.)`), str('\\1')],
            'string',
          );
        }
      }
      const type = out.find((x) => x.name === name)?.type ?? 'string';
      return { name, type, expr: fromText(raw, type) };
    });
    const exprs = out.map((c): ScalarExpr => raws.find((r) => r.name === c.name)?.expr ?? colRef(c));
    return { kind: 'project', input: src, exprs, columns: out };
  }

  private makeSeries(op: QueryOperator & { kind: 'MakeSeries' }, src: Rel): Rel {
    const { entries, keyCount } = this.projectionOf(op);
    const frame: Frame = { input: src.columns };
    const keys = entries.slice(0, keyCount).map((en) => ({ name: en.column.name, expr: this.fromSource(en, frame) }));
    const aggEntries = entries.slice(keyCount, keyCount + op.aggregates.length);
    const aggregates = aggEntries.map((en, i) => {
      const agg = op.aggregates[i];
      const dv = agg?.defaultValue;
      const expr = this.fromSource(en, frame);
      // The documented default is 0 (of the aggregate's type); `default=` overrides it.
      return { name: en.column.name, expr, defaultValue: dv ? this.scalar(dv, { input: null }) : zeroOf(expr.type) };
    });
    const axisEntry = entries[keyCount + op.aggregates.length];
    if (!axisEntry) return this.unsupported(op, 'This make-series');
    const f = { input: null };
    const step = this.scalar(op.step, f);
    let to = op.to ? this.scalar(op.to, f) : null;
    // `in range(start, stop, step)` includes stop: the exclusive end is one step further.
    if (op.inRange && to) to = { kind: 'op', op: 'Add', args: [to, step], type: to.type };
    const kind = op.params.find((p) => p.name === 'kind')?.value;
    return {
      kind: 'make-series',
      input: src,
      keys,
      aggregates,
      axis: { name: axisEntry.column.name, expr: this.fromSource(axisEntry, frame) },
      from: op.from ? this.scalar(op.from, f) : null,
      to,
      step,
      ...(kind?.kind === 'Name' && kind.name === 'nonempty' ? { nonEmpty: true } : {}),
      columns: this.tableColumns(op),
    };
  }

  // ───────────────────────────── scalars ─────────────────────────────

  scalar(e: Expr, frame: Frame): ScalarExpr {
    const hooked = this.scalarHook?.(e);
    if (hooked) return hooked;
    const type = this.typeOf(e);
    switch (e.kind) {
      case 'Literal': {
        const value = literalValue(e);
        if (e.type !== 'dynamic' || e.value === null) return { kind: 'lit', type: e.type, value };
        const json = dynamicJson(e.value as DynamicValue);
        return json !== null && json !== JSON.stringify(value)
          ? { kind: 'lit', type: e.type, value, json }
          : { kind: 'lit', type: e.type, value };
      }
      case 'Paren':
      case 'NamedExpr':
        return this.scalar(e.expr, frame);
      case 'NamedArg':
        return this.scalar(e.value, frame);
      case 'Ordered':
        return this.scalar(e.expr, frame);
      case 'Name':
        return this.scalarName(e, frame);
      case 'Unary': {
        const operand = this.scalar(e.operand, frame);
        if (operand.kind === 'lit' && e.op === '-') return negateLiteral(operand);
        if (e.op === '+') return operand;
        return { kind: 'op', op: 'UnaryMinus', args: [operand], type };
      }
      case 'Binary':
        // `* has "x"`: the operator over every input column's text, or-ed.
        if (e.left.kind === 'Star') {
          const op = BINARY_OPERATOR_KIND[e.op];
          const right = this.scalar(e.right, frame);
          const tests = visibleColumns(frame.input ?? []).map(
            (c): ScalarExpr => ({
              kind: 'op',
              op,
              args: [c.type === 'string' ? colRef(c) : call('tostring', [colRef(c)], 'string'), right],
              type: 'bool',
            }),
          );
          if (tests.length === 0) return { kind: 'lit', type: 'bool', value: false };
          return balanced('Or', tests);
        }
        return {
          kind: 'op',
          op: BINARY_OPERATOR_KIND[e.op],
          args: [this.scalar(e.left, frame), this.scalar(e.right, frame)],
          type,
        };
      case 'Between':
        return {
          kind: 'op',
          op: e.negated ? 'NotBetween' : 'Between',
          args: [this.scalar(e.left, frame), this.scalar(e.low, frame), this.scalar(e.high, frame)],
          type,
        };
      case 'In': {
        const value = this.scalar(e.left, frame);
        const only = e.list[0];
        if (e.list.length === 1 && only && this.info(only)?.type.kind === 'table') {
          return { kind: 'in-rel', op: IN_OPERATOR_KIND[e.op], value, rel: this.rel(only), type };
        }
        return {
          kind: 'op',
          op: IN_OPERATOR_KIND[e.op],
          args: [value, ...e.list.map((x) => this.scalar(x, frame))],
          type,
        };
      }
      case 'Member':
        if (this.scanContext && e.kind === 'Member' && e.expr.kind === 'Name') {
          const step = this.scanContext.steps.get(e.expr.name);
          if (step !== undefined) {
            const c = this.scanContext.columns.find((x) => x.name === e.member.name);
            if (!c) return this.unsupported(e, `The scan state column '${e.member.name}'`);
            return call('__scan_ref', [long(step), str(c.name)], c.type);
          }
        }
        return this.scalarPath(e, frame);
      case 'Index':
        return this.scalarPath(e, frame);
      case 'Call':
        return this.scalarCall(e, frame);
      case 'Star':
        return { kind: 'star', columns: visibleColumns(frame.input ?? []), type: 'dynamic' };
      case 'TypeOf': {
        const tv = this.info(e)?.typeValue;
        return { kind: 'lit', type: 'string', value: tv?.kind === 'scalar' ? tv.name : 'dynamic' };
      }
      default:
        return this.unsupported(e, `The expression '${this.sourceText(e).slice(0, 40)}'`);
    }
  }

  private scalarName(e: Expr & { kind: 'Name' }, frame: Frame): ScalarExpr {
    const info = this.info(e);
    const sym = info?.symbol;
    const call = this.callOf(e);
    if (call?.kind === 'user') return this.withExpansion(call.expansion, [], e, (body) => this.scalar(body, frame));
    // A column of an open schema (after bag_unpack, pivot): the property of that name in the open bag.
    if (!sym && frame.input && info && info.type.kind !== 'table') {
      for (const c of frame.input) {
        if (!c.name.startsWith(OPEN_BAG)) continue;
        const prefix = c.name.slice(OPEN_BAG.length);
        if (!e.name.startsWith(prefix)) continue;
        return { kind: 'path', expr: colRef(c), path: [e.name.slice(prefix.length)], type: 'dynamic' };
      }
      // A column the binder could not type (an open schema) has the type of the column the relation has.
      const actual = frame.input.find((c) => c.name === e.name);
      return { kind: 'col', name: e.name, type: actual?.type ?? toColumnType(info.type) };
    }
    if (!sym) return this.unsupported(e, `The name '${e.name}'`);
    switch (sym.kind) {
      case 'column': {
        const c = sym.column;
        // In a scan step, a declared column by itself is the record's value: its default.
        const declared = this.scanContext?.declared.get(c.name);
        if (declared) return declared;
        const side = frame.right?.includes(c) ? 'right' : frame.left?.includes(c) ? 'left' : undefined;
        return side ? { kind: 'col', name: c.name, type: c.type, side } : { kind: 'col', name: c.name, type: c.type };
      }
      case 'variable': {
        const sub = this.substitutions.get(sym);
        if (sub && !isRel(sub)) return sub;
        if (sym.constant && !sym.value) return constantToLiteral(sym.constant.value, sym.type);
        if (sym.value) {
          if (sym.type.kind === 'table') return this.unsupported(e, 'A tabular value used as a scalar');
          return this.scalar(sym.value, { input: null });
        }
        return this.unsupported(e, `The parameter '${sym.name}' without a value`);
      }
      default:
        return this.unsupported(e, `The name '${e.name}' as a scalar`);
    }
  }

  private scalarPath(e: Expr & { kind: 'Member' | 'Index' }, frame: Frame): ScalarExpr {
    const type = this.typeOf(e);
    const sym = this.info(e)?.symbol;
    if (e.kind === 'Member' && e.expr.kind === 'Name' && (e.expr.name === '$left' || e.expr.name === '$right')) {
      if (sym?.kind === 'column') {
        return {
          kind: 'col',
          name: sym.column.name,
          type: sym.column.type,
          side: e.expr.name === '$left' ? 'left' : 'right',
        };
      }
    }
    const steps: (string | number | ScalarExpr)[] = [];
    let base: Expr = e;
    while (base.kind === 'Member' || base.kind === 'Index') {
      if (base.kind === 'Member') steps.unshift(base.member.name);
      else {
        const idx = base.index;
        const v = idx.kind === 'Literal' ? idx.value : undefined;
        if (typeof v === 'string') steps.unshift(v);
        else if (typeof v === 'bigint') steps.unshift(Number(v));
        else steps.unshift(this.scalar(idx, frame));
      }
      base = base.expr;
    }
    // Indexing a tuple-valued call (`array_sort_asc(a, b)[1]`) picks the tuple's element, as Kusto does.
    const first = steps[0];
    const baseType = this.info(base)?.type;
    if (base.kind === 'Call' && baseType?.kind === 'tuple' && typeof first === 'number') {
      if (first >= 0 && first < baseType.columns.length) {
        const element = this.tupleElement(base, first, frame);
        return steps.length === 1 ? element : { kind: 'path', expr: element, path: steps.slice(1), type };
      }
    }
    return { kind: 'path', expr: this.scalar(base, frame), path: steps, type };
  }

  private scalarCall(e: Call, frame: Frame): ScalarExpr {
    const type = this.typeOf(e);
    const call = this.callOf(e);
    const name = e.name.name;
    if (call?.kind === 'user') return this.withExpansion(call.expansion, e.args, e, (body) => this.scalar(body, frame));
    // column_names_of(T) is known at compile time: the tabular argument's column names.
    if (name === 'column_names_of') {
      const t = e.args[0] ? this.info(e.args[0])?.type : undefined;
      if (t?.kind === 'table' && !t.open) {
        return { kind: 'lit', type: 'dynamic', value: visibleColumns(t.columns).map((c) => c.name) };
      }
    }
    if (name === 'toscalar') {
      const arg = e.args.find((a) => a.kind !== 'NamedArg');
      if (!arg) return this.unsupported(e, 'toscalar() without an argument');
      const t = this.info(arg)?.type;
      if (t?.kind === 'table') return { kind: 'subquery', rel: this.rel(arg), type };
      return this.scalar(arg, { input: null });
    }
    // column_ifexists(name, default) is decided at compile time from the input's columns.
    if (name === 'column_ifexists' || name === 'columnifexists') {
      const colName = this.info(e.args[0] as Expr)?.constant?.value;
      const col = typeof colName === 'string' ? frame.input?.find((c) => c.name === colName) : undefined;
      if (col) return { kind: 'col', name: col.name, type: col.type };
      return this.scalar(e.args[1] as Expr, frame);
    }
    const args = e.args.map((a) => this.scalar(a, frame));
    // pack_all() reads the whole row: its template gets the row's columns as a `*` argument.
    if (name === 'pack_all') args.push({ kind: 'star', columns: visibleColumns(frame.input ?? []), type: 'dynamic' });
    const span: SourceSpan = [e.start, e.end];
    // Deprecated names (makeset, parsejson, arraylength, ...) run as their replacements.
    const def = call?.definition;
    const canonical = def?.isObsolete && def.alternative ? (def.alternative.split("'")[0] ?? name) : name;
    if (call?.kind === 'aggregate') return { kind: 'agg', fn: canonical, args, type, span };
    if (WINDOW_FUNCTIONS.has(canonical)) return { kind: 'win', fn: canonical, args, type };
    if (name === 'ingestion_time') return { kind: 'col', name: INGESTION_TIME, type: 'datetime' };
    // bin_auto(x) is bin_at(x, size, at) with the query's `set query_bin_auto_size` / `query_bin_auto_at`.
    if (name === 'bin_auto' && args[0]) {
      const option = (o: string) => {
        const st = this.analysis.root.statements.find((x) => x.kind === 'Set' && x.name === o);
        return st?.kind === 'Set' && st.value ? this.scalar(st.value, { input: null }) : null;
      };
      const size = option('query_bin_auto_size');
      if (!size) return this.unsupported(e, 'bin_auto() without `set query_bin_auto_size`');
      const at = option('query_bin_auto_at');
      const fn = at ? 'bin_at' : 'bin';
      return { kind: 'call', fn, args: at ? [args[0], size, at] : [args[0], size], type, span };
    }
    // now() is fixed per query; ago(x) is now() - x: both fold to constants, so time filters reach the storage.
    if (name === 'now' || name === 'ago') {
      const now: ScalarExpr = { kind: 'lit', type: 'datetime', value: this.options.now.toString() };
      const offset = args[0];
      if (!offset) return now;
      const t =
        offset.type === 'timespan'
          ? offset
          : { kind: 'call' as const, fn: 'totimespan', args: [offset], type: 'timespan' as const, span };
      return { kind: 'op', op: name === 'now' ? 'Add' : 'Subtract', args: [now, t], type: 'datetime', span };
    }
    return { kind: 'call', fn: canonical, args, type, span };
  }
}

// ───────────────────────────── helpers ─────────────────────────────

const OPERATOR_KIND_SET = new Set([
  'Where',
  'Project',
  'ProjectAway',
  'ProjectKeep',
  'ProjectRename',
  'ProjectReorder',
  'ProjectByNames',
  'Extend',
  'Summarize',
  'Count',
  'Take',
  'Top',
  'TopNested',
  'TopHitters',
  'Sort',
  'Distinct',
  'Join',
  'Lookup',
  'Union',
  'MvExpand',
  'MvApply',
  'Parse',
  'ParseWhere',
  'ParseKv',
  'MakeSeries',
  'Evaluate',
  'Render',
  'Serialize',
  'Sample',
  'SampleDistinct',
  'As',
  'GetSchema',
  'Consume',
  'Invoke',
  'Fork',
  'Facet',
  'Partition',
  'Scan',
  'Reduce',
  'MacroExpand',
  'AssertSchema',
  'Search',
  'Find',
  'Datatable',
  'ExternalData',
  'Range',
  'Print',
  'GraphOperator',
  'OtherOperator',
]);

const REL_KINDS = new Set([
  'scan',
  'values',
  'range',
  'filter',
  'project',
  'aggregate',
  'sort',
  'limit',
  'distinct',
  'join',
  'union',
  'mv-expand',
  'window',
  'ref',
  'with',
  'make-series',
]);

function isRel(x: ScalarExpr | Rel): x is Rel {
  return REL_KINDS.has(x.kind);
}

function isOperator(e: Expr): e is QueryOperator {
  return OPERATOR_KIND_SET.has(e.kind);
}

function operatorKeyword(op: QueryOperator): string {
  if ('keyword' in op && typeof op.keyword === 'string') return op.keyword;
  return op.kind.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase();
}

function normalizeJoinKind(k: string): JoinKind | null {
  switch (k) {
    case 'innerunique':
    case 'inner':
    case 'leftouter':
    case 'rightouter':
    case 'fullouter':
    case 'leftsemi':
    case 'leftanti':
    case 'rightsemi':
    case 'rightanti':
      return k;
    case 'anti':
    case 'leftantisemi':
      return 'leftanti';
    case 'rightantisemi':
      return 'rightanti';
    default:
      return null;
  }
}

/** A union of relations onto `columns` (with a leading source column when `sourceValues` is given). */
function unionRel(inputs: readonly Rel[], sourceValues: readonly string[] | null, columns: readonly PlanColumn[]): Rel {
  const dataColumns = sourceValues ? columns.slice(1) : columns;
  const mapping = inputs.map((r) =>
    dataColumns.map((c) => {
      const same = r.columns.find((x) => x.name === c.name && x.type === c.type);
      if (same) return same.name;
      const renamed = r.columns.find((x) => `${x.name}_${x.type}` === c.name && x.type === c.type);
      return renamed ? renamed.name : null;
    }),
  );
  return { kind: 'union', inputs, mapping, sourceValues, columns };
}

/**
 * A search term against the text of a row (its columns' texts joined by a separator that is never part of a
 * term): `has`, `x*` a term prefix, `*x` a term suffix, `*x*` a substring.
 */
function termTest(term: string, haystack: ScalarExpr, caseSensitive: boolean): ScalarExpr {
  if (term === '*' || term === '') return { kind: 'lit', type: 'bool', value: true };
  const starts = term.startsWith('*');
  const ends = term.endsWith('*') && term.length > 1;
  const text = term.slice(starts ? 1 : 0, ends ? -1 : undefined);
  const kind = starts && ends ? 'Contains' : ends ? 'HasPrefix' : starts ? 'HasSuffix' : 'Has';
  return { kind: 'op', op: caseSensitive ? `${kind}Cs` : kind, args: [haystack, str(text)], type: 'bool' };
}

/** `a op b op c ...` as a balanced tree (deeply nested SQL slows engines down). */
function balanced(op: string, items: readonly ScalarExpr[]): ScalarExpr {
  if (items.length === 1) return items[0] as ScalarExpr;
  const mid = Math.ceil(items.length / 2);
  return { kind: 'op', op, args: [balanced(op, items.slice(0, mid)), balanced(op, items.slice(mid))], type: 'bool' };
}

/** The input column names an expression reads (outside nested relations). */
function referencedColumns(e: ScalarExpr): string[] {
  switch (e.kind) {
    case 'col':
      return [e.name];
    case 'op':
    case 'call':
    case 'agg':
    case 'win':
      return e.args.flatMap(referencedColumns);
    case 'path':
      return [
        ...referencedColumns(e.expr),
        ...e.path.flatMap((p) => (typeof p === 'object' ? referencedColumns(p) : [])),
      ];
    case 'in-rel':
      return referencedColumns(e.value);
    case 'star':
      return e.columns.map((c) => c.name);
    default:
      return [];
  }
}

/** A relation's KQL columns without the hidden ones lowering adds (row numbers, parse groups). */
function visibleColumns(columns: readonly PlanColumn[]): PlanColumn[] {
  return columns.filter((c) => !c.name.startsWith('\u0000'));
}

/** Is an argument the name or string `value` (plugin options such as `columnsConflict='keep_source'`)? */
function paramIs(e: Expr | undefined, value: string): boolean {
  if (!e) return false;
  if (e.kind === 'Literal') return e.value === value;
  return e.kind === 'Name' && e.name === value;
}

/** A dynamic value converted to a column type. */
function fromDynamic(v: ScalarExpr, type: ColumnType): ScalarExpr {
  return fromText(v, type);
}

function str(value: string): ScalarExpr {
  return { kind: 'lit', type: 'string', value };
}

function long(value: number): ScalarExpr {
  return { kind: 'lit', type: 'long', value: String(value) };
}

function col(name: string, type: ColumnType): ScalarExpr {
  return { kind: 'col', name, type };
}

function colRef(c: PlanColumn): ScalarExpr {
  return { kind: 'col', name: c.name, type: c.type };
}

function call(fn: string, args: readonly ScalarExpr[], type: ColumnType): ScalarExpr {
  return { kind: 'call', fn, args, type };
}

function and(a: ScalarExpr, b: ScalarExpr): ScalarExpr {
  return { kind: 'op', op: 'And', args: [a, b], type: 'bool' };
}

/** `start <= t <= end`. */
function betweenInclusive(t: ScalarExpr, start: ScalarExpr, end: ScalarExpr): ScalarExpr {
  return and(
    { kind: 'op', op: 'GreaterThanOrEqual', args: [t, start], type: 'bool' },
    { kind: 'op', op: 'LessThanOrEqual', args: [t, end], type: 'bool' },
  );
}

function nullLiteral(type: ColumnType): ScalarExpr {
  return type === 'string' ? str('') : { kind: 'lit', type: type === 'unknown' ? 'dynamic' : type, value: null };
}

/** The conversion of extracted text to a column type (parse, parse-kv). */
function fromText(text: ScalarExpr, type: ColumnType): ScalarExpr {
  const fn: Partial<Record<ColumnType, string>> = {
    int: 'toint',
    long: 'tolong',
    real: 'toreal',
    decimal: 'todecimal',
    bool: 'tobool',
    datetime: 'todatetime',
    timespan: 'totimespan',
    guid: 'toguid',
    dynamic: 'todynamic',
  };
  const name = fn[type];
  return name ? call(name, [text], type) : text;
}

/** The text of an operator parameter (`kind=regex`, `flags="Ui"`). */
function paramText(params: readonly { name: string; value: Expr }[], name: string): string | undefined {
  const v = params.find((p) => p.name === name)?.value;
  if (!v) return undefined;
  if (v.kind === 'Name') return v.name;
  if (v.kind === 'Literal') return String(v.value);
  return undefined;
}

/** A column name as `getschema kind=csl` writes it: bracketed when it is not an identifier. */
function cslName(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : `['${name.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}']`;
}

/** The .NET type names `getschema` reports. */
function systemTypeName(t: ColumnType): string {
  const map: Record<string, string> = {
    bool: 'System.SByte',
    int: 'System.Int32',
    long: 'System.Int64',
    real: 'System.Double',
    decimal: 'System.Data.SqlTypes.SqlDecimal',
    string: 'System.String',
    datetime: 'System.DateTime',
    timespan: 'System.TimeSpan',
    guid: 'System.Guid',
    dynamic: 'System.Object',
  };
  return map[t] ?? 'System.Object';
}

export function literalValue(e: Literal): PlanValue {
  const v = e.value;
  if (v === null) return null;
  switch (e.type) {
    case 'dynamic':
      return dynamicToPlan(v as DynamicValue);
    case 'real':
      return typeof v === 'number' && !Number.isFinite(v) ? String(v) : (v as number);
    default:
      return typeof v === 'bigint' ? v.toString() : (v as PlanValue);
  }
}

/**
 * A dynamic literal as JSON text that keeps Kusto's distinction between longs and reals (`dynamic([1.0, 2])` holds a
 * real and a long, printed `[1.0,2]`); null when it holds values JSON cannot spell (infinities, NaN).
 */
function dynamicJson(v: DynamicValue): string | null {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return null;
    const t = JSON.stringify(v);
    return Number.isInteger(v) && !/e/i.test(t) ? `${t}.0` : t;
  }
  if (Array.isArray(v)) {
    const parts = v.map(dynamicJson);
    return parts.some((x) => x === null) ? null : `[${parts.join(',')}]`;
  }
  const o = v as Record<string, DynamicValue>;
  if ('$datetime' in o || '$timespan' in o || '$guid' in o) return JSON.stringify(dynamicToPlan(v));
  const parts: string[] = [];
  for (const [k, x] of Object.entries(o)) {
    const j = dynamicJson(x);
    if (j === null) return null;
    parts.push(`${JSON.stringify(k)}:${j}`);
  }
  return `{${parts.join(',')}}`;
}

function dynamicToPlan(v: DynamicValue): PlanValue {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return v;
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v === 'bigint') return Number(v);
  if (Array.isArray(v)) return v.map(dynamicToPlan);
  const o = v as Record<string, DynamicValue>;
  if ('$datetime' in o && typeof o.$datetime === 'bigint') return ticksToIso(o.$datetime);
  if ('$timespan' in o && typeof o.$timespan === 'bigint') return ticksToTimespan(o.$timespan);
  if ('$guid' in o && typeof o.$guid === 'string') return o.$guid;
  const out: Record<string, PlanValue> = {};
  for (const [k, x] of Object.entries(o)) out[k] = dynamicToPlan(x);
  return out;
}

/** ISO 8601 with 7 fractional digits, as Kusto writes datetimes. */
export function ticksToIso(ticks: bigint): string {
  const ms = Number(ticks / 10000n);
  const rest = ticks % 10000n;
  const d = new Date(ms);
  const base = d.toISOString().slice(0, 19);
  const frac = (BigInt(d.getUTCMilliseconds()) * 10000n + (rest < 0n ? rest + 10000n : rest))
    .toString()
    .padStart(7, '0');
  return `${base}.${frac}Z`;
}

/** `[-][d.]hh:mm:ss[.fffffff]`, as Kusto writes timespans. */
export function ticksToTimespan(ticks: bigint): string {
  const neg = ticks < 0n;
  let t = neg ? -ticks : ticks;
  const frac = t % 10000000n;
  t /= 10000000n;
  const s = t % 60n;
  t /= 60n;
  const m = t % 60n;
  t /= 60n;
  const h = t % 24n;
  const d = t / 24n;
  const pad = (x: bigint) => x.toString().padStart(2, '0');
  return `${neg ? '-' : ''}${d > 0n ? `${d}.` : ''}${pad(h)}:${pad(m)}:${pad(s)}${frac > 0n ? `.${frac.toString().padStart(7, '0')}` : ''}`;
}

function negateLiteral(l: ScalarExpr & { kind: 'lit' }): ScalarExpr {
  const v = l.value;
  if (typeof v === 'number') return { ...l, value: -v };
  if (typeof v === 'string' && l.type !== 'string' && l.type !== 'dynamic') {
    if (v === 'NaN') return l;
    if (v === 'Infinity') return { ...l, value: '-Infinity' };
    if (v === '-Infinity') return { ...l, value: 'Infinity' };
    return { ...l, value: v.startsWith('-') ? v.slice(1) : `-${v}` };
  }
  return { kind: 'op', op: 'UnaryMinus', args: [l], type: l.type };
}

function constantToLiteral(value: unknown, t: Type): ScalarExpr {
  const type = t.kind === 'scalar' ? t.name : 'dynamic';
  if (value === null || value === undefined) return { kind: 'lit', type, value: null };
  if (typeof value === 'bigint') return { kind: 'lit', type, value: value.toString() };
  if (typeof value === 'number') return { kind: 'lit', type, value: Number.isFinite(value) ? value : String(value) };
  if (typeof value === 'string' || typeof value === 'boolean') return { kind: 'lit', type, value };
  return { kind: 'lit', type, value: dynamicToPlan(value as DynamicValue) };
}

/** The zero of a type (make-series' default fill value). */
function zeroOf(type: ColumnType): ScalarExpr {
  switch (type) {
    case 'int':
    case 'long':
    case 'timespan':
    case 'decimal':
      return { kind: 'lit', type, value: '0' };
    case 'real':
      return { kind: 'lit', type: 'real', value: 0 };
    default:
      return { kind: 'lit', type: 'long', value: '0' };
  }
}

/** Does an expression use a function of the row order (`row_number`, `prev`, ...)? */
function usesRowOrder(e: ScalarExpr): boolean {
  switch (e.kind) {
    case 'win':
      return true;
    case 'op':
    case 'call':
    case 'agg':
      return e.args.some(usesRowOrder);
    case 'path':
      return usesRowOrder(e.expr) || e.path.some((p) => typeof p === 'object' && usesRowOrder(p));
    case 'in-rel':
      return usesRowOrder(e.value);
    default:
      return false;
  }
}
