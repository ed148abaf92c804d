/**
 * A workspace's own content kept by the API layer, in the workspace's state store (migrations 820–829):
 * - stored functions (Kusto's `.create-or-alter function`): callable from every query of the workspace — hunting,
 *   rules, Kusto and Log Analytics clients — so users can define parsers such as Sentinel's ASIM ones;
 * - saved queries (shared, or private to their author);
 * - data connector switches (a connector turned off refuses data for its tables).
 * Stored functions are also held in memory: the compiler reads them synchronously on every query.
 */
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { analyze, parse, type StoredFunction, type WorkspaceSchema } from '@vigil/kql';
import { parse as parseYaml } from 'yaml';
import type { Migration } from '../state/migrations.js';
import type { SqlDriver } from '../state/sql-driver.js';

export const CONTENT_MIGRATIONS: readonly Migration[] = [
  {
    version: 820,
    name: 'api: stored functions, saved queries, connectors',
    statements: [
      `CREATE TABLE api_functions (
        name TEXT PRIMARY KEY, parameters TEXT NOT NULL, body TEXT NOT NULL, folder TEXT NOT NULL DEFAULT '',
        docstring TEXT NOT NULL DEFAULT '', updated_at TEXT NOT NULL, updated_by TEXT NOT NULL)`,
      `CREATE TABLE api_saved_queries (
        id TEXT PRIMARY KEY, name TEXT NOT NULL, query TEXT NOT NULL, description TEXT NOT NULL DEFAULT '',
        category TEXT NOT NULL DEFAULT '', tags TEXT NOT NULL DEFAULT '[]', visibility TEXT NOT NULL,
        owner_id TEXT NOT NULL, owner_name TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`,
      'CREATE INDEX api_saved_queries_name ON api_saved_queries (name, id)',
      `CREATE TABLE api_connectors (
        id TEXT PRIMARY KEY, enabled INTEGER NOT NULL, updated_at TEXT NOT NULL, updated_by TEXT NOT NULL)`,
    ],
  },
];

export class ContentError extends Error {
  override readonly name = 'ContentError';
  constructor(
    readonly code: 'invalid' | 'not_found' | 'conflict',
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

// ───────────────────────────── stored functions ─────────────────────────────

export interface StoredFunctionInfo extends StoredFunction {
  readonly folder: string;
  readonly docString: string;
  readonly updatedAt: string;
  readonly updatedBy: string;
}

const FUNCTION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,255}$/;

export class FunctionStore {
  private items = new Map<string, StoredFunctionInfo>();

  private constructor(private readonly db: SqlDriver) {}

  static async open(db: SqlDriver): Promise<FunctionStore> {
    const s = new FunctionStore(db);
    const rows = await db.all<{
      name: string;
      parameters: string;
      body: string;
      folder: string;
      docstring: string;
      updated_at: string;
      updated_by: string;
    }>('SELECT * FROM api_functions ORDER BY name');
    for (const r of rows) {
      s.items.set(r.name, {
        name: r.name,
        parameters: r.parameters,
        body: r.body,
        folder: r.folder,
        docString: r.docstring,
        description: r.docstring,
        updatedAt: r.updated_at,
        updatedBy: r.updated_by,
      });
    }
    return s;
  }

  /** What the compiler sees (a fresh array after each change, so compiled-plan caches can key on it). */
  list(): readonly StoredFunctionInfo[] {
    return [...this.items.values()];
  }

  get(name: string): StoredFunctionInfo | undefined {
    return this.items.get(name);
  }

  /**
   * Checks a definition against the workspace: the parameter list and body must parse, a parameterless function
   * must bind (a call is compiled), and the name must not shadow a table.
   */
  check(
    def: { name: string; parameters: string; body: string },
    schema: WorkspaceSchema,
  ): { code: string; message: string; start: number; length: number }[] {
    if (!FUNCTION_NAME.test(def.name))
      return [{ code: 'invalid_name', message: 'a function name is a KQL identifier', start: 0, length: 0 }];
    if (schema.tables.some((t) => t.name === def.name))
      return [{ code: 'name_conflict', message: `a table is named ${def.name}`, start: 0, length: 0 }];
    const params = def.parameters.trim() || '()';
    const body = def.body.trim().startsWith('{') ? def.body : `{ ${def.body} }`;
    const prefix = `let ${def.name} = ${params} `;
    const text = `${prefix}${body};\n${def.name}`;
    const parsed = parse(text);
    const syntax = parsed.diagnostics.filter((d) => d.severity === 'error');
    const diagnostics = syntax.length
      ? syntax
      : /^\(\s*\)$/.test(params)
        ? analyze(text, {
            ...schema,
            functions: schema.functions.filter((f) => f.name !== def.name),
          }).diagnostics.filter((d) => d.severity === 'error')
        : [];
    // Offsets into the body the user sent.
    const offset =
      prefix.length + (def.body.trim().startsWith('{') ? 0 : 2) + (def.body.length - def.body.trimStart().length);
    return diagnostics.map((d) => ({
      code: d.code,
      message: d.message,
      start: Math.max(0, d.start - offset),
      length: d.length,
    }));
  }

