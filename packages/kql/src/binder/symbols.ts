/**
 * What names refer to. A `Name` in a query binds to one of these symbols; the binder records the binding in the
 * semantic model so the planner can tell a column from a `let` variable from a table.
 */
import type { FunctionDef } from '../catalog/types.js';
import type { StoredFunction } from '../catalog/workspace.js';
import type { Expr, FunctionDecl, Node } from '../syntax/nodes.js';
import type { Column, Type } from './types.js';

/** A column of a row scope. Column objects keep their identity while they flow unchanged through operators. */
export interface ColumnSymbol {
  readonly kind: 'column';
  readonly column: Column;
}

/** A workspace table. */
export interface TableSymbol {
  readonly kind: 'table';
  readonly name: string;
  readonly columns: readonly Column[];
}

/** A `let` scalar or tabular value, a function parameter, a declared query parameter, or an `as` name. */
export interface VariableSymbol {
  readonly kind: 'variable';
  readonly name: string;
  readonly type: Type;
  /** The declaring node (`Let`, `FunctionParam`, `As`, ...). */
  readonly declaration: Node;
  /** The bound value expression for `let x = <expr>` (null for parameters). */
  readonly value: Expr | null;
  /** Known constant value (literals and constant `let`s), for folding and literal-only arguments. */
  readonly constant?: { readonly value: unknown };
  /** `materialize()` or `as hint.materialized=true`: evaluated once. */
  readonly materialized?: boolean;
}

/** A function declared with `let f = (params) { body }` or `let v = view () { ... }`. */
export interface FunctionSymbol {
  readonly kind: 'function';
  readonly name: string;
  readonly declaration: FunctionDecl;
  /** The scope the function closes over (the scope of its `let`). */
  readonly scope: LocalScope;
}

/** A stored (workspace) function such as an ASIM parser. Its text is parsed on first use. */
export interface StoredFunctionSymbol {
  readonly kind: 'stored-function';
  readonly name: string;
  readonly definition: StoredFunction;
}

/** A built-in scalar function, aggregate or plugin. */
export interface BuiltinSymbol {
  readonly kind: 'builtin';
  readonly definition: FunctionDef;
}

export type BoundSymbol =
  | ColumnSymbol
  | TableSymbol
  | VariableSymbol
  | FunctionSymbol
  | StoredFunctionSymbol
  | BuiltinSymbol;

/** Names declared by `let`, parameters and `as`, nested for function bodies. */
export class LocalScope {
  private readonly symbols = new Map<string, BoundSymbol>();

  constructor(readonly parent: LocalScope | null) {}

  /** True when the name is declared in this scope itself (not a parent): redeclaring it is an error. */
  declaresOwn(name: string): boolean {
    return this.symbols.has(name);
  }

  declare(name: string, symbol: BoundSymbol): void {
    this.symbols.set(name, symbol);
  }

  /** Every visible symbol (inner scopes first; a shadowed name appears once). */
  visible(): BoundSymbol[] {
    const seen = new Set<string>();
    const out: BoundSymbol[] = [];
    for (let s: LocalScope | null = this; s; s = s.parent) {
      for (const [name, sym] of s.symbols) {
        if (seen.has(name)) continue;
        seen.add(name);
        out.push(sym);
      }
    }
    return out;
  }

  lookup(name: string): BoundSymbol | undefined {
    for (let s: LocalScope | null = this; s; s = s.parent) {
      const found = s.symbols.get(name);
      if (found) return found;
    }
    return undefined;
  }
}

/**
 * The columns visible to the expressions of an operator (its input rows). `open` scopes (a `(*)` table parameter,
 * an unknown table in a fuzzy union) accept any name as a column of unknown type.
 */
export class RowScope {
  private readonly byName = new Map<string, Column>();

  constructor(
    readonly columns: readonly Column[],
    readonly open = false,
  ) {
    for (const c of columns) if (!this.byName.has(c.name)) this.byName.set(c.name, c);
  }

  get(name: string): Column | undefined {
    return this.byName.get(name);
  }
}
