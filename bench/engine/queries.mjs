/**
 * The benchmark's queries: the seed document's four (take 10; top devices; the suspicious-PowerShell detection with
 * `in~` and `has_any`; its `leftouter` join to SigninLogs) plus a `dcount`/`bin` summarize and a regex `extract`
 * summarize. Each has its KQL, a hand-written DuckDB SQL that computes the same result (what a DuckDB user would
 * write: plain predicates on the table, the same term-boundary regex for `has_any`, `lower(x) IN` for `in~`), how to
 * compare the two results, and a naive row-by-row JavaScript evaluation over rows held as JS objects.
 *
 * All queries run with now() = END (the data's last instant), so `ago(1h)` is END - 1h on both sides.
 */

const q = (n) => `"${n.replace(/"/g, '""')}"`;

/** Kusto's term boundary for `has_any`: a term is a maximal run of ASCII letters and digits. */
function termRegexSource(terms) {
  const esc = (t) => t.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
  const one = (t) =>
    `${/^[0-9A-Za-z]/.test(t) ? '(?:^|[^0-9A-Za-z])' : ''}${esc(t)}${/[0-9A-Za-z]$/.test(t) ? '(?:$|[^0-9A-Za-z])' : ''}`;
  return `(?:${terms.map(one).join('|')})`;
}

const LOOKBACK_MS = 3_600_000;
const WATCHED = ['powershell.exe', 'pwsh.exe', 'cmd.exe', 'wscript.exe', 'cscript.exe'];
const TERMS = ['-enc', 'DownloadString', 'FromBase64String', 'Invoke-WebRequest'];
const TERM_RE = termRegexSource(TERMS);
const URL_RE = 'https?://([A-Za-z0-9.-]+)';

/** `TIMESTAMP '...'` for END minus `ms`. */
function ts(endMs, ms) {
  return `TIMESTAMP '${new Date(endMs - ms).toISOString().replace('T', ' ').replace('Z', '')}'`;
}

/**
 * @param {(table: string, column: string) => string} col quoted storage column
 * @param {(table: string) => string} tab quoted storage table
 * @param {string[]} dpeColumns the KQL columns of DeviceProcessEvents, in order
 * @param {number} endMs
 */
