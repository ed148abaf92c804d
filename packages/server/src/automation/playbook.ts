/**
 * Playbooks: declarative YAML workflows, validated against `PLAYBOOK_SCHEMA` (JSON Schema, also shipped as
 * `content/automation/playbook.schema.json` for editors) and then by meaning — unique step ids, expressions that
 * parse and read only steps that ran before them, durations, known actions, secrets used only where they are sent
 * (URLs, headers and auth of HTTP, notification and ticket steps) so that no secret can end up in a comment.
 *
 * ```yaml
 * id: enrich-incident-ips
 * name: Enrich incident IPs with threat intelligence
 * trigger: { kind: incident }               # incident | alert | entity | manual
 * steps:
 *   - id: per-ip
 *     type: forEach
 *     items: ${{ entities('ip') }}
 *     as: ip
 *     steps:
 *       - id: ti
 *         type: lookupThreatIntel
 *         indicator: ${{ ip.Address }}
 *       - id: note
 *         type: comment
 *         if: ${{ steps.ti.output.found }}
 *         message: "${{ ip.Address }} is a known indicator: ${{ steps.ti.output.matches[0].Description }}"
 *   - id: teams
 *     type: notifyTeams
 *     webhook: ${{ secrets.teamsWebhook }}
 *     title: "Incident ${{ trigger.incident.number }} enriched"
 * ```
 */
import { parseDuration } from '../detect/duration.js';
import { ACTION_NAMES } from './actions.js';
import {
  type Expr,
  ExpressionError,
  hasTemplate,
  parseExpression,
  parseTemplate,
  referencedPaths,
} from './expressions.js';
import type { TriggerKind } from './model.js';
import { ID_PATTERN } from './rules.js';
import { type JsonSchema, validateSchema } from './schema.js';
import { type AutomationDiagnostic, type PathPart, Source } from './source.js';

// ───────────────────────────── definitions ─────────────────────────────

export interface RetryPolicy {
  /** Total attempts (1 = no retry). */
  readonly attempts: number;
  readonly backoffMs: number;
  readonly factor: number;
  readonly maxBackoffMs: number;
}

export interface StepDefinition {
  readonly id: string;
  readonly type: StepType;
  readonly name?: string;
  readonly if?: string | boolean;
  readonly timeout?: string;
  readonly retry?: {
    readonly attempts?: number;
    readonly backoff?: string;
    readonly factor?: number;
    readonly maxBackoff?: string;
  };
  readonly continueOnError?: boolean;
  /** forEach */
  readonly steps?: readonly StepDefinition[];
  readonly [field: string]: unknown;
}

export interface PlaybookDefinition {
  readonly id: string;
  readonly name: string;
  readonly description?: string;
  readonly trigger: { readonly kind: TriggerKind; readonly entityTypes?: readonly string[] };
  readonly inputs?: Readonly<
    Record<
      string,
      {
        readonly type?: 'string' | 'number' | 'boolean';
        readonly required?: boolean;
        readonly default?: unknown;
        readonly description?: string;
      }
    >
  >;
  readonly steps: readonly StepDefinition[];
}

export const STEP_TYPES = [
  'http',
  'kql',
  'lookupThreatIntel',
  'lookupWatchlist',
  'lookupAssetOwner',
  'setVariable',
  'comment',
  'updateIncident',
  'notifyTeams',
  'notifySlack',
  'ticket',
  'approval',
  'responseAction',
  'forEach',
] as const;
export type StepType = (typeof STEP_TYPES)[number];

/** Steps that change something outside the run: they carry an idempotency key and are never blindly repeated. */
export const SIDE_EFFECT_STEPS: ReadonlySet<StepType> = new Set([
  'http',
  'comment',
  'updateIncident',
  'notifyTeams',
  'notifySlack',
  'ticket',
  'approval',
  'responseAction',
]);

/** Fields (paths below a step) where `secrets.*` may be read: the places a secret is sent, never stored. */
const SECRET_FIELDS: Readonly<Partial<Record<StepType, readonly string[]>>> = {
  http: ['url', 'headers', 'query', 'auth'],
  notifyTeams: ['webhook'],
  notifySlack: ['webhook'],
  ticket: ['url', 'headers', 'auth'],
};

export const DEFAULT_STEP_TIMEOUT_MS = 60_000;
export const MAX_LOOP_ITEMS = 500;

// ───────────────────────────── schema ─────────────────────────────

