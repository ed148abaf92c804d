/**
 * Incidents in the state store: incidents, their alerts, entities (with the alert ↔ entity graph and the entity-key
 * index the correlation engine looks up), links (why each alert is where it is), comments, tasks, the audit trail,
 * rule-grouping groups, recent-entity statistics, the change-event feed and the outbox of `SecurityIncident` /
 * `SecurityAlert` rows for the event store. Portable SQL (see sql-driver.ts); migrations 600-699 belong to incidents.
 *
 * Every method takes the driver to run on, so the service composes them inside one transaction. Sequences (incident
 * numbers, alert order, entity ids, audit, events, outbox) come from `inc_counters`, not from engine-specific
 * auto-increment columns.
 */
import type {
  Actor,
  AuditEntry,
  Classification,
  Comment,
  FieldChange,
  Incident,
  IncidentAlertSummary,
  IncidentEntity,
  IncidentEvent,
  IncidentEventType,
  IncidentLink,
  IncidentStatus,
  LinkReason,
  Owner,
  Severity,
  Task,
  TaskStatus,
} from '../incidents/model.js';
import type { Migration } from './migrations.js';
import type { Param, SqlDriver } from './sql-driver.js';

export const INCIDENT_MIGRATIONS: readonly Migration[] = [
  {
    version: 600,
    name: 'incidents: incidents, alerts, entities, graph, links, comments, tasks, audit, groups, events, outbox',
    statements: [
      `CREATE TABLE inc_counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL)`,
      `INSERT INTO inc_counters (name, value) VALUES ('incident', 0), ('alert', 0), ('entity', 0), ('link', 0),
        ('audit', 0), ('event', 0), ('outbox', 0), ('comment', 0), ('task', 0)`,
      `CREATE TABLE inc_settings (name TEXT PRIMARY KEY, value TEXT NOT NULL, updated_at TEXT NOT NULL,
        updated_by TEXT NOT NULL)`,
      `CREATE TABLE inc_incidents (
        id TEXT PRIMARY KEY,
        number INTEGER NOT NULL UNIQUE,
        title TEXT NOT NULL,
        title_lower TEXT NOT NULL,
        title_manual INTEGER NOT NULL,
        description TEXT NOT NULL,
        severity TEXT NOT NULL,
        severity_rank INTEGER NOT NULL,
        severity_manual INTEGER NOT NULL,
        status TEXT NOT NULL,
        classification TEXT,
        classification_reason TEXT,
        classification_comment TEXT,
        owner TEXT,
        owner_key TEXT,
        tags TEXT NOT NULL,
        tactics TEXT NOT NULL,
        techniques TEXT NOT NULL,
        provider_name TEXT NOT NULL,
        product_names TEXT NOT NULL,
        rule_ids TEXT NOT NULL,
        sources TEXT NOT NULL,
        alert_titles TEXT NOT NULL,
        host_count INTEGER NOT NULL,
        user_count INTEGER NOT NULL,
        first_activity TEXT NOT NULL,
        last_activity TEXT NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        first_modified_at TEXT,
        closed_at TEXT,
        redirected_to TEXT,
        alert_count INTEGER NOT NULL,
        entity_count INTEGER NOT NULL,
        comment_count INTEGER NOT NULL,
        task_count INTEGER NOT NULL,
        open_task_count INTEGER NOT NULL,
        version INTEGER NOT NULL,
        updated_by TEXT NOT NULL
      )`,
      'CREATE INDEX inc_incidents_status_number ON inc_incidents (status, number)',
      'CREATE INDEX inc_incidents_last_activity ON inc_incidents (last_activity, number)',
      'CREATE INDEX inc_incidents_updated ON inc_incidents (updated_at, number)',
      'CREATE INDEX inc_incidents_created ON inc_incidents (created_at, number)',
      'CREATE INDEX inc_incidents_severity ON inc_incidents (severity_rank, number)',
      'CREATE INDEX inc_incidents_first_activity ON inc_incidents (first_activity, number)',
      'CREATE INDEX inc_incidents_alert_count ON inc_incidents (alert_count, number)',
      'CREATE INDEX inc_incidents_title ON inc_incidents (title_lower, number)',
      'CREATE INDEX inc_incidents_owner ON inc_incidents (owner_key, number)',
      'CREATE INDEX inc_incidents_redirected ON inc_incidents (redirected_to)',
      `CREATE TABLE inc_alerts (
        alert_id TEXT PRIMARY KEY,
        incident_id TEXT,
        seq INTEGER NOT NULL,
        source TEXT NOT NULL,
        rule_id TEXT,
        title TEXT NOT NULL,
        severity TEXT NOT NULL,
        status TEXT NOT NULL,
        provider_name TEXT NOT NULL,
        product_name TEXT NOT NULL,
        tactics TEXT NOT NULL,
        techniques TEXT NOT NULL,
        start_time TEXT NOT NULL,
        end_time TEXT NOT NULL,
        time_generated TEXT NOT NULL,
        received_at TEXT NOT NULL,
        payload TEXT NOT NULL
      )`,
      'CREATE INDEX inc_alerts_incident ON inc_alerts (incident_id, seq)',
      `CREATE TABLE inc_entities (
        entity_id INTEGER PRIMARY KEY,
        incident_id TEXT NOT NULL,
        type TEXT NOT NULL,
        display TEXT NOT NULL,
        fields TEXT NOT NULL,
        keys TEXT NOT NULL,
        alert_count INTEGER NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL
      )`,
      'CREATE INDEX inc_entities_incident ON inc_entities (incident_id, entity_id)',
      `CREATE TABLE inc_entity_keys (
        entity_key TEXT NOT NULL,
        incident_id TEXT NOT NULL,
        entity_id INTEGER NOT NULL,
        entity_type TEXT NOT NULL,
        link INTEGER NOT NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        PRIMARY KEY (entity_key, incident_id, entity_id)
      )`,
      'CREATE INDEX inc_entity_keys_incident ON inc_entity_keys (incident_id, entity_key)',
      'CREATE INDEX inc_entity_keys_entity ON inc_entity_keys (entity_id)',
      `CREATE TABLE inc_alert_entities (
        incident_id TEXT NOT NULL,
        alert_id TEXT NOT NULL,
        entity_id INTEGER NOT NULL,
        PRIMARY KEY (incident_id, alert_id, entity_id)
      )`,
      'CREATE INDEX inc_alert_entities_entity ON inc_alert_entities (entity_id)',
      // Misra–Gries summaries of recent linking keys per time bucket (see incidents/common-entities.ts).
      `CREATE TABLE inc_entity_stats (entity_key TEXT NOT NULL, bucket INTEGER NOT NULL, n INTEGER NOT NULL,
        PRIMARY KEY (bucket, entity_key))`,
      `CREATE TABLE inc_groups (group_key TEXT PRIMARY KEY, incident_id TEXT NOT NULL, rule_id TEXT NOT NULL,
        first_alert_at TEXT NOT NULL)`,
      'CREATE INDEX inc_groups_incident ON inc_groups (incident_id)',
      `CREATE TABLE inc_links (id INTEGER PRIMARY KEY, incident_id TEXT NOT NULL, alert_id TEXT, at TEXT NOT NULL,
        actor TEXT NOT NULL, reason TEXT NOT NULL)`,
      'CREATE INDEX inc_links_incident ON inc_links (incident_id, id)',
      `CREATE TABLE inc_facets (kind TEXT NOT NULL, value TEXT NOT NULL, incident_id TEXT NOT NULL,
        PRIMARY KEY (kind, value, incident_id))`,
      'CREATE INDEX inc_facets_incident ON inc_facets (incident_id)',
      `CREATE TABLE inc_comments (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, incident_id TEXT NOT NULL,
        message TEXT NOT NULL, author TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)`,
      'CREATE INDEX inc_comments_incident ON inc_comments (incident_id, seq)',
      `CREATE TABLE inc_tasks (id TEXT PRIMARY KEY, seq INTEGER NOT NULL, incident_id TEXT NOT NULL, title TEXT NOT NULL,
        description TEXT NOT NULL, status TEXT NOT NULL, assignee TEXT, created_by TEXT NOT NULL,
        updated_by TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL, completed_at TEXT)`,
      'CREATE INDEX inc_tasks_incident ON inc_tasks (incident_id, seq)',
      `CREATE TABLE inc_audit (id INTEGER PRIMARY KEY, incident_id TEXT NOT NULL, at TEXT NOT NULL,
        actor TEXT NOT NULL, actor_type TEXT NOT NULL, action TEXT NOT NULL, changes TEXT NOT NULL, note TEXT)`,
      'CREATE INDEX inc_audit_incident ON inc_audit (incident_id, id)',
      `CREATE TABLE inc_events (seq INTEGER PRIMARY KEY, type TEXT NOT NULL, at TEXT NOT NULL, incident_id TEXT,
        alert_id TEXT, payload TEXT NOT NULL)`,
      'CREATE INDEX inc_events_at ON inc_events (at)',
      `CREATE TABLE inc_outbox (seq INTEGER PRIMARY KEY, table_name TEXT NOT NULL, row TEXT NOT NULL)`,
    ],
  },
  {
    version: 601,
    // An activity window in the past ("what was going on between 10:00 and 11:00"): the incidents that started
    // before its end are read from this index and their end is checked on the index itself, without the rows.
    name: 'incidents: activity window index (first activity, last activity)',
    statements: ['CREATE INDEX inc_incidents_activity ON inc_incidents (first_activity, last_activity)'],
  },
];

