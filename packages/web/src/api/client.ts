/**
 * The console's typed client of Vigil's REST API. Every call goes through `request`: JSON in and out, the session
 * cookie of the same origin, errors `{error: {code, message, details?}}` turned into `ApiError`. Workspace resources
 * live under `/api/workspaces/{name}`; `paths` is the one place that spells the API's routes.
 */
import type {
  Approval,
  AutomationRule,
  Comment,
  Connector,
  Diagnostic,
  Incident,
  IncidentDetail,
  IncidentEvent,
  IncidentGraph,
  IncidentLink,
  IncidentPatch,
  Me,
  Member,
  Page,
  PlaybookDetail,
  PlaybookRun,
  PlaybookSummary,
  PriceSettings,
  QueryDiagnostic,
  QueryResult,
  Role,
  RuleDiagnostic,
  RuleImportResult,
  RuleRun,
  RunDetail,
  SavedQuery,
  SimulatedAlert,
  StoredRule,
  TableInfo,
  Task,
  UsageReport,
  Workspace,
} from './types.js';

export class ApiError extends Error {
  override readonly name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }

  /** Query diagnostics carried by a 400 answer to a query (`details.diagnostics`). */
  get diagnostics(): QueryDiagnostic[] {
    const d = (this.details as { diagnostics?: unknown } | undefined)?.diagnostics;
    return Array.isArray(d) ? (d as QueryDiagnostic[]) : [];
  }
}

export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

