// biome-ignore-all lint/suspicious/noTemplateCurlyInString: playbook expressions are written `${{ ... }}` inside plain strings.
/**
 * Playbooks end to end on a real stack (SQLite state, incident service, DuckDB workspace) with real receivers on
 * 127.0.0.1: the shipped enrichment playbook (threat-intelligence look-up, a comment, a Teams card), Slack and
 * Jira/webhook tickets, asset owners, KQL with bound parameters, watchlists, retries with backoff and a stable
 * idempotency key, timeouts, the outbound guard, abort and re-run, run history, and secrets kept out of it.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { host, ip, productAlertRow } from '../incidents/helpers.js';
import { ADMIN, openStack, Receiver, type Stack, waitFor } from './helpers.js';

const CONTENT = new URL('../../../../content/automation/', import.meta.url);
let stack: Stack;
let teams: Receiver;
let slack: Receiver;
let jira: Receiver;
let flaky: Receiver;
const day = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString();

beforeAll(async () => {
  stack = await openStack({ workspace: true });
  teams = await Receiver.start(() => ({ status: 200, body: 1 }));
  slack = await Receiver.start(() => ({ status: 200, body: 'ok' }));
  jira = await Receiver.start((r) =>
    r.url === '/rest/api/2/issue' ? { status: 201, body: { id: '10042', key: 'SEC-42', self: 'x' } } : { status: 404 },
  );
  flaky = await Receiver.start();
  await stack.ingest('ThreatIntelligenceIndicator', [
    {
      TimeGenerated: day(-2),
      IndicatorId: 'ti-1',
      NetworkIP: '203.0.113.50',
      Active: true,
      ExpirationDateTime: day(30),
      ThreatType: 'C2',
      Description: 'Cobalt Strike team server',
      ConfidenceScore: 90,
      IndicatorProvider: 'Contoso TI',
    },
    {
      TimeGenerated: day(-5),
      IndicatorId: 'ti-2',
      NetworkIP: '198.51.100.7',
      Active: true,
      ExpirationDateTime: day(-1),
      ThreatType: 'Botnet',
      Description: 'expired indicator',
      ConfidenceScore: 50,
      IndicatorProvider: 'Contoso TI',
    },
  ]);
  await stack.ingest('DeviceInfo', [
    {
      Timestamp: day(-1),
      DeviceId: 'dev-ws77',
      DeviceName: 'ws77.contoso.com',
      MachineGroup: 'Finance',
      AssetValue: 'High',
      OSPlatform: 'Windows11',
      LoggedOnUsers: JSON.stringify([{ UserName: 'carol', DomainName: 'CONTOSO', Sid: 'S-1-5-21-1-2-3-1107' }]),
    },
  ]);
  await stack.ingest('IdentityInfo', [
    {
      Timestamp: day(-1),
      AccountUpn: 'carol@contoso.com',
      AccountName: 'carol',
      AccountDomain: 'contoso.com',
      AccountDisplayName: 'Carol Jones',
      Department: 'Finance',
      JobTitle: 'Controller',
      Manager: 'dave@contoso.com',
      EmailAddress: 'carol@contoso.com',
      OnPremSid: 'S-1-5-21-1-2-3-1107',
      AccountObjectId: '8d3f1d6e-0000-4000-8000-000000000001',
    },
  ]);
}, 120_000);

afterAll(async () => {
  await stack.close();
  for (const r of [teams, slack, jira, flaky]) await r.close();
});

async function incident(title: string, entities: Parameters<typeof productAlertRow>[0]['entities']) {
  const r = await stack.incidents.ingestProductAlerts([
    productAlertRow({ product: 'mde', title, entities, atMs: Date.now() }),
  ]);
  await stack.incidents.flush();
  await stack.automation.idle();
  return r.alerts[0]?.incidentId as string;
}

async function playbook(yaml: string) {
  const r = await stack.automation.putPlaybook(yaml, ADMIN);
  expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return r.value;
}

async function runToEnd(id: string, incidentId: string) {
  const run = await stack.automation.startRun(id, { kind: 'incident', incidentId }, ADMIN);
  await stack.automation.idle();
  return (
    (await stack.automation.run(run.id)) ??
    (() => {
      throw new Error('no run');
    })()
  );
}

describe('the enrichment playbook', () => {
  it('looks IPs up in threat intelligence, comments on the incident and posts a Teams card, started by a rule', async () => {
    const webhook = `${teams.url}/webhookb2/0000-SECRET-TEAMS-PATH`;
    await stack.automation.secrets.set('teamsWebhook', webhook, ADMIN);
    await playbook(readFileSync(new URL('playbooks/enrich-incident-ips.yaml', CONTENT), 'utf8'));
    const rule = readFileSync(new URL('rules/enrich-ip-incidents.yaml', CONTENT), 'utf8').replace(
      'enabled: false',
      'enabled: true',
    );
    expect((await stack.automation.putRule(rule, ADMIN)).value?.enabled).toBe(true);
    const id = await incident('Connection to a known C2 server', [
      host('ws10'),
      ip('203.0.113.50'),
      ip('192.0.2.10'),
      ip('198.51.100.7'),
    ]);
    const runs = await waitFor(async () => {
      const r = await stack.automation.runs({ incidentId: id });
      return r.items.length > 0 && r.items.every((x) => x.status === 'succeeded') ? r : null;
    }, 'the enrichment run');
    expect(runs.items).toHaveLength(1);
    expect(runs.items[0]?.trigger.startedBy).toMatchObject({ type: 'automation-rule', id: 'enrich-ip-incidents' });

    // One comment, for the one active indicator (the other is expired, the third unknown).
    const comments = await stack.incidents.comments(id);
    expect(comments).toHaveLength(1);
    expect(comments[0]?.message).toBe(
      'Threat intelligence: 203.0.113.50 is a known C2 indicator (Contoso TI, confidence 90): Cobalt Strike team server',
    );
    expect(comments[0]?.author).toMatchObject({ type: 'playbook', id: 'enrich-incident-ips' });

    // The Teams card: Adaptive Card in a message, as Teams incoming webhooks take it.
    expect(teams.requests).toHaveLength(1);
    const card = teams.requests[0];
    expect(card?.url).toBe('/webhookb2/0000-SECRET-TEAMS-PATH');
    expect(card?.headers['content-type']).toBe('application/json');
    expect(typeof card?.headers['idempotency-key']).toBe('string');
    const inc = await stack.incidents.getIncident(id);
    const n = inc?.number;
    expect(card?.json).toEqual({
      type: 'message',
      attachments: [
        {
          contentType: 'application/vnd.microsoft.card.adaptive',
          contentUrl: null,
          content: {
            $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
            type: 'AdaptiveCard',
            version: '1.4',
            body: [
              { type: 'TextBlock', size: 'Medium', weight: 'Bolder', text: `Incident ${n}: ${inc?.title}`, wrap: true },
              { type: 'TextBlock', text: '203.0.113.50 matched threat intelligence.', wrap: true },
              {
                type: 'FactSet',
                facts: [
                  { title: 'Severity', value: 'Medium' },
                  { title: 'Products', value: 'Microsoft Defender Advanced Threat Protection' },
                  { title: 'IPs checked', value: '3' },
                ],
              },
            ],
            actions: [
              { type: 'Action.OpenUrl', title: 'Open the incident', url: `https://vigil.example/incidents/${n}` },
            ],
          },
        },
      ],
    });

    // Run history: every step with its input and output; the webhook URL only masked.
    const detail = await stack.automation.run(runs.items[0]?.id as string);
    expect(detail?.steps.map((s) => [s.key, s.status])).toEqual([
      ['per-ip', 'succeeded'],
      ['per-ip[0].ti', 'succeeded'],
      ['per-ip[0].note', 'succeeded'],
      ['per-ip[1].ti', 'succeeded'],
      ['per-ip[1].note', 'skipped'],
      ['per-ip[2].ti', 'succeeded'],
      ['per-ip[2].note', 'skipped'],
      ['known', 'succeeded'],
      ['teams', 'succeeded'],
    ]);
    const text = JSON.stringify(detail);
    expect(text).not.toContain('SECRET-TEAMS-PATH');
    expect(text).toContain('***teamsWebhook***');
    expect(detail?.steps.find((s) => s.key === 'per-ip[0].ti')?.output).toMatchObject({
      found: true,
      indicatorType: 'ip',
      matches: [{ IndicatorId: 'ti-1', Source: 'ThreatIntelligenceIndicator', ThreatType: 'C2' }],
    });
    expect(detail?.logs.map((l) => l.message)).toContain('succeeded');
    await stack.automation.setRuleEnabled('enrich-ip-incidents', false, ADMIN);
  });
});

describe('notifications, tickets, look-ups', () => {
  it('posts Slack messages and opens Jira and webhook tickets in their documented shapes', async () => {
    await stack.automation.secrets.set('slackWebhook', `${slack.url}/services/T0/B0/SLACKSECRET`, ADMIN);
    await stack.automation.secrets.set('jiraToken', 'jira-api-token-SECRET', ADMIN);
    await playbook(`id: route
name: Route to Slack and Jira
trigger: { kind: incident }
steps:
  - id: jira
    type: ticket
    system: jira
    url: ${jira.url}/
    auth: { basic: { username: soc-bot@contoso.com, password: "\${{ secrets.jiraToken }}" } }
    project: SEC
    title: "[Vigil] \${{ trigger.incident.title }}"
    description: "\${{ trigger.incident.alertCount }} alert(s)"
    labels: [vigil, auto triage]
  - id: hook
    type: ticket
    system: webhook
    url: ${flaky.url}/tickets
    title: "\${{ trigger.incident.title }}"
    fields: { queue: soc }
  - id: slack
    type: notifySlack
    webhook: \${{ secrets.slackWebhook }}
    title: New ticket \${{ steps.jira.output.key }}
    text: "<script> & \${{ trigger.incident.title }}"
    fields: { Severity: "\${{ trigger.incident.severity }}", Ticket: "\${{ steps.jira.output.url }}" }
  - id: note
    type: comment
    message: "Ticket \${{ steps.jira.output.key }}: \${{ steps.jira.output.url }}"
`);
    const id = await incident('Ransomware behavior detected', [host('ws11')]);
    const d = await runToEnd('route', id);
    expect(d.run.status).toBe('succeeded');
    const title = (await stack.incidents.getIncident(id))?.title as string;
    expect(title).toMatch(/^Ransomware behavior detected/);
    const issue = jira.to('/rest/api/2/issue')[0];
    expect(issue?.headers.authorization).toBe(
      `Basic ${Buffer.from('soc-bot@contoso.com:jira-api-token-SECRET').toString('base64')}`,
    );
    expect(issue?.json).toEqual({
      fields: {
        project: { key: 'SEC' },
        summary: `[Vigil] ${title}`,
        description: '1 alert(s)',
        issuetype: { name: 'Task' },
        labels: ['vigil', 'auto-triage'],
        priority: { name: 'Medium' },
      },
    });
    expect(flaky.to('/tickets')[0]?.json).toMatchObject({
      title,
      severity: 'Medium',
      source: 'vigil',
      queue: 'soc',
      incident: { id, title },
    });
    expect(slack.requests[0]?.url).toBe('/services/T0/B0/SLACKSECRET');
    expect(slack.requests[0]?.json).toEqual({
      text: `New ticket SEC-42: <script> & ${title}`,
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'New ticket SEC-42', emoji: true } },
        { type: 'section', text: { type: 'mrkdwn', text: `&lt;script&gt; &amp; ${title}` } },
        {
          type: 'section',
          fields: [
            { type: 'mrkdwn', text: '*Severity*\nMedium' },
            { type: 'mrkdwn', text: `*Ticket*\n${jira.url}/browse/SEC-42` },
          ],
        },
      ],
    });
    expect((await stack.incidents.comments(id)).map((c) => c.message)).toEqual([
      `Ticket SEC-42: ${jira.url}/browse/SEC-42`,
    ]);
    const text = JSON.stringify(d);
    for (const secret of [
      'SLACKSECRET',
      'jira-api-token-SECRET',
      Buffer.from('soc-bot@contoso.com:jira-api-token-SECRET').toString('base64'),
    ])
      expect(text).not.toContain(secret);
  });

  it('finds asset owners through DeviceInfo and IdentityInfo, and watchlists', async () => {
    await stack.automation.putWatchlist(
      { alias: 'server-owners', searchKey: 'Host', items: [{ Host: 'srv-db1', Owner: 'erin@contoso.com', Tier: '0' }] },
      ADMIN,
    );
    await playbook(`id: owners
name: Owners
trigger: { kind: incident }
steps:
  - { id: device, type: lookupAssetOwner, asset: "\${{ first(entities('host')) }}" }
  - { id: account, type: lookupAssetOwner, asset: CONTOSO\\carol }
  - { id: server, type: lookupAssetOwner, asset: srv-db1, sources: [watchlist], watchlist: server-owners }
  - { id: nobody, type: lookupAssetOwner, asset: ws-unknown }
  - { id: vip, type: lookupWatchlist, watchlist: server-owners, key: SRV-DB1 }
`);
    const id = await incident('Credential dumping', [host('ws77')]);
    const d = await runToEnd('owners', id);
    expect(d.run.status).toBe('succeeded');
    const out = (k: string) => d.steps.find((s) => s.key === k)?.output as Record<string, unknown>;
    expect(out('device')).toMatchObject({
      found: true,
      assetType: 'host',
      source: 'deviceInfo+identityInfo',
      device: { deviceId: 'dev-ws77', machineGroup: 'Finance', assetValue: 'High' },
      owner: {
        upn: 'carol@contoso.com',
        displayName: 'Carol Jones',
        manager: 'dave@contoso.com',
        department: 'Finance',
      },
    });
    expect(out('account')).toMatchObject({ found: true, assetType: 'account', owner: { upn: 'carol@contoso.com' } });
    expect(out('server')).toMatchObject({ found: true, source: 'watchlist', owner: { upn: 'erin@contoso.com' } });
    expect(out('nobody')).toMatchObject({ found: false, owner: null });
    expect(out('vip')).toMatchObject({ found: true, count: 1, item: { Host: 'srv-db1', Tier: '0' } });
  });

  it('binds KQL parameters as literals: hostile values do not change the query', async () => {
    await playbook(`id: kql
name: KQL
trigger: { kind: manual }
inputs: { name: { type: string, required: true } }
steps:
  - id: q
    type: kql
    query: "DeviceInfo | where DeviceName == name or DeviceId == name | project DeviceId"
    parameters: { name: "\${{ inputs.name }}" }
  - id: n
    type: kql
    query: "print x = n * 2, s = strcat(t, '!'), b = f"
    parameters: { n: 21, t: "a\\"b", f: true }
`);
    const hostile = await stack.automation.startRun(
      'kql',
      { kind: 'manual', inputs: { name: 'x" or 1==1 or DeviceName != "' } },
      ADMIN,
    );
    const good = await stack.automation.startRun(
      'kql',
      { kind: 'manual', inputs: { name: 'ws77.contoso.com' } },
      ADMIN,
    );
    await stack.automation.idle();
    const rows = async (runId: string, key: string) =>
      ((await stack.automation.run(runId))?.steps.find((s) => s.key === key)?.output as { rows: unknown[] } | undefined)
        ?.rows;
    expect(await rows(hostile.id, 'q')).toEqual([]);
    expect(await rows(good.id, 'q')).toEqual([{ DeviceId: 'dev-ws77' }]);
    expect(await rows(good.id, 'n')).toEqual([{ x: 42, s: 'a"b!', b: true }]);
    await expect(stack.automation.startRun('kql', { kind: 'manual', inputs: {} }, ADMIN)).rejects.toThrow(
      /input 'name' is required/,
    );
  });
});

describe('retries, timeouts, the outbound guard', () => {
  it('retries transient failures with backoff and one idempotency key', async () => {
    let calls = 0;
    flaky.respond = (r) =>
      r.url.startsWith('/flaky')
        ? ++calls <= 2
          ? { status: 503 }
          : { status: 200, body: { done: true } }
        : { status: 200 };
    await playbook(`id: retry
name: Retry
trigger: { kind: manual }
steps:
  - { id: call, type: http, method: POST, url: "${flaky.url}/flaky", body: { a: 1 }, retry: { attempts: 4, backoff: 0.05s, factor: 2 } }
`);
    const t0 = Date.now();
    const run = await stack.automation.startRun('retry', { kind: 'manual' }, ADMIN);
    await stack.automation.idle();
    const d = await stack.automation.run(run.id);
    expect(d?.run.status).toBe('succeeded');
    const step = d?.steps[0];
    expect(step).toMatchObject({ status: 'succeeded', attempts: 3, output: { status: 200, json: { done: true } } });
    const keys = flaky.to('/flaky').map((r) => r.headers['idempotency-key']);
    expect(keys).toHaveLength(3);
    expect(new Set(keys).size).toBe(1);
    expect(keys[0]).toBe(step?.idempotencyKey);
    // 50 ms then 100 ms of backoff.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(150);
    expect(d?.logs.filter((l) => l.level === 'warn').map((l) => l.message)).toEqual([
      `attempt 1 failed (POST 127.0.0.1:${new URL(flaky.url).port} answered 503); retrying in 50 ms`,
      `attempt 2 failed (POST 127.0.0.1:${new URL(flaky.url).port} answered 503); retrying in 100 ms`,
    ]);
  });

  it('times out a step, fails the run unless continueOnError, and refuses private targets without retrying', async () => {
    flaky.respond = (r) => (r.url.startsWith('/hang') ? 'hang' : { status: 200 });
    await playbook(`id: slow
name: Slow
trigger: { kind: manual }
steps:
  - { id: soft, type: http, url: "${flaky.url}/hang", timeout: 1s, retry: { attempts: 1 }, continueOnError: true }
  - { id: guarded, type: http, url: "http://10.0.0.1/metadata" }
  - { id: never, type: setVariable, variable: x, value: 1 }
`);
    const run = await stack.automation.startRun('slow', { kind: 'manual' }, ADMIN);
    await stack.automation.idle();
    const d = await stack.automation.run(run.id);
    expect(d?.run.status).toBe('failed');
    expect(d?.run.error).toMatch(/10\.0\.0\.1 is a private address/);
    expect(d?.steps.map((s) => [s.key, s.status, s.attempts])).toEqual([
      ['soft', 'failed', 1],
      ['guarded', 'failed', 1],
    ]);
    expect(d?.steps[0]?.error).toBe('the step timed out after 1000 ms');
  });
});

describe('abort, re-run, history', () => {
  it('aborts a run in flight and re-runs it; history filters by playbook, incident and status', async () => {
    let hang = true;
    flaky.respond = (r) =>
      r.url.startsWith('/abortable') ? (hang ? 'hang' : { status: 200, body: { ok: 1 } }) : { status: 200 };
    await playbook(`id: abortable
name: Abortable
trigger: { kind: incident }
steps:
  - { id: call, type: http, method: POST, url: "${flaky.url}/abortable", body: { incident: "\${{ trigger.incident.number }}" }, timeout: 5m }
  - { id: after, type: comment, message: done }
`);
    const id = await incident('Abort me', [host('ws12')]);
    const run = await stack.automation.startRun('abortable', { kind: 'incident', incidentId: id }, ADMIN);
    await waitFor(async () => flaky.to('/abortable').length > 0, 'the call');
    const aborted = await stack.automation.abortRun(run.id, ADMIN);
    expect(aborted).toMatchObject({ status: 'aborted', abortedBy: { id: ADMIN.id } });
    const d = await stack.automation.run(run.id);
    expect(d?.steps.map((s) => [s.key, s.status])).toEqual([['call', 'aborted']]);
    await expect(stack.automation.abortRun(run.id, ADMIN)).rejects.toThrow(/already aborted/);
    hang = false;
    const again = await stack.automation.rerun(run.id, ADMIN);
    await stack.automation.idle();
    const d2 = await stack.automation.run(again.id);
    expect(d2?.run).toMatchObject({ status: 'succeeded', rerunOf: run.id, incidentId: id });
    expect((await stack.incidents.comments(id)).map((c) => c.message)).toEqual(['done']);
    expect((await stack.automation.runs({ incidentId: id })).items.map((r) => r.status)).toEqual([
      'succeeded',
      'aborted',
    ]);
    expect(
      (await stack.automation.runs({ playbookId: 'abortable', status: 'aborted' })).items.map((r) => r.id),
    ).toEqual([run.id]);
    const page1 = await stack.automation.runs({ limit: 2 });
    expect(page1.items).toHaveLength(2);
    const page2 = await stack.automation.runs({ limit: 2, cursor: page1.nextCursor });
    expect(page2.items.some((r) => page1.items.some((x) => x.id === r.id))).toBe(false);
  });

  it('keeps the version a run started with; new runs use the latest version', async () => {
    await playbook(
      'id: versioned\nname: V1\ntrigger: { kind: manual }\nsteps:\n  - { id: v, type: setVariable, variable: v, value: 1 }',
    );
    const first = await stack.automation.startRun('versioned', { kind: 'manual' }, ADMIN);
    await playbook(
      'id: versioned\nname: V2\ntrigger: { kind: manual }\nsteps:\n  - { id: v, type: setVariable, variable: v, value: 2 }',
    );
    const second = await stack.automation.startRun('versioned', { kind: 'manual' }, ADMIN);
    await stack.automation.idle();
    const value = async (id: string) =>
      ((await stack.automation.run(id))?.steps[0]?.output as { value: number } | undefined)?.value;
    expect([first.playbookVersion, await value(first.id)]).toEqual([1, 1]);
    expect([second.playbookVersion, await value(second.id)]).toEqual([2, 2]);
    expect((await stack.automation.playbookVersions('versioned')).map((v) => v.version)).toEqual([2, 1]);
  });

  it('fails a run early when a secret it needs is missing', async () => {
    await playbook(
      'id: needs-secret\nname: S\ntrigger: { kind: manual }\nsteps:\n  - { id: p, type: http, url: "${{ secrets.nothere }}" }',
    );
    const run = await stack.automation.startRun('needs-secret', { kind: 'manual' }, ADMIN);
    await stack.automation.idle();
    expect((await stack.automation.run(run.id))?.run).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/secret 'nothere' does not exist/),
    });
  });
});
