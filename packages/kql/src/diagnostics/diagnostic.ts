/**
 * User-facing problems found in a query. Every stage collects them instead of throwing: only internal invariant
 * violations throw. Offsets are UTF-16 code units (the unit of JS strings and of Monaco).
 */
export type Severity = 'error' | 'warning' | 'suggestion' | 'information';

export interface Diagnostic {
  /** A stable code from `codes.ts`, e.g. `KQL0101`. */
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  readonly start: number;
  readonly length: number;
  /** Optional hints (e.g. "did you mean ..."). */
  readonly hints?: readonly string[];
}

/** A diagnostic sink shared by the lexer, parser and binder of one analysis. */
export class DiagnosticBag {
  readonly items: Diagnostic[] = [];

  add(d: Diagnostic): void {
    this.items.push(d);
  }

  get hasErrors(): boolean {
    return this.items.some((d) => d.severity === 'error');
  }
}
