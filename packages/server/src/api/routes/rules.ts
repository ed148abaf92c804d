/**
 * Analytics rules (Sentinel Scheduled / NRT YAML, Defender custom detections) over the workspace's
 * `DetectionService`: import unchanged YAML (or JSON), validate without storing, enable/disable, export, runs.
 */
import type { Entity } from '../../detect/entities.js';
import { effectiveSchedule } from '../../detect/service.js';
import type { StoredRule } from '../../state/rules-repo.js';
import { ApiError, notFound } from '../errors.js';
import { type AnyRoute, pageList, route } from '../route.js';
import { ErrorSchema, PagingQuery, page, S, WorkspaceParam } from '../schema.js';

const str = S.string();
const W = (permission: 'read' | 'author') => ({ kind: 'workspace', permission }) as const;
const WS = S.object(WorkspaceParam, ['workspace']);
const Id = S.object({ ...WorkspaceParam, id: str }, ['workspace', 'id']);
const E = {
  400: { description: 'Invalid request', schema: ErrorSchema },
  404: { description: 'Not found', schema: ErrorSchema },
};

const RuleSchema = S.open(
  {
    id: str,
    name: str,
    kind: str,
    severity: str,
    enabled: S.boolean(),
    mode: str,
    tables: S.array(str),
    frequencyMs: S.integer(),
    periodMs: S.integer(),
    coveredUntil: S.nullable(str),
    definition: S.map(),
    createdAt: str,
    updatedAt: str,
  },
  ['id', 'name', 'enabled'],
);
const ImportResultSchema = S.open(
  {
    ruleId: S.nullable(str),
    name: S.nullable(str),
    status: S.enum(['created', 'updated', 'unchanged', 'rejected']),
    diagnostics: S.array(S.map()),
  },
  ['status', 'diagnostics'],
);
const ImportBody = S.object(
  {
    yaml: S.string({
      minLength: 1,
      maxLength: 1_000_000,
      description: 'One rule file (Sentinel YAML or Defender custom detection)',
    }),
    enabled: S.boolean(),
  },
  ['yaml'],
);

const MAX_SIMULATION_MS = 14 * 24 * 3600_000;
const MAX_SIMULATION_WINDOWS = 500;

/** The name an analyst knows an entity by, from its identifying fields. */
function entityName(e: Entity): string {
  for (const k of [
    'HostName',
    'Name',
    'Address',
    'Url',
    'DomainName',
    'FileName',
    'Value',
    'ProcessId',
    'MailboxPrimaryAddress',
    'AadUserId',
  ]) {
    const v = e[k];
    if (typeof v === 'string' && v !== '') {
      const suffix =
        k === 'HostName' && typeof e.DnsDomain === 'string'
          ? `.${e.DnsDomain}`
          : k === 'Name' && typeof e.UPNSuffix === 'string'
            ? `@${e.UPNSuffix}`
            : '';
      return v + suffix;
    }
    if (typeof v === 'number') return String(v);
  }
  return JSON.stringify(e).slice(0, 120);
}

