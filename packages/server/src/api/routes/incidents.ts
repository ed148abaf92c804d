/**
 * The incident queue, alerts and the incident engine's settings, over the workspace's `IncidentService`. Reading
 * needs `read`; triage (fields, comments, tasks, merge, split, bulk) needs `triage`; the engine's settings `author`.
 * Who changed what is the signed-in user (`ctx.actor`), recorded by the service in the incident's own audit trail.
 */

import { CLASSIFICATIONS, INCIDENT_STATUSES, SEVERITY_BY_RANK } from '../../incidents/model.js';
import { SORT_FIELDS } from '../../incidents/queue.js';
import { queryFromParams } from '../../incidents/routes.js';
import type { IncidentPatch, TaskInput, TaskPatch } from '../../incidents/service.js';
import { type AlertRow, alertSummaryFromRow } from '../../state/incidents-repo.js';
import { notFound } from '../errors.js';
import { type AnyRoute, route } from '../route.js';
import { ErrorSchema, type JsonSchema, PagingQuery, page, S, WorkspaceParam } from '../schema.js';

const str = S.string();
const strList = S.array(S.string());
const nstr = S.nullable(S.string());
const actor = S.open({ type: S.string(), id: S.string(), name: S.string() }, ['type', 'id']);
const owner = S.open({ objectId: nstr, email: nstr, userPrincipalName: nstr, assignedTo: nstr });

export const IncidentSchema: JsonSchema = S.open(
  {
    id: S.string({ description: "GUID (Sentinel's IncidentName)" }),
    number: S.integer({ description: "Sentinel's IncidentNumber" }),
    title: str,
    description: str,
    severity: S.enum(SEVERITY_BY_RANK),
    status: S.enum(INCIDENT_STATUSES),
    classification: S.nullable(S.enum(CLASSIFICATIONS)),
    classificationReason: nstr,
    classificationComment: nstr,
    owner: S.nullable(owner),
    tags: strList,
    tactics: strList,
    techniques: strList,
    providerName: str,
    productNames: strList,
    ruleIds: strList,
    firstActivityTime: nstr,
    lastActivityTime: nstr,
    createdTime: str,
    lastModifiedTime: str,
    closedTime: nstr,
    redirectedTo: nstr,
    alertCount: S.integer(),
    entityCount: S.integer(),
    commentCount: S.integer(),
    taskCount: S.integer(),
    version: S.integer({ description: 'Send as If-Match to update only this version' }),
    lastModifiedBy: actor,
  },
  ['id', 'number', 'title', 'severity', 'status', 'version'],
);

const AlertSummarySchema = S.open(
  {
    alertId: str,
    incidentId: nstr,
    title: str,
    severity: S.enum(SEVERITY_BY_RANK),
    status: str,
    providerName: str,
    productName: str,
    ruleId: nstr,
    tactics: strList,
    techniques: strList,
    startTime: str,
    endTime: str,
    timeGenerated: str,
    receivedAt: str,
  },
  ['alertId', 'title', 'severity'],
);
const CommentSchema = S.open({ id: str, incidentId: str, message: str, author: actor, createdTime: str }, [
  'id',
  'message',
]);
const TaskSchema = S.open(
  { id: str, incidentId: str, title: str, description: str, status: S.enum(['New', 'Completed']), assignee: nstr },
  ['id', 'title', 'status'],
);
const open = S.open({});

const PatchSchema = S.object({
  title: S.string({ minLength: 1, maxLength: 1024 }),
  description: S.string({ maxLength: 32_768 }),
  severity: S.nullable(S.enum(SEVERITY_BY_RANK)),
  status: S.enum(INCIDENT_STATUSES),
  classification: S.nullable(S.enum(CLASSIFICATIONS)),
  classificationReason: nstr,
  classificationComment: S.nullable(S.string({ maxLength: 32_768 })),
  owner: S.nullable(S.object({ objectId: nstr, email: nstr, userPrincipalName: nstr, assignedTo: nstr })),
  tags: strList,
  addTags: strList,
  removeTags: strList,
});