export function benchQueries({ col, tab, dpeColumns, endMs }) {
  const dpe = (c) => col('DeviceProcessEvents', c);
  const dne = (c) => col('DeviceNetworkEvents', c);
  const sil = (c) => col('SigninLogs', c);
  const suspiciousSql = `SELECT ${['TimeGenerated', 'DeviceName', 'AccountUpn', 'FileName', 'ProcessCommandLine', 'DeviceId'].map((c) => `${dpe(c)} AS ${q(c)}`).join(', ')}
    FROM ${tab('DeviceProcessEvents')}
    WHERE ${dpe('TimeGenerated')} > ${ts(endMs, LOOKBACK_MS)}
      AND lower(${dpe('FileName')}) IN (${WATCHED.map((w) => `'${w}'`).join(', ')})
      AND regexp_matches(${dpe('ProcessCommandLine')}, '(?i)${TERM_RE}')`;
  return [
    {
      id: 'take10',
      title: 'take 10',
      kql: 'DeviceProcessEvents\n| take 10',
      sql: `SELECT ${dpeColumns.map(dpe).join(', ')} FROM ${tab('DeviceProcessEvents')} LIMIT 10`,
      // Any 10 rows are a correct answer: compare the row count only.
      compare: 'count',
      js: (d) => d.DeviceProcessEvents.slice(0, 10),
    },
    {
      id: 'top-devices',
      title: 'summarize count() by DeviceName | top 20 (last 24h)',
      kql: 'DeviceProcessEvents\n| where Timestamp > ago(24h)\n| summarize ProcessEvents=count() by DeviceName\n| top 20 by ProcessEvents desc',
      sql: `SELECT ${dpe('DeviceName')} AS "DeviceName", count(*) AS "ProcessEvents"
        FROM ${tab('DeviceProcessEvents')} WHERE ${dpe('Timestamp')} > ${ts(endMs, 24 * LOOKBACK_MS)}
        GROUP BY 1 ORDER BY 2 DESC LIMIT 20`,
      // Devices tied at the 20th count may differ: compare the counts, in order.
      compare: { column: 1, ordered: true },
      js: (d) => {
        const since = endMs - 24 * LOOKBACK_MS;
        const counts = new Map();
        for (const r of d.DeviceProcessEvents) {
          if (r.Timestamp > since) counts.set(r.DeviceName, (counts.get(r.DeviceName) ?? 0) + 1);
        }
        return [...counts].sort((a, b) => b[1] - a[1]).slice(0, 20);
      },
    },
    {
      id: 'suspicious',
      title: 'suspicious PowerShell (in~, has_any; last 1h)',
      kql: `DeviceProcessEvents
| where TimeGenerated > ago(1h)
| where FileName in~ ("powershell.exe", "pwsh.exe", "cmd.exe", "wscript.exe", "cscript.exe")
| where ProcessCommandLine has_any ("-enc", "DownloadString", "FromBase64String", "Invoke-WebRequest")
| project TimeGenerated, DeviceName, AccountUpn, FileName, ProcessCommandLine, DeviceId`,
      sql: suspiciousSql,
      compare: 'rows',
      js: (d) => suspiciousJs(d, endMs),
    },
    {
      id: 'join-signins',
      title: 'suspicious PowerShell leftouter join SigninLogs (last 1h)',
      kql: `let Lookback = 1h;
let SuspiciousProcesses = DeviceProcessEvents
| where TimeGenerated > ago(Lookback)
| where FileName in~ ("powershell.exe", "pwsh.exe", "cmd.exe", "wscript.exe", "cscript.exe")
| where ProcessCommandLine has_any ("-enc", "DownloadString", "FromBase64String", "Invoke-WebRequest")
| project TimeGenerated, DeviceName, AccountUpn, FileName, ProcessCommandLine, DeviceId;
let RecentSignins = SigninLogs
| where TimeGenerated > ago(Lookback)
| project SigninTime=TimeGenerated, UserPrincipalName, IPAddress, AppDisplayName, ResultType;
SuspiciousProcesses
| join kind=leftouter RecentSignins on $left.AccountUpn == $right.UserPrincipalName
| project TimeGenerated, DeviceName, AccountUpn, FileName, ProcessCommandLine, IPAddress, AppDisplayName, ResultType`,
      sql: `WITH p AS (${suspiciousSql}),
        s AS (SELECT ${['UserPrincipalName', 'IPAddress', 'AppDisplayName', 'ResultType'].map((c) => `${sil(c)} AS ${q(c)}`).join(', ')}
          FROM ${tab('SigninLogs')} WHERE ${sil('TimeGenerated')} > ${ts(endMs, LOOKBACK_MS)})
        SELECT p."TimeGenerated", p."DeviceName", p."AccountUpn", p."FileName", p."ProcessCommandLine",
          COALESCE(s."IPAddress", ''), COALESCE(s."AppDisplayName", ''), COALESCE(s."ResultType", '')
        FROM p LEFT JOIN s ON p."AccountUpn" = s."UserPrincipalName"`,
      compare: 'rows',
      js: (d) => {
        const since = endMs - LOOKBACK_MS;
        const byUser = new Map();
        for (const r of d.SigninLogs) {
          if (r.TimeGenerated > since) {
            const list = byUser.get(r.UserPrincipalName) ?? [];
            list.push(r);
            byUser.set(r.UserPrincipalName, list);
          }
        }
        const out = [];
        for (const p of suspiciousJs(d, endMs)) {
          const matches = byUser.get(p.AccountUpn);
          if (!matches) out.push({ ...p, IPAddress: '', AppDisplayName: '', ResultType: '' });
          else
            for (const s of matches)
              out.push({ ...p, IPAddress: s.IPAddress, AppDisplayName: s.AppDisplayName, ResultType: s.ResultType });
        }
        return out;
      },
    },
    {
      id: 'dcount-bin',
      title: 'summarize count(), dcount() x2 by bin(Timestamp, 1h), ActionType (last 7d)',
      kql: `DeviceNetworkEvents
| where Timestamp > ago(7d)
| summarize Connections=count(), Devices=dcount(DeviceId), RemoteIPs=dcount(RemoteIP) by bin(Timestamp, 1h), ActionType`,
      // The DuckDB dialect computes dcount exactly (count(DISTINCT)); the hand-written SQL does the same.
      sql: `SELECT date_trunc('hour', ${dne('Timestamp')}) AS "Timestamp", ${dne('ActionType')} AS "ActionType",
          count(*) AS "Connections", count(DISTINCT ${dne('DeviceId')}) AS "Devices", count(DISTINCT ${dne('RemoteIP')}) AS "RemoteIPs"
        FROM ${tab('DeviceNetworkEvents')} WHERE ${dne('Timestamp')} > ${ts(endMs, 7 * 24 * LOOKBACK_MS)}
        GROUP BY 1, 2`,
      compare: 'rows',
      js: (d) => {
        const since = endMs - 7 * 24 * LOOKBACK_MS;
        const groups = new Map();
        for (const r of d.DeviceNetworkEvents) {
          if (!(r.Timestamp > since)) continue;
          const bin = Math.floor(r.Timestamp / LOOKBACK_MS) * LOOKBACK_MS;
          const key = `${bin}|${r.ActionType}`;
          let g = groups.get(key);
          if (!g) {
            g = { bin, action: r.ActionType, n: 0, devices: new Set(), ips: new Set() };
            groups.set(key, g);
          }
          g.n++;
          g.devices.add(r.DeviceId);
          g.ips.add(r.RemoteIP);
        }
        return [...groups.values()].map((g) => [g.bin, g.action, g.n, g.devices.size, g.ips.size]);
      },
    },
    {
      id: 'extract',
      title: 'extract() URL domain, summarize count() by domain | top 20 (all rows)',
      kql: `DeviceProcessEvents
| extend Domain = extract(@"${URL_RE}", 1, ProcessCommandLine)
| where isnotempty(Domain)
| summarize Count=count() by Domain
| top 20 by Count`,
      sql: `SELECT regexp_extract(${dpe('ProcessCommandLine')}, '${URL_RE}', 1) AS "Domain", count(*) AS "Count"
        FROM ${tab('DeviceProcessEvents')} WHERE "Domain" <> '' GROUP BY 1 ORDER BY 2 DESC LIMIT 20`,
      compare: { column: 1, ordered: true },
      js: (d) => {
        const re = new RegExp(URL_RE);
        const counts = new Map();
        for (const r of d.DeviceProcessEvents) {
          const m = re.exec(r.ProcessCommandLine);
          if (m?.[1]) counts.set(m[1], (counts.get(m[1]) ?? 0) + 1);
        }
        return [...counts].sort((a, b) => b[1] - a[1]).slice(0, 20);
      },
    },
  ];
}

