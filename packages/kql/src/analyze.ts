/**
 * The front end in one call: parse and bind a query against a workspace schema. This is what `vigil kql analyze`,
 * the editor and every later stage start from.
 */
import { Binder } from './binder/binder.js';
import type { SemanticModel } from './binder/semantic-model.js';
import type { Column, Type } from './binder/types.js';
import type { WorkspaceSchema } from './catalog/workspace.js';
import type { Diagnostic } from './diagnostics/diagnostic.js';
import type { QueryRoot } from './syntax/nodes.js';
import { parse } from './syntax/parser.js';

export interface Analysis {
  readonly text: string;
  readonly workspace: WorkspaceSchema;
  readonly root: QueryRoot;
  /** Syntax diagnostics first, then semantic ones, each group in source order. */
  readonly diagnostics: readonly Diagnostic[];
  readonly model: SemanticModel;
  /** The type of the batch's last query expression (null when the batch has none). */
  readonly resultType: Type | null;
  /** The result columns when the result is tabular, else null. */
  readonly columns: readonly Column[] | null;
  /** True when there is no error-severity diagnostic. */
  readonly ok: boolean;
}

export function analyze(text: string, workspace: WorkspaceSchema): Analysis {
  const parsed = parse(text);
  const binder = new Binder(workspace);
  const bound = binder.bindRoot(parsed.root);
  const semantic = [...bound.diagnostics].sort((a, b) => a.start - b.start);
  const diagnostics = [...parsed.diagnostics, ...semantic];
  const rt = bound.resultType;
  return {
    text,
    workspace,
    root: parsed.root,
    diagnostics,
    model: bound.model,
    resultType: rt,
    columns: rt && rt.kind === 'table' ? rt.columns : null,
    ok: !diagnostics.some((d) => d.severity === 'error'),
  };
}
