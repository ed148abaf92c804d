/**
 * The automation HTTP API (Fastify plugin under `/api/automation`): rules, task lists, playbooks and their
 * versions, runs (start, history with steps and logs, abort, re-run), approvals (approve / reject), action
 * policies, secrets (write-only), watchlists, and the playbook JSON schema. Bodies may be YAML or JSON. Errors are
 * `{error: {code, message, details?}}`; definitions with errors answer 400 with their diagnostics.
 *
 * Who is calling: `identify(request)` (default: the `x-vigil-user` header as an analyst) until the API's
 * authentication (RBAC) exists; approving, rejecting and changing policies need an identified person.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parse as parseYaml } from 'yaml';
import type { Actor } from '../incidents/model.js';
import type { ApprovalStatus, PolicyMode, RunStatus } from './model.js';
import { PLAYBOOK_SCHEMA } from './playbook.js';
import type { TriggerInput } from './runtime.js';
import type { AutomationService } from './service.js';
import { type AutomationDiagnostic, AutomationError } from './source.js';

export interface AutomationApiOptions {
  /** Who makes the request (null: anonymous, refused where a person is needed). */
  readonly identify?: (request: FastifyRequest) => Actor | null;
  readonly prefix?: string;
}

const defaultIdentify = (request: FastifyRequest): Actor | null => {
  const user = request.headers['x-vigil-user'];
  const id = Array.isArray(user) ? user[0] : user;
  return id?.trim() ? { type: 'analyst', id: id.trim(), name: id.trim() } : null;
};

function bodyText(request: FastifyRequest): string {
  const b = request.body;
  if (b === undefined || b === null) return '';
  if (Buffer.isBuffer(b)) return b.toString('utf8');
  if (typeof b === 'string') return b;
  return JSON.stringify(b);
}

/** The body as a value (JSON or YAML). */
function bodyValue(request: FastifyRequest): Record<string, unknown> {
  const text = bodyText(request).trim();
  if (!text) return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    try {
      v = parseYaml(text);
    } catch {
      throw new AutomationError('invalid', 'the body is not JSON or YAML');
    }
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new AutomationError('invalid', 'the body is an object');
  return v as Record<string, unknown>;
}

function invalid(message: string, diagnostics: readonly AutomationDiagnostic[]): AutomationError {
  return new AutomationError('invalid', message, diagnostics);
}