function ruleView(r: StoredRule) {
  return {
    id: r.id,
    name: r.definition.name,
    kind: r.definition.kind,
    severity: r.definition.severity,
    enabled: r.enabled,
    mode: r.mode,
    tables: r.tables,
    frequencyMs: r.frequencyMs,
    periodMs: r.periodMs,
    coveredUntil: r.coveredUntilMs === null ? null : new Date(r.coveredUntilMs).toISOString(),
    definition: r.definition,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

export const ruleRoutes: AnyRoute[] = [
  route<{ workspace: string }, { cursor?: string; limit?: number }>({
    method: 'GET',
    path: '/api/workspaces/:workspace/rules',
    operationId: 'rules.list',
    summary: 'Analytics rules',
    tags: ['Rules'],
    access: W('read'),
    params: WS,
    query: S.object(PagingQuery),
    responses: { 200: { description: 'A page of rules', schema: page(RuleSchema) }, ...E },
    handler: async (ctx) =>
      pageList((await ctx.ws.detection.listRules()).map(ruleView), (r) => r.id, ctx.query.cursor, ctx.query.limit),
  }),
  route<{ workspace: string }, unknown, { yaml: string; enabled?: boolean }>({
    method: 'POST',
    path: '/api/workspaces/:workspace/rules',
    operationId: 'rules.import',
    summary: 'Import (create or update) the rules of one rule file, unchanged',
    tags: ['Rules'],
    access: W('author'),
    params: WS,
    body: ImportBody,
    responses: {
      200: {
        description: 'One result per rule of the file',
        schema: S.object({ results: S.array(ImportResultSchema) }, ['results']),
      },
      ...E,
    },
    handler: async (ctx) => {
      const results = await ctx.ws.detection.importText(
        ctx.body.yaml,
        null,
        ctx.body.enabled === undefined ? {} : { enabled: ctx.body.enabled },
      );
      ctx.audit.target = results.map((r) => r.ruleId).join(',') || null;
      ctx.audit.details = { results: results.map((r) => ({ ruleId: r.ruleId, status: r.status })) };
      if (results.length > 0 && results.every((r) => r.status === 'rejected'))
        throw new ApiError(400, 'invalid_rule', 'the rule file was rejected', { results });
      return { results };
    },
  }),
  route<{ workspace: string }, unknown, { yaml: string }>({
    method: 'POST',
    path: '/api/workspaces/:workspace/rules/validate',
    operationId: 'rules.validate',
    summary: 'Check a rule file against the workspace without storing it',
    tags: ['Rules'],
    access: W('read'),
    audit: 'none',
    params: WS,
    body: S.object({ yaml: S.string({ minLength: 1, maxLength: 1_000_000 }) }, ['yaml']),
    responses: {
      200: {
        description: 'Diagnostics per rule',
        schema: S.object(
          {
            rules: S.array(
              S.open({
                ruleId: S.nullable(str),
                ok: S.boolean(),
                mode: S.nullable(str),
                diagnostics: S.array(S.map()),
              }),
            ),
          },
          ['rules'],
        ),
      },
      ...E,
    },
    handler: async (ctx) => ({
      rules: ctx.ws.detection.check(ctx.body.yaml).map(({ parsed, analysis }) => ({
        ruleId: parsed.rule?.id ?? null,
        ok: !!parsed.rule && !!analysis && !parsed.diagnostics.some((d) => d.severity === 'error'),
        mode: analysis?.mode ?? null,
        diagnostics: parsed.diagnostics,
      })),
    }),
  }),
  route<{ workspace: string }, unknown, { yaml: string; lookbackMs?: number }>({
    method: 'POST',
    path: '/api/workspaces/:workspace/rules/simulate',
    operationId: 'rules.simulate',
    summary: 'Replay a rule file (not stored) over past data: the alerts it would have raised, window by window',
    description:
      'The rule runs the way the scheduler would have run it over the last `lookbackMs` (default 1 day, at most 14), ' +
      'with its suppression; nothing is written. Long lookbacks of frequent rules keep the most recent 500 windows.',
    tags: ['Rules'],
    access: W('read'),
    audit: 'query',
    params: WS,
    body: S.object(
      {
        yaml: S.string({ minLength: 1, maxLength: 1_000_000 }),
        lookbackMs: S.integer({ minimum: 60_000, maximum: MAX_SIMULATION_MS }),
      },
      ['yaml'],
    ),
    responses: {
      200: {
        description: 'The alerts the rule would have raised',
        schema: S.object(
          {
            alerts: S.array(
              S.open(
                {
                  at: str,
                  title: str,
                  severity: str,
                  resultCount: S.integer(),
                  entities: S.array(S.object({ type: str, name: str }, ['type', 'name'])),
                },
                ['at', 'title', 'severity', 'resultCount'],
              ),
            ),
            runs: S.integer({ description: 'Windows evaluated' }),
            fromMs: S.integer(),
            toMs: S.integer(),
            problems: S.array(S.object({ message: str }, ['message'])),
          },
          ['alerts', 'runs', 'problems'],
        ),
      },
      ...E,
    },
    handler: async (ctx) => {
      const [first] = ctx.ws.detection.check(ctx.body.yaml);
      const rule = first?.parsed.rule;
      const errors = first?.parsed.diagnostics.filter((d) => d.severity === 'error') ?? [];
      if (!first || !rule || !first.analysis || errors.length > 0)
        throw new ApiError(400, 'invalid_rule', errors[0]?.message ?? 'the rule file has no rule', {
          diagnostics: first?.parsed.diagnostics ?? [],
        });
      const problems: { message: string }[] = [];
      const toMs = Date.now();
      let fromMs = toMs - (ctx.body.lookbackMs ?? 24 * 3600_000);
      const { frequencyMs } = effectiveSchedule(rule, first.analysis.mode);
      if (frequencyMs > 0 && (toMs - fromMs) / frequencyMs > MAX_SIMULATION_WINDOWS) {
        fromMs = toMs - MAX_SIMULATION_WINDOWS * frequencyMs;
        problems.push({
          message: `Replayed the last ${MAX_SIMULATION_WINDOWS} runs only (since ${new Date(fromMs).toISOString()}).`,
        });
      }
      ctx.audit.target = rule.id;
      ctx.audit.details = { ruleId: rule.id, fromMs, toMs };
      const r = await ctx.ws.detection.replay(rule, fromMs, toMs, first.analysis.mode);
      for (const w of r.windows)
        if (w.run.error && problems.length < 20)
          problems.push({ message: `${new Date(w.run.windowEndMs).toISOString()}: ${w.run.error}` });
      return {
        alerts: r.alerts.map((a) => ({
          at: a.timeGenerated,
          title: a.alertName,
          severity: a.severity,
          resultCount: a.resultCount,
          entities: a.entities.map((e) => ({ type: e.Type, name: entityName(e) })),
        })),
        runs: r.windows.length,
        fromMs,
        toMs,
        problems,
      };
    },
  }),
  route<{ workspace: string; id: string }>({
    method: 'GET',
    path: '/api/workspaces/:workspace/rules/:id',
    operationId: 'rules.get',
    summary: 'A rule',
    tags: ['Rules'],
    access: W('read'),
    params: Id,
    responses: { 200: { description: 'The rule', schema: RuleSchema }, ...E },
    handler: async (ctx) => {
      const r = await ctx.ws.detection.getRule(ctx.params.id);
      if (!r) throw notFound(`rule ${ctx.params.id}`);
      return ruleView(r);
    },
  }),
  route<{ workspace: string; id: string }, unknown, { enabled: boolean }>({
    method: 'PATCH',
    path: '/api/workspaces/:workspace/rules/:id',
    operationId: 'rules.update',
    summary: 'Enable or disable a rule (an enabled rule resumes from now)',
    tags: ['Rules'],
    access: W('author'),
    params: Id,
    body: S.object({ enabled: S.boolean() }, ['enabled']),
    responses: { 200: { description: 'The rule', schema: RuleSchema }, ...E },
    handler: async (ctx) => {
      if (!(await ctx.ws.detection.setEnabled(ctx.params.id, ctx.body.enabled)))
        throw notFound(`rule ${ctx.params.id}`);
      return ruleView((await ctx.ws.detection.getRule(ctx.params.id)) as StoredRule);
    },
  }),
  route<{ workspace: string; id: string }>({
    method: 'DELETE',
    path: '/api/workspaces/:workspace/rules/:id',
    operationId: 'rules.delete',
    summary: 'Delete a rule',
    tags: ['Rules'],
    access: W('author'),
    params: Id,
    responses: { 204: { description: 'Deleted' }, ...E },
    handler: async (ctx) => {
      if (!(await ctx.ws.detection.deleteRule(ctx.params.id))) throw notFound(`rule ${ctx.params.id}`);
      ctx.reply.status(204);
    },
  }),
  route<{ workspace: string; id: string }, { regenerate?: boolean }>({
    method: 'GET',
    path: '/api/workspaces/:workspace/rules/:id/yaml',
    operationId: 'rules.export',
    summary: 'The rule file (as imported, or regenerated from the stored definition)',
    tags: ['Rules'],
    access: W('read'),
    params: Id,
    query: S.object({ regenerate: S.boolean() }),
    responses: { 200: { description: 'YAML', contentType: 'application/yaml', schema: S.string() }, ...E },
    handler: async (ctx) => {
      const y = await ctx.ws.detection.exportRule(ctx.params.id, { regenerate: ctx.query.regenerate === true });
      if (y === null) throw notFound(`rule ${ctx.params.id}`);
      ctx.reply.header('content-type', 'application/yaml; charset=utf-8');
      return y;
    },
  }),
  route<{ workspace: string; id: string }, { cursor?: string; limit?: number }>({
    method: 'GET',
    path: '/api/workspaces/:workspace/rules/:id/runs',
    operationId: 'rules.runs',
    summary: "The rule's runs, newest first (windows, rows, alerts, errors, lag)",
    tags: ['Rules'],
    access: W('read'),
    params: Id,
    query: S.object({
      cursor: S.string({ description: 'Runs that started before this time (ISO)' }),
      limit: S.integer({ minimum: 1, maximum: 1000 }),
    }),
    responses: {
      200: { description: 'A page of runs', schema: page(S.open({ runId: str, status: str, alerts: S.integer() })) },
      ...E,
    },
    handler: async (ctx) => {
      if (!(await ctx.ws.detection.getRule(ctx.params.id))) throw notFound(`rule ${ctx.params.id}`);
      const limit = ctx.query.limit ?? 100;
      const all = await ctx.ws.detection.runs({ ruleId: ctx.params.id, limit: 100_000 });
      const sorted = [...all].sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0));
      const after = ctx.query.cursor;
      const rest = after ? sorted.filter((r) => r.startedAt < after) : sorted;
      const items = rest.slice(0, limit);
      const last = items[items.length - 1];
      return { items, nextCursor: rest.length > limit && last ? last.startedAt : null };
    },
  }),
];
