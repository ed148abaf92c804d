/**
 * Playbook expressions: `${{ ... }}` inside YAML strings read the trigger, earlier steps' outputs, variables and the
 * loop item (`${{ steps.ti.output.found && trigger.incident.severity == 'High' }}`). A string that is exactly one
 * expression yields its typed value; otherwise the expressions are rendered into the text. A small, side-effect
 * free language (no `eval`): literals, paths, `[]` indexing, `! - * / % + < <= > >= == != =~ in && || ?:`, and the
 * functions of `FUNCTIONS`. Missing fields read as null instead of failing, as in GitHub Actions.
 */

export type Expr =
  | { readonly kind: 'literal'; readonly value: unknown }
  | { readonly kind: 'name'; readonly name: string }
  | { readonly kind: 'member'; readonly object: Expr; readonly property: string }
  | { readonly kind: 'index'; readonly object: Expr; readonly index: Expr }
  | { readonly kind: 'call'; readonly name: string; readonly args: readonly Expr[] }
  | { readonly kind: 'array'; readonly items: readonly Expr[] }
  | { readonly kind: 'unary'; readonly op: '!' | '-'; readonly operand: Expr }
  | { readonly kind: 'binary'; readonly op: BinaryOp; readonly left: Expr; readonly right: Expr }
  | { readonly kind: 'conditional'; readonly test: Expr; readonly then: Expr; readonly otherwise: Expr };

type BinaryOp = '||' | '&&' | '==' | '!=' | '=~' | '<' | '<=' | '>' | '>=' | 'in' | '+' | '-' | '*' | '/' | '%';

export class ExpressionError extends Error {
  override readonly name = 'ExpressionError';
  constructor(
    message: string,
    /** Offset in the expression text (parse errors). */
    readonly offset = 0,
  ) {
    super(message);
  }
}

// ───────────────────────────── lexer ─────────────────────────────

interface Token {
  readonly kind: 'num' | 'str' | 'id' | 'op' | 'end';
  readonly text: string;
  readonly value?: unknown;
  readonly pos: number;
}

const OPERATORS = ['&&', '||', '==', '!=', '=~', '<=', '>=', '<', '>', '!', '+', '-', '*', '/', '%', '?', ':'];
const PUNCT = new Set(['.', '[', ']', '(', ')', ',']);

function lex(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (/[0-9]/.test(c)) {
      const m = /^[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(text.slice(i)) as RegExpExecArray;
      out.push({ kind: 'num', text: m[0], value: Number(m[0]), pos: i });
      i += m[0].length;
      continue;
    }
    if (c === "'" || c === '"') {
      let j = i + 1;
      let s = '';
      for (;;) {
        if (j >= text.length) throw new ExpressionError('unterminated string', i);
        const d = text[j] as string;
        if (d === c) {
          // '' inside a single-quoted string is a quote (as in GitHub Actions).
          if (c === "'" && text[j + 1] === "'") {
            s += "'";
            j += 2;
            continue;
          }
          break;
        }
        if (d === '\\' && c === '"') {
          const e = text[j + 1];
          const map: Record<string, string> = { n: '\n', t: '\t', r: '\r', '"': '"', '\\': '\\' };
          if (e === undefined || map[e] === undefined) throw new ExpressionError('unknown escape in string', j);
          s += map[e];
          j += 2;
          continue;
        }
        s += d;
        j++;
      }
      out.push({ kind: 'str', text: text.slice(i, j + 1), value: s, pos: i });
      i = j + 1;
      continue;
    }
    if (/[A-Za-z_]/.test(c)) {
      // Identifiers may contain '-' between word characters (step ids such as `per-ip`); `a - b` is a subtraction.
      const m = /^[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)*/.exec(text.slice(i)) as RegExpExecArray;
      out.push({ kind: 'id', text: m[0], pos: i });
      i += m[0].length;
      continue;
    }
    if (PUNCT.has(c)) {
      out.push({ kind: 'op', text: c, pos: i });
      i++;
      continue;
    }
    const op = OPERATORS.find((o) => text.startsWith(o, i));
    if (!op) throw new ExpressionError(`unexpected character '${c}'`, i);
    out.push({ kind: 'op', text: op, pos: i });
    i += op.length;
  }
  out.push({ kind: 'end', text: '', pos: text.length });
  return out;
}

// ───────────────────────────── parser ─────────────────────────────

