/**
 * The ClickHouse lock-down for query text: only one read-only SELECT over the workspace's own tables runs.
 * - One statement: chdb executes every statement of a multi-statement text, so a `;` outside literals, quoted
 *   names and comments is refused before ClickHouse sees the text (even `EXPLAIN` would run what follows it).
 * - ClickHouse's own parser (`EXPLAIN AST`) then gives the tree: the root must be a SELECT; table functions
 *   (`url`, `file`, `s3`, `remote`, `mysql`, `executable`, ...) are refused except the row generators the compiler
 *   uses (`numbers`, `generate_series`); tables must be unqualified (no `system.`, no other database) and not
 *   Vigil's metadata; a `SETTINGS` clause is refused; functions that reach files or dictionaries are refused.
 * - At run time every query carries `readonly = 1` (no writes, no setting changes) and its limits.
 */
import { EngineError } from '../errors.js';

const ALLOWED_TABLE_FUNCTIONS = new Set(['numbers', 'generate_series']);
const REFUSED_FUNCTION =
  /^(?:dictget|dicthas|dictgetor|joinget|catboost|filesystem|getmacro|file|url|s3|hdfs|azureblob|remote|input|executable|getsetting|gethttpheader|getclientaddress)/i;

/** Refuses a text holding more than one statement; returns it without a trailing `;`. */
export function singleStatement(sql: string): string {
  let i = 0;
  const n = sql.length;
  let end = n;
  while (i < n) {
    const c = sql[i] as string;
    if (c === "'" || c === '"' || c === '`') {
      i++;
      while (i < n && sql[i] !== c) i += sql[i] === '\\' ? 2 : 1;
      i++;
    } else if (c === '-' && sql[i + 1] === '-') {
      while (i < n && sql[i] !== '\n') i++;
    } else if (c === '#' && sql[i + 1] === '!') {
      while (i < n && sql[i] !== '\n') i++;
    } else if (c === '/' && sql[i + 1] === '*') {
      const close = sql.indexOf('*/', i + 2);
      i = close < 0 ? n : close + 2;
    } else if (c === ';') {
      if (sql.slice(i + 1).trim() !== '' && !/^(?:\s|;)*$/.test(sql.slice(i + 1))) {
        throw new EngineError('refused', 'expected one SELECT statement, got several statements');
      }
      end = i;
      break;
    } else i++;
  }
  return sql.slice(0, end);
}

/** Checks the `EXPLAIN AST` text of a statement; `isMeta` tells Vigil's own metadata tables. */
export function checkAst(ast: string, isMeta: (name: string) => boolean): void {
  const lines = ast.split('\n').filter((l) => l.trim() !== '');
  const first = lines[0]?.trim() ?? '';
  if (!first.startsWith('SelectWithUnionQuery') && !first.startsWith('SelectIntersectExceptQuery')) {
    throw new EngineError('refused', `only SELECT statements run as queries, not ${first.split(' ')[0] ?? 'this'}`);
  }
  const depth = (l: string) => l.length - l.trimStart().length;
  for (let k = 0; k < lines.length; k++) {
    const line = lines[k] as string;
    const t = line.trim();
    const fn = /^Function (\S+)/.exec(t)?.[1];
    if (fn) {
      const parent = lines[k - 1];
      const underTable = parent?.trim().startsWith('TableExpression') === true && depth(parent ?? '') < depth(line);
      if (underTable && !ALLOWED_TABLE_FUNCTIONS.has(fn)) {
        throw new EngineError('refused', `the table function ${fn}() is not available to queries`);
      }
      if (!underTable && REFUSED_FUNCTION.test(fn)) {
        throw new EngineError('refused', `the function ${fn}() is not available to queries`);
      }
    }
    const table = /^TableIdentifier (\S+)/.exec(t)?.[1];
    if (table !== undefined) {
      if (table.includes('.')) throw new EngineError('refused', `the table ${table} is outside the workspace`);
      if (isMeta(table)) throw new EngineError('refused', `the table ${table} is not queryable`);
    }
    if (/^Set\b/.test(t)) throw new EngineError('refused', 'queries cannot change settings');
    if (
      /^(?:InsertQuery|CreateQuery|DropQuery|AlterQuery|SystemQuery|KillQueryQuery|RenameQuery|OptimizeQuery)/.test(t)
    ) {
      throw new EngineError('refused', `only SELECT statements run as queries, not ${t.split(' ')[0]}`);
    }
  }
}