  async put(
    def: { name: string; parameters: string; body: string; folder?: string; docString?: string },
    by: string,
    at: string,
  ): Promise<StoredFunctionInfo> {
    const info: StoredFunctionInfo = {
      name: def.name,
      parameters: def.parameters.trim() || '()',
      body: def.body.trim(),
      folder: def.folder ?? '',
      docString: def.docString ?? '',
      description: def.docString ?? '',
      updatedAt: at,
      updatedBy: by,
    };
    await this.db.run(
      `INSERT INTO api_functions (name, parameters, body, folder, docstring, updated_at, updated_by)
       VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET parameters = excluded.parameters,
       body = excluded.body, folder = excluded.folder, docstring = excluded.docstring,
       updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
      [info.name, info.parameters, info.body, info.folder, info.docString, at, by],
    );
    this.items.set(info.name, info);
    this.items = new Map([...this.items].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    return info;
  }

  async delete(name: string): Promise<boolean> {
    const n = await this.db.run('DELETE FROM api_functions WHERE name = ?', [name]);
    this.items.delete(name);
    return n > 0;
  }
}

// ───────────────────────────── saved queries ─────────────────────────────

export interface SavedQuery {
  readonly id: string;
  readonly name: string;
  readonly query: string;
  readonly description: string;
  readonly category: string;
  readonly tags: readonly string[];
  /** `shared`: every member sees it; `private`: only its owner. */
  readonly visibility: 'shared' | 'private';
  readonly ownerId: string;
  readonly ownerName: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface SavedQueryInput {
  readonly name: string;
  readonly query: string;
  readonly description?: string;
  readonly category?: string;
  readonly tags?: readonly string[];
  readonly visibility?: 'shared' | 'private';
}

interface SavedRow {
  id: string;
  name: string;
  query: string;
  description: string;
  category: string;
  tags: string;
  visibility: string;
  owner_id: string;
  owner_name: string;
  created_at: string;
  updated_at: string;
}

const savedOf = (r: SavedRow): SavedQuery => ({
  id: r.id,
  name: r.name,
  query: r.query,
  description: r.description,
  category: r.category,
  tags: JSON.parse(r.tags) as string[],
  visibility: r.visibility === 'private' ? 'private' : 'shared',
  ownerId: r.owner_id,
  ownerName: r.owner_name,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export class SavedQueryStore {
  constructor(private readonly db: SqlDriver) {}

  /** Queries the user may see, by name then id, after the cursor (`name\u0000id`). */
  async list(
    userId: string,
    cursor: string | null,
    limit: number,
  ): Promise<{ items: SavedQuery[]; nextCursor: string | null }> {
    const [name, id] = cursor
      ? (JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [string, string])
      : ['', ''];
    const rows = await this.db.all<SavedRow>(
      `SELECT * FROM api_saved_queries WHERE (visibility = 'shared' OR owner_id = ?) AND (name > ? OR (name = ? AND id > ?))
       ORDER BY name, id LIMIT ?`,
      [userId, name, name, id, limit + 1],
    );
    const page = rows.slice(0, limit).map(savedOf);
    const last = page[page.length - 1];
    return {
      items: page,
      nextCursor:
        rows.length > limit && last ? Buffer.from(JSON.stringify([last.name, last.id])).toString('base64url') : null,
    };
  }

  async get(id: string): Promise<SavedQuery | null> {
    const r = await this.db.get<SavedRow>('SELECT * FROM api_saved_queries WHERE id = ?', [id]);
    return r ? savedOf(r) : null;
  }

  async create(input: SavedQueryInput, owner: { id: string; name: string }, at: string): Promise<SavedQuery> {
    const id = randomUUID();
    await this.db.run(
      `INSERT INTO api_saved_queries (id, name, query, description, category, tags, visibility, owner_id, owner_name,
       created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        id,
        input.name,
        input.query,
        input.description ?? '',
        input.category ?? '',
        JSON.stringify(input.tags ?? []),
        input.visibility ?? 'shared',
        owner.id,
        owner.name,
        at,
        at,
      ],
    );
    return (await this.get(id)) as SavedQuery;
  }