/** `${{ text }}` for descriptions. */
const EXPR = (text: string) => `$${'{{'} ${text} }}`;
const str = (extra: Partial<JsonSchema> = {}): JsonSchema => ({ type: 'string', ...extra });
const expr = (description: string): JsonSchema => ({ description });
const duration: JsonSchema = {
  type: 'string',
  pattern: '^\\d+(\\.\\d+)?\\s*[smhdSMHD]$',
  description: 'a duration: 30s, 5m, 2h, 7d',
};
const stringMap: JsonSchema = { type: 'object', additionalProperties: { type: ['string', 'number', 'boolean'] } };
const auth: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    bearer: str({ description: `a bearer token (use ${EXPR('secrets.name')})` }),
    basic: {
      type: 'object',
      additionalProperties: false,
      required: ['username', 'password'],
      properties: { username: str(), password: str() },
    },
  },
};

const COMMON: Readonly<Record<string, JsonSchema>> = {
  id: str({
    pattern: '^[A-Za-z][A-Za-z0-9_-]{0,63}$',
    description: 'unique in the playbook; steps.<id> reads its output',
  }),
  name: str({ maxLength: 256 }),
  type: str(),
  if: { type: ['string', 'boolean'], description: 'run the step only when this expression is true' },
  timeout: duration,
  retry: {
    type: 'object',
    additionalProperties: false,
    properties: {
      attempts: { type: 'integer', minimum: 1, maximum: 10 },
      backoff: duration,
      factor: { type: 'number', minimum: 1, maximum: 10 },
      maxBackoff: duration,
    },
  },
  continueOnError: { type: 'boolean' },
};

function step(
  type: StepType,
  description: string,
  fields: Record<string, JsonSchema>,
  required: string[] = [],
): JsonSchema {
  return {
    title: type,
    description,
    type: 'object',
    additionalProperties: false,
    required: ['id', 'type', ...required],
    properties: { ...COMMON, type: { const: type }, ...fields },
  };
}

