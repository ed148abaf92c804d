/**
 * Shared pieces of the detection benchmarks: a detection stack on a workspace folder (engine, state store,
 * ingestion tracker, detection service), DeviceProcessEvents-shaped NDJSON batches (written once, loaded many
 * times: the rows' ingestion time is the time of each load), and rule generators.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { IngestionTracker } from '../../packages/server/dist/detect/ingestion-tracker.js';
import { DetectionService } from '../../packages/server/dist/detect/service.js';
import { openWorkspace, tableDefinitionsFromTablesJson } from '../../packages/server/dist/engine/index.js';
import { SqliteDriver } from '../../packages/server/dist/state/sql-driver.js';

export { args } from '../lib/args.mjs';

const ROOT = new URL('../../', import.meta.url);

export async function definitions() {
  return tableDefinitionsFromTablesJson(
    JSON.parse(await readFile(new URL('content/schema/tables.json', ROOT), 'utf8')),
  );
}

export async function openStack(dir, options = {}) {
  const defs = await definitions();
  // As `vigil serve` opens it (512 MB WAL threshold: loads do not checkpoint, the ingestion writer does when idle).
  const engine = await openWorkspace(dir, {
    threads: 2,
    connections: options.connections ?? 4,
    checkpointThreshold: '512MB',
  });
  const state = new SqliteDriver(join(dir, 'state.sqlite'));
  // The stack's clock is real time, unless a benchmark freezes it (`freeze()`): the scheduler then sees no new
  // window close, e.g. to measure one cycle of every rule's window.
  let frozen = null;
  const clock = () => frozen ?? Date.now();
  const tracker = new IngestionTracker({ clock });
  const service = await DetectionService.open({
    engine,
    definitions: defs,
    state,
    tracker,
    scratchDir: join(dir, 'spool', 'detect'),
    tenantId: 'bench',
    clock,
    log: (m) => process.stderr.write(`  [detect] ${m}\n`),
    ...options.service,
  });
  return {
    defs,
    engine,
    state,
    tracker,
    service,
    freeze(ms) {
      frozen = ms;
    },
    async close() {
      await service.stop();
      await engine.close();
      await state.close();
    },
  };
}

const PROCESSES = [
  ['svchost.exe', 'C:\\Windows\\System32\\svchost.exe -k netsvcs -p -s Schedule'],
  ['chrome.exe', '"C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe" --type=renderer --lang=en-US'],
  ['OUTLOOK.EXE', '"C:\\Program Files\\Microsoft Office\\root\\Office16\\OUTLOOK.EXE" /recycle'],
  [
    'powershell.exe',
    'powershell.exe -NoProfile -ExecutionPolicy Bypass -File C:\\ProgramData\\Microsoft\\Windows Defender\\Scan.ps1',
  ],
  ['cmd.exe', 'cmd.exe /c dir C:\\Users\\Public'],
  ['git.exe', 'git.exe fetch --prune origin'],
  ['code.exe', '"C:\\Users\\dev\\AppData\\Local\\Programs\\Microsoft VS Code\\Code.exe" --reuse-window'],
  [
    'msedge.exe',
    '"C:\\Program Files (x86)\\Microsoft\\Edge\\Application\\msedge.exe" --single-argument https://contoso.sharepoint.com',
  ],
];

/** A DeviceProcessEvents row; `marker` adds a term NRT rules look for. */
export function processRow(i, marker) {
  const [file, cmd] = PROCESSES[i % PROCESSES.length];
  const device = `ws${String(i % 500).padStart(4, '0')}.corp.contoso.com`;
  const ts = new Date().toISOString();
  return {
    Timestamp: ts,
    TimeGenerated: ts,
    DeviceId: `d${(i % 500).toString(16).padStart(8, '0')}`,
    DeviceName: device,
    ActionType: 'ProcessCreated',
    FileName: marker ? 'rundll32.exe' : file,
    FolderPath: `C:\\Windows\\System32\\${file}`,
    SHA1: `5a1f${(i * 2654435761) % 0xffffffff}`,
    ProcessId: 1000 + (i % 50000),
    ProcessCommandLine: marker ? `rundll32.exe C:\\Users\\Public\\${marker}.dll,Start` : cmd,
    AccountDomain: 'CORP',
    AccountName: `user${i % 900}`,
    AccountSid: `S-1-5-21-1004336348-1177238915-682003330-${1000 + (i % 900)}`,
    AccountUpn: `user${i % 900}@contoso.com`,
    InitiatingProcessFileName: 'explorer.exe',
    InitiatingProcessCommandLine: 'C:\\Windows\\explorer.exe',
    InitiatingProcessId: 4000 + (i % 7),
    ReportId: i,
    Type: 'DeviceProcessEvents',
  };
}

/**
 * Writes `files` NDJSON batch files of `rows` rows each; batch k carries `markersPerBatch` marker rows naming the
 * rules `marker(k, j)`. Returns [{path, rows, fields, markers}].
 */
export async function writeBatches(dir, { files, rows, marker, markersPerBatch = 1 }) {
  await mkdir(dir, { recursive: true });
  const out = [];
  for (let k = 0; k < files; k++) {
    const list = [];
    const markers = [];
    for (let j = 0; j < markersPerBatch; j++) {
      const m = marker(k, j);
      if (m) {
        markers.push(m);
        list.push(processRow(k * rows + j, m));
      }
    }
    for (let i = list.length; i < rows; i++) list.push(processRow(k * rows + i));
    const path = join(dir, `batch-${k}.ndjson`);
    await writeFile(path, `${list.map((r) => JSON.stringify(r)).join('\n')}\n`);
    out.push({ path, rows: list.length, fields: Object.keys(list[0]), markers });
  }
  return out;
}

/** Options that let the engine skip sniffing a file it is handed by a writer that produced it. */
export function loadOptions(batch) {
  return { format: 'ndjson', oneRecordPerLine: true, fields: batch.fields, records: batch.rows, checkpoint: false };
}

export function quantile(sorted, q) {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

export const ms = (x) => `${x.toFixed(0)} ms`;
