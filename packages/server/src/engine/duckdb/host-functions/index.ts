/**
 * Host functions: the few KQL functions whose exact results plain SQL cannot give (XML parsing, inflate), written
 * in TypeScript and registered in DuckDB as scalar functions under reserved names (`vigil_<name>`). The DuckDB
 * dialect's templates call them by those names (packages/kql/src/sql/dialects/duckdb/, grep `vigil_`).
 *
 * Rules for a host function: pure (no I/O, no clock, no randomness), deterministic, total (invalid input gives a
 * null or '' result, never an exception: an exception is a bug and fails the query), bounded in time and memory
 * per value, and cheap enough per row (DuckDB calls it once per chunk of up to 2,048 rows, from its worker threads
 * through the Node event loop). KQL text reaches them only as values, never as code.
 */
import {
  BIGINT,
  DOUBLE,
  type DuckDBConnection,
  type DuckDBDataChunk,
  DuckDBScalarFunction,
  type DuckDBType,
  type DuckDBVector,
  VARCHAR,
} from '@duckdb/node-api';
import { gzipDecompressFromBase64, zlibDecompressFromBase64 } from './compression.js';
import { parseXml } from './xml.js';

type HostType = 'varchar' | 'bigint' | 'double';
type HostValue = string | bigint | number | null;

export interface HostFunction {
  /** The SQL name; the `vigil_` prefix keeps it apart from DuckDB's own functions. */
  readonly name: `vigil_${string}`;
  readonly parameters: readonly HostType[];
  readonly returns: HostType;
  /** One value; never called with a null argument (a null argument gives a null result). */
  readonly fn: (...args: never[]) => HostValue;
}

const DUCK_TYPES: Readonly<Record<HostType, DuckDBType>> = { varchar: VARCHAR, bigint: BIGINT, double: DOUBLE };

/** Every host function the DuckDB dialect may call. */
export const HOST_FUNCTIONS: readonly HostFunction[] = [
  { name: 'vigil_parse_xml', parameters: ['varchar'], returns: 'varchar', fn: (x: string) => parseXml(x) },
  {
    name: 'vigil_zlib_decompress_base64',
    parameters: ['varchar'],
    returns: 'varchar',
    fn: (x: string) => zlibDecompressFromBase64(x),
  },
  {
    name: 'vigil_gzip_decompress_base64',
    parameters: ['varchar'],
    returns: 'varchar',
    fn: (x: string) => gzipDecompressFromBase64(x),
  },
];

/** Applies `f` to each row of the chunk (chunk-at-a-time: one call from DuckDB per vector of rows). */
function runChunk(f: HostFunction, input: DuckDBDataChunk, output: DuckDBVector): void {
  const columns = f.parameters.map((_, i) => input.getColumnVector(i));
  const call = f.fn as (...args: HostValue[]) => HostValue;
  const args: HostValue[] = new Array(columns.length);
  for (let row = 0; row < input.rowCount; row++) {
    let isNull = false;
    for (let c = 0; c < columns.length; c++) {
      const v = (columns[c] as DuckDBVector).getItem(row) as HostValue;
      if (v === null) isNull = true;
      args[c] = v;
    }
    (output as DuckDBVector<string | bigint | number>).setItem(row, isNull ? null : (call(...args) as never));
  }
  output.flush();
}

/**
 * Registers every host function in the instance's catalog through `conn`: DuckDB keeps them for every
 * connection of the instance (registered once, at open; the locked configuration does not prevent it).
 */
export function registerHostFunctions(conn: DuckDBConnection, functions = HOST_FUNCTIONS): void {
  for (const f of functions) {
    conn.registerScalarFunction(
      DuckDBScalarFunction.create({
        name: f.name,
        returnType: DUCK_TYPES[f.returns],
        parameterTypes: f.parameters.map((p) => DUCK_TYPES[p]),
        mainFunction: (_info, input, output) => runChunk(f, input, output),
      }),
    );
  }
}
