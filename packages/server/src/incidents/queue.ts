/**
 * The incident queue's list query: filters (status, severity, owner, tags, provider, product, tactic, technique,
 * entity, rule, classification, time ranges, text), sorting on one column, and keyset ("cursor") paging that stays
 * stable while incidents are added. Multi-valued attributes (tags, products, tactics, entity identifiers, ...) are
 * matched through `inc_facets` (kind, value, incident), lower-cased, so a filter is one index lookup; entities through
 * the correlation engine's key index (`inc_entity_keys`).
 */
import { entityFilterKeys } from './entities.js';
import type { Classification, IncidentStatus, Severity } from './model.js';
import { SEVERITY_RANK } from './model.js';

export type SortField =
  | 'number'
  | 'createdTime'
  | 'lastModifiedTime'
  | 'lastActivityTime'
  | 'firstActivityTime'
  | 'severity'
  | 'alertCount'
  | 'title';

export const SORT_FIELDS: readonly SortField[] = [
  'number',
  'createdTime',
  'lastModifiedTime',
  'lastActivityTime',
  'firstActivityTime',
  'severity',
  'alertCount',
  'title',
];

const SORT_COLUMN: Readonly<Record<SortField, string>> = {
  number: 'number',
  createdTime: 'created_at',
  lastModifiedTime: 'updated_at',
  lastActivityTime: 'last_activity',
  firstActivityTime: 'first_activity',
  severity: 'severity_rank',
  alertCount: 'alert_count',
  title: 'title_lower',
};

export interface IncidentQuery {
  readonly status?: readonly IncidentStatus[];
  readonly severity?: readonly Severity[];
  /** Owners (UPN, email or name, case-insensitive); `unassigned` matches incidents without an owner. */
  readonly owner?: readonly string[];
  /** Any of these tags. */
  readonly tags?: readonly string[];
  readonly provider?: readonly string[];
  readonly product?: readonly string[];
  readonly tactic?: readonly string[];
  readonly technique?: readonly string[];
  /** Entity identifiers: a host name, UPN, address, hash, URL, ... (exact, case-insensitive). */
  readonly entity?: readonly string[];
  readonly ruleId?: readonly string[];
  /** Classifications; `none` matches unclassified incidents. */
  readonly classification?: readonly (Classification | 'none')[];
  readonly createdFrom?: string;
  readonly createdTo?: string;
  readonly updatedFrom?: string;
  readonly updatedTo?: string;
  /** Incidents with activity overlapping [activityFrom, activityTo]. */
  readonly activityFrom?: string;
  readonly activityTo?: string;
  /** Words in the title, or the incident number. */
  readonly text?: string;
  /** Show incidents merged into others (hidden by default, as in Defender's queue). */
  readonly includeRedirected?: boolean;
  readonly sort?: SortField;
  readonly order?: 'asc' | 'desc';
  /** Page size, 1-500 (default 50). */
  readonly limit?: number;
  readonly cursor?: string | null;
}

interface Cursor {
  readonly s: SortField;
  readonly o: 'asc' | 'desc';
  readonly v: string | number;
  readonly n: number;
}

export function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

export function decodeCursor(text: string): Cursor | null {
  try {
    const c = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as Partial<Cursor>;
    if (
      typeof c.s === 'string' &&
      (SORT_FIELDS as readonly string[]).includes(c.s) &&
      (c.o === 'asc' || c.o === 'desc') &&
      (typeof c.v === 'string' || typeof c.v === 'number') &&
      typeof c.n === 'number'
    )
      return c as Cursor;
  } catch {
    // fall through
  }
  return null;
}

export class QueryError extends Error {
  override readonly name = 'QueryError';
}

/**
 * How a page is found. `sort`: walk the sort column's index in order and check the filters on each row, stopping
 * after one page — right when the filters keep a fair share of incidents. `filters`: let the database start from a
 * selective filter (an entity, a rare tag, an owner, a narrow time range) and sort what it finds. `activity`: start
 * from the incidents whose activity overlaps the window (`activityTo` bounds the `(first_activity, last_activity)`
 * index, `activityFrom` is checked on it) and sort what is found — an hour in the past, where neither bound alone
 * is selective and scanning in sort order would visit most of the queue. Filters that must not drive are written as
 * expressions (`status || ''`, `severity_rank + 0`): portable SQL that SQLite's planner and PostgreSQL's both read
 * as "not indexable".
 */