  async update(id: string, patch: Partial<SavedQueryInput>, at: string): Promise<SavedQuery> {
    const q = await this.get(id);
    if (!q) throw new ContentError('not_found', `no saved query ${id}`);
    await this.db.run(
      `UPDATE api_saved_queries SET name = ?, query = ?, description = ?, category = ?, tags = ?, visibility = ?,
       updated_at = ? WHERE id = ?`,
      [
        patch.name ?? q.name,
        patch.query ?? q.query,
        patch.description ?? q.description,
        patch.category ?? q.category,
        JSON.stringify(patch.tags ?? q.tags),
        patch.visibility ?? q.visibility,
        at,
        id,
      ],
    );
    return (await this.get(id)) as SavedQuery;
  }

  async delete(id: string): Promise<boolean> {
    return (await this.db.run('DELETE FROM api_saved_queries WHERE id = ?', [id])) > 0;
  }
}

// ───────────────────────────── data connectors ─────────────────────────────

export interface ConnectorDefinition {
  readonly id: string;
  readonly name: string;
  readonly description: string;
  /** Tables the connector fills (names, or a suffix pattern `*_CL`). */
  readonly tables: readonly string[];
}

/** The built-in connectors: which tables each one feeds (a table belongs to at most one). */
export const CONNECTORS: readonly ConnectorDefinition[] = [
  {
    id: 'microsoft-defender-xdr',
    name: 'Microsoft Defender XDR',
    description: 'Advanced hunting events and alerts streamed from Defender XDR (streaming API envelope)',
    tables: [
      'DeviceInfo',
      'DeviceNetworkInfo',
      'DeviceProcessEvents',
      'DeviceNetworkEvents',
      'DeviceFileEvents',
      'DeviceRegistryEvents',
      'DeviceLogonEvents',
      'DeviceImageLoadEvents',
      'DeviceEvents',
      'DeviceFileCertificateInfo',
      'EmailEvents',
      'EmailAttachmentInfo',
      'EmailUrlInfo',
      'EmailPostDeliveryEvents',
      'UrlClickEvents',
      'IdentityLogonEvents',
      'IdentityQueryEvents',
      'IdentityDirectoryEvents',
      'IdentityInfo',
      'CloudAppEvents',
      'AlertInfo',
      'AlertEvidence',
      'BehaviorInfo',
      'BehaviorEntities',
    ],
  },
  {
    id: 'microsoft-entra-id',
    name: 'Microsoft Entra ID',
    description: 'Sign-in and audit logs',
    tables: ['SigninLogs', 'AADNonInteractiveUserSignInLogs', 'AuditLogs'],
  },
  { id: 'syslog', name: 'Syslog', description: 'Syslog over UDP/TCP and HTTP', tables: ['Syslog'] },
  {
    id: 'common-event-format',
    name: 'Common Event Format (CEF)',
    description: 'CEF over syslog',
    tables: ['CommonSecurityLog'],
  },
  {
    id: 'windows-security-events',
    name: 'Windows Security Events',
    description: 'Windows security event log',
    tables: ['SecurityEvent'],
  },
  { id: 'office-365', name: 'Microsoft 365 (Office 365)', description: 'Office activity', tables: ['OfficeActivity'] },
  { id: 'azure-activity', name: 'Azure Activity', description: 'Subscription activity log', tables: ['AzureActivity'] },
  {
    id: 'threat-intelligence',
    name: 'Threat Intelligence',
    description: 'Indicators of compromise',
    tables: ['ThreatIntelligenceIndicator', 'ThreatIntelIndicators'],
  },
  {
    id: 'security-alerts',
    name: 'Security alerts',
    description: 'Alerts from security products (SecurityAlert rows)',
    tables: ['SecurityAlert'],
  },
  {
    id: 'custom-logs',
    name: 'Custom logs (Logs Ingestion API)',
    description: 'Custom tables (*_CL) fed through data collection rules or the ingestion endpoint',
    tables: ['*_CL'],
  },
];

export function connectorOf(table: string): ConnectorDefinition | undefined {
  return CONNECTORS.find((c) => c.tables.some((t) => (t.startsWith('*') ? table.endsWith(t.slice(1)) : t === table)));
}

export class ConnectorStore {
  private disabled = new Set<string>();

