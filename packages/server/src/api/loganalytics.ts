/**
 * The Log Analytics query API (`api.loganalytics.io/v1`), so `@azure/monitor-query-logs` and scripts written for
 * Azure Monitor run against Vigil: `POST /v1/workspaces/{id}/query {query, timespan}` and the `GET` form, with the
 * `Prefer` options `wait=<seconds>`, `include-statistics=true`, `include-render=true` (echoed in
 * `Preference-Applied`). `{id}` is the workspace id (its GUID) or name. The timespan (ISO 8601) limits every table
 * to `TimeGenerated` in it, as Log Analytics does. Dynamic values are JSON text, as the service sends them.
 * Errors use Log Analytics' shape: `{error: {code, message, correlationId, innererror?}}`; a truncated result is a
 * 200 with a `PartialError`. Azure SDKs send bearer tokens only over https: serve https for them.
 */
import { randomUUID } from 'node:crypto';
import { permissionsIn } from '../auth/model.js';
import type { ResultSet } from '../engine/engine.js';
import type { Workspace } from '../workspaces/workspace.js';
import { ApiError } from './errors.js';
import { parseTimespan } from './query-runner.js';
import { type AnyRoute, type Ctx, requestState, route } from './route.js';
import { S } from './schema.js';

function laError(status: number, code: string, message: string, inner?: Record<string, unknown>): ApiError {
  const correlationId = randomUUID();
  const e = new ApiError(status, code, message);
  Object.defineProperty(e, 'toJSON', {
    value: () => ({ error: { message, code, correlationId, ...(inner ? { innererror: inner } : {}) } }),
  });
  return e;
}

interface LaBody {
  query: string;
  timespan?: string;
  workspaces?: string[];
}

function preferences(header: string | string[] | undefined): {
  wait: number | null;
  statistics: boolean;
  render: boolean;
} {
  const text = (Array.isArray(header) ? header.join(',') : (header ?? '')).toLowerCase();
  const parts = text.split(/[,;]/).map((p) => p.trim());
  const wait = parts.find((p) => p.startsWith('wait='));
  const seconds = wait ? Number(wait.slice(5)) : Number.NaN;
  return {
    wait: Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 600) : null,
    statistics: parts.includes('include-statistics=true'),
    render: parts.includes('include-render=true'),
  };
}

async function answer(ctx: Ctx<{ workspaceId: string }, unknown, unknown>, body: LaBody) {
  const p = ctx.principal;
  if (!p) throw laError(401, 'AuthorizationRequiredError', 'Valid authentication was not provided');
  const ws: Workspace | undefined = ctx.deps.manager.get(ctx.params.workspaceId);
  if (!ws || !permissionsIn(p, ws.id).has('read'))
    throw laError(404, 'WorkspaceNotFoundError', `The workspace could not be found`, {
      code: 'WorkspaceNotFoundError',
      message: `Workspace ${ctx.params.workspaceId} not found`,
    });
  requestState(ctx.request).ws = ws;
  for (const other of body.workspaces ?? []) {
    const o = ctx.deps.manager.get(other);
    if (o?.id !== ws.id)
      throw laError(400, 'BadArgumentError', 'Queries across workspaces are not supported', {
        code: 'CrossWorkspaceQueryNotSupported',
        message: 'each workspace is queried on its own',
      });
  }
  const prefs = preferences(ctx.request.headers.prefer);
  let timeRange: { startMs: number; endMs: number } | null;
  try {
    timeRange = parseTimespan(body.timespan, Date.now());
  } catch (e) {
    throw laError(400, 'BadArgumentError', 'The request had some invalid properties', {
      code: 'InvalidTimespan',
      message: e instanceof Error ? e.message : String(e),
    });
  }
  const abort = new AbortController();
  ctx.request.raw.once('close', () => {
    if (!ctx.reply.sent) abort.abort();
  });
  const run = await ctx.deps.queries.run({
    ws,
    text: body.query,
    principal: p,
    timeRange,
    ...(prefs.wait ? { timeoutMs: prefs.wait * 1000 } : { timeoutMs: 180_000 }),
    signal: abort.signal,
    source: 'loganalytics',
  });
  const o = run.outcome;
  ctx.audit.kind = 'query';
  ctx.audit.target = ws.id;
  ctx.audit.details = {
    query: body.query,
    timespan: body.timespan ?? null,
    ok: !!o.result,
    error: o.error,
    rows: o.result?.rowCount ?? 0,
  };
  if (!o.result) {
    const e = o.error;
    if (e?.code === 'compile') {
      const d = o.diagnostics.find((x) => x.severity === 'error');
      const before = d ? body.query.slice(0, d.start).split('\n') : [];
      throw laError(400, 'BadArgumentError', 'The request had some invalid properties', {
        code: 'SemanticError',
        message: 'A semantic error occurred.',
        innererror: {
          code: 'SEM0100',
          message: e.message,
          ...(d
            ? {
                line: before.length,
                pos: (before[before.length - 1] ?? '').length,
                token: body.query.slice(d.start, d.start + d.length),
              }
            : {}),
        },
      });
    }
    if (e?.code === 'timeout')
      throw laError(504, 'GatewayTimeout', `The query did not finish within ${prefs.wait ?? 180} seconds`);
    throw laError(500, 'InternalServerError', e?.message ?? 'the query failed');
  }
  const result: ResultSet = o.result;
  try {
    const dyn = result.columns.flatMap((c, i) => (c.type === 'dynamic' ? [i] : []));
    const rows = await result.rows();
    if (dyn.length)
      for (const r of rows) for (const i of dyn) if (r[i] !== null && r[i] !== undefined) r[i] = JSON.stringify(r[i]);
    const applied: string[] = [];
    if (prefs.wait) applied.push(`wait=${prefs.wait}`);
    if (prefs.statistics) applied.push('include-statistics=true');
    if (prefs.render) applied.push('include-render=true');
    if (applied.length) ctx.reply.header('preference-applied', applied.join(','));
    const out: Record<string, unknown> = {
      tables: [{ name: 'PrimaryResult', columns: result.columns.map((c) => ({ name: c.name, type: c.type })), rows }],
    };
    if (prefs.statistics)
      out.statistics = {
        query: {
          executionTime: run.ms / 1000,
          resourceUsage: { cpu: { totalCpu: run.ms / 1000 } },
          inputDatasetStatistics: {},
          datasetStatistics: [{ tableRowCount: result.rowCount, tableSize: result.encodedBytes }],
        },
      };
    if (prefs.render) {
      const v = o.compiled.visualization;
      out.render = v ? { visualization: v.type, ...v.properties } : {};
    }
    if (result.truncated) {
      out.error = {
        code: 'PartialError',
        message: 'There were some errors when processing your query.',
        details: [
          {
            code: 'EngineError',
            message: 'Something went wrong processing your query on the server.',
            innererror: {
              code: '-2133196797',
              message: `Query result set has exceeded the internal ${result.truncated.reason === 'rows' ? 'record count' : 'data size'} limit ${result.truncated.limit} (E_QUERY_RESULT_SET_TOO_LARGE)`,
              severity: 2,
              severityName: 'Error',
            },
          },
        ],
      };
    }
    return out;
  } finally {
    await result.close();
  }
}

