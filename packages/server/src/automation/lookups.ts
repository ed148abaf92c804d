/**
 * Look-ups for playbook steps, as KQL over the workspace: threat intelligence (`ThreatIntelligenceIndicator` and
 * the STIX `ThreatIntelIndicators`), asset owners (`DeviceInfo` → the last logged-on user → `IdentityInfo`), and
 * the KQL step itself. Values are bound as typed `let` statements in front of the query (`kqlLiteral`), never
 * spliced into it, so an attacker-controlled entity cannot change a query.
 */
import { isIP } from 'node:net';
import type { QueryWorkspace } from '../query/query-service.js';

export interface QueryRows {
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  readonly rows: readonly Record<string, unknown>[];
  readonly truncated: boolean;
}

export type QueryRunner = (
  query: string,
  options: { timeoutMs: number; signal: AbortSignal; maxRows: number },
) => Promise<QueryRows>;

export class QueryFailure extends Error {
  override readonly name = 'QueryFailure';
}

/** Runs KQL through the query service (compile, create missing declared tables, execute with limits). */
export function workspaceRunner(ws: QueryWorkspace, clock: () => number = Date.now): QueryRunner {
  return async (query, options) => {
    // Loaded on first use: the KQL compiler is large, and many deployments of automation never query.
    const { runKql } = await import('../query/query-service.js');
    const out = await runKql(ws, query, {
      timeoutMs: options.timeoutMs,
      signal: options.signal,
      maxRows: options.maxRows,
      nowMs: clock(),
    });
    if (!out.result) {
      const first = out.diagnostics.find((d) => d.severity === 'error');
      throw new QueryFailure(
        first ? `KQL: ${first.message} (at offset ${first.start})` : `KQL: ${out.error?.message ?? 'failed'}`,
      );
    }
    try {
      const columns = out.result.columns.map((c) => ({ name: c.name, type: c.type }));
      const rows = (await out.result.rows()).map((r) =>
        Object.fromEntries(columns.map((c, i) => [c.name, r[i] ?? null])),
      );
      return { columns, rows, truncated: out.result.truncated !== null };
    } finally {
      await out.result.close();
    }
  };
}

/** A KQL literal for a JSON value. */
export function kqlLiteral(v: unknown): string {
  if (v === null || v === undefined) return 'dynamic(null)';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return 'real(null)';
    return Number.isInteger(v) ? `long(${v})` : `real(${v})`;
  }
  if (typeof v === 'string') return JSON.stringify(v);
  // JSON text is a dynamic literal; quotes inside strings are already JSON-escaped.
  return `dynamic(${JSON.stringify(v)})`;
}

export function withParameters(query: string, parameters: Readonly<Record<string, unknown>>): string {
  const lets = Object.entries(parameters).map(([k, v]) => `let ${k} = ${kqlLiteral(v)};\n`);
  return `${lets.join('')}${query}`;
}

function timespan(ms: number): string {
  return ms % 86_400_000 === 0 ? `${ms / 86_400_000}d` : `${Math.round(ms / 1000)}s`;
}

// ───────────────────────────── threat intelligence ─────────────────────────────

export type IndicatorType = 'ip' | 'domain' | 'url' | 'fileHash' | 'email';

export function indicatorTypeOf(value: string): IndicatorType {
  const v = value.trim();
  if (isIP(v)) return 'ip';
  if (/^[a-f0-9]{32}$|^[a-f0-9]{40}$|^[a-f0-9]{64}$/i.test(v)) return 'fileHash';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) return 'url';
  if (/^[^@\s]+@[^@\s]+$/.test(v)) return 'email';
  return 'domain';
}

const LEGACY_MATCH: Readonly<Record<IndicatorType, string>> = {
  ip: 'NetworkIP == v or NetworkSourceIP == v or NetworkDestinationIP == v or EmailSourceIpAddress == v',
  domain: 'DomainName =~ v or EmailSourceDomain =~ v',
  url: 'Url =~ v',
  fileHash: 'FileHashValue =~ v',
  email: 'EmailSenderAddress =~ v',
};

