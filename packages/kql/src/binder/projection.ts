/**
 * Building the column list of `project`, `extend`, `summarize`, `print`, ... with Kusto's naming rules:
 * generated names that collide get a numeric suffix (`count_`, `count_1`; `Column1`, `Column2`; join's `a1`),
 * while an explicitly declared name (`x = ...`) that collides with another declaration is an error.
 * Column identity matters: a column that flows unchanged is the same object, so "do not repeat" works by identity.
 */
import type { Expr } from '../syntax/nodes.js';
import type { Column } from './types.js';

/**
 * Where an output column of a projection comes from: an input column passed through (possibly renamed or
 * retyped), or an expression (for a tuple-valued expression, one of its elements).
 */
export type ColumnSource =
  | { readonly kind: 'input'; readonly column: Column }
  | { readonly kind: 'expr'; readonly expr: Expr; readonly tupleIndex?: number };

export interface ProjectedColumn {
  readonly column: Column;
  readonly source: ColumnSource;
}

/** Names in use, handing out `base`, `base1`, `base2`, ... */
export class UniqueNames {
  private readonly used = new Set<string>();

  has(name: string): boolean {
    return this.used.has(name);
  }

  add(name: string): void {
    this.used.add(name);
  }

  /** `name` if free, otherwise the first free `baseName + N` (N from 1); the result is marked used. */
  getOrAdd(name: string, baseName?: string): string {
    if (!this.used.has(name)) {
      this.used.add(name);
      return name;
    }
    const base = baseName ?? name;
    for (let i = 1; ; i++) {
      const candidate = `${base}${i}`;
      if (!this.used.has(candidate)) {
        this.used.add(candidate);
        return candidate;
      }
    }
  }
}

export function withName(c: Column, name: string): Column {
  return { name, type: c.type };
}

/**
 * Makes all names unique (join output): every distinct name is reserved first, so that renamed duplicates do not
 * influence later names — `[c, c, c1]` becomes `[c, c2, c1]`, not `[c, c1, c11]`.
 */
export function makeNamesUnique(columns: readonly Column[]): Column[] {
  const firstIndex = new Map<string, number>();
  columns.forEach((c, i) => {
    if (!firstIndex.has(c.name)) firstIndex.set(c.name, i);
  });
  const names = new UniqueNames();
  for (const n of firstIndex.keys()) names.add(n);
  return columns.map((c, i) => {
    if (firstIndex.get(c.name) === i) return c;
    return withName(c, names.getOrAdd(c.name));
  });
}

export class ProjectionBuilder {
  private readonly projection: Column[] = [];
  private readonly sources: ColumnSource[] = [];
  private readonly index = new Map<string, number>();
  private readonly declared = new Set<string>();
  private readonly names = new UniqueNames();
  private readonly doNotAdd = new Set<Column>();

  get columns(): readonly Column[] {
    return this.projection;
  }

  /** The output columns with their sources, for the planner. */
  get entries(): readonly ProjectedColumn[] {
    return this.projection.map((column, i) => ({ column, source: this.sources[i] as ColumnSource }));
  }

  /** Adds columns (e.g. the input of `extend`), optionally declaring them and refusing later re-adds. */
  addRange(columns: readonly Column[], options: { declare?: boolean; doNotRepeat?: boolean } = {}): void {
    for (const c of columns) {
      const added = this.add(c, { doNotRepeat: options.doNotRepeat });
      if (options.declare) this.declared.add(added.name);
    }
  }

  /** Never add these columns again (columns of a summarize `by` clause). */
  doNotAddAll(columns: readonly Column[]): void {
    for (const c of columns) this.doNotAdd.add(c);
  }

  doNotAddColumn(c: Column): void {
    this.doNotAdd.add(c);
  }

  /**
   * Adds an undeclared column, renaming it when its name is taken (unless `replace`). Without a `source`, the
   * column is an input column passed through.
   */
  add(
    column: Column,
    options: { baseName?: string; replace?: boolean; doNotRepeat?: boolean } = {},
    source: ColumnSource = { kind: 'input', column },
  ): Column {
    if (this.doNotAdd.has(column)) return column;
    let c = column;
    const existing = this.index.get(c.name);
    if (options.replace && existing !== undefined) {
      this.projection[existing] = c;
      this.sources[existing] = source;
    } else {
      const unique = this.names.getOrAdd(c.name, options.baseName);
      if (unique !== c.name) c = withName(c, unique);
      this.projection.push(c);
      this.sources.push(source);
      this.index.set(c.name, this.projection.length - 1);
    }
    if (options.doNotRepeat) this.doNotAdd.add(c);
    return c;
  }

  /**
   * Declares a column `name = ...`. Returns false when the name was already declared (the caller reports the
   * duplicate). With `replace`, an existing undeclared column of that name is replaced in place.
   */
  declare(column: Column, replace: boolean, source: ColumnSource = { kind: 'input', column }): boolean {
    if (this.declared.has(column.name)) return false;
    const existing = this.index.get(column.name);
    if (replace && existing !== undefined) {
      this.projection[existing] = column;
      this.sources[existing] = source;
      this.declared.add(column.name);
    } else {
      const added = this.add(column, {}, source);
      this.declared.add(added.name);
    }
    return true;
  }

  /** `project-rename new = old`: false when `new` is already declared. */
  rename(oldName: string, newName: string): Column | null | false {
    const i = this.index.get(oldName);
    if (i === undefined) return null;
    if (this.declared.has(newName)) return false;
    const old = this.projection[i] as Column;
    const renamed = withName(old, newName);
    this.projection[i] = renamed;
    this.sources[i] = { kind: 'input', column: old };
    this.index.delete(oldName);
    this.index.set(newName, i);
    this.declared.add(newName);
    this.names.add(newName);
    return renamed;
  }
}