// ───────────────────────────── rows ─────────────────────────────

export interface IncidentRow {
  id: string;
  number: number;
  title: string;
  title_lower: string;
  title_manual: number;
  description: string;
  severity: string;
  severity_rank: number;
  severity_manual: number;
  status: string;
  classification: string | null;
  classification_reason: string | null;
  classification_comment: string | null;
  owner: string | null;
  owner_key: string | null;
  tags: string;
  tactics: string;
  techniques: string;
  provider_name: string;
  product_names: string;
  rule_ids: string;
  sources: string;
  alert_titles: string;
  host_count: number;
  user_count: number;
  first_activity: string;
  last_activity: string;
  created_at: string;
  updated_at: string;
  first_modified_at: string | null;
  closed_at: string | null;
  redirected_to: string | null;
  alert_count: number;
  entity_count: number;
  comment_count: number;
  task_count: number;
  open_task_count: number;
  version: number;
  updated_by: string;
}

export const INCIDENT_COLUMNS: readonly (keyof IncidentRow)[] = [
  'id',
  'number',
  'title',
  'title_lower',
  'title_manual',
  'description',
  'severity',
  'severity_rank',
  'severity_manual',
  'status',
  'classification',
  'classification_reason',
  'classification_comment',
  'owner',
  'owner_key',
  'tags',
  'tactics',
  'techniques',
  'provider_name',
  'product_names',
  'rule_ids',
  'sources',
  'alert_titles',
  'host_count',
  'user_count',
  'first_activity',
  'last_activity',
  'created_at',
  'updated_at',
  'first_modified_at',
  'closed_at',
  'redirected_to',
  'alert_count',
  'entity_count',
  'comment_count',
  'task_count',
  'open_task_count',
  'version',
  'updated_by',
];

