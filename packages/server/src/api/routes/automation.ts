/**
 * Automation over the workspace's `AutomationService`: automation rules, task lists, playbooks (versions, on-demand
 * runs), runs (abort, re-run), approvals, action policies, secrets (write-only) and watchlists. Reading needs
 * `read`; running playbooks on demand, aborting and re-running runs `triage`; definitions, secrets and watchlists
 * `author`; deciding on a destructive action `approve` (the Approver grant); changing an action's policy (approval
 * vs automatic) `admin`. Definitions are YAML or JSON: send `{yaml: "..."}` or `{definition: {...}}`.
 */

import type { ApprovalStatus, PolicyMode, RunStatus } from '../../automation/model.js';
import { PLAYBOOK_SCHEMA } from '../../automation/playbook.js';
import type { TriggerInput } from '../../automation/runtime.js';
import type { AutomationService } from '../../automation/service.js';
import { AutomationError } from '../../automation/source.js';
import { ApiError, notFound } from '../errors.js';
import { type AnyRoute, type Ctx, pageList, route } from '../route.js';
import { ErrorSchema, PagingQuery, page, S, WorkspaceParam } from '../schema.js';

const str = S.string();
const open = S.open({});
const W = (permission: 'read' | 'triage' | 'author' | 'admin' | 'approve') =>
  ({ kind: 'workspace', permission }) as const;
const WS = S.object(WorkspaceParam, ['workspace']);
const Id = S.object({ ...WorkspaceParam, id: str }, ['workspace', 'id']);
const E = {
  400: { description: 'Invalid request or definition (diagnostics in details)', schema: ErrorSchema },
  404: { description: 'Not found', schema: ErrorSchema },
};
const tags = ['Automation'];
const Definition = S.object({
  yaml: S.string({ minLength: 1, maxLength: 1_000_000, description: 'The definition as YAML (or JSON) text' }),
  definition: S.map({ description: 'The definition as a JSON object' }),
});
type DefinitionBody = { yaml?: string; definition?: Record<string, unknown> };
type IdP = { workspace: string; id: string };

function auto(ctx: Ctx<unknown, unknown, unknown>): AutomationService {
  const a = ctx.ws.automation;
  if (!a) throw new ApiError(503, 'automation_off', 'automation is turned off for this workspace');
  return a;
}

function text(b: DefinitionBody | undefined): string {
  if (b?.yaml) return b.yaml;
  if (b?.definition) return JSON.stringify(b.definition);
  throw new ApiError(400, 'bad_request', 'send {yaml: "..."} or {definition: {...}}');
}

const invalid = (what: string, diagnostics: readonly unknown[]) =>
  new AutomationError('invalid', `the ${what} has errors`, diagnostics as never);

const RuleSchema = S.open(
  { id: str, name: str, order: S.integer(), enabled: S.boolean(), trigger: str, version: S.integer() },
  ['id', 'name'],
);
const PlaybookSchema = S.open({ id: str, name: str, enabled: S.boolean(), version: S.integer() }, ['id']);
const RunSchema = S.open({ id: str, playbookId: str, status: str, queuedAt: str }, ['id', 'status']);
const ApprovalSchema = S.open({ id: str, kind: str, status: str, title: str, requestedAt: str, expiresAt: str }, [
  'id',
  'status',
]);

