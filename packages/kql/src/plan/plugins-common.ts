/**
 * What the relational plugins lowered outside lower.ts (plugins-sequence.ts, plugins-basket.ts) need from the
 * lowerer, and the small plan builders they share. The lowerer's graph host satisfies this interface.
 */
import type { ExprInfo } from '../binder/semantic-model.js';
import type { ColumnType } from '../binder/types.js';
import type { Expr, Node, Span } from '../syntax/nodes.js';
import type { PlanColumn, Rel, ScalarExpr } from './nodes.js';

export interface PluginHost {
  scalar(e: Expr, frame: { readonly input: readonly PlanColumn[] | null }): ScalarExpr;
  info(node: Node): ExprInfo | undefined;
  /** The binder's output columns of an operator. */
  tableColumns(node: Node): PlanColumn[];
  hiddenName(base: string): string;
  /** Names a relation several parts of the plan read, so the passes do not copy (and compute) it per reference. */
  bind(rel: Rel): Rel;
  unsupported(at: Span, what: string): never;
}

export function colRef(c: PlanColumn, side?: 'left' | 'right'): ScalarExpr {
  return side ? { kind: 'col', name: c.name, type: c.type, side } : { kind: 'col', name: c.name, type: c.type };
}

export function op(name: string, args: readonly ScalarExpr[], type: ColumnType = 'bool'): ScalarExpr {
  return { kind: 'op', op: name, args, type };
}

export function call(fn: string, args: readonly ScalarExpr[], type: ColumnType): ScalarExpr {
  return { kind: 'call', fn, args, type };
}

export function all(preds: readonly ScalarExpr[]): ScalarExpr {
  if (preds.length === 0) return { kind: 'lit', type: 'bool', value: true };
  return preds.reduce((a, b) => op('And', [a, b]));
}

export function longLit(value: number): ScalarExpr {
  return { kind: 'lit', type: 'long', value: String(value) };
}

export function realLit(value: number): ScalarExpr {
  return { kind: 'lit', type: 'real', value };
}

/** Kusto's "no value" of a type: '' for strings (never null), null otherwise. */
export function emptyOf(type: ColumnType): ScalarExpr {
  if (type === 'string') return { kind: 'lit', type: 'string', value: '' };
  return { kind: 'lit', type: type === 'unknown' ? 'dynamic' : type, value: null };
}

/** Is a plugin argument the tilde that stands for "use the default" (`'~'`, or a bare `~` name)? */
export function isTilde(e: Expr | undefined): boolean {
  if (!e) return true;
  return (e.kind === 'Literal' && e.value === '~') || (e.kind === 'Name' && e.name === '~');
}