const json = <T>(text: string | null | undefined, fallback: T): T => {
  if (text === null || text === undefined || text === '') return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
};

export function incidentFromRow(r: IncidentRow): Incident {
  return {
    id: r.id,
    number: Number(r.number),
    title: r.title,
    titleManual: Number(r.title_manual) === 1,
    description: r.description,
    severity: r.severity as Severity,
    severityManual: Number(r.severity_manual) === 1,
    status: r.status as IncidentStatus,
    classification: (r.classification as Classification | null) ?? null,
    classificationReason: r.classification_reason,
    classificationComment: r.classification_comment,
    owner: json<Owner | null>(r.owner, null),
    tags: json<string[]>(r.tags, []),
    tactics: json<string[]>(r.tactics, []),
    techniques: json<string[]>(r.techniques, []),
    providerName: r.provider_name,
    productNames: json<string[]>(r.product_names, []),
    ruleIds: json<string[]>(r.rule_ids, []),
    firstActivityTime: r.first_activity,
    lastActivityTime: r.last_activity,
    createdTime: r.created_at,
    lastModifiedTime: r.updated_at,
    firstModifiedTime: r.first_modified_at,
    closedTime: r.closed_at,
    redirectedTo: r.redirected_to,
    alertCount: Number(r.alert_count),
    entityCount: Number(r.entity_count),
    commentCount: Number(r.comment_count),
    taskCount: Number(r.task_count),
    openTaskCount: Number(r.open_task_count),
    version: Number(r.version),
    lastModifiedBy: json<Actor>(r.updated_by, { type: 'system', id: 'unknown' }),
  };
}

export interface AlertRow {
  alert_id: string;
  incident_id: string | null;
  seq: number;
  source: string;
  rule_id: string | null;
  title: string;
  severity: string;
  status: string;
  provider_name: string;
  product_name: string;
  tactics: string;
  techniques: string;
  start_time: string;
  end_time: string;
  time_generated: string;
  received_at: string;
  payload: string;
}

export function alertSummaryFromRow(r: AlertRow): IncidentAlertSummary {
  return {
    alertId: r.alert_id,
    incidentId: r.incident_id,
    title: r.title,
    severity: r.severity as Severity,
    status: r.status,
    providerName: r.provider_name,
    productName: r.product_name,
    ruleId: r.rule_id,
    tactics: json<string[]>(r.tactics, []),
    techniques: json<string[]>(r.techniques, []),
    startTime: r.start_time,
    endTime: r.end_time,
    timeGenerated: r.time_generated,
    receivedAt: r.received_at,
  };
}

export interface EntityRow {
  entity_id: number;
  incident_id: string;
  type: string;
  display: string;
  fields: string;
  keys: string;
  alert_count: number;
  first_seen: string;
  last_seen: string;
}

export function entityFromRow(r: EntityRow): IncidentEntity {
  return {
    id: Number(r.entity_id),
    type: r.type,
    displayName: r.display,
    fields: json<Record<string, unknown>>(r.fields, {}),
    keys: json<string[]>(r.keys, []),
    alertCount: Number(r.alert_count),
    firstSeen: r.first_seen,
    lastSeen: r.last_seen,
  };
}

interface LinkRow {
  id: number;
  incident_id: string;
  alert_id: string | null;
  at: string;
  actor: string;
  reason: string;
}

interface CommentRow {
  id: string;
  incident_id: string;
  message: string;
  author: string;
  created_at: string;
  updated_at: string;
}

interface TaskRow {
  id: string;
  incident_id: string;
  title: string;
  description: string;
  status: string;
  assignee: string | null;
  created_by: string;
  updated_by: string;
  created_at: string;
  updated_at: string;
  completed_at: string | null;
}

interface AuditRow {
  id: number;
  incident_id: string;
  at: string;
  actor: string;
  action: string;
  changes: string;
  note: string | null;
}

interface EventRow {
  seq: number;
  payload: string;
}

const SYSTEM_UNKNOWN: Actor = { type: 'system', id: 'unknown' };

export const linkFromRow = (r: LinkRow): IncidentLink => ({
  id: Number(r.id),
  incidentId: r.incident_id,
  alertId: r.alert_id,
  at: r.at,
  actor: json<Actor>(r.actor, SYSTEM_UNKNOWN),
  reason: json<LinkReason>(r.reason, { rule: 'new-incident', summary: '' }),
});

export const commentFromRow = (r: CommentRow): Comment => ({
  id: r.id,
  incidentId: r.incident_id,
  message: r.message,
  author: json<Actor>(r.author, SYSTEM_UNKNOWN),
  createdTime: r.created_at,
  lastModifiedTime: r.updated_at,
});