const Params = S.object({ workspaceId: S.string({ description: 'Workspace id (GUID) or name' }) }, ['workspaceId']);
const LaResult = S.open(
  {
    tables: S.array(
      S.open(
        {
          name: S.string(),
          columns: S.array(S.object({ name: S.string(), type: S.string() })),
          rows: S.array(S.array(S.any())),
        },
        ['name', 'columns', 'rows'],
      ),
    ),
    statistics: S.map(),
    render: S.map(),
    error: S.map(),
  },
  ['tables'],
);
const LaError = S.open(
  {
    error: S.open({ message: S.string(), code: S.string(), correlationId: S.string(), innererror: S.map() }, [
      'message',
      'code',
    ]),
  },
  ['error'],
);
const PreferHeader = S.open({
  prefer: S.string({ description: 'wait=<seconds>, include-statistics=true, include-render=true' }),
});

export function logAnalyticsRoutes(): AnyRoute[] {
  const responses = {
    200: { description: 'The result (with `error` when partial)', schema: LaResult },
    400: { description: 'Invalid query or timespan', schema: LaError },
    401: { description: 'No valid bearer token', schema: LaError },
    404: { description: 'No such workspace (or not yours)', schema: LaError },
  };
  return [
    route<{ workspaceId: string }, unknown, LaBody>({
      method: 'POST',
      path: '/v1/workspaces/:workspaceId/query',
      operationId: 'logAnalytics.query',
      summary: 'Log Analytics query API: run KQL over a timespan',
      tags: ['Log Analytics'],
      access: { kind: 'public' },
      audit: 'query',
      params: Params,
      headers: PreferHeader,
      body: S.object(
        {
          query: S.string({ minLength: 1, maxLength: 1_000_000 }),
          timespan: S.string({ description: 'ISO 8601 duration or interval' }),
          workspaces: S.array(S.string()),
        },
        ['query'],
      ),
      responses,
      handler: async (ctx) => answer(ctx, ctx.body),
    }),
    route<{ workspaceId: string }, { query: string; timespan?: string }>({
      method: 'GET',
      path: '/v1/workspaces/:workspaceId/query',
      operationId: 'logAnalytics.queryGet',
      summary: 'Log Analytics query API, GET form',
      tags: ['Log Analytics'],
      access: { kind: 'public' },
      audit: 'query',
      params: Params,
      headers: PreferHeader,
      query: S.object({ query: S.string({ minLength: 1 }), timespan: S.string() }, ['query']),
      responses,
      handler: async (ctx) =>
        answer(ctx, { query: ctx.query.query, ...(ctx.query.timespan ? { timespan: ctx.query.timespan } : {}) }),
    }),
  ];
}
