/**
 * API load benchmark (issue 8): N concurrent clients mixing incident list, incident update and small KQL queries
 * against one `vigil start` server process on this machine.
 *
 *   npm run build && node bench/api/run.mjs [--clients 200] [--seconds 60] [--incidents 2000] [--signins 50000]
 *
 * 1. Starts `vigil start` (a separate process, as in production: the load generator does not share its event loop)
 *    on a fresh data folder, with the scheduler off so only the load runs.
 * 2. Seeds through the API: `--incidents` Defender alerts (each its own host and user → one incident each) via
 *    POST /ingest/SecurityAlert, and `--signins` SigninLogs rows for the KQL queries.
 * 3. Signs in a Responder, mints one API token per client (scripts use tokens), and runs `--clients` closed-loop
 *    clients for `--seconds`: each picks an operation by the mix (`--mix list,update,kql` weights, default 50/25/25)
 *    over keep-alive connections:
 *      - list: GET /incidents with one of several filter/sort combinations (page of 50);
 *      - update: PATCH /incidents/{id} on an incident of its own (status, severity, owner, tags) with If-Match
 *        from its previous answer — optimistic concurrency as the console does it;
 *      - kql: POST /query with one of several small queries over SigninLogs and SecurityIncident.
 *    Every answer that is not the expected 2xx is an error (status counted); latency = request written → body read.
 * Results (throughput, p50/p90/p99/max per operation, errors, server CPU and RSS) go to `--out` and stdout.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os, { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { args } from '../lib/args.mjs';
import { rng } from '../lib/rng.mjs';

const ROOT = new URL('../../', import.meta.url);

const opt = args({
  clients: 200,
  seconds: 60,
  incidents: 2000,
  signins: 50_000,
  mix: '50,25,25',
  threads: 0,
  /** Seconds to wait after seeding before the load (lets the engine's idle checkpoint of the seed data finish). */
  settle: 0,
  out: 'bench/results/api-load.json',
});
const [wList, wUpdate, wKql] = opt.mix.split(',').map(Number);
const PASSWORD = 'bench-Owner-password-2026';

// One keep-alive pool for every client: a socket per client, as 200 separate scripts would hold.
const agent = new http.Agent({ keepAlive: true, maxSockets: opt.clients + 8 });
let base = '';

