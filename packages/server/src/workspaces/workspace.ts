/**
 * One workspace (a tenant of an MSSP): its own folder, engine (event data), state store (rules, incidents,
 * automation, audit, content) and services. Nothing is shared between workspaces but the process: a query compiles
 * against this workspace's tables and functions only, and every service reads and writes this workspace's stores.
 *
 * Folder: `<dataDir>/workspaces/<name>/` holding the engine's files (`workspace.duckdb`, `spool/`), `state.sqlite`
 * and the ingestion service's `dcr/`.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { HttpAdapterConfig } from '../automation/actions.js';
import type { OutboundHttpOptions } from '../automation/http-guard.js';
import { loadSecretKey } from '../automation/secrets.js';
import { AutomationService } from '../automation/service.js';
import { type ActionRequester, StateActionRequester } from '../detect/actions.js';
import { IngestionTracker } from '../detect/ingestion-tracker.js';
import { DetectionService, type DetectionServiceOptions } from '../detect/service.js';
import type { Engine, TableDefinition } from '../engine/engine.js';
import { openWorkspace, type WorkspaceOptions } from '../engine/workspace.js';
import { IncidentService, type IncidentServiceOptions } from '../incidents/service.js';
import { IngestService } from '../ingest/service.js';
import type { QueryWorkspace } from '../query/query-service.js';
import { migrate } from '../state/migrations.js';
import { SqliteDriver } from '../state/sql-driver.js';
import { AUDIT_MIGRATIONS, AuditLog } from './audit.js';
import {
  CONTENT_MIGRATIONS,
  ConnectorStore,
  connectorOf,
  FunctionStore,
  SavedQueryStore,
  watchlistFunction,
} from './content.js';
import { DATA_SETTINGS_MIGRATIONS, DataSettings } from './data-settings.js';

export const STATE_FILE = 'state.sqlite';

export interface WorkspaceRecord {
  /** The engine's GUID: rows' `TenantId`, the Log Analytics workspace id. */
  readonly id: string;
  /** URL-safe name: the Kusto database name and the REST path segment. */
  readonly name: string;
  readonly displayName: string;
  readonly createdAt: string;
  readonly createdBy: string;
}

export interface WorkspaceServicesOptions {
  /** The workspace schema (content/schema/tables.json). */
  readonly schema: readonly TableDefinition[];
  readonly engine?: WorkspaceOptions;
  readonly maxPendingBytes?: number;
  /** Ingestion's background jobs: usage roll-up, retention purge, health writes (default true). */
  readonly ingestJobs?: boolean;
  /** Price per billable GB for cost estimates until one is set through the API (default: none). */
  readonly pricePerGb?: number;
  /** Run the rule scheduler (default true). */
  readonly scheduler?: boolean;
  readonly detection?: Partial<
    Pick<DetectionServiceOptions, 'tickMs' | 'minFrequencyMs' | 'scheduledConcurrency' | 'nrtConcurrency' | 'clock'>
  >;
  readonly incidents?: Partial<Pick<IncidentServiceOptions, 'settings' | 'clock' | 'maxBatch'>>;
  /** Automation rules, playbooks and approvals (default on); false turns the runtime off. */
  readonly automation?:
    | false
    | {
        /** A content folder loaded into a new workspace (`task-lists/`, `playbooks/`, `rules/`). */
        readonly content?: string;
        readonly http?: OutboundHttpOptions;
        readonly adapters?: readonly HttpAdapterConfig[];
        readonly approvalSweepMs?: number;
      };
  readonly log?: (message: string) => void;
}

/** Extra per-workspace services plugged in by the server (automation). */
export interface WorkspaceExtension {
  close(): Promise<void>;
}

export class Workspace {
  private readonly extensions: WorkspaceExtension[] = [];

  private constructor(
    readonly record: WorkspaceRecord,
    readonly dir: string,
    readonly engine: Engine,
    readonly state: SqliteDriver,
    readonly tracker: IngestionTracker,
    readonly ingest: IngestService,
    readonly detection: DetectionService,
    readonly incidents: IncidentService,
    readonly functions: FunctionStore,
    readonly savedQueries: SavedQueryStore,
    readonly connectors: ConnectorStore,
    /** Table selection per connector, retention per table, price per GB. */
    readonly dataSettings: DataSettings,
    readonly audit: AuditLog,
    /** What KQL sees: live, so custom tables and stored functions added later are seen by the next query. */
    readonly query: QueryWorkspace,
    /** Automation rules, playbooks, runs and approvals (null when turned off). */
    readonly automation: AutomationService | null,
  ) {}

  get id(): string {
    return this.record.id;
  }

  get name(): string {
    return this.record.name;
  }