const PRECEDENCE: Readonly<Record<string, number>> = {
  '||': 1,
  '&&': 2,
  '==': 3,
  '!=': 3,
  '=~': 3,
  '<': 4,
  '<=': 4,
  '>': 4,
  '>=': 4,
  in: 4,
  '+': 5,
  '-': 5,
  '*': 6,
  '/': 6,
  '%': 6,
};

class Parser {
  private i = 0;
  constructor(private readonly tokens: Token[]) {}

  private peek(): Token {
    return this.tokens[this.i] as Token;
  }
  private next(): Token {
    return this.tokens[this.i++] as Token;
  }
  private expect(text: string): Token {
    const t = this.next();
    if (t.text !== text || t.kind === 'str') throw new ExpressionError(`expected '${text}'`, t.pos);
    return t;
  }

  parse(): Expr {
    const e = this.conditional();
    const t = this.peek();
    if (t.kind !== 'end') throw new ExpressionError(`unexpected '${t.text}'`, t.pos);
    return e;
  }

  private conditional(): Expr {
    const test = this.binary(1);
    if (this.peek().kind === 'op' && this.peek().text === '?') {
      this.next();
      const then = this.conditional();
      this.expect(':');
      const otherwise = this.conditional();
      return { kind: 'conditional', test, then, otherwise };
    }
    return test;
  }

  private binary(min: number): Expr {
    let left = this.unary();
    for (;;) {
      const t = this.peek();
      const op = t.kind === 'op' || (t.kind === 'id' && t.text === 'in') ? t.text : null;
      const prec = op ? PRECEDENCE[op] : undefined;
      if (!op || prec === undefined || prec < min) return left;
      this.next();
      const right = this.binary(prec + 1);
      left = { kind: 'binary', op: op as BinaryOp, left, right };
    }
  }

  private unary(): Expr {
    const t = this.peek();
    if (t.kind === 'op' && (t.text === '!' || t.text === '-')) {
      this.next();
      return { kind: 'unary', op: t.text, operand: this.unary() };
    }
    return this.postfix(this.primary());
  }

  private postfix(e: Expr): Expr {
    for (;;) {
      const t = this.peek();
      if (t.kind === 'op' && t.text === '.') {
        this.next();
        const name = this.next();
        if (name.kind !== 'id') throw new ExpressionError('expected a field name after "."', name.pos);
        e = { kind: 'member', object: e, property: name.text };
      } else if (t.kind === 'op' && t.text === '[') {
        this.next();
        const index = this.conditional();
        this.expect(']');
        e = { kind: 'index', object: e, index };
      } else return e;
    }
  }

  private primary(): Expr {
    const t = this.next();
    if (t.kind === 'num' || t.kind === 'str') return { kind: 'literal', value: t.value };
    if (t.kind === 'id') {
      if (t.text === 'true') return { kind: 'literal', value: true };
      if (t.text === 'false') return { kind: 'literal', value: false };
      if (t.text === 'null') return { kind: 'literal', value: null };
      if (this.peek().kind === 'op' && this.peek().text === '(') {
        this.next();
        const args: Expr[] = [];
        if (!(this.peek().kind === 'op' && this.peek().text === ')')) {
          for (;;) {
            args.push(this.conditional());
            if (this.peek().kind === 'op' && this.peek().text === ',') {
              this.next();
              continue;
            }
            break;
          }
        }
        this.expect(')');
        const fn = FUNCTIONS[t.text];
        if (!fn) throw new ExpressionError(`unknown function '${t.text}'`, t.pos);
        if (args.length < fn.min || args.length > fn.max)
          throw new ExpressionError(
            `${t.text}() takes ${fn.min === fn.max ? fn.min : `${fn.min} to ${fn.max === Infinity ? 'any number of' : fn.max}`} argument${fn.max === 1 ? '' : 's'}`,
            t.pos,
          );
        return { kind: 'call', name: t.text, args };
      }
      return { kind: 'name', name: t.text };
    }
    if (t.kind === 'op' && t.text === '(') {
      const e = this.conditional();
      this.expect(')');
      return e;
    }
    if (t.kind === 'op' && t.text === '[') {
      const items: Expr[] = [];
      if (!(this.peek().kind === 'op' && this.peek().text === ']')) {
        for (;;) {
          items.push(this.conditional());
          if (this.peek().kind === 'op' && this.peek().text === ',') {
            this.next();
            continue;
          }
          break;
        }
      }
      this.expect(']');
      return { kind: 'array', items };
    }
    throw new ExpressionError(t.kind === 'end' ? 'the expression ends too early' : `unexpected '${t.text}'`, t.pos);
  }
}

