/**
 * Default result-column names, as Kusto derives them: a column reference keeps its name, `d.x` on a dynamic
 * becomes `d_x`, `d["k"]` becomes `d_k`, a function call follows its `ResultNameKind` (`count_`, `sum_x`,
 * `strlen_b`, `bin(d, 1h)` → `d`), anything else gets a generated `Column1`, `print_0`, ...
 */
import type { Call, Expr } from '../syntax/nodes.js';
import type { SemanticModel } from './semantic-model.js';
import type { RowScope } from './symbols.js';
import type { Column } from './types.js';

function isDynamicOrUnknown(model: SemanticModel, e: Expr): boolean {
  const t = model.typeOf(e);
  return !t || t.kind === 'unknown' || (t.kind === 'scalar' && t.name === 'dynamic');
}

/** The name an expression gives its column, or `defaultName` when it has no natural name. */
export function expressionResultName(
  model: SemanticModel,
  e: Expr,
  defaultName: string | null,
  row?: RowScope | null,
): string | null {
  switch (e.kind) {
    case 'Paren':
      return expressionResultName(model, e.expr, defaultName, row);
    case 'Name':
      return e.name;
    case 'Index': {
      if (isDynamicOrUnknown(model, e.expr)) {
        const left = expressionResultName(model, e.expr, null);
        const right = selectorName(e.index);
        return left && left.trim() !== '' ? `${left}_${right ?? ''}` : right;
      }
      return selectorName(e.index) ?? defaultName;
    }
    case 'Member': {
      if (isDynamicOrUnknown(model, e.expr)) {
        const left = expressionResultName(model, e.expr, null);
        const right = e.member.name;
        return left && left.trim() !== '' ? `${left}_${right}` : right;
      }
      return e.member.name;
    }
    case 'Ordered':
      return expressionResultName(model, e.expr, defaultName, row);
    case 'NamedExpr':
      return e.names[0]?.name ?? defaultName;
    case 'NamedArg':
      return e.name.name;
    case 'Call':
      return functionResultName(model, e, defaultName, row);
    default:
      return defaultName;
  }
}

/** `x["key"]` and `x[0]` name their column after the literal selector. */
function selectorName(index: Expr): string | null {
  if (index.kind === 'Literal' && (index.type === 'string' || index.type === 'long' || index.type === 'int')) {
    return String(index.value);
  }
  return null;
}

/** The name a call gives its column, from the function's `ResultNameKind` and prefix. */
export function functionResultName(
  model: SemanticModel,
  call: Call,
  defaultName: string | null,
  row?: RowScope | null,
): string | null {
  const binding = model.call(call);
  if (!binding || binding.kind === 'user') return defaultName;
  const fn = binding.definition;
  let kind = fn.resultNameKind;
  let prefix: string | undefined = fn.resultNamePrefix;
  if (kind === 'NameAndFirstArgument') {
    prefix = fn.name;
    kind = 'PrefixAndFirstArgument';
  } else if (kind === 'NameAndOnlyArgument') {
    prefix = fn.name;
    kind = 'PrefixAndOnlyArgument';
  }
  const args = call.args;
  const first = args[0];
  switch (kind) {
    case 'PrefixAndFirstArgument':
      if (first) {
        const name = expressionResultName(model, first, defaultName);
        return prefix !== undefined ? `${prefix}_${name ?? ''}` : name;
      }
      return prefix !== undefined ? `${prefix}_` : null;
    case 'PrefixAndOnlyArgument':
      if (args.length === 1 && first) {
        const name = expressionResultName(model, first, defaultName);
        return prefix !== undefined ? `${prefix}_${name ?? ''}` : name;
      }
      return defaultName;
    case 'FirstArgumentValueIfColumn': {
      const v = first ? model.info(first)?.constant?.value : undefined;
      if (typeof v === 'string') return row?.get(v) ? v : defaultName;
      return defaultName;
    }
    case 'FirstArgument':
      return first ? expressionResultName(model, first, defaultName) : null;
    case 'PrefixOnly':
      return prefix ?? defaultName;
    case 'OnlyArgument':
      return args.length === 1 && first ? expressionResultName(model, first, defaultName) : defaultName;
    default:
      return defaultName;
  }
}

const CONVERSION_FUNCTIONS = new Set([
  'tobool',
  'toboolean',
  'todatetime',
  'todecimal',
  'todouble',
  'toreal',
  'todynamic',
  'toobject',
  'toguid',
  'toint',
  'tolong',
  'tostring',
  'totime',
  'totimespan',
]);

/**
 * The column an expression denotes unchanged (Kusto's GetResultColumn): a column reference, parenthesized, or a
 * no-op conversion such as `tostring(aStringColumn)`.
 */
export function resultColumnOf(model: SemanticModel, e: Expr): Column | null {
  if (e.kind === 'Paren') return resultColumnOf(model, e.expr);
  const info = model.info(e);
  if (info?.symbol?.kind === 'column') return info.symbol.column;
  if (e.kind === 'Call' && CONVERSION_FUNCTIONS.has(e.name.name) && e.args.length === 1) {
    const argInfo = model.info(e.args[0] as Expr);
    if (argInfo?.symbol?.kind === 'column') {
      const col = argInfo.symbol.column;
      const t = info?.type;
      if (t && t.kind === 'scalar' && t.name === col.type) return col;
    }
  }
  return null;
}
