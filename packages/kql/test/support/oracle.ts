/**
 * Microsoft's analyzer (`@kusto/language-service-next`, Kusto.Language compiled to JS) as the test oracle. The module
 * is loaded once per process (about 3 s); globals are built once per `WorkspaceSchema` object and reused, so calling
 * `oracleAnalyze` thousands of times costs only the analysis itself. See `/work/shared/tools/ls-oracle.mjs` for the
 * Bridge.NET conventions (lists have `Count`/`getItem`, properties are prototype getters).
 */
import { createRequire } from 'node:module';
import type { WorkspaceSchema } from '../../src/catalog/workspace.js';

export interface OracleDiagnostic {
  readonly code: string;
  readonly severity: string;
  readonly message: string;
  readonly start: number;
  readonly length: number;
}

export interface OracleResult {
  /** True when no diagnostic has severity `Error`. */
  readonly ok: boolean;
  readonly diagnostics: readonly OracleDiagnostic[];
  /** Result columns when the query yields a table; null otherwise (and always for the syntax-only check). */
  readonly columns: readonly { readonly name: string; readonly type: string }[] | null;
}

interface BridgeList<T> {
  readonly Count: number;
  getItem(i: number): T;
}
interface BridgeDiagnostic {
  readonly Severity: string;
  readonly Code: string;
  readonly Message: string;
  readonly Start: number;
  readonly Length: number;
}
interface BridgeType {
  readonly Name?: string;
  readonly Display?: string;
}
interface BridgeSyntaxNode {
  readonly Kind: number;
  readonly TextStart: number;
  readonly End: number;
  WalkNodes(action: (node: BridgeSyntaxNode) => void, after: null): void;
}
interface BridgeCode {
  GetDiagnostics(): BridgeList<BridgeDiagnostic> | BridgeDiagnostic[];
  readonly ResultType: { readonly Columns?: BridgeList<{ Name: string; Type: BridgeType }> } | null;
  readonly Syntax: BridgeSyntaxNode;
}
interface KustoLanguage {
  readonly KustoCode: {
    Parse(text: string, globals: unknown): BridgeCode;
    ParseAndAnalyze(text: string, globals: unknown): BridgeCode;
  };
  readonly GlobalState: { readonly Default: { WithCluster(c: unknown): { WithDatabase(db: unknown): unknown } } };
  readonly Syntax: { readonly SyntaxKind: Record<string, number> };
  readonly Symbols: {
    readonly ScalarTypes: { GetSymbol(name: string): unknown };
    readonly ColumnSymbol: new (
      name: string,
      type: unknown,
      description: null,
      originalColumns: null,
      source: null,
      examples: null,
    ) => unknown;
    readonly TableSymbol: { $ctor4: new (name: string, columns: unknown[]) => unknown };
    readonly FunctionSymbol: {
      $ctor16: new (name: string, parameters: string, body: string, description: string | null) => unknown;
    };
    readonly DatabaseSymbol: { ctor: new (name: string, members: unknown[]) => unknown };
    readonly ClusterSymbol: { ctor: new (name: string, databases: unknown[]) => unknown };
  };
}

let kusto: KustoLanguage | null = null;

/** The Kusto.Language namespace object, loaded on first use. */
export function kustoLanguage(): KustoLanguage {
  if (!kusto) {
    const require = createRequire(import.meta.url);
    require('@kusto/language-service-next/bridge.js');
    require('@kusto/language-service-next/Kusto.Language.Bridge.js');
    kusto = (globalThis as unknown as { Kusto: { Language: KustoLanguage } }).Kusto.Language;
  }
  return kusto;
}

function toArray<T>(list: BridgeList<T> | T[] | null | undefined): T[] {
  if (!list) return [];
  if (Array.isArray(list)) return list;
  const out: T[] = [];
  for (let i = 0; i < list.Count; i++) out.push(list.getItem(i));
  return out;
}

const globalsCache = new WeakMap<WorkspaceSchema, unknown>();

/** Kusto globals for a workspace: its tables and stored functions in one database of one cluster. */
export function oracleGlobals(schema: WorkspaceSchema): unknown {
  const cached = globalsCache.get(schema);
  if (cached) return cached;
  const K = kustoLanguage();
  const S = K.Symbols;
  const members: unknown[] = [];
  for (const t of schema.tables) {
    const columns = t.columns.map(
      (c) =>
        new S.ColumnSymbol(
          c.name,
          S.ScalarTypes.GetSymbol(c.type === 'unknown' ? 'dynamic' : c.type),
          null,
          null,
          null,
          null,
        ),
    );
    members.push(new S.TableSymbol.$ctor4(t.name, columns));
  }
  for (const f of schema.functions) {
    members.push(new S.FunctionSymbol.$ctor16(f.name, f.parameters || '()', f.body, f.description ?? null));
  }
  const db = new S.DatabaseSymbol.ctor(schema.database, members);
  const cluster = new S.ClusterSymbol.ctor('local', [db]);
  const globals = K.GlobalState.Default.WithCluster(cluster).WithDatabase(db);
  globalsCache.set(schema, globals);
  return globals;
}

function result(code: BridgeCode, withColumns: boolean): OracleResult {
  const diagnostics = toArray(code.GetDiagnostics()).map((d) => ({
    code: d.Code,
    severity: d.Severity.toLowerCase(),
    message: d.Message,
    start: d.Start,
    length: d.Length,
  }));
  let columns: OracleResult['columns'] = null;
  const cols = withColumns ? code.ResultType?.Columns : undefined;
  if (cols) columns = toArray(cols).map((c) => ({ name: c.Name, type: c.Type.Name ?? c.Type.Display ?? '' }));
  return { ok: !diagnostics.some((d) => d.severity === 'error'), diagnostics, columns };
}

/** Full analysis (syntax and semantics) against a workspace schema. */
export function oracleAnalyze(query: string, schema: WorkspaceSchema): OracleResult {
  const K = kustoLanguage();
  return result(K.KustoCode.ParseAndAnalyze(query, oracleGlobals(schema)), true);
}

/** Syntax only (`KustoCode.Parse`): the verdict the parser must reproduce. */
export function oracleSyntax(query: string): OracleResult {
  const K = kustoLanguage();
  return result(K.KustoCode.Parse(query, K.GlobalState.Default), false);
}

/** A node of Kusto's syntax tree: its SyntaxKind name (`FilterOperator`, `AddExpression`, ...) and text span. */
export interface OracleSyntaxNode {
  readonly kind: string;
  readonly start: number;
  readonly end: number;
}

let syntaxKindNames: Map<number, string> | null = null;

/** Syntax only, with the nodes of Kusto's syntax tree (for comparing tree shapes). */
export function oracleSyntaxTree(query: string): OracleResult & { readonly nodes: readonly OracleSyntaxNode[] } {
  const K = kustoLanguage();
  if (!syntaxKindNames) {
    syntaxKindNames = new Map();
    for (const [name, value] of Object.entries(K.Syntax.SyntaxKind)) {
      if (typeof value === 'number') syntaxKindNames.set(value, name);
    }
  }
  const names = syntaxKindNames;
  const code = K.KustoCode.Parse(query, K.GlobalState.Default);
  const nodes: OracleSyntaxNode[] = [];
  code.Syntax.WalkNodes((n) => nodes.push({ kind: names.get(n.Kind) ?? '?', start: n.TextStart, end: n.End }), null);
  return { ...result(code, false), nodes };
}