export function parseExpression(text: string): Expr {
  if (!text.trim()) throw new ExpressionError('empty expression', 0);
  return new Parser(lex(text)).parse();
}

// ───────────────────────────── evaluation ─────────────────────────────

export type Scope = Readonly<Record<string, unknown>>;

export interface EvalContext {
  readonly now: () => number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (isObject(v)) return Object.keys(v).length > 0;
  return Boolean(v);
}

export function toText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v);
}

function equal(a: unknown, b: unknown): boolean {
  if (a === undefined) a = null;
  if (b === undefined) b = null;
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  return JSON.stringify(a) === JSON.stringify(b);
}

function member(object: unknown, key: string | number): unknown {
  if (Array.isArray(object)) {
    if (typeof key === 'number' || /^-?\d+$/.test(String(key))) {
      const n = Number(key);
      return object[n < 0 ? object.length + n : n] ?? null;
    }
    return null;
  }
  if (isObject(object)) {
    const k = String(key);
    return Object.hasOwn(object, k) ? (object[k] ?? null) : null;
  }
  if (typeof object === 'string' && typeof key === 'number') return object[key < 0 ? object.length + key : key] ?? null;
  return null;
}

/** A dotted path (`a.b[0].c`) read from a value; used by pluck/where. */
function readPath(value: unknown, path: string): unknown {
  let v = value;
  for (const part of path.split(/\.|\[(-?\d+)\]/).filter((p) => p !== undefined && p !== '')) {
    v = member(v, /^-?\d+$/.test(part) ? Number(part) : part);
    if (v === null) return null;
  }
  return v;
}

function compare(a: unknown, b: unknown): number | null {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  return null;
}

const lowerText = (v: unknown) => toText(v).toLowerCase();

interface FunctionDef {
  readonly min: number;
  readonly max: number;
  readonly fn: (args: unknown[], ctx: EvalContext, scope: Scope) => unknown;
}

const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === null || v === undefined ? [] : [v]);

/** The functions expressions may call. Case-insensitive text tests, as analysts expect from KQL's `contains`. */
export const FUNCTIONS: Readonly<Record<string, FunctionDef>> = {
  length: {
    min: 1,
    max: 1,
    fn: ([v]) =>
      Array.isArray(v) || typeof v === 'string' ? v.length : isObject(v) ? Object.keys(v).length : v == null ? 0 : 1,
  },
  lower: { min: 1, max: 1, fn: ([v]) => lowerText(v) },
  upper: { min: 1, max: 1, fn: ([v]) => toText(v).toUpperCase() },
  trim: { min: 1, max: 1, fn: ([v]) => toText(v).trim() },
  contains: {
    min: 2,
    max: 2,
    fn: ([a, b]) =>
      Array.isArray(a) ? a.some((x) => lowerText(x) === lowerText(b)) : lowerText(a).includes(lowerText(b)),
  },
  startsWith: { min: 2, max: 2, fn: ([a, b]) => lowerText(a).startsWith(lowerText(b)) },
  endsWith: { min: 2, max: 2, fn: ([a, b]) => lowerText(a).endsWith(lowerText(b)) },
  join: {
    min: 1,
    max: 2,
    fn: ([a, sep]) =>
      list(a)
        .map(toText)
        .join(sep === undefined ? ', ' : toText(sep)),
  },
  split: { min: 2, max: 2, fn: ([s, sep]) => toText(s).split(toText(sep)) },
  replace: { min: 3, max: 3, fn: ([s, a, b]) => toText(s).split(toText(a)).join(toText(b)) },
  json: { min: 1, max: 1, fn: ([v]) => JSON.stringify(v ?? null) },
  fromJson: {
    min: 1,
    max: 1,
    fn: ([v]) => {
      try {
        return JSON.parse(toText(v)) as unknown;
      } catch {
        return null;
      }
    },
  },
  default: { min: 2, max: 2, fn: ([v, d]) => (v === null || v === undefined || v === '' ? d : v) },
  coalesce: {
    min: 1,
    max: Infinity,
    fn: (args) => args.find((v) => v !== null && v !== undefined && v !== '') ?? null,
  },
  first: { min: 1, max: 1, fn: ([v]) => list(v)[0] ?? null },
  last: { min: 1, max: 1, fn: ([v]) => list(v).at(-1) ?? null },
  pluck: { min: 2, max: 2, fn: ([v, path]) => list(v).map((x) => readPath(x, toText(path))) },
  where: {
    min: 3,
    max: 3,
    fn: ([v, path, value]) =>
      list(v).filter((x) => {
        const f = readPath(x, toText(path));
        return typeof f === 'string' && typeof value === 'string'
          ? f.toLowerCase() === value.toLowerCase()
          : equal(f, value);
      }),
  },
  unique: {
    min: 1,
    max: 1,
    fn: ([v]) => {
      const seen = new Set<string>();
      return list(v).filter((x) => {
        const k = JSON.stringify(x);
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      });
    },
  },
  flatten: { min: 1, max: 1, fn: ([v]) => list(v).flatMap((x) => list(x)) },
  concat: {
    min: 1,
    max: Infinity,
    fn: (args) => (args.every(Array.isArray) ? args.flat() : args.map(toText).join('')),
  },
  keys: { min: 1, max: 1, fn: ([v]) => (isObject(v) ? Object.keys(v) : []) },
  string: { min: 1, max: 1, fn: ([v]) => toText(v) },
  number: {
    min: 1,
    max: 1,
    fn: ([v]) => {
      const n = typeof v === 'number' ? v : Number(toText(v).trim() || Number.NaN);
      return Number.isFinite(n) ? n : null;
    },
  },
  round: {
    min: 1,
    max: 2,
    fn: ([v, d]) => {
      const f = 10 ** (typeof d === 'number' ? d : 0);
      return typeof v === 'number' ? Math.round(v * f) / f : null;
    },
  },
  urlEncode: { min: 1, max: 1, fn: ([v]) => encodeURIComponent(toText(v)) },
  now: { min: 0, max: 0, fn: (_a, ctx) => new Date(ctx.now()).toISOString() },
  /** The trigger's entities of a type (`entities('ip')`), or all of them. */
  entities: {
    min: 0,
    max: 1,
    fn: ([type], _ctx, scope) => {
      const all = list(member(scope.trigger, 'entities'));
      return type === undefined ? all : all.filter((e) => lowerText(member(e, 'type')) === lowerText(type));
    },
  },
};

