/**
 * The binder's output: for every expression node its type (and, for names, the symbol it refers to), for every
 * call what it resolved to, and for calls of user functions the binding of the function body with the argument
 * types of that call (an "expansion"), which the planner inlines.
 */
import type { DynamicShape, FunctionDef, SignatureDef } from '../catalog/types.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { FunctionDecl, Node } from '../syntax/nodes.js';
import type { ProjectedColumn } from './projection.js';
import type { BoundSymbol, FunctionSymbol, StoredFunctionSymbol, VariableSymbol } from './symbols.js';
import type { Type } from './types.js';

export interface ExprInfo {
  readonly type: Type;
  /** The symbol a name (or a path like `$left.x`) refers to. */
  readonly symbol?: BoundSymbol;
  /** A known constant value (literal, negated literal, constant `let`). */
  readonly constant?: { readonly value: unknown };
  /** The expression is a literal (possibly negated): what literal-only parameters require. */
  readonly isLiteral?: boolean;
  /** For `typeof(...)`: the type it denotes. */
  readonly typeValue?: Type;
  /** A constant expression in Kusto's sense (its value may be unknown at compile time, e.g. `ago(1d)`). */
  readonly isConstant?: boolean;
  /** For dynamic values: array, bag or value, when known. */
  readonly dynamicShape?: DynamicShape;
}

export type CallBinding =
  | {
      readonly kind: 'builtin' | 'aggregate' | 'plugin';
      readonly definition: FunctionDef;
      readonly signature: SignatureDef | null;
    }
  | {
      readonly kind: 'user';
      readonly symbol: FunctionSymbol | StoredFunctionSymbol;
      readonly declaration: FunctionDecl;
      /** The body bound with this call's argument types; null when it could not be expanded. */
      readonly expansion: Expansion | null;
    };

/** A user function body bound for one call site (its own semantic model, diagnostics suppressed). */
export interface Expansion {
  readonly model: SemanticModel;
  readonly resultType: Type;
  readonly declaration: FunctionDecl;
  /** The parameter symbols the body's names refer to, in declaration order. */
  readonly parameters: readonly VariableSymbol[];
}

/** The columns an operator projects and where each comes from; for summarize, the first `keyCount` are keys. */
export interface Projection {
  readonly entries: readonly ProjectedColumn[];
  readonly keyCount: number;
}

export class SemanticModel {
  private readonly infos = new Map<Node, ExprInfo>();
  private readonly callBindings = new Map<Node, CallBinding>();
  private readonly projections = new Map<Node, Projection>();

  setProjection(op: Node, entries: readonly ProjectedColumn[], keyCount = 0): void {
    this.projections.set(op, { entries, keyCount });
  }

  /** For projecting operators (project, extend, summarize, print, mv-expand, ...): their output columns' sources. */
  projection(op: Node): Projection | undefined {
    return this.projections.get(op);
  }

  setInfo(node: Node, info: ExprInfo): void {
    this.infos.set(node, info);
  }

  /** The bound information of an expression (undefined for nodes that are not expressions). */
  info(node: Node): ExprInfo | undefined {
    return this.infos.get(node);
  }

  typeOf(node: Node): Type | undefined {
    return this.infos.get(node)?.type;
  }

  setCall(node: Node, binding: CallBinding): void {
    this.callBindings.set(node, binding);
  }

  /** What a call (or a zero-argument function name) resolved to. */
  call(node: Node): CallBinding | undefined {
    return this.callBindings.get(node);
  }
}

export interface BoundQuery {
  readonly model: SemanticModel;
  readonly diagnostics: readonly Diagnostic[];
  /** The type of the batch's last query expression, or null when the batch has none. */
  readonly resultType: Type | null;
}