  private constructor(private readonly db: SqlDriver) {}

  static async open(db: SqlDriver): Promise<ConnectorStore> {
    const s = new ConnectorStore(db);
    const rows = await db.all<{ id: string; enabled: number }>('SELECT id, enabled FROM api_connectors');
    for (const r of rows) if (r.enabled === 0) s.disabled.add(r.id);
    return s;
  }

  enabled(id: string): boolean {
    return !this.disabled.has(id);
  }

  /** The ingestion policy: a table refuses data while its connector is off. */
  tableEnabled(table: string): { enabled: true } | { enabled: false; reason: string } {
    const c = connectorOf(table);
    return c && this.disabled.has(c.id)
      ? { enabled: false, reason: `its data connector '${c.name}' is turned off` }
      : { enabled: true };
  }

  async setEnabled(id: string, enabled: boolean, by: string, at: string): Promise<void> {
    if (!CONNECTORS.some((c) => c.id === id)) throw new ContentError('not_found', `no connector ${id}`);
    await this.db.run(
      `INSERT INTO api_connectors (id, enabled, updated_at, updated_by) VALUES (?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET enabled = excluded.enabled, updated_at = excluded.updated_at,
       updated_by = excluded.updated_by`,
      [id, enabled ? 1 : 0, at, by],
    );
    if (enabled) this.disabled.delete(id);
    else this.disabled.add(id);
  }
}

// ───────────────────────────── the content pack (content/) ─────────────────────────────

/** A watchlist file of the content pack (`content/watchlists/*.yaml`), Sentinel's watchlist fields. */
export interface WatchlistFile {
  readonly alias: string;
  readonly name: string;
  readonly description: string;
  /** The column rules join on (Sentinel's `SearchKey`). */
  readonly searchKey: string;
  readonly items: readonly Readonly<Record<string, unknown>>[];
}

/** Reads `content/watchlists/*.yaml`; a malformed file is an error naming the file (the pack is tested content). */
export async function readWatchlists(dir: string): Promise<WatchlistFile[]> {
  const out: WatchlistFile[] = [];
  for (const f of await yamlFiles(join(dir, 'watchlists'))) {
    const v = parseYaml(await readFile(f, 'utf8')) as Partial<WatchlistFile> | null;
    if (!v || typeof v.alias !== 'string' || typeof v.searchKey !== 'string' || !Array.isArray(v.items))
      throw new ContentError('invalid', `${f}: a watchlist has alias, searchKey and items`);
    out.push({
      alias: v.alias,
      name: typeof v.name === 'string' ? v.name : v.alias,
      description: typeof v.description === 'string' ? v.description : '',
      searchKey: v.searchKey,
      items: v.items,
    });
  }
  return out;
}

/**
 * Sentinel's `_GetWatchlist('alias')` as a stored function over the pack's watchlists, so rules written for
 * Sentinel run unchanged: it returns `SearchKey` (the item's search-key value) and `WatchlistItem` (the whole item
 * as a property bag). The watchlists are inlined as a datatable: the workspace regenerates the function whenever a
 * watchlist is created, replaced or deleted through the automation service (and the pack installs it).
 */
export function watchlistFunction(
  watchlists: readonly Pick<WatchlistFile, 'alias' | 'searchKey' | 'items'>[],
): StoredFunction {
  const rows = watchlists.flatMap((w) =>
    w.items.map(
      (item) =>
        `  ${JSON.stringify(w.alias)}, ${JSON.stringify(String(item[w.searchKey] ?? ''))}, dynamic(${JSON.stringify(item)}),`,
    ),
  );
  return {
    name: '_GetWatchlist',
    parameters: '(watchlistAlias:string)',
    body: `datatable(WatchlistAlias:string, SearchKey:string, WatchlistItem:dynamic) [\n${rows.join('\n')}\n]\n| where WatchlistAlias =~ watchlistAlias\n| project SearchKey, WatchlistItem`,
    description: "Sentinel's _GetWatchlist over the content pack's watchlists",
  };
}

/** The pack's threat-intelligence rows (`content/threat-intelligence/*.ndjson`, ThreatIntelligenceIndicator). */
export async function readThreatIntelligence(dir: string): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  let files: string[] = [];
  try {
    files = (await readdir(join(dir, 'threat-intelligence'))).filter((f) => f.endsWith('.ndjson')).sort();
  } catch {
    return rows;
  }
  for (const f of files) {
    for (const [i, line] of (await readFile(join(dir, 'threat-intelligence', f), 'utf8')).split('\n').entries()) {
      if (!line.trim()) continue;
      try {
        rows.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        throw new ContentError('invalid', `${f}, line ${i + 1}: not a JSON object`);
      }
    }
  }
  return rows;
}

