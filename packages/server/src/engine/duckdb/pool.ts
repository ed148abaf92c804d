/**
 * A small fixed pool of DuckDB connections to one instance: queries run in parallel on separate connections (a
 * connection runs one statement at a time), and cancelling a query interrupts only its own connection.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { EngineError } from '../errors.js';

interface Waiter {
  resolve(c: DuckDBConnection): void;
  reject(e: unknown): void;
}

export class ConnectionPool {
  private readonly idle: DuckDBConnection[];
  private readonly waiters: Waiter[] = [];
  private closed = false;

  constructor(private readonly all: readonly DuckDBConnection[]) {
    this.idle = [...all];
  }

  get size(): number {
    return this.all.length;
  }

  acquire(signal?: AbortSignal): Promise<DuckDBConnection> {
    if (this.closed) return Promise.reject(new EngineError('closed', 'the engine is closed'));
    if (signal?.aborted) return Promise.reject(new EngineError('cancelled', 'query cancelled before it started'));
    const c = this.idle.pop();
    if (c) return Promise.resolve(c);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (conn) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(conn);
        },
        reject,
      };
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new EngineError('cancelled', 'query cancelled while waiting for a connection'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  release(c: DuckDBConnection): void {
    const next = this.waiters.shift();
    if (next) next.resolve(c);
    else this.idle.push(c);
  }

  /** Refuses new and waiting acquisitions; connections in use stay open until `close`. */
  stopAccepting(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w.reject(new EngineError('closed', 'the engine is closed'));
  }

  close(): void {
    this.stopAccepting();
    for (const c of this.all) c.closeSync();
  }
}

/** Serializes writers (DDL and loads) while queries keep running on the pool. */
export class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task, task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}
