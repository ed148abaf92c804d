/**
 * The ClickHouse query lock-down's text checks (guard.ts), without an engine: statement splitting that respects
 * literals, quoted names and comments, and the AST rules on ClickHouse's `EXPLAIN AST` output.
 */
import { describe, expect, it } from 'vitest';
import { checkAst, singleStatement } from '../../src/engine/clickhouse/guard.js';
import { EngineError } from '../../src/engine/errors.js';

const refused = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(EngineError);
    expect((e as EngineError).code).toBe('refused');
    return;
  }
  throw new Error('expected a refusal');
};

describe('singleStatement', () => {
  it('keeps one statement and drops a trailing semicolon', () => {
    expect(singleStatement('SELECT 1;')).toBe('SELECT 1');
    expect(singleStatement('SELECT 1 ; ; ')).toBe('SELECT 1 ');
  });
  it('ignores semicolons inside literals, quoted names and comments', () => {
    expect(singleStatement('SELECT \';\' AS "a;b", `c;d` -- x; y\n')).toBe('SELECT \';\' AS "a;b", `c;d` -- x; y\n');
    expect(singleStatement("SELECT 'it\\'s; fine' /* ; */")).toBe("SELECT 'it\\'s; fine' /* ; */");
  });
  it('refuses a second statement', () => {
    refused(() => singleStatement('SELECT 1; DROP TABLE t'));
    refused(() => singleStatement("SELECT '\\''; DROP TABLE t"));
    refused(() => singleStatement('SELECT 1 /* a */; SELECT 2'));
  });
});

const AST = (lines: string[]) => lines.join('\n');
const select = (...body: string[]) =>
  AST([
    'SelectWithUnionQuery (children 1)',
    ' ExpressionList (children 1)',
    '  SelectQuery (children 2)',
    '   ExpressionList (children 1)',
    '    Asterisk',
    '   TablesInSelectQuery (children 1)',
    '    TablesInSelectQueryElement (children 1)',
    '     TableExpression (children 1)',
    ...body,
  ]);
const noMeta = () => false;

describe('checkAst', () => {
  it('accepts a SELECT over a table and the row generators the compiler uses', () => {
    expect(() => checkAst(select('      TableIdentifier SecurityEvent'), noMeta)).not.toThrow();
    expect(() => checkAst(select('      Function numbers (children 1)'), noMeta)).not.toThrow();
  });
  it('refuses table functions, other databases, metadata tables and settings', () => {
    refused(() => checkAst(select('      Function url (children 1)'), noMeta));
    refused(() => checkAst(select('      Function file (children 1)'), noMeta));
    refused(() => checkAst(select('      TableIdentifier system.tables'), noMeta));
    refused(() => checkAst(select('      TableIdentifier vigil_meta_info'), (n) => n.startsWith('vigil_meta')));
    refused(() => checkAst(`${select('      TableIdentifier T')}\n   Set`, noMeta));
  });
  it('refuses non-SELECT statements', () => {
    refused(() => checkAst('InsertQuery   (children 2)\n Identifier x', noMeta));
    refused(() => checkAst('DropQuery  x', noMeta));
  });
  it('refuses scalar functions that reach files or dictionaries', () => {
    refused(() => checkAst(select('      TableIdentifier T', '   Function dictGet (children 1)'), noMeta));
  });
});
