/**
 * Seeded generator of DeviceProcessEvents-shaped NDJSON (Defender advanced-hunting columns as the streaming API
 * sends them, with realistic command lines, hashes and accounts), for the ingestion benchmark.
 * The same seed gives the same bytes. Lines are built from templates (no per-row JSON.stringify of objects).
 *
 *   node bench/ingest/generate.mjs --rows 1000000 --out FILE [--seed 7] [--shape compact|full]
 */
import { createWriteStream } from 'node:fs';
import { parseArgs } from 'node:util';

const COMMANDS = [
  ['svchost.exe', 'C:\\Windows\\System32\\svchost.exe', 'C:\\Windows\\system32\\svchost.exe -k netsvcs -p -s Schedule'],
  [
    'chrome.exe',
    'C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe',
    '"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe" --type=renderer --display-capture-permissions-policy-allowed --lang=en-US --device-scale-factor=1 --num-raster-threads=4 --enable-main-frame-before-activation --renderer-client-id=12 --mojo-platform-channel-handle=4528 /prefetch:1',
  ],
  [
    'powershell.exe',
    'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
    'powershell.exe -ExecutionPolicy AllSigned -NoProfile -NonInteractive -Command "& {$OutputEncoding = [Console]::OutputEncoding =[System.Text.Encoding]::UTF8;$scriptFileStream = [System.IO.File]::Open(\'C:\\ProgramData\\Microsoft\\Windows Defender Advanced Threat Protection\\DataCollection\\8754.9417330.0.9417330-7e05c2a6\\b8c9c3d7.ps1\')}"',
  ],
  [
    'WINWORD.EXE',
    'C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE',
    '"C:\\Program Files\\Microsoft Office\\Root\\Office16\\WINWORD.EXE" /n "C:\\Users\\alice\\Downloads\\Quarterly report.docx" /o ""',
  ],
  ['cmd.exe', 'C:\\Windows\\System32\\cmd.exe', 'cmd.exe /c "whoami /all & ipconfig /all & net user /domain"'],
  [
    'git.exe',
    'C:\\Program Files\\Git\\cmd\\git.exe',
    '"C:\\Program Files\\Git\\cmd\\git.exe" -c core.quotepath=false -c color.ui=false fetch --progress --prune origin',
  ],
  [
    'MsMpEng.exe',
    'C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.2301.6-0\\MsMpEng.exe',
    '"MsMpEng.exe"',
  ],
  [
    'rundll32.exe',
    'C:\\Windows\\System32\\rundll32.exe',
    'rundll32.exe C:\\Windows\\System32\\shell32.dll,SHCreateLocalServerRunDll {9aa46009-3ce0-458a-a354-715610a075e6} -Embedding',
  ],
];
const PARENTS = [
  ['explorer.exe', 'C:\\Windows\\explorer.exe', 'C:\\Windows\\Explorer.EXE'],
  ['services.exe', 'C:\\Windows\\System32\\services.exe', 'C:\\Windows\\system32\\services.exe'],
  [
    'SenseIR.exe',
    'C:\\Program Files\\Windows Defender Advanced Threat Protection\\SenseIR.exe',
    '"SenseIR.exe" "OnlineSenseIR" "8754"',
  ],
];

/** A 32-bit mixing hash (deterministic "randomness" from (i, k)). */
function h(i, k, seed) {
  let x = Math.imul(i ^ (seed * 0x9e3779b1), 0x85ebca6b) ^ Math.imul(k + 1, 0xc2b2ae35);
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}
const hexCache = new Map();
/** Hex digits from (i, k); the inputs repeat (devices, users, files), so results are cached. */
const hex = (i, k, seed, len) => {
  const key = `${i}|${k}|${seed}|${len}`;
  let s = hexCache.get(key);
  if (s === undefined) {
    s = '';
    for (let j = 0; s.length < len; j++)
      s += h(i, k * 31 + j, seed)
        .toString(16)
        .padStart(8, '0');
    s = s.slice(0, len);
    hexCache.set(key, s);
  }
  return s;
};
const esc = (s) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');

