/**
 * The incident service: alerts in (Vigil's rules, security products), incidents out — rule grouping, the
 * correlation engine, merges, manual merge and split, automatic naming, the queue API (list, get, update, bulk
 * update, comments, tasks), the audit trail, change events, and the Sentinel view in the event store.
 *
 * Consistency: every change runs in one state-store transaction (`mutate`), which also writes the audit entries,
 * the change events and the outbox rows of `SecurityIncident` / `SecurityAlert`; listeners hear about events after
 * the commit, and the outbox drainer loads the rows into the engine (exactly once, see outbox.ts). Changes are
 * serialized by the service (one writer); alerts are group-committed: alerts handed in while a transaction runs go
 * together into the next one.
 */
import { randomUUID } from 'node:crypto';
import type { DetectionAlert } from '../detect/alerts.js';
import {
  type AlertRow,
  alertSummaryFromRow,
  entityFromRow,
  INCIDENT_MIGRATIONS,
  type IncidentRow,
  IncidentStore,
  incidentFromRow,
} from '../state/incidents-repo.js';
import { migrate } from '../state/migrations.js';
import { type SqlDriver, stagedTransaction } from '../state/sql-driver.js';
import { CommonEntityStats } from './common-entities.js';
import { type Candidate, type KeyHit, planCorrelation } from './correlate.js';
import { keyValue, mergeEntities, type NormalizedEntity, normalizeEntities } from './entities.js';
import { groupingConfig, groupKey } from './grouping.js';
import {
  type Actor,
  type AuditEntry,
  CLASSIFICATION_REASONS,
  CLASSIFICATIONS,
  type Classification,
  type Comment,
  DEFAULT_SETTINGS,
  type FieldChange,
  INCIDENT_STATUSES,
  type Incident,
  type IncidentAlertSummary,
  type IncidentDetail,
  type IncidentEntity,
  type IncidentEvent,
  type IncidentGraph,
  type IncidentLink,
  type IncidentSettings,
  type IncidentStatus,
  type LinkEntity,
  type LinkReason,
  type Owner,
  type Page,
  REDIRECTED_TAG,
  SEVERITY_BY_RANK,
  SEVERITY_RANK,
  type Severity,
  SYSTEM_ACTOR,
  type Task,
  type TaskStatus,
} from './model.js';
import { incidentTitle, sortTactics } from './naming.js';
import {
  alertsFromProductRows,
  fromDetectionAlert,
  type NormalizedAlert,
  type RowProblem,
  sourceOf,
} from './normalize.js';
import { type EventStoreTarget, OutboxDrainer } from './outbox.js';
import { cursorAfter, facetFilters, type IncidentQuery, type ListPlan, listSql, selectiveFilters } from './queue.js';
import { SENTINEL_ALERT_CAP, securityAlertRowOf, securityIncidentRow } from './sentinel-view.js';

export interface IncidentServiceOptions {
  readonly state: SqlDriver;
  /** Where `SecurityIncident` and `SecurityAlert` rows go (omit to keep incidents in the state store only). */
  readonly eventStore?: EventStoreTarget | null;
  /** The workspace id written to rows (`TenantId`). */
  readonly tenantId?: string;
  readonly clock?: () => number;
  /** Settings used until some are stored (`updateSettings`). */
  readonly settings?: Partial<IncidentSettings>;
  /** Alerts per transaction (default 256). */
  readonly maxBatch?: number;
  /**
   * How long after a change its `SecurityIncident` / `SecurityAlert` rows wait before they are loaded into the event
   * store (default 1 s), so that the changes made meanwhile share one load. 0 loads after every change.
   */
  readonly outboxDelayMs?: number;
  /** How long change events are kept (default 30 days). */
  readonly eventRetentionMs?: number;
  /** Base of incident links in `SecurityIncident.IncidentUrl` (default `/incidents/`). */
  readonly incidentUrlBase?: string;
  readonly log?: (message: string) => void;
  /** Called after each committed batch of alerts. */
  readonly onBatch?: (info: BatchInfo) => void;
}

/** A user mistake or a conflict: the API answers it with `status`. */
export class IncidentError extends Error {
  override readonly name = 'IncidentError';
  constructor(
    readonly code: 'not_found' | 'invalid' | 'conflict',
    message: string,
  ) {
    super(message);
  }
  get status(): number {
    return this.code === 'not_found' ? 404 : this.code === 'conflict' ? 409 : 400;
  }
}

export interface AlertOutcome {
  readonly alertId: string;
  /** The incident the alert is in (null: the rule asked for no incident). */
  readonly incidentId: string | null;
  readonly incidentNumber: number | null;
  /** `created`: a new incident; `joined`: an existing one; `updated`: the alert was known (new evidence). */
  readonly outcome: 'created' | 'joined' | 'updated' | 'unattached';
  /** Incidents merged into this one because of the alert. */
  readonly merged: readonly number[];
  /** Time the engine spent on this alert inside its transaction (decision and writes, without the commit). */
  readonly processingMs?: number;
}

/** One group-committed transaction of alerts (for metrics and benchmarks). */
export interface BatchInfo {
  readonly alerts: number;
  /** Correlation and writes of all the alerts, then the end-of-transaction work (events, outbox rows). */
  readonly workMs: number;
  /** From the end of the work to the commit being durable. */
  readonly commitMs: number;
}

export interface ProductIngestResult {
  readonly alerts: readonly AlertOutcome[];
  /** Rows that could not become alerts (not an alert table, no id). */
  readonly problems: readonly RowProblem[];
}

export interface IncidentPatch {
  readonly title?: string;
  readonly description?: string;
  /** null: back to the highest alert severity. */
  readonly severity?: Severity | null;
  readonly status?: IncidentStatus;
  readonly classification?: Classification | null;
  readonly classificationReason?: string | null;
  readonly classificationComment?: string | null;
  readonly owner?: Owner | null;
  /** Replace the tags. */
  readonly tags?: readonly string[];
  readonly addTags?: readonly string[];
  readonly removeTags?: readonly string[];
}

export interface TaskInput {
  readonly title: string;
  readonly description?: string;
  readonly assignee?: string | null;
}

export interface TaskPatch {
  readonly title?: string;
  readonly description?: string;
  readonly status?: TaskStatus;
  readonly assignee?: string | null;
}

export type EventListener = (event: IncidentEvent) => void | Promise<void>;

/** Anything that tells about new alerts (the detection service). */
export interface AlertSource {
  onAlertCreated(listener: (alert: DetectionAlert) => void | Promise<void>): () => void;
}

const iso = (ms: number) => new Date(ms).toISOString();
const parseList = (text: string): string[] => {
  try {
    const v = JSON.parse(text) as unknown;
    return Array.isArray(v) ? v.map(String) : [];
  } catch {
    return [];
  }
};
/** ISO times compare as text. */
const earlier = (a: string, b: string) => (a < b ? a : b);
const later = (a: string, b: string) => (a > b ? a : b);
const union = (a: readonly string[], b: readonly string[]) => [...new Set([...a, ...b])];
const ownerKeyOf = (o: Owner | null): string | null => {
  const k = o?.userPrincipalName || o?.email || o?.assignedTo || o?.objectId;
  return k ? k.toLowerCase() : null;
};
const SENTINEL_PRODUCT = 'Azure Sentinel';
/** A facet filter keeping at most this many incidents is a better starting point than the sort order. */
/**
 * The audit note of an alert joining an incident: why it is there, and what the engine decided not to do (merges a
 * guardrail refused, entities too common to link), so the trail alone explains the case.
 */
function alertAddedNote(alertId: string, reason: LinkReason): string {
  let note = `${alertId}: ${reason.summary}`;
  if (reason.refused?.length)
    note += `; not merged: ${reason.refused.map((r) => `#${r.number} (${r.guardrail}: ${r.detail})`).join(', ')}`;
  if (reason.commonEntities?.length)
    note += `; too common to link: ${reason.commonEntities.map((e) => `${e.type} ${e.displayName} (${Math.round(e.share * 1000) / 10}% of recent alerts)`).join(', ')}`;
  return note;
}

const SELECTIVE_ROWS = 2000;
/**
 * An activity window is read from its index and sorted (the `activity` plan) when that reads fewer entries than
 * scanning in sort order would ...
 */
/** ... and when at most this many incidents started before the window's end (the index entries it reads). */
const ACTIVITY_SCAN_ROWS = 50_000;
/** Newest first, at most this many incidents started after the window: scanning in sort order reaches it soon. */
const LATER_ROWS = 10_000;
/** How many index entries one row read is worth, for choosing a plan (measured: about 4 on SQLite). */
const ROW_COST = 4;
/** Sorts whose order follows incident time: newest first, an old window is reached after every later incident. */
const TIME_ORDERED_SORTS: ReadonlySet<string> = new Set([
  'number',
  'createdTime',
  'firstActivityTime',
  'lastActivityTime',
]);
const providerFor = (products: readonly string[]) =>
  products.length > 0 && products.every((p) => p === SENTINEL_PRODUCT) ? 'Azure Sentinel' : 'Microsoft XDR';

/** A result computed after the transaction's end-of-change work (naming, versions), just before the commit. */
class Deferred<T> {
  constructor(readonly get: () => T) {}
}
const deferred = <T>(get: () => T) => new Deferred(get);

/** An incident row being changed in a transaction; columns written once at the end. */
type ListColumn = 'tags' | 'tactics' | 'techniques' | 'product_names' | 'rule_ids' | 'sources' | 'alert_titles';

class Working {
  readonly dirty = new Set<keyof IncidentRow>();
  /** Parsed JSON list columns (read-only arrays; replaced by setList). */
  private readonly lists = new Map<string, readonly string[]>();
  constructor(
    readonly row: IncidentRow,
    readonly created: boolean,
  ) {}
  set<K extends keyof IncidentRow>(k: K, v: IncidentRow[K]): void {
    if (this.row[k] === v) return;
    this.row[k] = v;
    this.dirty.add(k);
    this.lists.delete(k);
  }
  list(k: ListColumn): readonly string[] {
    let v = this.lists.get(k);
    if (!v) {
      v = parseList(this.row[k]);
      this.lists.set(k, v);
    }
    return v;
  }
  setList(k: ListColumn, v: readonly string[]) {
    const text = JSON.stringify(v);
    if (text === this.row[k]) return;
    this.set(k, text);
    this.lists.set(k, [...v]);
  }
}

interface Touch {
  readonly w: Working;
  readonly changes: Set<string>;
  actor: Actor;
}

/** One transaction's state: incidents being changed, events and outbox rows to write at the end. */
class Batch {
  readonly incidents = new Map<string, Working>();
  readonly touched = new Map<string, Touch>();
  readonly alertEvents: { alert: AlertRow; actor: Actor }[] = [];
  readonly outbox: { table: string; row: Record<string, unknown> }[] = [];
  readonly events: IncidentEvent[] = [];
  /** Linking keys of the alerts of this transaction, counted into the statistics once it commits. */
  readonly statKeys: string[][] = [];
  readonly statOverlay = new Map<string, number>();
  /** Alerts processed in this transaction (for `onBatch`). */
  alertCount = 0;
  workStartMs = 0;
  workEndMs = 0;
  readonly now: string;
  constructor(
    readonly tx: SqlDriver,
    readonly nowMs: number,
  ) {
    this.now = iso(nowMs);
  }
}

export class IncidentService {
  readonly store = new IncidentStore();
  private readonly state: SqlDriver;
  private readonly clock: () => number;
  private readonly tenantId: string;
  private readonly maxBatch: number;
  private readonly listeners = new Set<EventListener>();
  private readonly outbox: OutboxDrainer | null;
  private current: IncidentSettings;
  /** The tail of the serialized changes. */
  private chain: Promise<unknown> = Promise.resolve();
  private pending: { alert: NormalizedAlert; resolve: (o: AlertOutcome) => void; reject: (e: unknown) => void }[] = [];
  private draining: Promise<void> | null = null;
  /** Changes committed or committing whose callers, listeners and outbox have not heard of them yet. */
  private readonly settling = new Set<Promise<unknown>>();
  private delivering: Promise<void> = Promise.resolve();
  private lastPruneMs = 0;
  private lastStatsSaveMs = 0;
  private lastRowMs = 0;
  private stats: CommonEntityStats;
  private closed = false;

