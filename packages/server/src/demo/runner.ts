/**
 * `vigil demo`: the whole system on one machine. Starts the Vigil server (embedded DuckDB + SQLite in a local
 * folder), installs the content pack, signs in an Owner with a fresh password, and streams the simulation through
 * the real ingestion API over HTTP — Defender tables as Defender streaming-API records, the others (and the
 * product alerts, `SecurityAlert`) through the table endpoint, which hands alerts to the incident queue.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { RunningVigil } from '../api/server.js';
import type { ContentPackReport } from '../workspaces/content.js';
import type { Workspace } from '../workspaces/workspace.js';
import { type Row, type SimBatch, Simulator } from './simulator/index.js';

export const DEFAULT_CONTENT_DIR = fileURLToPath(new URL('../../../../content/', import.meta.url));

export interface DemoOptions {
  readonly dataDir: string;
  readonly host?: string;
  /** HTTP port (default 8080; 0: any free port). */
  readonly port?: number;
  /** Simulated seconds per real second (default 1). */
  readonly speed?: number;
  readonly seed?: number;
  readonly devices?: number;
  /** The content pack folder (default: the repository's `content/`). */
  readonly contentDir?: string;
  /** How often the simulation is sent (default 1 s). */
  readonly tickMs?: number;
  /** How often a progress line is written (default 5 s). */
  readonly progressMs?: number;
  readonly log?: (line: string) => void;
}

export interface DemoStats {
  readonly simulatedMs: number;
  readonly rowsSent: number;
  readonly rowsRejected: number;
  readonly requests: number;
  readonly failedRequests: number;
  readonly stories: number;
  readonly productAlerts: number;
}

export interface RunningDemo {
  readonly url: string;
  readonly workspace: string;
  readonly user: string;
  readonly password: string;
  readonly content: ContentPackReport | null;
  stats(): DemoStats;
  /** Counts from the incident queue. */
  queue(): Promise<{ incidents: number; ruleAlerts: number; productAlerts: number }>;
  /** Stops streaming, waits for requests in flight, revokes the simulator's token, closes the server. */
  stop(): Promise<DemoStats>;
}

/** Tables that arrive through the Defender XDR streaming API (everything the connector feeds). */
const DEFENDER_PREFIXES = ['Device', 'Email', 'UrlClick', 'Identity', 'CloudApp', 'Alert'];
const MAX_BODY = 8 * 1024 * 1024;

