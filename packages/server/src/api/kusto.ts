/**
 * Kusto's REST API, so that existing Kusto clients (azure-kusto-data, Kusto.Explorer-style tools, notebooks) use
 * Vigil as a cluster whose databases are the caller's workspaces:
 * - `POST /v2/rest/query`: frames (`DataSetHeader`, `DataTable` of QueryProperties / PrimaryResult /
 *   QueryCompletionInformation, `DataSetCompletion`) with keys in the order Kusto writes them; the fragmented form
 *   (`TableHeader`, `TableFragment`, `TableProgress`, `TableCompletion`) when the request asks for it
 *   (`results_v2_fragment_primary_tables` or `results_progressive_enabled`). Rows stream from the engine's spool.
 * - `POST /v1/rest/query`: the v1 tables (`Table_0` ..., with a table of contents).
 * - `POST /v1/rest/mgmt`: `.show tables`, `.show table T schema as json` / `cslschema`, `.show functions`,
 *   `.show function F`, `.create[-or-alter] function`, `.alter function`, `.drop function`, `.show databases`,
 *   `.show version`, `.show queries`, `.cancel query`.
 * - `GET /v1/rest/auth/metadata`: 404, which clients read as "use the defaults" (authentication here is a Vigil
 *   API token or session token sent as the bearer token).
 * Errors before any row are HTTP errors with Kusto's `{error: {code, message, @type, @message, ...}}`; errors once
 * rows stream are reported in the data (`DataSetCompletion.HasErrors` with `OneApiErrors`).
 */
import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import type { FastifyReply } from 'fastify';
import { type Principal, permissionsIn } from '../auth/model.js';
import type { ResultColumn, ResultSet } from '../engine/engine.js';
import type { QueryOutcome } from '../query/query-service.js';
import { compilerWorkspace } from '../query/query-service.js';
import type { Workspace } from '../workspaces/workspace.js';
import { ApiError } from './errors.js';
import { type AnyRoute, type Ctx, requestState, route } from './route.js';
import { putFunction } from './routes/queries.js';
import { ErrorSchema, S } from './schema.js';

const DOTNET: Readonly<Record<string, [string, string]>> = {
  bool: ['Boolean', 'System.Boolean'],
  datetime: ['DateTime', 'System.DateTime'],
  dynamic: ['Object', 'System.Object'],
  guid: ['Guid', 'System.Guid'],
  int: ['Int32', 'System.Int32'],
  long: ['Int64', 'System.Int64'],
  real: ['Double', 'System.Double'],
  string: ['String', 'System.String'],
  timespan: ['TimeSpan', 'System.TimeSpan'],
  decimal: ['Decimal', 'System.Data.SqlTypes.SqlDecimal'],
};

interface KustoBody {
  db?: string;
  csl: string;
  properties?: string | { Options?: Record<string, unknown>; Parameters?: Record<string, unknown> };
}

interface RequestInfo {
  readonly clientRequestId: string;
  readonly activityId: string;
  readonly options: Record<string, unknown>;
}

/** Kusto's error payload (HTTP errors). */
export function kustoError(
  status: number,
  type: string,
  message: string,
  info: { clientRequestId: string; activityId: string; text?: string; db?: string },
): ApiError {
  const code =
    status === 401
      ? 'Unauthorized'
      : status === 403
        ? 'Forbidden'
        : status === 404
          ? 'NotFound'
          : status >= 500
            ? 'Internal service error'
            : 'General_BadRequest';
  const err = new ApiError(
    status,
    code,
    status === 400 ? 'Request is invalid and cannot be executed.' : message,
    undefined,
    undefined,
  );
  // Kusto's own shape, not ours: clients parse `error.@message`.
  Object.defineProperty(err, 'toJSON', {
    value: () => ({
      error: {
        code,
        message: status === 400 ? 'Request is invalid and cannot be executed.' : message,
        '@type': type,
        '@message': message,
        '@context': {
          timestamp: new Date().toISOString(),
          serviceAlias: 'VIGIL',
          clientRequestId: info.clientRequestId,
          activityId: info.activityId,
          subActivityId: info.activityId,
          activityType: 'DN.FE.ExecuteQuery',
          parentActivityId: info.activityId,
        },
        '@permanent': status < 500,
        ...(info.text !== undefined ? { '@text': info.text } : {}),
        ...(info.db !== undefined ? { '@database': info.db } : {}),
        '@ClientRequestId': info.clientRequestId,
        '@ActivityId': info.activityId,
      },
    }),
  });
  return err;
}