export async function registerAutomationRoutes(
  app: FastifyInstance,
  automation: AutomationService,
  options: AutomationApiOptions = {},
): Promise<void> {
  const identify = options.identify ?? defaultIdentify;
  const person = (request: FastifyRequest): Actor => {
    const a = identify(request);
    if (!a) throw new AutomationError('forbidden', 'identify yourself (x-vigil-user) to do this');
    return a;
  };
  const actorOf = (request: FastifyRequest): Actor => identify(request) ?? { type: 'system', id: 'api', name: 'API' };

  await app.register(
    async (api) => {
      // Raw bodies, whatever the content type: YAML and JSON are parsed here.
      api.removeAllContentTypeParsers();
      api.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

      api.setErrorHandler((error: Error & { statusCode?: number }, _request, reply: FastifyReply) => {
        if (error instanceof AutomationError)
          return reply.status(error.status).send({
            error: {
              code: error.code,
              message: error.message,
              ...(error.diagnostics.length ? { details: { diagnostics: error.diagnostics } } : {}),
            },
          });
        const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
        return reply
          .status(status)
          .send({ error: { code: status === 500 ? 'internal' : 'bad_request', message: error.message } });
      });

      // ── rules ──
      api.get('/rules', async () => ({ rules: await automation.listRules() }));
      api.get<{ Params: { id: string } }>('/rules/:id', async (req) => {
        const r = await automation.getRule(req.params.id);
        if (!r) throw new AutomationError('not_found', `no automation rule '${req.params.id}'`);
        return r;
      });
      api.post('/rules/validate', async (req) => {
        const r = await automation.validateRule(bodyText(req));
        return { ok: r.value !== null, diagnostics: r.diagnostics };
      });
      api.put<{ Params: { id: string } }>('/rules/:id', async (req) => {
        const r = await automation.putRule(bodyText(req), actorOf(req), req.params.id);
        if (!r.value) throw invalid('the rule has errors', r.diagnostics);
        return { rule: r.value, diagnostics: r.diagnostics };
      });
      api.post<{ Params: { id: string; state: string } }>('/rules/:id/:state(enable|disable)', async (req) =>
        automation.setRuleEnabled(req.params.id, req.params.state === 'enable', actorOf(req)),
      );
      api.delete<{ Params: { id: string } }>('/rules/:id', async (req, reply) => {
        if (!(await automation.deleteRule(req.params.id)))
          throw new AutomationError('not_found', `no automation rule '${req.params.id}'`);
        return reply.status(204).send();
      });
      api.get<{ Params: { id: string }; Querystring: { limit?: string } }>('/rules/:id/executions', async (req) => ({
        executions: await automation.ruleExecutions({ ruleId: req.params.id, limit: Number(req.query.limit ?? 100) }),
      }));

      // ── task lists ──
      api.get('/task-lists', async () => ({ taskLists: await automation.taskLists() }));
      api.put<{ Params: { id: string } }>('/task-lists/:id', async (req) => {
        const r = await automation.putTaskList(bodyText(req));
        if (!r.value) throw invalid('the task list has errors', r.diagnostics);
        if (r.value.id !== req.params.id) throw new AutomationError('invalid', `the list's id is '${r.value.id}'`);
        return r.value;
      });
      api.delete<{ Params: { id: string } }>('/task-lists/:id', async (req, reply) => {
        if (!(await automation.deleteTaskList(req.params.id)))
          throw new AutomationError('not_found', `no task list '${req.params.id}'`);
        return reply.status(204).send();
      });

      // ── playbooks ──
      api.get('/schema/playbook', async () => PLAYBOOK_SCHEMA);
      api.get('/playbooks', async () => ({ playbooks: await automation.listPlaybooks() }));
      api.post('/playbooks/validate', async (req) => {
        const r = await automation.validatePlaybook(bodyText(req));
        return { ok: !r.diagnostics.some((d) => d.severity === 'error'), diagnostics: r.diagnostics };
      });
      api.get<{ Params: { id: string }; Querystring: { version?: string } }>('/playbooks/:id', async (req) => {
        const version = req.query.version !== undefined ? Number(req.query.version) : undefined;
        const p = await automation.getPlaybook(req.params.id, version);
        if (!p)
          throw new AutomationError(
            'not_found',
            `no playbook '${req.params.id}'${version ? ` version ${version}` : ''}`,
          );
        return p;
      });
      api.get<{ Params: { id: string } }>('/playbooks/:id/versions', async (req) => ({
        versions: await automation.playbookVersions(req.params.id),
      }));
      api.put<{ Params: { id: string } }>('/playbooks/:id', async (req) => {
        const r = await automation.putPlaybook(bodyText(req), actorOf(req), req.params.id);
        if (!r.value) throw invalid('the playbook has errors', r.diagnostics);
        return { playbook: r.value, diagnostics: r.diagnostics };
      });
      api.post<{ Params: { id: string; state: string } }>(
        '/playbooks/:id/:state(enable|disable)',
        async (req, reply) => {
          await automation.setPlaybookEnabled(req.params.id, req.params.state === 'enable');
          return reply.status(204).send();
        },
      );
      api.delete<{ Params: { id: string } }>('/playbooks/:id', async (req, reply) => {
        if (!(await automation.deletePlaybook(req.params.id)))
          throw new AutomationError('not_found', `no playbook '${req.params.id}'`);
        return reply.status(204).send();
      });
      api.post<{ Params: { id: string } }>('/playbooks/:id/runs', async (req, reply) => {
        const b = bodyValue(req);
        const inputs = (b.inputs && typeof b.inputs === 'object' ? b.inputs : {}) as Record<string, unknown>;
        const incidentId =
          typeof b.incidentId === 'string' || typeof b.incidentId === 'number' ? b.incidentId : undefined;
        const trigger: TriggerInput =
          typeof b.alertId === 'string'
            ? { kind: 'alert', alertId: b.alertId, inputs }
            : b.entity && typeof b.entity === 'object'
              ? {
                  kind: 'entity',
                  entity: b.entity as Record<string, unknown>,
                  inputs,
                  ...(incidentId !== undefined ? { incidentId } : {}),
                }
              : b.kind === 'manual' || incidentId === undefined
                ? { kind: 'manual', inputs, ...(incidentId !== undefined ? { incidentId } : {}) }
                : { kind: 'incident', incidentId, inputs };
        const run = await automation.startRun(req.params.id, trigger, person(req), {
          ...(typeof b.idempotencyKey === 'string' ? { idempotencyKey: b.idempotencyKey } : {}),
        });
        return reply.status(202).send(run);
      });

      // ── runs ──
      api.get<{
        Querystring: { playbookId?: string; incidentId?: string; status?: string; cursor?: string; limit?: string };
      }>('/runs', async (req) => {
        const q = req.query;
        return automation.runs({
          ...(q.playbookId ? { playbookId: q.playbookId } : {}),
          ...(q.incidentId ? { incidentId: q.incidentId } : {}),
          ...(q.status ? { status: q.status as RunStatus } : {}),
          ...(q.cursor ? { cursor: q.cursor } : {}),
          ...(q.limit ? { limit: Number(q.limit) } : {}),
        });
      });
      api.get<{ Params: { id: string } }>('/runs/:id', async (req) => {
        const r = await automation.run(req.params.id);
        if (!r) throw new AutomationError('not_found', `no run ${req.params.id}`);
        return r;
      });
      api.post<{ Params: { id: string } }>('/runs/:id/abort', async (req) =>
        automation.abortRun(req.params.id, person(req)),
      );
      api.post<{ Params: { id: string } }>('/runs/:id/rerun', async (req, reply) => {
        const b = bodyValue(req);
        return reply
          .status(202)
          .send(await automation.rerun(req.params.id, person(req), { sameVersion: b.sameVersion === true }));
      });

      // ── approvals ──
      api.get<{ Querystring: { status?: string; incidentId?: string; runId?: string; limit?: string } }>(
        '/approvals',
        async (req) => {
          const q = req.query;
          return {
            approvals: await automation.listApprovals({
              ...(q.status ? { status: q.status as ApprovalStatus } : {}),
              ...(q.incidentId ? { incidentId: q.incidentId } : {}),
              ...(q.runId ? { runId: q.runId } : {}),
              ...(q.limit ? { limit: Number(q.limit) } : {}),
            }),
          };
        },
      );
      api.get<{ Params: { id: string } }>('/approvals/:id', async (req) => {
        const a = await automation.getApproval(req.params.id);
        if (!a) throw new AutomationError('not_found', `no approval request ${req.params.id}`);
        return a;
      });
      api.post<{ Params: { id: string; decision: string } }>(
        '/approvals/:id/:decision(approve|reject)',
        async (req) => {
          const b = bodyValue(req);
          const comment = typeof b.comment === 'string' ? b.comment : null;
          return req.params.decision === 'approve'
            ? automation.approve(req.params.id, person(req), comment)
            : automation.reject(req.params.id, person(req), comment);
        },
      );

      // ── actions and policies ──
      api.get('/actions', async () => ({ actions: automation.actionCatalog() }));
      api.put<{ Params: { action: string } }>('/actions/:action/policy', async (req) => {
        const b = bodyValue(req);
        const expiryMs =
          typeof b.expiryMs === 'number'
            ? b.expiryMs
            : typeof b.expiryDays === 'number'
              ? b.expiryDays * 86_400_000
              : undefined;
        return automation.setPolicy(
          req.params.action,
          { mode: b.mode as PolicyMode, ...(expiryMs !== undefined ? { expiryMs } : {}) },
          person(req),
        );
      });

      // ── secrets (write-only) ──
      api.get('/secrets', async () => ({ secrets: await automation.secrets.list() }));
      api.put<{ Params: { name: string } }>('/secrets/:name', async (req, reply) => {
        const b = bodyValue(req);
        if (typeof b.value !== 'string') throw new AutomationError('invalid', 'the body is {"value": "..."}');
        await automation.secrets.set(req.params.name, b.value, person(req));
        return reply.status(204).send();
      });
      api.delete<{ Params: { name: string } }>('/secrets/:name', async (req, reply) => {
        person(req);
        if (!(await automation.secrets.delete(req.params.name)))
          throw new AutomationError('not_found', `no secret '${req.params.name}'`);
        return reply.status(204).send();
      });

      // ── watchlists ──
      api.get('/watchlists', async () => ({ watchlists: await automation.watchlists() }));
      api.put<{ Params: { alias: string } }>('/watchlists/:alias', async (req, reply) => {
        const b = bodyValue(req);
        await automation.putWatchlist(
          {
            alias: req.params.alias,
            ...(typeof b.name === 'string' ? { name: b.name } : {}),
            searchKey: String(b.searchKey ?? ''),
            items: (Array.isArray(b.items) ? b.items : []) as Record<string, unknown>[],
          },
          actorOf(req),
        );
        return reply.status(204).send();
      });
      api.get<{ Params: { alias: string }; Querystring: { key?: string; limit?: string } }>(
        '/watchlists/:alias/items',
        async (req) => ({
          items: await automation.watchlistItems(
            req.params.alias,
            req.query.key ?? null,
            Number(req.query.limit ?? 100),
          ),
        }),
      );
      api.delete<{ Params: { alias: string } }>('/watchlists/:alias', async (req, reply) => {
        if (!(await automation.deleteWatchlist(req.params.alias)))
          throw new AutomationError('not_found', `no watchlist '${req.params.alias}'`);
        return reply.status(204).send();
      });
    },
    { prefix: options.prefix ?? '/api/automation' },
  );
}
