/**
 * Data collection rules, as the Azure Monitor Logs Ingestion API uses them: a rule declares input streams
 * (`streamDeclarations`: `Custom-<Name>` with columns) and data flows from streams to an output table
 * (`outputStream`: `Custom-<Table>_CL` or `Microsoft-<Table>`) with an optional KQL transform (`transformKql`) that
 * runs over the incoming rows as the table `source`.
 *
 * The transform is compiled by @vigil/kql against a workspace holding only `source` (so it cannot read other
 * tables), and run by the engine over a scratch table of the batch (`LoadOptions.transform`). Its result columns
 * must be columns of the output table with the same types; this is checked when the rule is stored.
 *
 * Rules are stored as JSON files, one per rule, in the workspace's `dcr/` folder.
 */
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { CompiledQuery, ScalarTypeName, StorageNaming, WorkspaceSchema } from '@vigil/kql';
import { compile, duckdb } from '@vigil/kql';
import type { LoadTransform, TableDefinition, TableStorage } from '../engine/engine.js';
import { IngestError } from './errors.js';
import type { TableCatalog } from './tables.js';

export interface StreamFlow {
  readonly stream: string;
  /** The input columns (the stream declaration, or the table's columns for a `Microsoft-<Table>` stream). */
  readonly input: TableDefinition;
  readonly table: string;
  /** KQL over `source`; `source` alone when the rule has none. */
  readonly transformKql: string;
}

export interface DataCollectionRule {
  readonly id: string;
  readonly flows: ReadonlyMap<string, StreamFlow>;
  /** The rule as it was sent (returned by GET). */
  readonly definition: unknown;
}

const RULE_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const TYPES: Readonly<Record<string, ScalarTypeName>> = {
  string: 'string',
  int: 'int',
  long: 'long',
  real: 'real',
  boolean: 'bool',
  bool: 'bool',
  datetime: 'datetime',
  dynamic: 'dynamic',
  guid: 'guid',
  timespan: 'timespan',
  decimal: 'decimal',
};

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const invalid = (message: string, details?: Record<string, unknown>) =>
  new IngestError('invalid_rule', message, details);

/** Parses and checks a rule (Azure's DCR shape, `properties` optional); compiles every transform. */
export function parseRule(id: string, definition: unknown, catalog: TableCatalog): DataCollectionRule {
  if (!RULE_ID.test(id)) throw invalid(`invalid rule id '${id}'`);
  if (!isObject(definition)) throw invalid('a data collection rule is a JSON object');
  const props = isObject(definition.properties) ? definition.properties : definition;
  const declarations = isObject(props.streamDeclarations) ? props.streamDeclarations : {};
  const flows = Array.isArray(props.dataFlows) ? props.dataFlows : undefined;
  if (!flows || flows.length === 0) throw invalid('the rule has no dataFlows');
  const out = new Map<string, StreamFlow>();
  flows.forEach((flow, i) => {
    if (!isObject(flow)) throw invalid(`dataFlows[${i}] is not an object`);
    const streams = flow.streams;
    if (!Array.isArray(streams) || streams.length === 0 || !streams.every((s) => typeof s === 'string')) {
      throw invalid(`dataFlows[${i}].streams must list stream names`);
    }
    for (const stream of streams as string[]) {
      const output = typeof flow.outputStream === 'string' ? flow.outputStream : stream;
      const table = output.replace(/^(Custom|Microsoft)-/, '');
      if (table === output)
        throw invalid(`dataFlows[${i}]: the output stream ${output} must start with Custom- or Microsoft-`);
      const targetColumns = catalog.columns(table);
      if (!targetColumns) {
        throw invalid(
          `dataFlows[${i}]: the output table ${table} does not exist${table.endsWith('_CL') ? ' (create it with PUT /api/tables/{name})' : ''}`,
        );
      }
      const input = streamInput(stream, declarations, catalog);
      const transformKql =
        typeof flow.transformKql === 'string' && flow.transformKql.trim() ? flow.transformKql : 'source';
      // Compile now, so that a broken rule is refused when it is stored rather than when data arrives.
      const compiled = compileTransform(transformKql, input);
      checkOutput(compiled, targetColumns, table, i);
      if (out.has(stream)) throw invalid(`stream ${stream} has two data flows`);
      out.set(stream, { stream, input, table, transformKql });
    }
  });
  return { id, flows: out, definition };
}