function requestInfo(ctx: Ctx<unknown, unknown, KustoBody>): RequestInfo {
  const crid = ctx.request.headers['x-ms-client-request-id'];
  let props: { Options?: Record<string, unknown> } = {};
  const raw = ctx.body.properties;
  if (typeof raw === 'string' && raw.trim()) {
    try {
      props = JSON.parse(raw) as typeof props;
    } catch {
      props = {};
    }
  } else if (raw && typeof raw === 'object') props = raw;
  return {
    clientRequestId: (Array.isArray(crid) ? crid[0] : crid) ?? `VIGIL;${randomUUID()}`,
    activityId: randomUUID(),
    options: props.Options ?? {},
  };
}

function resolveDb(ctx: Ctx<unknown, unknown, KustoBody>, info: RequestInfo, p: Principal): Workspace {
  const name = ctx.body.db?.trim() || '';
  const ws = name ? ctx.deps.manager.get(name) : undefined;
  // One answer for "no such database" and "not yours": other tenants' workspaces are not disclosed.
  if (!ws || !permissionsIn(p, ws.id).has('read'))
    throw kustoError(
      400,
      'Kusto.Data.Exceptions.EntityNotFoundException',
      `Entity ID '${name}' of kind 'Database' was not found.`,
      {
        ...info,
        db: name,
      },
    );
  ctx.audit.target = ws.name;
  // The audit entry goes to the workspace's own log.
  requestState(ctx.request).ws = ws;
  return ws;
}

function me(ctx: Ctx<unknown, unknown, KustoBody>): Principal {
  if (!ctx.principal)
    throw kustoError(
      401,
      'Kusto.Data.Exceptions.UnauthorizedDatabaseAccessException',
      'Unauthorized: send a Vigil API token as the bearer token',
      { clientRequestId: '', activityId: randomUUID() },
    );
  return ctx.principal;
}

const truthy = (v: unknown) => v === true || v === 'true' || v === 'True';

function timeoutOf(options: Record<string, unknown>): number | undefined {
  const t = options.servertimeout;
  if (typeof t === 'number') return t / 10_000; // ticks
  if (typeof t === 'string') {
    const m = /^(?:(\d+)\.)?(\d{1,2}):(\d{2}):(\d{2})(?:\.(\d+))?$/.exec(t);
    if (m) return ((Number(m[1] ?? 0) * 24 + Number(m[2])) * 3600 + Number(m[3]) * 60 + Number(m[4])) * 1000;
  }
  return undefined;
}

async function runFor(ctx: Ctx<unknown, unknown, KustoBody>, info: RequestInfo, ws: Workspace): Promise<QueryOutcome> {
  const p = me(ctx);
  const abort = new AbortController();
  ctx.request.raw.once('close', () => {
    if (!ctx.reply.sent) abort.abort();
  });
  const maxRows = Number(info.options.truncationmaxrecords);
  const timeoutMs = timeoutOf(info.options);
  const { outcome } = await ctx.deps.queries.run({
    ws,
    text: ctx.body.csl,
    principal: p,
    queryId: info.clientRequestId,
    ...(timeoutMs ? { timeoutMs } : {}),
    ...(Number.isFinite(maxRows) && maxRows > 0 ? { maxRows } : {}),
    ...(truthy(info.options.notruncation) ? { maxRows: 500_000_000, maxBytes: 4 * 1024 ** 3 } : {}),
    signal: abort.signal,
    source: 'kusto',
  });
  ctx.audit.kind = 'query';
  ctx.audit.details = {
    query: ctx.body.csl,
    clientRequestId: info.clientRequestId,
    ok: !!outcome.result,
    error: outcome.error,
    rows: outcome.result?.rowCount ?? 0,
  };
  if (!outcome.result) {
    const e = outcome.error;
    if (e?.code === 'compile') {
      const d = outcome.diagnostics.find((x) => x.severity === 'error');
      const syntax = d ? /^KQL0[0-9]/.test(d.code) && Number(d.code.slice(3)) < 100 : false;
      throw kustoError(
        400,
        syntax ? 'Kusto.Data.Exceptions.SyntaxException' : 'Kusto.Data.Exceptions.SemanticException',
        `${syntax ? 'Syntax error' : 'Semantic error'}: ${e.message}${d ? ` (at ${d.start})` : ''}`,
        { ...info, text: ctx.body.csl, db: ws.name },
      );
    }
    const status = e?.code === 'timeout' ? 504 : e?.code === 'cancelled' ? 499 : 500;
    throw kustoError(
      status,
      e?.code === 'cancelled'
        ? 'Kusto.Data.Exceptions.QueryCancelledException'
        : 'Kusto.Data.Exceptions.KustoServiceException',
      e?.message ?? 'the query failed',
      { ...info, db: ws.name },
    );
  }
  return outcome;
}

