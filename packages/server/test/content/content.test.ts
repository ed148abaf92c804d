/**
 * The content meta-test (Elastic's `test_all_rules.py` for Vigil's `content/`): every analytic rule and custom
 * detection parses and compiles against the workspace schema without a diagnostic, ids are unique, tactics agree
 * with techniques (ATT&CK table in fixtures/), every rule maps entities and carries inline tests with at least one
 * alerting and one quiet case, and every inline test passes on the real engine (DuckDB). Every query is also valid
 * for Microsoft's analyzer (the rules run in Sentinel too). Watchlists, threat intelligence, the installer, the
 * analyst guide's KQL, and one end-to-end run (custom detection → routed incident → approvals) are checked too.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compile, duckdb } from '@vigil/kql';
import { beforeAll, describe, expect, it } from 'vitest';
import { oracleAnalyze } from '../../../kql/test/support/oracle.js';
import { parseRuleFile } from '../../src/detect/rule-file.js';
import { type RuleTestReport, runRuleTests } from '../../src/detect/rule-tests.js';
import { validateRule } from '../../src/detect/validate.js';
import { compilerWorkspace, runKql } from '../../src/query/query-service.js';
import {
  installContentPack,
  readThreatIntelligence,
  readWatchlists,
  type WatchlistFile,
  watchlistFunction,
} from '../../src/workspaces/content.js';
import { Workspace } from '../../src/workspaces/workspace.js';
import { workspaceDefinitions } from '../conformance/runner.js';

const CONTENT = new URL('../../../../content/', import.meta.url).pathname;
const RULES = join(CONTENT, 'rules');
const ATTACK = JSON.parse(readFileSync(new URL('./fixtures/attack-techniques.json', import.meta.url), 'utf8')) as {
  techniques: Record<string, string[]>;
};

const files = readdirSync(RULES)
  .filter((f) => f.endsWith('.yaml'))
  .sort()
  .map((f) => ({ path: join(RULES, f), name: f, text: readFileSync(join(RULES, f), 'utf8') }));
const definitions = workspaceDefinitions();
let watchlists: WatchlistFile[] = [];
let functions: ReturnType<typeof watchlistFunction>[] = [];

beforeAll(async () => {
  watchlists = await readWatchlists(CONTENT);
  functions = [watchlistFunction(watchlists)];
});

const parsedAll = () => files.flatMap((f) => parseRuleFile(f.text, f.path).map((p) => ({ file: f.name, p })));

describe('content pack: rules', () => {
  it('ships at least 25 rules across endpoint, identity, email and network, with NRT rules and custom detections', () => {
    const rules = parsedAll().map(({ p }) => p.rule);
    expect(rules.length).toBeGreaterThanOrEqual(25);
    expect(rules.filter((r) => r?.kind === 'NRT').length).toBeGreaterThanOrEqual(3);
    const custom = rules.filter((r) => r?.kind === 'CustomDetection');
    expect(custom.length).toBeGreaterThanOrEqual(2);
    const actions = new Set(custom.flatMap((r) => r?.customDetection?.responseActions.map((a) => a.type) ?? []));
    expect(actions).toContain('isolateDevice');
    expect(actions).toContain('disableUser');
    const schema = compilerWorkspace({
      engine: { tables: () => [] } as never,
      definitions,
      functions,
    });
    const domains = new Set<string>();
    for (const { p } of parsedAll()) {
      for (const t of validateRule(p, schema)?.tables ?? []) {
        if (/^(Device|Behavior)/.test(t)) domains.add('endpoint');
        if (/^(Signin|AADNonInteractive|Identity|AuditLogs)/.test(t)) domains.add('identity');
        if (/^(Email|UrlClick|OfficeActivity)/.test(t)) domains.add('email');
        if (/^(CommonSecurityLog|Syslog|DeviceNetworkEvents)$/.test(t)) domains.add('network');
      }
    }
    expect([...domains].sort()).toEqual(['email', 'endpoint', 'identity', 'network']);
  });

  it('every rule parses and compiles against the workspace schema without any diagnostic', () => {
    const schema = compilerWorkspace({ engine: { tables: () => [] } as never, definitions, functions });
    const problems: string[] = [];
    for (const { file, p } of parsedAll()) {
      const analysis = validateRule(p, schema, { missingTimeGenerated: 'error' });
      for (const d of p.diagnostics)
        problems.push(`${file}:${d.line}:${d.column} ${d.severity} ${d.code} ${d.message}`);
      if (!analysis && p.diagnostics.length === 0) problems.push(`${file}: not valid`);
      // NRT rules and continuous custom detections must really run per batch (not on the one-minute fallback).
      const continuous = p.rule?.kind === 'NRT' || p.rule?.customDetection?.period === '0';
      if (continuous && analysis?.mode !== 'nrt') problems.push(`${file}: continuous rule runs as ${analysis?.mode}`);
    }
    expect(problems).toEqual([]);
  });

  it("every query is valid KQL for Microsoft's analyzer (Kusto.Language): the rules also run in Sentinel", () => {
    const schema = compilerWorkspace({ engine: { tables: () => [] } as never, definitions, functions });
    const problems: string[] = [];
    for (const { file, p } of parsedAll()) {
      if (!p.rule) continue;
      for (const d of oracleAnalyze(p.rule.query, schema).diagnostics)
        if (d.severity === 'error') problems.push(`${file}: ${d.code} ${d.message} at ${d.start}`);
    }
    expect(problems).toEqual([]);
  }, 60_000);

  it("the analyst guide's KQL examples compile for Vigil and for Microsoft's analyzer", () => {
    const schema = compilerWorkspace({ engine: { tables: () => [] } as never, definitions, functions });
    const guide = readFileSync(new URL('../../../../docs/analyst-guide.md', import.meta.url), 'utf8');
    const queries = guide
      .split('```kql')
      .slice(1)
      .flatMap((b) => (b.split('```')[0] ?? '').split(/\n\s*\n/))
      .filter((q) => q.trim());
    expect(queries.length).toBeGreaterThanOrEqual(3);
    const problems = queries.flatMap((q) => [
      ...compile(q, schema, { dialect: duckdb, nowMs: Date.now() })
        .diagnostics.filter((d) => d.severity === 'error')
        .map((d) => `vigil: ${d.message} in ${q.slice(0, 40)}`),
      ...oracleAnalyze(q, schema)
        .diagnostics.filter((d) => d.severity === 'error')
        .map((d) => `kusto: ${d.message} in ${q.slice(0, 40)}`),
    ]);
    expect(problems).toEqual([]);
  });

  it('ids are unique GUIDs and file names are unique rule names', () => {
    const ids = parsedAll().map(({ p }) => p.rule?.id ?? '');
    expect(ids.filter((id) => !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id))).toEqual([]);
    expect(new Set(ids).size).toBe(ids.length);
    const names = parsedAll().map(({ p }) => p.rule?.name.toLowerCase());
    expect(new Set(names).size).toBe(names.length);
  });

  it('tactics are consistent with techniques (ATT&CK), and every rule has both', () => {
    const problems: string[] = [];
    for (const { file, p } of parsedAll()) {
      const r = p.rule;
      if (!r) continue;
      if (r.tactics.length === 0 || r.techniques.length === 0) problems.push(`${file}: needs tactics and techniques`);
      const allowed = new Set<string>();
      for (const t of r.techniques) {
        const tactics = ATTACK.techniques[t.split('.')[0] ?? ''];
        if (!tactics) problems.push(`${file}: ${t} is not in the ATT&CK fixture table`);
        else {
          if (!tactics.some((x) => r.tactics.includes(x)))
            problems.push(`${file}: ${t} belongs to ${tactics.join('/')}, none of which the rule lists`);
          for (const x of tactics) allowed.add(x);
        }
      }
      for (const t of r.tactics)
        if (!allowed.has(t)) problems.push(`${file}: tactic ${t} matches none of the techniques`);
    }
    expect(problems).toEqual([]);
  });

  it('every rule maps entities (Sentinel rules) or impacted assets (custom detections)', () => {
    const missing = parsedAll()
      .filter(({ p }) =>
        p.rule?.kind === 'CustomDetection'
          ? (p.rule.customDetection?.impactedAssets.length ?? 0) === 0
          : (p.rule?.entityMappings.length ?? 0) === 0,
      )
      .map(({ file }) => file);
    expect(missing).toEqual([]);
  });

  it('every rule carries inline tests: at least one that alerts and one that stays quiet', () => {
    const problems: string[] = [];
    for (const { file, p } of parsedAll()) {
      const tests = p.rule?.tests ?? [];
      if (!tests.some((t) => (t.expect.alerts ?? 0) > 0 && (t.expect.contains?.length ?? 0) > 0))
        problems.push(`${file}: no test expecting alerts with their content`);
      if (!tests.some((t) => t.expect.alerts === 0)) problems.push(`${file}: no test expecting no alert`);
    }
    expect(problems).toEqual([]);
  });

  describe('inline tests on the real engine', () => {
    let report: RuleTestReport;
    beforeAll(async () => {
      report = await runRuleTests(
        files.map((f) => ({ text: f.text, path: f.name })),
        definitions,
        { missingTimeGenerated: 'error', functions },
      );
    }, 120_000);

    it('every rule validates and is tested', () => {
      expect(report.invalid.map((p) => `${p.path}: ${p.diagnostics.map((d) => d.message).join('; ')}`)).toEqual([]);
      expect(report.untested).toEqual([]);
      expect(report.results.length).toBeGreaterThanOrEqual(2 * files.length);
    });

    it('every inline test passes', () => {
      const failed = report.results
        .filter((r) => !r.passed)
        .map((r) => `${r.path} — ${r.test}: ${r.failures.join('; ')}`);
      expect(failed).toEqual([]);
    });
  });
});

describe('content pack: watchlists and threat intelligence', () => {
  it('watchlists have unique aliases, their search key in every item, and are used by rules', () => {
    expect(watchlists.length).toBeGreaterThanOrEqual(1);
    expect(new Set(watchlists.map((w) => w.alias)).size).toBe(watchlists.length);
    for (const w of watchlists) {
      expect(w.items.length, w.alias).toBeGreaterThan(0);
      expect(
        w.items.filter((i) => typeof i[w.searchKey] !== 'string' || i[w.searchKey] === ''),
        w.alias,
      ).toEqual([]);
      expect(
        files.some((f) => f.text.includes(`_GetWatchlist('${w.alias}')`)),
        `no rule reads ${w.alias}`,
      ).toBe(true);
    }
  });

  it('threat-intelligence rows use ThreatIntelligenceIndicator columns and are active', async () => {
    const rows = await readThreatIntelligence(CONTENT);
    expect(rows.length).toBeGreaterThanOrEqual(5);
    const columns = new Set(
      definitions.find((d) => d.name === 'ThreatIntelligenceIndicator')?.columns.map((c) => c.name),
    );
    const unknown = rows.flatMap((r) => Object.keys(r).filter((k) => !columns.has(k)));
    expect(unknown).toEqual([]);
    expect(rows.every((r) => r.Active === true && typeof r.IndicatorId === 'string')).toBe(true);
    expect(new Set(rows.map((r) => r.IndicatorId)).size).toBe(rows.length);
  });
});

describe('content pack: installer', () => {
  it('installs watchlists, indicators, every rule and the automation content into a fresh workspace', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-content-'));
    const ws = await Workspace.open(
      join(dir, 'ws'),
      { name: 'content', displayName: 'content', createdAt: new Date().toISOString(), createdBy: 'test' },
      { schema: definitions, scheduler: false, engine: { threads: 1, connections: 2 } },
    );
    try {
      const report = await installContentPack(ws, CONTENT);
      expect(report.rules.filter((r) => r.status !== 'created')).toEqual([]);
      expect(report.rules.length).toBe(parsedAll().length);
      expect(report.automation.filter((a) => !a.ok)).toEqual([]);
      expect(report.watchlists).toBe(watchlists.length);
      expect((await ws.automation?.watchlists())?.map((w) => w.alias).sort()).toEqual(
        watchlists.map((w) => w.alias).sort(),
      );
      expect(ws.functions.get('_GetWatchlist')).toBeDefined();
      expect((await ws.detection.listRules()).length).toBe(report.rules.length);
      const out = await runKql(ws.query, 'ThreatIntelligenceIndicator | count');
      const rows = (await out.result?.rows()) ?? [];
      await out.result?.close();
      expect(Number(rows[0]?.[0])).toBe(report.indicators);
      // Installing again (every `vigil demo` start) changes no rule and loads the automation again without error.
      const again = await installContentPack(ws, CONTENT, { indicators: false });
      expect(again.rules.filter((r) => r.status !== 'unchanged')).toEqual([]);
      expect(again.automation.filter((a) => !a.ok)).toEqual([]);
      expect(again.indicators).toBe(0);

      // An analyst's watchlist edit reaches `_GetWatchlist` at once (rules see it at their next run), and the
      // pack's reinstall keeps it; deleting the watchlist removes its rows.
      const actor = { type: 'user' as const, id: 'ana', name: 'Ana' };
      const keys = async (alias: string) => {
        const r = await runKql(
          ws.query,
          `_GetWatchlist('${alias}') | project SearchKey, U = tostring(WatchlistItem.UserPrincipalName)`,
        );
        expect(r.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
        const rows = ((await r.result?.rows()) ?? []).map((x) => `${x[0]}|${x[1]}`);
        await r.result?.close();
        return rows;
      };
      await ws.automation?.putWatchlist(
        { alias: 'AnalystVIPs', searchKey: 'UserPrincipalName', items: [{ UserPrincipalName: 'cfo@contoso.com' }] },
        actor,
      );
      expect(await keys('AnalystVIPs')).toEqual(['cfo@contoso.com|cfo@contoso.com']);
      await installContentPack(ws, CONTENT, { indicators: false });
      expect(await keys('AnalystVIPs')).toEqual(['cfo@contoso.com|cfo@contoso.com']);
      expect((await keys(watchlists[0]?.alias ?? '')).length).toBe(watchlists[0]?.items.length);
      await ws.automation?.deleteWatchlist('AnalystVIPs');
      expect(await keys('AnalystVIPs')).toEqual([]);
    } finally {
      await ws.close().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('content pack: end to end in a workspace', () => {
  it('shipped custom detections open a tagged, routed incident; isolation and account disablement wait for approval', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'vigil-content-e2e-'));
    const ws = await Workspace.open(
      join(dir, 'ws'),
      { name: 'content-e2e', displayName: 'content e2e', createdAt: new Date().toISOString(), createdBy: 'test' },
      { schema: definitions, engine: { threads: 1, connections: 2 } },
    );
    try {
      await installContentPack(ws, CONTENT, { indicators: false });
      const deviceId = 'a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0';
      const serverId = 'b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1';
      const adminSid = 'S-1-5-21-1004336348-1177238915-682003330-500';
      await ws.ingest.ingestRows(
        'DeviceProcessEvents',
        [
          {
            Timestamp: new Date().toISOString(),
            ReportId: 90001,
            DeviceId: deviceId,
            DeviceName: 'ws-fin-0231.contoso.local',
            ActionType: 'ProcessCreated',
            AccountName: 'amorgan',
            AccountDomain: 'CONTOSO',
            AccountSid: 'S-1-5-21-1004336348-1177238915-682003330-1107',
            AccountUpn: 'alex.morgan@contoso.com',
            FileName: 'rundll32.exe',
            ProcessCommandLine:
              'rundll32.exe C:\\Windows\\System32\\comsvcs.dll, MiniDump 684 C:\\Windows\\Temp\\dump.bin full',
            InitiatingProcessFileName: 'powershell.exe',
          },
          {
            Timestamp: new Date().toISOString(),
            ReportId: 90002,
            DeviceId: serverId,
            DeviceName: 'srv-file-01.contoso.local',
            ActionType: 'ProcessCreated',
            AccountName: 'adm-lee.gu',
            AccountDomain: 'CONTOSO',
            AccountSid: adminSid,
            FileName: 'vssadmin.exe',
            ProcessCommandLine: 'vssadmin.exe delete shadows /all /quiet',
            InitiatingProcessFileName: 'cmd.exe',
          },
        ],
        'test',
      );
      // The continuous custom detection runs on the committed batch; automation reacts to the incident.
      const deadline = Date.now() + 60_000;
      let pending: Awaited<ReturnType<NonNullable<typeof ws.automation>['listApprovals']>> = [];
      let incident: Awaited<ReturnType<typeof ws.incidents.list>>['items'][number] | undefined;
      while (Date.now() < deadline) {
        await ws.automation?.idle();
        pending = (await ws.automation?.listApprovals({ status: 'pending' })) ?? [];
        incident = (await ws.incidents.list()).items.find((i) => i.tags.includes('defender-xdr'));
        if (pending.length >= 4 && incident) break;
        await new Promise((r) => setTimeout(r, 250));
      }
      expect(pending.map((a) => `${a.action}:${a.target?.id}`).sort()).toEqual([
        `collectInvestigationPackage:${deviceId}`,
        `disableUser:${adminSid}`,
        `isolateDevice:${deviceId}`,
        `isolateDevice:${serverId}`,
      ]);
      expect(incident?.owner?.assignedTo).toBe('Tier 1 queue');
      const tasks = incident ? await ws.incidents.tasks(incident.id) : [];
      expect(tasks.map((t) => t.title).sort()).toEqual([
        'Check endpoint timeline',
        'Confirm user risk',
        'Review Defender incident graph',
      ]);
    } finally {
      await ws.close().catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