export interface ThreatIntelMatch {
  readonly IndicatorId: string;
  readonly Source: string;
  readonly ThreatType: string;
  readonly Description: string;
  readonly Confidence: number | null;
  readonly Provider: string;
  readonly TimeGenerated: string | null;
  readonly ExpirationDateTime: string | null;
  readonly Tags: string;
}

export async function lookupThreatIntel(
  run: QueryRunner,
  indicator: string,
  type: IndicatorType,
  options: { lookbackMs: number; maxMatches: number; timeoutMs: number; signal: AbortSignal },
): Promise<{
  indicator: string;
  indicatorType: IndicatorType;
  found: boolean;
  count: number;
  matches: ThreatIntelMatch[];
}> {
  const params = { v: indicator.trim() };
  const lookback = timespan(options.lookbackMs);
  const legacy = withParameters(
    `ThreatIntelligenceIndicator
| where TimeGenerated > ago(${lookback})
| where ${LEGACY_MATCH[type]}
| summarize arg_max(TimeGenerated, *) by IndicatorId
| where Active == true and (isnull(ExpirationDateTime) or ExpirationDateTime > now())
| project IndicatorId, Source = "ThreatIntelligenceIndicator", ThreatType, Description, Confidence = ConfidenceScore,
    Provider = IndicatorProvider, TimeGenerated, ExpirationDateTime, Tags
| sort by TimeGenerated desc
| take ${options.maxMatches}`,
    params,
  );
  const stix = withParameters(
    `ThreatIntelIndicators
| where TimeGenerated > ago(${lookback})
| where ObservableValue =~ v
| summarize arg_max(TimeGenerated, *) by Id
| where IsActive == true and Revoked != true and IsDeleted != true and (isnull(ValidUntil) or ValidUntil > now())
| project IndicatorId = Id, Source = "ThreatIntelIndicators", ThreatType = tostring(Data.indicator_types[0]),
    Description = tostring(Data.description), Confidence = todouble(Confidence), Provider = SourceSystem,
    TimeGenerated, ExpirationDateTime = ValidUntil, Tags
| sort by TimeGenerated desc
| take ${options.maxMatches}`,
    params,
  );
  const q = { timeoutMs: options.timeoutMs, signal: options.signal, maxRows: options.maxMatches };
  const [a, b] = [await run(legacy, q), await run(stix, q)];
  const matches = [...a.rows, ...b.rows].slice(0, options.maxMatches).map((r) => ({
    IndicatorId: String(r.IndicatorId ?? ''),
    Source: String(r.Source ?? ''),
    ThreatType: String(r.ThreatType ?? ''),
    Description: String(r.Description ?? ''),
    Confidence: typeof r.Confidence === 'number' ? r.Confidence : null,
    Provider: String(r.Provider ?? ''),
    TimeGenerated: typeof r.TimeGenerated === 'string' ? r.TimeGenerated : null,
    ExpirationDateTime: typeof r.ExpirationDateTime === 'string' ? r.ExpirationDateTime : null,
    Tags: String(r.Tags ?? ''),
  }));
  return { indicator: params.v, indicatorType: type, found: matches.length > 0, count: matches.length, matches };
}

// ───────────────────────────── asset owners ─────────────────────────────

export interface OwnerInfo {
  readonly upn: string | null;
  readonly displayName: string | null;
  readonly accountName: string | null;
  readonly domain: string | null;
  readonly department: string | null;
  readonly jobTitle: string | null;
  readonly manager: string | null;
  readonly email: string | null;
  readonly objectId: string | null;
  readonly sid: string | null;
}

export interface DeviceSummary {
  readonly deviceId: string;
  readonly deviceName: string;
  readonly machineGroup: string;
  readonly assetValue: string;
  readonly osPlatform: string;
  readonly lastSeen: string | null;
  readonly loggedOnUsers: readonly { readonly userName: string; readonly domainName: string; readonly sid: string }[];
}

const text = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);

