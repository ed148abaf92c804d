/**
 * The engine benchmark's queries (bench/engine/queries.mjs: same KQL, same data) with hand-written ClickHouse SQL:
 * what a ClickHouse user would write for the same answer (the same term-boundary regex for `has_any`, `lower(x) IN`
 * for `in~`, `uniq` for dcount — the ClickHouse dialect compiles dcount to `uniq` too, both approximate like Kusto's).
 */
import { benchQueries } from '../engine/queries.mjs';

const WATCHED = ['powershell.exe', 'pwsh.exe', 'cmd.exe', 'wscript.exe', 'cscript.exe'];
const TERMS = ['-enc', 'DownloadString', 'FromBase64String', 'Invoke-WebRequest'];
const LOOKBACK_MS = 3_600_000;
const URL_RE = 'https?://([A-Za-z0-9.-]+)';

function termRegexSource(terms) {
  const esc = (t) => t.replace(/[\\^$.|?*+()[\]{}]/g, '\\$&');
  const one = (t) =>
    `${/^[0-9A-Za-z]/.test(t) ? '(?:^|[^0-9A-Za-z])' : ''}${esc(t)}${/[0-9A-Za-z]$/.test(t) ? '(?:$|[^0-9A-Za-z])' : ''}`;
  return `(?:${terms.map(one).join('|')})`;
}

/** A ClickHouse string literal (backslashes are escapes there). */
const lit = (s) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** END minus `ms` as a DateTime64(7) literal. */
function ts(endMs, ms) {
  return `toDateTime64('${new Date(endMs - ms).toISOString().replace('T', ' ').replace('Z', '')}', 7, 'UTC')`;
}

export function clickhouseQueries({ col, tab, dpeColumns, endMs }) {
  const dpe = (c) => col('DeviceProcessEvents', c);
  const dne = (c) => col('DeviceNetworkEvents', c);
  const sil = (c) => col('SigninLogs', c);
  const q = (n) => `"${n}"`;
  const suspicious = `SELECT ${['TimeGenerated', 'DeviceName', 'AccountUpn', 'FileName', 'ProcessCommandLine', 'DeviceId'].map((c) => `${dpe(c)} AS ${q(c)}`).join(', ')}
    FROM ${tab('DeviceProcessEvents')}
    WHERE ${dpe('TimeGenerated')} > ${ts(endMs, LOOKBACK_MS)}
      AND lower(${dpe('FileName')}) IN (${WATCHED.map((w) => `'${w}'`).join(', ')})
      AND match(${dpe('ProcessCommandLine')}, ${lit(`(?i)${termRegexSource(TERMS)}`)})`;
  const sql = {
    take10: `SELECT ${dpeColumns.map(dpe).join(', ')} FROM ${tab('DeviceProcessEvents')} LIMIT 10`,
    'top-devices': `SELECT ${dpe('DeviceName')} AS "DeviceName", toInt64(count()) AS "ProcessEvents"
      FROM ${tab('DeviceProcessEvents')} WHERE ${dpe('Timestamp')} > ${ts(endMs, 24 * LOOKBACK_MS)}
      GROUP BY "DeviceName" ORDER BY "ProcessEvents" DESC LIMIT 20`,
    suspicious,
    'join-signins': `WITH p AS (${suspicious}),
      s AS (SELECT ${['UserPrincipalName', 'IPAddress', 'AppDisplayName', 'ResultType'].map((c) => `${sil(c)} AS ${q(c)}`).join(', ')}
        FROM ${tab('SigninLogs')} WHERE ${sil('TimeGenerated')} > ${ts(endMs, LOOKBACK_MS)})
      SELECT p."TimeGenerated", p."DeviceName", p."AccountUpn", p."FileName", p."ProcessCommandLine",
        coalesce(s."IPAddress", ''), coalesce(s."AppDisplayName", ''), coalesce(s."ResultType", '')
      FROM p LEFT JOIN s ON p."AccountUpn" = s."UserPrincipalName"`,
    'dcount-bin': `SELECT toStartOfHour(${dne('Timestamp')}) AS "Timestamp", ${dne('ActionType')} AS "ActionType",
        toInt64(count()) AS "Connections", toInt64(uniq(${dne('DeviceId')})) AS "Devices", toInt64(uniq(${dne('RemoteIP')})) AS "RemoteIPs"
      FROM ${tab('DeviceNetworkEvents')} WHERE ${dne('Timestamp')} > ${ts(endMs, 7 * 24 * LOOKBACK_MS)}
      GROUP BY 1, 2`,
    extract: `SELECT extract(${dpe('ProcessCommandLine')}, ${lit(URL_RE)}) AS "Domain", toInt64(count()) AS "Count"
      FROM ${tab('DeviceProcessEvents')} WHERE "Domain" != '' GROUP BY 1 ORDER BY 2 DESC LIMIT 20`,
  };
  // The KQL, titles and comparisons are the engine benchmark's own.
  return benchQueries({ col, tab, dpeColumns, endMs }).map((x) => ({ ...x, sql: sql[x.id] }));
}