export type ListPlan = 'sort' | 'filters' | 'activity';

/** Sort columns that hold numbers (the others hold text), for writing them as non-indexable expressions. */
const NUMERIC_SORT_COLUMNS = new Set(['number', 'severity_rank', 'alert_count']);

/** Filters that usually select few incidents (a page is then cheaper to find from them than by scanning in order). */
export function selectiveFilters(q: IncidentQuery): boolean {
  return (
    !!q.entity?.length ||
    (q.owner?.some((o) => o.toLowerCase() !== 'unassigned') ?? false) ||
    /^#?\d+$/.test(q.text?.trim() ?? '')
  );
}

/** The facet filters of a query, for estimating how many incidents they keep. */
export function facetFilters(q: IncidentQuery): { kind: string; values: string[] }[] {
  const out: { kind: string; values: string[] }[] = [];
  const add = (kind: string, values: readonly string[] | undefined) => {
    if (values?.length) out.push({ kind, values: values.map((v) => v.toLowerCase()) });
  };
  add('tag', q.tags);
  add('product', q.product);
  add('tactic', q.tactic);
  add('technique', q.technique);
  add('rule', q.ruleId);
  return out;
}

/** The SQL of one page (`limit + 1` rows are asked for, to know whether there is a next page). */
export function listSql(
  q: IncidentQuery,
  plan: ListPlan = 'filters',
): {
  sql: string;
  params: (string | number)[];
  limit: number;
  sort: SortField;
  order: 'asc' | 'desc';
} {
  const sort = q.sort ?? 'number';
  const order = q.order ?? 'desc';
  if (!SORT_COLUMN[sort]) throw new QueryError(`cannot sort by ${String(sort)}; use one of ${SORT_FIELDS.join(', ')}`);
  const limit = Math.min(500, Math.max(1, Math.floor(q.limit ?? 50)));
  const where: string[] = [];
  const params: (string | number)[] = [];
  const bySort = plan === 'sort';
  const byActivity = plan === 'activity';
  if (byActivity && !q.activityTo) throw new QueryError('the activity plan needs activityTo');
  // Columns with few distinct values (status, severity, classification, unassigned) never make a good start: they
  // are always written as expressions.
  const text = (column: string) => `${column} || ''`;
  const num = (column: string) => `${column} + 0`;
  const inList = (column: string, values: readonly (string | number)[]) => {
    where.push(`${column} IN (${values.map(() => '?').join(', ')})`);
    params.push(...values);
  };
  // Almost every incident is not redirected: that test never drives (the index serves "merged into #n" look-ups).
  if (!q.includeRedirected) where.push(`(${text('redirected_to')}) IS NULL`);
  if (q.status?.length) inList(text('status'), q.status);
  if (q.severity?.length) {
    const ranks = q.severity.map((s) => SEVERITY_RANK[s]);
    if (ranks.some((r) => r === undefined)) throw new QueryError(`unknown severity in ${q.severity.join(', ')}`);
    inList(num('severity_rank'), ranks);
  }
  if (q.owner?.length) {
    const named = q.owner.filter((o) => o.toLowerCase() !== 'unassigned').map((o) => o.toLowerCase());
    const parts: string[] = [];
    if (named.length) {
      parts.push(`owner_key IN (${named.map(() => '?').join(', ')})`);
      params.push(...named);
    }
    if (named.length < q.owner.length) parts.push(`${text('owner_key')} IS NULL`);
    where.push(`(${parts.join(' OR ')})`);
  }
  if (q.classification?.length) {
    const named = q.classification.filter((c) => c !== 'none');
    const parts: string[] = [];
    if (named.length) {
      parts.push(`${text('classification')} IN (${named.map(() => '?').join(', ')})`);
      params.push(...named);
    }
    if (named.length < q.classification.length) parts.push('classification IS NULL');
    where.push(`(${parts.join(' OR ')})`);
  }
  for (const f of facetFilters(q)) {
    const values = f.values.map(() => '?').join(', ');
    // Scanning in order, each row is checked with one seek into the facet index; otherwise the facet's incidents
    // are the starting set.
    where.push(
      bySort || byActivity
        ? `EXISTS (SELECT 1 FROM inc_facets WHERE kind = ? AND value IN (${values}) AND incident_id = inc_incidents.id)`
        : `id IN (SELECT incident_id FROM inc_facets WHERE kind = ? AND value IN (${values}))`,
    );
    params.push(f.kind, ...f.values);
  }
  if (q.provider?.length) {
    where.push(`lower(provider_name) IN (${q.provider.map(() => '?').join(', ')})`);
    params.push(...q.provider.map((p) => p.toLowerCase()));
  }
  if (q.entity?.length) {
    // Entities are found through the correlation index: the identifier, in each key form it can take.
    const keys = [...new Set(q.entity.flatMap(entityFilterKeys))];
    where.push(
      `id IN (SELECT incident_id FROM inc_entity_keys WHERE entity_key IN (${keys.map(() => '?').join(', ')}))`,
    );
    params.push(...keys);
  }
  const sortColumn = SORT_COLUMN[sort];
  const range = (column: string, op: '>=' | '<=', value: string | undefined) => {
    if (value === undefined || value === '') return;
    const ms = Date.parse(value);
    if (!Number.isFinite(ms)) throw new QueryError(`${value} is not a date and time`);
    // Scanning in sort order, a range on another column is only a check (a range on the sort column bounds the scan);
    // from the activity window, only its end drives.
    const check = byActivity ? !(column === 'first_activity' && op === '<=') : bySort && column !== sortColumn;
    where.push(`${check ? text(column) : column} ${op} ?`);
    params.push(new Date(ms).toISOString());
  };
  range('created_at', '>=', q.createdFrom);
  range('created_at', '<=', q.createdTo);
  range('updated_at', '>=', q.updatedFrom);
  range('updated_at', '<=', q.updatedTo);
  range('last_activity', '>=', q.activityFrom);
  range('first_activity', '<=', q.activityTo);
  const words = q.text?.trim().toLowerCase();
  if (words) {
    const asNumber = /^#?\d+$/.test(words) ? Number(words.replace('#', '')) : null;
    const like = `%${words.replace(/[\\%_]/g, (m) => `\\${m}`)}%`;
    if (asNumber !== null) {
      where.push("(title_lower LIKE ? ESCAPE '\\' OR number = ?)");
      params.push(like, asNumber);
    } else {
      where.push("title_lower LIKE ? ESCAPE '\\'");
      params.push(like);
    }
  }
  // From the activity window, the page is sorted after it is found: the sort column must not drive.
  const sortExpr = (c: string) => (!byActivity ? c : NUMERIC_SORT_COLUMNS.has(c) ? num(c) : text(c));
  const column = sortExpr(SORT_COLUMN[sort]);
  const numberCol = sortExpr('number');
  if (q.cursor) {
    const c = decodeCursor(q.cursor);
    if (!c || c.s !== sort || c.o !== order) throw new QueryError('the cursor belongs to another query');
    const cmp = order === 'desc' ? '<' : '>';
    if (sort === 'number') {
      where.push(`${numberCol} ${cmp} ?`);
      params.push(c.n);
    } else {
      where.push(`(${column} ${cmp} ? OR (${column} = ? AND ${numberCol} ${cmp} ?))`);
      params.push(c.v, c.v, c.n);
    }
  }
  const dir = order === 'desc' ? 'DESC' : 'ASC';
  const orderBy = sort === 'number' ? `${numberCol} ${dir}` : `${column} ${dir}, ${numberCol} ${dir}`;
  const sql = `SELECT * FROM inc_incidents${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY ${orderBy} LIMIT ?`;
  params.push(limit + 1);
  return { sql, params, limit, sort, order };
}

/** The cursor after a row of the page. */
export function cursorAfter(
  row: { number: number } & Record<string, unknown>,
  sort: SortField,
  order: 'asc' | 'desc',
): string {
  const v = row[SORT_COLUMN[sort]];
  return encodeCursor({ s: sort, o: order, v: typeof v === 'number' ? v : String(v ?? ''), n: Number(row.number) });
}