const columnsV2 = (cols: readonly ResultColumn[]) => cols.map((c) => ({ ColumnName: c.name, ColumnType: c.type }));

function completionRows(info: RequestInfo, result: ResultSet): unknown[][] {
  const now = new Date().toISOString();
  const row = (
    level: number,
    levelName: string,
    code: number,
    codeName: string,
    eventType: number,
    eventName: string,
    payload: unknown,
  ) => [
    now,
    info.clientRequestId,
    info.activityId,
    info.activityId,
    info.activityId,
    level,
    levelName,
    code,
    codeName,
    eventType,
    eventName,
    JSON.stringify(payload),
  ];
  const rows = [
    row(4, 'Info', 0, 'S_OK (0)', 4, 'QueryInfo', { Count: 1, Text: 'Query completed successfully' }),
    row(4, 'Info', 0, 'S_OK (0)', 5, 'WorkloadGroup', { Count: 1, Text: 'default' }),
    row(4, 'Info', 0, 'S_OK (0)', 3, 'QueryResourceConsumption', {
      ExecutionTime: result.engineMs / 1000,
      resource_usage: { cpu: { 'total cpu': '00:00:00' } },
      input_dataset_statistics: {},
      dataset_statistics: [{ table_row_count: result.rowCount, table_size: result.encodedBytes }],
    }),
  ];
  if (result.truncated)
    rows.push(row(2, 'Error', -2133196797, 'LimitsExceeded', 4, 'QueryInfo', truncationError(result)));
  return rows;
}

function truncationError(result: ResultSet): { Count: number; Text: string } {
  const t = result.truncated;
  return {
    Count: 1,
    Text:
      t?.reason === 'bytes'
        ? `Query result set has exceeded the internal data size limit ${t.limit} (E_QUERY_RESULT_SET_TOO_LARGE).`
        : `Query result set has exceeded the internal record count limit ${t?.limit} (E_QUERY_RESULT_SET_TOO_LARGE).`,
  };
}

const COMPLETION_COLUMNS = [
  ['Timestamp', 'datetime'],
  ['ClientRequestId', 'string'],
  ['ActivityId', 'guid'],
  ['SubActivityId', 'guid'],
  ['ParentActivityId', 'guid'],
  ['Level', 'int'],
  ['LevelName', 'string'],
  ['StatusCode', 'int'],
  ['StatusCodeName', 'string'],
  ['EventType', 'int'],
  ['EventTypeName', 'string'],
  ['Payload', 'string'],
].map(([n, t]) => ({ ColumnName: n, ColumnType: t }));

function visualizationOf(outcome: QueryOutcome): Record<string, unknown> {
  const v = outcome.compiled.visualization;
  const base: Record<string, unknown> = {
    Visualization: null,
    Title: null,
    XColumn: null,
    Series: null,
    YColumns: null,
    AnomalyColumns: null,
    XTitle: null,
    YTitle: null,
    XAxis: null,
    YAxis: null,
    Legend: null,
    YSplit: null,
    Accumulate: false,
    IsQuerySorted: false,
    Kind: null,
    Ymin: 'NaN',
    Ymax: 'NaN',
    Xmin: null,
    Xmax: null,
  };
  if (!v) return base;
  // Kusto's property names are capitalized (`Title`, `XColumn`, ...).
  const props = Object.fromEntries(
    Object.entries(v.properties).map(([k, x]) => [k.charAt(0).toUpperCase() + k.slice(1), x]),
  );
  return { ...base, ...props, Visualization: v.type };
}