function streamInput(stream: string, declarations: Json, catalog: TableCatalog): TableDefinition {
  const declared = declarations[stream];
  if (isObject(declared)) {
    const columns = declared.columns;
    if (!Array.isArray(columns) || columns.length === 0) throw invalid(`stream ${stream} declares no columns`);
    return {
      name: 'source',
      columns: columns.map((c, j) => {
        if (!isObject(c) || typeof c.name !== 'string' || !c.name) {
          throw invalid(`stream ${stream}, column ${j}: a name is required`);
        }
        const type = typeof c.type === 'string' ? TYPES[c.type.toLowerCase()] : undefined;
        if (!type) throw invalid(`stream ${stream}, column ${c.name}: unknown type ${JSON.stringify(c.type)}`);
        return { name: c.name, type };
      }),
    };
  }
  if (stream.startsWith('Microsoft-')) {
    const columns = catalog.columns(stream.slice('Microsoft-'.length));
    if (columns) return { name: 'source', columns };
  }
  throw invalid(`stream ${stream} is not declared in streamDeclarations`);
}

function compileTransform(text: string, input: TableDefinition, storage?: StorageNaming): CompiledQuery {
  const workspace: WorkspaceSchema = { database: 'Vigil', tables: [input], functions: [] };
  const compiled = compile(text, workspace, { dialect: duckdb, ...(storage ? { storage } : {}) });
  if (!compiled.ok || !compiled.sql) {
    const errors = compiled.diagnostics.filter((d) => d.severity === 'error');
    throw invalid(`the transform does not compile: ${errors.map((d) => d.message).join('; ') || 'unknown error'}`, {
      diagnostics: errors.map((d) => ({ code: d.code, message: d.message, start: d.start, length: d.length })),
    });
  }
  return compiled;
}

function checkOutput(
  compiled: CompiledQuery,
  target: readonly { readonly name: string; readonly type: ScalarTypeName }[],
  table: string,
  flow: number,
): void {
  for (const c of compiled.columns) {
    const t = target.find((x) => x.name === c.name);
    if (!t) throw invalid(`dataFlows[${flow}]: the transform returns column ${c.name}, which ${table} does not have`);
    // As Azure coerces a transform's output to the table's types: numbers convert among themselves, and anything
    // converts to a string; other differences are mistakes.
    const numeric = (x: string) => x === 'int' || x === 'long' || x === 'real' || x === 'decimal';
    if (t.type !== c.type && !(numeric(t.type) && numeric(String(c.type))) && t.type !== 'string') {
      throw invalid(
        `dataFlows[${flow}]: the transform returns ${c.name} as ${String(c.type)}; ${table}.${c.name} is ${t.type}`,
      );
    }
  }
}

/** The engine-side transform of a flow: the KQL compiled against the scratch table's storage names. */
export function flowTransform(flow: StreamFlow): LoadTransform {
  return {
    input: flow.input,
    select: (scratch: TableStorage) => {
      const storage: StorageNaming = {
        table: () => scratch.storageName,
        column: (_t, c) => scratch.columns.find((x) => x.name === c)?.storageName ?? c,
      };
      const compiled = compileTransform(flow.transformKql, flow.input, storage);
      return { sql: compiled.sql as string, columns: compiled.columns.map((c) => c.name) };
    },
  };
}

/** The rules of a workspace, kept in memory and in `dir` (one `<id>.json` per rule). */
export class RuleStore {
  private readonly rules = new Map<string, DataCollectionRule>();

  constructor(private readonly dir: string) {}

  /** Loads the stored rules; a rule that no longer compiles is skipped and reported. */
  async load(catalog: TableCatalog, onError: (id: string, e: unknown) => void): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    for (const file of await readdir(this.dir)) {
      if (!file.endsWith('.json')) continue;
      const id = file.slice(0, -'.json'.length);
      try {
        this.rules.set(id, parseRule(id, JSON.parse(await readFile(join(this.dir, file), 'utf8')), catalog));
      } catch (e) {
        onError(id, e);
      }
    }
  }

  async put(rule: DataCollectionRule): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const file = join(this.dir, `${rule.id}.json`);
    await writeFile(`${file}.tmp`, JSON.stringify(rule.definition, null, 2));
    await rename(`${file}.tmp`, file);
    this.rules.set(rule.id, rule);
  }

  get(id: string): DataCollectionRule | undefined {
    return this.rules.get(id);
  }

  list(): DataCollectionRule[] {
    return [...this.rules.values()];
  }

  flow(id: string, stream: string): StreamFlow {
    const rule = this.rules.get(id);
    if (!rule) throw new IngestError('unknown_rule', `unknown data collection rule '${id}'`, { rule: id });
    const flow = rule.flows.get(stream);
    if (!flow) {
      throw new IngestError(
        'unknown_stream',
        `rule ${id} has no stream '${stream}' (streams: ${[...rule.flows.keys()].join(', ')})`,
        { rule: id, stream },
      );
    }
    return flow;
  }
}