function suspiciousJs(d, endMs) {
  const since = endMs - LOOKBACK_MS;
  const watched = new Set(WATCHED);
  const re = new RegExp(TERM_RE, 'i');
  const out = [];
  for (const r of d.DeviceProcessEvents) {
    if (r.TimeGenerated > since && watched.has(r.FileName.toLowerCase()) && re.test(r.ProcessCommandLine)) {
      out.push({
        TimeGenerated: r.TimeGenerated,
        DeviceName: r.DeviceName,
        AccountUpn: r.AccountUpn,
        FileName: r.FileName,
        ProcessCommandLine: r.ProcessCommandLine,
        DeviceId: r.DeviceId,
      });
    }
  }
  return out;
}

/** The columns the JS evaluations read, per table (loaded once as row objects). */
export const JS_COLUMNS = {
  DeviceProcessEvents: [
    'Timestamp',
    'TimeGenerated',
    'DeviceId',
    'DeviceName',
    'FileName',
    'ProcessCommandLine',
    'AccountUpn',
  ],
  DeviceNetworkEvents: ['Timestamp', 'DeviceId', 'ActionType', 'RemoteIP'],
  SigninLogs: ['TimeGenerated', 'UserPrincipalName', 'IPAddress', 'AppDisplayName', 'ResultType'],
};