async function yamlFiles(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir))
      .filter((f) => /\.ya?ml$/.test(f))
      .sort()
      .map((f) => join(dir, f));
  } catch {
    return [];
  }
}

export interface ContentPackReport {
  readonly watchlists: number;
  readonly indicators: number;
  /** Analytic rules and custom detections: imported, or why not. */
  readonly rules: readonly {
    readonly file: string;
    readonly id: string | null;
    readonly status: string;
    readonly problem?: string;
  }[];
  readonly automation: readonly { readonly file: string; readonly ok: boolean; readonly problem?: string }[];
}

/** What the installer needs of a workspace (structural, so this module does not import workspace.ts). */
export interface ContentPackTarget {
  readonly functions: FunctionStore;
  readonly ingest: {
    ingestRows(table: string, rows: readonly Record<string, unknown>[], source: string): Promise<unknown>;
  };
  readonly detection: {
    importPath(
      path: string,
      opts?: { enabled?: boolean },
    ): Promise<
      readonly {
        path: string | null;
        ruleId: string | null;
        status: string;
        diagnostics: readonly { severity: string; message: string }[];
      }[]
    >;
  };
  readonly automation: {
    putWatchlist(
      w: { alias: string; name?: string; searchKey: string; items: readonly Record<string, unknown>[] },
      actor: { type: 'system'; id: string; name: string },
    ): Promise<void>;
    loadContent(
      dir: string,
      actor: { type: 'system'; id: string; name: string },
    ): Promise<{ file: string; ok: boolean; diagnostics: readonly { message: string }[] }[]>;
  } | null;
}

/**
 * Installs the content pack (`content/`) into a workspace: watchlists (automation store + `_GetWatchlist`),
 * threat-intelligence indicators (ingested into `ThreatIntelligenceIndicator`), analytic rules and custom
 * detections (`rules/`), then automation (`automation/`: task lists, playbooks, automation rules). Rules come after
 * the watchlist function they call. Re-running it updates what changed (rules and automation are keyed by id) and
 * ingests the indicators again, refreshing their TimeGenerated as a TI connector does (rules read 14 days of them).
 */
export async function installContentPack(
  ws: ContentPackTarget,
  dir: string,
  options: { readonly at?: string; readonly indicators?: boolean } = {},
): Promise<ContentPackReport> {
  const actor = { type: 'system' as const, id: 'content', name: 'Vigil content' };
  const at = options.at ?? new Date().toISOString();
  const watchlists = await readWatchlists(dir);
  if (watchlists.length) {
    for (const w of watchlists)
      await ws.automation?.putWatchlist({ ...w, items: w.items.map((i) => ({ ...i })) }, actor);
    // With automation, each put regenerated `_GetWatchlist` from every stored watchlist (the analysts' too).
    if (!ws.automation) {
      const fn = watchlistFunction(watchlists);
      await ws.functions.put({ ...fn, docString: fn.description ?? '' }, 'content', at);
    }
  }
  const indicators = options.indicators === false ? [] : await readThreatIntelligence(dir);
  if (indicators.length) await ws.ingest.ingestRows('ThreatIntelligenceIndicator', indicators, 'content-pack');
  const rules = (await ws.detection.importPath(join(dir, 'rules'))).map((r) => {
    const problem = r.diagnostics.find((d) => d.severity === 'error')?.message;
    return { file: r.path ?? '', id: r.ruleId, status: r.status, ...(problem ? { problem } : {}) };
  });
  const automation = ws.automation
    ? (await ws.automation.loadContent(join(dir, 'automation'), actor)).map((r) => ({
        file: r.file,
        ok: r.ok,
        ...(r.ok ? {} : { problem: r.diagnostics[0]?.message ?? '' }),
      }))
    : [];
  return { watchlists: watchlists.length, indicators: indicators.length, rules, automation };
}
