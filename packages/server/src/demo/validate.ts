/**
 * `vigil validate`: the seed's Step 7 ("verify the SOC workflow end to end") against a running workspace, over the
 * REST API only — what an operator would click through, as one command. Each step passes or fails with its reason;
 * a failed step does not stop the later ones that do not depend on it.
 *
 * It creates one low-risk test alert (Informational, from "Microsoft Defender for Endpoint", with a host, an
 * account and an IP that exist nowhere else, titled `[vigil validate]`), follows it into its own incident, checks
 * the automation rules that ran on it, and closes it (classification BenignPositive) — the closure is the clean-up.
 */
import { randomBytes, randomUUID } from 'node:crypto';

export interface ValidateOptions {
  /** The server's base URL (`http://127.0.0.1:8080`). */
  readonly url: string;
  /** An API token (or session token) with read, ingest and triage permissions on the workspace. */
  readonly token?: string;
  readonly user?: string;
  readonly password?: string;
  readonly workspace?: string;
  /** Tables that must be receiving data (default: every selected table of an enabled connector that has data). */
  readonly tables?: readonly string[];
  /** Data older than this is "not arriving" (default 1 h). */
  readonly maxDataAgeMs?: number;
  /** How long to wait for each asynchronous effect (incident, outbox, automation; default 60 s). */
  readonly timeoutMs?: number;
  /** Called as each step ends. */
  readonly onStep?: (step: StepResult) => void;
}

export interface StepResult {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly ms: number;
}

export interface ValidationReport {
  readonly ok: boolean;
  readonly steps: readonly StepResult[];
  /** The test incident's number, when one was created. */
  readonly incidentNumber: number | null;
}

interface Entity {
  readonly type: string;
  readonly displayName: string;
}
interface IncidentView {
  readonly id: string;
  readonly number: number;
  readonly status: string;
  readonly tags: readonly string[];
  readonly owner: { assignedTo?: string | null; email?: string | null; userPrincipalName?: string | null } | null;
  readonly providerName: string;
  readonly version: number;
}
interface Detail {
  readonly incident: IncidentView;
  readonly entities?: { readonly items: readonly Entity[] };
  readonly tasks?: readonly { readonly title: string }[];
}

/** Connectors whose data arrives when something happens, not continuously. */
const EVENT_DRIVEN = new Set(['threat-intelligence', 'security-alerts']);

class Api {
  constructor(
    readonly base: string,
    private token: string,
  ) {}

  setToken(token: string): void {
    this.token = token;
  }

  async call<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<T> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      signal: AbortSignal.timeout(120_000),
      headers: {
        ...(this.token ? { authorization: `Bearer ${this.token}` } : {}),
        ...(body !== undefined && typeof body !== 'string' ? { 'content-type': 'application/json' } : {}),
        ...headers,
      },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    }).catch((e: unknown) => {
      // fetch says only "fetch failed": name the server and the reason (ECONNREFUSED, ENOTFOUND, ...).
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new Error(`cannot reach ${this.base}: ${cause?.code ?? cause?.message ?? (e as Error).message}`);
    });
    const text = await res.text();
    if (!res.ok) {
      let message = text.slice(0, 300);
      try {
        const e = JSON.parse(text) as { error?: { message?: string } };
        if (e.error?.message) message = e.error.message;
      } catch {
        // not JSON: keep the text
      }
      throw new Error(`${method} ${path}: ${res.status} ${message}`);
    }
    return (text ? JSON.parse(text) : null) as T;
  }

  async kql(ws: string, query: string): Promise<{ columns: { name: string }[]; rows: unknown[][] }> {
    return this.call('POST', `/api/workspaces/${encodeURIComponent(ws)}/query`, { query, timeoutMs: 30_000 });
  }
}

/** Rows as objects by column name. */
function records(r: { columns: { name: string }[]; rows: unknown[][] }): Record<string, unknown>[] {
  return r.rows.map((row) => Object.fromEntries(r.columns.map((c, i) => [c.name, row[i]])));
}

async function until<T>(
  timeoutMs: number,
  probe: () => Promise<T | null | undefined>,
  everyMs = 500,
): Promise<T | null> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== null && v !== undefined) return v;
    if (Date.now() >= end) return null;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

function ago(iso: string): string {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return s < 120 ? `${s} s ago` : s < 7200 ? `${Math.round(s / 60)} min ago` : `${Math.round(s / 3600)} h ago`;
}

