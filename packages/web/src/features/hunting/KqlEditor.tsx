/**
 * The KQL editor: Monaco in `kusto` mode, Ctrl/Cmd+Enter runs, the server's own compile diagnostics (what Vigil
 * cannot run, with spans) shown as markers next to the analyzer's.
 */
import { forwardRef, useEffect, useImperativeHandle, useRef } from 'react';
import type { QueryDiagnostic } from '../../api/types.js';
import type { KustoEngineSchema } from '../../data/kusto-schema.js';
import { monaco, setSchema } from './monaco-setup.js';

export interface KqlEditorHandle {
  getValue(): string;
  setValue(text: string): void;
  insert(text: string): void;
  focus(): void;
}

let shared: monaco.editor.ITextModel | null = null;

/** The hunting editor's one model, kept across page visits (see the unmount comment below). */
function kqlModel(text: string): monaco.editor.ITextModel {
  if (!shared || shared.isDisposed()) shared = monaco.editor.createModel(text, 'kusto');
  else if (shared.getValue() !== text) shared.setValue(text);
  return shared;
}

export const KqlEditor = forwardRef<
  KqlEditorHandle,
  {
    initial: string;
    schema: KustoEngineSchema | null;
    theme: 'dark' | 'light';
    diagnostics: readonly QueryDiagnostic[];
    onRun: () => void;
    onChange?: (text: string) => void;
  }
>(function KqlEditor({ initial, schema, theme, diagnostics, onRun, onChange }, ref) {
  const host = useRef<HTMLDivElement>(null);
  const editor = useRef<monaco.editor.IStandaloneCodeEditor | null>(null);
  const runRef = useRef(onRun);
  runRef.current = onRun;
  const changeRef = useRef(onChange);
  changeRef.current = onChange;

  // biome-ignore lint/correctness/useExhaustiveDependencies: created once; later props are applied by the effects below
  useEffect(() => {
    if (!host.current) return;
    const model = kqlModel(initial);
    const e = monaco.editor.create(host.current, {
      model,
      theme: theme === 'dark' ? 'kusto-dark' : 'kusto-light',
      minimap: { enabled: false },
      fontSize: 13,
      fontFamily: "'DejaVu Sans Mono', ui-monospace, monospace",
      lineNumbersMinChars: 3,
      scrollBeyondLastLine: false,
      automaticLayout: true,
      fixedOverflowWidgets: true,
      renderLineHighlight: 'line',
      padding: { top: 10 },
      suggest: { showStatusBar: true },
    });
    e.addAction({
      id: 'vigil.run',
      label: 'Run query',
      keybindings: [monaco.KeyMod.CtrlCmd | monaco.KeyCode.Enter, monaco.KeyMod.Shift | monaco.KeyCode.Enter],
      run: () => runRef.current(),
    });
    e.onDidChangeModelContent(() => changeRef.current?.(e.getValue()));
    editor.current = e;
    return () => {
      // The model stays: disposing it while the Kusto worker validates it makes monaco-kusto throw when the
      // diagnostics come back (it looks the model up again and reads its version). The next editor reuses it.
      e.dispose();
    };
  }, []);

  useEffect(() => {
    monaco.editor.setTheme(theme === 'dark' ? 'kusto-dark' : 'kusto-light');
  }, [theme]);

  useEffect(() => {
    const model = editor.current?.getModel();
    if (model && schema) void setSchema(model, schema);
  }, [schema]);

  useEffect(() => {
    const model = editor.current?.getModel();
    if (!model) return;
    monaco.editor.setModelMarkers(
      model,
      'vigil',
      diagnostics.map((d) => {
        const start = model.getPositionAt(d.start);
        const end = model.getPositionAt(d.start + Math.max(1, d.length));
        return {
          severity: d.severity === 'warning' ? monaco.MarkerSeverity.Warning : monaco.MarkerSeverity.Error,
          message: `${d.message} (${d.code})`,
          startLineNumber: start.lineNumber,
          startColumn: start.column,
          endLineNumber: end.lineNumber,
          endColumn: end.column,
        };
      }),
    );
  }, [diagnostics]);

  useImperativeHandle(ref, () => ({
    getValue: () => editor.current?.getValue() ?? '',
    setValue: (t) => editor.current?.setValue(t),
    insert: (t) => {
      const e = editor.current;
      if (!e) return;
      const sel = e.getSelection();
      if (sel) e.executeEdits('schema', [{ range: sel, text: t, forceMoveMarkers: true }]);
      e.focus();
    },
    focus: () => editor.current?.focus(),
  }));

  return <div className="editor-host" ref={host} data-testid="kql-editor" />;
});
