/**
 * Every data file of fixtures/shared/sample-data/ ingests into its table through the HTTP service (the README there
 * describes each file). The raw Windows event logs (OTRF) are not a Sentinel table: they go to a custom table,
 * one file directly and one through a data collection rule whose transform sets TimeGenerated from TimeCreated.
 * api-shapes/ holds REST response shapes, not rows, and is not ingested.
 */
import { readdir, readFile } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, kql, post, type TestServer, testServer } from './helpers.js';

const SAMPLES = new URL('../../../../fixtures/shared/sample-data/', import.meta.url);
const RAW = 'WindowsRawEvents-Sysmon/';

let t: TestServer;
let base: string;

beforeAll(async () => {
  t = await testServer();
  base = t.server.url;
});

afterAll(async () => {
  await t?.dispose();
});

interface Answer {
  rowsReceived: number;
  rowsIngested: number;
  rowsRejected: number;
  rejected: unknown[];
}

const cases: [endpoint: string, path: string, rows: number][] = [
  ['AuditLogs', 'AuditLogs/otrf-goldensaml-AADAuditEvents.json', 4],
  ['AuditLogs', 'AuditLogs/sentinel-training-AuditLogs_Hunting.csv', 5],
  ['AzureActivity', 'AzureActivity/sentinel-training-azureActivity_adele.csv', 23],
  ['CommonSecurityLog', 'CommonSecurityLog/azure-sentinel-sampledata-CrowdStrikeFalconEndpointProtection.json', 20],
  ['CommonSecurityLog', 'CommonSecurityLog/azure-sentinel-sampledata-Fortigate.json', 2],
  ['CommonSecurityLog', 'CommonSecurityLog/sentinel-training-solarigate_CEFevent.csv', 1],
  // A `union` across Defender tables; CloudAppEvents has its string ReportId and dynamic AdditionalFields.
  ['CloudAppEvents', 'DefenderXDR-union/otrf-goldensaml-Microsoft365DefenderEvents.json', 9],
  ['OfficeActivity', 'OfficeActivity/otrf-goldensaml-OfficeActivityEvents.json', 1],
  ['OfficeActivity', 'OfficeActivity/sentinel-training-office_activity.csv', 266],
  ['OfficeActivity', 'OfficeActivity/sentinel-training-office_activity_inbox_rule.csv', 2],
  ['SecurityAlert', 'SecurityAlert/msticpy-alertlist.csv', 189],
  ['SecurityEvent', 'SecurityEvent/azure-sentinel-sampledata-RiskIQ_scenrio.json', 4],
  ['SecurityEvent', 'SecurityEvent/msticpy-host_logons-4624.csv', 14],
  ['SecurityEvent', 'SecurityEvent/msticpy-processes_on_host-4688.csv', 363],
  ['SecurityEvent', 'SecurityEvent/otrf-goldensaml-WindowsEvents.json', 38],
  ['SigninLogs', 'SigninLogs/sentinel-training-sign-in_adelete.csv', 56],
  ['Syslog', 'Syslog/azure-sentinel-sampledata-CiscoISEEvent.json', 31],
  ['Syslog', 'Syslog/msticpy-syslog_data.csv', 100],
  ['defender', 'streaming-api/eventhub-message-constructed.json', 1],
  ['defender', 'streaming-api/splunk-ta-readme-DeviceProcessEvents-record.json', 1],
  ['DeviceProcessEvents', 'streaming-api/storage-blob-constructed.jsonl', 1],
  ['WindowsRawEvents_CL', `${RAW}otrf-psh_lsass_memory_dump_comsvcs.json`, 184],
  ['dcr', `${RAW}otrf-cmd_psexec_lsa_secrets_dump.json`, 286],
];

