/**
 * The queue's list: every filter (status, severity, owner, tags, provider, product, tactic, technique, entity,
 * rule, classification, time ranges, text), every sort, and cursor paging that neither skips nor repeats incidents,
 * checked against the same incidents filtered and sorted in plain TypeScript.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '../../src/incidents/model.js';
import { type IncidentQuery, type ListPlan, listSql, SORT_FIELDS } from '../../src/incidents/queue.js';
import { IncidentError } from '../../src/incidents/service.js';
import {
  account,
  analyst,
  HOUR,
  host,
  ip,
  MIN,
  openStack,
  productAlertRow,
  ruleAlert,
  type Stack,
  T0,
} from './helpers.js';

let s: Stack;
let all: Incident[] = [];

const PRODUCTS = ['mde', 'mdi', 'mdo', 'aadip'] as const;
const TACTICS = ['InitialAccess', 'Execution', 'Persistence', 'CredentialAccess', 'LateralMovement', 'Impact'];
const SEVERITIES = ['Informational', 'Low', 'Medium', 'High'] as const;

beforeAll(async () => {
  s = await openStack({
    settings: {
      correlation: { enabled: false, sharedEntityWindowMs: HOUR, stageWindowMs: HOUR, maxEntitiesPerIncident: 500 },
    },
  });
  // 120 incidents with varied attributes (correlation off: one alert, one incident).
  const rows = Array.from({ length: 100 }, (_, k) =>
    productAlertRow({
      product: PRODUCTS[k % 4] as (typeof PRODUCTS)[number],
      title: k % 7 === 0 ? `Ransomware activity on host ${k}` : `Suspicious activity ${k}`,
      severity: SEVERITIES[(k * 3) % 4],
      tactics: [TACTICS[k % TACTICS.length] as string],
      techniques: [`T10${(k % 9) + 10}`],
      atMs: T0 + ((k * 37) % 100) * MIN,
      entities: [host(`ws-${k % 25}`, `dev-${k}`), account(`user${k % 10}@contoso.com`)],
    }),
  );
  for (let i = 0; i < rows.length; i += 30) {
    s.clock.advance(MIN);
    await s.service.ingestProductAlerts(rows.slice(i, i + 30));
  }
  const ruleRows = Array.from({ length: 20 }, (_, k) =>
    ruleAlert({ ruleId: `rule-${k % 3}`, title: `Rule hit ${k}`, atMs: T0 + k * MIN, entities: [ip(`10.1.0.${k}`)] }),
  );
  s.clock.advance(MIN);
  await s.service.ingestDetectionAlerts(ruleRows);
  const who = analyst('lead@contoso.com');
  for (let n = 1; n <= 120; n++) {
    s.clock.advance(1000);
    if (n % 5 === 0) await s.service.update(n, { owner: { userPrincipalName: `analyst${n % 3}@contoso.com` } }, who);
    if (n % 4 === 0) await s.service.update(n, { addTags: [n % 8 === 0 ? 'VIP' : 'phishing-wave'] }, who);
    if (n % 9 === 0)
      await s.service.update(n, { status: 'Closed', classification: n % 2 ? 'TruePositive' : 'FalsePositive' }, who);
    else if (n % 6 === 0) await s.service.update(n, { status: 'Active' }, who);
  }
  const page = await s.service.list({ limit: 500, sort: 'number', order: 'asc' });
  all = [...page.items];
}, 120_000);

afterAll(async () => {
  await s?.close();
});

/** All pages of a query, following cursors. */
async function everything(q: IncidentQuery, limit = 7, plan?: ListPlan): Promise<number[]> {
  const out: number[] = [];
  let cursor: string | null = null;
  for (let pages = 0; pages < 200; pages++) {
    const page = await s.service.list({ ...q, limit, cursor }, plan ? { plan } : {});
    out.push(...page.items.map((i) => i.number));
    cursor = page.nextCursor;
    if (!cursor) return out;
  }
  throw new Error('paging did not end');
}

const numbers = (list: Incident[]) => list.map((i) => i.number);