/** Writes a v2 response, streaming the primary result's rows. */
function sendV2(reply: FastifyReply, info: RequestInfo, outcome: QueryOutcome): FastifyReply {
  const result = outcome.result as ResultSet;
  const progressive = truthy(info.options.results_progressive_enabled);
  const fragmented = progressive || truthy(info.options.results_v2_fragment_primary_tables);
  const nl = truthy(info.options.results_v2_newlines_between_frames) ? '\n' : '';
  const out = new PassThrough();
  reply.header('content-type', 'application/json; charset=utf-8');
  reply.header('x-ms-activity-id', info.activityId);
  reply.header('x-ms-client-request-id', info.clientRequestId);
  void reply.send(out);
  const write = (s: string) =>
    out.write(s) ? Promise.resolve() : new Promise<void>((r) => out.once('drain', () => r()));
  void (async () => {
    let hasErrors = false;
    let oneApiErrors: unknown[] | null = null;
    try {
      await write(
        `[${JSON.stringify({ FrameType: 'DataSetHeader', IsProgressive: progressive, Version: 'v2.0', IsFragmented: fragmented, ErrorReportingPlacement: 'InData' })}`,
      );
      await write(
        `${nl},${JSON.stringify({
          FrameType: 'DataTable',
          TableId: 0,
          TableKind: 'QueryProperties',
          TableName: '@ExtendedProperties',
          Columns: [
            { ColumnName: 'TableId', ColumnType: 'int' },
            { ColumnName: 'Key', ColumnType: 'string' },
            { ColumnName: 'Value', ColumnType: 'dynamic' },
          ],
          Rows: [[1, 'Visualization', visualizationOf(outcome)]],
        })}`,
      );
      const cols = columnsV2(result.columns);
      if (!fragmented) {
        await write(
          `${nl},{"FrameType":"DataTable","TableId":1,"TableKind":"PrimaryResult","TableName":"PrimaryResult","Columns":${JSON.stringify(cols)},"Rows":[`,
        );
        await result.writeRows(out);
        await write(']}');
      } else {
        await write(
          `${nl},${JSON.stringify({ FrameType: 'TableHeader', TableId: 1, TableKind: 'PrimaryResult', TableName: 'PrimaryResult', Columns: cols })}`,
        );
        let batch: string[] = [];
        let done = 0;
        const flush = async () => {
          if (batch.length === 0) return;
          await write(
            `${nl},{"FrameType":"TableFragment","TableFragmentType":"DataAppend","TableId":1,"Rows":[${batch.join(',')}]}`,
          );
          done += batch.length;
          batch = [];
          if (progressive)
            await write(
              `${nl},${JSON.stringify({ FrameType: 'TableProgress', TableId: 1, TableProgress: result.rowCount ? (100 * done) / result.rowCount : 100 })}`,
            );
        };
        for await (const row of result.rowTexts()) {
          batch.push(row);
          if (batch.length >= 10_000) await flush();
        }
        await flush();
        await write(`${nl},${JSON.stringify({ FrameType: 'TableCompletion', TableId: 1, RowCount: result.rowCount })}`);
      }
      await write(
        `${nl},${JSON.stringify({ FrameType: 'DataTable', TableId: 2, TableKind: 'QueryCompletionInformation', TableName: 'QueryCompletionInformation', Columns: COMPLETION_COLUMNS, Rows: completionRows(info, result) })}`,
      );
      if (result.truncated) {
        hasErrors = true;
        oneApiErrors = [oneApiError('LimitsExceeded', truncationError(result).Text, info)];
      }
    } catch (e) {
      hasErrors = true;
      oneApiErrors = [oneApiError('Internal service error', e instanceof Error ? e.message : String(e), info)];
    } finally {
      await result.close().catch(() => undefined);
    }
    out.end(
      `${nl},${JSON.stringify({ FrameType: 'DataSetCompletion', HasErrors: hasErrors, Cancelled: false, ...(oneApiErrors ? { OneApiErrors: oneApiErrors } : {}) })}${nl}]`,
    );
  })();
  return reply;
}

function oneApiError(code: string, message: string, info: RequestInfo) {
  return {
    error: {
      code,
      message,
      '@type': 'Kusto.Data.Exceptions.KustoServicePartialQueryFailureException',
      '@message': message,
      '@context': {
        timestamp: new Date().toISOString(),
        serviceAlias: 'VIGIL',
        clientRequestId: info.clientRequestId,
        activityId: info.activityId,
      },
      '@permanent': false,
    },
  };
}

/** A v1 table: `DataType` (.NET) and `ColumnType` (KQL) per column. */
function v1Table(name: string, cols: readonly { name: string; type: string }[], rows: readonly unknown[][]) {
  return {
    TableName: name,
    Columns: cols.map((c) => ({ ColumnName: c.name, DataType: DOTNET[c.type]?.[0] ?? 'String', ColumnType: c.type })),
    Rows: rows,
  };
}

/** v1 encodes dynamic values as JSON text. */
function v1Rows(cols: readonly ResultColumn[], rows: readonly unknown[][]): unknown[][] {
  const dyn = cols.flatMap((c, i) => (c.type === 'dynamic' ? [i] : []));
  if (dyn.length === 0) return rows as unknown[][];
  return rows.map((r) => {
    const copy = [...r];
    for (const i of dyn) if (copy[i] !== null && copy[i] !== undefined) copy[i] = JSON.stringify(copy[i]);
    return copy;
  });
}