export function evaluate(e: Expr, scope: Scope, ctx: EvalContext): unknown {
  switch (e.kind) {
    case 'literal':
      return e.value;
    case 'name':
      return Object.hasOwn(scope, e.name) ? (scope[e.name] ?? null) : null;
    case 'member':
      return member(evaluate(e.object, scope, ctx), e.property);
    case 'index': {
      const key = evaluate(e.index, scope, ctx);
      return member(evaluate(e.object, scope, ctx), typeof key === 'number' ? key : toText(key));
    }
    case 'array':
      return e.items.map((x) => evaluate(x, scope, ctx));
    case 'call': {
      const fn = FUNCTIONS[e.name] as FunctionDef;
      return fn.fn(
        e.args.map((a) => evaluate(a, scope, ctx)),
        ctx,
        scope,
      );
    }
    case 'unary': {
      const v = evaluate(e.operand, scope, ctx);
      if (e.op === '!') return !truthy(v);
      return typeof v === 'number' ? -v : null;
    }
    case 'conditional':
      return truthy(evaluate(e.test, scope, ctx)) ? evaluate(e.then, scope, ctx) : evaluate(e.otherwise, scope, ctx);
    case 'binary': {
      if (e.op === '&&') {
        const l = evaluate(e.left, scope, ctx);
        return truthy(l) ? evaluate(e.right, scope, ctx) : l;
      }
      if (e.op === '||') {
        const l = evaluate(e.left, scope, ctx);
        return truthy(l) ? l : evaluate(e.right, scope, ctx);
      }
      const l = evaluate(e.left, scope, ctx);
      const r = evaluate(e.right, scope, ctx);
      switch (e.op) {
        case '==':
          return equal(l, r);
        case '!=':
          return !equal(l, r);
        case '=~':
          return lowerText(l) === lowerText(r);
        case '<':
        case '<=':
        case '>':
        case '>=': {
          const c = compare(l, r);
          if (c === null) return false;
          return e.op === '<' ? c < 0 : e.op === '<=' ? c <= 0 : e.op === '>' ? c > 0 : c >= 0;
        }
        case 'in':
          if (Array.isArray(r)) return r.some((x) => equal(x, l));
          if (typeof r === 'string') return r.includes(toText(l));
          if (isObject(r)) return Object.hasOwn(r, toText(l));
          return false;
        case '+':
          if (typeof l === 'number' && typeof r === 'number') return l + r;
          return toText(l) + toText(r);
        case '-':
        case '*':
        case '/':
        case '%': {
          if (typeof l !== 'number' || typeof r !== 'number') return null;
          if ((e.op === '/' || e.op === '%') && r === 0) return null;
          return e.op === '-' ? l - r : e.op === '*' ? l * r : e.op === '/' ? l / r : l % r;
        }
      }
    }
  }
}