/**
 * One NDJSON line (with its newline) for row i; times start at `startMs` and advance 1 ms per row. `compact` keeps
 * the 26 columns hunting queries use most (~1.2 KB per row, the size the issue measured: 1.16 GB per million rows);
 * `full` has every Defender column (~3.2 KB, what the streaming API sends).
 */
export function row(i, seed = 7, startMs = Date.UTC(2026, 0, 1), shape = 'compact') {
  return shape === 'full' ? fullRow(i, seed, startMs) : compactRow(i, seed, startMs);
}

function compactRow(i, seed, startMs) {
  const [file, folder, cmd] = COMMANDS[h(i, 1, seed) % COMMANDS.length];
  const [pfile, pfolder, pcmd] = PARENTS[h(i, 2, seed) % PARENTS.length];
  const dev = h(i, 3, seed) % 500;
  const user = h(i, 4, seed) % 2000;
  const t = new Date(startMs + i).toISOString();
  const created = new Date(startMs + i - (h(i, 5, seed) % 60000)).toISOString();
  return (
    `{"Timestamp":"${t}","DeviceId":"${hex(dev, 6, seed, 40)}","DeviceName":"ws-${dev}.contoso.com",` +
    `"ActionType":"ProcessCreated","FileName":"${file}","FolderPath":"${esc(folder)}",` +
    `"SHA1":"${hex(i % 5000, 7, seed, 40)}","SHA256":"${hex(i % 5000, 8, seed, 64)}",` +
    `"FileSize":${h(i, 10, seed) % 5000000},"ProcessId":${h(i, 11, seed) % 65536},` +
    `"ProcessCommandLine":"${esc(cmd)}","ProcessCreationTime":"${t}","AccountDomain":"contoso",` +
    `"AccountName":"user${user}","AccountSid":"S-1-5-21-1004336348-1177238915-682003330-${1000 + user}",` +
    `"AccountUpn":"user${user}@contoso.com","LogonId":${h(i, 17, seed) % 1000000},` +
    `"InitiatingProcessAccountName":"user${user}","InitiatingProcessFileName":"${pfile}",` +
    `"InitiatingProcessId":${h(i, 23, seed) % 65536},"InitiatingProcessCommandLine":"${esc(pcmd)}",` +
    `"InitiatingProcessCreationTime":"${created}","InitiatingProcessFolderPath":"${esc(pfolder)}",` +
    `"InitiatingProcessParentFileName":"userinit.exe","ReportId":${i},"IsProcessRemoteSession":false}\n`
  );
}

