/**
 * Syslog network listeners: UDP (RFC 5426, one message per datagram) and TCP (RFC 6587, octet counting and
 * LF-delimited framing, decided per frame). Every message is parsed where it arrives and delivered in batches
 * through `onRecords(table, rows, info)`; CEF messages go to CommonSecurityLog, the rest to Syslog.
 *
 * Back-pressure: while `onRecords`' promise is pending and `maxPendingRows` rows wait behind it, TCP sockets are
 * paused (the kernel's receive window then fills and the senders block); they resume once the backlog halves.
 * UDP has no flow control: beyond `maxQueuedRows` waiting rows, datagrams are dropped and counted.
 *
 * `close()` stops accepting, delivers what the open connections had buffered (a last line without its LF
 * counts), closes the sockets and resolves once every batch has been delivered.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type Server, type Socket } from 'node:net';
import { hostname } from 'node:os';
import { type BatchInfo, type DeliveredRow, type OnRecords, RecordBatcher } from './batcher.js';
import { type Frame, SyslogFrameDecoder } from './framing.js';
import { parseSyslogRecord } from './records.js';
import { DEFAULT_MAX_MESSAGE_BYTES, type ParsedRecord, type ParseOptions, type SyslogTableName } from './types.js';

export type { BatchInfo, DeliveredRow, OnRecords };

export interface SyslogListenerOptions {
  /** Address to bind. Default `127.0.0.1`: listening on other interfaces is an explicit choice. */
  readonly host?: string;
  /** UDP port (0: any free port). Omitted: no UDP listener. */
  readonly udpPort?: number;
  /** TCP port (0: any free port). Omitted: no TCP listener. */
  readonly tcpPort?: number;
  readonly onRecords: OnRecords;
  /** Errors that do not stop the listeners: a failed delivery, a socket error other than a reset. */
  readonly onError: (error: Error) => void;
  /** Longest message; longer ones are cut and flagged. Default 64 KiB. */
  readonly maxFrameBytes?: number;
  /** Rows per batch. Default 500. */
  readonly batchSize?: number;
  /** A batch that has not filled up is delivered this long after its first row. Default 20 ms. */
  readonly flushIntervalMs?: number;
  /** Waiting rows that pause TCP senders while a delivery is pending. Default 2 × batchSize. */
  readonly maxPendingRows?: number;
  /** Waiting rows beyond which UDP datagrams are dropped. Default 50,000. */
  readonly maxQueuedRows?: number;
  /** Concurrent TCP connections. Default 1,024. */
  readonly maxConnections?: number;
  /** `CollectorHostName` of every row. Default: this machine's host name. */
  readonly collectorHostName?: string;
  /** Parser options (the UTC offset assumed for zone-less timestamps). */
  readonly parse?: Pick<ParseOptions, 'assumeUtcOffsetMinutes'>;
  /** Requested UDP receive buffer (the kernel may cap it). Default 4 MiB. */
  readonly udpReceiveBufferBytes?: number;
}

export interface SyslogListenerStats {
  udpDatagrams: number;
  /** UDP messages dropped because the queue was full. */
  udpDropped: number;
  tcpConnectionsOpen: number;
  tcpConnectionsTotal: number;
  tcpFrames: number;
  /** TCP connections refused because `maxConnections` were open. */
  tcpRefused: number;
  rows: Record<SyslogTableName, number>;
  parseErrors: number;
  truncated: number;
  batches: number;
  deliveryErrors: number;
  /** Times a TCP socket was paused for back-pressure. */
  tcpPauses: number;
  /** Rows received and not yet handed to `onRecords`. */
  backlog: number;
}

export interface SyslogListeners {
  readonly host: string;
  /** The bound UDP port, if UDP is on. */
  readonly udpPort: number | undefined;
  /** The bound TCP port, if TCP is on. */
  readonly tcpPort: number | undefined;
  stats(): SyslogListenerStats;
  close(): Promise<void>;
}

const QUIET_SOCKET_ERRORS = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

