/**
 * `vigil serve`: runs the workspace's server (HTTP ingestion and query endpoints, syslog listeners) until SIGINT
 * or SIGTERM, then shuts down cleanly: pending batches are committed before the process exits.
 */
import { resolve } from 'node:path';
import { type Command, EXIT, requiredOption, stringOption, UsageError } from '../command.js';

function port(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9]+$/.test(value) || Number(value) > 65535)
    throw new UsageError(`--${name} must be a port number (0-65535)`);
  return Number(value);
}

function size(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const m = /^([0-9]+(?:\.[0-9]+)?)\s*(B|KB|MB|GB)?$/i.exec(value);
  if (!m) throw new UsageError(`--${name} must be a size, e.g. 32MB`);
  const unit = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(m[2] ?? 'b').toLowerCase() as 'b'] ?? 1;
  return Math.round(Number(m[1]) * unit);
}

export const command: Command = {
  name: 'serve',
  summary: 'Run the server: HTTP ingestion and query endpoints, syslog listeners',
  usage: `Usage: vigil serve --data DIR --port P [options]

Opens the workspace in DIR (created if missing; the server process owns it) and serves:
  POST /api/ingest/{table}                        NDJSON, a JSON array or CSV (gzip accepted)
  POST /api/ingest/defender                       Defender streaming API records, routed by category
  POST /dataCollectionRules/{id}/streams/{name}   Azure Monitor Logs Ingestion API (rules: PUT /dataCollectionRules/{id})
  PUT  /api/tables/{name}_CL                      create a custom table or add columns
  POST /api/query                                 {"query": "<KQL>"}
  GET  /api/tables, /api/health
A client batch id (x-ms-client-request-id header or ?batchId=) is accepted once. A 2xx answer means the rows are
committed. Stops on SIGINT/SIGTERM after committing pending batches.

Options:
  --data DIR              workspace folder
  --port P                HTTP port (0: any free port)
  --host ADDR             address to bind (default 127.0.0.1)
  --syslog-udp P          receive syslog/CEF over UDP on port P
  --syslog-tcp P          receive syslog/CEF over TCP on port P
  --body-limit SIZE       largest request body (default 32MB)
  --max-pending SIZE      bytes waiting for the writer beyond which requests get 429 (default 256MB)
  --disable-table NAME    refuse data for a table (repeatable)
  --schema FILE           table schema (default: content/schema/tables.json)
  --threads N             engine threads (default: all cores)
  --memory-limit SIZE     engine memory limit, e.g. 4GB
  --engine NAME           duckdb (default) or clickhouse (in process, or a server with --clickhouse-url)
  --clickhouse-url URL    ClickHouse server, e.g. http://user:password@host:8123/vigil (implies --engine clickhouse)`,
  options: {
    data: { type: 'string' },
    port: { type: 'string' },
    host: { type: 'string' },
    'syslog-udp': { type: 'string' },
    'syslog-tcp': { type: 'string' },
    'body-limit': { type: 'string' },
    'max-pending': { type: 'string' },
    'disable-table': { type: 'string', multiple: true },
    schema: { type: 'string' },
    threads: { type: 'string' },
    'memory-limit': { type: 'string' },
    engine: { type: 'string' },
    'clickhouse-url': { type: 'string' },
  },

  async run(args, io) {
    const data = resolve(io.cwd, requiredOption(args, 'data'));
    const httpPort = port(requiredOption(args, 'port'), 'port') as number;
    const udp = port(stringOption(args, 'syslog-udp'), 'syslog-udp');
    const tcp = port(stringOption(args, 'syslog-tcp'), 'syslog-tcp');
    const bodyLimit = size(stringOption(args, 'body-limit'), 'body-limit');
    const maxPending = size(stringOption(args, 'max-pending'), 'max-pending');
    const threads = stringOption(args, 'threads');
    if (threads !== undefined && !/^[1-9][0-9]*$/.test(threads)) throw new UsageError('--threads must be a number');
    const memoryLimit = stringOption(args, 'memory-limit');
    const clickhouseUrl = stringOption(args, 'clickhouse-url');
    const engineName = stringOption(args, 'engine') ?? (clickhouseUrl ? 'clickhouse' : 'duckdb');
    if (engineName !== 'duckdb' && engineName !== 'clickhouse') {
      throw new UsageError('--engine must be duckdb or clickhouse');
    }
    if (clickhouseUrl && engineName !== 'clickhouse')
      throw new UsageError('--clickhouse-url needs --engine clickhouse');
    const schema = stringOption(args, 'schema');
    const disabled = args.values['disable-table'];
    const { startServer } = await import('../../server/serve.js');
    const server = await startServer({
      dataDir: data,
      port: httpPort,
      host: stringOption(args, 'host') ?? '127.0.0.1',
      ...(udp !== undefined ? { syslogUdpPort: udp } : {}),
      ...(tcp !== undefined ? { syslogTcpPort: tcp } : {}),
      ...(bodyLimit !== undefined ? { bodyLimit } : {}),
      ...(maxPending !== undefined ? { maxPendingBytes: maxPending } : {}),
      ...(schema ? { schemaPath: resolve(io.cwd, schema) } : {}),
      ...(Array.isArray(disabled) ? { disabledTables: disabled } : {}),
      engine: {
        ...(threads ? { threads: Number(threads) } : {}),
        ...(memoryLimit ? { memoryLimit } : {}),
        ...(engineName === 'clickhouse' ? { engine: 'clickhouse' as const } : {}),
        ...(clickhouseUrl ? { clickhouseUrl } : {}),
      },
      onWarning: (m) => io.stderr.write(`vigil serve: ${m}\n`),
    });
    io.stderr.write(`vigil serve: workspace ${data}\n`);
    io.stderr.write(`vigil serve: listening on ${server.url}\n`);
    if (server.syslog?.udpPort !== undefined)
      io.stderr.write(`vigil serve: syslog on udp://${server.syslog.host}:${server.syslog.udpPort}\n`);
    if (server.syslog?.tcpPort !== undefined)
      io.stderr.write(`vigil serve: syslog on tcp://${server.syslog.host}:${server.syslog.tcpPort}\n`);
    // One machine-readable line on stdout, for scripts and tests that start the server on port 0.
    io.stdout.write(`${JSON.stringify({ url: server.url, port: server.port, syslog: server.syslog ?? null })}\n`);
    const signal = await new Promise<NodeJS.Signals>((done) => {
      process.once('SIGINT', () => done('SIGINT'));
      process.once('SIGTERM', () => done('SIGTERM'));
    });
    io.stderr.write(`vigil serve: ${signal}: committing pending batches and closing\n`);
    await server.close();
    io.stderr.write('vigil serve: stopped\n');
    return EXIT.ok;
  },
};