/** Query-string parameters: arrays as comma-separated values (the API's form); undefined and empty are left out. */
export function queryString(
  params: Readonly<Record<string, string | number | boolean | readonly string[] | undefined>>,
) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined || v === '') continue;
    if (Array.isArray(v)) {
      if (v.length) q.append(k, v.join(','));
    } else q.append(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

const enc = encodeURIComponent;

export class ApiClient {
  /** The workspace every workspace-scoped call addresses (its URL name). */
  workspace = 'default';
  /** Called when the server answers 401: the console shows the sign-in page. */
  onUnauthorized: (() => void) | null = null;

  constructor(
    private readonly base = '',
    private readonly fetcher: Fetch = (input, init) => fetch(input, init),
  ) {}

  private ws(path: string): string {
    return `/api/workspaces/${enc(this.workspace)}${path}`;
  }

  private readonly early = new Map<string, { readonly at: number; readonly response: Promise<Response> }>();

  /**
   * Starts a GET that the first screen will make, before React has rendered it (a first load then waits for one
   * round trip less). The page's own `request` for the same path takes the answer over, once, within 10 s.
   */
  prefetch(path: string): void {
    const response = this.fetcher(`${this.base}${path}`, {
      method: 'GET',
      credentials: 'same-origin',
      headers: { accept: 'application/json', 'x-requested-with': 'vigil-console' },
    });
    response.catch(() => undefined);
    this.early.set(path, { at: Date.now(), response });
  }

  /** The path of the queue's first page for a URL search (what the incidents page asks first). */
  incidentsPath(params: Readonly<Record<string, string | number | boolean | readonly string[] | undefined>>) {
    return this.ws(`/incidents${queryString(params)}`);
  }

  async request<T>(method: string, path: string, body?: unknown, init: RequestInit = {}): Promise<T> {
    // X-Requested-With: the server accepts cookie-authenticated changes only with it (no cross-site form sets it).
    const headers: Record<string, string> = { accept: 'application/json', 'x-requested-with': 'vigil-console' };
    if (body !== undefined) headers['content-type'] = typeof body === 'string' ? 'text/plain' : 'application/json';
    const early = method === 'GET' && body === undefined && !init.signal ? this.early.get(path) : undefined;
    if (early) this.early.delete(path);
    // A prefetched answer is used only when it succeeded (not, e.g., a 401 from before signing in).
    let response: Response | null = null;
    if (early && Date.now() - early.at < 10_000) {
      const r = await early.response.catch(() => null);
      if (r?.ok) response = r;
    }
    response ??= await this.fetcher(`${this.base}${path}`, {
      method,
      credentials: 'same-origin',
      ...init,
      headers: { ...headers, ...(init.headers as Record<string, string> | undefined) },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    });
    if (response.status === 204) return undefined as T;
    const text = await response.text();
    let json: unknown = null;
    if (text) {
      try {
        json = JSON.parse(text);
      } catch {
        json = null;
      }
    }
    if (!response.ok) {
      if (response.status === 401) this.onUnauthorized?.();
      const e = (json as { error?: { code?: string; message?: string; details?: unknown } } | null)?.error;
      throw new ApiError(
        response.status,
        e?.code ?? `http_${response.status}`,
        e?.message ?? (text.slice(0, 300) || response.statusText),
        e?.details,
      );
    }
    return json as T;
  }

  // ───────────── session ─────────────
  login(name: string, password: string) {
    return this.request<{ token: string; expiresAt: string; user: Me['user'] }>('POST', '/api/auth/login', {
      name,
      password,
    });
  }
  logout() {
    return this.request<void>('POST', '/api/auth/logout');
  }
  me() {
    return this.request<Me>('GET', '/api/auth/me');
  }
  workspaces() {
    return this.request<Page<Workspace>>('GET', '/api/workspaces');
  }

  // ───────────── incidents ─────────────
  incidents(params: Readonly<Record<string, string | number | boolean | readonly string[] | undefined>>) {
    return this.request<Page<Incident>>('GET', this.incidentsPath(params));
  }
  incident(id: string | number) {
    return this.request<IncidentDetail>('GET', this.ws(`/incidents/${enc(String(id))}`));
  }
  graph(id: string) {
    return this.request<IncidentGraph>('GET', this.ws(`/incidents/${enc(id)}/graph?limit=300`));
  }
  links(id: string, cursor: string | null = null) {
    return this.request<Page<IncidentLink>>(
      'GET',
      this.ws(`/incidents/${enc(id)}/links${queryString({ cursor: cursor ?? undefined, limit: 200 })}`),
    );
  }
  updateIncident(id: string, patch: IncidentPatch, version?: number) {
    return this.request<Incident>(
      'PATCH',
      this.ws(`/incidents/${enc(id)}`),
      patch,
      version !== undefined ? { headers: { 'if-match': `"${version}"` } } : {},
    );
  }
  bulkUpdate(ids: readonly string[], patch: IncidentPatch) {
    return this.request<{ results: { id: string; ok: boolean; error?: string }[] }>(
      'POST',
      this.ws('/incidents/bulk'),
      { ids, patch },
    );
  }
  addComment(id: string, message: string) {
    return this.request<Comment>('POST', this.ws(`/incidents/${enc(id)}/comments`), { message });
  }
  addTask(id: string, title: string) {
    return this.request<Task>('POST', this.ws(`/incidents/${enc(id)}/tasks`), { title });
  }
  updateTask(id: string, taskId: string, patch: { status?: 'New' | 'Completed' }) {
    return this.request<Task>('PATCH', this.ws(`/incidents/${enc(id)}/tasks/${enc(taskId)}`), patch);
  }
  incidentEvents(after: number) {
    return this.request<{ items: IncidentEvent[]; last?: number }>(
      'GET',
      this.ws(`/incident-events${queryString({ after, limit: 500 })}`),
    );
  }

  // ───────────── hunting ─────────────
  /**
   * Runs KQL. Aborting the signal closes the request, which cancels the query on the server; the query id also
   * lets another tab cancel it (`cancelQuery`).
   */
  query(
    text: string,
    signal?: AbortSignal,
    options: { maxRows?: number; timespan?: string; pageSize?: number; queryId?: string } = {},
  ) {
    return this.request<QueryResult>(
      'POST',
      this.ws('/query'),
      { query: text, pageSize: 50_000, ...options },
      signal ? { signal } : {},
    );
  }
  cancelQuery(queryId: string) {
    return this.request<unknown>('POST', this.ws(`/queries/${enc(queryId)}/cancel`));
  }
  /** Every table (the API pages; a workspace has a few hundred at most). */
  async tables(): Promise<TableInfo[]> {
    const out: TableInfo[] = [];
    let cursor: string | null = null;
    do {
      const p: Page<TableInfo> = await this.request(
        'GET',
        this.ws(`/tables${queryString({ limit: 500, cursor: cursor ?? undefined })}`),
      );
      out.push(...p.items);
      cursor = p.nextCursor;
    } while (cursor);
    return out;
  }
  savedQueries() {
    return this.request<Page<SavedQuery>>('GET', this.ws('/saved-queries?limit=500'));
  }
  saveQuery(q: { name: string; query: string; description?: string; visibility?: 'shared' | 'private' }) {
    return this.request<SavedQuery>('POST', this.ws('/saved-queries'), q);
  }
  deleteSavedQuery(id: string) {
    return this.request<void>('DELETE', this.ws(`/saved-queries/${enc(id)}`));
  }

  // ───────────── analytics rules ─────────────
  rules() {
    return this.request<Page<StoredRule>>('GET', this.ws('/rules?limit=1000'));
  }
  rule(id: string) {
    return this.request<StoredRule>('GET', this.ws(`/rules/${enc(id)}`));
  }
  importRules(yaml: string, options: { enabled?: boolean } = {}) {
    return this.request<{ results: RuleImportResult[] }>('POST', this.ws('/rules'), { yaml, ...options });
  }
  validateRules(yaml: string) {
    return this.request<{
      rules: { ruleId: string | null; ok: boolean; mode: string | null; diagnostics: RuleDiagnostic[] }[];
    }>('POST', this.ws('/rules/validate'), { yaml });
  }
  ruleRuns(id: string) {
    return this.request<Page<RuleRun>>('GET', this.ws(`/rules/${enc(id)}/runs?limit=20`));
  }
  setRuleEnabled(id: string, enabled: boolean) {
    return this.request<StoredRule>('PATCH', this.ws(`/rules/${enc(id)}`), { enabled });
  }
  simulateRule(yaml: string, lookbackMs: number) {
    return this.request<{ alerts: SimulatedAlert[]; runs: number; problems?: { message: string }[] }>(
      'POST',
      this.ws('/rules/simulate'),
      { yaml, lookbackMs },
    );
  }

  // ───────────── automation (the automation API, per workspace) ─────────────
  private auto(path: string): string {
    return this.ws(`/automation${path}`);
  }
  automationRules() {
    return this.request<{ rules: AutomationRule[] }>('GET', this.auto('/rules'));
  }
  putAutomationRule(rule: AutomationRule) {
    const { updatedAt: _u, ...definition } = rule;
    return this.request<{ rule: AutomationRule; diagnostics: Diagnostic[] }>(
      'PUT',
      this.auto(`/rules/${enc(rule.id)}`),
      definition,
    );
  }
  playbooks() {
    return this.request<{ playbooks: PlaybookSummary[] }>('GET', this.auto('/playbooks'));
  }
  playbook(id: string) {
    return this.request<PlaybookDetail>('GET', this.auto(`/playbooks/${enc(id)}`));
  }
  validatePlaybook(text: string) {
    return this.request<{ ok: boolean; diagnostics: Diagnostic[] }>('POST', this.auto('/playbooks/validate'), text);
  }
  putPlaybook(id: string, text: string) {
    return this.request<{ playbook: PlaybookDetail; diagnostics: Diagnostic[] }>(
      'PUT',
      this.auto(`/playbooks/${enc(id)}`),
      text,
    );
  }
  runPlaybook(id: string, incidentId: string) {
    return this.request<PlaybookRun>('POST', this.auto(`/playbooks/${enc(id)}/runs`), { incidentId });
  }
  runs(params: { incidentId?: string; playbookId?: string; limit?: number } = {}) {
    return this.request<Page<PlaybookRun>>('GET', this.auto(`/runs${queryString({ limit: 200, ...params })}`));
  }
  run(id: string) {
    return this.request<RunDetail>('GET', this.auto(`/runs/${enc(id)}`));
  }
  approvals(params: { status?: string; incidentId?: string } = {}) {
    return this.request<{ approvals: Approval[] }>(
      'GET',
      this.auto(`/approvals${queryString({ limit: 200, ...params })}`),
    );
  }
  decide(id: string, decision: 'approve' | 'reject', comment?: string) {
    return this.request<Approval>('POST', this.auto(`/approvals/${enc(id)}/${decision}`), {
      ...(comment ? { comment } : {}),
    });
  }

  // ───────────── connectors, usage, health ─────────────
  connectors() {
    return this.request<Page<Connector>>('GET', this.ws('/connectors?limit=500'));
  }
  setConnector(connectorId: string, enabled: boolean) {
    return this.request<Connector>('PATCH', this.ws(`/connectors/${enc(connectorId)}`), { enabled });
  }
  setConnectorTable(connectorId: string, table: string, enabled: boolean) {
    return this.request<Connector>('PATCH', this.ws(`/connectors/${enc(connectorId)}`), {
      tables: { [table]: enabled },
    });
  }
  usage(days = 30) {
    return this.request<UsageReport>('GET', this.ws(`/usage${queryString({ days })}`));
  }
  setUsageSettings(patch: { pricePerGb?: number | null; currency?: string }) {
    return this.request<PriceSettings>('PATCH', this.ws('/usage/settings'), patch);
  }

  // ───────────── users ─────────────
  members() {
    return this.request<Page<Member>>('GET', this.ws('/users?limit=1000'));
  }
  setMember(userId: string, patch: { role?: Role; approver?: boolean; disabled?: boolean }) {
    return this.request<Member>('PATCH', this.ws(`/users/${enc(userId)}`), patch);
  }
  createUser(input: { name: string; displayName?: string; email?: string; role: Role; approver: boolean }) {
    return this.request<Member>('POST', this.ws('/users'), input);
  }
}

export const api = new ApiClient();