  private constructor(private readonly options: IncidentServiceOptions) {
    this.state = options.state;
    this.clock = options.clock ?? Date.now;
    this.tenantId = options.tenantId ?? options.eventStore?.engine.workspaceId ?? '';
    this.maxBatch = Math.max(1, options.maxBatch ?? 256);
    this.current = mergeSettings(DEFAULT_SETTINGS, options.settings ?? {});
    this.stats = new CommonEntityStats(CommonEntityStats.bucketMsFor(this.current.commonEntities.windowMs));
    this.outbox = options.eventStore
      ? new OutboxDrainer(this.state, this.store, options.eventStore, (m) => this.log(m), options.outboxDelayMs ?? 1000)
      : null;
  }

  /** Migrates the state store, loads the settings and delivers outbox rows a crash left behind. */
  static async open(options: IncidentServiceOptions): Promise<IncidentService> {
    await migrate(options.state, INCIDENT_MIGRATIONS);
    const s = new IncidentService(options);
    const stored = await s.store.getSetting(options.state, 'settings');
    if (stored) s.current = mergeSettings(s.current, JSON.parse(stored) as Partial<IncidentSettings>);
    s.stats = new CommonEntityStats(CommonEntityStats.bucketMsFor(s.current.commonEntities.windowMs));
    await s.stats.load(options.state, s.clock());
    s.lastStatsSaveMs = s.clock();
    s.outbox?.kick();
    return s;
  }

  private log(message: string): void {
    this.options.log?.(message);
  }

  // ───────────────────────────── settings ─────────────────────────────

  settings(): IncidentSettings {
    return this.current;
  }

  async updateSettings(patch: Partial<IncidentSettings>, actor: Actor): Promise<IncidentSettings> {
    const next = mergeSettings(this.current, patch);
    const c = next.correlation;
    const e = next.commonEntities;
    if (!(e.share > 0 && e.share <= 1)) throw new IncidentError('invalid', 'commonEntities.share must be in (0, 1]');
    if (!(e.windowMs > 0) || !(e.minAlerts >= 0))
      throw new IncidentError('invalid', 'commonEntities.windowMs must be positive and minAlerts not negative');
    if (!(c.sharedEntityWindowMs >= 0 && c.stageWindowMs >= 0 && c.maxEntitiesPerIncident > 0))
      throw new IncidentError('invalid', 'correlation windows must not be negative and the entity cap positive');
    await this.serial(() =>
      this.state.transaction((tx) =>
        this.store.putSetting(tx, 'settings', JSON.stringify(next), iso(this.clock()), actor),
      ),
    );
    // Statistics over another window start afresh.
    if (next.commonEntities.windowMs !== this.current.commonEntities.windowMs)
      this.stats = new CommonEntityStats(CommonEntityStats.bucketMsFor(next.commonEntities.windowMs));
    this.current = next;
    return next;
  }

  // ───────────────────────────── intake ─────────────────────────────

  /** Correlates alerts; resolves when they are committed (each with where it went). */
  ingestAlerts(alerts: readonly NormalizedAlert[]): Promise<AlertOutcome[]> {
    if (this.closed) return Promise.reject(new Error('the incident service is closed'));
    const out = alerts.map(
      (alert) =>
        new Promise<AlertOutcome>((resolve, reject) => {
          this.pending.push({ alert, resolve, reject });
        }),
    );
    if (!this.draining) this.draining = this.drain();
    return Promise.all(out);
  }

  ingestDetectionAlerts(alerts: readonly DetectionAlert[]): Promise<AlertOutcome[]> {
    return this.ingestAlerts(alerts.map(fromDetectionAlert));
  }

  /**
   * The entry point for connectors marked as alert sources: rows they ingested into `SecurityAlert`, `AlertInfo`
   * or `AlertEvidence` (after the rows were written; each row's table is its `Type`, or `table` for all). An alert
   * seen again (a later status, more evidence) updates the alert in its incident.
   */
  async ingestProductAlerts(
    rows: readonly Readonly<Record<string, unknown>>[],
    options: { table?: 'SecurityAlert' | 'AlertInfo' | 'AlertEvidence' } = {},
  ): Promise<ProductIngestResult> {
    const { alerts, problems } = alertsFromProductRows(rows, iso(this.clock()), options.table);
    return { alerts: await this.ingestAlerts(alerts), problems };
  }

  /** Correlates every alert a detection service raises. Returns the unsubscribe function. */
  attach(source: AlertSource): () => void {
    return source.onAlertCreated(async (a) => {
      await this.ingestDetectionAlerts([a]);
    });
  }

