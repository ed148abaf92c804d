/**
 * YAML (and JSON, its subset) sources with positions: automation rules and playbooks are read from files and API
 * bodies, and every problem is reported as a diagnostic on the field it is about (UTF-16 offsets, 1-based line and
 * column), never as an exception.
 */
import { type Document, isMap, isScalar, LineCounter, type Node, parseDocument } from 'yaml';

export interface AutomationDiagnostic {
  readonly severity: 'error' | 'warning';
  /** Stable code, e.g. `schema.required`, `expression.syntax`, `rule.title-condition`. */
  readonly code: string;
  readonly message: string;
  /** The field, as a path (`steps[2].url`); empty for the whole document. */
  readonly path: string;
  /** UTF-16 offsets in the source text. */
  readonly start: number;
  readonly end: number;
  /** 1-based position of `start`. */
  readonly line: number;
  readonly column: number;
}

export type PathPart = string | number;

export function pathText(path: readonly PathPart[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  return out;
}

/** A parsed document that can say where a field is, and collects diagnostics. */
export class Source {
  readonly diagnostics: AutomationDiagnostic[] = [];
  readonly value: unknown;
  private readonly lines = new LineCounter();
  private readonly doc: Document | null;

  constructor(readonly text: string) {
    let doc: Document | null = null;
    try {
      doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false, uniqueKeys: true });
    } catch {
      doc = null;
    }
    this.doc = doc;
    if (!doc) {
      this.value = null;
      this.report('error', 'yaml.syntax', 'the text is not YAML or JSON', [], 0, text.length);
      return;
    }
    for (const e of doc.errors) {
      this.report('error', 'yaml.syntax', e.message.split('\n')[0] ?? e.message, [], e.pos[0], e.pos[1]);
    }
    this.value = doc.errors.length > 0 ? null : doc.toJS({ maxAliasCount: 50 });
  }

  get ok(): boolean {
    return !this.diagnostics.some((d) => d.severity === 'error');
  }

  /** The range of a field's value, else of its key, else of the nearest parent that exists. */
  range(path: readonly PathPart[]): readonly [number, number] {
    if (!this.doc) return [0, 0];
    for (let n = path.length; n >= 0; n--) {
      const node = this.node(path.slice(0, n));
      if (n < path.length && node && isMap(node)) {
        const last = path[n];
        const pair = node.items.find((p) => isScalar(p.key) && p.key.value === last);
        if (pair && isScalar(pair.key) && pair.key.range) return [pair.key.range[0], pair.key.range[1]];
      }
      if (node?.range) return [node.range[0], node.range[1]];
    }
    return [0, 0];
  }

  /** The source text of a scalar (with its quotes), for positions inside strings. */
  scalarStart(path: readonly PathPart[]): { start: number; raw: string } | null {
    const node = this.node(path);
    if (!node || !isScalar(node) || !node.range) return null;
    return { start: node.range[0], raw: this.text.slice(node.range[0], node.range[1]) };
  }

  private node(path: readonly PathPart[]): Node | null {
    if (!this.doc) return null;
    const n = path.length === 0 ? this.doc.contents : this.doc.getIn(path, true);
    return n && typeof n === 'object' && 'range' in (n as object) ? (n as Node) : null;
  }

  report(
    severity: 'error' | 'warning',
    code: string,
    message: string,
    path: readonly PathPart[],
    start?: number,
    end?: number,
  ): void {
    const [s, e] = start !== undefined ? [start, end ?? start] : this.range(path);
    const pos = this.lines.linePos(s);
    this.diagnostics.push({
      severity,
      code,
      message,
      path: pathText(path),
      start: s,
      end: Math.max(s, e),
      line: pos.line,
      column: pos.col,
    });
  }

  error(code: string, message: string, path: readonly PathPart[]): void {
    this.report('error', code, message, path);
  }

  warn(code: string, message: string, path: readonly PathPart[]): void {
    this.report('warning', code, message, path);
  }
}

/** A diagnostic for a value that came without text (built in code): no positions. */
export function diagnosticAt(
  severity: 'error' | 'warning',
  code: string,
  message: string,
  path: readonly PathPart[],
): AutomationDiagnostic {
  return { severity, code, message, path: pathText(path), start: 0, end: 0, line: 1, column: 1 };
}

/** Thrown by service methods given a definition with errors; carries the diagnostics (the API answers 400). */
export class AutomationError extends Error {
  override readonly name = 'AutomationError';
  constructor(
    readonly code: 'invalid' | 'not_found' | 'conflict' | 'forbidden',
    message: string,
    readonly diagnostics: readonly AutomationDiagnostic[] = [],
  ) {
    super(message);
  }
  get status(): number {
    return this.code === 'not_found' ? 404 : this.code === 'conflict' ? 409 : this.code === 'forbidden' ? 403 : 400;
  }
}