export const taskFromRow = (r: TaskRow): Task => ({
  id: r.id,
  incidentId: r.incident_id,
  title: r.title,
  description: r.description,
  status: r.status as TaskStatus,
  assignee: r.assignee,
  createdBy: json<Actor>(r.created_by, SYSTEM_UNKNOWN),
  lastModifiedBy: json<Actor>(r.updated_by, SYSTEM_UNKNOWN),
  createdTime: r.created_at,
  lastModifiedTime: r.updated_at,
  completedTime: r.completed_at,
});

export const auditFromRow = (r: AuditRow): AuditEntry => ({
  id: Number(r.id),
  incidentId: r.incident_id,
  at: r.at,
  actor: json<Actor>(r.actor, SYSTEM_UNKNOWN),
  action: r.action,
  changes: json<FieldChange[]>(r.changes, []),
  ...(r.note ? { note: r.note } : {}),
});

const MARKS: string[] = [];
/** `?, ?, ?` for n values. */
export const marks = (n: number): string => {
  let m = MARKS[n];
  if (m === undefined) {
    m = Array.from({ length: n }, () => '?').join(', ');
    if (n < 1024) MARKS[n] = m;
  }
  return m;
};

// ───────────────────────────── the repository ─────────────────────────────

/** Data access for incidents: small statements the service composes inside its transactions. */
export class IncidentStore {
  /**
   * Sequence values handed out in a transaction, written back by `saveCounters` before it commits (one read and
   * one write per sequence per transaction instead of one statement per value). Keyed by the transaction's
   * driver, so a transaction that rolls back leaves nothing behind.
   */
  private readonly counters = new WeakMap<SqlDriver, Map<string, { value: number; dirty: boolean }>>();

  /** Reserves `count` numbers of a sequence; returns the first. Call `saveCounters` before the commit. */
  async next(db: SqlDriver, name: string, count = 1): Promise<number> {
    let cache = this.counters.get(db);
    if (!cache) {
      cache = new Map();
      this.counters.set(db, cache);
    }
    let c = cache.get(name);
    if (!c) {
      const row = await db.get<{ value: number }>('SELECT value FROM inc_counters WHERE name = ?', [name]);
      if (!row) throw new Error(`no counter ${name}`);
      c = { value: Number(row.value), dirty: false };
      cache.set(name, c);
    }
    const first = c.value + 1;
    c.value += count;
    c.dirty = true;
    return first;
  }

  /** Writes the sequence values handed out in this transaction. */
  async saveCounters(db: SqlDriver): Promise<void> {
    const cache = this.counters.get(db);
    if (!cache) return;
    for (const [name, c] of cache) {
      if (!c.dirty) continue;
      await db.run('UPDATE inc_counters SET value = ? WHERE name = ?', [c.value, name]);
      c.dirty = false;
    }
    this.counters.delete(db);
  }

  // ── incidents ──

  async getIncident(db: SqlDriver, id: string): Promise<IncidentRow | undefined> {
    return db.get<IncidentRow>('SELECT * FROM inc_incidents WHERE id = ?', [id]);
  }

  async getIncidentByNumber(db: SqlDriver, n: number): Promise<IncidentRow | undefined> {
    return db.get<IncidentRow>('SELECT * FROM inc_incidents WHERE number = ?', [n]);
  }

  async getIncidents(db: SqlDriver, ids: readonly string[]): Promise<IncidentRow[]> {
    if (ids.length === 0) return [];
    return db.all<IncidentRow>(`SELECT * FROM inc_incidents WHERE id IN (${marks(ids.length)})`, ids);
  }

  async insertIncident(db: SqlDriver, r: IncidentRow): Promise<void> {
    await db.run(
      `INSERT INTO inc_incidents (${INCIDENT_COLUMNS.join(', ')}) VALUES (${marks(INCIDENT_COLUMNS.length)})`,
      INCIDENT_COLUMNS.map((c) => r[c] as Param),
    );
  }

  /** Writes the changed columns of an incident row. */
  async updateIncident(db: SqlDriver, id: string, changes: Partial<IncidentRow>): Promise<void> {
    const cols = Object.keys(changes).filter((c) => c !== 'id') as (keyof IncidentRow)[];
    if (cols.length === 0) return;
    await db.run(`UPDATE inc_incidents SET ${cols.map((c) => `${c} = ?`).join(', ')} WHERE id = ?`, [
      ...cols.map((c) => (changes[c] ?? null) as Param),
      id,
    ]);
  }

  // ── alerts ──

  async getAlert(db: SqlDriver, id: string): Promise<AlertRow | undefined> {
    return db.get<AlertRow>('SELECT * FROM inc_alerts WHERE alert_id = ?', [id]);
  }

  async getAlertsByIds(db: SqlDriver, ids: readonly string[]): Promise<AlertRow[]> {
    const out: AlertRow[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      const part = ids.slice(i, i + 500);
      out.push(...(await db.all<AlertRow>(`SELECT * FROM inc_alerts WHERE alert_id IN (${marks(part.length)})`, part)));
    }
    return out;
  }

