/**
 * What the resolver says about a generated call, in the analyzer's terms (verdict and result schema), and the
 * comparison of the two over all generated calls.
 */
import type { Column, Type } from '../../src/binder/types.js';
import { aggregateResultColumns, argumentScope, defaultResultName, resolveCall } from '../../src/catalog/resolve.js';
import type { CallCase } from './cases.js';
import { TABLE_T, TABLE_U } from './oracle.js';

export interface Verdict {
  readonly ok: boolean;
  readonly schema: string;
}

const ROW: readonly Column[] = TABLE_T.map((c) => ({ name: c.name, type: c.type }));
const CTX = { rowColumns: ROW };

function typeName(t: Type): string {
  return t.kind === 'scalar' ? t.name : 'unknown';
}

/** Projection naming: a later duplicate gets the first free numeric suffix (`count_`, `count_1`). */
function unique(cols: readonly { name: string; type: string }[]): { name: string; type: string }[] {
  const taken = new Set(cols.map((c) => c.name));
  const seen = new Set<string>();
  return cols.map((c) => {
    if (!seen.has(c.name)) {
      seen.add(c.name);
      return c;
    }
    let i = 1;
    while (taken.has(`${c.name}${i}`)) i++;
    taken.add(`${c.name}${i}`);
    return { ...c, name: `${c.name}${i}` };
  });
}

function schema(cols: readonly { name: string; type: string }[]): string {
  return `(${cols.map((c) => `${/^[A-Za-z_][A-Za-z0-9_]*$/.test(c.name) ? c.name : `['${c.name}']`}:${c.type}`).join(', ')})`;
}

const T_NAMES = new Set<string>(TABLE_T.map((c) => c.name));
const U_NAMES = new Set<string>(TABLE_U.map((c) => c.name));

/**
 * The binder's part, emulated: arguments Kusto binds in another scope (see `argumentScope`) do not see the row's
 * columns, so a row column there is an unknown name.
 */
function binderScopeError(c: CallCase): boolean {
  return c.args.some((a, i) => {
    if (!a.isColumn || a.columnName === undefined) return false;
    switch (argumentScope(c.fn, i)) {
      case 'aggregate':
        return true;
      case 'parameter0':
        return !U_NAMES.has(a.columnName);
      case 'parameter0-common':
        return !(U_NAMES.has(a.columnName) && T_NAMES.has(a.columnName));
      default:
        return false;
    }
  });
}

export function resolverVerdict(c: CallCase): Verdict {
  const nameStart = c.query.indexOf(`${c.fn.name}(`);
  const res = resolveCall(c.fn, c.args, CTX, { start: nameStart, length: c.fn.name.length });
  const ok = res.diagnostics.every((d) => d.severity !== 'error') && !binderScopeError(c);
  const rt = res.returnType;
  let cols: { name: string; type: string }[];
  if (c.context === 'evaluate') {
    cols = rt.kind === 'table' ? rt.columns.map((x) => ({ name: x.name, type: x.type })) : [];
  } else if (rt.kind === 'tuple') {
    const tupleCols =
      c.context === 'summarize' ? (aggregateResultColumns(c.fn, c.args, CTX, []) ?? rt.columns) : rt.columns;
    cols = tupleCols.map((x) => ({ name: x.name, type: x.type }));
  } else {
    cols = [{ name: defaultResultName(c.fn, c.args, CTX) ?? 'Column1', type: typeName(rt) }];
  }
  // summarize/project make names unique; a plugin's schema is taken as it is
  return { ok, schema: schema(c.context === 'evaluate' ? cols : unique(cols)) };
}

export interface Figures {
  /** Calls compared (those on which the analyzer itself throws are excluded and counted apart). */
  readonly cases: number;
  readonly excluded: number;
  readonly verdict: number;
  readonly bothAccept: number;
  readonly types: number;
  readonly names: number;
  readonly disagreements: readonly { query: string; ours: Verdict; oracle: Verdict }[];
}

function splitSchema(s: string): { names: string[]; types: string[] } {
  const inner = s.startsWith('(') ? s.slice(1, -1) : '';
  const parts = inner ? inner.split(', ') : [];
  return {
    names: parts.map((p) => p.slice(0, p.lastIndexOf(':'))),
    types: parts.map((p) => p.slice(p.lastIndexOf(':') + 1)),
  };
}

export function compare(cases: readonly CallCase[], oracleOf: (q: string) => Verdict): Figures {
  let verdict = 0;
  let bothAccept = 0;
  let types = 0;
  let names = 0;
  const disagreements: { query: string; ours: Verdict; oracle: Verdict }[] = [];
  let excluded = 0;
  for (const c of cases) {
    const theirs = oracleOf(c.query);
    if (theirs.schema === 'exception') {
      excluded++;
      continue;
    }
    const ours = resolverVerdict(c);
    let agree = ours.ok === theirs.ok;
    if (agree) verdict++;
    // a non-table result (preview's two tables) is compared on the verdict only
    if (ours.ok && theirs.ok && theirs.schema.startsWith('(')) {
      bothAccept++;
      const a = splitSchema(ours.schema);
      const b = splitSchema(theirs.schema);
      if (a.types.join(',') === b.types.join(',')) types++;
      else agree = false;
      if (a.names.join(',') === b.names.join(',')) names++;
      else agree = false;
    }
    if (!agree) disagreements.push({ query: c.query, ours, oracle: theirs });
  }
  return { cases: cases.length - excluded, excluded, verdict, bothAccept, types, names, disagreements };
}