export async function validateWorkspace(options: ValidateOptions): Promise<ValidationReport> {
  const ws = options.workspace ?? 'default';
  const W = `/api/workspaces/${encodeURIComponent(ws)}`;
  const timeout = options.timeoutMs ?? 60_000;
  const api = new Api(options.url.replace(/\/+$/, ''), options.token ?? '');
  const steps: StepResult[] = [];
  const step = async (name: string, run: () => Promise<string>): Promise<boolean> => {
    const t = Date.now();
    let result: StepResult;
    try {
      result = { name, ok: true, detail: await run(), ms: Date.now() - t };
    } catch (e) {
      result = { name, ok: false, detail: e instanceof Error ? e.message : String(e), ms: Date.now() - t };
    }
    steps.push(result);
    options.onStep?.(result);
    return result.ok;
  };
  const skip = (name: string, why: string) => {
    const r = { name, ok: false, detail: `not run: ${why}`, ms: 0 };
    steps.push(r);
    options.onStep?.(r);
  };
  const done = (incidentNumber: number | null): ValidationReport => ({
    ok: steps.length > 0 && steps.every((s) => s.ok),
    steps,
    incidentNumber,
  });

  // An unreachable server fails once, not in every step.
  try {
    await api.call('GET', '/api/health');
  } catch (e) {
    const r = { name: 'Server reachable', ok: false, detail: (e as Error).message, ms: 0 };
    steps.push(r);
    options.onStep?.(r);
    return done(null);
  }

  if (!options.token) {
    const signedIn = await step('Sign in', async () => {
      if (!options.user || !options.password) throw new Error('give --token, or --user and --password');
      const s = await api.call<{ token: string }>('POST', '/api/auth/login', {
        name: options.user,
        password: options.password,
      });
      api.setToken(s.token);
      return `signed in as ${options.user}`;
    });
    if (!signedIn) return done(null);
  }

  // 1. Connectors healthy, data arriving per selected table.
  await step('Connectors healthy and data arriving', async () => {
    // A server that just started may not have its first rows yet: look again until the timeout.
    const check = async (): Promise<{ problems: string[]; fine: string[] }> => {
      const page = await api.call<{
        items: {
          id: string;
          name: string;
          enabled: boolean;
          status?: string;
          tables?: { name: string; enabled?: boolean; rows?: number; lastIngestion?: string | null }[];
        }[];
      }>('GET', `${W}/connectors?limit=500`);
      const maxAge = options.maxDataAgeMs ?? 3_600_000;
      const byTable = new Map<
        string,
        { connector: (typeof page.items)[number]; table: NonNullable<(typeof page.items)[number]['tables']>[number] }
      >();
      for (const c of page.items) for (const t of c.tables ?? []) byTable.set(t.name, { connector: c, table: t });
      // By default every selected table with data, except event-driven feeds (indicators, product alerts), which can
      // rightly be quiet for hours; name them with `tables` to demand them.
      const wanted =
        options.tables ??
        [...byTable.values()]
          .filter(
            (x) =>
              x.connector.enabled &&
              !EVENT_DRIVEN.has(x.connector.id) &&
              x.table.enabled !== false &&
              (x.table.rows ?? 0) > 0,
          )
          .map((x) => x.table.name);
      if (wanted.length === 0) return { problems: ['no table of an enabled connector has received data'], fine: [] };
      const problems: string[] = [];
      const fine: string[] = [];
      for (const name of wanted) {
        const x = byTable.get(name);
        if (!x) {
          problems.push(`${name}: no connector feeds this table`);
          continue;
        }
        const { connector: c, table: t } = x;
        if (!c.enabled) problems.push(`${name}: connector '${c.name}' is turned off`);
        else if (c.status === 'Failing') problems.push(`${name}: connector '${c.name}' is failing`);
        else if (t.enabled === false) problems.push(`${name}: not selected in connector '${c.name}'`);
        else if (!t.rows || !t.lastIngestion) problems.push(`${name}: no data yet`);
        else if (Date.now() - Date.parse(t.lastIngestion) > maxAge)
          problems.push(`${name}: last data ${ago(t.lastIngestion)}`);
        else fine.push(`${name} ${t.rows.toLocaleString('en-US')} rows, last ${ago(t.lastIngestion)}`);
      }
      return { problems, fine };
    };
    let last = await check();
    const end = Date.now() + timeout;
    while (last.problems.length && Date.now() < end) {
      await new Promise((r) => setTimeout(r, 1000));
      last = await check();
    }
    if (last.problems.length) throw new Error(last.problems.join('; '));
    return last.fine.join('; ');
  });

  // 2. A low-risk test alert becomes an incident in the queue.
  const run = randomBytes(4).toString('hex');
  const host = `vigil-validate-${run}`;
  const upn = `vigil.validate.${run}@validate.invalid`;
  const ip = `100.${64 + (parseInt(run.slice(0, 2), 16) % 64)}.${parseInt(run.slice(2, 4), 16)}.${1 + (parseInt(run.slice(4, 6), 16) % 254)}`;
  const alertId = randomUUID();
  let incident: IncidentView | null = null;
  await step('Test alert seen as an incident', async () => {
    const now = new Date().toISOString();
    const row = {
      TimeGenerated: now,
      StartTime: now,
      EndTime: now,
      SystemAlertId: alertId,
      VendorOriginalId: `vigil-validate-${run}`,
      AlertName: `[vigil validate] Test alert ${run}`,
      DisplayName: `[vigil validate] Test alert ${run}`,
      AlertType: 'VigilValidateTestAlert',
      AlertSeverity: 'Informational',
      Description: 'A low-risk test alert created by `vigil validate` to check the SOC workflow end to end.',
      ProductName: 'Microsoft Defender Advanced Threat Protection',
      ProviderName: 'MDATP',
      VendorName: 'Microsoft',
      ProductComponentName: 'Microsoft Defender for Endpoint',
      Status: 'New',
      Tactics: 'Execution',
      Techniques: '["T1059"]',
      CompromisedEntity: host,
      Entities: JSON.stringify([
        { $id: '2', Type: 'host', HostName: host, DnsDomain: 'validate.invalid', OSFamily: 'Windows' },
        { $id: '3', Type: 'account', Name: upn.split('@')[0], UPNSuffix: 'validate.invalid' },
        { $id: '4', Type: 'ip', Address: ip },
      ]),
      ExtendedProperties: JSON.stringify({ 'Created by': 'vigil validate' }),
    };
    const a = await api.call<{ rowsIngested: number; incidents?: { incidents: number; problems: number } }>(
      'POST',
      `${W}/ingest/SecurityAlert`,
      JSON.stringify(row),
      { 'content-type': 'application/x-ndjson' },
    );
    if (a.rowsIngested !== 1) throw new Error(`the alert was not ingested: ${JSON.stringify(a)}`);
    incident = await until(timeout, async () => {
      const p = await api.call<{ items: IncidentView[] }>('GET', `${W}/incidents?entity=${encodeURIComponent(host)}`);
      return p.items[0];
    });
    if (!incident) throw new Error(`no incident in the queue with host ${host} after ${timeout / 1000} s`);
    const i: IncidentView = incident;
    return `alert ${alertId} → incident #${i.number} (${i.status}, provider ${i.providerName})`;
  });
  const found = incident as IncidentView | null;

  // 3. SecurityIncident returns it.
  if (found)
    await step('SecurityIncident query returns it', async () => {
      const q = `SecurityIncident | where ProviderName == "Microsoft XDR" | where IncidentNumber == ${found.number} | summarize arg_max(TimeGenerated, *) by IncidentNumber | project IncidentNumber, Title, Status, ProviderName`;
      const r = await until(timeout, async () => {
        const rows = records(await api.kql(ws, q));
        return rows.length ? rows : null;
      });
      if (!r) throw new Error(`no SecurityIncident row for incident #${found.number} after ${timeout / 1000} s: ${q}`);
      return `${q} → ${JSON.stringify(r[0])}`;
    });
  else skip('SecurityIncident query returns it', 'no test incident');

  // 4. A sample DeviceProcessEvents query.
  await step('Sample DeviceProcessEvents query', async () => {
    const q =
      'DeviceProcessEvents | where Timestamp > ago(24h) | summarize ProcessEvents=count() by DeviceName | top 20 by ProcessEvents desc';
    const rows = records(await api.kql(ws, q));
    if (rows.length === 0) throw new Error(`no process events in the last 24 h: ${q}`);
    return `${q} → ${rows.length} devices, top ${String(rows[0]?.DeviceName)} with ${String(rows[0]?.ProcessEvents)} events`;
  });

  // 5. Entity mapping: users, hosts and IPs.
  if (found)
    await step('Entity mapping shows users, hosts and IPs', async () => {
      const detail = await api.call<Detail>('GET', `${W}/incidents/${found.id}`);
      const entities = detail.entities?.items ?? [];
      const of = (t: string) => entities.filter((e) => e.type === t).map((e) => e.displayName);
      const missing = ['account', 'host', 'ip'].filter((t) => of(t).length === 0);
      if (missing.length)
        throw new Error(`incident #${found.number} has no ${missing.join(', ')} entity: ${JSON.stringify(entities)}`);
      return `account ${of('account').join(', ')}; host ${of('host').join(', ')}; ip ${of('ip').join(', ')}`;
    });
  else skip('Entity mapping shows users, hosts and IPs', 'no test incident');

  // 6. The automation rules that ran on it applied their tag, owner and tasks.
  if (found)
    await step('Automation rule applied tag, owner and tasks', async () => {
      const rules = await api.call<{
        items: { id: string; name: string; enabled: boolean; trigger: string; actions: Record<string, unknown>[] }[];
      }>('GET', `${W}/automation/rules?limit=500`);
      const candidates = rules.items.filter((r) => r.enabled && r.trigger === 'incidentCreated');
      if (candidates.length === 0) throw new Error('no enabled automation rule runs when an incident is created');
      // Rules run after the incident's creation event: wait until one has an execution for this incident.
      const applied = await until(timeout, async () => {
        const out: (typeof candidates)[number][] = [];
        for (const r of candidates) {
          const ex = await api.call<{ items: { incidentId: string | null; outcome: string }[] }>(
            'GET',
            `${W}/automation/rules/${encodeURIComponent(r.id)}/executions?limit=200`,
          );
          if (ex.items.some((e) => e.incidentId === found.id)) out.push(r);
        }
        return out.length ? out : null;
      });
      if (!applied)
        throw new Error(
          `no automation rule ran on incident #${found.number} within ${timeout / 1000} s ` +
            `(rules on incident creation: ${candidates.map((r) => r.id).join(', ')})`,
        );
      const tags = new Set<string>();
      const owners = new Set<string>();
      const tasks = new Set<string>();
      for (const r of applied)
        for (const a of r.actions) {
          if (a.type === 'addTags') for (const t of (a.tags as string[]) ?? []) tags.add(t);
          if (a.type === 'assignOwner') {
            const o = a.owner as { assignedTo?: string; email?: string; userPrincipalName?: string };
            owners.add(o.assignedTo ?? o.email ?? o.userPrincipalName ?? '');
          }
          if (a.type === 'addTasks') {
            for (const t of (a.tasks as { title: string }[]) ?? []) tasks.add(t.title);
            if (typeof a.list === 'string') {
              const lists = await api.call<{ items: { id: string; tasks: { title: string }[] }[] }>(
                'GET',
                `${W}/automation/task-lists?limit=500`,
              );
              const l = lists.items.find((x) => x.id === a.list);
              if (!l) throw new Error(`rule ${r.id} adds the tasks of list '${a.list}', which does not exist`);
              for (const t of l.tasks) tasks.add(t.title);
            }
          }
        }
      const missingKinds = [
        ...(tags.size ? [] : ['a tag']),
        ...(owners.size ? [] : ['an owner']),
        ...(tasks.size ? [] : ['tasks']),
      ];
      if (missingKinds.length)
        throw new Error(
          `the rules that ran (${applied.map((r) => r.id).join(', ')}) set no ${missingKinds.join(', ')}: the seed's rule tags, assigns and adds tasks`,
        );
      // The effects land in the same transaction as the execution record; read the incident as it is now.
      const d = await api.call<Detail>('GET', `${W}/incidents/${found.id}`);
      const owner = d.incident.owner;
      const ownerNames = [owner?.assignedTo, owner?.email, owner?.userPrincipalName].filter(Boolean);
      const gotTasks = new Set((d.tasks ?? []).map((t) => t.title));
      const problems = [
        ...[...tags].filter((t) => !d.incident.tags.includes(t)).map((t) => `tag '${t}' missing`),
        ...[...owners]
          .filter((o) => !ownerNames.includes(o))
          .map((o) => `owner is ${JSON.stringify(owner)}, not '${o}'`),
        ...[...tasks].filter((t) => !gotTasks.has(t)).map((t) => `task '${t}' missing`),
      ];
      if (problems.length) throw new Error(`incident #${found.number}: ${problems.join('; ')}`);
      return `${applied.map((r) => r.id).join(', ')}: tags ${[...tags].join(', ')}; owner ${[...owners].join(', ')}; tasks ${[...tasks].map((t) => `'${t}'`).join(', ')}`;
    });
  else skip('Automation rule applied tag, owner and tasks', 'no test incident');

  // 7. Close the test incident; the closure shows in SecurityIncident.
  if (found)
    await step('Test incident closed, closure in SecurityIncident', async () => {
      await api.call('PATCH', `${W}/incidents/${found.id}`, {
        status: 'Closed',
        classification: 'BenignPositive',
        classificationReason: 'SuspiciousButExpected',
        classificationComment: `Test incident of vigil validate (${run}).`,
        addTags: ['vigil-validate'],
      });
      const q = `SecurityIncident | where IncidentNumber == ${found.number} | summarize arg_max(TimeGenerated, *) by IncidentNumber | project IncidentNumber, Status, Classification, ClosedTime`;
      const r = await until(timeout, async () => {
        const rows = records(await api.kql(ws, q));
        return rows[0]?.Status === 'Closed' ? rows[0] : null;
      });
      if (!r)
        throw new Error(`SecurityIncident does not show incident #${found.number} closed after ${timeout / 1000} s`);
      return `${q} → ${JSON.stringify(r)}`;
    });
  else skip('Test incident closed, closure in SecurityIncident', 'no test incident');

  return done(found?.number ?? null);
}