  /**
   * Group commit: each transaction takes the alerts that arrived while the previous one ran. The next batch starts
   * once the previous one committed, while its commit is being made durable (see `mutate`).
   */
  private async drain(): Promise<void> {
    const batches: Promise<void>[] = [];
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, this.maxBatch);
        let committed = (): void => undefined;
        const turn = new Promise<void>((r) => {
          committed = r;
        });
        const done = this.mutate(
          SYSTEM_ACTOR,
          async (b) => {
            const out: AlertOutcome[] = [];
            for (const p of batch) {
              const t0 = performance.now();
              const o = await this.processAlert(b, p.alert);
              out.push({ ...o, processingMs: performance.now() - t0 });
            }
            b.alertCount = batch.length;
            return out;
          },
          committed,
        ).then(
          (outcomes) => {
            for (const [i, p] of batch.entries()) p.resolve(outcomes[i] as AlertOutcome);
          },
          async (e: unknown) => {
            if (batch.length === 1) {
              (batch[0] as (typeof batch)[0]).reject(e);
              return;
            }
            // One bad alert must not fail the others: retry them one by one.
            for (const p of batch) {
              try {
                const [o] = await this.mutate(SYSTEM_ACTOR, async (b) => [await this.processAlert(b, p.alert)]);
                p.resolve(o as AlertOutcome);
              } catch (err) {
                p.reject(err);
              }
            }
          },
        );
        batches.push(done);
        await Promise.race([turn, done]);
        if (batches.length > 64) await batches.shift();
        // Alerts handed in while the last batches settle are this drain's too (it is still `draining`).
        if (this.pending.length === 0) await Promise.all(batches.splice(0));
      }
    } finally {
      this.draining = null;
    }
  }

  // ───────────────────────────── transactions ─────────────────────────────

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.chain.then(fn);
    this.chain = next.catch(() => undefined);
    return next;
  }

  /**
   * Runs a change in one transaction, then tells listeners and the outbox. The next change may start as soon as
   * this one committed (its transaction runs while this one's commit is being made durable); callers, listeners
   * and the outbox hear of a change only once it is durable.
   */
  private mutate<T>(actor: Actor, fn: (b: Batch) => Promise<T | Deferred<T>>, committed?: () => void): Promise<T> {
    const p = this.mutateNow(actor, fn, committed);
    this.settling.add(p);
    const forget = () => this.settling.delete(p);
    p.then(forget, forget);
    return p;
  }

  private async mutateNow<T>(
    actor: Actor,
    fn: (b: Batch) => Promise<T | Deferred<T>>,
    committed?: () => void,
  ): Promise<T> {
    const { value, durable } = await this.serial(async () => {
      const staged = await stagedTransaction(this.state, async (tx) => {
        const b = new Batch(tx, this.clock());
        const t0 = performance.now();
        const value = await fn(b);
        await this.finish(b, actor);
        b.workEndMs = performance.now();
        b.workStartMs = t0;
        return { result: value instanceof Deferred ? value.get() : value, events: b.events, batch: b };
      });
      // In-memory statistics of committed alerts, before the next change reads them.
      for (const keys of staged.value.batch.statKeys) this.stats.add(keys, staged.value.batch.nowMs);
      return staged;
    });
    committed?.();
    await durable;
    const { result, events, batch } = value;
    if (batch.alertCount > 0 && this.options.onBatch) {
      this.options.onBatch({
        alerts: batch.alertCount,
        workMs: batch.workEndMs - batch.workStartMs,
        commitMs: performance.now() - batch.workEndMs,
      });
    }
    if (events.length > 0) this.deliver(events);
    this.outbox?.kick();
    this.housekeeping();
    return result;
  }

  private deliver(events: readonly IncidentEvent[]): void {
    if (this.listeners.size === 0) return;
    this.delivering = this.delivering.then(async () => {
      for (const e of events) {
        for (const l of this.listeners) {
          try {
            await l(e);
          } catch (err) {
            this.log(`incident event listener: ${err instanceof Error ? err.message : String(err)}`);
          }
        }
      }
    });
  }

  /**
   * `TimeGenerated` of a `SecurityIncident` row: the change time, moved 1 ms past the previous row when several
   * changes share a millisecond, so `summarize arg_max(TimeGenerated, *) by IncidentNumber` finds the last one.
   */
  private rowTime(nowMs: number): string {
    this.lastRowMs = Math.max(nowMs, this.lastRowMs + 1);
    return iso(this.lastRowMs);
  }

  /** Saves the entity statistics every minute; prunes old change events every hour. */
  private housekeeping(): void {
    const now = this.clock();
    if (now - this.lastStatsSaveMs >= 60_000) {
      this.lastStatsSaveMs = now;
      void this.serial(() => this.state.transaction((tx) => this.stats.save(tx, now))).catch((e: unknown) =>
        this.log(`entity statistics: ${e instanceof Error ? e.message : String(e)}`),
      );
    }
    if (now - this.lastPruneMs < 3600_000) return;
    this.lastPruneMs = now;
    void this.serial(() =>
      this.state.transaction(async (tx) => {
        await this.store.pruneEvents(tx, iso(now - (this.options.eventRetentionMs ?? 30 * 86_400_000)));
      }),
    ).catch((e: unknown) => this.log(`incident pruning: ${e instanceof Error ? e.message : String(e)}`));
  }

  /** An incident in the batch (loaded once per transaction). */
  private async load(b: Batch, id: string): Promise<Working | null> {
    const w = b.incidents.get(id);
    if (w) return w;
    const row = await this.store.getIncident(b.tx, id);
    if (!row) return null;
    const fresh = new Working(row, false);
    b.incidents.set(id, fresh);
    return fresh;
  }

  private async loadMany(b: Batch, ids: readonly string[]): Promise<Working[]> {
    const missing = ids.filter((id) => !b.incidents.has(id));
    for (const row of await this.store.getIncidents(b.tx, missing)) b.incidents.set(row.id, new Working(row, false));
    return ids.map((id) => b.incidents.get(id)).filter((w): w is Working => w !== undefined);
  }

  private touch(b: Batch, w: Working, actor: Actor, ...changes: string[]): void {
    let t = b.touched.get(w.row.id);
    if (!t) {
      t = { w, changes: new Set(), actor };
      b.touched.set(w.row.id, t);
    }
    t.actor = actor;
    for (const c of changes) t.changes.add(c);
  }

  private async audit(
    b: Batch,
    incidentId: string,
    actor: Actor,
    action: string,
    changes: readonly FieldChange[] = [],
    note?: string,
  ): Promise<void> {
    await this.store.addAudit(b.tx, {
      incidentId,
      at: b.now,
      actor,
      action,
      changes,
      ...(note !== undefined ? { note } : {}),
    });
  }

  /** End of a transaction: incident rows written, naming, facets, `SecurityIncident` rows, events. */
  private async finish(b: Batch, defaultActor: Actor): Promise<void> {
    for (const t of b.touched.values()) {
      const w = t.w;
      const r = w.row;
      if (!r.title_manual) {
        const title = incidentTitle({
          tactics: parseList(r.tactics),
          alertTitles: parseList(r.alert_titles),
          alertCount: Number(r.alert_count),
          hostCount: Number(r.host_count),
          userCount: Number(r.user_count),
          sourceCount: parseList(r.sources).length,
        });
        if (title !== r.title) {
          w.set('title', title);
          w.set('title_lower', title.toLowerCase());
          if (!w.created) t.changes.add('title');
        }
      }
      w.set('updated_at', b.now);
      w.set('version', Number(r.version) + (w.created ? 0 : 1));
      w.set('updated_by', JSON.stringify(t.actor));
      if (!w.created && !r.first_modified_at) w.set('first_modified_at', b.now);
      if (w.created) {
        await this.store.insertIncident(b.tx, r);
      } else {
        await this.store.updateIncident(
          b.tx,
          r.id,
          Object.fromEntries([...w.dirty].map((k) => [k, r[k]])) as Partial<IncidentRow>,
        );
      }
      w.dirty.clear();
    }
    for (const { alert, actor } of b.alertEvents) {
      // The alert's incident may have merged into another one later in the same transaction.
      let incident = alert.incident_id ? b.incidents.get(alert.incident_id) : undefined;
      for (let hops = 0; incident?.row.redirected_to && hops < 64; hops++)
        incident = b.incidents.get(incident.row.redirected_to);
      if (incident) alert.incident_id = incident.row.id;
      b.events.push(
        await this.store.addEvent(b.tx, {
          type: 'AlertCreated',
          at: b.now,
          incidentId: alert.incident_id,
          alertId: alert.alert_id,
          actor,
          changes: [],
          // The incident's state is in the IncidentCreated / IncidentUpdated event of the same transaction.
          incident: null,
          alert: alertSummaryFromRow(alert),
        }),
      );
    }
    for (const t of b.touched.values()) {
      const incident = incidentFromRow(t.w.row);
      b.events.push(
        await this.store.addEvent(b.tx, {
          type: t.w.created ? 'IncidentCreated' : 'IncidentUpdated',
          at: b.now,
          incidentId: incident.id,
          alertId: null,
          actor: t.actor ?? defaultActor,
          changes: [...t.changes].sort(),
          incident,
          alert: null,
        }),
      );
      if (this.outbox) {
        const alertIds = await this.store.alertIdsOf(b.tx, incident.id, SENTINEL_ALERT_CAP);
        const comments = incident.commentCount > 0 ? await this.store.commentsOf(b.tx, incident.id) : [];
        const tasks = incident.taskCount > 0 ? await this.store.tasksOf(b.tx, incident.id) : [];
        b.outbox.push({
          table: 'SecurityIncident',
          row: securityIncidentRow(incident, {
            tenantId: this.tenantId,
            at: this.rowTime(b.nowMs),
            alertIds,
            comments,
            tasks,
            ...(this.options.incidentUrlBase ? { urlBase: this.options.incidentUrlBase } : {}),
          }),
        });
      }
    }
    if (this.outbox) await this.store.addOutbox(b.tx, b.outbox);
    await this.store.saveCounters(b.tx);
  }

  // ───────────────────────────── correlation ─────────────────────────────

  private async processAlert(b: Batch, alert: NormalizedAlert): Promise<AlertOutcome> {
    const existing = await this.store.getAlert(b.tx, alert.alertId);
    if (existing) return this.updateKnownAlert(b, existing, alert);
    const settings = this.current;
    const entities = normalizeEntities(alert.entities);
    const excluded = new Set(settings.commonEntities.excluded.map((x) => x.toLowerCase()));
    const linkKeys = [...new Set(entities.flatMap((e) => e.linkKeys))].filter(
      (k) => !excluded.has(k) && !excluded.has(keyValue(k)),
    );
    // Common entities: judged on the alerts received before this one (earlier alerts of this transaction too).
    const seen = this.stats.counts(linkKeys, b.nowMs);
    const total = seen.total + b.statKeys.length;
    const counts = new Map(linkKeys.map((k) => [k, (seen.counts.get(k) ?? 0) + (b.statOverlay.get(k) ?? 0)] as const));
    const common =
      total >= settings.commonEntities.minAlerts && total > 0
        ? linkKeys.filter((k) => (counts.get(k) ?? 0) / total >= settings.commonEntities.share)
        : [];
    b.statKeys.push(linkKeys);
    for (const k of linkKeys) b.statOverlay.set(k, (b.statOverlay.get(k) ?? 0) + 1);
    const usable = linkKeys.filter((k) => !common.includes(k));
    const seq = await this.store.next(b.tx, 'alert');
    const row = alertRowOf(alert, seq, b.now);
    if (alert.source === 'AlertInfo' && this.outbox) {
      b.outbox.push({ table: 'SecurityAlert', row: securityAlertRowOf(alert, this.tenantId, alert.entities) });
    }
    if (!alert.createIncident) {
      await this.store.insertAlert(b.tx, row);
      b.alertEvents.push({ alert: row, actor: SYSTEM_ACTOR });
      return { alertId: alert.alertId, incidentId: null, incidentNumber: null, outcome: 'unattached', merged: [] };
    }
    const describe = entityDescriber(entities);
    const commonEntities = common.map((k) => ({
      ...(describe([k])[0] as LinkEntity),
      share: Math.round(((counts.get(k) ?? 0) / total) * 1000) / 1000,
    }));

    // 1. Rule grouping (Sentinel): the group's incident, reopened if the rule says so.
    const grouping = alert.source === 'rule' ? groupingConfig(alert.incidentConfiguration) : null;
    const startMs = Date.parse(alert.startTime);
    const endMs = Date.parse(alert.endTime);
    let group: { key: string; target: Working | null; reopened: boolean } | null = null;
    if (grouping && alert.ruleId) {
      const { key } = groupKey(alert, entities, grouping);
      const g = await this.store.getGroup(b.tx, key);
      let target: Working | null = null;
      let reopened = false;
      if (g && Math.abs(startMs - Date.parse(g.first_alert_at)) <= grouping.lookbackMs) {
        const found = await this.resolveRedirect(b, g.incident_id);
        if (found && found.row.status !== 'Closed') target = found;
        else if (found && grouping.reopenClosedIncident) {
          await this.reopen(b, found, { type: 'system', id: 'rule-grouping', name: 'Rule grouping' }, alert);
          target = found;
          reopened = true;
        }
      }
      group = { key, target, reopened };
    }

    // 2. The correlation engine (Defender XDR): shared entities, attack stages, merges.
    const c = settings.correlation;
    const rawHits = c.enabled
      ? await this.store.keyHits(b.tx, usable, iso(startMs - c.stageWindowMs), iso(endMs + c.stageWindowMs))
      : [];
    const hits: KeyHit[] = rawHits.map((h) => ({
      key: h.entity_key,
      incidentId: h.incident_id,
      entityId: Number(h.entity_id),
      firstSeenMs: Date.parse(h.first_seen),
      lastSeenMs: Date.parse(h.last_seen),
    }));
    const candidateRows = await this.loadMany(b, [...new Set(hits.map((h) => h.incidentId))]);
    const candidates = new Map(candidateRows.map((w) => [w.row.id, candidateOf(w.row)] as const));
    const plan = planCorrelation({
      alertStartMs: startMs,
      alertEndMs: endMs,
      alertTactics: alert.tactics,
      alertEntityCount: entities.length,
      hits,
      candidates,
      groupTarget: group?.target ? candidateOf(group.target.row) : null,
      settings: c,
    });
    const refused = plan.refused.slice(0, 20).map((r) => ({
      incidentId: r.incident.id,
      number: r.incident.number,
      guardrail: r.guardrail,
      detail: r.detail,
    }));
    const extras = {
      ...(commonEntities.length ? { commonEntities } : {}),
      ...(refused.length ? { refused } : {}),
    };

    let target: Working;
    let reason: LinkReason;
    let outcome: AlertOutcome['outcome'] = 'joined';
    if (group?.target) {
      target = group.target;
      reason = {
        rule: 'rule-grouping',
        summary: `Grouped by rule ${alert.ruleName ?? alert.ruleId} (${grouping?.matchingMethod})${group.reopened ? '; the closed incident was reopened' : ''}`,
        grouping: {
          ruleId: alert.ruleId ?? '',
          matchingMethod: grouping?.matchingMethod ?? '',
          groupKey: group.key,
          ...(group.reopened ? { reopened: true } : {}),
        },
        ...extras,
      };
    } else if (plan.join) {
      const joined = b.incidents.get(plan.join.incident.id) as Working;
      target = joined;
      const shared = describe(plan.join.keys);
      const related = await this.relatedAlerts(b, joined.row.id, plan.join.entityIds);
      reason =
        plan.join.rule === 'shared-entity'
          ? {
              rule: 'shared-entity',
              summary: `Shares ${shared.map((e) => `${e.type} ${e.displayName}`).join(', ')} with alerts of #${joined.row.number} within ${hours(c.sharedEntityWindowMs)}`,
              entities: shared,
              relatedAlerts: related,
              windowMs: c.sharedEntityWindowMs,
              ...extras,
            }
          : {
              rule: 'stage-sequence',
              summary: `Continues the attack of #${joined.row.number} (${parseList(joined.row.tactics).join(', ')} → ${alert.tactics.join(', ')}) on ${shared.map((e) => `${e.type} ${e.displayName}`).join(', ')} within ${hours(c.stageWindowMs)}`,
              entities: shared,
              relatedAlerts: related,
              stages: { incident: parseList(joined.row.tactics), alert: alert.tactics },
              windowMs: c.stageWindowMs,
              ...extras,
            };
    } else {
      target = await this.createIncident(b, alert, SYSTEM_ACTOR);
      outcome = 'created';
      const why = !c.enabled
        ? 'correlation is off'
        : usable.length === 0
          ? 'the alert has no entity that links alerts'
          : 'no open incident shares an entity with it';
      reason = {
        rule: 'new-incident',
        summary: `New incident: ${why}${grouping ? ` (first alert of a ${grouping.matchingMethod} group of rule ${alert.ruleName ?? alert.ruleId})` : ''}`,
        ...(group
          ? {
              grouping: {
                ruleId: alert.ruleId ?? '',
                matchingMethod: grouping?.matchingMethod ?? '',
                groupKey: group.key,
              },
            }
          : {}),
        ...extras,
      };
    }
    if (group && !group.target)
      await this.store.putGroup(b.tx, group.key, target.row.id, alert.ruleId ?? '', alert.startTime);
    await this.attachAlert(b, target, row, alert, entities, reason, SYSTEM_ACTOR);
    const merged: number[] = [];
    for (const m of plan.merges) {
      const other = b.incidents.get(m.incident.id);
      if (!other || other.row.id === target.row.id || other.row.redirected_to) continue;
      const shared = describe(m.keys);
      await this.mergeInto(
        b,
        target,
        other,
        {
          rule: 'bridging-merge',
          summary: `Alert "${alert.title}" links #${target.row.number} and #${other.row.number} through ${shared.map((e) => `${e.type} ${e.displayName}`).join(', ')} (${m.rule})`,
          entities: shared,
          relatedAlerts: [alert.alertId, ...(await this.relatedAlerts(b, other.row.id, m.entityIds))],
        },
        SYSTEM_ACTOR,
      );
      merged.push(other.row.number);
    }
    b.alertEvents.push({ alert: row, actor: SYSTEM_ACTOR });
    return { alertId: alert.alertId, incidentId: target.row.id, incidentNumber: target.row.number, outcome, merged };
  }

  /** A known alert again (a product sends updates; evidence comes later): new entities and fields are added. */
  private async updateKnownAlert(b: Batch, existing: AlertRow, alert: NormalizedAlert): Promise<AlertOutcome> {
    const before = JSON.parse(existing.payload) as NormalizedAlert;
    const oldEntities = normalizeEntities(before.entities);
    const seen = new Set(before.entities.map((e) => JSON.stringify(e)));
    const combined: NormalizedAlert = {
      ...before,
      title: before.title === 'Alert' ? alert.title : before.title,
      severity: alert.source === 'AlertInfo' && alert.severity === 'Medium' ? before.severity : alert.severity,
      status: alert.status || before.status,
      tactics: sortTactics(union(before.tactics, alert.tactics)),
      techniques: union(before.techniques, alert.techniques),
      startTime: earlier(alert.startTime, before.startTime),
      endTime: later(alert.endTime, before.endTime),
      entities: [...before.entities, ...alert.entities.filter((e) => !seen.has(JSON.stringify(e)))],
      description: before.description || alert.description,
    };
    const updatedRow = alertRowOf(combined, Number(existing.seq), existing.received_at);
    // The same alert delivered again (at-least-once delivery after a crash): nothing to do.
    if (updatedRow.payload === existing.payload || JSON.stringify(alert) === existing.payload) {
      const n = existing.incident_id ? (await this.resolveRedirect(b, existing.incident_id))?.row : undefined;
      return {
        alertId: alert.alertId,
        incidentId: n?.id ?? null,
        incidentNumber: n ? Number(n.number) : null,
        outcome: n ? 'updated' : 'unattached',
        merged: [],
      };
    }
    await this.store.updateAlert(b.tx, existing.alert_id, {
      title: updatedRow.title,
      severity: updatedRow.severity,
      status: updatedRow.status,
      tactics: updatedRow.tactics,
      techniques: updatedRow.techniques,
      start_time: updatedRow.start_time,
      end_time: updatedRow.end_time,
      payload: updatedRow.payload,
    });
    if (combined.source === 'AlertInfo' && this.outbox) {
      b.outbox.push({ table: 'SecurityAlert', row: securityAlertRowOf(combined, this.tenantId, combined.entities) });
    }
    const incidentId = existing.incident_id;
    if (!incidentId) {
      return { alertId: alert.alertId, incidentId: null, incidentNumber: null, outcome: 'unattached', merged: [] };
    }
    const w = await this.resolveRedirect(b, incidentId);
    if (!w) throw new Error(`alert ${alert.alertId} points to a missing incident`);
    const fresh = normalizeEntities(alert.entities).filter(
      (e) => !oldEntities.some((o) => o.type === e.type && o.keys.some((k) => e.keys.includes(k))),
    );
    const ids = await this.addEntities(b, w, existing.alert_id, fresh, combined.startTime, combined.endTime);
    this.absorbAlert(w, combined, false);
    this.touch(b, w, SYSTEM_ACTOR, 'alerts');
    if (ids.added > 0) this.touch(b, w, SYSTEM_ACTOR, 'entities');
    await this.audit(
      b,
      w.row.id,
      SYSTEM_ACTOR,
      'alert-updated',
      [],
      `alert ${alert.alertId} updated (${fresh.length} new entities)`,
    );
    // New evidence may link this incident to others.
    const merged: number[] = [];
    const c = this.current.correlation;
    const newKeys = [...new Set(fresh.flatMap((e) => e.linkKeys))];
    if (c.enabled && newKeys.length > 0 && w.row.status !== 'Closed') {
      const startMs = Date.parse(combined.startTime);
      const endMs = Date.parse(combined.endTime);
      const hits = (
        await this.store.keyHits(b.tx, newKeys, iso(startMs - c.stageWindowMs), iso(endMs + c.stageWindowMs))
      )
        .filter((h) => h.incident_id !== w.row.id)
        .map((h) => ({
          key: h.entity_key,
          incidentId: h.incident_id,
          entityId: Number(h.entity_id),
          firstSeenMs: Date.parse(h.first_seen),
          lastSeenMs: Date.parse(h.last_seen),
        }));
      const rows = await this.loadMany(b, [...new Set(hits.map((h) => h.incidentId))]);
      const plan = planCorrelation({
        alertStartMs: startMs,
        alertEndMs: endMs,
        alertTactics: combined.tactics,
        alertEntityCount: 0,
        hits,
        candidates: new Map(rows.map((r) => [r.row.id, candidateOf(r.row)] as const)),
        groupTarget: candidateOf(w.row),
        settings: c,
      });
      const describe = entityDescriber(fresh);
      for (const m of plan.merges) {
        const other = b.incidents.get(m.incident.id);
        if (!other || other.row.redirected_to) continue;
        const shared = describe(m.keys);
        await this.mergeInto(
          b,
          w,
          other,
          {
            rule: 'bridging-merge',
            summary: `New evidence of alert "${combined.title}" links #${w.row.number} and #${other.row.number} through ${shared.map((e) => `${e.type} ${e.displayName}`).join(', ')}`,
            entities: shared,
            relatedAlerts: [alert.alertId],
          },
          SYSTEM_ACTOR,
        );
        merged.push(other.row.number);
      }
    }
    return { alertId: alert.alertId, incidentId: w.row.id, incidentNumber: w.row.number, outcome: 'updated', merged };
  }

  /** The incident an id leads to, following merge pointers. */
  private async resolveRedirect(b: Batch, id: string): Promise<Working | null> {
    let w = await this.load(b, id);
    for (let hops = 0; w?.row.redirected_to && hops < 64; hops++) w = await this.load(b, w.row.redirected_to);
    return w;
  }

  private async relatedAlerts(b: Batch, incidentId: string, entityIds: readonly number[]): Promise<string[]> {
    return this.store.alertsWithEntities(b.tx, incidentId, entityIds.slice(0, 20), 10);
  }

  private async createIncident(b: Batch, alert: NormalizedAlert | null, actor: Actor): Promise<Working> {
    const number = await this.store.next(b.tx, 'incident');
    const now = b.now;
    const row: IncidentRow = {
      id: randomUUID(),
      number,
      title: alert?.title ?? `Incident ${number}`,
      title_lower: (alert?.title ?? `Incident ${number}`).toLowerCase(),
      title_manual: 0,
      description: alert?.description ?? '',
      severity: alert?.severity ?? 'Informational',
      severity_rank: SEVERITY_RANK[alert?.severity ?? 'Informational'],
      severity_manual: 0,
      status: 'New',
      classification: null,
      classification_reason: null,
      classification_comment: null,
      owner: null,
      owner_key: null,
      tags: '[]',
      tactics: '[]',
      techniques: '[]',
      provider_name: alert ? providerFor([alert.productName]) : 'Azure Sentinel',
      product_names: '[]',
      rule_ids: '[]',
      sources: '[]',
      alert_titles: '[]',
      host_count: 0,
      user_count: 0,
      first_activity: alert?.startTime ?? now,
      last_activity: alert?.endTime ?? now,
      created_at: now,
      updated_at: now,
      first_modified_at: null,
      closed_at: null,
      redirected_to: null,
      alert_count: 0,
      entity_count: 0,
      comment_count: 0,
      task_count: 0,
      open_task_count: 0,
      version: 1,
      updated_by: JSON.stringify(actor),
    };
    const w = new Working(row, true);
    b.incidents.set(row.id, w);
    this.touch(b, w, actor, 'created');
    await this.audit(b, row.id, actor, 'created', [], alert ? `from alert ${alert.alertId}` : undefined);
    return w;
  }

  /** Adds an alert's facts to an incident's aggregates (severity, tactics, products, times, naming facts). */
  private absorbAlert(w: Working, alert: NormalizedAlert, countIt: boolean): void {
    const r = w.row;
    if (!r.severity_manual && SEVERITY_RANK[alert.severity] > Number(r.severity_rank)) {
      w.set('severity', alert.severity);
      w.set('severity_rank', SEVERITY_RANK[alert.severity]);
    }
    w.setList('tactics', sortTactics(union(w.list('tactics'), alert.tactics)));
    w.setList('techniques', union(w.list('techniques'), alert.techniques).sort());
    if (alert.productName) w.setList('product_names', union(w.list('product_names'), [alert.productName]));
    w.set('provider_name', providerFor(w.list('product_names')));
    if (alert.ruleId && alert.source === 'rule') w.setList('rule_ids', union(w.list('rule_ids'), [alert.ruleId]));
    w.setList('sources', union(w.list('sources'), [sourceOf(alert.productName, alert.providerName)]));
    const titles = w.list('alert_titles');
    if (titles.length < 2 && !titles.includes(alert.title)) w.setList('alert_titles', [...titles, alert.title]);
    if (Number(r.alert_count) === 0 || alert.startTime < r.first_activity) w.set('first_activity', alert.startTime);
    if (Number(r.alert_count) === 0 || alert.endTime > r.last_activity) w.set('last_activity', alert.endTime);
    if (countIt) w.set('alert_count', Number(r.alert_count) + 1);
  }

  /**
   * Adds entities (of one alert) to an incident: de-duplicated against its entities (same type, a shared key),
   * with the alert ↔ entity edges and the key index. Returns the entity ids and how many are new.
   */
  private async addEntities(
    b: Batch,
    w: Working,
    alertId: string,
    entities: readonly NormalizedEntity[],
    startTime: string,
    endTime: string,
    extraFacets: readonly (readonly [string, string])[] = [],
  ): Promise<{ ids: number[]; added: number }> {
    const incidentId = w.row.id;
    const ids: number[] = [];
    let added = 0;
    let hosts = 0;
    let users = 0;
    const keyRows: Parameters<IncidentStore['upsertKeys']>[1][number][] = [];
    const facets: (readonly [string, string])[] = [...extraFacets];
    // A new incident's first alert cannot match entities (the alert's own are de-duplicated already).
    const empty = w.created && Number(w.row.entity_count) === 0;
    for (const e of entities) {
      const own = e.keys.filter((k) => k.startsWith(`${e.type}|`));
      const matches = empty ? [] : await this.store.matchingEntities(b.tx, incidentId, e.type, own);
      let id: number;
      if (matches.length === 0) {
        id = await this.store.next(b.tx, 'entity');
        await this.store.insertEntity(b.tx, {
          entity_id: id,
          incident_id: incidentId,
          type: e.type,
          display: e.displayName,
          fields: JSON.stringify(e.fields),
          keys: JSON.stringify(e.keys),
          alert_count: 1,
          first_seen: startTime,
          last_seen: endTime,
        });
        added++;
        if (e.type === 'host') hosts++;
        if (e.type === 'account' || e.type === 'mailbox') users++;
      } else {
        id = matches[0] as number;
        const rows = await this.store.getEntities(b.tx, matches);
        let merged: NormalizedEntity = e;
        let alertCount = 1;
        let first = startTime;
        let last = endTime;
        for (const r of rows) {
          merged = mergeEntities(
            {
              type: r.type,
              fields: JSON.parse(r.fields) as Record<string, unknown>,
              keys: parseList(r.keys),
              linkKeys: [],
              displayName: r.display,
            },
            merged,
          );
          alertCount += Number(r.alert_count);
          if (r.first_seen < first) first = r.first_seen;
          if (r.last_seen > last) last = r.last_seen;
        }
        await this.store.updateEntity(b.tx, id, {
          display: merged.displayName,
          fields: JSON.stringify(merged.fields),
          keys: JSON.stringify(merged.keys),
          alert_count: alertCount,
          first_seen: first,
          last_seen: last,
        });
        for (const other of matches.slice(1)) {
          await this.store.foldEntity(b.tx, incidentId, other, id);
          added--;
          if (e.type === 'host') hosts--;
          if (e.type === 'account' || e.type === 'mailbox') users--;
        }
      }
      ids.push(id);
      for (const k of e.keys) {
        keyRows.push({
          key: k,
          incidentId,
          entityId: id,
          type: e.type,
          link: e.linkKeys.includes(k),
          first: startTime,
          last: endTime,
        });
      }
    }
    await this.store.upsertKeys(b.tx, keyRows);
    await this.store.addEdges(b.tx, incidentId, alertId, [...new Set(ids)]);
    await this.store.addFacets(b.tx, incidentId, facets);
    w.set('entity_count', Number(w.row.entity_count) + added);
    w.set('host_count', Number(w.row.host_count) + hosts);
    w.set('user_count', Number(w.row.user_count) + users);
    return { ids, added };
  }

  /** Puts a new alert into an incident, with the link that says why. */
  private async attachAlert(
    b: Batch,
    w: Working,
    row: AlertRow,
    alert: NormalizedAlert,
    entities: readonly NormalizedEntity[],
    reason: LinkReason,
    actor: Actor,
  ): Promise<void> {
    const before = { severity: w.row.severity, tactics: w.row.tactics, provider: w.row.provider_name };
    row.incident_id = w.row.id;
    await this.store.insertAlert(b.tx, row);
    // Facet rows only for values the incident does not have yet.
    const has = (k: 'tactics' | 'techniques' | 'product_names' | 'rule_ids', v: string) => w.list(k).includes(v);
    const facets: (readonly [string, string])[] = [
      ...alert.tactics.filter((t) => !has('tactics', t)).map((t) => ['tactic', t.toLowerCase()] as const),
      ...alert.techniques.filter((t) => !has('techniques', t)).map((t) => ['technique', t.toLowerCase()] as const),
    ];
    if (alert.productName && !has('product_names', alert.productName))
      facets.push(['product', alert.productName.toLowerCase()]);
    if (alert.ruleId && alert.source === 'rule' && !has('rule_ids', alert.ruleId))
      facets.push(['rule', alert.ruleId.toLowerCase()]);
    const { added } = await this.addEntities(b, w, row.alert_id, entities, alert.startTime, alert.endTime, facets);
    this.absorbAlert(w, alert, true);
    await this.store.addLink(b.tx, { incidentId: w.row.id, alertId: row.alert_id, at: b.now, actor, reason });
    const changes = ['alerts'];
    if (added > 0) changes.push('entities');
    if (w.row.severity !== before.severity) changes.push('severity');
    if (w.row.tactics !== before.tactics) changes.push('tactics');
    if (w.row.provider_name !== before.provider) changes.push('providerName');
    this.touch(b, w, actor, ...changes);
    const auditChanges: FieldChange[] = [
      { field: 'alerts', from: Number(w.row.alert_count) - 1, to: Number(w.row.alert_count) },
    ];
    if (w.row.severity !== before.severity)
      auditChanges.push({ field: 'severity', from: before.severity, to: w.row.severity });
    await this.audit(b, w.row.id, actor, 'alert-added', auditChanges, alertAddedNote(row.alert_id, reason));
  }

  private async reopen(b: Batch, w: Working, actor: Actor, alert: NormalizedAlert): Promise<void> {
    const changes: FieldChange[] = [
      { field: 'status', from: w.row.status, to: 'Active' },
      { field: 'classification', from: w.row.classification, to: null },
    ];
    w.set('status', 'Active');
    w.set('closed_at', null);
    w.set('classification', null);
    w.set('classification_reason', null);
    w.set('classification_comment', null);
    this.touch(b, w, actor, 'status', 'classification');
    await this.audit(
      b,
      w.row.id,
      actor,
      'reopened',
      changes,
      `alert ${alert.alertId} of rule ${alert.ruleName ?? alert.ruleId} matched the closed incident's group`,
    );
  }

  /**
   * Merges `other` into `survivor`: alerts, entities (de-duplicated), graph, links, groups and tags move; `other`
   * is closed with the Redirected tag and a pointer to the survivor.
   */
  private async mergeInto(
    b: Batch,
    survivor: Working,
    other: Working,
    reason: LinkReason,
    actor: Actor,
  ): Promise<void> {
    const s = survivor.row;
    const o = other.row;
    const tx = b.tx;
    const before = { alerts: Number(s.alert_count), severity: s.severity, owner: s.owner };
    const moved = await this.store.entitiesOf(tx, o.id, 0, Number.MAX_SAFE_INTEGER);
    await tx.run('UPDATE inc_alerts SET incident_id = ? WHERE incident_id = ?', [s.id, o.id]);
    await tx.run('UPDATE inc_entities SET incident_id = ? WHERE incident_id = ?', [s.id, o.id]);
    await tx.run('UPDATE inc_entity_keys SET incident_id = ? WHERE incident_id = ?', [s.id, o.id]);
    await tx.run('UPDATE inc_alert_entities SET incident_id = ? WHERE incident_id = ?', [s.id, o.id]);
    // The survivor may know some moved entities already.
    const gone = new Set<number>();
    for (const m of moved) {
      if (gone.has(Number(m.entity_id))) continue;
      const keys = parseList(m.keys).filter((k) => k.startsWith(`${m.type}|`));
      const matches = (await this.store.matchingEntities(tx, s.id, m.type, keys)).filter((id) => !gone.has(id));
      if (matches.length < 2) continue;
      const [keep, ...rest] = matches as [number, ...number[]];
      const rows = await this.store.getEntities(tx, matches);
      let merged: NormalizedEntity | null = null;
      let alertCount = 0;
      let first = '9999';
      let last = '';
      for (const r of rows.sort((x, y) => Number(x.entity_id) - Number(y.entity_id))) {
        const e: NormalizedEntity = {
          type: r.type,
          fields: JSON.parse(r.fields) as Record<string, unknown>,
          keys: parseList(r.keys),
          linkKeys: [],
          displayName: r.display,
        };
        merged = merged ? mergeEntities(merged, e) : e;
        alertCount += Number(r.alert_count);
        if (r.first_seen < first) first = r.first_seen;
        if (r.last_seen > last) last = r.last_seen;
      }
      if (!merged) continue;
      for (const id of rest) {
        await this.store.foldEntity(tx, s.id, id, keep);
        gone.add(id);
      }
      await this.store.updateEntity(tx, keep, {
        display: merged.displayName,
        fields: JSON.stringify(merged.fields),
        keys: JSON.stringify(merged.keys),
        alert_count: alertCount,
        first_seen: first,
        last_seen: last,
      });
    }
    const counts = await this.store.countEntities(tx, s.id);
    survivor.set('entity_count', counts.total);
    survivor.set('host_count', counts.hosts);
    survivor.set('user_count', counts.users);
    survivor.set('alert_count', Number(s.alert_count) + Number(o.alert_count));
    if (!s.severity_manual && Number(o.severity_rank) > Number(s.severity_rank)) {
      survivor.set('severity', o.severity);
      survivor.set('severity_rank', o.severity_rank);
    }
    for (const k of ['tactics', 'techniques', 'product_names', 'rule_ids', 'sources'] as const) {
      const v = union(survivor.list(k), other.list(k));
      survivor.setList(k, k === 'tactics' ? sortTactics(v) : v);
    }
    survivor.setList('alert_titles', union(survivor.list('alert_titles'), other.list('alert_titles')).slice(0, 2));
    survivor.setList(
      'tags',
      union(
        survivor.list('tags'),
        other.list('tags').filter((t) => t !== REDIRECTED_TAG),
      ),
    );
    survivor.set('provider_name', providerFor(survivor.list('product_names')));
    if (o.first_activity < s.first_activity) survivor.set('first_activity', o.first_activity);
    if (o.last_activity > s.last_activity) survivor.set('last_activity', o.last_activity);
    if (!s.owner && o.owner) {
      survivor.set('owner', o.owner);
      survivor.set('owner_key', o.owner_key);
    }
    if (!s.classification && o.classification) {
      survivor.set('classification', o.classification);
      survivor.set('classification_reason', o.classification_reason);
      survivor.set('classification_comment', o.classification_comment);
    }
    await this.store.moveGroups(tx, o.id, s.id);
    await this.store.moveLinks(tx, o.id, s.id);
    const ref = (x: IncidentRow) => ({ id: x.id, number: Number(x.number) });
    await this.store.addLink(tx, {
      incidentId: s.id,
      alertId: null,
      at: b.now,
      actor,
      reason: { ...reason, mergedFrom: [ref(o)], mergedInto: ref(s) },
    });
    await this.store.addLink(tx, {
      incidentId: o.id,
      alertId: null,
      at: b.now,
      actor,
      reason: { ...reason, mergedFrom: [ref(o)], mergedInto: ref(s) },
    });
    const oldStatus = o.status;
    other.set('status', 'Closed');
    other.set('closed_at', b.now);
    other.set('redirected_to', s.id);
    other.setList('tags', union(other.list('tags'), [REDIRECTED_TAG]));
    other.set('alert_count', 0);
    other.set('entity_count', 0);
    other.set('host_count', 0);
    other.set('user_count', 0);
    // Facets: the survivor gains the other's; the other keeps its tags.
    await tx.run(
      `INSERT INTO inc_facets (kind, value, incident_id)
        SELECT kind, value, ? FROM inc_facets WHERE incident_id = ?
        ON CONFLICT (kind, value, incident_id) DO NOTHING`,
      [s.id, o.id],
    );
    await this.store.clearFacets(tx, o.id);
    await this.store.addFacets(
      tx,
      o.id,
      other.list('tags').map((t) => ['tag', t.toLowerCase()] as const),
    );
    const sChanges: FieldChange[] = [
      { field: 'alerts', from: before.alerts, to: Number(survivor.row.alert_count) },
      { field: 'mergedFrom', from: null, to: Number(o.number) },
    ];
    if (survivor.row.severity !== before.severity)
      sChanges.push({ field: 'severity', from: before.severity, to: survivor.row.severity });
    if (survivor.row.owner !== before.owner)
      sChanges.push({
        field: 'owner',
        from: before.owner ? JSON.parse(before.owner) : null,
        to: JSON.parse(survivor.row.owner as string),
      });
    await this.audit(b, s.id, actor, 'merged', sChanges, reason.summary);
    await this.audit(
      b,
      o.id,
      actor,
      'merged-into',
      [
        { field: 'status', from: oldStatus, to: 'Closed' },
        { field: 'redirectedTo', from: null, to: Number(s.number) },
        { field: 'tags', from: other.list('tags').filter((t) => t !== REDIRECTED_TAG), to: other.list('tags') },
      ],
      reason.summary,
    );
    this.touch(b, survivor, actor, 'alerts', 'entities', 'tags', 'merged');
    this.touch(b, other, actor, 'status', 'tags', 'alerts', 'redirected');
  }

  /** Rewrites an incident's facet rows from its current state. */
  private async rebuildFacets(b: Batch, w: Working): Promise<void> {
    await this.store.clearFacets(b.tx, w.row.id);
    await this.store.addFacets(b.tx, w.row.id, [
      ...w.list('tags').map((t) => ['tag', t.toLowerCase()] as const),
      ...w.list('tactics').map((t) => ['tactic', t.toLowerCase()] as const),
      ...w.list('techniques').map((t) => ['technique', t.toLowerCase()] as const),
      ...w.list('product_names').map((t) => ['product', t.toLowerCase()] as const),
      ...w.list('rule_ids').map((t) => ['rule', t.toLowerCase()] as const),
    ]);
  }

  /** Recomputes an incident's alert-derived state from its alerts (after a split). */
  private async rebuildFromAlerts(b: Batch, w: Working): Promise<void> {
    const r = w.row;
    await this.store.clearEntities(b.tx, r.id);
    w.set('entity_count', 0);
    w.set('host_count', 0);
    w.set('user_count', 0);
    w.set('alert_count', 0);
    for (const k of ['tactics', 'techniques', 'product_names', 'rule_ids', 'sources', 'alert_titles'] as const)
      w.setList(k, []);
    if (!r.severity_manual) {
      w.set('severity', 'Informational');
      w.set('severity_rank', 0);
    }
    for (let after = 0; ; ) {
      const alerts = await this.store.alertsOf(b.tx, r.id, after, 500);
      for (const a of alerts) {
        const alert = JSON.parse(a.payload) as NormalizedAlert;
        await this.addEntities(b, w, a.alert_id, normalizeEntities(alert.entities), alert.startTime, alert.endTime);
        this.absorbAlert(w, alert, true);
      }
      if (alerts.length < 500) break;
      after = Number(alerts[alerts.length - 1]?.seq);
    }
    w.set('provider_name', providerFor(w.list('product_names')));
    await this.rebuildFacets(b, w);
  }

  // ───────────────────────────── the queue ─────────────────────────────

  /** A page of the queue (`plan` forces how the page is found; by default it is chosen from the filters). */
  async list(query: IncidentQuery = {}, options: { plan?: ListPlan } = {}): Promise<Page<Incident>> {
    let q: ReturnType<typeof listSql>;
    try {
      q = listSql(query, options.plan ?? (await this.listPlan(query)));
    } catch (e) {
      throw new IncidentError('invalid', e instanceof Error ? e.message : String(e));
    }
    const rows = await this.state.all<IncidentRow>(q.sql, q.params);
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return {
      items: page.map(incidentFromRow),
      nextCursor:
        rows.length > q.limit && last
          ? cursorAfter(last as unknown as IncidentRow & Record<string, unknown>, q.sort, q.order)
          : null,
    };
  }

  /**
   * Scan in sort order unless a filter keeps few incidents: entities, named owners, an incident number, or a time
   * range or facet (tag, product, tactic, technique, rule) whose matches, counted on its index, are at most a few
   * thousand; or from an activity window in the past when that is cheaper than scanning (estimated on its index).
   */
  private async listPlan(query: IncidentQuery): Promise<ListPlan> {
    if (selectiveFilters(query)) return 'filters';
    // A narrow time range is a good start too (counted on its index).
    for (const [column, op, value] of [
      ['created_at', '>=', query.createdFrom],
      ['created_at', '<=', query.createdTo],
      ['updated_at', '>=', query.updatedFrom],
      ['updated_at', '<=', query.updatedTo],
      ['last_activity', '>=', query.activityFrom],
      ['first_activity', '<=', query.activityTo],
    ] as const) {
      const ms = value ? Date.parse(value) : Number.NaN;
      if (!Number.isFinite(ms)) continue;
      const row = await this.state.get<{ n: number }>(
        `SELECT COUNT(*) AS n FROM (SELECT 1 FROM inc_incidents WHERE ${column} ${op} ? LIMIT ${SELECTIVE_ROWS + 1}) AS hits`,
        [iso(ms)],
      );
      if (Number(row?.n ?? 0) <= SELECTIVE_ROWS) return 'filters';
    }
    for (const f of facetFilters(query)) {
      const row = await this.state.get<{ n: number }>(
        `SELECT COUNT(*) AS n FROM (SELECT 1 FROM inc_facets WHERE kind = ? AND value IN (${f.values.map(() => '?').join(', ')}) LIMIT ${SELECTIVE_ROWS + 1}) AS hits`,
        [f.kind, ...f.values],
      );
      if (Number(row?.n ?? 0) <= SELECTIVE_ROWS) return 'filters';
    }
    // An activity window in the past: neither bound is selective alone, their overlap may be.
    const to = query.activityTo ? Date.parse(query.activityTo) : Number.NaN;
    if (Number.isFinite(to)) {
      const sort = query.sort ?? 'number';
      const newestFirst = TIME_ORDERED_SORTS.has(sort) && (query.order ?? 'desc') === 'desc';
      // Newest first, scanning reaches the window after the incidents that started after it: few, and it is right.
      if (newestFirst) {
        const later = await this.state.get<{ n: number }>(
          `SELECT COUNT(*) AS n FROM (SELECT 1 FROM inc_incidents WHERE first_activity > ? LIMIT ${LATER_ROWS + 1}) AS later`,
          [iso(to)],
        );
        if (Number(later?.n ?? 0) <= LATER_ROWS) return 'sort';
      }
      // One walk over the (first_activity, last_activity) index, without rows, stopping at the limit, counts the
      // incidents that started before the window's end (what the activity plan reads) and those that overlap it
      // (the rows it fetches and sorts).
      const from = query.activityFrom ? Date.parse(query.activityFrom) : Number.NaN;
      const row = await this.state.get<{ n: number; hits: number | null }>(
        `SELECT COUNT(*) AS n, SUM(CASE WHEN last_activity >= ? THEN 1 ELSE 0 END) AS hits FROM (SELECT last_activity FROM inc_incidents WHERE first_activity <= ? ORDER BY first_activity LIMIT ${ACTIVITY_SCAN_ROWS + 1}) AS started`,
        [Number.isFinite(from) ? iso(from) : '', iso(to)],
      );
      const started = Number(row?.n ?? 0);
      const hits = Number(row?.hits ?? 0);
      if (started <= ACTIVITY_SCAN_ROWS) {
        const total = Number(
          (await this.state.get<{ value: number }>("SELECT value FROM inc_counters WHERE name = 'incident'"))?.value ??
            0,
        );
        // Costs in index entries; a row read is counted as ROW_COST entries. Scanning in sort order visits the
        // incidents that started after the window (newest first) or, when the order does not follow time, about a
        // page's worth of rows at the window's density.
        const limit = Math.min(500, Math.max(1, Math.floor(query.limit ?? 50)));
        const byActivity = started + ROW_COST * hits;
        const bySort =
          ROW_COST * ((newestFirst ? Math.max(0, total - started) : 0) + (limit * total) / Math.max(1, hits));
        if (byActivity < bySort) return 'activity';
      }
    }
    return 'sort';
  }

  private async resolveId(idOrNumber: string | number): Promise<IncidentRow | undefined> {
    if (typeof idOrNumber === 'number' || /^\d+$/.test(idOrNumber)) {
      return this.store.getIncidentByNumber(this.state, Number(idOrNumber));
    }
    return this.store.getIncident(this.state, idOrNumber);
  }

  async getIncident(idOrNumber: string | number): Promise<Incident | null> {
    const r = await this.resolveId(idOrNumber);
    return r ? incidentFromRow(r) : null;
  }

  /** An incident with its alerts, entities, graph, links, comments, tasks and audit (first pages). */
  async get(idOrNumber: string | number, options: { pageSize?: number } = {}): Promise<IncidentDetail | null> {
    const r = await this.resolveId(idOrNumber);
    if (!r) return null;
    const size = Math.min(500, Math.max(1, options.pageSize ?? 100));
    const incident = incidentFromRow(r);
    const [alerts, entities, links, comments, tasks, audit, mergedFrom] = await Promise.all([
      this.alerts(r.id, null, size),
      this.entities(r.id, null, size),
      this.links(r.id, null, size),
      this.store.commentsOf(this.state, r.id),
      this.store.tasksOf(this.state, r.id),
      this.auditTrail(r.id, null, size),
      this.state.all<{ id: string; number: number }>(
        'SELECT id, number FROM inc_incidents WHERE redirected_to = ? ORDER BY number',
        [r.id],
      ),
    ]);
    return {
      incident,
      alerts,
      entities,
      graph: await this.graphOf(r.id, alerts.items, entities.items),
      links,
      comments,
      tasks,
      audit,
      mergedFrom: mergedFrom.map((m) => ({ id: m.id, number: Number(m.number) })),
    };
  }

  private async idOf(idOrNumber: string | number): Promise<IncidentRow> {
    const r = await this.resolveId(idOrNumber);
    if (!r) throw new IncidentError('not_found', `no incident ${idOrNumber}`);
    return r;
  }

  /** An incident's alerts in arrival order, paged (no 150-alert cap). */
  async alerts(idOrNumber: string | number, cursor: string | null, limit = 100): Promise<Page<IncidentAlertSummary>> {
    const r = await this.idOf(idOrNumber);
    const after = cursor ? Number(cursor) : 0;
    const rows = await this.store.alertsOf(this.state, r.id, Number.isFinite(after) ? after : 0, clampLimit(limit) + 1);
    const page = rows.slice(0, clampLimit(limit));
    return {
      items: page.map(alertSummaryFromRow),
      nextCursor: rows.length > page.length ? String(page[page.length - 1]?.seq) : null,
      total: Number(r.alert_count),
    };
  }

  async entities(idOrNumber: string | number, cursor: string | null, limit = 100): Promise<Page<IncidentEntity>> {
    const r = await this.idOf(idOrNumber);
    const after = cursor ? Number(cursor) : 0;
    const rows = await this.store.entitiesOf(
      this.state,
      r.id,
      Number.isFinite(after) ? after : 0,
      clampLimit(limit) + 1,
    );
    const page = rows.slice(0, clampLimit(limit));
    return {
      items: page.map(entityFromRow),
      nextCursor: rows.length > page.length ? String(page[page.length - 1]?.entity_id) : null,
      total: Number(r.entity_count),
    };
  }

  /** Why each alert is in the incident, and the merges it went through. */
  async links(idOrNumber: string | number, cursor: string | null, limit = 100): Promise<Page<IncidentLink>> {
    const r = await this.idOf(idOrNumber);
    const after = cursor ? Number(cursor) : 0;
    const rows = await this.store.linksOf(this.state, r.id, Number.isFinite(after) ? after : 0, clampLimit(limit) + 1);
    const page = rows.slice(0, clampLimit(limit));
    return { items: page, nextCursor: rows.length > page.length ? String(page[page.length - 1]?.id) : null };
  }

  /** The audit trail, newest first. */
  async auditTrail(idOrNumber: string | number, cursor: string | null, limit = 100): Promise<Page<AuditEntry>> {
    const r = await this.idOf(idOrNumber);
    const before = cursor ? Number(cursor) : Number.MAX_SAFE_INTEGER;
    const rows = await this.store.auditOf(
      this.state,
      r.id,
      Number.isFinite(before) ? before : Number.MAX_SAFE_INTEGER,
      clampLimit(limit) + 1,
    );
    const page = rows.slice(0, clampLimit(limit));
    return { items: page, nextCursor: rows.length > page.length ? String(page[page.length - 1]?.id) : null };
  }

  /** The alert ↔ entity graph of the given alerts and entities (default: the first 200 of each). */
  async graph(idOrNumber: string | number, limit = 200): Promise<IncidentGraph> {
    const r = await this.idOf(idOrNumber);
    const [alerts, entities] = await Promise.all([this.alerts(r.id, null, limit), this.entities(r.id, null, limit)]);
    return this.graphOf(r.id, alerts.items, entities.items);
  }

  private async graphOf(
    incidentId: string,
    alerts: readonly IncidentAlertSummary[],
    entities: readonly IncidentEntity[],
  ): Promise<IncidentGraph> {
    const edges = await this.store.edgesOf(
      this.state,
      incidentId,
      alerts.map((a) => a.alertId),
    );
    const known = new Set(entities.map((e) => e.id));
    return {
      nodes: [
        ...alerts.map((a) => ({
          id: `alert:${a.alertId}`,
          kind: 'alert' as const,
          label: a.title,
          severity: a.severity,
        })),
        ...entities.map((e) => ({ id: `entity:${e.id}`, kind: 'entity' as const, label: e.displayName, type: e.type })),
      ],
      edges: edges
        .filter((e) => known.has(Number(e.entity_id)))
        .map((e) => ({ from: `alert:${e.alert_id}`, to: `entity:${Number(e.entity_id)}` })),
    };
  }

  /** One alert: the normalized alert, where it is, and every link decision about it. */
  async alert(
    alertId: string,
  ): Promise<{ summary: IncidentAlertSummary; alert: NormalizedAlert; links: IncidentLink[] } | null> {
    const r = await this.store.getAlert(this.state, alertId);
    if (!r) return null;
    return {
      summary: alertSummaryFromRow(r),
      alert: JSON.parse(r.payload) as NormalizedAlert,
      links: await this.store.linksOfAlert(this.state, alertId),
    };
  }

  // ───────────────────────────── changes by people and automation ─────────────────────────────

  /** Updates an incident's fields; every changed field is audited with who changed it. */
  async update(
    idOrNumber: string | number,
    patch: IncidentPatch,
    actor: Actor,
    options: { expectedVersion?: number } = {},
  ): Promise<Incident> {
    validateActor(actor);
    const r = await this.idOf(idOrNumber);
    return this.mutate(actor, async (b) => {
      const w = await this.load(b, r.id);
      if (!w) throw new IncidentError('not_found', `no incident ${idOrNumber}`);
      if (options.expectedVersion !== undefined && Number(w.row.version) !== options.expectedVersion) {
        throw new IncidentError(
          'conflict',
          `incident #${w.row.number} is at version ${w.row.version}, not ${options.expectedVersion}`,
        );
      }
      await this.applyPatch(b, w, patch, actor);
      return deferred(() => incidentFromRow(w.row));
    });
  }

  /** The same patch on several incidents, in one transaction; each incident succeeds or fails on its own. */
  async bulkUpdate(
    ids: readonly (string | number)[],
    patch: IncidentPatch,
    actor: Actor,
  ): Promise<{ id: string | number; ok: boolean; incident?: Incident; error?: string }[]> {
    validateActor(actor);
    if (ids.length > 1000) throw new IncidentError('invalid', 'at most 1000 incidents per bulk update');
    const rows = await Promise.all(ids.map((id) => this.resolveId(id)));
    return this.mutate(actor, async (b) => {
      const out: { id: string | number; ok: boolean; incident?: Incident; error?: string }[] = [];
      const applied: [number, Working][] = [];
      for (const [i, id] of ids.entries()) {
        const r = rows[i];
        const w = r ? await this.load(b, r.id) : null;
        if (!w) {
          out.push({ id, ok: false, error: `no incident ${id}` });
          continue;
        }
        const problem = patchProblem(w.row, patch);
        if (problem) {
          out.push({ id, ok: false, error: problem });
          continue;
        }
        await this.applyPatch(b, w, patch, actor);
        applied.push([out.length, w]);
        out.push({ id, ok: true });
      }
      return deferred(() => {
        for (const [k, w] of applied)
          out[k] = { id: out[k]?.id ?? w.row.id, ok: true, incident: incidentFromRow(w.row) };
        return out;
      });
    });
  }

  private async applyPatch(b: Batch, w: Working, patch: IncidentPatch, actor: Actor): Promise<void> {
    const problem = patchProblem(w.row, patch);
    if (problem) throw new IncidentError(problem.startsWith('incident #') ? 'conflict' : 'invalid', problem);
    const r = w.row;
    const changes: FieldChange[] = [];
    const fields: string[] = [];
    const change = (field: string, from: unknown, to: unknown) => {
      if (JSON.stringify(from) === JSON.stringify(to)) return;
      changes.push({ field, from, to });
      fields.push(field);
    };
    if (patch.title !== undefined) {
      const title = patch.title.trim();
      change('title', r.title, title);
      w.set('title', title);
      w.set('title_lower', title.toLowerCase());
      w.set('title_manual', 1);
    }
    if (patch.description !== undefined) {
      change('description', r.description, patch.description);
      w.set('description', patch.description);
    }
    if (patch.severity !== undefined) {
      if (patch.severity === null) {
        const rank = await this.alertSeverityRank(b, r.id);
        const sev = SEVERITY_BY_RANK[rank] as Severity;
        change('severity', r.severity, sev);
        w.set('severity', sev);
        w.set('severity_rank', rank);
        w.set('severity_manual', 0);
      } else {
        change('severity', r.severity, patch.severity);
        w.set('severity', patch.severity);
        w.set('severity_rank', SEVERITY_RANK[patch.severity]);
        w.set('severity_manual', 1);
      }
    }
    if (patch.owner !== undefined) {
      const owner = patch.owner ? normalizeOwner(patch.owner) : null;
      change('owner', r.owner ? JSON.parse(r.owner) : null, owner);
      w.set('owner', owner ? JSON.stringify(owner) : null);
      w.set('owner_key', ownerKeyOf(owner));
    }
    if (patch.tags !== undefined || patch.addTags !== undefined || patch.removeTags !== undefined) {
      const before = w.list('tags');
      let tags = patch.tags ? cleanTags(patch.tags) : before;
      tags = union(tags, cleanTags(patch.addTags ?? []));
      const remove = new Set(cleanTags(patch.removeTags ?? []).map((t) => t.toLowerCase()));
      tags = tags.filter((t) => !remove.has(t.toLowerCase()));
      change('tags', before, tags);
      w.setList('tags', tags);
      if (JSON.stringify(before) !== JSON.stringify(tags)) {
        await this.store.removeFacets(b.tx, r.id, 'tag');
        await this.store.addFacets(
          b.tx,
          r.id,
          tags.map((t) => ['tag', t.toLowerCase()] as [string, string]),
        );
      }
    }
    const classificationTouched =
      patch.classification !== undefined ||
      patch.classificationReason !== undefined ||
      patch.classificationComment !== undefined;
    if (patch.status !== undefined && patch.status !== r.status) {
      change('status', r.status, patch.status);
      if (patch.status === 'Closed') w.set('closed_at', b.now);
      else if (r.status === 'Closed') {
        w.set('closed_at', null);
        // A reopened incident is undecided again unless the same change classifies it.
        if (!classificationTouched) {
          change('classification', r.classification, null);
          w.set('classification', null);
          w.set('classification_reason', null);
          w.set('classification_comment', null);
        }
      }
      w.set('status', patch.status);
    }
    if (patch.classification !== undefined) {
      change('classification', r.classification, patch.classification);
      w.set('classification', patch.classification);
      if (patch.classification === null) {
        w.set('classification_reason', null);
        w.set('classification_comment', null);
      }
    }
    if (patch.classificationReason !== undefined) {
      change('classificationReason', r.classification_reason, patch.classificationReason);
      w.set('classification_reason', patch.classificationReason);
    }
    if (patch.classificationComment !== undefined) {
      change('classificationComment', r.classification_comment, patch.classificationComment);
      w.set('classification_comment', patch.classificationComment);
    }
    if (changes.length === 0) return;
    this.touch(b, w, actor, ...fields);
    await this.audit(b, r.id, actor, 'updated', changes);
  }

  private async alertSeverityRank(b: Batch, incidentId: string): Promise<number> {
    const rows = await b.tx.all<{ severity: string }>(
      'SELECT DISTINCT severity FROM inc_alerts WHERE incident_id = ?',
      [incidentId],
    );
    return Math.max(0, ...rows.map((x) => SEVERITY_RANK[x.severity as Severity] ?? 0));
  }

  // ── comments ──

  async addComment(idOrNumber: string | number, message: string, actor: Actor): Promise<Comment> {
    validateActor(actor);
    const text = message.trim();
    if (!text) throw new IncidentError('invalid', 'a comment needs a message');
    if (text.length > 30_000) throw new IncidentError('invalid', 'a comment is at most 30,000 characters');
    const r = await this.idOf(idOrNumber);
    return this.mutate(actor, async (b) => {
      const w = (await this.load(b, r.id)) as Working;
      const c: Comment = {
        id: randomUUID(),
        incidentId: r.id,
        message: text,
        author: actor,
        createdTime: b.now,
        lastModifiedTime: b.now,
      };
      await this.store.insertComment(b.tx, c);
      w.set('comment_count', Number(w.row.comment_count) + 1);
      this.touch(b, w, actor, 'comments');
      await this.audit(b, r.id, actor, 'comment-added', [], c.id);
      return c;
    });
  }

  async editComment(idOrNumber: string | number, commentId: string, message: string, actor: Actor): Promise<Comment> {
    validateActor(actor);
    const text = message.trim();
    if (!text) throw new IncidentError('invalid', 'a comment needs a message');
    const r = await this.idOf(idOrNumber);
    return this.mutate(actor, async (b) => {
      const c = await this.store.getComment(b.tx, commentId);
      if (!c || c.incidentId !== r.id) throw new IncidentError('not_found', `no comment ${commentId} on #${r.number}`);
      if (c.author.type !== actor.type || c.author.id !== actor.id)
        throw new IncidentError('conflict', 'only the author can edit a comment');
      await this.store.updateComment(b.tx, commentId, text, b.now);
      const w = (await this.load(b, r.id)) as Working;
      this.touch(b, w, actor, 'comments');
      await this.audit(b, r.id, actor, 'comment-edited', [{ field: 'comment', from: c.message, to: text }], commentId);
      return { ...c, message: text, lastModifiedTime: b.now };
    });
  }

  async deleteComment(idOrNumber: string | number, commentId: string, actor: Actor): Promise<void> {
    validateActor(actor);
    const r = await this.idOf(idOrNumber);
    await this.mutate(actor, async (b) => {
      const c = await this.store.getComment(b.tx, commentId);
      if (!c || c.incidentId !== r.id) throw new IncidentError('not_found', `no comment ${commentId} on #${r.number}`);
      await this.store.deleteComment(b.tx, commentId);
      const w = (await this.load(b, r.id)) as Working;
      w.set('comment_count', Math.max(0, Number(w.row.comment_count) - 1));
      this.touch(b, w, actor, 'comments');
      await this.audit(b, r.id, actor, 'comment-deleted', [{ field: 'comment', from: c.message, to: null }], commentId);
    });
  }

  async comments(idOrNumber: string | number): Promise<Comment[]> {
    const r = await this.idOf(idOrNumber);
    return this.store.commentsOf(this.state, r.id);
  }

  // ── tasks ──

  async addTask(idOrNumber: string | number, input: TaskInput, actor: Actor): Promise<Task> {
    validateActor(actor);
    const title = input.title?.trim() ?? '';
    if (!title) throw new IncidentError('invalid', 'a task needs a title');
    const r = await this.idOf(idOrNumber);
    return this.mutate(actor, async (b) =>
      this.insertTask(b, (await this.load(b, r.id)) as Working, title, input, actor),
    );
  }

  private async insertTask(b: Batch, w: Working, title: string, input: TaskInput, actor: Actor): Promise<Task> {
    const t: Task = {
      id: randomUUID(),
      incidentId: w.row.id,
      title,
      description: input.description ?? '',
      status: 'New',
      assignee: input.assignee ?? null,
      createdBy: actor,
      lastModifiedBy: actor,
      createdTime: b.now,
      lastModifiedTime: b.now,
      completedTime: null,
    };
    await this.store.insertTask(b.tx, t);
    w.set('task_count', Number(w.row.task_count) + 1);
    w.set('open_task_count', Number(w.row.open_task_count) + 1);
    this.touch(b, w, actor, 'tasks');
    await this.audit(b, w.row.id, actor, 'task-added', [{ field: 'task', from: null, to: title }], t.id);
    return t;
  }

  /**
   * Several changes to one incident in one transaction, in order, each made and audited as its own actor: the
   * automation rules of one event applying their actions (issue 7), committed once instead of once per action.
   * `followMerges`: if the incident was merged away, the changes go to the incident it leads to (resolved inside
   * the transaction, so a merge cannot slip in between). `skipDuplicateTasks`: a task whose creator already has a
   * task of the same title (any case) on the incident is not added again. Returns the incident changed.
   */
  async applyChanges(
    idOrNumber: string | number,
    changes: readonly {
      readonly actor: Actor;
      readonly patch?: IncidentPatch;
      readonly tasks?: readonly TaskInput[];
    }[],
    options: { readonly followMerges?: boolean; readonly skipDuplicateTasks?: boolean } = {},
  ): Promise<Incident> {
    for (const c of changes) {
      validateActor(c.actor);
      for (const t of c.tasks ?? []) if (!t.title?.trim()) throw new IncidentError('invalid', 'a task needs a title');
    }
    const r = await this.idOf(idOrNumber);
    return this.mutate(changes[changes.length - 1]?.actor ?? SYSTEM_ACTOR, async (b) => {
      const w = options.followMerges ? await this.resolveRedirect(b, r.id) : await this.load(b, r.id);
      if (!w) throw new IncidentError('not_found', `no incident ${idOrNumber}`);
      // Tasks may only be added where patches may be made: never on a merged-away incident.
      if (w.row.redirected_to)
        throw new IncidentError('conflict', `incident #${w.row.number} was merged into another incident`);
      const existing =
        options.skipDuplicateTasks && changes.some((c) => c.tasks?.length) && Number(w.row.task_count) > 0
          ? new Set(
              (await this.store.tasksOf(b.tx, w.row.id)).map(
                (t) => `${t.createdBy.type}\n${t.createdBy.id}\n${t.title.toLowerCase()}`,
              ),
            )
          : new Set<string>();
      for (const c of changes) {
        if (c.patch) await this.applyPatch(b, w, c.patch, c.actor);
        for (const t of c.tasks ?? []) {
          const title = t.title.trim();
          const key = `${c.actor.type}\n${c.actor.id}\n${title.toLowerCase()}`;
          if (options.skipDuplicateTasks && existing.has(key)) continue;
          existing.add(key);
          await this.insertTask(b, w, title, t, c.actor);
        }
      }
      return deferred(() => incidentFromRow(w.row));
    });
  }

  async updateTask(idOrNumber: string | number, taskId: string, patch: TaskPatch, actor: Actor): Promise<Task> {
    validateActor(actor);
    if (patch.status !== undefined && patch.status !== 'New' && patch.status !== 'Completed')
      throw new IncidentError('invalid', 'a task status is New or Completed');
    if (patch.title !== undefined && !patch.title.trim()) throw new IncidentError('invalid', 'a task needs a title');
    const r = await this.idOf(idOrNumber);
    return this.mutate(actor, async (b) => {
      const t = await this.store.getTask(b.tx, taskId);
      if (!t || t.incidentId !== r.id) throw new IncidentError('not_found', `no task ${taskId} on #${r.number}`);
      const next: Task = {
        ...t,
        ...(patch.title !== undefined ? { title: patch.title.trim() } : {}),
        ...(patch.description !== undefined ? { description: patch.description } : {}),
        ...(patch.assignee !== undefined ? { assignee: patch.assignee } : {}),
        ...(patch.status !== undefined ? { status: patch.status } : {}),
        lastModifiedBy: actor,
        lastModifiedTime: b.now,
        completedTime:
          patch.status === 'Completed' && t.status !== 'Completed'
            ? b.now
            : patch.status === 'New'
              ? null
              : t.completedTime,
      };
      await this.store.updateTask(b.tx, next);
      const w = (await this.load(b, r.id)) as Working;
      if (t.status !== next.status)
        w.set('open_task_count', Number(w.row.open_task_count) + (next.status === 'Completed' ? -1 : 1));
      this.touch(b, w, actor, 'tasks');
      const changes: FieldChange[] = [];
      for (const k of ['title', 'description', 'assignee', 'status'] as const)
        if (t[k] !== next[k]) changes.push({ field: `task.${k}`, from: t[k], to: next[k] });
      await this.audit(b, r.id, actor, 'task-updated', changes, taskId);
      return next;
    });
  }

  async deleteTask(idOrNumber: string | number, taskId: string, actor: Actor): Promise<void> {
    validateActor(actor);
    const r = await this.idOf(idOrNumber);
    await this.mutate(actor, async (b) => {
      const t = await this.store.getTask(b.tx, taskId);
      if (!t || t.incidentId !== r.id) throw new IncidentError('not_found', `no task ${taskId} on #${r.number}`);
      await this.store.deleteTask(b.tx, taskId);
      const w = (await this.load(b, r.id)) as Working;
      w.set('task_count', Math.max(0, Number(w.row.task_count) - 1));
      if (t.status !== 'Completed') w.set('open_task_count', Math.max(0, Number(w.row.open_task_count) - 1));
      this.touch(b, w, actor, 'tasks');
      await this.audit(b, r.id, actor, 'task-deleted', [{ field: 'task', from: t.title, to: null }], taskId);
    });
  }

  async tasks(idOrNumber: string | number): Promise<Task[]> {
    const r = await this.idOf(idOrNumber);
    return this.store.tasksOf(this.state, r.id);
  }

  // ── manual merge and split ──

  /**
   * Merges incidents into a target by hand. The automatic guardrails on owners, classifications and the entity
   * cap do not apply (the analyst decides; the audit says so), but closed and merged-away incidents cannot merge.
   */
  async merge(
    targetIdOrNumber: string | number,
    sourceIds: readonly (string | number)[],
    actor: Actor,
    note?: string,
  ): Promise<Incident> {
    validateActor(actor);
    const target = await this.idOf(targetIdOrNumber);
    const sources = await Promise.all(sourceIds.map((s) => this.idOf(s)));
    if (sources.length === 0) throw new IncidentError('invalid', 'name at least one incident to merge');
    return this.mutate(actor, async (b) => {
      const t = (await this.load(b, target.id)) as Working;
      if (t.row.redirected_to)
        throw new IncidentError('conflict', `incident #${t.row.number} was merged into another one`);
      if (t.row.status === 'Closed')
        throw new IncidentError('conflict', `incident #${t.row.number} is closed; reopen it first`);
      for (const s of sources) {
        const w = (await this.load(b, s.id)) as Working;
        if (w.row.id === t.row.id) throw new IncidentError('invalid', 'an incident cannot merge into itself');
        if (w.row.redirected_to) throw new IncidentError('conflict', `incident #${w.row.number} was merged already`);
        if (w.row.status === 'Closed') throw new IncidentError('conflict', `incident #${w.row.number} is closed`);
        const differs: string[] = [];
        if (t.row.owner_key && w.row.owner_key && t.row.owner_key !== w.row.owner_key) differs.push('owners');
        if (t.row.classification && w.row.classification && t.row.classification !== w.row.classification)
          differs.push('classifications');
        await this.mergeInto(
          b,
          t,
          w,
          {
            rule: 'manual-merge',
            summary: `Merged #${w.row.number} into #${t.row.number} by ${actor.name ?? actor.id}${differs.length ? ` (different ${differs.join(' and ')})` : ''}${note ? `: ${note}` : ''}`,
          },
          actor,
        );
      }
      return deferred(() => incidentFromRow(t.row));
    });
  }

  /** Moves alerts of an incident into a new incident (entities and aggregates of both are recomputed). */
  async split(
    idOrNumber: string | number,
    alertIds: readonly string[],
    actor: Actor,
    options: { title?: string; note?: string } = {},
  ): Promise<{ from: Incident; to: Incident }> {
    validateActor(actor);
    const r = await this.idOf(idOrNumber);
    const ids = [...new Set(alertIds)];
    if (ids.length === 0) throw new IncidentError('invalid', 'name the alerts to split off');
    return this.mutate(actor, async (b) => {
      const from = (await this.load(b, r.id)) as Working;
      if (from.row.redirected_to)
        throw new IncidentError('conflict', `incident #${from.row.number} was merged into another one`);
      const rows = await this.store.getAlertsByIds(b.tx, ids);
      const foreign = ids.filter((id) => !rows.some((a) => a.alert_id === id && a.incident_id === r.id));
      if (foreign.length)
        throw new IncidentError('invalid', `not alerts of #${from.row.number}: ${foreign.slice(0, 5).join(', ')}`);
      if (ids.length >= Number(from.row.alert_count))
        throw new IncidentError('invalid', 'a split must leave at least one alert in the incident');
      const first = JSON.parse((rows[0] as AlertRow).payload) as NormalizedAlert;
      const to = await this.createIncident(b, { ...first, title: options.title ?? first.title }, actor);
      for (let i = 0; i < ids.length; i += 500) {
        const part = ids.slice(i, i + 500);
        await b.tx.run(`UPDATE inc_alerts SET incident_id = ? WHERE alert_id IN (${part.map(() => '?').join(', ')})`, [
          to.row.id,
          ...part,
        ]);
      }
      await this.store.moveLinks(b.tx, r.id, to.row.id, ids);
      const before = Number(from.row.alert_count);
      await this.rebuildFromAlerts(b, from);
      await this.rebuildFromAlerts(b, to);
      if (options.title) {
        to.set('title', options.title);
        to.set('title_lower', options.title.toLowerCase());
        to.set('title_manual', 1);
      }
      const reason: LinkReason = {
        rule: 'manual-split',
        summary: `${ids.length} alert(s) split from #${from.row.number} into #${to.row.number} by ${actor.name ?? actor.id}${options.note ? `: ${options.note}` : ''}`,
        relatedAlerts: ids.slice(0, 50),
        mergedFrom: [{ id: from.row.id, number: Number(from.row.number) }],
        mergedInto: { id: to.row.id, number: Number(to.row.number) },
      };
      await this.store.addLink(b.tx, { incidentId: to.row.id, alertId: null, at: b.now, actor, reason });
      await this.store.addLink(b.tx, { incidentId: from.row.id, alertId: null, at: b.now, actor, reason });
      await this.audit(
        b,
        from.row.id,
        actor,
        'split',
        [{ field: 'alerts', from: before, to: Number(from.row.alert_count) }],
        reason.summary,
      );
      await this.audit(
        b,
        to.row.id,
        actor,
        'split-from',
        [{ field: 'alerts', from: 0, to: Number(to.row.alert_count) }],
        reason.summary,
      );
      this.touch(b, from, actor, 'alerts', 'entities', 'split');
      this.touch(b, to, actor, 'alerts', 'entities');
      return deferred(() => ({ from: incidentFromRow(from.row), to: incidentFromRow(to.row) }));
    });
  }

  // ───────────────────────────── events ─────────────────────────────

  /** Listens to change events (after each commit, in order). Returns the unsubscribe function. */
  onEvent(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The durable change feed after `afterSeq` (a consumer keeps its cursor). */
  async events(afterSeq = 0, limit = 500): Promise<IncidentEvent[]> {
    return this.store.eventsAfter(this.state, afterSeq, clampLimit(limit, 5000));
  }

  // ───────────────────────────── lifecycle ─────────────────────────────

  /** Waits for queued alerts, event listeners and the event store (outbox). */
  async flush(): Promise<void> {
    while (this.draining) await this.draining;
    await this.chain;
    while (this.settling.size > 0) await Promise.allSettled([...this.settling]);
    await this.delivering;
    await this.outbox?.flush();
  }

  async close(): Promise<void> {
    await this.flush();
    await this.serial(() => this.state.transaction((tx) => this.stats.save(tx, this.clock())));
    this.closed = true;
    this.listeners.clear();
  }
}