describe('filters', () => {
  it('has the incidents it was given', () => {
    expect(all).toHaveLength(120);
  });

  const cases: [string, IncidentQuery, (i: Incident) => boolean][] = [
    ['status', { status: ['Active'] }, (i) => i.status === 'Active'],
    ['two statuses', { status: ['New', 'Closed'] }, (i) => i.status !== 'Active'],
    ['severity', { severity: ['High', 'Low'] }, (i) => i.severity === 'High' || i.severity === 'Low'],
    ['owner', { owner: ['ANALYST1@contoso.com'] }, (i) => i.owner?.userPrincipalName === 'analyst1@contoso.com'],
    ['unassigned', { owner: ['unassigned'] }, (i) => i.owner === null],
    ['tag (case-insensitive)', { tags: ['vip'] }, (i) => i.tags.includes('VIP')],
    ['provider', { provider: ['Azure Sentinel'] }, (i) => i.providerName === 'Azure Sentinel'],
    [
      'product',
      { product: ['Azure Advanced Threat Protection'] },
      (i) => i.productNames.includes('Azure Advanced Threat Protection'),
    ],
    ['tactic', { tactic: ['CredentialAccess'] }, (i) => i.tactics.includes('CredentialAccess')],
    ['technique', { technique: ['t1012'] }, (i) => i.techniques.includes('T1012')],
    ['rule', { ruleId: ['rule-2'] }, (i) => i.ruleIds.includes('rule-2')],
    ['classification', { classification: ['FalsePositive'] }, (i) => i.classification === 'FalsePositive'],
    ['unclassified', { classification: ['none'] }, (i) => i.classification === null],
    ['text', { text: 'RANSOMWARE' }, (i) => /ransomware/i.test(i.title)],
    ['number as text', { text: '#42' }, (i) => i.number === 42],
    [
      'activity window',
      { activityFrom: new Date(T0 + 30 * MIN).toISOString(), activityTo: new Date(T0 + 40 * MIN).toISOString() },
      (i) =>
        (i.lastActivityTime ?? '') >= new Date(T0 + 30 * MIN).toISOString() &&
        (i.firstActivityTime ?? '') <= new Date(T0 + 40 * MIN).toISOString(),
    ],
    [
      'combined',
      {
        status: ['New'],
        severity: ['High', 'Medium'],
        product: ['Azure Advanced Threat Protection'],
        owner: ['analyst1@contoso.com', 'analyst2@contoso.com'],
      },
      (i) =>
        i.status === 'New' &&
        (i.severity === 'High' || i.severity === 'Medium') &&
        i.productNames.includes('Azure Advanced Threat Protection') &&
        ['analyst1@contoso.com', 'analyst2@contoso.com'].includes(i.owner?.userPrincipalName ?? ''),
    ],
  ];
  for (const [name, q, pred] of cases) {
    it(name, async () => {
      const expected = numbers(all.filter(pred)).sort((a, b) => b - a);
      expect(expected.length).toBeGreaterThan(0);
      expect(await everything(q)).toEqual(expected);
      // Both ways of finding a page give the same pages.
      expect(await everything(q, 7, 'sort')).toEqual(expected);
      expect(await everything(q, 7, 'filters')).toEqual(expected);
      if (q.activityTo) expect(await everything(q, 7, 'activity')).toEqual(expected);
    });
  }

  it('entity: a host name, a UPN or an address finds the incidents that hold it', async () => {
    const byHost = await everything({ entity: ['WS-3'] });
    expect(byHost.sort((a, b) => a - b)).toEqual([4, 29, 54, 79]);
    const byUser = await everything({ entity: ['user7@contoso.com'] });
    expect(byUser).toHaveLength(10);
    expect(await everything({ entity: ['10.1.0.5'] })).toEqual([106]);
  });

  it('an activity window in the past is read from the activity index, whatever the sort', async () => {
    const q: IncidentQuery = {
      activityFrom: new Date(T0 + 30 * MIN).toISOString(),
      activityTo: new Date(T0 + 40 * MIN).toISOString(),
      severity: ['High'],
      tags: ['vip'],
    };
    for (const sort of ['number', 'title', 'lastActivityTime'] as const) {
      const { sql, params } = listSql({ ...q, sort }, 'activity');
      const plan = await s.state.all<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, params);
      const steps = plan.map((p) => p.detail).join(' | ');
      expect(steps).toMatch(/SEARCH inc_incidents USING INDEX inc_incidents_activity \(first_activity<\?\)/);
      expect(steps).toMatch(/TEMP B-TREE FOR ORDER BY/);
    }
    expect(() => listSql({ activityFrom: q.activityFrom }, 'activity')).toThrow(/needs activityTo/);
  });

  it('time ranges on creation and modification', async () => {
    const created = all[60]?.createdTime ?? '';
    const expected = numbers(all.filter((i) => i.createdTime >= created)).sort((a, b) => b - a);
    expect(await everything({ createdFrom: created })).toEqual(expected);
    const updatedTo = all[30]?.lastModifiedTime ?? '';
    expect(await everything({ updatedTo })).toEqual(
      numbers(all.filter((i) => i.lastModifiedTime <= updatedTo)).sort((a, b) => b - a),
    );
  });

  it('refuses malformed queries with a clear message', async () => {
    const bad = async (q: IncidentQuery, message: RegExp) => {
      const e = await s.service.list(q).then(
        () => null,
        (x: unknown) => x,
      );
      expect(e).toBeInstanceOf(IncidentError);
      expect((e as Error).message).toMatch(message);
    };
    await bad({ sort: 'owner' as 'title' }, /cannot sort by owner/);
    await bad({ createdFrom: 'yesterday' }, /not a date/);
    await bad({ severity: ['Critical' as 'High'] }, /unknown severity/);
    const page = await s.service.list({ limit: 2, sort: 'title' });
    await bad({ limit: 2, sort: 'severity', cursor: page.nextCursor }, /cursor belongs to another query/);
    await bad({ cursor: 'garbage' }, /cursor/);
  });
});

