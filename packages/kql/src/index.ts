/**
 * @vigil/kql — Vigil's KQL compiler front end (pure TypeScript, no I/O). See ARCHITECTURE.md for the stages.
 */

export type { Analysis } from './analyze.js';
export { analyze } from './analyze.js';
export type { Column, ScalarTypeName, Type } from './binder/types.js';
export { typeToString } from './binder/types.js';
export type { StoredFunction, TableSchema, WorkspaceSchema } from './catalog/workspace.js';
export { workspaceFromTablesJson } from './catalog/workspace.js';
export type { CompiledProbe, CompiledQuery, CompileOptions } from './compile.js';
export { compile, IDENTITY_STORAGE } from './compile.js';
export { Codes } from './diagnostics/codes.js';
export type { Diagnostic, Severity } from './diagnostics/diagnostic.js';
export type * from './plan/nodes.js';
export type { Dialect } from './sql/dialect.js';
export { clickhouse } from './sql/dialects/clickhouse/index.js';
export { duckdb } from './sql/dialects/duckdb/index.js';
export type { StorageNaming } from './sql/generate.js';
export { probeColumns } from './sql/generate.js';
export type { ParseResult, Token } from './syntax/index.js';
export { parse, printTree, tokenize } from './syntax/index.js';
export type * from './syntax/nodes.js';