export async function deviceInfo(
  run: QueryRunner,
  asset: string,
  options: { lookbackMs: number; timeoutMs: number; signal: AbortSignal },
): Promise<DeviceSummary | null> {
  const q = withParameters(
    `DeviceInfo
| where Timestamp > ago(${timespan(options.lookbackMs)})
| where DeviceName =~ v or DeviceId =~ v or DeviceName startswith strcat(v, ".")
| top 1 by Timestamp desc
| project DeviceId, DeviceName, MachineGroup, AssetValue, OSPlatform, LoggedOnUsers, Timestamp`,
    { v: asset.trim() },
  );
  const r = (await run(q, { timeoutMs: options.timeoutMs, signal: options.signal, maxRows: 1 })).rows[0];
  if (!r) return null;
  let users: unknown = [];
  try {
    users =
      typeof r.LoggedOnUsers === 'string' && r.LoggedOnUsers ? JSON.parse(r.LoggedOnUsers) : (r.LoggedOnUsers ?? []);
  } catch {
    users = [];
  }
  return {
    deviceId: String(r.DeviceId ?? ''),
    deviceName: String(r.DeviceName ?? ''),
    machineGroup: String(r.MachineGroup ?? ''),
    assetValue: String(r.AssetValue ?? ''),
    osPlatform: String(r.OSPlatform ?? ''),
    lastSeen: text(r.Timestamp),
    loggedOnUsers: (Array.isArray(users) ? users : [])
      .filter((u): u is Record<string, unknown> => !!u && typeof u === 'object')
      .map((u) => ({
        userName: String(u.UserName ?? ''),
        domainName: String(u.DomainName ?? ''),
        sid: String(u.Sid ?? ''),
      })),
  };
}

export async function identityInfo(
  run: QueryRunner,
  who: { upn?: string; name?: string; sid?: string; objectId?: string },
  options: { lookbackMs: number; timeoutMs: number; signal: AbortSignal },
): Promise<OwnerInfo | null> {
  const tests: string[] = [];
  const params: Record<string, string> = {};
  if (who.upn) {
    params.upn = who.upn;
    tests.push('AccountUpn =~ upn');
  }
  if (who.name) {
    params.name = who.name;
    tests.push('AccountName =~ name');
  }
  if (who.sid) {
    params.sid = who.sid;
    tests.push('OnPremSid == sid');
  }
  if (who.objectId) {
    params.oid = who.objectId;
    tests.push('AccountObjectId =~ oid');
  }
  if (tests.length === 0) return null;
  const q = withParameters(
    `IdentityInfo
| where Timestamp > ago(${timespan(options.lookbackMs)})
| where ${tests.join(' or ')}
| top 1 by Timestamp desc
| project AccountUpn, AccountDisplayName, AccountName, AccountDomain, Department, JobTitle, Manager, EmailAddress,
    AccountObjectId, OnPremSid`,
    params,
  );
  const r = (await run(q, { timeoutMs: options.timeoutMs, signal: options.signal, maxRows: 1 })).rows[0];
  if (!r) return null;
  return {
    upn: text(r.AccountUpn),
    displayName: text(r.AccountDisplayName),
    accountName: text(r.AccountName),
    domain: text(r.AccountDomain),
    department: text(r.Department),
    jobTitle: text(r.JobTitle),
    manager: text(r.Manager),
    email: text(r.EmailAddress),
    objectId: text(r.AccountObjectId),
    sid: text(r.OnPremSid),
  };
}

/** An account reference from text: a UPN, a SID, `DOMAIN\name`, an object id, or a bare name. */
export function accountRef(v: string): { upn?: string; name?: string; sid?: string; objectId?: string } {
  const t = v.trim();
  if (/^S-1-\d+(-\d+)+$/i.test(t)) return { sid: t };
  if (/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(t)) return { objectId: t };
  if (t.includes('@')) return { upn: t, name: t.split('@')[0] ?? t };
  if (t.includes('\\')) return { name: t.split('\\').pop() ?? t };
  return { name: t };
}