  async insertAlert(db: SqlDriver, r: AlertRow): Promise<void> {
    await db.run(
      `INSERT INTO inc_alerts (alert_id, incident_id, seq, source, rule_id, title, severity, status, provider_name,
        product_name, tactics, techniques, start_time, end_time, time_generated, received_at, payload)
       VALUES (${marks(17)})`,
      [
        r.alert_id,
        r.incident_id,
        r.seq,
        r.source,
        r.rule_id,
        r.title,
        r.severity,
        r.status,
        r.provider_name,
        r.product_name,
        r.tactics,
        r.techniques,
        r.start_time,
        r.end_time,
        r.time_generated,
        r.received_at,
        r.payload,
      ],
    );
  }

  async updateAlert(db: SqlDriver, id: string, changes: Partial<AlertRow>): Promise<void> {
    const cols = Object.keys(changes).filter((c) => c !== 'alert_id') as (keyof AlertRow)[];
    if (cols.length === 0) return;
    await db.run(`UPDATE inc_alerts SET ${cols.map((c) => `${c} = ?`).join(', ')} WHERE alert_id = ?`, [
      ...cols.map((c) => (changes[c] ?? null) as Param),
      id,
    ]);
  }

  /** An incident's alerts in arrival order, from `afterSeq`. */
  async alertsOf(db: SqlDriver, incidentId: string, afterSeq: number, limit: number): Promise<AlertRow[]> {
    return db.all<AlertRow>('SELECT * FROM inc_alerts WHERE incident_id = ? AND seq > ? ORDER BY seq LIMIT ?', [
      incidentId,
      afterSeq,
      limit,
    ]);
  }

  /** The first alert ids of an incident (the 150 that Sentinel's view lists). */
  async alertIdsOf(db: SqlDriver, incidentId: string, limit: number): Promise<string[]> {
    const rows = await db.all<{ alert_id: string }>(
      'SELECT alert_id FROM inc_alerts WHERE incident_id = ? ORDER BY seq LIMIT ?',
      [incidentId, limit],
    );
    return rows.map((r) => r.alert_id);
  }

  // ── entities ──

  async entitiesOf(db: SqlDriver, incidentId: string, afterId: number, limit: number): Promise<EntityRow[]> {
    return db.all<EntityRow>(
      'SELECT * FROM inc_entities WHERE incident_id = ? AND entity_id > ? ORDER BY entity_id LIMIT ?',
      [incidentId, afterId, limit],
    );
  }

  /** Entities of an incident of this type that own one of these keys. */
  async matchingEntities(db: SqlDriver, incidentId: string, type: string, keys: readonly string[]): Promise<number[]> {
    if (keys.length === 0) return [];
    const rows = await db.all<{ entity_id: number }>(
      `SELECT DISTINCT entity_id FROM inc_entity_keys
        WHERE incident_id = ? AND entity_type = ? AND entity_key IN (${marks(keys.length)})`,
      [incidentId, type, ...keys],
    );
    return rows.map((r) => Number(r.entity_id)).sort((a, b) => a - b);
  }

  async getEntities(db: SqlDriver, ids: readonly number[]): Promise<EntityRow[]> {
    if (ids.length === 0) return [];
    return db.all<EntityRow>(`SELECT * FROM inc_entities WHERE entity_id IN (${marks(ids.length)})`, [...ids]);
  }

  async insertEntity(db: SqlDriver, r: EntityRow): Promise<void> {
    await db.run(
      `INSERT INTO inc_entities (entity_id, incident_id, type, display, fields, keys, alert_count, first_seen,
        last_seen) VALUES (${marks(9)})`,
      [r.entity_id, r.incident_id, r.type, r.display, r.fields, r.keys, r.alert_count, r.first_seen, r.last_seen],
    );
  }

  async updateEntity(
    db: SqlDriver,
    id: number,
    r: Pick<EntityRow, 'display' | 'fields' | 'keys' | 'alert_count' | 'first_seen' | 'last_seen'>,
  ): Promise<void> {
    await db.run(
      `UPDATE inc_entities SET display = ?, fields = ?, keys = ?, alert_count = ?, first_seen = ?, last_seen = ?
        WHERE entity_id = ?`,
      [r.display, r.fields, r.keys, r.alert_count, r.first_seen, r.last_seen, id],
    );
  }

  /** Folds entity `from` into entity `into` (same incident): keys and graph edges move, `from` is deleted. */
  async foldEntity(db: SqlDriver, incidentId: string, from: number, into: number): Promise<void> {
    await db.run(
      `INSERT INTO inc_alert_entities (incident_id, alert_id, entity_id)
        SELECT incident_id, alert_id, ? FROM inc_alert_entities WHERE entity_id = ?
        ON CONFLICT (incident_id, alert_id, entity_id) DO NOTHING`,
      [into, from],
    );
    await db.run('DELETE FROM inc_alert_entities WHERE entity_id = ?', [from]);
    await db.run(
      `INSERT INTO inc_entity_keys (entity_key, incident_id, entity_id, entity_type, link, first_seen, last_seen)
        SELECT entity_key, incident_id, ?, entity_type, link, first_seen, last_seen FROM inc_entity_keys
        WHERE entity_id = ?
        ON CONFLICT (entity_key, incident_id, entity_id) DO NOTHING`,
      [into, from],
    );
    await db.run('DELETE FROM inc_entity_keys WHERE entity_id = ?', [from]);
    await db.run('DELETE FROM inc_entities WHERE entity_id = ? AND incident_id = ?', [from, incidentId]);
  }