// ───────────────────────────── helpers ─────────────────────────────

function clampLimit(n: number, max = 500): number {
  return Math.min(max, Math.max(1, Math.floor(Number.isFinite(n) ? n : 100)));
}

function hours(ms: number): string {
  return ms % 86_400_000 === 0 ? `${ms / 86_400_000} d` : `${Math.round((ms / 3600_000) * 10) / 10} h`;
}

function candidateOf(r: IncidentRow): Candidate {
  return {
    id: r.id,
    number: Number(r.number),
    status: r.status,
    ownerKey: r.owner_key,
    classification: r.classification,
    entityCount: Number(r.entity_count),
    tactics: parseList(r.tactics),
  };
}

function alertRowOf(a: NormalizedAlert, seq: number, receivedAt: string): AlertRow {
  return {
    alert_id: a.alertId,
    incident_id: null,
    seq,
    source: a.source,
    rule_id: a.ruleId,
    title: a.title,
    severity: a.severity,
    status: a.status,
    provider_name: a.providerName,
    product_name: a.productName,
    tactics: JSON.stringify(a.tactics),
    techniques: JSON.stringify(a.techniques),
    start_time: a.startTime,
    end_time: a.endTime,
    time_generated: a.timeGenerated,
    received_at: receivedAt,
    payload: JSON.stringify(a),
  };
}

