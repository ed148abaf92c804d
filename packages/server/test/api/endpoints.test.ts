/**
 * The OpenAPI document validates (a real validator: @seriousme/openapi-schema-validator, OpenAPI 3.1), and a SOC
 * day walks every documented endpoint at least once over HTTP against a real server: each answer's status must be
 * documented for its operation and its JSON body must match the documented schema (Ajv, JSON Schema 2020-12).
 * Errors are `{error: {code, message}}` and inputs are validated (unknown fields, wrong types are 400).
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Answer, call, ndjson, startTestVigil, type TestVigil } from './helpers.js';

let t: TestVigil;
let doc: { paths: Record<string, Record<string, Operation>> };
interface Operation {
  operationId: string;
  responses: Record<string, { content?: Record<string, { schema: object }> }>;
}
const called = new Map<string, number[]>();
// biome-ignore lint/suspicious/noExplicitAny: Ajv's CJS/ESM default export differs by loader
const ajv = new ((Ajv2020 as any).default ?? Ajv2020)({ strict: false, allErrors: true });
// biome-ignore lint/suspicious/noExplicitAny: same for ajv-formats
((addFormats as any).default ?? addFormats)(ajv);

function operationOf(method: string, path: string): { template: string; op: Operation } {
  const clean = path.split('?')[0] as string;
  const candidates = Object.entries(doc.paths)
    .filter(([template, item]) => {
      if (!item[method.toLowerCase()]) return false;
      const re = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
      return re.test(clean);
    })
    .sort(([a], [b]) => (a.match(/\{/g)?.length ?? 0) - (b.match(/\{/g)?.length ?? 0));
  const hit = candidates[0];
  if (!hit) throw new Error(`undocumented call ${method} ${clean}`);
  return { template: hit[0], op: hit[1][method.toLowerCase()] as Operation };
}

/** Calls an endpoint, checks the answer against the document, and records the operation as covered. */
async function hit<T = Record<string, unknown>>(
  method: string,
  path: string,
  o: Parameters<typeof call>[3] = {},
  expected?: number,
): Promise<Answer<T>> {
  const { op } = operationOf(method, path);
  if (process.env.VIGIL_TRACE) console.log('hit', op.operationId, path);
  const a = await call<T>(t.url, method, path, { token: t.adminToken, ...o });
  if (expected !== undefined) expect(a.status, `${op.operationId}: ${a.text.slice(0, 500)}`).toBe(expected);
  const doc = op.responses[String(a.status)];
  expect(doc, `${op.operationId} answered ${a.status}, which is not documented: ${a.text.slice(0, 300)}`).toBeDefined();
  const schema = doc?.content?.['application/json']?.schema;
  if (schema && a.headers.get('content-type')?.includes('application/json')) {
    const ok = ajv.validate(schema, a.json);
    expect(ok, `${op.operationId} ${a.status} body does not match its schema: ${ajv.errorsText(ajv.errors)}`).toBe(
      true,
    );
  }
  if (a.status >= 400 && a.headers.get('content-type')?.includes('json')) {
    expect((a.json as { error?: { code?: unknown; message?: unknown } }).error?.code).toEqual(expect.any(String));
  }
  called.set(op.operationId, [...(called.get(op.operationId) ?? []), a.status]);
  return a;
}

const W = '/api/workspaces/default';

beforeAll(async () => {
  t = await startTestVigil();
  doc = (await call(t.url, 'GET', '/api/openapi.json')).json as unknown as typeof doc;
});

afterAll(async () => {
  await t?.dispose();
});

describe('the OpenAPI document', () => {
  it('is a valid OpenAPI 3.1 document with unique operation ids', async () => {
    const v = new Validator();
    const res = await v.validate(doc as unknown as object);
    expect(res.errors ?? [], JSON.stringify(res.errors ?? []).slice(0, 2000)).toEqual([]);
    expect(res.valid).toBe(true);
    expect(v.version).toBe('3.1');
    const ids = Object.values(doc.paths).flatMap((item) => Object.values(item).map((op) => op.operationId));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBeGreaterThan(80);
  });
});