const STEP_SCHEMAS: readonly JsonSchema[] = [
  step(
    'http',
    'an HTTP request (outbound address rules apply)',
    {
      method: { enum: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] },
      url: str({ minLength: 1 }),
      headers: stringMap,
      query: stringMap,
      body: expr('JSON (objects are sent as JSON) or text'),
      auth,
      successStatus: { type: 'array', items: { type: 'integer', minimum: 100, maximum: 599 } },
    },
    ['url'],
  ),
  step(
    'kql',
    'a KQL query over the workspace; parameters are bound as typed `let` statements, never pasted into the text',
    {
      query: str({ minLength: 1 }),
      parameters: { type: 'object', additionalProperties: true },
      maxRows: { type: 'integer', minimum: 1, maximum: 1000 },
    },
    ['query'],
  ),
  step(
    'lookupThreatIntel',
    'look an indicator up in ThreatIntelligenceIndicator and ThreatIntelIndicators',
    {
      indicator: expr('the IP, domain, URL, file hash or email address'),
      indicatorType: { enum: ['auto', 'ip', 'domain', 'url', 'fileHash', 'email'] },
      lookback: duration,
      maxMatches: { type: 'integer', minimum: 1, maximum: 100 },
    },
    ['indicator'],
  ),
  step(
    'lookupWatchlist',
    "look a key up in a watchlist (by the watchlist's search key)",
    { watchlist: str({ minLength: 1 }), key: expr('the value to look up') },
    ['watchlist', 'key'],
  ),
  step(
    'lookupAssetOwner',
    'find who owns a device or account: DeviceInfo (last logged-on user), IdentityInfo, or a watchlist',
    {
      asset: expr('a host name, device id, account (UPN, name, SID) or an entity'),
      assetType: { enum: ['auto', 'host', 'account'] },
      sources: { type: 'array', minItems: 1, items: { enum: ['deviceInfo', 'identityInfo', 'watchlist'] } },
      watchlist: str(),
      ownerField: str(),
      lookback: duration,
    },
    ['asset'],
  ),
  step(
    'setVariable',
    'set vars.<name>',
    { variable: str({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }), value: expr('any value') },
    ['variable', 'value'],
  ),
  step('comment', "add a comment to the trigger's incident", { message: str({ minLength: 1 }) }, ['message']),
  step('updateIncident', "change the trigger's incident", {
    severity: str(),
    status: str(),
    classification: str(),
    classificationReason: str(),
    classificationComment: str(),
    owner: { type: ['string', 'object'] },
    addTags: { type: ['array', 'string'] },
    removeTags: { type: ['array', 'string'] },
    title: str(),
    description: str(),
  }),
  step(
    'notifyTeams',
    'post to a Microsoft Teams incoming webhook (Adaptive Card, or the legacy MessageCard)',
    {
      webhook: str({ minLength: 1 }),
      title: str(),
      text: str(),
      facts: { type: ['object', 'string'] },
      link: { type: 'object', additionalProperties: false, properties: { title: str(), url: str() } },
      format: { enum: ['adaptiveCard', 'messageCard'] },
      themeColor: str(),
    },
    ['webhook'],
  ),
  step(
    'notifySlack',
    'post to a Slack incoming webhook (text and Block Kit blocks)',
    {
      webhook: str({ minLength: 1 }),
      text: str({ minLength: 1 }),
      title: str(),
      fields: { type: ['object', 'string'] },
      link: { type: 'object', additionalProperties: false, properties: { title: str(), url: str() } },
    },
    ['webhook', 'text'],
  ),
  step(
    'ticket',
    "open a ticket: a generic JSON webhook, or Jira's REST create-issue call",
    {
      system: { enum: ['webhook', 'jira'] },
      url: str({ minLength: 1 }),
      headers: stringMap,
      auth,
      title: str({ minLength: 1 }),
      description: str(),
      project: str(),
      issueType: str(),
      priority: str(),
      labels: { type: ['array', 'string'] },
      fields: { type: 'object', additionalProperties: true },
    },
    ['system', 'url', 'title'],
  ),
  step(
    'approval',
    'wait until a person approves (or rejects) in the API; expires after `expiresIn` (default 7d)',
    { title: str({ minLength: 1 }), description: str(), expiresIn: duration, continueOnReject: { type: 'boolean' } },
    ['title'],
  ),
  step(
    'responseAction',
    'run a response action through its adapter; waits for approval unless the action’s policy is automatic',
    {
      action: { enum: [...ACTION_NAMES] },
      target: expr('the target id, or {type, id, details}'),
      parameters: { type: 'object', additionalProperties: true },
      title: str(),
      description: str(),
      expiresIn: duration,
      continueOnReject: { type: 'boolean' },
    },
    ['action', 'target'],
  ),
  step(
    'forEach',
    'run steps once per item (e.g. each entity); steps inside read the item by its `as` name',
    {
      items: expr('a list'),
      as: str({ pattern: '^[A-Za-z_][A-Za-z0-9_]*$' }),
      maxItems: { type: 'integer', minimum: 1, maximum: MAX_LOOP_ITEMS },
      steps: { type: 'array', minItems: 1, items: { $ref: '#/$defs/step' } },
    },
    ['items', 'steps'],
  ),
];

export const PLAYBOOK_SCHEMA: JsonSchema = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://vigil.dev/schemas/playbook.schema.json',
  title: 'Vigil playbook',
  description: `A declarative automation workflow: a trigger and ordered steps. Strings may hold ${EXPR('expressions')}.`,
  type: 'object',
  additionalProperties: false,
  required: ['id', 'name', 'trigger', 'steps'],
  properties: {
    id: str({ pattern: ID_PATTERN.source }),
    name: str({ minLength: 1, maxLength: 256 }),
    description: str(),
    trigger: {
      type: 'object',
      additionalProperties: false,
      required: ['kind'],
      properties: {
        kind: { enum: ['incident', 'alert', 'entity', 'manual'] },
        entityTypes: { type: 'array', items: str() },
      },
    },
    inputs: {
      type: 'object',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        properties: {
          type: { enum: ['string', 'number', 'boolean'] },
          required: { type: 'boolean' },
          default: {},
          description: str(),
        },
      },
    },
    steps: { type: 'array', minItems: 1, items: { $ref: '#/$defs/step' } },
  },
  $defs: { step: { oneOf: STEP_SCHEMAS } },
};

// ───────────────────────────── semantic checks ─────────────────────────────

export interface ParsedPlaybook {
  readonly playbook: PlaybookDefinition | null;
  readonly diagnostics: readonly AutomationDiagnostic[];
  /** The secrets the playbook reads. */
  readonly secrets: readonly string[];
}

const ROOTS = new Set(['trigger', 'steps', 'vars', 'run', 'secrets', 'inputs']);

interface Scope {
  /** Step ids that may be read (ran before, in this or an enclosing block). */
  readonly steps: Set<string>;
  /** Loop variable names. */
  readonly loopVars: Set<string>;
}