describe('every sample-data file ingests through the service', () => {
  it('covers every data file of the folder', async () => {
    const all = (await readdir(SAMPLES, { recursive: true }))
      .map(String)
      .filter((f) => /\.(json|jsonl|csv)$/.test(f) && !f.startsWith('api-shapes'));
    expect(all.sort()).toEqual(cases.map((c) => c[1]).sort());
  });

  beforeAll(async () => {
    // The raw Windows events: one custom table with every field the two files have (EventID a number,
    // ShareLocalPath an object), and a rule that feeds it from a stream of the same columns.
    const fields = new Map<string, string>();
    for (const f of cases.filter((c) => c[1].startsWith(RAW))) {
      for (const line of (await readFile(new URL(f[1], SAMPLES), 'utf8')).split('\n')) {
        if (!line.trim()) continue;
        for (const [k, v] of Object.entries(JSON.parse(line) as Record<string, unknown>)) {
          fields.set(k, typeof v === 'number' ? 'int' : typeof v === 'object' ? 'dynamic' : 'string');
        }
      }
    }
    const columns = [...fields].map(([name, type]) => ({ name, type }));
    const table = await call(base, 'PUT', '/api/tables/WindowsRawEvents_CL', JSON.stringify({ columns }));
    expect(table.status).toBe(200);
    const rule = {
      properties: {
        streamDeclarations: { 'Custom-WindowsRaw': { columns } },
        dataFlows: [
          {
            streams: ['Custom-WindowsRaw'],
            outputStream: 'Custom-WindowsRawEvents_CL',
            transformKql: 'source | extend TimeGenerated = todatetime(TimeCreated)',
          },
        ],
      },
    };
    const put = await call(base, 'PUT', '/dataCollectionRules/windows-raw', JSON.stringify(rule));
    expect(put.status, JSON.stringify(put.json)).toBe(200);
  });

  it.each(cases)('%s ← %s', async (endpoint, path, rows) => {
    const body = await readFile(new URL(path, SAMPLES));
    const type = path.endsWith('.csv') ? 'text/csv' : 'application/json';
    if (endpoint === 'dcr') {
      // The Logs Ingestion API takes a JSON array.
      const array = `[${body.toString('utf8').trim().split('\n').join(',')}]`;
      const r = await post(base, '/dataCollectionRules/windows-raw/streams/Custom-WindowsRaw', array);
      expect(r.status, JSON.stringify(r.json)).toBe(204);
      return;
    }
    const r = await post<Answer & { tables?: Answer[] }>(base, `/api/ingest/${endpoint}`, body, {
      'content-type': type,
    });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect({ received: r.json.rowsReceived, ingested: r.json.rowsIngested, rejected: r.json.rowsRejected }).toEqual({
      received: rows,
      ingested: rows,
      rejected: 0,
    });
  });

  it('holds every row, readable in KQL, with the event times the files give', async () => {
    const count = async (table: string) => (await kql(base, `${table} | summarize n = count()`))[0]?.[0];
    expect(await count('SecurityEvent')).toBe(4 + 14 + 363 + 38);
    expect(await count('DeviceProcessEvents')).toBe(3);
    expect(await count('WindowsRawEvents_CL')).toBe(184 + 286);
    // The transform's TimeGenerated (from TimeCreated) for the rule's rows; arrival time for the others.
    const times = await kql(
      base,
      'WindowsRawEvents_CL | where TimeGenerated < datetime(2021-01-01) | summarize n = count(), min(TimeGenerated)',
    );
    expect(times[0]?.[0]).toBe(286);
    expect(String(times[0]?.[1])).toMatch(/^2020-10-/);
    // Defender rows take their Timestamp as TimeGenerated.
    const dpe = await kql(base, 'DeviceProcessEvents | summarize min(TimeGenerated), max(TimeGenerated)');
    expect(dpe).toEqual([['2021-04-14T18:49:17.7849320Z', '2021-04-14T18:49:17.7849320Z']]);
    expect(await count('IngestionErrors')).toBe(0);
  });
});