  static async open(
    dir: string,
    record: Omit<WorkspaceRecord, 'id'>,
    options: WorkspaceServicesOptions,
  ): Promise<Workspace> {
    await mkdir(dir, { recursive: true });
    const engine = await openWorkspace(dir, { checkpointThreshold: '512MB', ...options.engine });
    const state = new SqliteDriver(join(dir, STATE_FILE));
    const opened: { close(): Promise<void> }[] = [engine, state];
    try {
      await migrate(state, [...CONTENT_MIGRATIONS, ...AUDIT_MIGRATIONS, ...DATA_SETTINGS_MIGRATIONS]);
      const connectors = await ConnectorStore.open(state);
      const dataSettings = await DataSettings.open(
        state,
        options.pricePerGb !== undefined ? { pricePerGb: options.pricePerGb } : {},
      );
      const functions = await FunctionStore.open(state);
      const tracker = new IngestionTracker();
      const tracked = tracker.wrap(engine);
      const ingest = await IngestService.start({
        engine: tracked,
        dataDir: dir,
        schemaTables: options.schema,
        // Off when the connector is off, or when the table is deselected in the connector's table selection.
        policy: (table) => {
          const byConnector = connectors.tableEnabled(table);
          if (!byConnector.enabled || dataSettings.selected(table)) return byConnector;
          return { enabled: false, reason: `it is not selected in its data connector '${connectorOf(table)?.name}'` };
        },
        connectorOf: (table) => connectorOf(table),
        retentionDays: (table) => dataSettings.retentionDays(table),
        ...(options.ingestJobs !== undefined ? { jobs: options.ingestJobs } : {}),
        ...(options.maxPendingBytes !== undefined ? { maxPendingBytes: options.maxPendingBytes } : {}),
        ...(options.log ? { onWarning: options.log } : {}),
      });
      opened.unshift(ingest);
      const log = options.log ?? (() => undefined);
      const query: QueryWorkspace = {
        engine,
        get definitions() {
          return ingest.definitions();
        },
        get functions() {
          return functions.list();
        },
        databaseName: record.name,
      };
      // Detections request response actions before automation (which needs incidents) is open: forward them.
      let automation: AutomationService | null = null;
      const pending = new StateActionRequester(state);
      const actions: ActionRequester = { request: (r) => (automation?.actions ?? pending).request(r) };
      const detection = await DetectionService.open({
        engine: tracked,
        definitions: ingest.definitions(),
        functions: () => functions.list(),
        state,
        tracker,
        actions,
        tenantId: engine.workspaceId,
        scratchDir: join(dir, 'spool', 'detect'),
        log: (m) => log(`${record.name}: detections: ${m}`),
        ...options.detection,
      });
      opened.unshift({ close: () => detection.stop() });
      const incidents = await IncidentService.open({
        state,
        eventStore: { engine: tracked, definitions: ingest.definitions(), scratchDir: join(dir, 'spool', 'incidents') },
        tenantId: engine.workspaceId,
        log: (m) => log(`${record.name}: incidents: ${m}`),
        ...options.incidents,
      });
      incidents.attach(detection);
      opened.unshift({ close: () => incidents.close() });
      if (options.automation !== false) {
        const a = options.automation ?? {};
        const fresh = !(await state.get('SELECT 1 AS x FROM schema_migrations WHERE version = 700'));
        automation = await AutomationService.open({
          state,
          incidents,
          query,
          secretKey: await loadSecretKey(join(dir, 'secret.key'), {}),
          log: (m) => log(`${record.name}: automation: ${m}`),
          ...(a.http ? { http: a.http } : {}),
          ...(a.adapters ? { adapters: a.adapters } : {}),
          ...(a.approvalSweepMs !== undefined ? { approvalSweepMs: a.approvalSweepMs } : {}),
          onWatchlistsChanged: async () => {
            if (!automation) return;
            const fn = watchlistFunction(await automation.watchlistsWithItems());
            await functions.put({ ...fn, docString: fn.description ?? '' }, 'automation', new Date().toISOString());
          },
        });
        const opened_ = automation;
        opened.unshift({ close: () => opened_.close() });
        if (fresh && a.content) {
          for (const r of await automation.loadContent(a.content, {
            type: 'system',
            id: 'content',
            name: 'Vigil content',
          }))
            if (!r.ok) log(`${record.name}: content ${r.file} was not loaded: ${r.diagnostics[0]?.message ?? ''}`);
        }
      }
      if (options.scheduler !== false) detection.start();
      return new Workspace(
        { ...record, id: engine.workspaceId },
        dir,
        engine,
        state,
        tracker,
        ingest,
        detection,
        incidents,
        functions,
        new SavedQueryStore(state),
        connectors,
        dataSettings,
        new AuditLog(state),
        query,
        automation,
      );
    } catch (e) {
      for (const o of opened) await o.close().catch(() => undefined);
      throw e;
    }
  }

  /** Registers a service closed with the workspace (before the core services). */
  extend(extension: WorkspaceExtension): void {
    this.extensions.push(extension);
  }

  /** Stops the scheduler, lets running work finish, commits what is buffered, closes the stores. */
  async close(): Promise<void> {
    for (const x of this.extensions.reverse()) await x.close().catch(() => undefined);
    await this.detection.stop();
    await this.automation?.close();
    await this.incidents.close();
    await this.ingest.close();
    await this.audit.flush();
    await this.engine.close();
    await this.state.close();
  }
}