/** `::ffff:10.0.0.1` → `10.0.0.1` (IPv4 peers of a dual-stack socket). */
function normalizeAddress(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

export async function startSyslogListeners(options: SyslogListenerOptions): Promise<SyslogListeners> {
  if (options.udpPort === undefined && options.tcpPort === undefined) {
    throw new TypeError('startSyslogListeners: give udpPort, tcpPort or both');
  }
  const host = options.host ?? '127.0.0.1';
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const batchSize = options.batchSize ?? 500;
  const collectorHostName = options.collectorHostName ?? hostname();
  const parseOptions: ParseOptions = { ...options.parse, maxMessageBytes: maxFrameBytes };
  const onError = options.onError;

  const stats: SyslogListenerStats = {
    udpDatagrams: 0,
    udpDropped: 0,
    tcpConnectionsOpen: 0,
    tcpConnectionsTotal: 0,
    tcpFrames: 0,
    tcpRefused: 0,
    rows: { Syslog: 0, CommonSecurityLog: 0 },
    parseErrors: 0,
    truncated: 0,
    batches: 0,
    deliveryErrors: 0,
    tcpPauses: 0,
    backlog: 0,
  };
  const batcher = new RecordBatcher({
    onRecords: options.onRecords,
    onError,
    batchSize,
    flushIntervalMs: options.flushIntervalMs ?? 20,
    maxPendingRows: options.maxPendingRows ?? 2 * batchSize,
    maxQueuedRows: options.maxQueuedRows ?? 50_000,
  });

  const count = (r: ParsedRecord): void => {
    stats.rows[r.table]++;
    if (r.parseError !== undefined) stats.parseErrors++;
    if (r.truncated) stats.truncated++;
  };

  // --- TCP ---
  const connections = new Map<Socket, SyslogFrameDecoder>();
  const paused = new Set<Socket>();
  let closing = false;
  batcher.onDrain(() => {
    for (const s of paused) s.resume();
    paused.clear();
  });

  const deliverFrames = (socket: Socket, frames: readonly Frame[]): void => {
    if (frames.length === 0) return;
    const ctx = {
      receivedAt: Date.now(),
      peerAddress: normalizeAddress(socket.remoteAddress),
      collectorHostName,
    };
    for (const f of frames) {
      stats.tcpFrames++;
      let record = parseSyslogRecord(f.bytes, ctx, parseOptions);
      if (f.truncated && !record.truncated) record = { ...record, truncated: true };
      count(record);
      batcher.add(record, true); // TCP is never dropped: it is paused instead
    }
  };

  let server: Server | undefined;
  if (options.tcpPort !== undefined) {
    const srv = createServer({ noDelay: true });
    server = srv;
    srv.maxConnections = options.maxConnections ?? 1024;
    srv.on('drop', () => {
      stats.tcpRefused++;
    });
    srv.on('connection', (socket) => {
      if (closing) {
        socket.destroy();
        return;
      }
      const decoder = new SyslogFrameDecoder(maxFrameBytes);
      connections.set(socket, decoder);
      stats.tcpConnectionsOpen++;
      stats.tcpConnectionsTotal++;
      socket.setKeepAlive(true, 60_000);
      socket.on('data', (chunk: Buffer) => {
        deliverFrames(socket, decoder.push(chunk));
        if (batcher.congested && !paused.has(socket)) {
          socket.pause();
          paused.add(socket);
          stats.tcpPauses++;
        }
      });
      socket.on('end', () => {
        deliverFrames(socket, decoder.end());
      });
      socket.on('error', (error: NodeJS.ErrnoException) => {
        if (!QUIET_SOCKET_ERRORS.has(error.code ?? '')) onError(error);
      });
      socket.on('close', () => {
        connections.delete(socket);
        paused.delete(socket);
        stats.tcpConnectionsOpen--;
      });
    });
  }

  // --- UDP ---
  let udp: UdpSocket | undefined;
  if (options.udpPort !== undefined) {
    const sock = createSocket({
      type: isIPv6(host) ? 'udp6' : 'udp4',
      recvBufferSize: options.udpReceiveBufferBytes ?? 4 * 1024 * 1024,
    });
    udp = sock;
    sock.on('message', (msg, rinfo) => {
      if (closing) return;
      stats.udpDatagrams++;
      const record = parseSyslogRecord(
        msg,
        { receivedAt: Date.now(), peerAddress: normalizeAddress(rinfo.address), collectorHostName },
        parseOptions,
      );
      if (batcher.add(record)) count(record);
      else stats.udpDropped++;
    });
  }

  const closeAll = async (): Promise<void> => {
    closing = true;
    const waits: Promise<void>[] = [];
    if (server?.listening) {
      const s = server;
      waits.push(new Promise((resolve) => s.close(() => resolve())));
    }
    for (const [socket, decoder] of connections) {
      deliverFrames(socket, decoder.end());
      socket.destroy();
    }
    if (udp) {
      const u = udp;
      waits.push(
        new Promise((resolve) => {
          try {
            u.close(() => resolve());
          } catch {
            resolve(); // never bound
          }
        }),
      );
    }
    await Promise.all(waits);
    await batcher.flush();
  };

  try {
    if (server) {
      const s = server;
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(options.tcpPort, host, () => {
          s.off('error', reject);
          s.on('error', (error) => onError(error));
          resolve();
        });
      });
    }
    if (udp) {
      const u = udp;
      await new Promise<void>((resolve, reject) => {
        u.once('error', reject);
        u.bind(options.udpPort, host, () => {
          u.off('error', reject);
          u.on('error', (error) => onError(error));
          resolve();
        });
      });
    }
  } catch (error) {
    await closeAll();
    throw error;
  }

  const tcpAddress = server?.address();
  const udpPort = udp?.address().port;
  let closed: Promise<void> | undefined;
  return {
    host,
    udpPort,
    tcpPort: typeof tcpAddress === 'object' && tcpAddress !== null ? tcpAddress.port : undefined,
    stats: () => ({
      ...stats,
      rows: { ...stats.rows },
      batches: batcher.stats.batches,
      deliveryErrors: batcher.stats.deliveryErrors,
      backlog: batcher.backlog,
    }),
    close: () => {
      closed ??= closeAll();
      return closed;
    },
  };
}