describe('every documented endpoint', () => {
  it('is called at least once, with answers as documented', async () => {
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();

    // ── system, auth ──
    await hit('GET', '/api/health', { token: '' }, 200);
    await hit('GET', '/api/openapi.json', { token: '' }, 200);
    await hit('GET', '/api/auth/providers', { token: '' }, 200);
    await hit('POST', '/api/auth/login', { token: '', body: { name: 'admin', password: 'wrong password!!' } }, 401);
    await hit('GET', '/api/auth/me', {}, 200);
    await hit('GET', '/api/auth/oidc/login', { token: '' }, 404);
    await hit('GET', '/api/auth/oidc/callback?code=x&state=y', { token: '' }, 404);

    // ── workspaces ──
    await hit('POST', '/api/workspaces', { body: { name: 'tenant-b', displayName: 'Tenant B' } }, 201);
    const wsList = await hit<{ items: { name: string }[] }>('GET', '/api/workspaces', {}, 200);
    expect(wsList.json.items.map((w) => w.name)).toEqual(['default', 'tenant-b']);
    await hit('GET', `${W}`, {}, 200);

    // ── users and roles ──
    const created = await hit<{ user: { id: string }; setupCode: string }>(
      'POST',
      `${W}/users`,
      { body: { name: 'mia', displayName: 'Mia', email: 'mia@contoso.com', role: 'Responder' } },
      201,
    );
    const mia = created.json.user.id;
    await hit(
      'POST',
      '/api/auth/setup',
      { token: '', body: { code: created.json.setupCode, password: 'first-Secret-pass-42' } },
      200,
    );
    const miaLogin = await hit<{ token: string }>(
      'POST',
      '/api/auth/login',
      { token: '', body: { name: 'mia', password: 'first-Secret-pass-42' } },
      200,
    );
    await hit(
      'PUT',
      '/api/auth/password',
      {
        token: miaLogin.json.token,
        body: { currentPassword: 'first-Secret-pass-42', newPassword: 'second-Secret-pass-42' },
      },
      204,
    );
    await hit('GET', `${W}/users`, {}, 200);
    await hit('GET', `${W}/users/${mia}`, {}, 200);
    await hit(
      'PATCH',
      `${W}/users/${mia}`,
      { body: { role: 'Contributor', approver: true, displayName: 'Mia R.' } },
      200,
    );
    await hit('POST', `${W}/users/${mia}/setup-code`, {}, 201);
    await hit('GET', '/api/users', {}, 200);
    const owner = (await call<{ user: { id: string } }>(t.url, 'GET', '/api/auth/me', { token: t.adminToken })).json
      .user.id;
    await hit('DELETE', `${W}/users/${owner}`, {}, 409); // the last Owner stays

    // ── tokens ──
    const tok = await hit<{ value: string; token: { id: string } }>(
      'POST',
      '/api/tokens',
      { body: { name: 'script', scopes: ['read', 'ingest'], workspace: 'default', expiresInDays: 30 } },
      201,
    );
    await hit('GET', '/api/tokens', {}, 200);
    const script = tok.json.value;

    // ── tables, connectors, data collection rules, ingestion ──
    await hit('GET', `${W}/tables?limit=5`, {}, 200);
    await hit('GET', `${W}/tables/Syslog`, {}, 200);
    await hit(
      'PUT',
      `${W}/tables/AppEvents_CL`,
      {
        body: {
          columns: [
            { name: 'TimeGenerated', type: 'datetime' },
            { name: 'Msg', type: 'string' },
            { name: 'Level', type: 'int' },
          ],
        },
      },
      200,
    );
    await hit('GET', `${W}/connectors`, {}, 200);
    await hit('PATCH', `${W}/connectors/syslog`, { body: { enabled: false } }, 200);
    await hit(
      'POST',
      `${W}/ingest/Syslog`,
      { token: script, raw: ndjson([{ Computer: 'x' }]), headers: { 'content-type': 'application/x-ndjson' } },
      403,
    );
    await hit('PATCH', `${W}/connectors/syslog`, { body: { enabled: true } }, 200);
    // Table selection, retention, usage and cost, connector health (issue 4).
    await hit('PATCH', `${W}/connectors/syslog`, { body: { tables: { Syslog: false } } }, 200);
    await hit('PATCH', `${W}/connectors/syslog`, { body: { tables: { Syslog: true } } }, 200);
    await hit('PATCH', `${W}/connectors/syslog`, { body: { tables: { SigninLogs: false } } }, 400);
    await hit('PATCH', `${W}/tables/Syslog`, { body: { retentionDays: 30 } }, 200);
    await hit('PATCH', `${W}/tables/Syslog`, { body: { retentionDays: 0 } }, 400);
    await hit('PATCH', `${W}/usage/settings`, { body: { pricePerGb: 5.2 } }, 200);
    await hit('GET', `${W}/usage?days=7`, {}, 200);
    await hit('GET', `${W}/health?days=1`, {}, 200);
    const syslog = Array.from({ length: 20 }, (_, i) => ({
      TimeGenerated: iso(now - i * 60_000),
      Computer: `web-${i % 4}`,
      SyslogMessage: `sshd: failed password for root from 10.0.0.${i}`,
      Facility: 'auth',
      SeverityLevel: 'warning',
      ProcessID: 1000 + i,
    }));
    await hit(
      'POST',
      `${W}/ingest/Syslog?batchId=b1`,
      { token: script, raw: ndjson(syslog), headers: { 'content-type': 'application/x-ndjson' } },
      200,
    );
    await hit(
      'PUT',
      `${W}/dataCollectionRules/dcr-app`,
      {
        body: {
          properties: {
            streamDeclarations: {
              'Custom-AppStream': {
                columns: [
                  { name: 'TimeGenerated', type: 'datetime' },
                  { name: 'Msg', type: 'string' },
                  { name: 'Level', type: 'int' },
                ],
              },
            },
            dataFlows: [
              {
                streams: ['Custom-AppStream'],
                outputStream: 'Custom-AppEvents_CL',
                transformKql: 'source | where Level >= 2',
              },
            ],
          },
        },
      },
      200,
    );
    await hit('GET', `${W}/dataCollectionRules/dcr-app`, {}, 200);
    await hit(
      'POST',
      `${W}/dataCollectionRules/dcr-app/streams/Custom-AppStream`,
      {
        token: script,
        raw: JSON.stringify([
          { TimeGenerated: iso(now), Msg: 'boot', Level: 3 },
          { TimeGenerated: iso(now), Msg: 'noise', Level: 1 },
        ]),
        headers: { 'content-type': 'application/json' },
      },
      204,
    );

    // Security product alerts → incidents (SecurityAlert rows and Defender's streaming envelope).
    const entities = (host: string, upn: string) =>
      JSON.stringify([
        { $id: '2', Type: 'host', HostName: host },
        { $id: '3', Type: 'account', Name: upn.split('@')[0], UPNSuffix: upn.split('@')[1] },
      ]);
    const alert = (id: string, title: string, host: string, upn: string, minutesAgo: number) => ({
      TimeGenerated: iso(now - minutesAgo * 60_000),
      DisplayName: title,
      AlertName: title,
      AlertSeverity: 'High',
      Description: title,
      ProviderName: 'MDATP',
      ProductName: 'Microsoft Defender Advanced Threat Protection',
      VendorName: 'Microsoft',
      SystemAlertId: id,
      VendorOriginalId: id,
      AlertType: title.replace(/\W/g, ''),
      StartTime: iso(now - minutesAgo * 60_000),
      EndTime: iso(now - minutesAgo * 60_000),
      Status: 'New',
      Entities: entities(host, upn),
      ExtendedProperties: '{}',
      Tactics: 'Execution',
      Techniques: 'T1059',
    });
    const alerts = await hit<{ incidents?: { alerts: number; incidents: number } }>(
      'POST',
      `${W}/ingest/SecurityAlert`,
      {
        raw: ndjson([
          alert('a-1', 'Suspicious PowerShell', 'ws-1', 'amy@contoso.com', 30),
          alert('a-2', 'Credential dumping', 'ws-1', 'amy@contoso.com', 20),
          alert('a-3', 'Phishing link clicked', 'ws-9', 'zed@contoso.com', 10),
        ]),
        headers: { 'content-type': 'application/x-ndjson' },
      },
      200,
    );
    expect(alerts.json.incidents).toMatchObject({ alerts: 3, incidents: 2 });
    await hit(
      'POST',
      `${W}/ingest/defender`,
      {
        raw: JSON.stringify({
          records: [
            {
              time: iso(now),
              tenantId: 't',
              operationName: 'Publish',
              category: 'AdvancedHunting-DeviceProcessEvents',
              properties: {
                Timestamp: iso(now),
                DeviceName: 'ws-1',
                FileName: 'powershell.exe',
                ProcessCommandLine: 'powershell -enc AAA',
              },
            },
          ],
        }),
        headers: { 'content-type': 'application/json' },
      },
      200,
    );

    // ── queries ──
    const q = await hit<{ rows: unknown[][]; resultId: string; nextCursor: string }>(
      'POST',
      `${W}/query`,
      { body: { query: 'Syslog | project ProcessID | order by ProcessID asc', pageSize: 8 } },
      200,
    );
    expect(q.json.rows.map((r) => r[0])).toEqual([1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007]);
    const p2 = await hit<{ rows: unknown[][]; nextCursor: string | null }>(
      'GET',
      `${W}/query-results/${q.json.resultId}?cursor=${q.json.nextCursor}&limit=8`,
      {},
      200,
    );
    expect(p2.json.rows.map((r) => r[0])).toEqual([1008, 1009, 1010, 1011, 1012, 1013, 1014, 1015]);
    await hit('DELETE', `${W}/query-results/${q.json.resultId}`, {}, 204);
    await hit('GET', `${W}/query-results/${q.json.resultId}`, {}, 404);
    const stream = await call(t.url, 'POST', `${W}/query`, {
      token: t.adminToken,
      body: { query: 'AppEvents_CL | project Msg' },
      headers: { accept: 'application/x-ndjson' },
    });
    expect(stream.text.trim().split('\n').slice(1)).toEqual(['["boot"]']);
    await hit('POST', `${W}/query`, { body: { query: 'Syslog | where NoSuchColumn == 1' } }, 400);
    await hit('POST', `${W}/query`, { body: { query: 'print 1', unknownField: true } }, 400);
    await hit('GET', `${W}/queries`, {}, 200);
    await hit('POST', `${W}/queries/not-running/cancel`, {}, 404);

    // Cancel a running query by its id.
    const slow = call(t.url, 'POST', `${W}/query`, {
      token: t.adminToken,
      body: { queryId: 'slow-1', query: 'range x from 1 to 300000000 step 1 | summarize dcount(x % 1000003)' },
    });
    let cancelled: Answer | null = null;
    for (let i = 0; i < 100 && !cancelled; i++) {
      await new Promise((r) => setTimeout(r, 50));
      const running = await call<{ items: { queryId: string }[] }>(t.url, 'GET', `${W}/queries`, {
        token: t.adminToken,
      });
      if (running.json.items.some((x) => x.queryId === 'slow-1'))
        cancelled = await hit('POST', `${W}/queries/slow-1/cancel`, {}, 202);
    }
    expect(cancelled?.status).toBe(202);
    expect((await slow).status).toBe(499);

    // ── saved queries, functions ──
    const saved = await hit<{ id: string }>(
      'POST',
      `${W}/saved-queries`,
      { body: { name: 'Failed SSH', query: 'Syslog | where SyslogMessage has "failed"', tags: ['ssh'] } },
      201,
    );
    await hit('GET', `${W}/saved-queries`, {}, 200);
    await hit('GET', `${W}/saved-queries/${saved.json.id}`, {}, 200);
    await hit('PATCH', `${W}/saved-queries/${saved.json.id}`, { body: { description: 'brute force' } }, 200);
    await hit('DELETE', `${W}/saved-queries/${saved.json.id}`, {}, 204);
    await hit(
      'PUT',
      `${W}/functions/FailedSsh`,
      { body: { body: 'Syslog | where SyslogMessage has "failed"', folder: 'Parsers' } },
      200,
    );
    await hit('PUT', `${W}/functions/Broken`, { body: { body: 'NoSuchTable | take 1' } }, 400);
    await hit('GET', `${W}/functions`, {}, 200);
    await hit('GET', `${W}/functions/FailedSsh`, {}, 200);
    const viaFn = await hit<{ rows: unknown[][] }>('POST', `${W}/query`, { body: { query: 'FailedSsh | count' } }, 200);
    expect(viaFn.json.rows).toEqual([[20]]);
    // Rules compile against stored functions too.
    const fnRule = await call<{ rules: { ok: boolean; diagnostics: unknown[] }[] }>(
      t.url,
      'POST',
      `${W}/rules/validate`,
      {
        token: t.adminToken,
        body: {
          yaml: 'id: 6d3f4a1e-0000-4000-8000-000000000009\nname: via function\nseverity: Low\nkind: Scheduled\nquery: FailedSsh | summarize n = count() by Computer, TimeGenerated = bin(TimeGenerated, 5m)\nqueryFrequency: 1h\nqueryPeriod: 1h\ntriggerOperator: gt\ntriggerThreshold: 0\n',
        },
      },
    );
    expect(fnRule.json.rules[0]?.ok, JSON.stringify(fnRule.json)).toBe(true);
    await hit('DELETE', `${W}/functions/FailedSsh`, {}, 204);

    // ── rules ──
    const ruleYaml = `id: 6d3f4a1e-0000-4000-8000-000000000001
name: SSH brute force
description: Many failed SSH logins
severity: Medium
kind: Scheduled
query: |
  Syslog
  | where SyslogMessage has "failed password"
  | summarize Failures = count() by Computer, TimeGenerated = bin(TimeGenerated, 5m)
  | where Failures > 2
queryFrequency: 1h
queryPeriod: 1h
triggerOperator: gt
triggerThreshold: 0
tactics: [CredentialAccess]
relevantTechniques: [T1110]
entityMappings:
  - entityType: Host
    fieldMappings:
      - identifier: HostName
        columnName: Computer
version: 1.0.0
`;
    await hit('POST', `${W}/rules/validate`, { body: { yaml: ruleYaml } }, 200);
    const imported = await hit<{ results: { ruleId: string; status: string }[] }>(
      'POST',
      `${W}/rules`,
      { body: { yaml: ruleYaml, enabled: true } },
      200,
    );
    const ruleId = imported.json.results[0]?.ruleId as string;
    expect(imported.json.results[0]?.status).toBe('created');
    await hit('POST', `${W}/rules`, { body: { yaml: 'id: x\nname: broken\n' } }, 400);
    await hit('GET', `${W}/rules`, {}, 200);
    await hit('GET', `${W}/rules/${ruleId}`, {}, 200);
    await hit('PATCH', `${W}/rules/${ruleId}`, { body: { enabled: false } }, 200);
    const y = await hit('GET', `${W}/rules/${ruleId}/yaml`, {}, 200);
    expect(y.text).toContain('SSH brute force');
    await hit('GET', `${W}/rules/${ruleId}/runs`, {}, 200);
    // A rule not stored, replayed over the last day: the alerts it would have raised, with their entities.
    const sim = await hit<{ alerts: { title: string; entities: { type: string; name: string }[] }[]; runs: number }>(
      'POST',
      `${W}/rules/simulate`,
      { body: { yaml: ruleYaml.replace('Failures > 2', 'Failures > 0'), lookbackMs: 86_400_000 } },
      200,
    );
    expect(sim.json.runs).toBe(24);
    expect(sim.json.alerts.length).toBeGreaterThan(0);
    expect(sim.json.alerts[0]?.entities).toContainEqual({ type: 'host', name: expect.stringMatching(/^web-\d$/) });
    await hit('POST', `${W}/rules/simulate`, { body: { yaml: 'id: x\nname: broken\n' } }, 400);

    // ── incidents and alerts ──
    const list = await hit<{ items: { id: string; number: number; version: number; alertCount: number }[] }>(
      'GET',
      `${W}/incidents?sort=number&order=asc&limit=10`,
      {},
      200,
    );
    expect(list.json.items.map((i) => i.alertCount)).toEqual([2, 1]);
    const [first, second] = list.json.items as [
      { id: string; number: number; version: number },
      { id: string; number: number; version: number },
    ];
    await hit('GET', `${W}/incidents?status=New&severity=High&entity=ws-1`, {}, 200);
    await hit('GET', `${W}/incidents/${first.id}`, {}, 200);
    await hit('GET', `${W}/incidents/${first.number}`, {}, 200);
    await hit('GET', `${W}/incidents/no-such-incident`, {}, 404);
    const upd = await hit<{ version: number }>(
      'PATCH',
      `${W}/incidents/${first.id}`,
      {
        body: { status: 'Active', owner: { userPrincipalName: 'mia@contoso.com' }, addTags: ['brute-force'] },
        headers: { 'if-match': String(first.version) },
      },
      200,
    );
    await hit(
      'PATCH',
      `${W}/incidents/${first.id}`,
      { body: { status: 'New' }, headers: { 'if-match': String(first.version) } },
      409,
    );
    await hit('PATCH', `${W}/incidents/${first.id}`, { body: { status: 'Bogus' } }, 400);
    expect(upd.json.version).toBeGreaterThan(first.version);
    await hit(
      'POST',
      `${W}/incidents/bulk`,
      { body: { ids: [first.id, second.number], patch: { addTags: ['triaged'] } } },
      200,
    );
    for (const part of ['alerts', 'entities', 'links', 'audit', 'graph', 'comments', 'tasks'])
      await hit('GET', `${W}/incidents/${first.id}/${part}`, {}, 200);
    const comment = await hit<{ id: string }>(
      'POST',
      `${W}/incidents/${first.id}/comments`,
      { body: { message: 'Looking at ws-1' } },
      201,
    );
    await hit(
      'PATCH',
      `${W}/incidents/${first.id}/comments/${comment.json.id}`,
      { body: { message: 'Looking at ws-1 now' } },
      200,
    );
    await hit('DELETE', `${W}/incidents/${first.id}/comments/${comment.json.id}`, {}, 204);
    const task = await hit<{ id: string }>(
      'POST',
      `${W}/incidents/${first.id}/tasks`,
      { body: { title: 'Isolate ws-1' } },
      201,
    );
    await hit('PATCH', `${W}/incidents/${first.id}/tasks/${task.json.id}`, { body: { status: 'Completed' } }, 200);
    await hit('DELETE', `${W}/incidents/${first.id}/tasks/${task.json.id}`, {}, 204);
    const alertList = await hit<{ items: { alertId: string }[] }>('GET', `${W}/alerts?limit=2`, {}, 200);
    expect(alertList.json.items.map((a) => a.alertId)).toEqual(['a-3', 'a-2']);
    await hit('GET', `${W}/alerts/a-1`, {}, 200);
    await hit(
      'POST',
      `${W}/incidents/${first.id}/split`,
      { body: { alertIds: ['a-2'], title: 'Credential dumping on ws-1' } },
      200,
    );
    await hit(
      'POST',
      `${W}/incidents/${first.id}/merge`,
      { body: { incidents: [second.id], note: 'same campaign' } },
      200,
    );
    await hit('GET', `${W}/incident-events?after=0&limit=5`, {}, 200);
    await hit('GET', `${W}/incident-settings`, {}, 200);
    await hit('PATCH', `${W}/incident-settings`, { body: { correlation: { sharedEntityWindowMs: 3_600_000 } } }, 200);

    // ── automation: rules, task lists, playbooks, runs, approvals, policies, secrets, watchlists ──
    const A = `${W}/automation`;
    const taskList = 'id: triage\nname: Triage\ntasks:\n  - title: Check the host\n';
    const playbook = [
      'id: ask-then-comment',
      'name: Ask, then comment',
      'trigger:',
      '  kind: incident',
      'steps:',
      '  - { id: ok, type: approval, title: "Comment on the incident?", expiresIn: 1d }',
      '  - { id: note, type: comment, message: "Approved by an Approver" }',
      '',
    ].join('\n');
    const rule = {
      id: 'tag-high',
      name: 'Tag high incidents',
      order: 5,
      trigger: 'incidentUpdated',
      conditions: [{ property: 'severity', operator: 'equals', value: 'High' }],
      actions: [{ addTags: ['high'] }, { addTasks: { list: 'triage' } }],
    };
    await hit('PUT', `${A}/task-lists/triage`, { body: { yaml: taskList } }, 200);
    await hit('GET', `${A}/task-lists`, {}, 200);
    await hit('POST', `${A}/rules/validate`, { body: { definition: rule } }, 200);
    await hit('PUT', `${A}/rules/tag-high`, { body: { definition: rule } }, 200);
    await hit('PUT', `${A}/rules/other-id`, { body: { definition: rule } }, 400);
    await hit('GET', `${A}/rules`, {}, 200);
    await hit('GET', `${A}/rules/tag-high`, {}, 200);
    await hit('PATCH', `${A}/rules/tag-high`, { body: { enabled: false } }, 200);
    await hit('GET', `${A}/rules/tag-high/executions`, {}, 200);
    await hit('GET', `${A}/playbook-schema`, {}, 200);
    await hit('POST', `${A}/playbooks/validate`, { body: { yaml: playbook } }, 200);
    await hit('PUT', `${A}/playbooks/ask-then-comment`, { body: { yaml: playbook } }, 200);
    await hit('PUT', `${A}/playbooks/other-id`, { body: { yaml: playbook } }, 400);
    await hit('GET', `${A}/playbooks`, {}, 200);
    await hit('GET', `${A}/playbooks/ask-then-comment`, {}, 200);
    await hit('GET', `${A}/playbooks/ask-then-comment/versions`, {}, 200);
    await hit('PATCH', `${A}/playbooks/ask-then-comment`, { body: { enabled: true } }, 200);
    const run = await hit<{ id: string }>(
      'POST',
      `${A}/playbooks/ask-then-comment/runs`,
      { body: { incidentId: first.id } },
      202,
    );
    let approvalId: string | undefined;
    for (let i = 0; i < 100 && !approvalId; i++) {
      const pending = await call<{ items: { id: string; runId: string }[] }>(
        t.url,
        'GET',
        `${A}/approvals?status=pending`,
        { token: t.adminToken },
      );
      approvalId = pending.json.items.find((x) => x.runId === run.json.id)?.id;
      if (!approvalId) await new Promise((r) => setTimeout(r, 50));
    }
    expect(approvalId).toBeDefined();
    await hit('GET', `${A}/approvals`, {}, 200);
    await hit('GET', `${A}/approvals/${approvalId}`, {}, 200);
    // The Owner is no Approver until granted: separation of duties.
    await hit('POST', `${A}/approvals/${approvalId}/approve`, { body: { comment: 'go' } }, 403);
    const approver = await hit<{ setupCode: string | null }>(
      'POST',
      `${W}/users`,
      { body: { name: 'ann', password: 'Sky-Ledger-Orbit-19', role: 'Responder', approver: true } },
      201,
    );
    expect(approver.json.setupCode).toBeNull();
    const ann = (
      await call<{ token: string }>(t.url, 'POST', '/api/auth/login', {
        body: { name: 'ann', password: 'Sky-Ledger-Orbit-19' },
      })
    ).json.token;
    await hit('POST', `${A}/approvals/${approvalId}/approve`, { token: ann, body: { comment: 'go' } }, 200);
    let finished = '';
    for (let i = 0; i < 100 && finished !== 'succeeded'; i++) {
      finished = (
        await call<{ run: { status: string } }>(t.url, 'GET', `${A}/runs/${run.json.id}`, { token: t.adminToken })
      ).json.run.status;
      if (finished !== 'succeeded') await new Promise((r) => setTimeout(r, 50));
    }
    expect(finished).toBe('succeeded');
    await hit('GET', `${A}/runs`, {}, 200);
    await hit('GET', `${A}/runs/${run.json.id}`, {}, 200);
    const again = await hit<{ id: string }>('POST', `${A}/runs/${run.json.id}/rerun`, { body: {} }, 202);
    await hit('POST', `${A}/runs/${again.json.id}/abort`, {}, 200);
    const second2 = await hit<{ id: string }>(
      'POST',
      `${A}/playbooks/ask-then-comment/runs`,
      { body: { incidentId: first.id } },
      202,
    );
    let secondApproval: string | undefined;
    for (let i = 0; i < 100 && !secondApproval; i++) {
      const pending = await call<{ items: { id: string; runId: string }[] }>(
        t.url,
        'GET',
        `${A}/approvals?status=pending`,
        { token: t.adminToken },
      );
      secondApproval = pending.json.items.find((x) => x.runId === second2.json.id)?.id;
      if (!secondApproval) await new Promise((r) => setTimeout(r, 50));
    }
    await hit('POST', `${A}/approvals/${secondApproval}/reject`, { token: ann, body: { comment: 'no' } }, 200);
    await hit('GET', `${A}/actions`, {}, 200);
    await hit('PUT', `${A}/actions/isolateDevice/policy`, { body: { mode: 'approval', expiryMs: 86_400_000 } }, 200);
    await hit('PUT', `${A}/secrets/teamsWebhook`, { body: { value: 'https://example.invalid/hook' } }, 204);
    const secrets = await hit('GET', `${A}/secrets`, {}, 200);
    expect(secrets.text).not.toContain('example.invalid');
    await hit('DELETE', `${A}/secrets/teamsWebhook`, {}, 204);
    await hit(
      'PUT',
      `${A}/watchlists/vip`,
      { body: { name: 'VIP users', searchKey: 'upn', items: [{ upn: 'amy@contoso.com', title: 'CFO' }] } },
      204,
    );
    await hit('GET', `${A}/watchlists`, {}, 200);
    const vip = await hit<{ items: unknown[] }>('GET', `${A}/watchlists/vip/items?key=amy@contoso.com`, {}, 200);
    expect(vip.json.items).toHaveLength(1);
    await hit('DELETE', `${A}/watchlists/vip`, {}, 204);
    await hit('DELETE', `${A}/rules/tag-high`, {}, 204);
    await hit('DELETE', `${A}/playbooks/ask-then-comment`, {}, 204);
    await hit('DELETE', `${A}/task-lists/triage`, {}, 204);

    // ── Kusto REST and Log Analytics (shapes in their own tests) ──
    await hit('POST', '/v2/rest/query', { body: { db: 'default', csl: 'Syslog | count' } }, 200);
    await hit('POST', '/v1/rest/query', { body: { db: 'default', csl: 'Syslog | count' } }, 200);
    await hit('POST', '/v1/rest/mgmt', { body: { db: 'default', csl: '.show tables' } }, 200);
    await hit('GET', '/v1/rest/auth/metadata', { token: '' }, 404);
    await hit('POST', '/v1/workspaces/default/query', { body: { query: 'Syslog | count', timespan: 'PT1H' } }, 200);
    await hit(
      'GET',
      `/v1/workspaces/default/query?query=${encodeURIComponent('Syslog | count')}&timespan=PT10M`,
      {},
      200,
    );

    // ── rule deletion, token revocation, member removal, sign-out, audit ──
    await hit('DELETE', `${W}/rules/${ruleId}`, {}, 204);
    await hit('DELETE', `/api/tokens/${tok.json.token.id}`, {}, 204);
    expect((await call(t.url, 'GET', `${W}/tables`, { token: script })).status).toBe(401);
    await hit('DELETE', `${W}/users/${mia}`, {}, 204);
    const audit = await hit<{ items: { action: string; userName: string; kind: string }[] }>(
      'GET',
      `${W}/audit?limit=1000`,
      {},
      200,
    );
    const actions = new Set(audit.json.items.map((a) => a.action));
    for (const a of [
      'incidents.update',
      'queries.run',
      'rules.import',
      'kusto.queryV2',
      'logAnalytics.query',
      'users.create',
      'ingest.table',
    ])
      expect(actions, a).toContain(a);
    await hit('GET', `${W}/audit?kind=query&user=admin`, {}, 200);
    const serverAudit = await hit<{ items: { action: string; status: number }[] }>('GET', '/api/audit', {}, 200);
    expect(serverAudit.json.items.some((a) => a.action === 'auth.login' && a.status === 401)).toBe(true);
    await hit('POST', '/api/auth/logout', {}, 204);
    expect((await call(t.url, 'GET', '/api/auth/me', { token: t.adminToken })).status).toBe(401);

    // Every operation of the document was called.
    const all = Object.values(doc.paths).flatMap((item) => Object.values(item).map((op) => op.operationId));
    const missing = all.filter((id) => !called.has(id));
    expect(missing).toEqual([]);
  }, 120_000);
});