  /** Adds or widens entity keys (first/last seen). */
  async upsertKeys(
    db: SqlDriver,
    rows: readonly {
      key: string;
      incidentId: string;
      entityId: number;
      type: string;
      link: boolean;
      first: string;
      last: string;
    }[],
  ): Promise<void> {
    for (let i = 0; i < rows.length; i += 100) {
      const part = rows.slice(i, i + 100);
      await db.run(
        `INSERT INTO inc_entity_keys (entity_key, incident_id, entity_id, entity_type, link, first_seen, last_seen)
          VALUES ${part.map(() => `(${marks(7)})`).join(', ')}
          ON CONFLICT (entity_key, incident_id, entity_id) DO UPDATE SET
            first_seen = CASE WHEN excluded.first_seen < inc_entity_keys.first_seen
              THEN excluded.first_seen ELSE inc_entity_keys.first_seen END,
            last_seen = CASE WHEN excluded.last_seen > inc_entity_keys.last_seen
              THEN excluded.last_seen ELSE inc_entity_keys.last_seen END`,
        part.flatMap((r) => [r.key, r.incidentId, r.entityId, r.type, r.link ? 1 : 0, r.first, r.last]),
      );
    }
  }

  async addEdges(db: SqlDriver, incidentId: string, alertId: string, entityIds: readonly number[]): Promise<void> {
    if (entityIds.length === 0) return;
    await db.run(
      `INSERT INTO inc_alert_entities (incident_id, alert_id, entity_id)
        VALUES ${entityIds.map(() => '(?, ?, ?)').join(', ')}
        ON CONFLICT (incident_id, alert_id, entity_id) DO NOTHING`,
      entityIds.flatMap((e) => [incidentId, alertId, e]),
    );
  }

  /** Graph edges among the given alerts of an incident. */
  async edgesOf(
    db: SqlDriver,
    incidentId: string,
    alertIds: readonly string[],
  ): Promise<{ alert_id: string; entity_id: number }[]> {
    if (alertIds.length === 0) return [];
    return db.all(
      `SELECT alert_id, entity_id FROM inc_alert_entities WHERE incident_id = ? AND alert_id IN (${marks(alertIds.length)})`,
      [incidentId, ...alertIds],
    );
  }

  /** Up to `limit` alerts of an incident that carry one of these entities. */
  async alertsWithEntities(
    db: SqlDriver,
    incidentId: string,
    entityIds: readonly number[],
    limit: number,
  ): Promise<string[]> {
    if (entityIds.length === 0) return [];
    const rows = await db.all<{ alert_id: string }>(
      `SELECT DISTINCT alert_id FROM inc_alert_entities WHERE entity_id IN (${marks(entityIds.length)})
        AND incident_id = ? LIMIT ?`,
      [...entityIds, incidentId, limit],
    );
    return rows.map((r) => r.alert_id);
  }

  /** Removes an incident's entities, keys and graph (before rebuilding them, or when they moved). */
  async clearEntities(db: SqlDriver, incidentId: string): Promise<void> {
    await db.run('DELETE FROM inc_alert_entities WHERE incident_id = ?', [incidentId]);
    await db.run('DELETE FROM inc_entity_keys WHERE incident_id = ?', [incidentId]);
    await db.run('DELETE FROM inc_entities WHERE incident_id = ?', [incidentId]);
  }

  async countEntities(db: SqlDriver, incidentId: string): Promise<{ total: number; hosts: number; users: number }> {
    const rows = await db.all<{ type: string; n: number }>(
      'SELECT type, COUNT(*) AS n FROM inc_entities WHERE incident_id = ? GROUP BY type',
      [incidentId],
    );
    let total = 0;
    let hosts = 0;
    let users = 0;
    for (const r of rows) {
      const n = Number(r.n);
      total += n;
      if (r.type === 'host') hosts += n;
      if (r.type === 'account' || r.type === 'mailbox') users += n;
    }
    return { total, hosts, users };
  }

  /**
   * Entity-key hits for correlation: incidents that own one of the link keys, with the time span over which they
   * saw it, where that span comes within `windowMs` of [fromIso, toIso].
   */
  async keyHits(
    db: SqlDriver,
    keys: readonly string[],
    earliestIso: string,
    latestIso: string,
  ): Promise<{ entity_key: string; incident_id: string; entity_id: number; first_seen: string; last_seen: string }[]> {
    if (keys.length === 0) return [];
    return db.all(
      `SELECT entity_key, incident_id, entity_id, first_seen, last_seen FROM inc_entity_keys
        WHERE entity_key IN (${marks(keys.length)}) AND link = 1 AND last_seen >= ? AND first_seen <= ?`,
      [...keys, earliestIso, latestIso],
    );
  }

  // ── groups ──

  async getGroup(
    db: SqlDriver,
    key: string,
  ): Promise<{ incident_id: string; first_alert_at: string; rule_id: string } | undefined> {
    return db.get('SELECT incident_id, first_alert_at, rule_id FROM inc_groups WHERE group_key = ?', [key]);
  }

  async putGroup(db: SqlDriver, key: string, incidentId: string, ruleId: string, firstAlertAt: string): Promise<void> {
    await db.run(
      `INSERT INTO inc_groups (group_key, incident_id, rule_id, first_alert_at) VALUES (?, ?, ?, ?)
        ON CONFLICT (group_key) DO UPDATE SET incident_id = excluded.incident_id,
          first_alert_at = excluded.first_alert_at`,
      [key, incidentId, ruleId, firstAlertAt],
    );
  }

