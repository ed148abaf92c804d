/**
 * The workspace schema in the shape `@kusto/monaco-kusto` takes (`EngineSchema`): completion, hover and diagnostics
 * in the editor then come from Microsoft's own analyzer over the same tables and columns Vigil compiles against.
 */
import type { Column, TableInfo } from '../api/types.js';

export interface KustoColumn {
  readonly name: string;
  readonly type: string;
  readonly docstring?: string;
}

export interface KustoDatabase {
  readonly name: string;
  readonly tables: readonly {
    readonly name: string;
    readonly columns: readonly KustoColumn[];
    readonly docstring?: string;
  }[];
  readonly functions: readonly {
    readonly name: string;
    readonly body: string;
    readonly inputParameters: readonly { readonly name: string; readonly type?: string; readonly cslType?: string }[];
    readonly docstring?: string;
  }[];
  readonly entityGroups: readonly [];
  readonly majorVersion: number;
  readonly minorVersion: number;
}

export interface KustoEngineSchema {
  readonly clusterType: 'Engine';
  readonly cluster: { readonly connectionString: string; readonly databases: readonly KustoDatabase[] };
  readonly database: KustoDatabase;
}

/** KQL type names as the analyzer spells them (Vigil's API may answer `int`/`long`/... already). */
function kustoType(c: Column): string {
  const t = c.type.toLowerCase();
  return t === 'double' ? 'real' : t === 'boolean' ? 'bool' : t === 'uuid' || t === 'uniqueid' ? 'guid' : t;
}

export function engineSchema(
  workspace: string,
  tables: readonly Pick<TableInfo, 'name' | 'columns'>[],
  functions: KustoDatabase['functions'] = [],
): KustoEngineSchema {
  const database: KustoDatabase = {
    name: workspace,
    tables: [...tables]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((t) => ({ name: t.name, columns: t.columns.map((c) => ({ name: c.name, type: kustoType(c) })) })),
    functions,
    entityGroups: [],
    majorVersion: 1,
    minorVersion: 0,
  };
  return {
    clusterType: 'Engine',
    cluster: { connectionString: `vigil://${workspace}`, databases: [database] },
    database,
  };
}

/** Tables grouped for the schema browser: Defender XDR, Sentinel, custom (`_CL`), by name. */
export function groupTables<T extends { name: string }>(tables: readonly T[], defender: ReadonlySet<string>) {
  const groups: { title: string; tables: T[] }[] = [
    { title: 'Microsoft Defender XDR', tables: [] },
    { title: 'Microsoft Sentinel', tables: [] },
    { title: 'Custom logs', tables: [] },
  ];
  for (const t of [...tables].sort((a, b) => a.name.localeCompare(b.name))) {
    if (t.name.endsWith('_CL')) groups[2]!.tables.push(t);
    else if (defender.has(t.name)) groups[0]!.tables.push(t);
    else groups[1]!.tables.push(t);
  }
  return groups.filter((g) => g.tables.length > 0);
}

/** Advanced hunting tables (Defender XDR), for grouping; everything else from the schema is Sentinel's. */
export const DEFENDER_TABLES: ReadonlySet<string> = new Set([
  'AADSignInEventsBeta',
  'AADSpnSignInEventsBeta',
  'AlertEvidence',
  'AlertInfo',
  'BehaviorEntities',
  'BehaviorInfo',
  'CloudAppEvents',
  'DeviceEvents',
  'DeviceFileCertificateInfo',
  'DeviceFileEvents',
  'DeviceImageLoadEvents',
  'DeviceInfo',
  'DeviceLogonEvents',
  'DeviceNetworkEvents',
  'DeviceNetworkInfo',
  'DeviceProcessEvents',
  'DeviceRegistryEvents',
  'EmailAttachmentInfo',
  'EmailEvents',
  'EmailPostDeliveryEvents',
  'EmailUrlInfo',
  'IdentityDirectoryEvents',
  'IdentityInfo',
  'IdentityLogonEvents',
  'IdentityQueryEvents',
  'UrlClickEvents',
]);