/**
 * Keys → the alert's entities they came from (type, display name, the matching keys), one per entity, for link
 * reasons.
 */
function entityDescriber(entities: readonly NormalizedEntity[]): (keys: readonly string[]) => LinkEntity[] {
  const owner = new Map<string, NormalizedEntity>();
  for (const e of entities) for (const k of e.keys) if (!owner.has(k)) owner.set(k, e);
  return (keys) => {
    const out = new Map<string, { type: string; displayName: string; keys: string[] }>();
    for (const k of keys) {
      const e = owner.get(k);
      const type = e?.type ?? k.split('|')[0] ?? '';
      const displayName = e?.displayName ?? keyValue(k);
      const id = `${type}\n${displayName}`;
      const hit = out.get(id);
      if (hit) hit.keys.push(k);
      else out.set(id, { type, displayName, keys: [k] });
    }
    return [...out.values()];
  };
}

function mergeSettings(base: IncidentSettings, patch: Partial<IncidentSettings>): IncidentSettings {
  return {
    correlation: { ...base.correlation, ...(patch.correlation ?? {}) },
    commonEntities: { ...base.commonEntities, ...(patch.commonEntities ?? {}) },
  };
}

function validateActor(actor: Actor): void {
  if (!actor || !['analyst', 'automation-rule', 'playbook', 'sync', 'system'].includes(actor.type) || !actor.id) {
    throw new IncidentError(
      'invalid',
      'a change needs an actor {type: analyst|automation-rule|playbook|sync|system, id}',
    );
  }
}

