/** The Kusto language worker of `@kusto/monaco-kusto`, after the global it expects (see worker-globals.ts). */
import './worker-globals.js';
import '@kusto/monaco-kusto/release/esm/kusto.worker.js';