class Checker {
  readonly secrets = new Set<string>();
  private readonly ids = new Map<string, PathPart[]>();
  /** Every step id of the playbook (to tell "later" from "unknown"). */
  private readonly allIds = new Set<string>();

  constructor(private readonly src: Source) {}

  run(p: PlaybookDefinition): void {
    const collect = (steps: readonly StepDefinition[]) => {
      for (const s of steps) {
        this.allIds.add(s.id);
        if (Array.isArray(s.steps)) collect(s.steps);
      }
    };
    collect(p.steps);
    this.block(p.steps, ['steps'], { steps: new Set(), loopVars: new Set() });
    if (p.trigger.kind !== 'entity' && p.trigger.entityTypes)
      this.src.error('playbook.trigger', 'entityTypes applies to the entity trigger', ['trigger', 'entityTypes']);
  }

  private block(steps: readonly StepDefinition[], path: PathPart[], outer: Scope): void {
    const scope: Scope = { steps: new Set(outer.steps), loopVars: outer.loopVars };
    for (const [i, s] of steps.entries()) {
      const sp = [...path, i];
      const seen = this.ids.get(s.id);
      if (seen) this.src.error('playbook.duplicate-id', `step id '${s.id}' is already used`, [...sp, 'id']);
      else this.ids.set(s.id, sp);
      this.step(s, sp, scope);
      scope.steps.add(s.id);
    }
  }

  private step(s: StepDefinition, path: PathPart[], scope: Scope): void {
    for (const k of ['timeout', 'expiresIn', 'lookback'] as const) {
      const v = s[k];
      if (typeof v === 'string' && parseDuration(v) === null)
        this.src.error('playbook.duration', `'${v}' is not a duration`, [...path, k]);
    }
    if (s.retry) {
      for (const k of ['backoff', 'maxBackoff'] as const) {
        const v = s.retry[k];
        if (typeof v === 'string' && parseDuration(v) === null)
          this.src.error('playbook.duration', `'${v}' is not a duration`, [...path, 'retry', k]);
      }
    }
    if (s.type === 'approval' || s.type === 'responseAction') {
      const ms = typeof s.expiresIn === 'string' ? parseDuration(s.expiresIn) : null;
      if (ms !== null && ms > 30 * 86_400_000)
        this.src.error('playbook.expiry', 'an approval waits at most 30 days', [...path, 'expiresIn']);
    }
    if (s.type === 'kql' && typeof s.query === 'string' && hasTemplate(s.query))
      this.src.error(
        'playbook.kql-template',
        'expressions are not pasted into KQL (injection): pass them as `parameters` and use the names in the query',
        [...path, 'query'],
      );
    if (s.type === 'kql' && s.parameters && typeof s.parameters === 'object')
      for (const k of Object.keys(s.parameters))
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
          this.src.error('playbook.kql-parameter', `'${k}' is not a KQL identifier`, [...path, 'parameters', k]);
    if (s.type === 'ticket' && s.system === 'jira' && !s.project)
      this.src.error('playbook.jira', "a Jira ticket needs the project key ('project')", [...path]);
    if (s.type === 'lookupAssetOwner' && Array.isArray(s.sources) && s.sources.includes('watchlist') && !s.watchlist)
      this.src.error('playbook.watchlist', "the watchlist source needs 'watchlist' (its alias)", [...path]);
    if (s.type === 'forEach' && typeof s.as === 'string' && ROOTS.has(s.as))
      this.src.error('playbook.loop-variable', `'${s.as}' is a reserved name`, [...path, 'as']);

    // Expressions: every string field except the nested steps of a loop.
    for (const [k, v] of Object.entries(s)) {
      if (k === 'steps' || k === 'id' || k === 'type') continue;
      if (k === 'if') this.condition(v, [...path, 'if'], scope, s.type);
      else this.values(v, [...path, k], scope, s.type, k);
    }
    if (s.type === 'forEach' && Array.isArray(s.steps)) {
      const loopVar = typeof s.as === 'string' ? s.as : 'item';
      // `index` is the position of the item in the loop.
      this.block(s.steps, [...path, 'steps'], {
        steps: scope.steps,
        loopVars: new Set([...scope.loopVars, loopVar, 'index']),
      });
    }
  }