function request(method, path, { token, body, raw, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const h = { ...headers };
    if (token) h.authorization = `Bearer ${token}`;
    let payload;
    if (raw !== undefined) payload = raw;
    else if (body !== undefined) {
      payload = JSON.stringify(body);
      h['content-type'] = 'application/json';
    }
    if (payload !== undefined) h['content-length'] = Buffer.byteLength(payload);
    const url = new URL(path, base);
    const req = http.request(
      { agent, method, hostname: url.hostname, port: url.port, path: url.pathname + url.search, headers: h },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json = null;
          try {
            json = text ? JSON.parse(text) : null;
          } catch {
            json = null;
          }
          resolve({ status: res.statusCode ?? 0, json, text });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}

async function must(status, method, path, o) {
  const a = await request(method, path, o);
  if (a.status !== status) throw new Error(`${method} ${path}: ${a.status} ${a.text.slice(0, 500)}`);
  return a.json;
}

/** CPU seconds (user + system) and RSS of a process, from /proc. */
function procStats(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const hz = 100;
    const cpu = (Number(f[11]) + Number(f[12])) / hz;
    const rssPages = Number(f[21]);
    return { cpuSeconds: cpu, rssMB: (rssPages * 4096) / 1024 / 1024 };
  } catch {
    return null;
  }
}

const pct = (sorted, p) =>
  sorted.length === 0 ? null : sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
const round = (x) => (x === null ? null : Math.round(x * 10) / 10);

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-bench-api-'));
  const cli = new URL('packages/server/dist/cli/main.js', ROOT).pathname;
  const server = spawn(
    process.execPath,
    [
      cli,
      'start',
      '--data',
      dir,
      '--port',
      '0',
      '--no-scheduler',
      ...(opt.threads ? ['--threads', String(opt.threads)] : []),
    ],
    { env: { ...process.env, VIGIL_ADMIN_PASSWORD: PASSWORD }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let serverLog = '';
  server.stderr.on('data', (c) => {
    serverLog += c;
  });
  const exited = new Promise((r) => server.once('exit', r));
  try {
    const first = await new Promise((resolve, reject) => {
      const rl = createInterface({ input: server.stdout });
      rl.once('line', resolve);
      server.once('exit', (code) => reject(new Error(`vigil start exited (${code}): ${serverLog}`)));
    });
    base = JSON.parse(first).url;
    console.error(`server ${base} (pid ${server.pid}), data in ${dir}`);

    // ── seed ──
    const admin = (await must(200, 'POST', '/api/auth/login', { body: { name: 'admin', password: PASSWORD } })).token;
    const W = '/api/workspaces/default';
    const now = Date.now();
    const iso = (ms) => new Date(ms).toISOString();
    const r = rng(7);
    const alerts = [];
    for (let i = 0; i < opt.incidents; i++) {
      const t = now - Math.floor(r() * 6 * 3600_000);
      const sev = ['High', 'Medium', 'Low', 'Informational'][i % 4];
      const title = ['Suspicious PowerShell', 'Credential dumping', 'Phishing link clicked', 'Impossible travel'][
        i % 4
      ];
      alerts.push({
        TimeGenerated: iso(t),
        DisplayName: title,
        AlertName: title,
        AlertSeverity: sev,
        Description: `${title} on host-${i}`,
        ProviderName: 'MDATP',
        ProductName: 'Microsoft Defender Advanced Threat Protection',
        VendorName: 'Microsoft',
        SystemAlertId: `bench-${i}`,
        VendorOriginalId: `bench-${i}`,
        AlertType: title.replace(/\W/g, ''),
        StartTime: iso(t),
        EndTime: iso(t),
        Status: 'New',
        Entities: JSON.stringify([
          { $id: '2', Type: 'host', HostName: `host-${i}` },
          { $id: '3', Type: 'account', Name: `user${i}`, UPNSuffix: 'contoso.com' },
        ]),
        ExtendedProperties: '{}',
        Tactics: ['Execution', 'CredentialAccess', 'InitialAccess', 'Discovery'][i % 4],
        Techniques: ['T1059', 'T1003', 'T1566', 'T1087'][i % 4],
      });
    }
    let seedStart = performance.now();
    for (let i = 0; i < alerts.length; i += 500) {
      await must(200, 'POST', `${W}/ingest/SecurityAlert`, {
        token: admin,
        raw: `${alerts
          .slice(i, i + 500)
          .map((a) => JSON.stringify(a))
          .join('\n')}\n`,
        headers: { 'content-type': 'application/x-ndjson' },
      });
    }
    console.error(`seeded ${alerts.length} alerts in ${Math.round(performance.now() - seedStart)} ms`);
    seedStart = performance.now();
    const apps = ['Azure Portal', 'Office 365 Exchange Online', 'Microsoft Teams', 'Azure CLI'];
    for (let i = 0; i < opt.signins; i += 10_000) {
      const rows = [];
      for (let j = i; j < Math.min(opt.signins, i + 10_000); j++) {
        rows.push(
          JSON.stringify({
            TimeGenerated: iso(now - Math.floor(r() * 24 * 3600_000)),
            UserPrincipalName: `user${Math.floor(r() * 500)}@contoso.com`,
            AppDisplayName: apps[j % apps.length],
            IPAddress: `10.${j % 250}.${Math.floor(r() * 250)}.${Math.floor(r() * 250)}`,
            ResultType: r() < 0.1 ? '50126' : '0',
            Location: ['US', 'FR', 'DE', 'JP'][j % 4],
          }),
        );
      }
      await must(200, 'POST', `${W}/ingest/SigninLogs`, {
        token: admin,
        raw: `${rows.join('\n')}\n`,
        headers: { 'content-type': 'application/x-ndjson' },
      });
    }
    console.error(`seeded ${opt.signins} sign-ins in ${Math.round(performance.now() - seedStart)} ms`);

    const ids = [];
    let cursor = null;
    do {
      const page = await must(
        200,
        'GET',
        `${W}/incidents?limit=1000&sort=number&order=asc${cursor ? `&cursor=${cursor}` : ''}`,
        { token: admin },
      );
      for (const it of page.items) ids.push({ id: it.id, version: it.version });
      cursor = page.nextCursor;
    } while (cursor);
    if (ids.length < opt.clients) throw new Error(`only ${ids.length} incidents for ${opt.clients} clients`);
    console.error(`${ids.length} incidents`);

    // A Responder account; each client is a script with its own API token.
    await must(201, 'POST', `${W}/users`, {
      token: admin,
      body: { name: 'loader', password: 'Quartz-Bench-Pass-2026', role: 'Responder' },
    });
    const responder = (
      await must(200, 'POST', '/api/auth/login', { body: { name: 'loader', password: 'Quartz-Bench-Pass-2026' } })
    ).token;
    const tokens = [];
    for (let i = 0; i < opt.clients; i++) {
      const tk = await must(201, 'POST', '/api/tokens', {
        token: responder,
        body: { name: `client-${i}`, workspace: 'default', expiresInDays: 1 },
      });
      tokens.push(tk.value);
    }
    if (!tokens.every((x) => typeof x === 'string')) throw new Error('token answer without a secret');

    if (opt.settle > 0) {
      console.error(`settling ${opt.settle} s`);
      await new Promise((r) => setTimeout(r, opt.settle * 1000));
    }

    // ── warm-up: every client opens its connection (GET /api/health), then presents its token once (GET
    // /api/auth/me), all at once — what 200 scripts starting together cost, reported apart from the steady load.
    const timedAll = async (f) => {
      const ms = await Promise.all(
        tokens.map(async (tk) => {
          const s0 = performance.now();
          const a = await f(tk);
          if (a.status !== 200) throw new Error(`warm-up answered ${a.status}: ${a.text.slice(0, 200)}`);
          return performance.now() - s0;
        }),
      );
      const sorted = Float64Array.from(ms).sort();
      return { p50: round(pct(sorted, 50)), p90: round(pct(sorted, 90)), max: round(sorted[sorted.length - 1] ?? 0) };
    };
    const warmup = {
      connect: await timedAll(() => request('GET', '/api/health')),
      firstAuth: await timedAll((tk) => request('GET', '/api/auth/me', { token: tk })),
    };
    console.error(`warm-up: ${JSON.stringify(warmup)}`);

    // ── load ──
    const lists = [
      'status=New,Active&sort=lastActivityTime&order=desc&limit=50',
      'severity=High&status=New&limit=50',
      'sort=severity&order=desc&limit=50',
      'text=PowerShell&limit=50',
      'tactic=CredentialAccess&sort=createdTime&order=desc&limit=50',
      'owner=loader@contoso.com&limit=50',
    ];
    const kqls = [
      'SigninLogs | where TimeGenerated > ago(1h) | summarize count() by ResultType',
      "SigninLogs | where UserPrincipalName == 'user42@contoso.com' | take 20",
      "SigninLogs | where ResultType == '50126' | summarize failures = count() by AppDisplayName | top 3 by failures",
      "SecurityIncident | where Severity == 'High' | summarize count() by Status",
      'SecurityIncident | summarize arg_max(TimeGenerated, Status) by IncidentNumber | count',
      'print now()',
    ];
    const ops = { list: [], update: [], kql: [] };
    /** [start offset ms, latency ms] of every request: latency by the 10-s window the request started in. */
    const timeline = [];
    const errors = {};
    const errorSamples = [];
    const load0 = os.loadavg();
    const cpu0 = procStats(server.pid);
    const t0 = performance.now();
    const deadline = t0 + opt.seconds * 1000;
    const total = wList + wUpdate + wKql;

    async function client(i) {
      const rand = rng(1000 + i);
      const token = tokens[i];
      // Client i owns incidents i, i+clients, ...: updates never race another client's (zero-conflict goal).
      const own = ids.filter((_, k) => k % opt.clients === i);
      let turn = 0;
      let sent = 0;
      while (performance.now() < deadline) {
        const x = rand() * total;
        const kind = x < wList ? 'list' : x < wList + wUpdate ? 'update' : 'kql';
        const start = performance.now();
        let a;
        let expected = 200;
        try {
          if (kind === 'list') {
            a = await request('GET', `${W}/incidents?${lists[Math.floor(rand() * lists.length)]}`, { token });
          } else if (kind === 'update') {
            const inc = own[turn++ % own.length];
            const patch = [
              { status: 'Active' },
              { severity: ['High', 'Medium', 'Low'][Math.floor(rand() * 3)] },
              { owner: { userPrincipalName: 'loader@contoso.com', assignedTo: 'Loader' } },
              { tags: [`batch-${Math.floor(rand() * 5)}`] },
            ][Math.floor(rand() * 4)];
            a = await request('PATCH', `${W}/incidents/${inc.id}`, {
              token,
              body: patch,
              headers: { 'if-match': String(inc.version) },
            });
            if (a.status === 200) inc.version = a.json.version;
          } else {
            a = await request('POST', `${W}/query`, {
              token,
              body: { query: kqls[Math.floor(rand() * kqls.length)], timespan: 'P1D' },
            });
          }
        } catch (e) {
          a = { status: 0, text: String(e) };
          expected = -1;
        }
        const ms = performance.now() - start;
        timeline.push([start - t0, ms, sent++ === 0]);
        if (a.status === expected) ops[kind].push(ms);
        else {
          const k = `${kind} ${a.status}`;
          errors[k] = (errors[k] ?? 0) + 1;
          if (errorSamples.length < 10) errorSamples.push(`${k}: ${a.text.slice(0, 300)}`);
        }
      }
    }
    const progress = setInterval(() => {
      const n = ops.list.length + ops.update.length + ops.kql.length;
      console.error(
        `  ${Math.round((performance.now() - t0) / 1000)} s: ${n} ok, ${Object.values(errors).reduce((s, v) => s + v, 0)} errors`,
      );
    }, 10_000);
    await Promise.all(tokens.map((_, i) => client(i)));
    clearInterval(progress);
    const elapsed = (performance.now() - t0) / 1000;
    const cpu1 = procStats(server.pid);

    const summary = (arr) => {
      const s = Float64Array.from(arr).sort();
      return {
        requests: s.length,
        perSecond: round(s.length / elapsed),
        p50: round(pct(s, 50)),
        p90: round(pct(s, 90)),
        p99: round(pct(s, 99)),
        max: round(s.length ? (s[s.length - 1] ?? null) : null),
      };
    };
    const all = [...ops.list, ...ops.update, ...ops.kql];
    const errorCount = Object.values(errors).reduce((s, v) => s + v, 0);
    const result = {
      at: new Date().toISOString(),
      machine: `${os.cpus().length} cores, ${process.platform}, node ${process.version}`,
      // The machine is shared: the 1-minute load average before and after says how much CPU others took.
      loadAverage: { before: round(load0[0] ?? 0), after: round(os.loadavg()[0] ?? 0) },
      options: opt,
      seconds: round(elapsed),
      total: summary(all),
      list: summary(ops.list),
      update: summary(ops.update),
      kql: summary(ops.kql),
      byWindow: Array.from({ length: Math.ceil(opt.seconds / 10) }, (_, w) => {
        const inWindow = timeline.filter(([at]) => at >= w * 10_000 && at < (w + 1) * 10_000).map(([, ms]) => ms);
        const sorted = Float64Array.from(inWindow).sort();
        return { from: w * 10, requests: sorted.length, p50: round(pct(sorted, 50)), p99: round(pct(sorted, 99)) };
      }),
      // Each client's first request (a new connection and a token not seen yet) apart from the rest.
      warmup,
      firstRequests: (() => {
        const sorted = Float64Array.from(timeline.filter((x) => x[2]).map((x) => x[1])).sort();
        return {
          requests: sorted.length,
          p50: round(pct(sorted, 50)),
          p90: round(pct(sorted, 90)),
          max: round(sorted[sorted.length - 1] ?? null),
        };
      })(),
      errors: errorCount,
      errorsByKind: errors,
      errorSamples,
      server:
        cpu0 && cpu1
          ? {
              cpuSeconds: round(cpu1.cpuSeconds - cpu0.cpuSeconds),
              cores: round((cpu1.cpuSeconds - cpu0.cpuSeconds) / elapsed),
              rssMB: round(cpu1.rssMB),
            }
          : null,
    };
    const text = JSON.stringify(result, null, 2);
    writeFileSync(new URL(opt.out, ROOT), `${text}\n`);
    console.log(text);
  } finally {
    agent.destroy();
    server.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
