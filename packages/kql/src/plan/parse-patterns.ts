/**
 * The regular expressions (RE2 syntax) behind `parse`, `parse-where` and `parse-kv`. Lowering turns each operator
 * into `extract()` calls over these regexes plus conversions, so the operators need nothing engine-specific.
 *
 * `parse` modes, as Kusto's documented and recorded outputs show them:
 * - simple (default): the pattern describes the whole string (anchored at both ends, `.` matches newlines);
 *   `*` is lazy; a column followed by a string constant takes the text up to it, one followed by `*` or ending
 *   the pattern is read by its form (int/long `-?\d+`, real a decimal number, string the rest); a row matches
 *   only if the regex matches and every typed column converts, otherwise all columns are null/empty;
 * - relaxed: like simple, but a column that does not convert is null on its own;
 * - regex: string constants are regexes, `*` is `.*`, string columns are greedy `(.*)`, int/long `(-?\d+)`; the
 *   regex is not anchored; `flags=` become inline RE2 flags. Capture groups inside the constants count when
 *   numbering the columns' groups.
 */
import type { ColumnType } from '../binder/types.js';

export type ParseMode = 'simple' | 'relaxed' | 'regex';

export type ParsePart =
  | { readonly kind: 'star' }
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'column'; readonly name: string; readonly type: ColumnType };

export interface ParseRegex {
  readonly regex: string;
  /** The capture group of each column, in pattern order. */
  readonly columns: readonly { readonly name: string; readonly type: ColumnType; readonly group: number }[];
}

/** Escapes text for an RE2 pattern. */
export function regexEscape(s: string): string {
  return s.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
}

/** The number of capturing groups a regex fragment opens (`(`, `(?P<name>`), skipping escapes and classes. */
export function captureGroups(re: string): number {
  let n = 0;
  let inClass = false;
  for (let i = 0; i < re.length; i++) {
    const c = re[i];
    if (c === '\\') {
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') inClass = true;
    else if (c === '(') {
      if (re[i + 1] !== '?') n++;
      else if (re[i + 2] === 'P' && re[i + 3] === '<') n++;
      else if (re[i + 2] === '<' && re[i + 3] !== '=' && re[i + 3] !== '!') n++;
    }
  }
  return n;
}

/**
 * A column's group: up to the next string constant when one follows (lazy); before `*` or at the end, numbers are
 * matched by their form (so `n:long *` reads the digits) and strings take the rest.
 */
function columnRegex(type: ColumnType, mode: ParseMode, beforeText: boolean): string {
  const numeric =
    type === 'int' || type === 'long' ? '(-?\\d+)' : type === 'real' ? '(-?\\d+(?:\\.\\d*)?(?:[eE][-+]?\\d+)?)' : null;
  if (mode === 'regex') return type === 'int' || type === 'long' ? (numeric as string) : '(.*)';
  if (beforeText) return '(.*?)';
  return numeric ?? '(.*?)';
}

export function parsePatternRegex(parts: readonly ParsePart[], mode: ParseMode, flags: string): ParseRegex {
  let re = '';
  let group = 0;
  const columns: { name: string; type: ColumnType; group: number }[] = [];
  parts.forEach((p, i) => {
    if (p.kind === 'star') re += mode === 'regex' ? '.*' : '.*?';
    else if (p.kind === 'text') {
      if (mode === 'regex') {
        re += p.text;
        group += captureGroups(p.text);
      } else re += regexEscape(p.text);
    } else {
      group++;
      columns.push({ name: p.name, type: p.type, group });
      re += columnRegex(p.type, mode, parts[i + 1]?.kind === 'text');
    }
  });
  if (mode === 'regex') {
    const inline = flags.replace(/[^imsU]/g, '');
    return { regex: inline ? `(?${inline})${re}` : re, columns };
  }
  return { regex: `(?s)^${re}$`, columns };
}

/** The options of `parse-kv ... with (...)`. */
export interface KvOptions {
  readonly pairDelimiter: string | null;
  readonly kvDelimiter: string | null;
  readonly quote: string;
  readonly escape: string;
  readonly greedy: boolean;
}

/**
 * A regex for the value of `key` in a parse-kv text: groups 1..q are the quoted forms (one per quote character),
 * group q+1 the plain form. The key starts the text or follows a pair delimiter (spaces around keys and delimiters
 * are ignored) and the first occurrence wins; a plain value ends at the next pair delimiter, or with `greedy=true`
 * at the next `key=`. Without delimiters, a key is followed by `:` or `=` and its value runs to the next space,
 * comma or semicolon.
 */
export function kvRegex(key: string, o: KvOptions): { readonly regex: string; readonly groups: number } {
  const quotes = [...o.quote];
  const keyForms = [regexEscape(key), ...quotes.map((q) => `${regexEscape(q)}${regexEscape(key)}${regexEscape(q)}`)];
  const k = `(?:${keyForms.join('|')})`;
  const pd = o.pairDelimiter === null ? '[\\s,;]' : regexEscape(o.pairDelimiter);
  const kd = o.kvDelimiter === null ? '[:=]' : regexEscape(o.kvDelimiter);
  const esc = [...o.escape].map(regexEscape).join('');
  const quoted = quotes.map((q) => {
    const e = regexEscape(q);
    const inner = esc ? `(?:[^${e}${esc}]|[${esc}].)*` : `[^${e}]*`;
    return `${e}(${inner})${e}`;
  });
  let plain: string;
  if (o.pairDelimiter === null && o.kvDelimiter === null) plain = '([^\\s,;]*)';
  else if (o.greedy) {
    const keyChars = o.kvDelimiter === null ? ':=' : regexEscape(o.kvDelimiter);
    plain = `(.*?)\\s*(?:${pd}\\s*[^\\s${keyChars}]+\\s*${kd}|$)`;
  } else plain = `(.*?)\\s*(?:${pd}|$)`;
  return {
    regex: `(?s)(?:^|${pd})\\s*${k}\\s*${kd}\\s*(?:${[...quoted, plain].join('|')})`,
    groups: quotes.length + 1,
  };
}