export async function startDemo(options: DemoOptions): Promise<RunningDemo> {
  const log = options.log ?? (() => undefined);
  const dataDir = resolve(options.dataDir);
  const contentDir = options.contentDir ?? DEFAULT_CONTENT_DIR;
  const speed = options.speed ?? 1;
  const tickMs = options.tickMs ?? 1000;
  const password = randomBytes(12).toString('base64url');
  const { startVigil } = await import('../api/server.js');
  const t0 = Date.now();
  let firstStart = false;
  const start = (port: number) =>
    startVigil({
      dataDir,
      host: options.host ?? '127.0.0.1',
      port,
      initialAdminPassword: password,
      onFirstStart: () => {
        firstStart = true;
      },
      log: (m) => log(`server: ${m}`),
    });
  let server: RunningVigil;
  try {
    server = await start(options.port ?? 8080);
  } catch (e) {
    // The default port taken (another server, a second demo): any free port rather than no demo.
    if (options.port !== undefined || (e as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw e;
    log('port 8080 is in use: taking a free port');
    server = await start(0);
  }
  log(`server started in ${((Date.now() - t0) / 1000).toFixed(1)} s${firstStart ? ' (new data folder)' : ''}`);
  try {
    const ws = server.manager.get('default') ?? server.manager.list()[0];
    if (!ws) throw new Error('the server has no workspace');
    // A demo folder that already exists keeps its Owner: a fresh password for each run, shown only here.
    const admin = await server.auth.findUserByName('admin');
    if (!admin) throw new Error("the Owner account 'admin' is missing");
    if (!firstStart) await server.auth.setPassword(admin.id, password);

    const tContent = Date.now();
    const content = existsSync(contentDir) ? await installContent(ws, contentDir, log) : null;
    if (!content) log(`no content pack at ${contentDir}: no rules or automation (give --content DIR)`);
    if (content) log(`content installed in ${((Date.now() - tContent) / 1000).toFixed(1)} s`);

    const { token, value } = await server.auth.createToken(admin.id, {
      name: 'vigil demo simulator',
      scopes: ['ingest'],
      workspaceId: ws.id,
      expiresInDays: 1,
    });
    const url = server.url ?? '';
    const sim = new Simulator({
      seed: options.seed ?? 1,
      devices: options.devices ?? 200,
      speed,
      startMs: Date.now(),
      // The first story at once: its first product alert comes 12 simulated seconds later.
      firstStoryMs: 1000,
      // Fresh alert and message ids on every start (the company and the stories' shape stay the seed's).
      salt: String(Date.now()),
    });
    const sender = new Sender(`${url}/api/workspaces/${encodeURIComponent(ws.name)}`, value, ws.id, log);
    const stats = {
      simulatedMs: 0,
      rowsSent: 0,
      rowsRejected: 0,
      requests: 0,
      failedRequests: 0,
      stories: 0,
      productAlerts: 0,
    };
    let stopping = false;
    const sleeper = new Sleeper();
    let lastProgress = Date.now();
    let lastRows = 0;
    const queue = async () => {
      // The queue's own counters: incidents still open to analysts (merged-away ones excluded), alerts by source.
      const inc = await ws.state.get<{ n: number }>(
        'SELECT count(*) AS n FROM inc_incidents WHERE redirected_to IS NULL',
      );
      const al = await ws.state.all<{ source: string; n: number }>(
        'SELECT source, count(*) AS n FROM inc_alerts GROUP BY source',
      );
      const by = (s: string) =>
        al.filter((a) => (s === 'rule' ? a.source === 'rule' : a.source !== 'rule')).reduce((x, a) => x + a.n, 0);
      return { incidents: inc?.n ?? 0, ruleAlerts: by('rule'), productAlerts: by('product') };
    };
    const progress = async () => {
      const now = Date.now();
      const q = await queue().catch(() => null);
      const rate = ((stats.rowsSent - lastRows) * 1000) / Math.max(1, now - lastProgress);
      lastProgress = now;
      lastRows = stats.rowsSent;
      log(
        `simulated ${clock(stats.simulatedMs)} (x${speed}) · ${stats.rowsSent.toLocaleString('en-US')} rows ` +
          `(${Math.round(rate).toLocaleString('en-US')} rows/s) · ${stats.stories} attack stories · ` +
          (q
            ? `${q.productAlerts} product alerts + ${q.ruleAlerts} rule alerts → ${q.incidents} incidents`
            : 'queue unavailable') +
          (stats.failedRequests ? ` · ${stats.failedRequests} failed requests` : ''),
      );
    };

    const tStream = Date.now();
    const loop = (async () => {
      let nextProgress = tStream + (options.progressMs ?? 5000);
      while (!stopping) {
        const target = Math.floor((Date.now() - tStream) * speed);
        const batch = sim.advanceTo(target);
        stats.simulatedMs = batch.untilSimMs;
        stats.stories += batch.stories.length;
        for (const s of batch.stories)
          log(
            `attack story ${s.index + 1}: ${s.victim.upn} on ${s.device.shortName} → ${s.target.shortName} ` +
              `(credential dumping: ${s.dumpVariant}; sign-in from ${s.travelIp})`,
          );
        const r = await sender.send(batch);
        stats.rowsSent += r.rows;
        stats.rowsRejected += r.rejected;
        stats.requests += r.requests;
        stats.failedRequests += r.failed;
        stats.productAlerts += batch.tables.get('SecurityAlert')?.length ?? 0;
        if (Date.now() >= nextProgress) {
          nextProgress += options.progressMs ?? 5000;
          await progress();
        }
        const wait = tickMs - ((Date.now() - tStream) % tickMs);
        if (!stopping) await sleeper.sleep(wait);
      }
    })();

    let stopped: Promise<DemoStats> | null = null;
    return {
      url,
      workspace: ws.name,
      user: admin.name,
      password,
      content,
      stats: () => ({ ...stats }),
      queue,
      stop() {
        stopped ??= (async () => {
          stopping = true;
          sleeper.wake();
          await loop.catch((e: unknown) => log(`simulation stopped on an error: ${(e as Error).message}`));
          await server.auth.revokeToken(admin.id, token.id).catch(() => false);
          await server.close();
          return { ...stats };
        })();
        return stopped;
      },
    };
  } catch (e) {
    await server.close();
    throw e;
  }
}

async function installContent(ws: Workspace, dir: string, log: (line: string) => void): Promise<ContentPackReport> {
  const { installContentPack } = await import('../workspaces/content.js');
  // Indicators are rows: ingest them once per data folder, not on every start.
  const report = await installContentPack(ws, dir, { indicators: !ws.engine.storage('ThreatIntelligenceIndicator') });
  const imported = report.rules.filter((r) => r.status !== 'rejected');
  log(
    `content: ${imported.length} analytic rules, ${report.automation.filter((a) => a.ok).length} automation files, ` +
      `${report.watchlists} watchlists, ${report.indicators} new threat indicators from ${dir}`,
  );
  for (const r of report.rules.filter((x) => x.status === 'rejected'))
    log(`content: rule ${r.file} was not imported: ${r.problem ?? 'rejected'}`);
  for (const a of report.automation.filter((x) => !x.ok)) log(`content: ${a.file} was not loaded: ${a.problem ?? ''}`);
  return report;
}

/** Posts simulated batches to a workspace's ingestion API (`base` = `<url>/api/workspaces/<name>`) with a token. */
export class Sender {
  constructor(
    private readonly base: string,
    private readonly token: string,
    private readonly tenantId: string,
    private readonly log: (line: string) => void,
  ) {}

  async send(batch: SimBatch): Promise<{ rows: number; rejected: number; requests: number; failed: number }> {
    const out = { rows: 0, rejected: 0, requests: 0, failed: 0 };
    const defender: { table: string; rows: Row[] }[] = [];
    const direct: { table: string; rows: Row[] }[] = [];
    for (const [table, rows] of batch.tables) {
      if (table === 'SecurityAlert') continue;
      (DEFENDER_PREFIXES.some((p) => table.startsWith(p)) ? defender : direct).push({ table, rows });
    }
    // Product alerts first: within one batch (several simulated seconds at high speed) the product's alert would
    // otherwise reach the queue after the rule alerts on the same events, and the incident would be created by a
    // rule alert — automation rules that trigger on creation from Defender would not see it as Defender's.
    const alerts = batch.tables.get('SecurityAlert');
    if (alerts?.length)
      await this.post('ingest/SecurityAlert', alerts.map((r) => JSON.stringify(r)).join('\n'), alerts.length, out);
    if (defender.length) {
      const records: string[] = [];
      for (const { table, rows } of defender)
        for (const row of rows)
          records.push(
            `{"time":${JSON.stringify(row.Timestamp ?? row.TimeGenerated)},"tenantId":"${this.tenantId}",` +
              `"operationName":"Publish","category":"AdvancedHunting-${table}","properties":${JSON.stringify(row)}}`,
          );
      for (const chunk of chunks(records))
        await this.post('ingest/defender', `{"records":[${chunk.join(',')}]}`, chunk.length, out);
    }
    for (const { table, rows } of direct)
      for (const chunk of chunks(rows.map((r) => JSON.stringify(r))))
        await this.post(`ingest/${table}`, chunk.join('\n'), chunk.length, out);
    return out;
  }

  private async post(
    path: string,
    body: string,
    rows: number,
    out: { rows: number; rejected: number; requests: number; failed: number },
  ): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      out.requests++;
      try {
        const res = await fetch(`${this.base}/${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/x-ndjson' },
          body,
        });
        const text = await res.text();
        if (res.status === 429 && attempt < 5) {
          await sleep(Number(res.headers.get('retry-after') ?? 1) * 1000);
          continue;
        }
        if (!res.ok) {
          out.failed++;
          this.log(`ingestion ${path} answered ${res.status}: ${text.slice(0, 300)}`);
          return;
        }
        const a = JSON.parse(text) as { rowsIngested?: number; rowsRejected?: number };
        out.rows += a.rowsIngested ?? rows;
        out.rejected += a.rowsRejected ?? 0;
        if (a.rowsRejected) this.log(`ingestion ${path}: ${a.rowsRejected} rows rejected: ${text.slice(0, 300)}`);
        return;
      } catch (e) {
        out.failed++;
        this.log(`ingestion ${path} failed: ${(e as Error).message}`);
        return;
      }
    }
  }
}

function* chunks(items: readonly string[]): Generator<string[]> {
  let current: string[] = [];
  let size = 0;
  for (const item of items) {
    if (size + item.length > MAX_BODY && current.length) {
      yield current;
      current = [];
      size = 0;
    }
    current.push(item);
    size += item.length + 1;
  }
  if (current.length) yield current;
}

/** A sleep that `wake()` cuts short (Ctrl-C should not wait for the next tick). */
class Sleeper {
  private wakeUp: (() => void) | null = null;

  wake(): void {
    this.wakeUp?.();
  }

  sleep(ms: number): Promise<void> {
    return new Promise((done) => {
      const t = setTimeout(() => {
        this.wakeUp = null;
        done();
      }, ms);
      this.wakeUp = () => {
        clearTimeout(t);
        this.wakeUp = null;
        done();
      };
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}

function clock(ms: number): string {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}
