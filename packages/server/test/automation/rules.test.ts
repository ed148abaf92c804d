/**
 * Automation rule conditions (every operator, AND/OR groups, multi-valued properties, changed from/to, added) and
 * rule files (parsing, diagnostics with positions, the title-condition warning, the shipped example rules).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type ConditionContext, evaluateConditions } from '../../src/automation/conditions.js';
import type { ConditionNode, ConditionOperator } from '../../src/automation/model.js';
import { parseRule, parseTaskList, TITLE_CONDITION_WARNING } from '../../src/automation/rules.js';
import type { Actor, Incident } from '../../src/incidents/model.js';

const incident: Incident = {
  id: 'inc-1',
  number: 12,
  title: 'Multi-stage incident involving Initial access & Execution on one endpoint',
  titleManual: false,
  description: 'Defender XDR correlated alerts',
  severity: 'High',
  severityManual: false,
  status: 'New',
  classification: null,
  classificationReason: null,
  classificationComment: null,
  owner: { assignedTo: 'Tier 1 queue', userPrincipalName: null, email: null, objectId: null },
  tags: ['defender-xdr', 'VIP'],
  tactics: ['InitialAccess', 'Execution'],
  techniques: ['T1566', 'T1059.001'],
  providerName: 'Microsoft XDR',
  productNames: ['Microsoft Defender Advanced Threat Protection', 'Office 365 Advanced Threat Protection'],
  ruleIds: [],
  firstActivityTime: null,
  lastActivityTime: null,
  createdTime: '2026-03-02T09:00:00.000Z',
  lastModifiedTime: '2026-03-02T09:00:00.000Z',
  firstModifiedTime: null,
  closedTime: null,
  redirectedTo: null,
  alertCount: 2,
  entityCount: 3,
  commentCount: 0,
  taskCount: 0,
  openTaskCount: 0,
  version: 3,
  lastModifiedBy: { type: 'system', id: 'correlation' },
};

function context(o: {
  trigger?: ConditionContext['trigger'];
  incident?: Incident;
  changes?: string[];
  actor?: Actor;
  previous?: Record<string, unknown>;
}): ConditionContext {
  return {
    trigger: o.trigger ?? 'incidentCreated',
    incident: o.incident ?? incident,
    alert: null,
    changes: new Set(o.changes ?? []),
    actor: o.actor ?? null,
    entities: async () => [
      { type: 'ip', values: ['203.0.113.9'] },
      { type: 'host', values: ['ws01', 'ws01.contoso.com', 'b1e6c4f0'] },
      { type: 'account', values: ['alice@contoso.com', 'alice'] },
    ],
    customDetails: async () => ({ CommandLine: ['powershell -enc AAAA', 'cmd /c whoami'] }),
    previous: async (field) => o.previous?.[field],
  };
}

const leaf = (property: string, operator: ConditionOperator, ...values: string[]): ConditionNode => ({
  property,
  operator,
  values,
});
const check = (node: ConditionNode, c = context({})) => evaluateConditions(node, c);

describe('conditions', () => {
  it('equals / notEquals / in / notIn, case-insensitive', async () => {
    expect(await check(leaf('severity', 'equals', 'high'))).toBe(true);
    expect(await check(leaf('severity', 'notEquals', 'High'))).toBe(false);
    expect(await check(leaf('severity', 'in', 'Medium', 'High'))).toBe(true);
    expect(await check(leaf('severity', 'notIn', 'Low', 'Informational'))).toBe(true);
    expect(await check(leaf('provider', 'equals', 'microsoft xdr'))).toBe(true);
    expect(await check(leaf('status', 'equals', 'Closed'))).toBe(false);
  });

  it('contains / notContains / startsWith / notStartsWith / endsWith / notEndsWith', async () => {
    expect(await check(leaf('description', 'contains', 'CORRELATED'))).toBe(true);
    expect(await check(leaf('description', 'notContains', 'sentinel'))).toBe(true);
    expect(await check(leaf('owner', 'startsWith', 'tier 1'))).toBe(true);
    expect(await check(leaf('owner', 'notStartsWith', 'tier'))).toBe(false);
    expect(await check(leaf('product', 'endsWith', 'threat protection'))).toBe(true);
    expect(await check(leaf('product', 'notEndsWith', 'Protection'))).toBe(false);
  });

  it('multi-valued properties: any value for positive operators, none for negative ones', async () => {
    expect(await check(leaf('tags', 'equals', 'vip'))).toBe(true);
    expect(await check(leaf('tags', 'notEquals', 'vip'))).toBe(false);
    expect(await check(leaf('tags', 'notContains', 'phish'))).toBe(true);
    expect(await check(leaf('tactics', 'in', 'Persistence', 'Execution'))).toBe(true);
    expect(await check(leaf('techniques', 'startsWith', 'T1059'))).toBe(true);
    expect(await check(leaf('product', 'contains', 'Office 365'))).toBe(true);
  });

  it('entities by type and value, and custom details', async () => {
    expect(await check(leaf('entity.ip', 'equals', '203.0.113.9'))).toBe(true);
    expect(await check(leaf('entity.host', 'endsWith', '.contoso.com'))).toBe(true);
    expect(await check(leaf('entity.host', 'equals', '203.0.113.9'))).toBe(false);
    expect(await check(leaf('entity', 'equals', 'alice'))).toBe(true);
    expect(await check(leaf('entity.url', 'notContains', 'x'))).toBe(true);
    expect(await check(leaf('customDetails.commandline', 'contains', '-enc'))).toBe(true);
    expect(await check(leaf('customDetails.Missing', 'equals', 'x'))).toBe(false);
  });

  it('AND / OR groups, nested', async () => {
    const node: ConditionNode = {
      all: [
        { any: [leaf('severity', 'equals', 'Low'), leaf('tags', 'equals', 'VIP')] },
        leaf('provider', 'equals', 'Microsoft XDR'),
        { any: [leaf('entity.ip', 'startsWith', '10.'), leaf('entity.account', 'endsWith', '@contoso.com')] },
      ],
    };
    expect(await check(node)).toBe(true);
    expect(await check({ all: [node, leaf('status', 'equals', 'Active')] })).toBe(false);
    expect(await check({ any: [leaf('status', 'equals', 'Active'), node] })).toBe(true);
  });

  it('updates: changed, changedTo, changedFrom, added, updatedBy', async () => {
    const update = (o: Parameters<typeof context>[0]) => context({ trigger: 'incidentUpdated', ...o });
    const c = update({
      changes: ['severity', 'tags', 'alerts'],
      previous: { severity: 'Medium', tags: ['defender-xdr'] },
      actor: { type: 'analyst', id: 'bob@contoso.com' },
    });
    expect(await check(leaf('severity', 'changed'), c)).toBe(true);
    expect(await check(leaf('status', 'changed'), c)).toBe(false);
    expect(await check(leaf('severity', 'changedTo', 'High'), c)).toBe(true);
    expect(await check(leaf('severity', 'changedFrom', 'Medium'), c)).toBe(true);
    expect(await check(leaf('severity', 'changedFrom', 'Low'), c)).toBe(false);
    expect(await check(leaf('tags', 'added', 'VIP'), c)).toBe(true);
    expect(await check(leaf('tags', 'added', 'defender-xdr'), c)).toBe(false);
    expect(await check(leaf('tags', 'added'), c)).toBe(true);
    expect(await check(leaf('alerts', 'added'), c)).toBe(true);
    expect(await check(leaf('comments', 'added'), c)).toBe(false);
    expect(await check(leaf('updatedBy', 'equals', 'analyst'), c)).toBe(true);
    expect(await check(leaf('updatedBy', 'notIn', 'analyst', 'playbook'), c)).toBe(false);
    // The same conditions on a created incident are false: nothing changed.
    expect(await check(leaf('severity', 'changedTo', 'High'))).toBe(false);
  });
});

describe('rule files', () => {
  const rule = (body: string) =>
    parseRule(`id: r1\nname: Rule one\ntrigger: incidentCreated\n${body}`, { now: Date.parse('2026-03-01T00:00:00Z') });

  it('parses a complete rule', () => {
    const r = rule(`order: 5
expiresAt: 2027-01-01T00:00:00Z
conditions:
  - { property: severity, operator: in, values: [High, Medium] }
  - any:
      - { property: entity.ip, operator: startsWith, value: "10." }
      - { property: tags, operator: equals, value: vip }
actions:
  - changeSeverity: High
  - changeStatus: { status: Closed, classification: BenignPositive, classificationReason: SuspiciousButExpected, comment: known scanner }
  - assignOwner: { userPrincipalName: alice@contoso.com }
  - addTags: [scanner, auto-closed]
  - addTasks: [Check the scanner inventory, { title: Confirm with the owner, description: ask IT }]
  - runPlaybook: enrich-incident-ips
`);
    expect(r.diagnostics).toEqual([]);
    expect(r.rule).toEqual({
      id: 'r1',
      name: 'Rule one',
      description: '',
      order: 5,
      enabled: true,
      trigger: 'incidentCreated',
      expiresAt: '2027-01-01T00:00:00.000Z',
      conditions: {
        all: [
          { property: 'severity', operator: 'in', values: ['High', 'Medium'] },
          {
            any: [
              { property: 'entity.ip', operator: 'startsWith', values: ['10.'] },
              { property: 'tags', operator: 'equals', values: ['vip'] },
            ],
          },
        ],
      },
      actions: [
        { type: 'changeSeverity', severity: 'High' },
        {
          type: 'changeStatus',
          status: 'Closed',
          classification: 'BenignPositive',
          classificationReason: 'SuspiciousButExpected',
          classificationComment: 'known scanner',
        },
        { type: 'assignOwner', owner: { userPrincipalName: 'alice@contoso.com' } },
        { type: 'addTags', tags: ['scanner', 'auto-closed'] },
        {
          type: 'addTasks',
          tasks: [{ title: 'Check the scanner inventory' }, { title: 'Confirm with the owner', description: 'ask IT' }],
        },
        { type: 'runPlaybook', playbookId: 'enrich-incident-ips' },
      ],
    });
  });

  it('warns about title conditions, with the position of the property', () => {
    const text =
      'id: r1\nname: R\ntrigger: incidentCreated\nconditions:\n  - { property: title, operator: contains, value: ransomware }\nactions:\n  - addTags: [x]\n';
    const r = parseRule(text);
    expect(r.rule).not.toBeNull();
    expect(r.diagnostics).toHaveLength(1);
    const d = r.diagnostics[0];
    expect(d).toMatchObject({
      severity: 'warning',
      code: 'rule.title-condition',
      message: TITLE_CONDITION_WARNING,
      line: 5,
    });
    expect(text.slice(d?.start, d?.end)).toBe('title');
  });

  it('reports errors on the field they are about', () => {
    const cases: [string, string, string][] = [
      [
        'conditions:\n  - { property: colour, operator: equals, value: red }\nactions: [{ addTags: [x] }]',
        'conditions[0].property',
        "unknown property 'colour'",
      ],
      [
        'conditions:\n  - { property: severity, operator: like, value: x }\nactions: [{ addTags: [x] }]',
        'conditions[0].operator',
        'operator is one of',
      ],
      [
        'conditions:\n  - { property: severity, operator: changedTo, value: High }\nactions: [{ addTags: [x] }]',
        'conditions[0].operator',
        'needs the incidentUpdated trigger',
      ],
      [
        'conditions:\n  - { property: severity, operator: equals, values: [High, Low] }\nactions: [{ addTags: [x] }]',
        'conditions[0].operator',
        "use 'in'",
      ],
      ['actions: [{ changeStatus: Closed }]', 'actions[0].changeStatus', 'needs a classification'],
      [
        'actions: [{ changeStatus: { status: Closed, classification: FalsePositive, classificationReason: SuspiciousButExpected } }]',
        'actions[0].changeStatus.classificationReason',
        'IncorrectAlertLogic',
      ],
      ['actions: [{ changeSeverity: Critical }]', 'actions[0].changeSeverity', 'severity is one of'],
      ['actions: [{ paint: red }]', 'actions[0].paint', "unknown action 'paint'"],
      ['actions: []', 'actions', 'a rule needs a list of actions'],
      ['order: 0\nactions: [{ addTags: [x] }]', 'order', 'from 1 to 1000'],
      ['expiresAt: soon\nactions: [{ addTags: [x] }]', 'expiresAt', 'ISO 8601'],
      ['colour: red\nactions: [{ addTags: [x] }]', 'colour', "unknown field 'colour'"],
      ['conditions:\n  any: []\nactions: [{ addTags: [x] }]', 'conditions.any', 'non-empty list'],
    ];
    for (const [body, path, message] of cases) {
      const r = rule(body);
      expect(r.rule, body).toBeNull();
      const d = r.diagnostics.find((x) => x.severity === 'error');
      expect(d?.path, body).toBe(path);
      expect(d?.message, body).toContain(message);
      expect(d?.line, body).toBeGreaterThan(0);
    }
  });

  it('alert-created rules can only run playbooks, on alert properties', () => {
    const bad = parseRule('id: a\nname: A\ntrigger: alertCreated\nactions: [{ addTags: [x] }]');
    expect(bad.diagnostics[0]?.message).toContain('can only run playbooks');
    const good = parseRule(
      'id: a\nname: A\ntrigger: alertCreated\nconditions: [{ property: alert.product, operator: contains, value: Defender }]\nactions: [{ runPlaybook: p }]',
    );
    expect(good.diagnostics).toEqual([]);
    const wrong = parseRule(
      'id: a\nname: A\ntrigger: incidentCreated\nconditions: [{ property: alert.product, operator: contains, value: Defender }]\nactions: [{ runPlaybook: p }]',
    );
    expect(wrong.diagnostics[0]?.message).toContain('needs the alertCreated trigger');
  });

  it('warns about an expired rule and accepts YAML syntax errors as diagnostics', () => {
    const expired = rule('expiresAt: 2020-01-01T00:00:00Z\nactions: [{ addTags: [x] }]');
    expect(expired.rule?.expiresAt).toBe('2020-01-01T00:00:00.000Z');
    expect(expired.diagnostics.map((d) => d.code)).toEqual(['rule.expired']);
    const broken = parseRule('id: [unclosed\nname: x');
    expect(broken.rule).toBeNull();
    expect(broken.diagnostics[0]?.code).toBe('yaml.syntax');
  });

  it('the shipped seed rule and task list parse cleanly', () => {
    const seed = parseRule(
      readFileSync(new URL('../../../../content/automation/rules/defender-xdr-triage.yaml', import.meta.url), 'utf8'),
    );
    expect(seed.diagnostics).toEqual([]);
    expect(seed.rule?.trigger).toBe('incidentCreated');
    expect(seed.rule?.actions.map((a) => a.type)).toEqual(['addTags', 'assignOwner', 'addTasks']);
    const list = parseTaskList(
      readFileSync(
        new URL('../../../../content/automation/task-lists/defender-xdr-triage.yaml', import.meta.url),
        'utf8',
      ),
    );
    expect(list.list?.tasks.map((t) => t.title)).toEqual([
      'Review Defender incident graph',
      'Check endpoint timeline',
      'Confirm user risk',
    ]);
  });
});