function normalizeOwner(o: Owner): Owner {
  const out: Record<string, string | null> = {};
  for (const k of ['objectId', 'email', 'userPrincipalName', 'assignedTo'] as const) {
    const v = o[k];
    out[k] = typeof v === 'string' && v.trim() !== '' ? v.trim() : null;
  }
  if (!out.assignedTo) out.assignedTo = out.userPrincipalName ?? out.email ?? null;
  return out as Owner;
}

function cleanTags(tags: readonly string[]): string[] {
  const out: string[] = [];
  for (const t of tags) {
    const s = String(t).trim();
    if (s && !out.some((x) => x.toLowerCase() === s.toLowerCase())) out.push(s);
  }
  return out;
}

/** What is wrong with a patch for this incident (null: nothing). */
function patchProblem(r: IncidentRow, p: IncidentPatch): string | null {
  if (r.redirected_to) return `incident #${r.number} was merged into another incident; change that one`;
  if (p.title !== undefined && (typeof p.title !== 'string' || !p.title.trim() || p.title.length > 256))
    return 'a title is 1 to 256 characters';
  if (p.severity !== undefined && p.severity !== null && SEVERITY_RANK[p.severity] === undefined)
    return `severity must be one of ${SEVERITY_BY_RANK.join(', ')}`;
  if (p.status !== undefined && !INCIDENT_STATUSES.includes(p.status))
    return `status must be one of ${INCIDENT_STATUSES.join(', ')}`;
  if (p.classification !== undefined && p.classification !== null && !CLASSIFICATIONS.includes(p.classification))
    return `classification must be one of ${CLASSIFICATIONS.join(', ')}`;
  const classification =
    p.classification !== undefined ? p.classification : (r.classification as Classification | null);
  const status = p.status ?? r.status;
  if (status === 'Closed' && !classification) return 'closing an incident needs a classification';
  const reason = p.classificationReason !== undefined ? p.classificationReason : r.classification_reason;
  if (reason && classification && !CLASSIFICATION_REASONS[classification].includes(reason))
    return `a ${classification} incident's reason is one of: ${CLASSIFICATION_REASONS[classification].join(', ') || '(none)'}`;
  if (p.owner !== undefined && p.owner !== null && typeof p.owner !== 'object')
    return 'owner must be an object or null';
  for (const list of [p.tags, p.addTags, p.removeTags])
    if (list !== undefined && (!Array.isArray(list) || list.some((t) => typeof t !== 'string')))
      return 'tags must be a list of strings';
  return null;
}