function v1Response(
  info: RequestInfo,
  cols: readonly ResultColumn[],
  rows: unknown[][],
  extra: { truncated?: boolean; visualization?: unknown } = {},
) {
  const statusCols = [
    ['Timestamp', 'datetime'],
    ['Severity', 'int'],
    ['SeverityName', 'string'],
    ['StatusCode', 'int'],
    ['StatusDescription', 'string'],
    ['Count', 'int'],
    ['RequestId', 'guid'],
    ['ActivityId', 'guid'],
    ['SubActivityId', 'guid'],
    ['ClientActivityId', 'string'],
  ].map(([name, type]) => ({ name: name as string, type: type as string }));
  const now = new Date().toISOString();
  const status = [
    [
      now,
      4,
      'Info',
      0,
      'Query completed successfully',
      1,
      info.activityId,
      info.activityId,
      info.activityId,
      info.clientRequestId,
    ],
    ...(extra.truncated
      ? [
          [
            now,
            2,
            'Error',
            -2133196797,
            'Query result set has exceeded the internal record count limit (E_QUERY_RESULT_SET_TOO_LARGE).',
            1,
            info.activityId,
            info.activityId,
            info.activityId,
            info.clientRequestId,
          ],
        ]
      : []),
  ];
  const id = () => randomUUID();
  return {
    Tables: [
      v1Table('Table_0', cols, v1Rows(cols, rows)),
      v1Table(
        'Table_1',
        [{ name: 'Value', type: 'string' }],
        [[JSON.stringify(extra.visualization ?? { Visualization: null })]],
      ),
      v1Table('Table_2', statusCols, status),
      v1Table(
        'Table_3',
        [
          { name: 'Ordinal', type: 'long' },
          { name: 'Kind', type: 'string' },
          { name: 'Name', type: 'string' },
          { name: 'Id', type: 'string' },
          { name: 'PrettyName', type: 'string' },
        ],
        [
          [0, 'QueryResult', 'PrimaryResult', id(), ''],
          [1, 'QueryProperties', '@ExtendedProperties', id(), ''],
          [2, 'QueryStatus', 'QueryStatus', '00000000-0000-0000-0000-000000000000', ''],
        ],
      ),
    ],
  };
}

/** A management command's answer: one v1 table. */
function mgmtAnswer(cols: readonly { name: string; type: string }[], rows: unknown[][]) {
  return { Tables: [v1Table('Table_0', cols, rows)] };
}

// ───────────────────────────── management commands ─────────────────────────────

const TABLE_COLS = [
  { name: 'TableName', type: 'string' },
  { name: 'DatabaseName', type: 'string' },
  { name: 'Folder', type: 'string' },
  { name: 'DocString', type: 'string' },
];
const SCHEMA_COLS = [
  { name: 'TableName', type: 'string' },
  { name: 'Schema', type: 'string' },
  { name: 'DatabaseName', type: 'string' },
  { name: 'Folder', type: 'string' },
  { name: 'DocString', type: 'string' },
];
const FUNCTION_COLS = [
  { name: 'Name', type: 'string' },
  { name: 'Parameters', type: 'string' },
  { name: 'Body', type: 'string' },
  { name: 'Folder', type: 'string' },
  { name: 'DocString', type: 'string' },
];

/** `with (docstring = '...', folder = "...")` → properties. */
function withProperties(text: string): { props: Record<string, string>; rest: string } {
  const m = /^with\s*\(/i.exec(text);
  if (!m) return { props: {}, rest: text };
  let i = m[0].length;
  const props: Record<string, string> = {};
  for (;;) {
    const kv = /^\s*([A-Za-z_]+)\s*=\s*(?:'((?:[^'\\]|\\.)*)'|"((?:[^"\\]|\\.)*)"|([A-Za-z0-9_.]+))\s*(,|\))/.exec(
      text.slice(i),
    );
    if (!kv) throw new ApiError(400, 'bad_request', 'cannot read the with (...) property list');
    props[(kv[1] as string).toLowerCase()] = (kv[2] ?? kv[3] ?? kv[4] ?? '').replace(/\\(.)/g, '$1');
    i += kv[0].length;
    if (kv[5] === ')') break;
  }
  return { props, rest: text.slice(i).trim() };
}