const Id = S.object({ ...WorkspaceParam, id: S.string({ description: 'Incident id or number' }) }, ['workspace', 'id']);
const E = {
  400: { description: 'Invalid request', schema: ErrorSchema },
  404: { description: 'Not found', schema: ErrorSchema },
};
const tags = ['Incidents'];
const W = (permission: 'read' | 'triage' | 'author') => ({ kind: 'workspace', permission }) as const;
type IdP = { workspace: string; id: string };

const listQuery = S.object({
  ...PagingQuery,
  status: S.string({ description: 'New, Active, Closed (comma-separated or repeated)' }),
  severity: str,
  owner: str,
  tag: str,
  provider: str,
  product: str,
  tactic: str,
  technique: str,
  entity: S.string({ description: 'An entity identifier: host name, UPN, IP, hash, ...' }),
  rule: str,
  classification: str,
  createdFrom: str,
  createdTo: str,
  updatedFrom: str,
  updatedTo: str,
  activityFrom: str,
  activityTo: str,
  text: S.string({ description: 'Words of the title, or the incident number' }),
  includeRedirected: S.boolean(),
  sort: S.enum(SORT_FIELDS),
  order: S.enum(['asc', 'desc']),
});

export const incidentRoutes: AnyRoute[] = [
  route<{ workspace: string }, Record<string, string | boolean | number>>({
    method: 'GET',
    path: '/api/workspaces/:workspace/incidents',
    operationId: 'incidents.list',
    summary: 'List incidents (filters, sort, cursor paging)',
    tags,
    access: W('read'),
    params: S.object(WorkspaceParam, ['workspace']),
    query: listQuery,
    responses: { 200: { description: 'A page of incidents', schema: page(IncidentSchema) }, ...E },
    handler: async (ctx) => {
      const q: Record<string, string | undefined> = {};
      for (const [k, v] of Object.entries(ctx.query)) q[k] = String(v);
      return ctx.ws.incidents.list(queryFromParams(q));
    },
  }),
  route<IdP, { pageSize?: number }>({
    method: 'GET',
    path: '/api/workspaces/:workspace/incidents/:id',
    operationId: 'incidents.get',
    summary: 'An incident with its alerts, entities, graph, links, comments, tasks and audit trail',
    tags,
    access: W('read'),
    params: Id,
    query: S.object({ pageSize: S.integer({ minimum: 1, maximum: 500 }) }),
    responses: {
      200: {
        description: 'The incident',
        schema: S.open(
          { incident: IncidentSchema, alerts: page(AlertSummarySchema), comments: S.array(CommentSchema) },
          ['incident'],
        ),
      },
      ...E,
    },
    handler: async (ctx) => {
      const d = await ctx.ws.incidents.get(ctx.params.id, { pageSize: ctx.query.pageSize ?? 100 });
      if (!d) throw notFound(`incident ${ctx.params.id}`);
      return d;
    },
  }),
  route<IdP, unknown, IncidentPatch>({
    method: 'PATCH',
    path: '/api/workspaces/:workspace/incidents/:id',
    operationId: 'incidents.update',
    summary: 'Change an incident: status, severity, classification, owner, tags, title, description',
    description: 'Send `If-Match: <version>` to refuse the change (409) when someone changed the incident since.',
    tags,
    access: W('triage'),
    params: Id,
    headers: S.open({ 'if-match': S.string({ description: 'The version the change is based on' }) }),
    body: PatchSchema,
    responses: {
      200: { description: 'The incident after the change', schema: IncidentSchema },
      ...E,
      409: { description: 'Version conflict', schema: ErrorSchema },
    },
    handler: async (ctx) => {
      const match = ctx.request.headers['if-match'];
      const version = typeof match === 'string' ? Number(match.replace(/"/g, '')) : Number.NaN;
      ctx.audit.details = ctx.body;
      return ctx.ws.incidents.update(
        ctx.params.id,
        ctx.body,
        ctx.actor,
        Number.isFinite(version) ? { expectedVersion: version } : {},
      );
    },
  }),
  route<{ workspace: string }, unknown, { ids: (string | number)[]; patch: IncidentPatch }>({
    method: 'POST',
    path: '/api/workspaces/:workspace/incidents/bulk',
    operationId: 'incidents.bulkUpdate',
    summary: 'Apply one change to many incidents',
    tags,
    access: W('triage'),
    params: S.object(WorkspaceParam, ['workspace']),
    body: S.object(
      {
        ids: S.array({ anyOf: [{ type: 'string' }, { type: 'integer' }] }, { minItems: 1, maxItems: 1000 }),
        patch: PatchSchema,
      },
      ['ids', 'patch'],
    ),
    responses: {
      200: { description: 'One result per incident', schema: S.object({ results: S.array(open) }, ['results']) },
      ...E,
    },
    handler: async (ctx) => ({ results: await ctx.ws.incidents.bulkUpdate(ctx.body.ids, ctx.body.patch, ctx.actor) }),
  }),
  ...(['alerts', 'entities', 'links', 'audit'] as const).map((part) =>
    route<IdP, { cursor?: string; limit?: number }>({
      method: 'GET',
      path: `/api/workspaces/:workspace/incidents/:id/${part}`,
      operationId: `incidents.${part}`,
      summary: `The incident's ${part === 'audit' ? 'audit trail' : part} (paged)`,
      tags,
      access: W('read'),
      params: Id,
      query: S.object(PagingQuery),
      responses: {
        200: { description: `A page of ${part}`, schema: page(part === 'alerts' ? AlertSummarySchema : open) },
        ...E,
      },
      handler: async (ctx) => {
        const s = ctx.ws.incidents;
        const c = ctx.query.cursor ?? null;
        const n = Math.min(ctx.query.limit ?? 100, 500);
        if (!(await s.getIncident(ctx.params.id))) throw notFound(`incident ${ctx.params.id}`);
        if (part === 'alerts') return s.alerts(ctx.params.id, c, n);
        if (part === 'entities') return s.entities(ctx.params.id, c, n);
        if (part === 'links') return s.links(ctx.params.id, c, n);
        return s.auditTrail(ctx.params.id, c, n);
      },
    }),
  ),
  route<IdP, { limit?: number }>({
    method: 'GET',
    path: '/api/workspaces/:workspace/incidents/:id/graph',
    operationId: 'incidents.graph',
    summary: 'Alerts and entities of the incident as a graph',
    tags,
    access: W('read'),
    params: Id,
    query: S.object({ limit: S.integer({ minimum: 1, maximum: 1000 }) }),
    responses: {
      200: {
        description: 'Nodes and edges',
        schema: S.open({ nodes: S.array(open), edges: S.array(open) }, ['nodes', 'edges']),
      },
      ...E,
    },
    handler: async (ctx) => {
      if (!(await ctx.ws.incidents.getIncident(ctx.params.id))) throw notFound(`incident ${ctx.params.id}`);
      return ctx.ws.incidents.graph(ctx.params.id, ctx.query.limit ?? 200);
    },
  }),
  route<IdP, { cursor?: string; limit?: number }>({
    method: 'GET',
    path: '/api/workspaces/:workspace/incidents/:id/comments',
    operationId: 'incidents.comments',
    summary: "The incident's comments (paged, oldest first)",
    tags,
    access: W('read'),
    params: Id,
    query: S.object(PagingQuery),
    responses: { 200: { description: 'Comments', schema: page(CommentSchema) }, ...E },
    handler: async (ctx) => pageByIndex(await ctx.ws.incidents.comments(ctx.params.id), ctx.query),
  }),
  route<IdP, unknown, { message: string }>({
    method: 'POST',
    path: '/api/workspaces/:workspace/incidents/:id/comments',
    operationId: 'incidents.addComment',
    summary: 'Comment on an incident',
    tags,
    access: W('triage'),
    params: Id,
    body: S.object({ message: S.string({ minLength: 1, maxLength: 30_000 }) }, ['message']),
    responses: { 201: { description: 'The comment', schema: CommentSchema }, ...E },
    handler: async (ctx) => {
      ctx.reply.status(201);
      return ctx.ws.incidents.addComment(ctx.params.id, ctx.body.message, ctx.actor);
    },
  }),
  route<IdP & { commentId: string }, unknown, { message: string }>({
    method: 'PATCH',
    path: '/api/workspaces/:workspace/incidents/:id/comments/:commentId',
    operationId: 'incidents.editComment',
    summary: 'Edit a comment (its author only)',
    tags,
    access: W('triage'),
    params: S.object({ ...WorkspaceParam, id: str, commentId: str }, ['workspace', 'id', 'commentId']),
    body: S.object({ message: S.string({ minLength: 1, maxLength: 30_000 }) }, ['message']),
    responses: { 200: { description: 'The comment', schema: CommentSchema }, ...E },
    handler: async (ctx) => {
      ctx.audit.target = ctx.params.id;
      return ctx.ws.incidents.editComment(ctx.params.id, ctx.params.commentId, ctx.body.message, ctx.actor);
    },
  }),
  route<IdP & { commentId: string }>({
    method: 'DELETE',
    path: '/api/workspaces/:workspace/incidents/:id/comments/:commentId',
    operationId: 'incidents.deleteComment',
    summary: 'Delete a comment',
    tags,
    access: W('triage'),
    params: S.object({ ...WorkspaceParam, id: str, commentId: str }, ['workspace', 'id', 'commentId']),
    responses: { 204: { description: 'Deleted' }, ...E },
    handler: async (ctx) => {
      await ctx.ws.incidents.deleteComment(ctx.params.id, ctx.params.commentId, ctx.actor);
      ctx.reply.status(204);
    },
  }),
  route<IdP, { cursor?: string; limit?: number }>({
    method: 'GET',
    path: '/api/workspaces/:workspace/incidents/:id/tasks',
    operationId: 'incidents.tasks',
    summary: "The incident's tasks (paged)",
    tags,
    access: W('read'),
    params: Id,
    query: S.object(PagingQuery),
    responses: { 200: { description: 'Tasks', schema: page(TaskSchema) }, ...E },
    handler: async (ctx) => pageByIndex(await ctx.ws.incidents.tasks(ctx.params.id), ctx.query),
  }),
  route<IdP, unknown, TaskInput>({
    method: 'POST',
    path: '/api/workspaces/:workspace/incidents/:id/tasks',
    operationId: 'incidents.addTask',
    summary: 'Add a task to an incident',
    tags,
    access: W('triage'),
    params: Id,
    body: S.object(
      {
        title: S.string({ minLength: 1, maxLength: 1024 }),
        description: S.string({ maxLength: 32_768 }),
        assignee: nstr,
      },
      ['title'],
    ),
    responses: { 201: { description: 'The task', schema: TaskSchema }, ...E },
    handler: async (ctx) => {
      ctx.reply.status(201);
      return ctx.ws.incidents.addTask(ctx.params.id, ctx.body, ctx.actor);
    },
  }),
  route<IdP & { taskId: string }, unknown, TaskPatch>({
    method: 'PATCH',
    path: '/api/workspaces/:workspace/incidents/:id/tasks/:taskId',
    operationId: 'incidents.updateTask',
    summary: 'Change a task (status, title, description, assignee)',
    tags,
    access: W('triage'),
    params: S.object({ ...WorkspaceParam, id: str, taskId: str }, ['workspace', 'id', 'taskId']),
    body: S.object({
      title: S.string({ minLength: 1, maxLength: 1024 }),
      description: S.string({ maxLength: 32_768 }),
      status: S.enum(['New', 'Completed']),
      assignee: nstr,
    }),
    responses: { 200: { description: 'The task', schema: TaskSchema }, ...E },
    handler: async (ctx) => ctx.ws.incidents.updateTask(ctx.params.id, ctx.params.taskId, ctx.body, ctx.actor),
  }),
  route<IdP & { taskId: string }>({
    method: 'DELETE',
    path: '/api/workspaces/:workspace/incidents/:id/tasks/:taskId',
    operationId: 'incidents.deleteTask',
    summary: 'Delete a task',
    tags,
    access: W('triage'),
    params: S.object({ ...WorkspaceParam, id: str, taskId: str }, ['workspace', 'id', 'taskId']),
    responses: { 204: { description: 'Deleted' }, ...E },
    handler: async (ctx) => {
      await ctx.ws.incidents.deleteTask(ctx.params.id, ctx.params.taskId, ctx.actor);
      ctx.reply.status(204);
    },
  }),
  route<IdP, unknown, { incidents: (string | number)[]; note?: string }>({
    method: 'POST',
    path: '/api/workspaces/:workspace/incidents/:id/merge',
    operationId: 'incidents.merge',
    summary: 'Merge other incidents into this one',
    tags,
    access: W('triage'),
    params: Id,
    body: S.object(
      {
        incidents: S.array({ anyOf: [{ type: 'string' }, { type: 'integer' }] }, { minItems: 1, maxItems: 100 }),
        note: S.string({ maxLength: 4096 }),
      },
      ['incidents'],
    ),
    responses: {
      200: { description: 'The surviving incident', schema: open },
      ...E,
      409: { description: 'Refused', schema: ErrorSchema },
    },
    handler: async (ctx) => ctx.ws.incidents.merge(ctx.params.id, ctx.body.incidents, ctx.actor, ctx.body.note),
  }),
  route<IdP, unknown, { alertIds: string[]; title?: string; note?: string }>({
    method: 'POST',
    path: '/api/workspaces/:workspace/incidents/:id/split',
    operationId: 'incidents.split',
    summary: 'Move alerts of this incident to a new incident',
    tags,
    access: W('triage'),
    params: Id,
    body: S.object(
      {
        alertIds: S.array(S.string(), { minItems: 1, maxItems: 1000 }),
        title: S.string({ maxLength: 1024 }),
        note: S.string({ maxLength: 4096 }),
      },
      ['alertIds'],
    ),
    responses: { 200: { description: 'Both incidents', schema: open }, ...E },
    handler: async (ctx) =>
      ctx.ws.incidents.split(ctx.params.id, ctx.body.alertIds, ctx.actor, {
        ...(ctx.body.title !== undefined ? { title: ctx.body.title } : {}),
        ...(ctx.body.note !== undefined ? { note: ctx.body.note } : {}),
      }),
  }),
  route<
    { workspace: string },
    { cursor?: string; limit?: number; severity?: string; status?: string; incidentId?: string }
  >({
    method: 'GET',
    path: '/api/workspaces/:workspace/alerts',
    operationId: 'alerts.list',
    summary: 'List alerts, newest first',
    tags: ['Alerts'],
    access: W('read'),
    params: S.object(WorkspaceParam, ['workspace']),
    query: S.object({
      ...PagingQuery,
      severity: S.enum(SEVERITY_BY_RANK),
      status: str,
      incidentId: str,
    }),
    responses: { 200: { description: 'A page of alerts', schema: page(AlertSummarySchema) }, ...E },
    handler: async (ctx) => {
      const q = ctx.query;
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (q.severity) {
        where.push('severity = ?');
        params.push(q.severity);
      }
      if (q.status) {
        where.push('status = ?');
        params.push(q.status);
      }
      if (q.incidentId) {
        where.push('incident_id = ?');
        params.push(q.incidentId);
      }
      if (q.cursor) {
        const [at, id] = JSON.parse(Buffer.from(q.cursor, 'base64url').toString()) as [string, string];
        where.push('(received_at < ? OR (received_at = ? AND alert_id < ?))');
        params.push(at, at, id);
      }
      const limit = Math.min(q.limit ?? 100, 1000);
      const rows = await ctx.ws.state.all<AlertRow>(
        `SELECT * FROM inc_alerts ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
         ORDER BY received_at DESC, alert_id DESC LIMIT ?`,
        [...params, limit + 1],
      );
      const items = rows.slice(0, limit);
      const last = items[items.length - 1];
      return {
        items: items.map(alertSummaryFromRow),
        nextCursor:
          rows.length > limit && last
            ? Buffer.from(JSON.stringify([last.received_at, last.alert_id])).toString('base64url')
            : null,
      };
    },
  }),
  route<{ workspace: string; alertId: string }>({
    method: 'GET',
    path: '/api/workspaces/:workspace/alerts/:alertId',
    operationId: 'alerts.get',
    summary: 'An alert: summary, the normalized alert and why it is in its incident',
    tags: ['Alerts'],
    access: W('read'),
    params: S.object({ ...WorkspaceParam, alertId: str }, ['workspace', 'alertId']),
    responses: {
      200: {
        description: 'The alert',
        schema: S.open({ summary: AlertSummarySchema, alert: open, links: S.array(open) }, ['summary']),
      },
      ...E,
    },
    handler: async (ctx) => {
      const a = await ctx.ws.incidents.alert(ctx.params.alertId);
      if (!a) throw notFound(`alert ${ctx.params.alertId}`);
      return a;
    },
  }),
  route<{ workspace: string }, { after?: number; limit?: number }>({
    method: 'GET',
    path: '/api/workspaces/:workspace/incident-events',
    operationId: 'incidents.events',
    summary: 'The change feed (IncidentCreated, IncidentUpdated, AlertCreated) after a sequence number',
    tags,
    access: W('read'),
    params: S.object(WorkspaceParam, ['workspace']),
    query: S.object({ after: S.integer({ minimum: 0 }), limit: S.integer({ minimum: 1, maximum: 1000 }) }),
    responses: { 200: { description: 'Events; the next cursor is the last seq', schema: page(open) }, ...E },
    handler: async (ctx) => {
      const limit = ctx.query.limit ?? 500;
      const items = await ctx.ws.incidents.events(ctx.query.after ?? 0, limit);
      const last = items[items.length - 1];
      return { items, nextCursor: items.length === limit && last ? String(last.seq) : null };
    },
  }),
  route({
    method: 'GET',
    path: '/api/workspaces/:workspace/incident-settings',
    operationId: 'incidents.settings',
    summary: 'The correlation engine settings',
    tags,
    access: W('read'),
    params: S.object(WorkspaceParam, ['workspace']),
    responses: { 200: { description: 'Settings', schema: S.open({ correlation: open, commonEntities: open }) }, ...E },
    handler: async (ctx) => ctx.ws.incidents.settings(),
  }),
  route<{ workspace: string }, unknown, Record<string, unknown>>({
    method: 'PATCH',
    path: '/api/workspaces/:workspace/incident-settings',
    operationId: 'incidents.updateSettings',
    summary: 'Change the correlation engine settings',
    tags,
    access: W('author'),
    params: S.object(WorkspaceParam, ['workspace']),
    body: S.object({
      correlation: S.object({
        enabled: S.boolean(),
        sharedEntityWindowMs: S.integer({ minimum: 0 }),
        stageWindowMs: S.integer({ minimum: 0 }),
        maxEntitiesPerIncident: S.integer({ minimum: 1 }),
      }),
      commonEntities: S.object({
        share: S.number({ minimum: 0, maximum: 1 }),
        windowMs: S.integer({ minimum: 60_000 }),
        minAlerts: S.integer({ minimum: 1 }),
        excluded: strList,
      }),
    }),
    responses: { 200: { description: 'Settings', schema: open }, ...E },
    handler: async (ctx) => ctx.ws.incidents.updateSettings(ctx.body, ctx.actor),
  }),
];

/** Pages a short list (comments, tasks) by position. */
function pageByIndex<T>(items: readonly T[], q: { cursor?: string; limit?: number }) {
  const start = q.cursor ? Number(Buffer.from(q.cursor, 'base64url').toString()) : 0;
  const n = Math.min(q.limit ?? 100, 1000);
  const slice = items.slice(Number.isFinite(start) ? start : 0, (Number.isFinite(start) ? start : 0) + n);
  const next = start + n;
  return { items: slice, nextCursor: next < items.length ? Buffer.from(String(next)).toString('base64url') : null };
}

export { pageByIndex };