  async moveGroups(db: SqlDriver, from: string, to: string): Promise<void> {
    await db.run('UPDATE inc_groups SET incident_id = ? WHERE incident_id = ?', [to, from]);
  }

  // ── facets (list filters) ──

  async addFacets(db: SqlDriver, incidentId: string, facets: readonly (readonly [string, string])[]): Promise<void> {
    const unique = [...new Map(facets.filter(([, v]) => v !== '').map((f) => [`${f[0]}\n${f[1]}`, f])).values()];
    for (let i = 0; i < unique.length; i += 200) {
      const part = unique.slice(i, i + 200);
      await db.run(
        `INSERT INTO inc_facets (kind, value, incident_id) VALUES ${part.map(() => '(?, ?, ?)').join(', ')}
          ON CONFLICT (kind, value, incident_id) DO NOTHING`,
        part.flatMap(([k, v]) => [k, v, incidentId]),
      );
    }
  }

  async removeFacets(db: SqlDriver, incidentId: string, kind: string, values?: readonly string[]): Promise<void> {
    if (values === undefined) {
      await db.run('DELETE FROM inc_facets WHERE incident_id = ? AND kind = ?', [incidentId, kind]);
    } else if (values.length > 0) {
      await db.run(`DELETE FROM inc_facets WHERE incident_id = ? AND kind = ? AND value IN (${marks(values.length)})`, [
        incidentId,
        kind,
        ...values,
      ]);
    }
  }

  async clearFacets(db: SqlDriver, incidentId: string): Promise<void> {
    await db.run('DELETE FROM inc_facets WHERE incident_id = ?', [incidentId]);
  }

  // ── links, audit, comments, tasks ──

  async addLink(
    db: SqlDriver,
    l: { incidentId: string; alertId: string | null; at: string; actor: Actor; reason: LinkReason },
  ): Promise<void> {
    const id = await this.next(db, 'link');
    await db.run('INSERT INTO inc_links (id, incident_id, alert_id, at, actor, reason) VALUES (?, ?, ?, ?, ?, ?)', [
      id,
      l.incidentId,
      l.alertId,
      l.at,
      JSON.stringify(l.actor),
      JSON.stringify(l.reason),
    ]);
  }

  async moveLinks(db: SqlDriver, from: string, to: string, alertIds?: readonly string[]): Promise<void> {
    if (alertIds === undefined) {
      await db.run('UPDATE inc_links SET incident_id = ? WHERE incident_id = ? AND alert_id IS NOT NULL', [to, from]);
      return;
    }
    for (let i = 0; i < alertIds.length; i += 500) {
      const part = alertIds.slice(i, i + 500);
      await db.run(
        `UPDATE inc_links SET incident_id = ? WHERE incident_id = ? AND alert_id IN (${marks(part.length)})`,
        [to, from, ...part],
      );
    }
  }

  async linksOf(db: SqlDriver, incidentId: string, afterId: number, limit: number): Promise<IncidentLink[]> {
    const rows = await db.all<LinkRow>('SELECT * FROM inc_links WHERE incident_id = ? AND id > ? ORDER BY id LIMIT ?', [
      incidentId,
      afterId,
      limit,
    ]);
    return rows.map(linkFromRow);
  }

  async linksOfAlert(db: SqlDriver, alertId: string): Promise<IncidentLink[]> {
    const rows = await db.all<LinkRow>('SELECT * FROM inc_links WHERE alert_id = ? ORDER BY id', [alertId]);
    return rows.map(linkFromRow);
  }