/** `Name(params) { body }` after a function command. */
function functionDefinition(text: string): { name: string; parameters: string; body: string } {
  const m = /^(\[['"][^'"]+['"]\]|[A-Za-z_][A-Za-z0-9_]*)\s*\(/.exec(text);
  if (!m) throw new ApiError(400, 'bad_request', 'expected FunctionName(parameters) { body }');
  const name = (m[1] as string).replace(/^\[['"]|['"]\]$/g, '');
  let depth = 0;
  let i = m[0].length - 1;
  let inStr: string | null = null;
  for (; i < text.length; i++) {
    const ch = text[i] as string;
    if (inStr) {
      if (ch === '\\') i++;
      else if (ch === inStr) inStr = null;
      continue;
    }
    if (ch === "'" || ch === '"') inStr = ch;
    else if (ch === '(') depth++;
    else if (ch === ')' && --depth === 0) break;
  }
  if (depth !== 0) throw new ApiError(400, 'bad_request', 'unbalanced parentheses in the parameter list');
  const parameters = text.slice(m[0].length - 1, i + 1);
  const body = text.slice(i + 1).trim();
  if (!body.startsWith('{') || !body.endsWith('}'))
    throw new ApiError(400, 'bad_request', 'the function body goes in { }');
  return { name, parameters, body };
}

function fnRow(f: { name: string; parameters: string; body: string; folder: string; docString: string }) {
  return [f.name, f.parameters, f.body, f.folder, f.docString];
}

async function runMgmt(ctx: Ctx<unknown, unknown, KustoBody>, info: RequestInfo): Promise<unknown> {
  const p = me(ctx);
  const text = ctx.body.csl.trim().replace(/;\s*$/, '');
  ctx.audit.details = { command: text.slice(0, 4096), clientRequestId: info.clientRequestId };
  // The groups of the last successful `match`.
  let m = [] as unknown as RegExpExecArray;
  const match = (re: RegExp): boolean => {
    const r = re.exec(text);
    if (r) m = r;
    return r !== null;
  };
  const deps = ctx.deps;
  if (/^\.show\s+version$/i.test(text))
    return mgmtAnswer(
      [
        { name: 'BuildVersion', type: 'string' },
        { name: 'BuildTime', type: 'datetime' },
        { name: 'ServiceType', type: 'string' },
        { name: 'ProductVersion', type: 'string' },
      ],
      [['1.0.0.0', '2026-01-01T00:00:00.0000000Z', 'Engine', 'Vigil 0.1.0']],
    );
  if (/^\.show\s+databases$/i.test(text)) {
    const rows = deps.manager
      .list()
      .filter((w) => permissionsIn(p, w.id).has('read'))
      .map((w) => [w.name, '', 'v1.0', w.name === ctx.body.db, 'ReadWrite', w.record.displayName, '', w.id, '']);
    return mgmtAnswer(
      [
        'DatabaseName',
        'PersistentStorage',
        'Version',
        'IsCurrent',
        'DatabaseAccessMode',
        'PrettyName',
        'ReservedSlot1',
        'DatabaseId',
        'InTransitionTo',
      ].map((n) => ({
        name: n,
        type: n === 'IsCurrent' ? 'bool' : n === 'DatabaseId' ? 'guid' : 'string',
      })),
      rows,
    );
  }
  const ws = resolveDb(ctx, info, p);
  const canAuthor = permissionsIn(p, ws.id).has('author');
  const schema = compilerWorkspace(ws.query);
  if (/^\.show\s+tables(\s+details)?$/i.test(text))
    return mgmtAnswer(
      TABLE_COLS,
      schema.tables.map((t) => [t.name, ws.name, '', '']),
    );
  if (match(/^\.show\s+table\s+(\[['"][^'"]+['"]\]|[A-Za-z_][A-Za-z0-9_]*)\s+(schema\s+as\s+json|cslschema)$/i)) {
    const name = (m[1] as string).replace(/^\[['"]|['"]\]$/g, '');
    const t = schema.tables.find((x) => x.name === name);
    if (!t)
      throw kustoError(400, 'Kusto.Data.Exceptions.EntityNotFoundException', `Table '${name}' was not found.`, {
        ...info,
        db: ws.name,
      });
    const json = /json/i.test(m[2] as string);
    const s = json
      ? JSON.stringify({
          Name: t.name,
          OrderedColumns: t.columns.map((c) => ({
            Name: c.name,
            Type: DOTNET[c.type]?.[1] ?? 'System.String',
            CslType: c.type,
          })),
        })
      : t.columns.map((c) => `${c.name}:${c.type}`).join(',');
    return mgmtAnswer(SCHEMA_COLS, [[t.name, s, ws.name, '', '']]);
  }
  if (/^\.show\s+functions$/i.test(text)) return mgmtAnswer(FUNCTION_COLS, ws.functions.list().map(fnRow));
  if (match(/^\.show\s+function\s+([A-Za-z_][A-Za-z0-9_]*)$/i)) {
    const f = ws.functions.get(m[1] as string);
    if (!f)
      throw kustoError(400, 'Kusto.Data.Exceptions.EntityNotFoundException', `Function '${m[1]}' was not found.`, {
        ...info,
        db: ws.name,
      });
    return mgmtAnswer(FUNCTION_COLS, [fnRow(f)]);
  }
  if (match(/^\.(create-or-alter|create|alter)\s+function\s+/i)) {
    if (!canAuthor)
      throw kustoError(
        403,
        'Kusto.Data.Exceptions.UnauthorizedDatabaseAccessException',
        `Principal '${p.user.name}' is not authorized to change functions of '${ws.name}' (needs the author permission).`,
        { ...info, db: ws.name },
      );
    const verb = (m[1] as string).toLowerCase();
    const { props, rest } = withProperties(text.slice(m[0].length));
    const def = functionDefinition(rest);
    const exists = !!ws.functions.get(def.name);
    if (verb === 'create' && exists) {
      // Kusto: `.create` of an existing identical function is a no-op; a different one is an error.
      const f = ws.functions.get(def.name);
      if (f && (f.body !== def.body || f.parameters !== def.parameters))
        throw kustoError(
          400,
          'Kusto.Data.Exceptions.EntityAlreadyExistsException',
          `Function '${def.name}' already exists.`,
          { ...info, db: ws.name },
        );
      return mgmtAnswer(FUNCTION_COLS, [fnRow(f as NonNullable<typeof f>)]);
    }
    if (verb === 'alter' && !exists)
      throw kustoError(400, 'Kusto.Data.Exceptions.EntityNotFoundException', `Function '${def.name}' was not found.`, {
        ...info,
        db: ws.name,
      });
    ctx.audit.target = def.name;
    const f = await putFunction(
      ws,
      { ...def, folder: props.folder ?? '', docString: props.docstring ?? '' },
      p.user.name,
    ).catch((e: unknown) => {
      const details = (e as { details?: { diagnostics?: { message: string }[] } }).details;
      throw kustoError(
        400,
        'Kusto.Data.Exceptions.SemanticException',
        `The function does not compile: ${details?.diagnostics?.[0]?.message ?? (e as Error).message}`,
        { ...info, db: ws.name },
      );
    });
    return mgmtAnswer(FUNCTION_COLS, [fnRow(f)]);
  }
  if (match(/^\.drop\s+function\s+([A-Za-z_][A-Za-z0-9_]*)(\s+ifexists)?$/i)) {
    if (!canAuthor)
      throw kustoError(
        403,
        'Kusto.Data.Exceptions.UnauthorizedDatabaseAccessException',
        `Principal '${p.user.name}' is not authorized to change functions of '${ws.name}'.`,
        { ...info, db: ws.name },
      );
    const ok = await ws.functions.delete(m[1] as string);
    if (!ok && !m[2])
      throw kustoError(400, 'Kusto.Data.Exceptions.EntityNotFoundException', `Function '${m[1]}' was not found.`, {
        ...info,
        db: ws.name,
      });
    ctx.audit.target = m[1] as string;
    return mgmtAnswer([{ name: 'Name', type: 'string' }], ok ? [[m[1]]] : []);
  }
  if (/^\.show\s+(running\s+)?queries$/i.test(text)) {
    const list = deps.queries.list(ws, p, permissionsIn(p, ws.id).has('admin'));
    return mgmtAnswer(
      [
        { name: 'ClientActivityId', type: 'string' },
        { name: 'Text', type: 'string' },
        { name: 'User', type: 'string' },
        { name: 'StartedOn', type: 'datetime' },
        { name: 'State', type: 'string' },
      ],
      list.map((q) => [q.queryId, q.text, q.userName, q.startedAt, 'InProgress']),
    );
  }
  if (match(/^\.cancel\s+query\s+["']([^"']+)["']$/i)) {
    const ok = deps.queries.cancel(ws, m[1] as string, p, permissionsIn(p, ws.id).has('admin'));
    return mgmtAnswer(
      [
        { name: 'RunningQueryId', type: 'string' },
        { name: 'ClientRequestId', type: 'string' },
        { name: 'ReasonPhrase', type: 'string' },
        { name: 'Result', type: 'string' },
      ],
      [[m[1], m[1], '', ok ? 'Cancelled' : 'NotFound']],
    );
  }
  throw kustoError(
    400,
    'Kusto.Data.Exceptions.SyntaxException',
    `Syntax error: the management command is not supported by Vigil: ${text.split(/\s+/).slice(0, 3).join(' ')}`,
    { ...info, db: ws.name },
  );
}

const KustoRequest = S.object(
  {
    db: S.string({ description: 'Database: a workspace name or id' }),
    csl: S.string({ minLength: 1, maxLength: 1_000_000, description: 'The query or management command' }),
    properties: S.any({ description: 'ClientRequestProperties: {Options, Parameters} as an object or JSON text' }),
  },
  ['csl'],
);
const KustoErrorSchema = S.open(
  {
    error: S.open({ code: S.string(), message: S.string(), '@type': S.string(), '@message': S.string() }, [
      'code',
      'message',
    ]),
  },
  ['error'],
);
const V1Schema = S.open(
  {
    Tables: S.array(
      S.open({ TableName: S.string(), Columns: S.array(S.map()), Rows: S.array(S.array(S.any())) }, [
        'TableName',
        'Columns',
        'Rows',
      ]),
    ),
  },
  ['Tables'],
);
const V2Schema = S.array(S.open({ FrameType: S.string() }, ['FrameType']), { description: 'Frames' });

export function kustoRoutes(): AnyRoute[] {
  const responses = (schema: Record<string, unknown>) => ({
    200: { description: 'The result', schema },
    400: { description: 'Invalid query or unknown database (Kusto error shape)', schema: KustoErrorSchema },
    401: { description: 'No or invalid bearer token', schema: ErrorSchema },
  });
  return [
    route<unknown, unknown, KustoBody>({
      method: 'POST',
      path: '/v2/rest/query',
      operationId: 'kusto.queryV2',
      summary: 'Kusto REST v2 query (frames; fragmented when asked)',
      tags: ['Kusto REST'],
      access: { kind: 'user' },
      audit: 'query',
      body: KustoRequest,
      responses: responses(V2Schema),
      handler: async (ctx) => {
        const info = requestInfo(ctx);
        const ws = resolveDb(ctx, info, me(ctx));
        const outcome = await runFor(ctx, info, ws);
        return sendV2(ctx.reply, info, outcome);
      },
    }),
    route<unknown, unknown, KustoBody>({
      method: 'POST',
      path: '/v1/rest/query',
      operationId: 'kusto.queryV1',
      summary: 'Kusto REST v1 query (tables with a table of contents)',
      tags: ['Kusto REST'],
      access: { kind: 'user' },
      audit: 'query',
      body: KustoRequest,
      responses: responses(V1Schema),
      handler: async (ctx) => {
        const info = requestInfo(ctx);
        const ws = resolveDb(ctx, info, me(ctx));
        const outcome = await runFor(ctx, info, ws);
        const result = outcome.result as ResultSet;
        try {
          return v1Response(info, result.columns, await result.rows(), {
            truncated: !!result.truncated,
            visualization: visualizationOf(outcome),
          });
        } finally {
          await result.close();
        }
      },
    }),
    route<unknown, unknown, KustoBody>({
      method: 'POST',
      path: '/v1/rest/mgmt',
      operationId: 'kusto.mgmt',
      summary:
        'Kusto management commands (.show tables, .show table T schema as json, .show functions, .create-or-alter function, ...)',
      tags: ['Kusto REST'],
      access: { kind: 'user' },
      audit: 'change',
      body: KustoRequest,
      responses: {
        ...responses(V1Schema),
        403: { description: 'Not allowed (Kusto error shape)', schema: KustoErrorSchema },
      },
      handler: async (ctx) => {
        const info = requestInfo(ctx);
        const text = ctx.body.csl.trim();
        // Reading commands are audited as queries; changes as changes.
        if (/^\.show\s/i.test(text)) ctx.audit.kind = 'query';
        return runMgmt(ctx, info);
      },
    }),
    route({
      method: 'GET',
      path: '/v1/rest/auth/metadata',
      operationId: 'kusto.authMetadata',
      summary: 'Cloud metadata: 404 (clients then use their defaults; authenticate with a Vigil token as bearer)',
      tags: ['Kusto REST'],
      access: { kind: 'public' },
      responses: { 404: { description: 'No Azure AD metadata', schema: ErrorSchema } },
      handler: async () => {
        throw new ApiError(
          404,
          'not_found',
          'Vigil has no Azure AD metadata: send a Vigil API token as the bearer token',
        );
      },
    }),
  ];
}