function fullRow(i, seed, startMs) {
  const [file, folder, cmd] = COMMANDS[h(i, 1, seed) % COMMANDS.length];
  const [pfile, pfolder, pcmd] = PARENTS[h(i, 2, seed) % PARENTS.length];
  const dev = h(i, 3, seed) % 500;
  const user = h(i, 4, seed) % 2000;
  const t = new Date(startMs + i).toISOString();
  const created = new Date(startMs + i - (h(i, 5, seed) % 60000)).toISOString();
  return (
    `{"Timestamp":"${t}","DeviceId":"${hex(dev, 6, seed, 40)}","DeviceName":"ws-${dev}.contoso.com",` +
    `"ActionType":"ProcessCreated","FileName":"${file}","FolderPath":"${esc(folder)}",` +
    `"SHA1":"${hex(i % 5000, 7, seed, 40)}","SHA256":"${hex(i % 5000, 8, seed, 64)}","MD5":"${hex(i % 5000, 9, seed, 32)}",` +
    `"FileSize":${h(i, 10, seed) % 5000000},"ProcessVersionInfoCompanyName":"Microsoft Corporation",` +
    `"ProcessVersionInfoProductName":"Microsoft® Windows® Operating System","ProcessVersionInfoProductVersion":"10.0.19041.1",` +
    `"ProcessVersionInfoInternalFileName":"${file}","ProcessVersionInfoOriginalFileName":"${file}",` +
    `"ProcessVersionInfoFileDescription":"${file} host","ProcessId":${h(i, 11, seed) % 65536},` +
    `"ProcessCommandLine":"${esc(cmd)}","ProcessIntegrityLevel":"Medium","ProcessTokenElevation":"TokenElevationTypeDefault",` +
    `"ProcessCreationTime":"${t}","AccountDomain":"contoso","AccountName":"user${user}",` +
    `"AccountSid":"S-1-5-21-1004336348-1177238915-682003330-${1000 + user}","AccountUpn":"user${user}@contoso.com",` +
    `"AccountObjectId":"${hex(user, 12, seed, 8)}-${hex(user, 13, seed, 4)}-4${hex(user, 14, seed, 3)}-a${hex(user, 15, seed, 3)}-${hex(user, 16, seed, 12)}",` +
    `"LogonId":${h(i, 17, seed) % 1000000},"InitiatingProcessAccountDomain":"contoso","InitiatingProcessAccountName":"user${user}",` +
    `"InitiatingProcessAccountSid":"S-1-5-21-1004336348-1177238915-682003330-${1000 + user}",` +
    `"InitiatingProcessAccountUpn":"user${user}@contoso.com","InitiatingProcessAccountObjectId":null,` +
    `"InitiatingProcessLogonId":${h(i, 18, seed) % 1000000},"InitiatingProcessIntegrityLevel":"Medium",` +
    `"InitiatingProcessTokenElevation":"TokenElevationTypeDefault","InitiatingProcessSHA1":"${hex(dev, 19, seed, 40)}",` +
    `"InitiatingProcessSHA256":"${hex(dev, 20, seed, 64)}","InitiatingProcessMD5":"${hex(dev, 21, seed, 32)}",` +
    `"InitiatingProcessFileName":"${pfile}","InitiatingProcessFileSize":${h(i, 22, seed) % 5000000},` +
    `"InitiatingProcessVersionInfoCompanyName":"Microsoft Corporation","InitiatingProcessVersionInfoProductName":"Microsoft® Windows® Operating System",` +
    `"InitiatingProcessVersionInfoProductVersion":"10.0.19041.1","InitiatingProcessVersionInfoInternalFileName":"${pfile}",` +
    `"InitiatingProcessVersionInfoOriginalFileName":"${pfile}","InitiatingProcessVersionInfoFileDescription":"${pfile}",` +
    `"InitiatingProcessId":${h(i, 23, seed) % 65536},"InitiatingProcessCommandLine":"${esc(pcmd)}",` +
    `"InitiatingProcessCreationTime":"${created}","InitiatingProcessFolderPath":"${esc(pfolder)}",` +
    `"InitiatingProcessParentId":${h(i, 24, seed) % 65536},"InitiatingProcessParentFileName":"userinit.exe",` +
    `"InitiatingProcessParentCreationTime":"${created}","InitiatingProcessSignerType":"OsVendor",` +
    `"InitiatingProcessSignatureStatus":"Valid","ReportId":${i},"AppGuardContainerId":"",` +
    `"AdditionalFields":null,"InitiatingProcessSessionId":${h(i, 25, seed) % 8},"IsInitiatingProcessRemoteSession":false,` +
    `"InitiatingProcessRemoteSessionDeviceName":"","InitiatingProcessRemoteSessionIP":"","CreatedProcessSessionId":1,` +
    `"IsProcessRemoteSession":false,"ProcessRemoteSessionDeviceName":"","ProcessRemoteSessionIP":"",` +
    `"ProcessUniqueId":"${h(i, 26, seed)}","InitiatingProcessUniqueId":"${h(i, 27, seed)}"}\n`
  );
}

/** Rows [from, to) as one Buffer of NDJSON. */
export function chunk(from, to, seed = 7, startMs) {
  const parts = [];
  for (let i = from; i < to; i++) parts.push(row(i, seed, startMs));
  return Buffer.from(parts.join(''));
}

export async function writeFile(path, rows, seed = 7) {
  const out = createWriteStream(path);
  const step = 10_000;
  for (let i = 0; i < rows; i += step) {
    if (!out.write(chunk(i, Math.min(rows, i + step), seed))) await new Promise((r) => out.once('drain', r));
  }
  await new Promise((resolve, reject) => out.end((e) => (e ? reject(e) : resolve())));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: { rows: { type: 'string' }, out: { type: 'string' }, seed: { type: 'string' } },
  });
  const t0 = performance.now();
  await writeFile(values.out, Number(values.rows ?? 100000), Number(values.seed ?? 7));
  console.error(`wrote ${values.rows} rows to ${values.out} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}