export const automationRoutes: AnyRoute[] = [
  // ── automation rules ──
  route<{ workspace: string }, { cursor?: string; limit?: number }>({
    method: 'GET',
    path: '/api/workspaces/:workspace/automation/rules',
    operationId: 'automation.rules.list',
    summary: 'Automation rules, in run order',
    tags,
    access: W('read'),
    params: WS,
    query: S.object(PagingQuery),
    responses: { 200: { description: 'A page of rules', schema: page(RuleSchema) }, ...E },
    handler: async (ctx) => {
      const rules = await auto(ctx).listRules();
      const key = (r: (typeof rules)[number]) => `${String(r.order).padStart(10, '0')}\u0000${r.id}`;
      return pageList(rules, key, ctx.query.cursor, ctx.query.limit);
    },
  }),
  route<{ workspace: string }, unknown, DefinitionBody>({
    method: 'POST',
    path: '/api/workspaces/:workspace/automation/rules/validate',
    operationId: 'automation.rules.validate',
    summary: 'Check an automation rule without saving it',
    tags,
    access: W('read'),
    audit: 'none',
    params: WS,
    body: Definition,
    responses: {
      200: {
        description: 'Diagnostics',
        schema: S.object({ ok: S.boolean(), diagnostics: S.array(open) }, ['ok', 'diagnostics']),
      },
      ...E,
    },
    handler: async (ctx) => {
      const r = await auto(ctx).validateRule(text(ctx.body));
      return { ok: r.value !== null && !r.diagnostics.some((d) => d.severity === 'error'), diagnostics: r.diagnostics };
    },
  }),
  route<IdP>({
    method: 'GET',
    path: '/api/workspaces/:workspace/automation/rules/:id',
    operationId: 'automation.rules.get',
    summary: 'An automation rule',
    tags,
    access: W('read'),
    params: Id,
    responses: { 200: { description: 'The rule', schema: RuleSchema }, ...E },
    handler: async (ctx) =>
      (await auto(ctx).getRule(ctx.params.id)) ?? Promise.reject(notFound(`automation rule ${ctx.params.id}`)),
  }),
  route<IdP, unknown, DefinitionBody>({
    method: 'PUT',
    path: '/api/workspaces/:workspace/automation/rules/:id',
    operationId: 'automation.rules.put',
    summary: 'Create or replace an automation rule',
    tags,
    access: W('author'),
    params: Id,
    body: Definition,
    responses: {
      200: {
        description: 'The rule and its warnings',
        schema: S.open({ rule: RuleSchema, diagnostics: S.array(open) }, ['rule']),
      },
      ...E,
    },
    handler: async (ctx) => {
      const r = await auto(ctx).putRule(text(ctx.body), ctx.actor, ctx.params.id);
      if (!r.value) throw invalid('rule', r.diagnostics);
      return { rule: r.value, diagnostics: r.diagnostics };
    },
  }),
  route<IdP, unknown, { enabled: boolean }>({
    method: 'PATCH',
    path: '/api/workspaces/:workspace/automation/rules/:id',
    operationId: 'automation.rules.setEnabled',
    summary: 'Enable or disable an automation rule',
    tags,
    access: W('author'),
    params: Id,
    body: S.object({ enabled: S.boolean() }, ['enabled']),
    responses: { 200: { description: 'The rule', schema: RuleSchema }, ...E },
    handler: async (ctx) => auto(ctx).setRuleEnabled(ctx.params.id, ctx.body.enabled, ctx.actor),
  }),
  route<IdP>({
    method: 'DELETE',
    path: '/api/workspaces/:workspace/automation/rules/:id',
    operationId: 'automation.rules.delete',
    summary: 'Delete an automation rule',
    tags,
    access: W('author'),
    params: Id,
    responses: { 204: { description: 'Deleted' }, ...E },
    handler: async (ctx) => {
      if (!(await auto(ctx).deleteRule(ctx.params.id))) throw notFound(`automation rule ${ctx.params.id}`);
      ctx.reply.status(204);
    },
  }),
  route<IdP, { limit?: number }>({
    method: 'GET',
    path: '/api/workspaces/:workspace/automation/rules/:id/executions',
    operationId: 'automation.rules.executions',
    summary: 'What the rule did, event by event (newest first)',
    tags,
    access: W('read'),
    params: Id,
    query: S.object({ limit: S.integer({ minimum: 1, maximum: 1000 }) }),
    responses: { 200: { description: 'Executions', schema: page(open) }, ...E },
    handler: async (ctx) => ({
      items: await auto(ctx).ruleExecutions({ ruleId: ctx.params.id, limit: ctx.query.limit ?? 100 }),
      nextCursor: null,
    }),
  }),

  // ── task lists ──
  route<{ workspace: string }, { cursor?: string; limit?: number }>({
    method: 'GET',
    path: '/api/workspaces/:workspace/automation/task-lists',
    operationId: 'automation.taskLists.list',
    summary: 'Task lists automation rules add to incidents',
    tags,
    access: W('read'),
    params: WS,
    query: S.object(PagingQuery),
    responses: {
      200: { description: 'A page', schema: page(S.open({ id: str, name: str, tasks: S.array(open) }, ['id'])) },
      ...E,
    },
    handler: async (ctx) => pageList(await auto(ctx).taskLists(), (l) => l.id, ctx.query.cursor, ctx.query.limit),
  }),
  route<IdP, unknown, DefinitionBody>({
    method: 'PUT',
    path: '/api/workspaces/:workspace/automation/task-lists/:id',
    operationId: 'automation.taskLists.put',
    summary: 'Create or replace a task list',
    tags,
    access: W('author'),
    params: Id,
    body: Definition,
    responses: { 200: { description: 'The list', schema: S.open({ id: str, tasks: S.array(open) }, ['id']) }, ...E },
    handler: async (ctx) => {
      const r = await auto(ctx).putTaskList(text(ctx.body));
      if (!r.value) throw invalid('task list', r.diagnostics);
      if (r.value.id !== ctx.params.id) throw new ApiError(400, 'invalid', `the list's id is '${r.value.id}'`);
      return r.value;
    },
  }),
  route<IdP>({
    method: 'DELETE',
    path: '/api/workspaces/:workspace/automation/task-lists/:id',
    operationId: 'automation.taskLists.delete',
    summary: 'Delete a task list',
    tags,
    access: W('author'),
    params: Id,
    responses: { 204: { description: 'Deleted' }, ...E },
    handler: async (ctx) => {
      if (!(await auto(ctx).deleteTaskList(ctx.params.id))) throw notFound(`task list ${ctx.params.id}`);
      ctx.reply.status(204);
    },
  }),

  // ── playbooks ──
  route({
    method: 'GET',
    path: '/api/workspaces/:workspace/automation/playbook-schema',
    operationId: 'automation.playbookSchema',
    summary: 'The JSON schema of playbook definitions',
    tags,
    access: W('read'),
    params: WS,
    responses: { 200: { description: 'JSON schema', schema: S.map() }, ...E },
    handler: async () => PLAYBOOK_SCHEMA,
  }),
  route<{ workspace: string }, { cursor?: string; limit?: number }>({
    method: 'GET',
    path: '/api/workspaces/:workspace/automation/playbooks',
    operationId: 'automation.playbooks.list',
    summary: 'Playbooks',
    tags,
    access: W('read'),
    params: WS,
    query: S.object(PagingQuery),
    responses: { 200: { description: 'A page', schema: page(PlaybookSchema) }, ...E },
    handler: async (ctx) => pageList(await auto(ctx).listPlaybooks(), (p) => p.id, ctx.query.cursor, ctx.query.limit),
  }),
  route<{ workspace: string }, unknown, DefinitionBody>({
    method: 'POST',
    path: '/api/workspaces/:workspace/automation/playbooks/validate',
    operationId: 'automation.playbooks.validate',
    summary: 'Check a playbook without saving it',
    tags,
    access: W('read'),
    audit: 'none',
    params: WS,
    body: Definition,
    responses: {
      200: {
        description: 'Diagnostics',
        schema: S.object({ ok: S.boolean(), diagnostics: S.array(open) }, ['ok', 'diagnostics']),
      },
      ...E,
    },
    handler: async (ctx) => {
      const r = await auto(ctx).validatePlaybook(text(ctx.body));
      return { ok: !r.diagnostics.some((d) => d.severity === 'error'), diagnostics: r.diagnostics };
    },
  }),
  route<IdP, { version?: number }>({
    method: 'GET',
    path: '/api/workspaces/:workspace/automation/playbooks/:id',
    operationId: 'automation.playbooks.get',
    summary: 'A playbook (a given version, or the current one)',
    tags,
    access: W('read'),
    params: Id,
    query: S.object({ version: S.integer({ minimum: 1 }) }),
    responses: { 200: { description: 'The playbook', schema: PlaybookSchema }, ...E },
    handler: async (ctx) =>
      (await auto(ctx).getPlaybook(ctx.params.id, ctx.query.version)) ??
      Promise.reject(notFound(`playbook ${ctx.params.id}`)),
  }),
  route<IdP>({
    method: 'GET',
    path: '/api/workspaces/:workspace/automation/playbooks/:id/versions',
    operationId: 'automation.playbooks.versions',
    summary: "The playbook's versions",
    tags,
    access: W('read'),
    params: Id,
    responses: { 200: { description: 'Versions', schema: page(open) }, ...E },
    handler: async (ctx) => ({ items: await auto(ctx).playbookVersions(ctx.params.id), nextCursor: null }),
  }),
  route<IdP, unknown, DefinitionBody>({
    method: 'PUT',
    path: '/api/workspaces/:workspace/automation/playbooks/:id',
    operationId: 'automation.playbooks.put',
    summary: 'Create a playbook or a new version of it',
    tags,
    access: W('author'),
    params: Id,
    body: Definition,
    responses: {
      200: {
        description: 'The playbook',
        schema: S.open({ playbook: PlaybookSchema, diagnostics: S.array(open) }, ['playbook']),
      },
      ...E,
    },
    handler: async (ctx) => {
      const r = await auto(ctx).putPlaybook(text(ctx.body), ctx.actor, ctx.params.id);
      if (!r.value) throw invalid('playbook', r.diagnostics);
      return { playbook: r.value, diagnostics: r.diagnostics };
    },
  }),
  route<IdP, unknown, { enabled: boolean }>({
    method: 'PATCH',
    path: '/api/workspaces/:workspace/automation/playbooks/:id',
    operationId: 'automation.playbooks.setEnabled',
    summary: 'Enable or disable a playbook',
    tags,
    access: W('author'),
    params: Id,
    body: S.object({ enabled: S.boolean() }, ['enabled']),
    responses: { 200: { description: 'The playbook', schema: PlaybookSchema }, ...E },
    handler: async (ctx) => {
      const a = auto(ctx);
      if (!(await a.getPlaybook(ctx.params.id))) throw notFound(`playbook ${ctx.params.id}`);
      await a.setPlaybookEnabled(ctx.params.id, ctx.body.enabled);
      return a.getPlaybook(ctx.params.id);
    },
  }),
  route<IdP>({
    method: 'DELETE',
    path: '/api/workspaces/:workspace/automation/playbooks/:id',
    operationId: 'automation.playbooks.delete',
    summary: 'Delete a playbook',
    tags,
    access: W('author'),
    params: Id,
    responses: { 204: { description: 'Deleted' }, ...E },
    handler: async (ctx) => {
      if (!(await auto(ctx).deletePlaybook(ctx.params.id))) throw notFound(`playbook ${ctx.params.id}`);
      ctx.reply.status(204);
    },
  }),
  route<
    IdP,
    unknown,
    {
      incidentId?: string | number;
      alertId?: string;
      entity?: Record<string, unknown>;
      inputs?: Record<string, unknown>;
      idempotencyKey?: string;
    }
  >({
    method: 'POST',
    path: '/api/workspaces/:workspace/automation/playbooks/:id/runs',
    operationId: 'automation.playbooks.run',
    summary: 'Run a playbook on demand (on an incident, an alert, an entity, or with inputs only)',
    tags,
    access: W('triage'),
    params: Id,
    body: S.object({
      incidentId: { anyOf: [{ type: 'string' }, { type: 'integer' }] },
      alertId: str,
      entity: S.map(),
      inputs: S.map(),
      idempotencyKey: S.string({ maxLength: 256 }),
    }),
    responses: { 202: { description: 'The queued run', schema: RunSchema }, ...E },
    handler: async (ctx) => {
      const b = ctx.body ?? {};
      const inputs = b.inputs ?? {};
      const trigger: TriggerInput = b.alertId
        ? { kind: 'alert', alertId: b.alertId, inputs }
        : b.entity
          ? {
              kind: 'entity',
              entity: b.entity,
              inputs,
              ...(b.incidentId !== undefined ? { incidentId: b.incidentId } : {}),
            }
          : b.incidentId !== undefined
            ? { kind: 'incident', incidentId: b.incidentId, inputs }
            : { kind: 'manual', inputs };
      const run = await auto(ctx).startRun(
        ctx.params.id,
        trigger,
        ctx.actor,
        b.idempotencyKey ? { idempotencyKey: b.idempotencyKey } : {},
      );
      ctx.audit.target = run.id;
      ctx.reply.status(202);
      return run;
    },
  }),

  // ── runs ──
  route<
    { workspace: string },
    { playbookId?: string; incidentId?: string; status?: RunStatus; cursor?: string; limit?: number }
  >({
    method: 'GET',
    path: '/api/workspaces/:workspace/automation/runs',
    operationId: 'automation.runs.list',
    summary: 'Playbook runs, newest first',
    tags,
    access: W('read'),
    params: WS,
    query: S.object({
      ...PagingQuery,
      playbookId: str,
      incidentId: str,
      status: S.enum(['queued', 'running', 'waiting', 'succeeded', 'failed', 'aborted', 'rejected', 'expired']),
    }),
    responses: { 200: { description: 'A page of runs', schema: page(RunSchema) }, ...E },
    handler: async (ctx) => {
      const q = ctx.query;
      return auto(ctx).runs({
        ...(q.playbookId ? { playbookId: q.playbookId } : {}),
        ...(q.incidentId ? { incidentId: q.incidentId } : {}),
        ...(q.status ? { status: q.status } : {}),
        ...(q.cursor ? { cursor: q.cursor } : {}),
        limit: q.limit ?? 100,
      });
    },
  }),
  route<IdP>({
    method: 'GET',
    path: '/api/workspaces/:workspace/automation/runs/:id',
    operationId: 'automation.runs.get',
    summary: 'A run with its steps and log',
    tags,
    access: W('read'),
    params: Id,
    responses: {
      200: {
        description: 'The run',
        schema: S.open({ run: RunSchema, steps: S.array(open), logs: S.array(open) }, ['run']),
      },
      ...E,
    },
    handler: async (ctx) => (await auto(ctx).run(ctx.params.id)) ?? Promise.reject(notFound(`run ${ctx.params.id}`)),
  }),
  route<IdP>({
    method: 'POST',
    path: '/api/workspaces/:workspace/automation/runs/:id/abort',
    operationId: 'automation.runs.abort',
    summary: 'Abort a run',
    tags,
    access: W('triage'),
    params: Id,
    responses: {
      200: { description: 'The run', schema: RunSchema },
      ...E,
      409: { description: 'Already finished', schema: ErrorSchema },
    },
    handler: async (ctx) => auto(ctx).abortRun(ctx.params.id, ctx.actor),
  }),
  route<IdP, unknown, { sameVersion?: boolean }>({
    method: 'POST',
    path: '/api/workspaces/:workspace/automation/runs/:id/rerun',
    operationId: 'automation.runs.rerun',
    summary: 'Run again with the same trigger (the current playbook version, or the same one)',
    tags,
    access: W('triage'),
    params: Id,
    body: S.object({ sameVersion: S.boolean() }),
    responses: { 202: { description: 'The new run', schema: RunSchema }, ...E },
    handler: async (ctx) => {
      ctx.reply.status(202);
      return auto(ctx).rerun(ctx.params.id, ctx.actor, { sameVersion: ctx.body?.sameVersion === true });
    },
  }),

  // ── approvals ──
  route<
    { workspace: string },
    { status?: ApprovalStatus; incidentId?: string; runId?: string; cursor?: string; limit?: number }
  >({
    method: 'GET',
    path: '/api/workspaces/:workspace/automation/approvals',
    operationId: 'automation.approvals.list',
    summary: 'Approval requests (response actions and playbook approval steps)',
    tags,
    access: W('read'),
    params: WS,
    query: S.object({
      ...PagingQuery,
      status: S.enum(['pending', 'approved', 'rejected', 'expired', 'cancelled', 'executing', 'succeeded', 'failed']),
      incidentId: str,
      runId: str,
    }),
    responses: { 200: { description: 'A page', schema: page(ApprovalSchema) }, ...E },
    handler: async (ctx) => {
      const q = ctx.query;
      const list = await auto(ctx).listApprovals({
        ...(q.status ? { status: q.status } : {}),
        ...(q.incidentId ? { incidentId: q.incidentId } : {}),
        ...(q.runId ? { runId: q.runId } : {}),
        limit: 10_000,
      });
      // Newest first: the key sorts descending through its complement.
      return pageList(list, (a) => `${invert(a.requestedAt)}\u0000${a.id}`, q.cursor, q.limit);
    },
  }),
  route<IdP>({
    method: 'GET',
    path: '/api/workspaces/:workspace/automation/approvals/:id',
    operationId: 'automation.approvals.get',
    summary: 'An approval request',
    tags,
    access: W('read'),
    params: Id,
    responses: { 200: { description: 'The request', schema: ApprovalSchema }, ...E },
    handler: async (ctx) =>
      (await auto(ctx).getApproval(ctx.params.id)) ?? Promise.reject(notFound(`approval request ${ctx.params.id}`)),
  }),
  ...(['approve', 'reject'] as const).map((decision) =>
    route<IdP, unknown, { comment?: string }>({
      method: 'POST',
      path: `/api/workspaces/:workspace/automation/approvals/:id/${decision}`,
      operationId: `automation.approvals.${decision}`,
      summary: `${decision === 'approve' ? 'Approve' : 'Reject'} a destructive action or a playbook's approval step (Approver)`,
      tags,
      access: W('approve'),
      params: Id,
      body: S.object({ comment: S.string({ maxLength: 4096 }) }),
      responses: {
        200: { description: 'The request after the decision', schema: ApprovalSchema },
        ...E,
        409: { description: 'Already decided or expired', schema: ErrorSchema },
      },
      handler: async (ctx) => {
        const a = auto(ctx);
        const comment = ctx.body?.comment ?? null;
        return decision === 'approve'
          ? a.approve(ctx.params.id, ctx.actor, comment)
          : a.reject(ctx.params.id, ctx.actor, comment);
      },
    }),
  ),

  // ── actions and policies ──
  route<{ workspace: string }, { cursor?: string; limit?: number }>({
    method: 'GET',
    path: '/api/workspaces/:workspace/automation/actions',
    operationId: 'automation.actions.list',
    summary: 'Response actions with their policy (approval or automatic)',
    tags,
    access: W('read'),
    params: WS,
    query: S.object(PagingQuery),
    responses: { 200: { description: 'A page', schema: page(open) }, ...E },
    handler: async (ctx) => {
      const a = auto(ctx);
      const policies = new Map(a.policies().map((p) => [p.action, p] as const));
      const items = a.actionCatalog().map((x) => ({ ...x, policy: policies.get(x.name) ?? null }));
      return pageList(items, (x) => x.name, ctx.query.cursor, ctx.query.limit);
    },
  }),
  route<{ workspace: string; action: string }, unknown, { mode: PolicyMode; expiryMs?: number }>({
    method: 'PUT',
    path: '/api/workspaces/:workspace/automation/actions/:action/policy',
    operationId: 'automation.actions.setPolicy',
    summary: 'Whether an action waits for an Approver or runs automatically (Owners)',
    tags,
    access: W('admin'),
    params: S.object({ ...WorkspaceParam, action: str }, ['workspace', 'action']),
    body: S.object({ mode: S.enum(['approval', 'auto']), expiryMs: S.integer({ minimum: 60_000 }) }, ['mode']),
    responses: { 200: { description: 'The policy', schema: open }, ...E },
    handler: async (ctx) => {
      ctx.audit.target = ctx.params.action;
      return auto(ctx).setPolicy(
        ctx.params.action,
        { mode: ctx.body.mode, ...(ctx.body.expiryMs !== undefined ? { expiryMs: ctx.body.expiryMs } : {}) },
        ctx.actor,
      );
    },
  }),

  // ── secrets (write-only) ──
  route<{ workspace: string }, { cursor?: string; limit?: number }>({
    method: 'GET',
    path: '/api/workspaces/:workspace/automation/secrets',
    operationId: 'automation.secrets.list',
    summary: 'Secret names (values are never returned)',
    tags,
    access: W('author'),
    params: WS,
    query: S.object(PagingQuery),
    responses: { 200: { description: 'A page', schema: page(S.open({ name: str, updatedAt: str }, ['name'])) }, ...E },
    handler: async (ctx) => pageList(await auto(ctx).secrets.list(), (s) => s.name, ctx.query.cursor, ctx.query.limit),
  }),
  route<{ workspace: string; name: string }, unknown, { value: string }>({
    method: 'PUT',
    path: '/api/workspaces/:workspace/automation/secrets/:name',
    operationId: 'automation.secrets.put',
    summary: 'Store a secret (encrypted at rest) for playbooks',
    tags,
    access: W('author'),
    params: S.object({ ...WorkspaceParam, name: str }, ['workspace', 'name']),
    body: S.object({ value: S.string({ minLength: 1, maxLength: 65_536 }) }, ['value']),
    responses: { 204: { description: 'Stored' }, ...E },
    handler: async (ctx) => {
      await auto(ctx).secrets.set(ctx.params.name, ctx.body.value, ctx.actor);
      ctx.reply.status(204);
    },
  }),
  route<{ workspace: string; name: string }>({
    method: 'DELETE',
    path: '/api/workspaces/:workspace/automation/secrets/:name',
    operationId: 'automation.secrets.delete',
    summary: 'Delete a secret',
    tags,
    access: W('author'),
    params: S.object({ ...WorkspaceParam, name: str }, ['workspace', 'name']),
    responses: { 204: { description: 'Deleted' }, ...E },
    handler: async (ctx) => {
      if (!(await auto(ctx).secrets.delete(ctx.params.name))) throw notFound(`secret ${ctx.params.name}`);
      ctx.reply.status(204);
    },
  }),

  // ── watchlists ──
  route<{ workspace: string }, { cursor?: string; limit?: number }>({
    method: 'GET',
    path: '/api/workspaces/:workspace/automation/watchlists',
    operationId: 'automation.watchlists.list',
    summary: 'Watchlists playbooks and rules look values up in',
    tags,
    access: W('read'),
    params: WS,
    query: S.object(PagingQuery),
    responses: { 200: { description: 'A page', schema: page(S.open({ alias: str }, ['alias'])) }, ...E },
    handler: async (ctx) => pageList(await auto(ctx).watchlists(), (w) => w.alias, ctx.query.cursor, ctx.query.limit),
  }),
  route<
    { workspace: string; alias: string },
    unknown,
    { name?: string; searchKey: string; items: Record<string, unknown>[] }
  >({
    method: 'PUT',
    path: '/api/workspaces/:workspace/automation/watchlists/:alias',
    operationId: 'automation.watchlists.put',
    summary: 'Create or replace a watchlist',
    tags,
    access: W('author'),
    params: S.object({ ...WorkspaceParam, alias: str }, ['workspace', 'alias']),
    body: S.object(
      { name: str, searchKey: S.string({ minLength: 1 }), items: S.array(S.map(), { maxItems: 100_000 }) },
      ['searchKey', 'items'],
    ),
    responses: { 204: { description: 'Stored' }, ...E },
    handler: async (ctx) => {
      await auto(ctx).putWatchlist(
        {
          alias: ctx.params.alias,
          ...(ctx.body.name ? { name: ctx.body.name } : {}),
          searchKey: ctx.body.searchKey,
          items: ctx.body.items,
        },
        ctx.actor,
      );
      ctx.reply.status(204);
    },
  }),
  route<{ workspace: string; alias: string }, { key?: string; limit?: number }>({
    method: 'GET',
    path: '/api/workspaces/:workspace/automation/watchlists/:alias/items',
    operationId: 'automation.watchlists.items',
    summary: 'Items of a watchlist (all, or those with a search key value)',
    tags,
    access: W('read'),
    params: S.object({ ...WorkspaceParam, alias: str }, ['workspace', 'alias']),
    query: S.object({ key: str, limit: S.integer({ minimum: 1, maximum: 10_000 }) }),
    responses: { 200: { description: 'Items', schema: page(S.map()) }, ...E },
    handler: async (ctx) => ({
      items: await auto(ctx).watchlistItems(ctx.params.alias, ctx.query.key ?? null, ctx.query.limit ?? 100),
      nextCursor: null,
    }),
  }),
  route<{ workspace: string; alias: string }>({
    method: 'DELETE',
    path: '/api/workspaces/:workspace/automation/watchlists/:alias',
    operationId: 'automation.watchlists.delete',
    summary: 'Delete a watchlist',
    tags,
    access: W('author'),
    params: S.object({ ...WorkspaceParam, alias: str }, ['workspace', 'alias']),
    responses: { 204: { description: 'Deleted' }, ...E },
    handler: async (ctx) => {
      if (!(await auto(ctx).deleteWatchlist(ctx.params.alias))) throw notFound(`watchlist ${ctx.params.alias}`);
      ctx.reply.status(204);
    },
  }),
];

/** A string that sorts in the reverse order of `s` (ISO timestamps: newest first). */
function invert(s: string): string {
  return [...s].map((c) => String.fromCharCode(0xffff - c.charCodeAt(0))).join('');
}
