/**
 * Monaco with Microsoft's Kusto language service (`@kusto/monaco-kusto`): completion, hover and diagnostics come
 * from the same analyzer Kusto uses, over the workspace schema. Loaded only by the hunting page (its own chunk and
 * two workers), so the queue's first load never pays for it.
 */
import 'monaco-editor/esm/vs/editor/edcore.main.js';
import { getKustoWorker } from '@kusto/monaco-kusto';
import * as monaco from 'monaco-editor/esm/vs/editor/editor.api.js';
import EditorWorker from 'monaco-editor/esm/vs/editor/editor.worker.js?worker';
import type { KustoEngineSchema } from '../../data/kusto-schema.js';
import KustoWorker from './kusto-worker.js?worker';

self.MonacoEnvironment = {
  getWorker(_id, label) {
    return label === 'kusto' ? new KustoWorker() : new EditorWorker();
  },
};

export { monaco };

/** Hands the schema to the Kusto worker serving this model. */
export async function setSchema(model: monaco.editor.ITextModel, schema: KustoEngineSchema): Promise<void> {
  const accessor = await getKustoWorker();
  const worker = await accessor(model.uri);
  // The worker's schema type is the package's own EngineSchema: ours has the same shape.
  await worker.setSchema(schema as unknown as Parameters<typeof worker.setSchema>[0]);
}
