/**
 * `vigil serve` without the command line: opens the workspace (this process owns it: DuckDB allows one process per
 * database file), starts the ingestion service, the HTTP app and the syslog listeners, and shuts them down in the
 * order that loses nothing: stop accepting, finish the requests in flight, deliver what the listeners buffered,
 * commit every queued batch, close the engine.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Engine, TableDefinition } from '../engine/engine.js';
import { tableDefinitionsFromTablesJson } from '../engine/storage-names.js';
import { openWorkspace, type WorkspaceOptions } from '../engine/workspace.js';
import { IngestService } from '../ingest/service.js';
import type { SyslogListeners } from '../ingest/syslog/index.js';
import type { TablePolicy } from '../ingest/tables.js';
import type { CommitInfo } from '../ingest/writer.js';
import { connectorOf } from '../workspaces/content.js';
import { buildApp } from './app.js';

export const DEFAULT_SCHEMA = new URL('../../../../content/schema/tables.json', import.meta.url);

export interface ServeOptions {
  readonly dataDir: string;
  /** HTTP port (0: any free port). */
  readonly port: number;
  /** Address to bind. Default 127.0.0.1. */
  readonly host?: string;
  readonly syslogUdpPort?: number;
  readonly syslogTcpPort?: number;
  /** Table schema (default content/schema/tables.json). */
  readonly schemaPath?: string | URL;
  /** Largest request body (default 32 MB). */
  readonly bodyLimit?: number;
  /** Bytes accepted and not yet committed beyond which requests get 429 (default 256 MB). */
  readonly maxPendingBytes?: number;
  /** Tables that refuse data (the data-connector hook; see TablePolicy). */
  readonly disabledTables?: readonly string[];
  readonly engine?: WorkspaceOptions;
  readonly onCommit?: (info: CommitInfo) => void;
  /** Non-fatal problems (a syslog delivery that failed, a stored rule that no longer compiles). */
  readonly onWarning?: (message: string) => void;
}

export interface RunningServer {
  /** `http://host:port` */
  readonly url: string;
  readonly port: number;
  readonly syslog?: { readonly host: string; readonly udpPort?: number; readonly tcpPort?: number };
  readonly engine: Engine;
  readonly ingest: IngestService;
  /** Graceful shutdown; safe to call twice. */
  close(): Promise<void>;
}

export async function readSchema(path: string | URL = DEFAULT_SCHEMA): Promise<TableDefinition[]> {
  return tableDefinitionsFromTablesJson(JSON.parse(await readFile(path, 'utf8')));
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const schema = await readSchema(options.schemaPath ?? DEFAULT_SCHEMA);
  const dataDir = resolve(options.dataDir);
  // Batches commit without a checkpoint each (see GroupCommitWriter): a larger WAL before DuckDB checkpoints on
  // its own; the writer also checkpoints when idle, and close() does.
  const engine = await openWorkspace(dataDir, { checkpointThreshold: '512MB', ...options.engine });
  const disabled = new Set(options.disabledTables ?? []);
  const policy: TablePolicy = (table) =>
    disabled.has(table) ? { enabled: false, reason: 'its data connector is turned off' } : { enabled: true };
  let ingest: IngestService | undefined;
  let app: Awaited<ReturnType<typeof buildApp>> | undefined;
  let listeners: SyslogListeners | undefined;
  try {
    ingest = await IngestService.start({
      engine,
      dataDir,
      schemaTables: schema,
      policy,
      connectorOf: (table) => connectorOf(table),
      ...(options.maxPendingBytes !== undefined ? { maxPendingBytes: options.maxPendingBytes } : {}),
      ...(options.onCommit ? { onCommit: options.onCommit } : {}),
      ...(options.onWarning ? { onWarning: options.onWarning } : {}),
    });
    const service = ingest;
    app = await buildApp({ engine, ingest: service, ...(options.bodyLimit ? { bodyLimit: options.bodyLimit } : {}) });
    const host = options.host ?? '127.0.0.1';
    await app.listen({ port: options.port, host });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : options.port;
    if (options.syslogUdpPort !== undefined || options.syslogTcpPort !== undefined) {
      const { startSyslogListeners } = await import('../ingest/syslog/index.js');
      listeners = await startSyslogListeners({
        host,
        ...(options.syslogUdpPort !== undefined ? { udpPort: options.syslogUdpPort } : {}),
        ...(options.syslogTcpPort !== undefined ? { tcpPort: options.syslogTcpPort } : {}),
        onRecords: async (table, rows) => {
          await service.ingestRows(table, rows, 'syslog');
        },
        onError: (e) => options.onWarning?.(`syslog: ${e.message}`),
      });
    }
    let closing: Promise<void> | undefined;
    const runningApp = app;
    const runningListeners = listeners;
    return {
      url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
      port,
      ...(listeners
        ? {
            syslog: {
              host,
              ...(listeners.udpPort !== undefined ? { udpPort: listeners.udpPort } : {}),
              ...(listeners.tcpPort !== undefined ? { tcpPort: listeners.tcpPort } : {}),
            },
          }
        : {}),
      engine,
      ingest: service,
      close() {
        closing ??= (async () => {
          // Stop accepting; requests in flight finish (their batches are committed by the writer meanwhile).
          // Keep-alive connections that turn idle after their last answer would hold the close until their
          // timeout: close them as they turn idle.
          const idle = setInterval(() => runningApp.server.closeIdleConnections(), 25);
          try {
            await runningApp.close();
          } finally {
            clearInterval(idle);
          }
          await runningListeners?.close();
          await service.close();
          await engine.close();
        })();
        return closing;
      },
    };
  } catch (e) {
    await app?.close().catch(() => undefined);
    await listeners?.close().catch(() => undefined);
    await ingest?.close().catch(() => undefined);
    await engine.close().catch(() => undefined);
    throw e;
  }
}
