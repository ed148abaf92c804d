// The Kusto language service (Bridge.NET output) looks for Node's `global`; a module worker only has `globalThis`.
// Imported first by kusto-worker.ts, so it runs before the service's modules.
(globalThis as { global?: unknown }).global = globalThis;
