/** The engine layer: the Engine contract, the DuckDB engine, result encoders and workspace folders. */
export { DuckDBEngine, type DuckDBEngineOptions } from './duckdb/duckdb-engine.js';
export * from './engine.js';
export { EngineError, type EngineErrorCode, isEngineError } from './errors.js';
export { mapSourceFields } from './load/mapping.js';
export * from './output.js';
export { HIDDEN_COLUMNS, StorageNamespace, tableDefinitionsFromTablesJson } from './storage-names.js';
export * from './values.js';
export { openWorkspace, WORKSPACE_LAYOUT, type WorkspaceOptions } from './workspace.js';