/** The root paths an expression reads (`steps.ti.output` → ['steps', 'ti', 'output']), for validation. */
export function referencedPaths(e: Expr): string[][] {
  const out: string[][] = [];
  const chain = (x: Expr): string[] | null => {
    if (x.kind === 'name') return [x.name];
    if (x.kind === 'member') {
      const c = chain(x.object);
      return c ? [...c, x.property] : null;
    }
    if (x.kind === 'index') {
      const c = chain(x.object);
      visit(x.index);
      if (c) return x.index.kind === 'literal' && typeof x.index.value === 'string' ? [...c, x.index.value] : c;
      return null;
    }
    visit(x);
    return null;
  };
  const visit = (x: Expr): void => {
    switch (x.kind) {
      case 'name':
      case 'member':
      case 'index': {
        const c = chain(x);
        if (c) out.push(c);
        return;
      }
      case 'call':
        x.args.forEach(visit);
        return;
      case 'array':
        x.items.forEach(visit);
        return;
      case 'unary':
        visit(x.operand);
        return;
      case 'binary':
        visit(x.left);
        visit(x.right);
        return;
      case 'conditional':
        visit(x.test);
        visit(x.then);
        visit(x.otherwise);
        return;
      case 'literal':
        return;
    }
  };
  visit(e);
  return out;
}

// ───────────────────────────── templates ─────────────────────────────

/** The opening of an expression in a string (kept out of JS string literals, where it reads like a template). */
const OPEN = '$' + '{{';

export type TemplatePart = string | { readonly expr: Expr; readonly text: string; readonly offset: number };

/** Splits a string into text and `${{ }}` expressions (offsets are those of the expression text). */
export function parseTemplate(s: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let i = 0;
  while (i < s.length) {
    const open = s.indexOf(OPEN, i);
    if (open < 0) {
      parts.push(s.slice(i));
      break;
    }
    if (open > i) parts.push(s.slice(i, open));
    // The end is the first `}}` outside a string literal.
    let j = open + 3;
    let quote: string | null = null;
    let close = -1;
    for (; j < s.length; j++) {
      const c = s[j];
      if (quote) {
        if (c === '\\' && quote === '"') j++;
        else if (c === quote) quote = null;
      } else if (c === "'" || c === '"') quote = c;
      else if (c === '}' && s[j + 1] === '}') {
        close = j;
        break;
      }
    }
    if (close < 0) throw new ExpressionError(`'${OPEN}' without its closing '}}'`, open);
    const text = s.slice(open + 3, close);
    try {
      parts.push({ expr: parseExpression(text), text, offset: open + 3 });
    } catch (e) {
      if (e instanceof ExpressionError) throw new ExpressionError(e.message, open + 3 + e.offset);
      throw e;
    }
    i = close + 2;
  }
  return parts;
}

export function hasTemplate(s: string): boolean {
  return s.includes(OPEN);
}

/** Renders one template string: a lone expression keeps its type, mixed text becomes a string. */
export function renderString(s: string, scope: Scope, ctx: EvalContext): unknown {
  if (!hasTemplate(s)) return s;
  const parts = parseTemplate(s);
  if (parts.length === 1 && typeof parts[0] !== 'string')
    return evaluate((parts[0] as { expr: Expr }).expr, scope, ctx);
  let out = '';
  for (const p of parts) out += typeof p === 'string' ? p : toText(evaluate(p.expr, scope, ctx));
  return out;
}

/** Renders every string inside a YAML value (objects and lists recursively). */
export function renderValue(v: unknown, scope: Scope, ctx: EvalContext): unknown {
  if (typeof v === 'string') return renderString(v, scope, ctx);
  if (Array.isArray(v)) return v.map((x) => renderValue(x, scope, ctx));
  if (isObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = renderValue(x, scope, ctx);
    return out;
  }
  return v;
}

/** Evaluates a condition: an expression with or without `${{ }}`, or a boolean. */
export function evaluateCondition(c: unknown, scope: Scope, ctx: EvalContext): boolean {
  if (typeof c === 'boolean') return c;
  const s = toText(c).trim();
  if (hasTemplate(s)) return truthy(renderString(s, scope, ctx));
  return truthy(evaluate(parseExpression(s), scope, ctx));
}