  async addAudit(
    db: SqlDriver,
    a: { incidentId: string; at: string; actor: Actor; action: string; changes: readonly FieldChange[]; note?: string },
  ): Promise<void> {
    const id = await this.next(db, 'audit');
    await db.run(
      'INSERT INTO inc_audit (id, incident_id, at, actor, actor_type, action, changes, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      [
        id,
        a.incidentId,
        a.at,
        JSON.stringify(a.actor),
        a.actor.type,
        a.action,
        JSON.stringify(a.changes),
        a.note ?? null,
      ],
    );
  }

  /** An incident's audit trail, newest first. */
  async auditOf(db: SqlDriver, incidentId: string, beforeId: number, limit: number): Promise<AuditEntry[]> {
    const rows = await db.all<AuditRow>(
      'SELECT * FROM inc_audit WHERE incident_id = ? AND id < ? ORDER BY id DESC LIMIT ?',
      [incidentId, beforeId, limit],
    );
    return rows.map(auditFromRow);
  }

  async insertComment(db: SqlDriver, c: Comment): Promise<void> {
    const seq = await this.next(db, 'comment');
    await db.run(
      'INSERT INTO inc_comments (id, seq, incident_id, message, author, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [c.id, seq, c.incidentId, c.message, JSON.stringify(c.author), c.createdTime, c.lastModifiedTime],
    );
  }

  async getComment(db: SqlDriver, id: string): Promise<Comment | undefined> {
    const r = await db.get<CommentRow>('SELECT * FROM inc_comments WHERE id = ?', [id]);
    return r ? commentFromRow(r) : undefined;
  }

  async updateComment(db: SqlDriver, id: string, message: string, at: string): Promise<void> {
    await db.run('UPDATE inc_comments SET message = ?, updated_at = ? WHERE id = ?', [message, at, id]);
  }

  async deleteComment(db: SqlDriver, id: string): Promise<void> {
    await db.run('DELETE FROM inc_comments WHERE id = ?', [id]);
  }

  async commentsOf(db: SqlDriver, incidentId: string): Promise<Comment[]> {
    const rows = await db.all<CommentRow>('SELECT * FROM inc_comments WHERE incident_id = ? ORDER BY seq', [
      incidentId,
    ]);
    return rows.map(commentFromRow);
  }

  async insertTask(db: SqlDriver, t: Task): Promise<void> {
    const seq = await this.next(db, 'task');
    await db.run(
      `INSERT INTO inc_tasks (id, seq, incident_id, title, description, status, assignee, created_by, updated_by,
        created_at, updated_at, completed_at) VALUES (${marks(12)})`,
      [
        t.id,
        seq,
        t.incidentId,
        t.title,
        t.description,
        t.status,
        t.assignee,
        JSON.stringify(t.createdBy),
        JSON.stringify(t.lastModifiedBy),
        t.createdTime,
        t.lastModifiedTime,
        t.completedTime,
      ],
    );
  }

  async getTask(db: SqlDriver, id: string): Promise<Task | undefined> {
    const r = await db.get<TaskRow>('SELECT * FROM inc_tasks WHERE id = ?', [id]);
    return r ? taskFromRow(r) : undefined;
  }

  async updateTask(db: SqlDriver, t: Task): Promise<void> {
    await db.run(
      `UPDATE inc_tasks SET title = ?, description = ?, status = ?, assignee = ?, updated_by = ?, updated_at = ?,
        completed_at = ? WHERE id = ?`,
      [
        t.title,
        t.description,
        t.status,
        t.assignee,
        JSON.stringify(t.lastModifiedBy),
        t.lastModifiedTime,
        t.completedTime,
        t.id,
      ],
    );
  }

  async deleteTask(db: SqlDriver, id: string): Promise<void> {
    await db.run('DELETE FROM inc_tasks WHERE id = ?', [id]);
  }

  async tasksOf(db: SqlDriver, incidentId: string): Promise<Task[]> {
    const rows = await db.all<TaskRow>('SELECT * FROM inc_tasks WHERE incident_id = ? ORDER BY seq', [incidentId]);
    return rows.map(taskFromRow);
  }

  // ── events and outbox ──

  async addEvent(db: SqlDriver, e: Omit<IncidentEvent, 'seq'> & { type: IncidentEventType }): Promise<IncidentEvent> {
    const seq = await this.next(db, 'event');
    const event: IncidentEvent = { seq, ...e };
    await db.run('INSERT INTO inc_events (seq, type, at, incident_id, alert_id, payload) VALUES (?, ?, ?, ?, ?, ?)', [
      seq,
      e.type,
      e.at,
      e.incidentId,
      e.alertId,
      JSON.stringify(event),
    ]);
    return event;
  }

  async eventsAfter(db: SqlDriver, afterSeq: number, limit: number): Promise<IncidentEvent[]> {
    const rows = await db.all<EventRow>('SELECT seq, payload FROM inc_events WHERE seq > ? ORDER BY seq LIMIT ?', [
      afterSeq,
      limit,
    ]);
    return rows.map((r) => JSON.parse(r.payload) as IncidentEvent);
  }

  async pruneEvents(db: SqlDriver, beforeIso: string): Promise<number> {
    return db.run('DELETE FROM inc_events WHERE at < ?', [beforeIso]);
  }

  async addOutbox(db: SqlDriver, rows: readonly { table: string; row: Record<string, unknown> }[]): Promise<void> {
    if (rows.length === 0) return;
    const first = await this.next(db, 'outbox', rows.length);
    for (let i = 0; i < rows.length; i += 200) {
      const part = rows.slice(i, i + 200);
      await db.run(
        `INSERT INTO inc_outbox (seq, table_name, row) VALUES ${part.map(() => '(?, ?, ?)').join(', ')}`,
        part.flatMap((r, j) => [first + i + j, r.table, JSON.stringify(r.row)]),
      );
    }
  }

  async outbox(db: SqlDriver, limit: number): Promise<{ seq: number; table_name: string; row: string }[]> {
    return db.all('SELECT seq, table_name, row FROM inc_outbox ORDER BY seq LIMIT ?', [limit]);
  }

  async deleteOutbox(db: SqlDriver, table: string, upToSeq: number): Promise<void> {
    await db.run('DELETE FROM inc_outbox WHERE table_name = ? AND seq <= ?', [table, upToSeq]);
  }

  // ── settings ──

  async getSetting(db: SqlDriver, name: string): Promise<string | undefined> {
    const r = await db.get<{ value: string }>('SELECT value FROM inc_settings WHERE name = ?', [name]);
    return r?.value;
  }

  async putSetting(db: SqlDriver, name: string, value: string, at: string, actor: Actor): Promise<void> {
    await db.run(
      `INSERT INTO inc_settings (name, value, updated_at, updated_by) VALUES (?, ?, ?, ?)
        ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at,
          updated_by = excluded.updated_by`,
      [name, value, at, JSON.stringify(actor)],
    );
  }
}