  private condition(v: unknown, path: PathPart[], scope: Scope, type: StepType): void {
    if (typeof v !== 'string') return;
    if (hasTemplate(v)) {
      this.values(v, path, scope, type, 'if');
      return;
    }
    try {
      this.references(parseExpression(v), path, scope, type, 'if');
    } catch (e) {
      if (e instanceof ExpressionError) this.exprError(path, e, 0);
      else throw e;
    }
  }

  private values(v: unknown, path: PathPart[], scope: Scope, type: StepType, field: string): void {
    if (typeof v === 'string') {
      if (!hasTemplate(v)) return;
      try {
        for (const part of parseTemplate(v))
          if (typeof part !== 'string') this.references(part.expr, path, scope, type, field);
      } catch (e) {
        if (e instanceof ExpressionError) this.exprError(path, e, 0);
        else throw e;
      }
      return;
    }
    if (Array.isArray(v)) {
      for (const [i, x] of v.entries()) this.values(x, [...path, i], scope, type, field);
    } else if (v && typeof v === 'object')
      for (const [k, x] of Object.entries(v)) this.values(x, [...path, k], scope, type, field);
  }

  private exprError(path: PathPart[], e: ExpressionError, _base: number): void {
    // Point into the string when its source text shows the expression unescaped (plain or quoted scalars).
    const at = this.src.scalarStart(path);
    const [start, end] = this.src.range(path);
    if (at) {
      const quoted = at.raw.startsWith('"') || at.raw.startsWith("'") ? 1 : 0;
      const offset = at.start + quoted + e.offset;
      this.src.report('error', 'expression.syntax', e.message, path, Math.min(offset, end), Math.min(offset + 1, end));
      return;
    }
    this.src.report('error', 'expression.syntax', e.message, path, start, end);
  }

  private references(e: Expr, path: PathPart[], scope: Scope, type: StepType, field: string): void {
    for (const ref of referencedPaths(e)) {
      const [root, second] = ref;
      if (root === undefined) continue;
      if (scope.loopVars.has(root)) continue;
      if (!ROOTS.has(root)) {
        this.src.error(
          'expression.name',
          `unknown name '${root}' (trigger, steps, vars, inputs, run, secrets${scope.loopVars.size ? `, ${[...scope.loopVars].join(', ')}` : ''})`,
          path,
        );
        continue;
      }
      if (root === 'steps' && second !== undefined && !scope.steps.has(second)) {
        this.src.error(
          'expression.step',
          this.allIds.has(second)
            ? `step '${second}' has not run yet at this point`
            : `no step '${second}' in this playbook`,
          path,
        );
      }
      if (root === 'secrets') {
        if (second === undefined) this.src.error('expression.secret', 'read one secret: secrets.<name>', path);
        else this.secrets.add(second);
        if (!(SECRET_FIELDS[type] ?? []).includes(field))
          this.src.error(
            'playbook.secret-use',
            `secrets can only be used where they are sent (${Object.entries(SECRET_FIELDS)
              .map(([t, f]) => `${t}: ${f?.join('/')}`)
              .join('; ')}), so that they never reach comments, tickets or run history`,
            path,
          );
      }
    }
  }
}

/** Parses and validates a playbook (YAML or JSON text). */
export function parsePlaybook(text: string): ParsedPlaybook {
  const src = new Source(text);
  if (!src.ok) return { playbook: null, diagnostics: src.diagnostics, secrets: [] };
  for (const e of validateSchema(src.value, PLAYBOOK_SCHEMA)) src.error('schema', e.message, e.path);
  if (!src.ok) return { playbook: null, diagnostics: src.diagnostics, secrets: [] };
  const p = src.value as PlaybookDefinition;
  const checker = new Checker(src);
  checker.run(p);
  return { playbook: src.ok ? p : null, diagnostics: src.diagnostics, secrets: [...checker.secrets].sort() };
}

export function retryPolicy(s: StepDefinition): RetryPolicy {
  const r = s.retry ?? {};
  const attempts = r.attempts ?? (SIDE_EFFECT_STEPS.has(s.type) && s.type !== 'approval' ? 3 : 1);
  return {
    attempts: s.type === 'approval' ? 1 : attempts,
    backoffMs: (r.backoff ? parseDuration(r.backoff) : null) ?? 1000,
    factor: r.factor ?? 2,
    maxBackoffMs: (r.maxBackoff ? parseDuration(r.maxBackoff) : null) ?? 60_000,
  };
}

export function stepTimeoutMs(s: StepDefinition): number {
  return (typeof s.timeout === 'string' ? parseDuration(s.timeout) : null) ?? DEFAULT_STEP_TIMEOUT_MS;
}
