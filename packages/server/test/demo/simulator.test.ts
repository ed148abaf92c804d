/**
 * The simulator: deterministic for a seed however it is advanced, rows that fit the workspace schema exactly, the
 * attack stories' artifacts as STORIES.md lists them, and a background that never looks like them.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ATTACK } from '../../src/demo/simulator/catalog.js';
import { type Row, Simulator, simulate } from '../../src/demo/simulator/index.js';

const START = Date.parse('2026-03-02T09:00:00Z');
const schema = JSON.parse(readFileSync(new URL('../../../../content/schema/tables.json', import.meta.url), 'utf8')) as {
  tables: Record<string, { columns: { name: string; type: string }[] }>;
};
const columns = new Map(
  Object.entries(schema.tables).map(([name, t]) => [name, new Map(t.columns.map((c) => [c.name, c.type]))]),
);

function fits(type: string, v: unknown): boolean {
  if (v === null) return true;
  switch (type) {
    case 'string':
      return typeof v === 'string';
    case 'datetime':
      return typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(v);
    case 'int':
    case 'long':
      return typeof v === 'number' && Number.isInteger(v);
    case 'real':
      return typeof v === 'number';
    case 'bool':
      return typeof v === 'boolean';
    case 'dynamic':
      return true;
    default:
      return false;
  }
}

function all(tables: ReadonlyMap<string, Row[]>, table: string): Row[] {
  return tables.get(table) ?? [];
}

describe('simulator', () => {
  const hour = simulate({ seed: 7, devices: 60, startMs: START, durationMs: 3_600_000 });

  it('is deterministic for a seed, however it is advanced', () => {
    const span = 1_200_000;
    const once = simulate({ seed: 7, devices: 30, startMs: START, durationMs: span });
    const again = simulate({ seed: 7, devices: 30, startMs: START, durationMs: span });
    expect(again.rows).toBe(once.rows);
    for (const [table, rows] of once.tables) expect(JSON.stringify(again.tables.get(table))).toBe(JSON.stringify(rows));

    // The same span in uneven steps: the same rows per table (their order within a table follows the steps).
    const stepped = new Simulator({ seed: 7, devices: 30, startMs: START });
    const byTable = new Map<string, string[]>();
    for (let t = 1234; ; t += 97_531) {
      const b = stepped.advanceTo(Math.min(t, span));
      for (const [table, rows] of b.tables) {
        const list = byTable.get(table) ?? [];
        for (const r of rows) list.push(JSON.stringify(r));
        byTable.set(table, list);
      }
      if (t >= span) break;
    }
    for (const [table, rows] of once.tables)
      expect([...(byTable.get(table) ?? [])].sort()).toEqual(rows.map((r) => JSON.stringify(r)).sort());

    // A salt (the demo's restarts) changes the events' ids, not the company.
    const salted = simulate({ seed: 7, devices: 30, startMs: START, durationMs: 60_000, salt: 'restart' });
    const ids = (b: typeof once) => (b.tables.get('SecurityAlert') ?? []).map((r) => r.SystemAlertId);
    expect(ids(salted).length).toBeGreaterThan(0);
    expect(ids(salted).some((id) => ids(once).includes(id))).toBe(false);
    expect(salted.stories[0]?.victim.upn).toBeTruthy();
    expect(new Simulator({ seed: 7, devices: 30, salt: 'x' }).company).toEqual(
      new Simulator({ seed: 7, devices: 30 }).company,
    );

    const other = simulate({ seed: 8, devices: 30, startMs: START, durationMs: 60_000 });
    expect(JSON.stringify(other.tables.get('DeviceProcessEvents')?.slice(0, 20))).not.toBe(
      JSON.stringify(once.tables.get('DeviceProcessEvents')?.slice(0, 20)),
    );
  });

  it('writes only columns of the workspace schema, with values of their types', () => {
    expect(hour.rows).toBeGreaterThan(20_000);
    for (const [table, rows] of hour.tables) {
      const cols = columns.get(table);
      expect(cols, table).toBeDefined();
      for (const row of rows)
        for (const [k, v] of Object.entries(row)) {
          const type = cols?.get(k);
          if (type === undefined || !fits(type, v)) throw new Error(`${table}.${k} = ${JSON.stringify(v)} (${type})`);
        }
    }
    // Every table the issue names has rows.
    for (const t of [
      'DeviceInfo',
      'DeviceProcessEvents',
      'DeviceNetworkEvents',
      'DeviceFileEvents',
      'DeviceRegistryEvents',
      'DeviceLogonEvents',
      'SigninLogs',
      'EmailEvents',
      'EmailUrlInfo',
      'UrlClickEvents',
      'SecurityEvent',
      'CommonSecurityLog',
      'SecurityAlert',
    ])
      expect(all(hour.tables, t).length, t).toBeGreaterThan(0);
    // An inventory snapshot of every device (workstations and the five servers) each simulated hour.
    expect(new Set(all(hour.tables, 'DeviceInfo').map((r) => r.DeviceName)).size).toBe(65);
    const ids = new Set(all(hour.tables, 'SecurityEvent').map((r) => r.EventID));
    expect([...ids].sort()).toEqual([4624, 4625, 4688]);
  });

  it('stamps simulated time divided by the speed, never after the end of the simulated span', () => {
    const fast = simulate({ seed: 7, devices: 20, startMs: START, speed: 60, durationMs: 3_600_000 });
    let max = 0;
    for (const rows of fast.tables.values())
      for (const r of rows) max = Math.max(max, Date.parse(String(r.Timestamp ?? r.TimeGenerated)));
    expect(max).toBeLessThan(START + 60_000);
    expect(max).toBeGreaterThan(START + 55_000);
    expect(fast.stories.length).toBeGreaterThanOrEqual(12);
  });

  it('stages every step of an attack story, with the artifacts STORIES.md lists', () => {
    expect(hour.stories.map((s) => s.startSimMs)).toEqual(expect.arrayContaining([5_000]));
    expect(hour.stories.length).toBeGreaterThanOrEqual(12);
    const first = hour.stories[0]!;
    const upn = first.victim.upn;
    const dev = first.device.name;
    const proc = all(hour.tables, 'DeviceProcessEvents').filter((r) => r.DeviceName === dev);
    const encoded = proc.find((r) => String(r.ProcessCommandLine).includes(' -Enc '));
    expect(encoded?.InitiatingProcessFileName).toBe('WINWORD.EXE');
    const b64 = String(encoded?.ProcessCommandLine).split(' -Enc ')[1] ?? '';
    expect(Buffer.from(b64, 'base64').toString('utf16le')).toBe(ATTACK.cradle);
    expect(proc.some((r) => String(r.ProcessCommandLine).includes('comsvcs.dll, MiniDump'))).toBe(true);
    expect(proc.some((r) => String(r.ProcessCommandLine).startsWith('PsExec64.exe -accepteula \\\\'))).toBe(true);
    expect(
      all(hour.tables, 'DeviceNetworkEvents').filter((r) => r.DeviceName === dev && r.RemoteIP === ATTACK.c2Ip).length,
    ).toBe(11);
    expect(
      all(hour.tables, 'EmailEvents').some(
        (r) => r.RecipientEmailAddress === upn && r.SenderFromAddress === ATTACK.phishSender,
      ),
    ).toBe(true);
    expect(
      all(hour.tables, 'UrlClickEvents').some(
        (r) => r.AccountUpn === upn && String(r.Url).includes(ATTACK.phishDomain),
      ),
    ).toBe(true);
    expect(
      all(hour.tables, 'DeviceLogonEvents').some(
        (r) =>
          r.DeviceName === first.target.name && r.RemoteIP === first.device.ip && r.AccountName === first.victim.sam,
      ),
    ).toBe(true);
    const signins = all(hour.tables, 'SigninLogs').filter((r) => r.UserPrincipalName === upn);
    const travel = signins.find((r) => r.IPAddress === first.travelIp);
    expect(travel?.RiskLevelDuringSignIn).toBe('high');
    // 90 simulated seconds after the Seattle sign-in.
    const seattle = signins.find((r) => Date.parse(String(r.TimeGenerated)) === START + first.startSimMs);
    expect(Date.parse(String(travel?.TimeGenerated)) - Date.parse(String(seattle?.TimeGenerated))).toBe(90_000);
    // Product alerts: three products, entities in Sentinel's JSON with $id and the victim's host and account.
    const alerts = all(hour.tables, 'SecurityAlert').slice(0, 4);
    expect(alerts.map((a) => a.ProviderName)).toEqual(['OATP', 'MDATP', 'MDATP', 'IPC']);
    const entities = JSON.parse(String(alerts[1]?.Entities)) as { $id: string; Type: string; HostName?: string }[];
    expect(entities.every((e) => /^\d+$/.test(e.$id))).toBe(true);
    expect(entities.find((e) => e.Type === 'host')?.HostName).toBe(first.device.shortName.toLowerCase());
    // Credential dumping rotates through its three variants.
    expect(hour.stories.slice(0, 3).map((s) => s.dumpVariant)).toEqual(['comsvcs', 'procdump', 'lsass-access']);
  });

  it('keeps the background free of the stories’ artifacts', () => {
    const quiet = simulate({ seed: 7, devices: 40, startMs: START, durationMs: 900_000, storyEveryMs: 0 });
    expect(quiet.stories).toHaveLength(0);
    expect(quiet.tables.get('SecurityAlert')).toBeUndefined();
    const text = JSON.stringify([...quiet.tables.values()]).toLowerCase();
    for (const needle of [
      '-enc ',
      'downloadstring',
      'frombase64string',
      'comsvcs',
      'procdump',
      'psexec',
      'lsass.dmp',
      '\\\\currentversion\\\\run',
      ATTACK.c2Ip,
      ATTACK.phishDomain,
      '198.51.100.145',
    ])
      expect(text.includes(needle.toLowerCase()), needle).toBe(false);
    const risky = (quiet.tables.get('SigninLogs') ?? []).filter((r) => r.RiskLevelDuringSignIn !== 'none');
    expect(risky).toHaveLength(0);
  });
});
