/**
 * The plans of the detection plugins sequence_detect and basket (plan/plugins-sequence.ts, plan/plugins-basket.ts):
 * their shape (joins per step, one aggregate per column set), that both dialects generate SQL for them, and the
 * forms refused with a diagnostic on the argument's span. Rows are checked end to end on DuckDB and ClickHouse in
 * packages/server/test/detect/plugins.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { analyze } from '../../src/analyze.js';
import { IDENTITY_STORAGE } from '../../src/compile.js';
import { lower } from '../../src/plan/lower.js';
import type { Rel } from '../../src/plan/nodes.js';
import { optimize } from '../../src/plan/passes/index.js';
import { clickhouse } from '../../src/sql/dialects/clickhouse/index.js';
import { duckdb } from '../../src/sql/dialects/duckdb/index.js';
import { generateSql } from '../../src/sql/generate.js';
import { NOW_TICKS, relations, relOf, workspace } from './support.js';

const kinds = (rel: Rel) => relations(rel).map((r) => r.kind);
const count = (rel: Rel, kind: Rel['kind']) => kinds(rel).filter((k) => k === kind).length;

/** The refusal of a query: its message and the text its span covers. */
function refusal(text: string): { message: string; at: string } {
  const analysis = analyze(text, workspace);
  const errors = analysis.diagnostics.filter((d) => d.severity === 'error');
  expect(errors.map((d) => d.message)).toEqual([]);
  const lowered = lower(analysis, { now: NOW_TICKS });
  expect(lowered.plan).toBeNull();
  const d = lowered.diagnostics[0];
  if (!d) throw new Error('no diagnostic');
  return { message: d.message, at: text.slice(d.start, d.start + d.length) };
}

function sqlOf(text: string, dialect: typeof duckdb): string {
  const plan = optimize({ rel: relOf(text), visualization: null });
  return generateSql(plan.rel, dialect, { storage: IDENTITY_STORAGE }).sql;
}

describe('sequence_detect', () => {
  const q = (steps: string, dims: string) =>
    `SigninLogs | evaluate sequence_detect(TimeGenerated, 10m, 1h, ${steps}${dims ? `, ${dims}` : ''})`;

  it('joins one step to the next per step, on the dimensions, and keeps distinct occurrences', () => {
    const two = relOf(q('a=(ResultType == "50126"), b=(ResultType == "0")', 'UserPrincipalName, IPAddress'));
    expect(two.columns.map((c) => c.name)).toEqual([
      'UserPrincipalName',
      'IPAddress',
      'a_TimeGenerated',
      'b_TimeGenerated',
      'Duration',
    ]);
    // two legs per step (the next step in the same time bucket of the step window, or the next bucket), keyed by
    // the dimensions and the bucket
    expect(count(two, 'join')).toBe(2);
    const join = relations(two).find((r) => r.kind === 'join');
    expect(join?.kind === 'join' && join.on.length).toBe(3);
    expect(count(two, 'distinct')).toBe(1);
    const three = relOf(q('a=(ResultType == "50126"), b=(ResultType == "0"), c=(AppDisplayName == "x")', ''));
    expect(count(three, 'join')).toBe(4);
    expect(three.columns.map((c) => c.type)).toEqual(['datetime', 'datetime', 'datetime', 'timespan']);
  });

  it('joins on the dimensions only when the step window is not a positive timespan literal', () => {
    const text =
      'SigninLogs | evaluate sequence_detect(TimeGenerated, 0s, 1h, a=(ResultType == "1"), b=(ResultType == "0"), UserPrincipalName)';
    const rel = relOf(text);
    const joins = relations(rel).filter((r) => r.kind === 'join');
    expect(joins.map((j) => j.kind === 'join' && j.on.length)).toEqual([1]);
  });

  it('generates SQL for DuckDB and ClickHouse', () => {
    const text = q('a=(ResultType == "50126"), b=(ResultType == "0")', 'UserPrincipalName');
    expect(sqlOf(text, duckdb)).toMatch(/JOIN/);
    expect(sqlOf(text, clickhouse)).toMatch(/JOIN/);
  });

  it('refuses a timeline that is not a datetime and windows that are not timespans, on the argument', () => {
    expect(refusal('datatable(n:long, s:string)[1, "a"] | evaluate sequence_detect(n, 1, 2, a=(s == "a"))')).toEqual({
      message: 'sequence_detect over a timeline that is not a datetime is not supported by Vigil yet.',
      at: 'n',
    });
    expect(
      refusal(
        'datatable(t:datetime, s:string)[datetime(2024-01-01), "a"] | evaluate sequence_detect(t, 1, 1h, a=(s == "a"))',
      ),
    ).toMatchObject({ at: '1' });
  });
});

describe('basket', () => {
  const q = (cols: string, args = '') => `SigninLogs | project ${cols} | evaluate basket(${args})`;

  it('repeats each tuple of rows per column set of at most MaxDimensions columns and aggregates once', () => {
    // 4 columns: 4 + 6 + 4 + 1 = 15 sets; MaxDimensions 2: 4 + 6 = 10
    const sets = (rel: Rel) => relations(rel).flatMap((r) => (r.kind === 'values' ? [r.rows.length] : []));
    const all = relOf(q('UserPrincipalName, IPAddress, AppDisplayName, ResultType'));
    expect(sets(all)).toEqual([15]);
    // the total, the tuples of equal rows, the patterns (the frequent values per column are sub-queries)
    expect(count(all, 'aggregate')).toBe(3);
    expect(all.columns.map((c) => `${c.name}:${c.type}`)).toEqual([
      'SegmentId:long',
      'Count:long',
      'Percent:real',
      'UserPrincipalName:string',
      'IPAddress:string',
      'AppDisplayName:string',
      'ResultType:string',
    ]);
    const two = relOf(q('UserPrincipalName, IPAddress, AppDisplayName, ResultType', "0.1, '~', 2"));
    expect(sets(two)).toEqual([10]);
  });

  it('generates SQL for DuckDB and ClickHouse', () => {
    const text = q('UserPrincipalName, AppDisplayName', '0.02');
    expect(sqlOf(text, duckdb)).toMatch(/GROUP BY/);
    expect(sqlOf(text, clickhouse)).toMatch(/GROUP BY/);
  });

  it('refuses weights that are not numeric columns, dynamic columns and too many column sets, with spans', () => {
    expect(refusal(q('UserPrincipalName, AppDisplayName', '0.1, AppDisplayName'))).toEqual({
      message: "basket's weight other than a numeric column is not supported by Vigil yet.",
      at: 'AppDisplayName',
    });
    expect(refusal(q('UserPrincipalName, LocationDetails')).message).toMatch(/dynamic column 'LocationDetails'/);
    const wide = refusal(
      q(
        'UserPrincipalName, IPAddress, AppDisplayName, ResultType, Location, ClientAppUsed, UserAgent, AppId, ResourceDisplayName, Category',
      ),
    );
    expect(wide.message).toMatch(/basket over 10 columns with MaxDimensions 5/);
    expect(wide.at).toMatch(/^basket\(/);
  });
});