describe('sorting and cursor paging', () => {
  const key: Record<(typeof SORT_FIELDS)[number], (i: Incident) => string | number> = {
    number: (i) => i.number,
    createdTime: (i) => i.createdTime,
    lastModifiedTime: (i) => i.lastModifiedTime,
    lastActivityTime: (i) => i.lastActivityTime ?? '',
    firstActivityTime: (i) => i.firstActivityTime ?? '',
    severity: (i) => ['Informational', 'Low', 'Medium', 'High'].indexOf(i.severity),
    alertCount: (i) => i.alertCount,
    title: (i) => i.title.toLowerCase(),
  };
  for (const sort of SORT_FIELDS) {
    for (const order of ['asc', 'desc'] as const) {
      it(`${sort} ${order}`, async () => {
        const k = key[sort];
        const expected = [...all]
          .sort((a, b) => {
            const x = k(a);
            const y = k(b);
            const c = x < y ? -1 : x > y ? 1 : a.number - b.number;
            return order === 'asc' ? c : -c;
          })
          .map((i) => i.number);
        expect(await everything({ sort, order }, 11)).toEqual(expected);
        expect(await everything({ sort, order, status: ['New', 'Active', 'Closed'] }, 13, 'filters')).toEqual(expected);
        // From an activity window that holds every incident, sorted after it is found.
        const window = { activityFrom: '2000-01-01T00:00:00.000Z', activityTo: '2100-01-01T00:00:00.000Z' };
        expect(await everything({ sort, order, ...window }, 13, 'activity')).toEqual(expected);
      });
    }
  }

  it('a page stays stable while new incidents arrive', async () => {
    const first = await s.service.list({ limit: 10 });
    await s.service.ingestProductAlerts([
      productAlertRow({ product: 'mde', title: 'Newcomer', atMs: T0, entities: [host('new-host', 'dev-new')] }),
    ]);
    const second = await s.service.list({ limit: 10, cursor: first.nextCursor });
    expect(second.items[0]?.number).toBe((first.items.at(-1)?.number ?? 0) - 1);
    // Merged-away incidents are hidden unless asked for.
    expect((await s.service.list({ includeRedirected: true, limit: 500 })).items.length).toBe(121);
  });
});
