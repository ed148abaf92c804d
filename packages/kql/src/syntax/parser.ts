/**
 * The KQL parser: tokens → the syntax tree of nodes.ts, error tolerant. Hand-written recursive descent that follows
 * Kusto.Language's QueryParser decision by decision (which keywords may be names, where lists end, which operators may
 * start a query), because Vigil's accept/reject verdicts must agree with Microsoft's analyzer. Kusto keeps every token
 * in its tree; here problems become diagnostics, a required piece that is absent becomes a zero-width `Missing` node,
 * and tokens left over at the end are reported once as an incomplete fragment.
 *
 * Recursion is bounded: expressions nested deeper than MAX_DEPTH are skipped with one diagnostic (Kusto switches to
 * a stack-safe parser instead), so no input can overflow the stack.
 */
import { Codes } from '../diagnostics/codes.js';
import type { Diagnostic, Severity } from '../diagnostics/diagnostic.js';
import type { Token, TokenKind } from './lexer.js';
import { isIdentifierKeyword, isKeyword, tokenize } from './lexer.js';
import {
  decodeBool,
  decodeDateTime,
  decodeDecimal,
  decodeGuid,
  decodeInt,
  decodeLong,
  decodeReal,
  decodeStringToken,
  decodeTimespan,
} from './literals.js';
import type * as N from './nodes.js';
import type { ParamInfo } from './tables.js';
import {
  CHART_TYPES,
  DATA_SCOPE_VALUES,
  EXTENDED_IDENTIFIER_KEYWORDS,
  KNOWN_PARAMETER_NAMES,
  PARAMS,
  SCAN_STEP_OUTPUT_VALUES,
  SPECIAL_IDENTIFIER_KEYWORDS,
} from './tables.js';

export interface ParseResult {
  readonly root: N.QueryRoot;
  readonly tokens: readonly Token[];
  readonly diagnostics: readonly Diagnostic[];
}

/** Parses a KQL query or batch. Never throws for any input. */
export function parse(text: string): ParseResult {
  const lexed = tokenize(text);
  const parser = new Parser(text, lexed.tokens);
  const root = parser.parseQuery();
  const diagnostics = [...lexed.diagnostics, ...parser.diagnostics];
  const deep = findTooDeepNode(root);
  if (deep) {
    diagnostics.push({
      code: Codes.TooDeep.code,
      severity: 'error',
      message: `The query is too complex: its syntax tree is more than ${MAX_TREE_HEIGHT} levels deep`,
      start: deep.start,
      length: deep.end - deep.start,
    });
  }
  diagnostics.sort((a, b) => a.start - b.start);
  return { root, tokens: lexed.tokens, diagnostics };
}

/** Maximum nesting of expressions (parentheses, calls, sub-queries) before the rest of a construct is skipped. */
export const MAX_DEPTH = 200;

/**
 * Maximum height of a syntax tree. Long operator chains (`a + a + ... + a`) are parsed by loops but produce deep
 * left-leaning trees; a query whose tree is deeper than this gets a KQL0105 error, so later stages, which walk the
 * tree recursively, may rely on the bound. Real queries stay below 100.
 */
export const MAX_TREE_HEIGHT = 1000;

/** The first node found beyond MAX_TREE_HEIGHT, or null (iterative walk). */
function findTooDeepNode(root: N.Node): N.Node | null {
  const stack: [N.Node, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [N.Node, number];
    if (depth > MAX_TREE_HEIGHT) return node;
    for (const value of Object.values(node)) {
      if (typeof value !== 'object' || value === null) continue;
      if (Array.isArray(value)) {
        for (const item of value) if (isNodeValue(item)) stack.push([item, depth + 1]);
      } else if (isNodeValue(value)) {
        stack.push([value, depth + 1]);
      }
    }
  }
  return null;
}

function isNodeValue(v: unknown): v is N.Node {
  return typeof v === 'object' && v !== null && typeof (v as { kind?: unknown }).kind === 'string';
}

// ───────────────────────────── token classes ─────────────────────────────

const EXTENDED_KEYWORDS: ReadonlySet<string> = new Set(EXTENDED_IDENTIFIER_KEYWORDS);
const SPECIAL_KEYWORDS: ReadonlySet<string> = new Set(SPECIAL_IDENTIFIER_KEYWORDS);

const PARAM_TYPES: ReadonlySet<string> = new Set([
  'bool',
  'boolean',
  'date',
  'datetime',
  'decimal',
  'double',
  'dynamic',
  'guid',
  'int',
  'int64',
  'int8',
  'long',
  'real',
  'string',
  'time',
  'timespan',
  'uniqueid',
]);
const EXTENDED_PARAM_TYPES: ReadonlySet<string> = new Set([
  ...PARAM_TYPES,
  'float',
  'int16',
  'int32',
  'uint',
  'uint16',
  'uint32',
  'uint64',
  'uint8',
  'ulong',
]);

const LITERAL_TOKEN_KINDS: ReadonlySet<TokenKind> = new Set<TokenKind>([
  'LongLiteral',
  'RealLiteral',
  'BooleanLiteral',
  'IntLiteral',
  'DecimalLiteral',
  'TimespanLiteral',
  'DateTimeLiteral',
  'GuidLiteral',
  'RawGuidLiteral',
  'StringLiteral',
]);

/** Tokens that end any comma list (Kusto's ScanCommonListEnd). */
function isCommonListEnd(kind: TokenKind): boolean {
  return kind === ')' || kind === ']' || kind === '}' || kind === '|' || kind === ';' || kind === 'EndOfText';
}

/** String operators, spelled as in nodes.ts (aliases such as `notcontains` and `containscs` normalized). */
const STRING_OPERATORS: Readonly<Partial<Record<TokenKind, N.BinaryOp>>> = {
  '=~': '=~',
  '!~': '!~',
  // `Column:term` in search predicates means `Column has term`
  ':': 'has',
  has: 'has',
  '!has': '!has',
  has_cs: 'has_cs',
  '!has_cs': '!has_cs',
  hasprefix: 'hasprefix',
  '!hasprefix': '!hasprefix',
  hasprefix_cs: 'hasprefix_cs',
  '!hasprefix_cs': '!hasprefix_cs',
  hassuffix: 'hassuffix',
  '!hassuffix': '!hassuffix',
  hassuffix_cs: 'hassuffix_cs',
  '!hassuffix_cs': '!hassuffix_cs',
  like: 'like',
  notlike: '!like',
  likecs: 'like_cs',
  notlikecs: '!like_cs',
  contains: 'contains',
  notcontains: '!contains',
  '!contains': '!contains',
  containscs: 'contains_cs',
  contains_cs: 'contains_cs',
  notcontainscs: '!contains_cs',
  '!contains_cs': '!contains_cs',
  startswith: 'startswith',
  '!startswith': '!startswith',
  startswith_cs: 'startswith_cs',
  '!startswith_cs': '!startswith_cs',
  endswith: 'endswith',
  '!endswith': '!endswith',
  endswith_cs: 'endswith_cs',
  '!endswith_cs': '!endswith_cs',
  'matches regex': 'matches regex',
};

const IN_OPERATORS: Readonly<Partial<Record<TokenKind, N.InOp>>> = {
  in: 'in',
  'in~': 'in~',
  '!in': '!in',
  '!in~': '!in~',
  has_any: 'has_any',
  has_all: 'has_all',
};

/** Tokens after which a keyword was evidently meant as a name (`print first, x`): Kusto's IsKeywordInNamePosition. */
const NAME_POSITION_FOLLOWERS: ReadonlySet<TokenKind> = new Set<TokenKind>([
  'and',
  'or',
  '==',
  '!=',
  '=~',
  '!~',
  '>',
  '>=',
  '<',
  '<=',
  '*',
  '/',
  '%',
  ...(Object.keys(STRING_OPERATORS) as TokenKind[]).filter((k) => k !== ':' && k !== '=~' && k !== '!~'),
  'in',
  'in~',
  '!in',
  '!in~',
  'has_any',
  'has_all',
  'between',
  '!between',
  ')',
  ']',
  '}',
  '.',
  ',',
  ':',
  '|',
]);

// ───────────────────────────── query operator parameters ─────────────────────────────

type ParamMap = ReadonlyMap<string, ParamInfo>;

function paramMap(params: readonly ParamInfo[]): ParamMap {
  const map = new Map<string, ParamInfo>();
  for (const p of params) {
    map.set(p.name, p);
    for (const a of p.aliases ?? []) map.set(a, p);
  }
  return map;
}

const DEFAULT_PARAMS = paramMap(PARAMS.AllParameters);
const KNOWN_PARAM_NAMES: ReadonlySet<string> = new Set([...DEFAULT_PARAMS.keys(), ...KNOWN_PARAMETER_NAMES]);
/** Known names such as `hint.pass_filters` that lex as several tokens. */
const MULTI_TOKEN_PARAM_NAMES: readonly string[] = [...KNOWN_PARAM_NAMES].filter(
  (n) => !isKeyword(n as TokenKind) && !/^[A-Za-z_$][A-Za-z0-9_]*$/.test(n),
);
const P = {
  as: paramMap(PARAMS.AsParameters),
  consume: paramMap(PARAMS.ConsumeParameters),
  dataTable: paramMap(PARAMS.DataTableParameters),
  distinct: paramMap(PARAMS.DistinctParameters),
  evaluate: paramMap(PARAMS.EvaluateParameters),
  filter: paramMap(PARAMS.FilterParameters),
  find: paramMap(PARAMS.FindParameters),
  graphMatch: paramMap(PARAMS.GraphMatchParameters),
  graphShortestPaths: paramMap(PARAMS.GraphShortestPathsParameters),
  join: paramMap(PARAMS.JoinParameters),
  graphMarkComponents: paramMap(PARAMS.GraphMarkComponentsParameters),
  lookup: paramMap(PARAMS.LookupParameters),
  makeSeries: paramMap(PARAMS.MakeSeriesParameters),
  mvApply: paramMap(PARAMS.MvApplyParameters),
  mvExpand: paramMap(PARAMS.MvExpandParameters),
  parse: paramMap(PARAMS.ParseParameters),
  partitionBy: paramMap(PARAMS.PartitionByParameters),
  partition: paramMap(PARAMS.PartitionParameters),
  reduceWith: paramMap(PARAMS.ReduceWithParameters),
  graphToTableEdges: paramMap(PARAMS.GraphToTableEdgesParameters),
  graphToTableNodes: paramMap(PARAMS.GraphToTableNodesParameters),
  graphMake: paramMap(PARAMS.GraphMakeParameters),
  sample: paramMap(PARAMS.SampleParameters),
  sampleDistinct: paramMap(PARAMS.SampleDistinctParameters),
  scan: paramMap(PARAMS.ScanParameters),
  search: paramMap(PARAMS.SearchParameters),
  serialize: paramMap(PARAMS.SerializedParameters),
  sort: paramMap(PARAMS.SortParameters),
  summarize: paramMap(PARAMS.SummarizeParameters),
  take: paramMap(PARAMS.TakeParameters),
  top: paramMap(PARAMS.TopParameters),
  union: paramMap(PARAMS.UnionParameters),
  renderWith: paramMap(PARAMS.RenderWithProperties),
  parseKvWith: paramMap(PARAMS.ParseKvWithProperties),
};

/** Which parameter names an operator accepts before its arguments (Kusto's AllowedNameKind). */
type NamesAllowed = 'declaredOrKnown' | 'knownOnly' | 'declaredOnly';

// ───────────────────────────── the parser ─────────────────────────────

class Parser {
  readonly diagnostics: Diagnostic[] = [];
  private pos = 0;
  private depth = 0;
  private tooDeepReported = false;
  private readonly eof: Token;
  /** Shapes of the graph patterns parsed so far, by pattern call (see parseGraphPattern). */
  private readonly patternShapes = new Map<N.Expr, N.GraphPatternElement[]>();

  // query operator parameter context (saved and restored around parameter lists)
  private opParams: ParamMap | null = null;
  private namesAllowed: NamesAllowed = 'declaredOrKnown';
  private equalsNeeded = false;

  constructor(
    private readonly text: string,
    private readonly toks: readonly Token[],
  ) {
    this.eof = toks[toks.length - 1] as Token;
  }

  // ── tokens ──

  private peek(offset = 0): Token {
    return this.toks[this.pos + offset] ?? this.eof;
  }

  private k(offset = 0): TokenKind {
    return (this.toks[this.pos + offset] ?? this.eof).kind;
  }

  private advance(): Token {
    const t = this.peek();
    if (t.kind !== 'EndOfText') this.pos++;
    return t;
  }

  private accept(kind: TokenKind): Token | null {
    return this.k() === kind ? this.advance() : null;
  }

  /** End offset of the last consumed token: where a missing piece is reported, as Kusto does. */
  private prevEnd(): number {
    return this.pos > 0 ? (this.toks[this.pos - 1] as Token).end : 0;
  }

  /** Span from the first token consumed since `startPos` to the last one; zero width if nothing was consumed. */
  private span(startPos: number): N.Span {
    if (this.pos > startPos) return { start: (this.toks[startPos] as Token).start, end: this.prevEnd() };
    const at = this.prevEnd();
    return { start: at, end: at };
  }

  /** Reset point: token position and diagnostic count, for look-ahead alternatives. */
  private mark(): [number, number] {
    return [this.pos, this.diagnostics.length];
  }

  private reset([pos, ndiags]: [number, number]): void {
    this.pos = pos;
    this.diagnostics.length = ndiags;
  }

  // ── diagnostics ──

  private report(code: string, message: string, start: number, length: number, severity: Severity = 'error'): void {
    this.diagnostics.push({ code, severity, message, start, length });
  }

  private expected(what: string): void {
    const { start, length } = this.missingTokenLocation();
    this.report(Codes.Expected.code, `Expected: ${what}`, start, length);
  }

  /**
   * Where Kusto reports a missing token: on the next token when at most one whitespace character separates it from
   * the previous one, otherwise at the end of the previous token.
   */
  private missingTokenLocation(): { start: number; length: number } {
    const next = this.peek();
    if (next.trivia.length <= 1 && this.pos > 0) return { start: next.start, length: next.end - next.start };
    return { start: this.prevEnd(), length: 0 };
  }

  /** Consumes a required token, or reports it missing. */
  private expect(kind: TokenKind): boolean {
    if (this.k() === kind) {
      this.advance();
      return true;
    }
    this.expected(kind);
    return false;
  }

  private missing(message = 'Missing expression', code: string = Codes.MissingExpression.code): N.Missing {
    const at = this.prevEnd();
    this.report(code, message, at, 0);
    return { kind: 'Missing', start: at, end: at };
  }

  /** A missing expression; when a keyword follows, say it needs brackets to be a name (as Kusto does). */
  private missingExpr(): N.Missing {
    const t = this.peek();
    if (isKeyword(t.kind)) {
      return this.missing(
        `Missing expression: if the keyword '${t.text}' is meant as a name it needs to be bracketed as ['${t.text}']`,
      );
    }
    return this.missing();
  }

  private missingName(): N.Name {
    const at = this.prevEnd();
    this.report(Codes.Expected.code, 'Missing name', at, 0);
    return { kind: 'Name', name: '', bracketed: false, start: at, end: at };
  }

  // ── entry ──

  parseQuery(): N.QueryRoot {
    while (this.k() === 'Directive') this.advance(); // client directives such as `#connect` lead a batch
    if (this.k() === '.') {
      // Kusto parses `.show tables` and friends with a separate command grammar; Vigil runs queries only
      const t = this.peek();
      this.report(
        Codes.Unsupported.code,
        'Management commands (starting with a dot) are not supported',
        t.start,
        this.text.length - t.start,
      );
      this.pos = this.toks.length - 1;
      return { kind: 'Query', statements: [], start: 0, end: this.text.length };
    }
    const statements = this.parseStatementList();
    if (this.k() !== 'EndOfText') {
      const t = this.peek();
      this.report(Codes.IncompleteFragment.code, 'The incomplete fragment is unexpected', t.start, t.end - t.start);
      this.pos = this.toks.length - 1;
    }
    return { kind: 'Query', statements, start: 0, end: this.text.length };
  }

  private parseStatementList(): N.Statement[] {
    const list: N.Statement[] = [];
    let statement = this.parseQueryBlockStatement();
    while (statement) {
      list.push(statement);
      if (this.accept(';')) {
        statement = this.parseQueryBlockStatement();
        continue;
      }
      const before = this.diagnostics.length;
      const at = this.missingTokenLocation();
      const next = this.parseQueryBlockStatement();
      if (next) this.diagnostics.splice(before, 0, missingDiag(';', at));
      statement = next;
    }
    return list;
  }

  private parseQueryBlockStatement(): N.Statement | null {
    if (this.scanPossibleStatement()) {
      switch (this.k()) {
        case 'alias':
          return this.parseAliasStatement();
        case 'let':
          return this.parseLetStatement();
        case 'set':
          return this.parseSetStatement();
        case 'declare':
          return this.k(1) === 'pattern' ? this.parsePatternStatement() : this.parseQueryParametersStatement();
        case 'restrict':
          return this.parseRestrictStatement();
      }
    }
    const startPos = this.pos;
    const expr = this.parseExpression();
    return expr ? { kind: 'ExprStatement', expr, ...this.span(startPos) } : null;
  }

  private scanPossibleStatement(): boolean {
    switch (this.k()) {
      case 'alias':
        return this.k(1) === 'database';
      case 'let':
        return this.scanName(1) > 0;
      case 'declare':
        return this.k(1) === 'pattern' || this.k(1) === 'query_parameters';
      case 'restrict':
        return this.k(1) === 'access';
      case 'set':
        return true;
      default:
        return false;
    }
  }

  // ── lists ──

  /**
   * Kusto's comma list: elements separated by commas. With an end test, a missing comma between two elements is
   * reported and parsing continues; without one, the list ends at the first element not followed by a comma.
   */
  private commaList<T>(
    element: () => T | null,
    createMissing: (() => T) | null,
    scanEnd: (() => boolean) | null,
    oneOrMore = false,
    allowTrailingComma = false,
  ): T[] {
    const list: T[] = [];
    let item: T | null = scanEnd === null || !scanEnd() ? element() : null;
    if (item === null && this.k() === ',' && createMissing) item = createMissing();
    while (item !== null) {
      const kind = this.k();
      if (kind === 'EndOfText' || scanEnd?.()) {
        list.push(item);
        break;
      }
      if (kind === ',') {
        this.advance();
        list.push(item);
        item = scanEnd === null || !scanEnd() ? element() : null;
        if (item !== null) continue;
        if (!allowTrailingComma && createMissing) list.push(createMissing());
        break;
      }
      if (scanEnd !== null) {
        const at = this.missingTokenLocation();
        const before = this.diagnostics.length;
        const posBefore = this.pos;
        const next = element();
        if (next !== null) this.diagnostics.splice(before, 0, missingDiag(',', at));
        list.push(item);
        item = next;
        if (this.pos === posBefore) {
          if (item !== null) list.push(item);
          break;
        }
        continue;
      }
      list.push(item);
      break;
    }
    if (oneOrMore && list.length === 0 && createMissing) list.push(createMissing());
    return list;
  }

  private list<T>(element: () => T | null, scanEnd: (() => boolean) | null = null): T[] {
    const out: T[] = [];
    while (scanEnd === null || !scanEnd()) {
      const start = this.pos;
      const item = element();
      if (item === null) break;
      out.push(item);
      if (this.pos === start) break; // an element that consumed nothing would repeat forever
    }
    return out;
  }

  private readonly commonEnd = (): boolean => isCommonListEnd(this.k());

  private customEnd(...kinds: TokenKind[]): () => boolean {
    return () => kinds.includes(this.k()) || isCommonListEnd(this.k());
  }

  // ── names ──

  private isIdentifierOrKeywordAsIdentifier(offset = 0): boolean {
    const kind = this.k(offset);
    return kind === 'Identifier' || isIdentifierKeyword(kind);
  }

  private isExtendedKeyword(offset = 0): boolean {
    return EXTENDED_KEYWORDS.has(this.k(offset));
  }

  private scanName(offset = 0): number {
    switch (this.k(offset)) {
      case 'Identifier':
        return 1;
      case '[':
        return this.scanBracketedName(offset);
      case '{':
        return this.isIdentifierOrKeywordAsIdentifier(offset + 1) && this.k(offset + 2) === '}' ? 3 : -1;
      default:
        return this.isIdentifierOrKeywordAsIdentifier(offset) ? 1 : -1;
    }
  }

  private scanExtendedName(offset = 0): number {
    const len = this.scanName(offset);
    if (len >= 0) return len;
    return this.isExtendedKeyword(offset) ? 1 : -1;
  }

  private scanBracketedName(offset = 0): number {
    if (this.k(offset) !== '[') return -1;
    let n = 0;
    while (this.k(offset + 1 + n) === 'StringLiteral') n++;
    return n > 0 && this.k(offset + 1 + n) === ']' ? n + 2 : -1;
  }

  /** `{name}` or `{name[0]}` client parameters: all parts adjacent. */
  private scanBracedName(offset = 0): number {
    let p = offset;
    if (this.k(p) !== '{') return -1;
    p++;
    let t = this.peek(p);
    if ((t.kind !== 'Identifier' && !isKeyword(t.kind)) || t.trivia.length > 0) return -1;
    p++;
    t = this.peek(p);
    if (t.kind === '[' && t.trivia.length === 0) {
      p++;
      if (this.k(p) === '-' && this.peek(p).trivia.length === 0) p++;
      t = this.peek(p);
      if (t.kind !== 'LongLiteral' || t.trivia.length > 0) return -1;
      p++;
      t = this.peek(p);
      if (t.kind !== ']' || t.trivia.length > 0) return -1;
      p++;
    }
    t = this.peek(p);
    if (t.kind !== '}' || t.trivia.length > 0) return -1;
    return p + 1 - offset;
  }

  private tokenName(t: Token): N.Name {
    return { kind: 'Name', name: t.text, bracketed: false, start: t.start, end: t.end };
  }

  private parseIdentifierName(): N.Name | null {
    return this.isIdentifierOrKeywordAsIdentifier() ? this.tokenName(this.advance()) : null;
  }

  private parseBracketedName(): N.Name | null {
    if (this.scanBracketedName() < 0) return null;
    const open = this.advance();
    let name = '';
    while (this.k() === 'StringLiteral') name += decodeStringToken(this.advance().text);
    this.expect(']');
    return { kind: 'Name', name, bracketed: true, start: open.start, end: this.prevEnd() };
  }

  private parseBracedName(): N.Name | null {
    const len = this.scanBracedName();
    if (len <= 2) return null;
    const open = this.advance();
    let name = '';
    for (let i = 1; i < len - 1; i++) name += this.advance().text;
    this.advance();
    return { kind: 'Name', name: `{${name}}`, bracketed: false, start: open.start, end: this.prevEnd() };
  }

  private parseName(): N.Name | null {
    switch (this.k()) {
      case '[':
        return this.parseBracketedName();
      case '{':
        return this.parseBracedName();
      default:
        return this.parseIdentifierName();
    }
  }

  private parseExtendedName(): N.Name | null {
    switch (this.k()) {
      case '[':
        return this.parseBracketedName();
      case '{':
        return this.parseBracedName();
      default:
        return this.parseIdentifierName() ?? (this.isExtendedKeyword() ? this.tokenName(this.advance()) : null);
    }
  }

  /** Names in `name = expr` positions: identifiers, bracketed names and the extended keywords. */
  private scanRenameName(offset = 0): number {
    switch (this.k(offset)) {
      case 'Identifier':
        return 1;
      case '[':
        return this.scanBracketedName(offset);
      case '{':
        return this.isIdentifierOrKeywordAsIdentifier(offset + 1) && this.k(offset + 2) === '}' ? 3 : -1;
      default:
        return this.isExtendedKeyword(offset) ? 1 : -1;
    }
  }

  private scanRenameList(offset = 0): number {
    if (this.k(offset) !== '(') return -1;
    const start = offset;
    offset++;
    while (!isCommonListEnd(this.k(offset))) {
      const len = this.scanRenameName(offset);
      if (len <= 0) return -1;
      offset += len;
      if (this.k(offset) !== ',') break;
      offset++;
    }
    return this.k(offset) === ')' ? offset + 1 - start : -1;
  }

  /** `a-b`, or a reserved keyword, used as a name: only legal bracketed (`['a-b']`). */
  private scanDashedName(offset = 0): number {
    let p = offset;
    const first = this.peek(p);
    if (first.kind !== 'Identifier' && !isKeyword(first.kind)) return 0;
    p++;
    for (;;) {
      const t = this.peek(p);
      if (t.trivia.length > 0 || (t.kind !== 'Identifier' && !isKeyword(t.kind) && t.kind !== '-')) break;
      if (t.kind === 'EndOfText') break;
      p++;
    }
    return p - offset;
  }

  /** A keyword in a position where only a name makes sense (`print first, x`): a name with a diagnostic. */
  private parseInvalidKeywordAsName(): N.Name | null {
    const t = this.peek();
    if (!isKeyword(t.kind) || !NAME_POSITION_FOLLOWERS.has(this.k(1))) return null;
    this.advance();
    this.report(
      Codes.KeywordAsName.code,
      `The name '${t.text}' needs to be bracketed as ['${t.text}'] to be used in this context`,
      t.start,
      t.end - t.start,
    );
    return this.tokenName(t);
  }

  private scanWildcardedName(offset = 0): number {
    const start = offset;
    const t = this.peek(offset);
    if (t.kind === '*') {
      offset++;
    } else if (
      (t.kind === 'Identifier' || this.isExtendedKeyword(offset)) &&
      this.k(offset + 1) === '*' &&
      this.peek(offset + 1).trivia.length === 0
    ) {
      offset += 2;
    } else {
      return -1;
    }
    for (;;) {
      const n = this.peek(offset);
      if (n.trivia.length > 0) break;
      if (n.kind === 'Identifier' || n.kind === 'LongLiteral' || n.kind === '*' || this.isExtendedKeyword(offset)) {
        offset++;
      } else {
        break;
      }
    }
    return offset - start;
  }

  private parseWildcard(): N.Wildcard | null {
    const len = this.scanWildcardedName();
    if (len <= 0) return null;
    const first = this.peek();
    let pattern = '';
    for (let i = 0; i < len; i++) pattern += this.advance().text;
    return { kind: 'Wildcard', pattern, start: first.start, end: this.prevEnd() };
  }

  /** `[T*]` */
  private parseBracketedWildcard(): N.Wildcard | null {
    if (this.k() !== '[' || this.scanWildcardedName(1) <= 0) return null;
    const open = this.advance();
    const w = this.parseWildcard() as N.Wildcard;
    this.expect(']');
    return { kind: 'Wildcard', pattern: w.pattern, start: open.start, end: this.prevEnd() };
  }

  // ── literals ──

  private literalFromToken(t: Token, text: string, start: number): N.Literal {
    const end = t.end;
    switch (t.kind) {
      case 'BooleanLiteral':
        return this.typedLiteral('bool', text, start, end, decodeBool(text));
      case 'LongLiteral':
        return this.typedLiteral('long', text, start, end, decodeLong(text));
      case 'IntLiteral':
        return this.typedLiteral('int', text, start, end, decodeInt(text));
      case 'RealLiteral':
        return this.typedLiteral('real', text, start, end, decodeReal(text));
      case 'DecimalLiteral':
        return this.typedLiteral('decimal', text, start, end, decodeDecimal(text));
      case 'DateTimeLiteral':
        return this.typedLiteral('datetime', text, start, end, decodeDateTime(text));
      case 'TimespanLiteral':
        return this.typedLiteral('timespan', text, start, end, decodeTimespan(text));
      case 'GuidLiteral':
        return this.typedLiteral('guid', text, start, end, decodeGuid(text));
      case 'RawGuidLiteral':
        this.report(
          Codes.RawGuidNotAllowed.code,
          'Raw guid literals are not allowed in this context, use guid(...) instead',
          start,
          end - start,
        );
        return this.typedLiteral('guid', text, start, end, decodeGuid(`guid(${text})`));
      default:
        return { kind: 'Literal', type: 'string', value: decodeStringToken(text), text, start, end };
    }
  }

  private typedLiteral<V>(type: N.LiteralType, text: string, start: number, end: number, value: V | null | undefined) {
    if (value === undefined) {
      // Kusto.Language accepts any literal text; the engine would reject it when the query runs.
      this.report(
        Codes.InvalidLiteral.code,
        `The ${type} literal '${text}' cannot be interpreted`,
        start,
        end - start,
        'warning',
      );
    }
    const lit: N.Literal = {
      kind: 'Literal',
      type,
      value: (value ?? null) as N.Literal['value'],
      text,
      start,
      end,
    };
    return lit;
  }

  /** One or more adjacent string literals (`'a' 'b'` concatenates). */
  private parseStringOrCompound(): N.Literal | null {
    if (this.k() !== 'StringLiteral') return null;
    const first = this.peek();
    let value = '';
    while (this.k() === 'StringLiteral') value += decodeStringToken(this.advance().text);
    const end = this.prevEnd();
    return { kind: 'Literal', type: 'string', value, text: this.text.slice(first.start, end), start: first.start, end };
  }

  private parseLiteral(): N.Expr | null {
    const t = this.peek();
    switch (t.kind) {
      case 'StringLiteral':
        return this.parseStringOrCompound();
      case 'BooleanLiteral':
      case 'LongLiteral':
      case 'RealLiteral':
      case 'DecimalLiteral':
      case 'IntLiteral':
      case 'GuidLiteral':
      case 'RawGuidLiteral':
      case 'DateTimeLiteral':
      case 'TimespanLiteral':
        this.advance();
        return this.literalFromToken(t, t.text, t.start);
      case 'dynamic':
        return this.parseDynamicLiteral();
      case '+':
      case '-':
        return this.parseSignedNumber();
      case 'typeof':
        return this.parseTypeOf();
      case '{':
        return this.parseBracedName();
      default:
        return null;
    }
  }

  private scanSignedNumber(): boolean {
    const sign = this.k();
    const num = this.peek(1);
    return (
      (sign === '+' || sign === '-') &&
      num.trivia.length === 0 &&
      (num.kind === 'LongLiteral' || num.kind === 'RealLiteral' || num.kind === 'TimespanLiteral') &&
      num.text.charCodeAt(0) >= 48 &&
      num.text.charCodeAt(0) <= 57
    );
  }

  private parseSignedNumber(): N.Literal | null {
    if (!this.scanSignedNumber()) return null;
    const sign = this.advance();
    const num = this.advance();
    return this.literalFromToken(num, sign.text + num.text, sign.start);
  }

  private parseDynamicLiteral(): N.Literal | null {
    if (this.k() !== 'dynamic' || this.k(1) !== '(') return null;
    const kw = this.advance();
    this.advance();
    let value: N.DynamicValue = null;
    if (this.k() === 'null') {
      this.advance();
    } else {
      const v = this.parseJsonValue();
      if (v === undefined) this.missing('Missing json value');
      else value = v;
    }
    this.expect(')');
    const end = this.prevEnd();
    const isTypedNull = /^dynamic\s*\(\s*null\s*\)$/.test(this.text.slice(kw.start, end));
    return {
      kind: 'Literal',
      type: 'dynamic',
      value: isTypedNull ? null : value,
      text: this.text.slice(kw.start, end),
      start: kw.start,
      end,
    };
  }

  /** A JSON value inside `dynamic(...)`, or undefined if none starts here. */
  private parseJsonValue(): N.DynamicValue | undefined {
    if (this.depth >= MAX_DEPTH) {
      this.skipTooDeep();
      return null;
    }
    this.depth++;
    try {
      return this.parseJsonValueUnsafe();
    } finally {
      this.depth--;
    }
  }

  private parseJsonValueUnsafe(): N.DynamicValue | undefined {
    const t = this.peek();
    switch (t.kind) {
      case 'LongLiteral':
      case 'RealLiteral':
        this.advance();
        return jsonScalar(this.literalFromToken(t, t.text, t.start));
      case '-': {
        const num = this.peek(1);
        if (num.kind !== 'LongLiteral' && num.kind !== 'RealLiteral') return undefined;
        this.advance();
        this.advance();
        return jsonScalar(this.literalFromToken(num, `-${num.text}`, t.start));
      }
      case 'BooleanLiteral':
      case 'DateTimeLiteral':
      case 'TimespanLiteral':
      case 'GuidLiteral':
      case 'RawGuidLiteral':
      case 'DecimalLiteral':
      case 'StringLiteral':
      case 'dynamic': {
        const lit = this.parseLiteral();
        return lit && lit.kind === 'Literal' ? jsonScalar(lit) : null;
      }
      case 'null':
        this.advance();
        return null;
      case '[': {
        this.advance();
        // values are boxed because JSON null must not read as "no element"
        const items = this.commaList<{ v: N.DynamicValue }>(
          () => {
            const v = this.parseJsonValue();
            return v === undefined ? null : { v };
          },
          () => {
            this.missing('Missing json value');
            return { v: null };
          },
          this.commonEnd,
        );
        this.expect(']');
        return items.map((b) => b.v);
      }
      case '{': {
        if (this.scanBracedName() > 0) {
          this.parseBracedName();
          return null;
        }
        this.advance();
        const obj: Record<string, N.DynamicValue> = {};
        this.commaList<true>(
          () => this.parseJsonPair(obj),
          () => {
            this.missing('Missing json pair');
            return true;
          },
          this.commonEnd,
        );
        this.expect('}');
        return obj;
      }
      default:
        return undefined;
    }
  }

  private parseJsonPair(obj: Record<string, N.DynamicValue>): true | null {
    let key: string | null = null;
    if (this.k() === 'StringLiteral') {
      key = decodeStringToken(this.advance().text);
      this.expect(':');
    } else if (this.k() === ':') {
      this.missing('Missing string literal');
      this.advance();
    } else {
      const before = this.pos;
      const v = this.parseJsonValue();
      if (v === undefined && this.pos === before) return null;
      this.missing('Missing string literal');
      this.expected(':');
      return true;
    }
    const value = this.parseJsonValue();
    if (value === undefined) this.missing('Missing json value');
    if (key !== null) obj[key] = value ?? null;
    return true;
  }

  // ── types and schemas ──

  private scanParamTypeExtended(offset = 0): boolean {
    return EXTENDED_PARAM_TYPES.has(this.k(offset));
  }

  private scalarType(t: Token): N.TypeRef {
    return { kind: 'TypeRef', scalar: t.text, columns: null, star: false, start: t.start, end: t.end };
  }

  private missingType(): N.TypeRef {
    const at = this.prevEnd();
    this.report(Codes.Expected.code, 'Missing type name', at, 0);
    return { kind: 'TypeRef', scalar: '', columns: null, star: false, start: at, end: at };
  }

  /** A scalar type after `name:`; a known type or, as an error, any identifier or extended type keyword. */
  private parseParamTypeOrInvalid(): N.TypeRef {
    const t = this.peek();
    if (PARAM_TYPES.has(t.kind)) return this.scalarType(this.advance());
    if (EXTENDED_PARAM_TYPES.has(t.kind) || t.kind === 'Identifier' || isIdentifierKeyword(t.kind)) {
      this.advance();
      this.report(Codes.UnknownType.code, `Invalid type name: ${t.text}`, t.start, t.end - t.start);
      return this.scalarType(t);
    }
    return this.missingType();
  }

  private parseTypeOf(): N.TypeOf | null {
    if (this.k() !== 'typeof' || this.k(1) !== '(') return null;
    const kw = this.advance();
    this.advance();
    let type: N.TypeRef;
    if (this.scanParamTypeExtended() || (this.k() === 'Identifier' && this.k(1) === ')')) {
      type = this.scalarType(this.advance());
    } else {
      const startPos = this.pos;
      let star = false;
      const columns: N.ColumnDecl[] = [];
      this.commaList<true>(
        () => {
          if (this.accept('*')) {
            star = true;
            return true;
          }
          const c = this.parseNameAndTypeDeclaration();
          if (!c) return null;
          columns.push(c);
          return true;
        },
        () => {
          this.missingType();
          return true;
        },
        this.commonEnd,
      );
      type = { kind: 'TypeRef', scalar: null, columns, star, ...this.span(startPos) };
    }
    this.expect(')');
    return { kind: 'TypeOf', type, start: kw.start, end: this.prevEnd() };
  }

  /** `name: type` where type may be a tabular schema `(a:long)` / `(*)`. */
  private parseNameAndTypeDeclaration(): N.ColumnDecl | null {
    const startPos = this.pos;
    const name = this.parseExtendedName();
    if (name) {
      this.expect(':');
      const type = this.k() === '(' ? (this.parseSchemaType() as N.TypeRef) : this.parseParamTypeOrInvalid();
      return { kind: 'ColumnDecl', name, type, ...this.span(startPos) };
    }
    if (this.k() === ':') {
      const missingName = this.missingName();
      this.advance();
      const type = this.parseParamTypeOrInvalid();
      return { kind: 'ColumnDecl', name: missingName, type, ...this.span(startPos) };
    }
    return null;
  }

  private missingColumnDecl(): N.ColumnDecl {
    const at = this.prevEnd();
    this.report(Codes.Expected.code, 'Missing parameter', at, 0);
    const name: N.Name = { kind: 'Name', name: '', bracketed: false, start: at, end: at };
    return { kind: 'ColumnDecl', name, type: null, start: at, end: at };
  }

  /** `(*)` or `(a: long, b: string)`. */
  private parseSchemaType(): N.TypeRef | null {
    if (this.k() !== '(') return null;
    return this.nested(
      () => this.parseSchemaTypeUnsafe(),
      (m) => ({ kind: 'TypeRef', scalar: null, columns: [], star: false, start: m.start, end: m.end }),
    );
  }

  private parseSchemaTypeUnsafe(): N.TypeRef {
    const startPos = this.pos;
    this.advance();
    if (this.accept('*')) {
      this.expect(')');
      return { kind: 'TypeRef', scalar: null, columns: [], star: true, ...this.span(startPos) };
    }
    const columns = this.commaList(
      () => this.parseNameAndTypeDeclaration(),
      () => this.missingColumnDecl(),
      this.commonEnd,
      false,
      true,
    );
    this.expect(')');
    return { kind: 'TypeRef', scalar: null, columns, star: false, ...this.span(startPos) };
  }

  /** `(a: long, b: string)` as in datatable, parse-kv and assert-schema (a leading comma is allowed). */
  private parseRowSchema(oneOrMore = false): N.TypeRef | null {
    if (this.k() !== '(') return null;
    const startPos = this.pos;
    this.advance();
    this.accept(',');
    const columns = this.commaList(
      () => this.parseNameAndTypeDeclaration(),
      () => this.missingColumnDecl(),
      this.commonEnd,
      oneOrMore,
      true,
    );
    this.expect(')');
    return { kind: 'TypeRef', scalar: null, columns, star: false, ...this.span(startPos) };
  }

  private missingSchema(): N.TypeRef {
    const at = this.prevEnd();
    this.report(Codes.Expected.code, 'Missing schema declaration', at, 0);
    return { kind: 'TypeRef', scalar: null, columns: [], star: false, start: at, end: at };
  }

  // ── expressions ──

  /** Expressions nested beyond MAX_DEPTH: report once, skip to the end of the enclosing construct. */
  private skipTooDeep(): N.Missing {
    const start = this.peek().start;
    if (!this.tooDeepReported) {
      this.tooDeepReported = true;
      this.report(Codes.TooDeep.code, `Expression nested more than ${MAX_DEPTH} levels deep`, start, 0);
    }
    let level = 0;
    for (;;) {
      const kind = this.k();
      if (kind === 'EndOfText') break;
      if (kind === '(' || kind === '[' || kind === '{') level++;
      else if (kind === ')' || kind === ']' || kind === '}') {
        if (level === 0) break;
        level--;
      } else if (level === 0 && (kind === ',' || kind === ';' || kind === '|')) break;
      this.advance();
    }
    return { kind: 'Missing', start, end: Math.max(start, this.prevEnd()) };
  }

  private parseExpression(): N.Expr | null {
    return this.parsePipeExpression();
  }

  /** Runs a recursive parse one level deeper, or skips the construct when nesting is too deep. */
  private nested<T>(fn: () => T, tooDeep: (skipped: N.Missing) => T): T {
    if (this.depth >= MAX_DEPTH) return tooDeep(this.skipTooDeep());
    this.depth++;
    try {
      return fn();
    } finally {
      this.depth--;
    }
  }

  private tooDeepOperator(m: N.Missing): N.OtherOperator {
    return { kind: 'OtherOperator', keyword: '', params: [], args: [], start: m.start, end: m.end };
  }

  private parseUnnamedExpression(): N.Expr | null {
    if (this.depth >= MAX_DEPTH) return this.skipTooDeep();
    this.depth++;
    try {
      // shortcut for a lone name or literal before a list separator
      switch (this.k(1)) {
        case ',':
        case ')':
        case '}':
        case ']':
        case '|':
          switch (this.k()) {
            case 'Identifier':
            case 'BooleanLiteral':
            case 'LongLiteral':
            case 'RealLiteral':
            case 'DecimalLiteral':
            case 'DateTimeLiteral':
            case 'TimespanLiteral':
            case 'GuidLiteral':
            case 'RawGuidLiteral':
            case 'IntLiteral':
              return this.parsePrimaryExpression();
          }
      }
      return this.parseLogicalOr();
    } finally {
      this.depth--;
    }
  }

  private binary(op: N.BinaryOp, left: N.Expr, opStart: number, right: N.Expr): N.Binary {
    return { kind: 'Binary', op, left, right, opStart, start: left.start, end: Math.max(right.end, left.end) };
  }

  private parseLogicalOr(): N.Expr | null {
    let expr = this.parseLogicalAnd();
    while (expr && this.k() === 'or') {
      const op = this.advance();
      expr = this.binary('or', expr, op.start, this.parseLogicalAnd() ?? this.missingExpr());
    }
    return expr;
  }

  private parseLogicalAnd(): N.Expr | null {
    let expr = this.parseEquality();
    while (expr && this.k() === 'and') {
      const op = this.advance();
      expr = this.binary('and', expr, op.start, this.parseEquality() ?? this.missingExpr());
    }
    return expr;
  }

  /** One equality-level operator at most: `a == b == c` is an error in Kusto. */
  private parseEquality(): N.Expr | null {
    if (this.k() === '*' && this.k(1) === '==') {
      const star = this.advance();
      const op = this.advance();
      const left: N.Star = { kind: 'Star', start: star.start, end: star.end };
      return this.binary('==', left, op.start, this.parseRelational() ?? this.missingExpr());
    }
    const expr = this.parseRelational();
    if (!expr) return expr;
    const kind = this.k();
    switch (kind) {
      case '==':
      case '!=':
      case '<>': {
        const op = this.advance();
        return this.binary(kind, expr, op.start, this.parseRelational() ?? this.missingExpr());
      }
      case 'in':
        if (this.k(1) === 'range') return expr; // `make-series ... in range(...)`
        return this.parseInList('in', expr);
      case 'in~':
      case '!in':
      case '!in~':
      case 'has_any':
      case 'has_all':
        return this.parseInList(IN_OPERATORS[kind] as N.InOp, expr);
      case 'between':
      case '!between': {
        this.advance();
        this.expect('(');
        const low = this.parseUnnamedExpression() ?? this.missingExpr();
        this.expect('..');
        const high = this.parseUnnamedExpression() ?? this.missingExpr();
        this.expect(')');
        return {
          kind: 'Between',
          negated: kind === '!between',
          left: expr,
          low,
          high,
          start: expr.start,
          end: this.prevEnd(),
        };
      }
      default:
        return expr;
    }
  }

  private parseInList(op: N.InOp, left: N.Expr): N.In {
    this.advance();
    this.expect('(');
    let list: N.Expr[];
    if (this.scanIsQueryExpression()) {
      list = [this.parseExpression() ?? this.missingExpr()];
    } else {
      list = this.commaList(
        () => this.parseUnnamedExpression(),
        () => this.missingExpr(),
        this.commonEnd,
        true,
      );
    }
    this.expect(')');
    return { kind: 'In', op, left, list, start: left.start, end: this.prevEnd() };
  }

  private scanIsQueryExpression(): boolean {
    if (this.scanPossibleQueryOperator()) return true;
    let depth = 0;
    for (let offset = 0; ; offset++) {
      switch (this.k(offset)) {
        case 'EndOfText':
        case ';':
          return false;
        case ',':
          if (depth === 0) return false;
          break;
        case ')':
          if (depth === 0) return false;
          depth--;
          break;
        case '(':
          depth++;
          break;
        case '|':
          if (depth === 0) return true;
          break;
      }
    }
  }

  private parseRelational(): N.Expr | null {
    const expr = this.parseAdditive();
    const kind = this.k();
    if (expr && (kind === '<' || kind === '<=' || kind === '>' || kind === '>=')) {
      const op = this.advance();
      return this.binary(kind, expr, op.start, this.parseAdditive() ?? this.missingExpr());
    }
    return expr;
  }

  private parseAdditive(): N.Expr | null {
    let expr = this.parseMultiplicative();
    while (expr) {
      const kind = this.k();
      if (kind !== '+' && kind !== '-') break;
      const op = this.advance();
      expr = this.binary(kind, expr, op.start, this.parseMultiplicative() ?? this.missingExpr());
    }
    return expr;
  }

  private parseMultiplicative(): N.Expr | null {
    let expr = this.parseStringOperation();
    while (expr) {
      const kind = this.k();
      if (kind !== '*' && kind !== '/' && kind !== '%') break;
      const op = this.advance();
      expr = this.binary(kind, expr, op.start, this.parseStringOperation() ?? this.missingExpr());
    }
    return expr;
  }

  /** String operators bind tighter than arithmetic in Kusto: `a + b has c` is `a + (b has c)`. One at most. */
  private parseStringOperation(): N.Expr | null {
    const starOp = STRING_OPERATORS[this.k(1)];
    if (this.k() === '*' && starOp) {
      const star = this.advance();
      const op = this.advance();
      const left: N.Star = { kind: 'Star', start: star.start, end: star.end };
      return this.binary(starOp, left, op.start, this.parseUnary() ?? this.missingExpr());
    }
    const expr = this.parseUnary();
    const opKind = STRING_OPERATORS[this.k()];
    if (expr && opKind) {
      const op = this.advance();
      return this.binary(opKind, expr, op.start, this.parseUnary() ?? this.missingExpr());
    }
    return expr;
  }

  private parseUnary(): N.Expr | null {
    const kind = this.k();
    if (kind === '-' || kind === '+') {
      const op = this.advance();
      const operand = this.parseFunctionCallOrPath() ?? this.missingExpr();
      return { kind: 'Unary', op: kind, operand, start: op.start, end: Math.max(operand.end, op.end) };
    }
    return this.parseFunctionCallOrPath();
  }

  private parseFunctionCallOrPath(): N.Expr | null {
    if (this.k() === 'totable') return this.parseToTableOrScalar('totable');
    let expr = this.parsePrimaryExpression();
    while (expr) {
      const kind = this.k();
      if (kind === '.') {
        this.advance();
        const selector = this.parsePathElementSelectorOrCall() ?? this.missingName();
        expr = this.path(expr, selector);
      } else if (kind === '[') {
        expr = this.element(expr, this.parseBracketedExpression() as N.Expr);
      } else {
        break;
      }
    }
    return expr;
  }

  /** `left.right` where right is a name, a call or a bracketed selector. */
  private path(left: N.Expr, right: N.Expr): N.Expr {
    const start = left.start;
    const end = Math.max(right.end, left.end);
    switch (right.kind) {
      case 'Call':
        return { ...right, target: right.target ?? left, start, end };
      case 'Name':
        return { kind: 'Member', expr: left, member: right, start, end };
      case 'Wildcard':
        // Kusto allows `database('db').T*`; the member keeps the pattern as its name
        return { kind: 'Member', expr: left, member: this.nameOfWildcard(right), start, end };
      case 'Index':
        return { ...right, expr: left, start, end };
      default:
        return { kind: 'Index', expr: left, index: right, start, end };
    }
  }

  private nameOfWildcard(w: N.Wildcard): N.Name {
    return { kind: 'Name', name: w.pattern, bracketed: false, start: w.start, end: w.end };
  }

  /** `left[index]`; a bracketed name selector (`T['x']` in entity paths) becomes a member access. */
  private element(left: N.Expr, selector: N.Expr): N.Expr {
    const start = left.start;
    const end = Math.max(selector.end, left.end);
    if (selector.kind === 'Index') return { ...selector, expr: left, start, end };
    if (selector.kind === 'Name') return { kind: 'Member', expr: left, member: selector, start, end };
    if (selector.kind === 'Wildcard')
      return { kind: 'Member', expr: left, member: this.nameOfWildcard(selector), start, end };
    return { kind: 'Index', expr: left, index: selector, start, end };
  }

  /** `[expr]` after an expression; returned as an Index with a placeholder target that `element` replaces. */
  private parseBracketedExpression(): N.Expr | null {
    if (this.k() !== '[') return null;
    const open = this.advance();
    const index = this.parseUnnamedExpression() ?? this.missingName();
    this.expect(']');
    const placeholder: N.Missing = { kind: 'Missing', start: open.start, end: open.start };
    return { kind: 'Index', expr: placeholder, index, start: open.start, end: this.prevEnd() };
  }

  private parseBracketedPathElementSelector(): N.Expr | null {
    if (this.k() !== '[') return null;
    return this.parseBracketedWildcard() ?? this.parseBracketedName() ?? this.parseBracketedExpression();
  }

  private parseBracketedEntityName(): N.Expr | null {
    return this.parseBracketedWildcard() ?? this.parseBracketedName();
  }

  private parseBarePathElementSelector(): N.Expr | null {
    const t = this.peek();
    if (t.kind === '@') {
      this.advance();
      return { kind: 'Name', name: '@', bracketed: false, start: t.start, end: t.end };
    }
    if (SPECIAL_KEYWORDS.has(t.kind)) return this.tokenName(this.advance());
    return this.parseName();
  }

  private parsePathElementSelector(): N.Expr | null {
    return this.k() === '[' ? this.parseBracketedPathElementSelector() : this.parseBarePathElementSelector();
  }

  private parsePathElementSelectorOrCall(): N.Expr | null {
    return this.scanFunctionCallStart() ? this.parseFunctionCall() : this.parsePathElementSelector();
  }

  private parsePrimaryExpression(): N.Expr | null {
    switch (this.k()) {
      case 'LongLiteral':
      case 'RealLiteral':
      case 'BooleanLiteral':
      case 'IntLiteral':
      case 'DecimalLiteral':
      case 'TimespanLiteral':
      case 'DateTimeLiteral':
      case 'GuidLiteral':
      case 'RawGuidLiteral':
      case 'StringLiteral':
      case 'dynamic':
        return this.parseLiteral();
      case 'datatable':
        return this.parseDataTable();
      case '__contextual_datatable':
        return this.parseContextualDataTable();
      case 'externaldata':
      case 'external_data':
        return this.parseExternalData();
      case 'materialized-view-combine':
        return this.parseMaterializedViewCombine();
      case '(':
        return this.parseParenthesized();
      case 'toscalar':
        return this.parseToTableOrScalar('toscalar');
      default:
        if (this.k() === 'typeof' && this.k(1) === '(') return this.parseTypeOf();
        if (this.scanFunctionCallStart()) return this.parseFunctionCall();
        return this.parsePrimaryPathSelector() ?? this.parseInvalidKeywordAsName();
    }
  }

  private parsePrimaryPathSelector(): N.Expr | null {
    const startPos = this.pos;
    const selector = this.parsePathElementSelector();
    if (selector && selector.kind === 'Index' && selector.expr.kind === 'Missing') {
      // `[expr]` where a value is expected is a computed name in Kusto, which only its binder rejects
      this.report(
        Codes.Unexpected.code,
        'A bracketed name must be a string literal',
        selector.start,
        selector.end - selector.start,
      );
    }
    if (selector && this.k() === 'datascope') {
      const value = this.parseDataScopeValue();
      const keyword = 'datascope';
      return { kind: 'OtherOperator', keyword, params: [], args: [selector, value], ...this.span(startPos) };
    }
    return selector;
  }

  /** `datascope = hotcache`, starting at `datascope`. */
  private parseDataScopeValue(): N.Expr {
    this.advance();
    this.expect('=');
    const t = this.peek();
    if (DATA_SCOPE_VALUES.includes(t.text)) return this.tokenName(this.advance());
    this.expected(DATA_SCOPE_VALUES.join(', '));
    return { kind: 'Missing', start: this.prevEnd(), end: this.prevEnd() };
  }

  private parseParenthesized(): N.Paren | null {
    if (this.k() !== '(') return null;
    const open = this.advance();
    const expr = this.parseExpression() ?? this.missingExpr();
    this.expect(')');
    return { kind: 'Paren', expr, start: open.start, end: this.prevEnd() };
  }

  /** `toscalar(expr)`, `toscalar kind=nooptimization (expr)`, `totable(...)`: a call of the keyword. */
  private parseToTableOrScalar(keyword: 'toscalar' | 'totable'): N.Call {
    const kw = this.advance();
    const args: N.Expr[] = [];
    const kindParam = this.parseSpecificParameter(
      keyword === 'toscalar' ? PARAMS.ToScalarKindParameter : PARAMS.ToTableKindParameter,
    );
    if (kindParam) {
      args.push({
        kind: 'NamedArg',
        name: this.nameFromString(kindParam.name, kindParam),
        value: kindParam.value,
        ...spanOf(kindParam),
      });
    }
    this.expect('(');
    args.push(this.parseExpression() ?? this.missingExpr());
    this.expect(')');
    return { kind: 'Call', target: null, name: this.tokenName(kw), args, start: kw.start, end: this.prevEnd() };
  }

  private nameFromString(name: string, at: N.Span): N.Name {
    return { kind: 'Name', name, bracketed: false, start: at.start, end: at.start + name.length };
  }

  private scanFunctionCallStart(offset = 0): boolean {
    const len = this.scanName(offset);
    return len > 0 && this.k(offset + len) === '(';
  }

  private parseFunctionCall(): N.Call | null {
    if (!this.scanFunctionCallStart()) return null;
    const startPos = this.pos;
    const name = this.parseName();
    if (!name) return null; // `{ x }(`: a client parameter needs adjacent braces
    const args = this.parseArgumentList();
    return { kind: 'Call', target: null, name, args, ...this.span(startPos) };
  }

  /** `evaluate`'s plugin call: a missing argument list or a missing call is reported, never absent. */
  private parseRequiredFunctionCall(): N.Call {
    const call = this.parseFunctionCall();
    if (call) return call;
    const startPos = this.pos;
    const name = this.scanName() > 0 ? this.parseName() : null;
    if (name) {
      this.expected('(');
      return { kind: 'Call', target: null, name, args: [], ...this.span(startPos) };
    }
    const missing = this.missingName();
    return { kind: 'Call', target: null, name: missing, args: [], start: missing.start, end: missing.end };
  }

  private parseArgumentList(): N.Expr[] {
    this.advance(); // (
    const args = this.commaList(
      () => {
        if (this.k() === '*' && (this.k(1) === ')' || this.k(1) === ',')) {
          const t = this.advance();
          return { kind: 'Star', start: t.start, end: t.end } as N.Expr;
        }
        const e = this.parseNamedExpression();
        if (e && e.kind === 'NamedExpr' && e.names.length === 1) {
          return { kind: 'NamedArg', name: e.names[0] as N.Name, value: e.expr, start: e.start, end: e.end } as N.Expr;
        }
        return e;
      },
      () => this.missingExpr(),
      this.commonEnd,
    );
    this.expect(')');
    return args;
  }

  private parseDotCompositeCall(): N.Expr | null {
    let expr: N.Expr | null = this.parseFunctionCall();
    while (expr && this.k() === '.' && this.scanFunctionCallStart(1)) {
      this.advance();
      expr = this.path(expr, this.parseFunctionCall() as N.Call);
    }
    return expr;
  }

  /** `name = expr`, `(a, b) = expr`, or an expression. */
  private parseNamedExpression(): N.Expr | null {
    const startPos = this.pos;
    const nameLen = this.scanRenameName();
    if (nameLen > 0 && this.k(nameLen) === '=') {
      const name = this.parseExtendedName();
      if (name) {
        this.advance(); // =
        const expr = this.parseUnnamedExpression() ?? this.missingExpr();
        return { kind: 'NamedExpr', names: [name], expr, ...this.span(startPos) };
      }
    }
    const dashLen = this.scanDashedName();
    if (dashLen > 0 && this.k(dashLen) === '=') {
      const first = this.peek();
      let text = '';
      for (let i = 0; i < dashLen; i++) text += this.advance().text;
      const name: N.Name = { kind: 'Name', name: text, bracketed: false, start: first.start, end: this.prevEnd() };
      this.report(
        Codes.KeywordAsName.code,
        `The name '${text}' needs to be bracketed as ['${text}'] to be used in this context`,
        name.start,
        name.end - name.start,
      );
      this.advance(); // =
      const expr = this.parseUnnamedExpression() ?? this.missingExpr();
      return { kind: 'NamedExpr', names: [name], expr, ...this.span(startPos) };
    }
    const listLen = this.scanRenameList();
    if (listLen > 0 && this.k(listLen) === '=') {
      this.advance(); // (
      const names = this.commaList(
        () => this.parseExtendedName(),
        () => this.missingName(),
        this.commonEnd,
        true,
      );
      this.expect(')');
      this.expect('=');
      const expr = this.parseUnnamedExpression() ?? this.missingExpr();
      return { kind: 'NamedExpr', names, expr, ...this.span(startPos) };
    }
    return this.parseUnnamedExpression();
  }

  // ── query operator parameters ──

  private withParamContext<T>(map: ParamMap | null, allowed: NamesAllowed, equalsNeeded: boolean, fn: () => T): T {
    const saved = [this.opParams, this.namesAllowed, this.equalsNeeded] as const;
    this.opParams = map;
    this.namesAllowed = allowed;
    this.equalsNeeded = equalsNeeded;
    try {
      return fn();
    } finally {
      [this.opParams, this.namesAllowed, this.equalsNeeded] = saved;
    }
  }

  private parseParamList(map: ParamMap | null, equalsNeeded = false, allowed: NamesAllowed = 'declaredOrKnown') {
    return this.withParamContext(map, allowed, equalsNeeded, () => this.list(() => this.parseParam()).flat());
  }

  private parseParamCommaList(map: ParamMap | null, allowed: NamesAllowed = 'declaredOrKnown'): N.OperatorParam[] {
    return this.withParamContext(map, allowed, false, () =>
      this.commaList<N.OperatorParam[]>(
        () => this.parseParam(),
        () => {
          const at = this.prevEnd();
          this.report(Codes.Expected.code, 'Missing parameter', at, 0);
          const missing: N.Missing = { kind: 'Missing', start: at, end: at };
          return [{ kind: 'OperatorParam', name: '', value: missing, start: at, end: at }];
        },
        this.commonEnd,
      ).flat(),
    );
  }

  private scanSpecificParamName(equalsNeeded: boolean, offset = 0): boolean {
    const t = this.peek(offset);
    if (t.kind !== 'Identifier' && !isKeyword(t.kind)) return false;
    const p = this.opParams?.get(t.text);
    if (!p) return false;
    return p.noEquals || !equalsNeeded || this.k(offset + 1) === '=';
  }

  private scanKnownParamName(equalsNeeded: boolean, offset = 0): number {
    const t = this.peek(offset);
    let len = -1;
    if (
      (t.kind === 'Identifier' || isKeyword(t.kind)) &&
      (KNOWN_PARAM_NAMES.has(t.text) || this.opParams?.has(t.text))
    ) {
      len = 1;
    } else {
      // Kusto checks multi-token names at the current position, whatever the offset
      for (const name of MULTI_TOKEN_PARAM_NAMES) {
        len = this.matchText(name, 0);
        if (len > 0) break;
      }
    }
    if (len > 0 && equalsNeeded && this.k(offset + len) !== '=') return -1;
    return len;
  }

  private scanParamName(allowed: NamesAllowed, equalsNeeded: boolean, offset = 0): number {
    let len = -1;
    if (allowed !== 'knownOnly') len = this.scanSpecificParamName(equalsNeeded, offset) ? 1 : -1;
    if (len < 0 && allowed !== 'declaredOnly') len = this.scanKnownParamName(equalsNeeded, offset);
    return len;
  }

  /** Number of adjacent tokens (no trivia after the first) whose texts concatenate to `text`, or -1. */
  private matchText(text: string, offset: number): number {
    let matched = 0;
    for (let i = 0; ; i++) {
      const t = this.peek(offset + i);
      if (t.kind === 'EndOfText' || (i > 0 && t.trivia.length > 0)) return -1;
      if (t.text.length === 0 || !text.startsWith(t.text, matched)) return -1;
      matched += t.text.length;
      if (matched === text.length) return i + 1;
    }
  }

  /** Consumes `len` adjacent tokens as one piece of text. */
  private takeText(len: number): { text: string; start: number; end: number } {
    const start = this.peek().start;
    let text = '';
    for (let i = 0; i < len; i++) text += this.advance().text;
    return { text, start, end: this.prevEnd() };
  }

  /** One `name = value` parameter; a list value (`ycolumns=a, b`) gives one parameter per name. */
  private parseParam(): N.OperatorParam[] | null {
    if (this.scanParamName(this.namesAllowed, this.equalsNeeded) <= 0) return null;
    const nameLen =
      this.namesAllowed !== 'knownOnly' && this.scanSpecificParamName(false) ? 1 : this.scanKnownParamName(false);
    if (nameLen <= 0) return null;
    const startPos = this.pos;
    const name = this.takeText(nameLen).text;
    this.expect('=');
    const info = this.opParams?.get(name) ?? DEFAULT_PARAMS.get(name);
    const value = info ? this.parseParamValue(info) : (this.parseAnyParamValue() ?? this.missingValue());
    const span = this.span(startPos);
    return (Array.isArray(value) ? value : [value]).map((v) => ({ kind: 'OperatorParam', name, value: v, ...span }));
  }

  /** A parameter given by name (`kind=...` of render, getschema, toscalar): only when the name and `=` are there. */
  private parseSpecificParameter(info: ParamInfo, endList?: () => boolean): N.OperatorParam | null {
    const len = this.matchText(info.name, 0);
    if (len <= 0) return null;
    if (!info.noEquals && this.k(len) !== '=') return null;
    const startPos = this.pos;
    this.takeText(len);
    if (!info.noEquals) this.expect('=');
    const value = this.parseParamValue(info, endList);
    return {
      kind: 'OperatorParam',
      name: info.name,
      value: Array.isArray(value) ? (value[0] as N.Expr) : value,
      ...this.span(startPos),
    };
  }

  private missingValue(message = 'Missing value'): N.Missing {
    return this.missing(message, Codes.Expected.code);
  }

  /** A literal, a word (`inner`, `shuffle`, a keyword that can be a name) or a bracketed name. */
  private parseAnyParamValue(): N.Expr | null {
    return this.parseLiteral() ?? this.parseIdentifierName() ?? this.parseName();
  }

  private parseParamValue(info: ParamInfo, endList?: () => boolean): N.Expr | N.Expr[] {
    switch (info.kind) {
      case 'Any':
        return this.parseAnyParamValue() ?? this.missingValue();
      case 'StringLiteral':
        return this.parseAnyParamValue() ?? this.missingValue('Missing string literal');
      case 'BoolLiteral':
        return this.parseAnyParamValue() ?? this.missingValue('Missing boolean literal');
      case 'IntegerLiteral':
      case 'NumericLiteral':
      case 'SummableLiteral':
        return this.parseAnyParamValue() ?? this.missingValue('Missing numeric literal');
      case 'ForcedRealLiteral':
        return this.parseForcedReal() ?? this.parseAnyParamValue() ?? this.missingValue('Missing numeric literal');
      case 'ScalarLiteral':
        return this.parseAnyParamValue() ?? this.missingValue();
      case 'String':
        return this.parseFunctionCallOrPath() ?? this.missingValue();
      case 'Word':
      case 'WordOrNumber':
        if (info.values && info.values.length > 0) {
          for (const v of info.values) {
            const len = this.matchText(v, 0);
            if (len > 0) {
              const { text, start, end } = this.takeText(len);
              return { kind: 'Name', name: text, bracketed: false, start, end };
            }
          }
          return this.parseAnyParamValue() ?? this.missingValue(`Expected: ${info.values.join(', ')}`);
        }
        return this.parseAnyParamValue() ?? this.missingValue();
      case 'NameDeclaration':
        return this.parseName() ?? this.parseAnyParamValue() ?? this.missingName();
      case 'Column':
        return this.parseName() ?? this.parseAnyParamValue() ?? this.missingName();
      case 'ColumnList':
        return this.parseNameReferenceList(endList ?? (() => this.scanParamNameListEnd()));
    }
  }

  private parseForcedReal(): N.Expr | null {
    const t = this.peek();
    if ((t.kind === 'LongLiteral' || t.kind === 'RealLiteral') && /^[0-9]/.test(t.text)) {
      this.advance();
      return this.typedLiteral('real', t.text, t.start, t.end, decodeReal(t.text));
    }
    if ((t.kind === '+' || t.kind === '-') && this.scanSignedNumber() && this.k(1) !== 'TimespanLiteral') {
      const sign = this.advance();
      const num = this.advance();
      const text = sign.text + num.text;
      return this.typedLiteral('real', text, sign.start, num.end, decodeReal(text));
    }
    if (t.kind === '{') return this.parseBracedName();
    return null;
  }

  private scanParamNameListEnd(): boolean {
    if (this.k() === ',') return this.scanKnownParamName(false, 1) > 0 || isCommonListEnd(this.k(1));
    return this.scanKnownParamName(true) > 0 || isCommonListEnd(this.k());
  }

  private parseNameReferenceList(endList: () => boolean): N.Expr[] {
    return this.commaList<N.Expr>(
      () => (this.scanSpecificParamName(true) ? null : this.parseExtendedName()),
      () => this.missingName(),
      endList,
      true,
    );
  }

  // ── entity references (union legs, find, restrict, facet, partition) ──

  /** `T`, `T.x`, `T['x']`, `database('d').T`: names and calls joined by dots. */
  private parseSimplePathExpression(): N.Expr | null {
    let expr = this.parsePathElementSelector();
    while (expr) {
      if (this.k() === '.') {
        this.advance();
        expr = this.path(expr, this.parsePathElementSelector() ?? this.missingName());
      } else if (this.k() === '[') {
        expr = this.element(expr, this.parseBracketedPathElementSelector() as N.Expr);
      } else {
        break;
      }
    }
    return expr;
  }

  private parseEntityPathExpression(): N.Expr | null {
    let expr = this.parsePathElementSelectorOrCall();
    while (expr) {
      if (this.k() === '.') {
        this.advance();
        expr = this.path(expr, this.parsePathElementSelectorOrCall() ?? this.missingName());
      } else if (this.k() === '[') {
        expr = this.element(expr, this.parseBracketedPathElementSelector() as N.Expr);
      } else {
        break;
      }
    }
    return expr;
  }

  /** `T*`, `database('d').T*`, `cluster('c').database('d').T`. */
  private parseWildcardedEntity(): N.Expr | null {
    if (this.scanWildcardedName() > 0) return this.parseWildcard();
    let expr = this.parsePathElementSelectorOrCall();
    while (expr) {
      if (this.k() === '.') {
        this.advance();
        if (this.scanWildcardedName() > 0) return this.path(expr, this.parseWildcard() as N.Wildcard);
        expr = this.path(expr, this.parsePathElementSelectorOrCall() ?? this.missingName());
      } else if (this.k() === '[') {
        expr = this.element(expr, this.parseBracketedPathElementSelector() as N.Expr);
      } else {
        break;
      }
    }
    return expr;
  }

  /** Tries each alternative from the same position and keeps the one that gets furthest (Kusto's ParseBest). */
  private parseBest(parsers: readonly (() => N.Expr | null)[]): N.Expr | null {
    const start = this.mark();
    let best = -1;
    let bestEnd = start[0];
    parsers.forEach((p, i) => {
      this.reset(start);
      p();
      if (this.pos > bestEnd) {
        bestEnd = this.pos;
        best = i;
      }
    });
    this.reset(start);
    const winner = parsers[best];
    return winner ? winner() : null;
  }

  // ── query operators ──

  /** Keywords that can also be names start an operator only when what follows makes that certain. */
  private scanPossibleQueryOperator(): boolean {
    const kind = this.k();
    switch (kind) {
      case 'evaluate':
        return this.scanName(1) > 0 || this.scanParamName('knownOnly', false, 1) > 0;
      case 'facet':
        return this.k(1) === 'by';
      case 'partition':
        return this.k(1) === 'by' || this.scanParamName('knownOnly', false, 1) > 0;
      case 'range': {
        const len = this.scanName(1);
        return len > 0 && this.k(1 + len) === 'from';
      }
      case 'inline_external_table':
        return this.k(1) === '(' || this.k(1) === 'kind';
      case 'reduce':
        return this.k(1) === 'by' || this.scanParamName('knownOnly', false, 1) > 0;
      case 'render':
        return CHART_TYPES.some((c) => this.matchText(c, 1) > 0) || this.isIdentifierOrKeywordAsIdentifier(1);
      case 'fork':
      case 'lookup':
      case '__partitionby':
        return false;
      case 'as':
      case 'assert-schema':
      case 'consume':
      case 'count':
      case 'distinct':
      case '__executeAndCache':
      case 'extend':
      case 'filter':
      case 'find':
      case 'getschema':
      case 'graph-match':
      case 'graph-to-table':
      case 'invoke':
      case 'join':
      case 'limit':
      case 'macro-expand':
      case 'make-graph':
      case 'graph-mark-components':
      case 'make-series':
      case 'mvapply':
      case 'mv-apply':
      case 'mvexpand':
      case 'mv-expand':
      case 'order':
      case 'parse':
      case 'parse-where':
      case 'parse-kv':
      case 'print':
      case 'project':
      case 'project-away':
      case 'project-keep':
      case 'project-rename':
      case 'project-by-names':
      case 'project-reorder':
      case 'sample':
      case 'sample-distinct':
      case 'scan':
      case 'search':
      case 'serialize':
      case 'sort':
      case 'summarize':
      case 'take':
      case 'top':
      case 'top-hitters':
      case 'top-nested':
      case 'union':
      case 'where':
        return !isIdentifierKeyword(kind);
      default:
        return false;
    }
  }

  private parsePipeExpression(): N.Expr | null {
    let expr: N.Expr | null = this.scanPossibleQueryOperator()
      ? (this.parseUnpipedOperator() ?? this.parsePipedOperator() ?? this.parseUnnamedExpression())
      : (this.parseUnnamedExpression() ?? this.parseUnpipedOperator() ?? this.parsePipedOperator());
    while (expr && this.k() === '|') {
      this.advance();
      const op = this.parseRequiredQueryOperator();
      expr = { kind: 'Pipe', left: expr, op, start: expr.start, end: Math.max(op.end, expr.end) };
    }
    return expr;
  }

  /** After `|`: any operator, or an identifier reported as an unknown operator, or a missing operator. */
  private parseRequiredQueryOperator(): N.QueryOperator {
    const op = this.parsePipedOperator() ?? this.parseUnpipedOperator();
    if (op) return op;
    const t = this.peek();
    if (t.kind === 'Identifier') {
      this.advance();
      this.report(Codes.UnknownOperator.code, `Unknown query operator: ${t.text}`, t.start, t.end - t.start);
      return { kind: 'OtherOperator', keyword: t.text, params: [], args: [], start: t.start, end: t.end };
    }
    const at = this.prevEnd();
    this.report(Codes.Expected.code, 'Query operator expected', at, 0);
    return { kind: 'OtherOperator', keyword: '', params: [], args: [], start: at, end: at };
  }

  /** Operators that may start a query: `print`, `union`, `search`, `find`, `evaluate`, `macro-expand`. */
  private parseUnpipedOperator(): N.QueryOperator | null {
    return this.nested(
      () => this.parseUnpipedOperatorUnsafe(),
      (m) => this.tooDeepOperator(m),
    );
  }

  private parseUnpipedOperatorUnsafe(): N.QueryOperator | null {
    switch (this.k()) {
      case 'evaluate':
        return this.parseEvaluate();
      case 'find':
        return this.parseFind();
      case 'macro-expand':
        return this.parseMacroExpand();
      case 'print':
        return this.parsePrint();
      case 'search':
        return this.parseSearch();
      case 'union':
        return this.parseUnion();
      default:
        return null;
    }
  }

  private parsePipedOperator(): N.QueryOperator | null {
    return this.nested(
      () => this.parsePipedOperatorUnsafe(),
      (m) => this.tooDeepOperator(m),
    );
  }

  private parsePipedOperatorUnsafe(): N.QueryOperator | null {
    switch (this.k()) {
      case 'as':
        return this.parseAs();
      case 'consume':
        return this.simpleOperator('Consume', () => ({ params: this.parseParamList(P.consume) }));
      case 'count':
        return this.parseCount();
      case 'distinct':
        return this.parseDistinct();
      case 'evaluate':
        return this.parseEvaluate();
      case '__executeAndCache':
        return this.simpleOperator('OtherOperator', () => ({ keyword: '__executeAndCache', params: [], args: [] }));
      case 'extend':
        return this.simpleOperator('Extend', () => ({ params: [], items: this.namedExprList(true) }));
      case 'facet':
        return this.parseFacet();
      case 'filter':
      case 'where':
        return this.parseWhere();
      case 'find':
        return this.parseFind();
      case 'fork':
        return this.parseFork();
      case 'getschema':
        return this.simpleOperator('GetSchema', () => {
          const kind = this.parseSpecificParameter(PARAMS.GetSchemaKind);
          return { params: kind ? [kind] : [] };
        });
      case 'invoke':
        return this.parseInvoke();
      case 'join':
        return this.parseJoin();
      case 'lookup':
        return this.parseLookup();
      case 'make-series':
        return this.parseMakeSeries();
      case 'mvapply':
      case 'mv-apply':
        return this.parseMvApply();
      case 'mvexpand':
      case 'mv-expand':
        return this.parseMvExpand();
      case 'parse':
      case 'parse-where':
        return this.parseParse();
      case 'parse-kv':
        return this.parseParseKv();
      case '__partitionby':
        return this.parsePartitionBy();
      case 'partition':
        return this.parsePartition();
      case 'project':
        return this.simpleOperator('Project', () => ({ params: [], items: this.namedExprList(false) }));
      case 'project-away':
        return this.simpleOperator('ProjectAway', () => ({ params: [], items: this.columnNameList() }));
      case 'project-keep':
        return this.simpleOperator('ProjectKeep', () => ({ params: [], items: this.columnNameList() }));
      case 'project-rename':
        return this.simpleOperator('ProjectRename', () => ({ params: [], items: this.namedExprList(false) }));
      case 'project-reorder':
        return this.parseProjectReorder();
      case 'project-by-names':
        return this.simpleOperator('ProjectByNames', () => ({
          params: [],
          items: this.commaList(
            () => this.parseUnnamedExpression(),
            () => this.missingExpr(),
            this.commonEnd,
          ),
        }));
      case 'range':
        return this.parseRange();
      case 'inline_external_table':
        return this.parseInlineExternalTable();
      case 'reduce':
        return this.parseReduce();
      case 'render':
        return this.parseRender();
      case 'sample':
        return this.simpleOperator('Sample', () => ({
          params: this.parseParamList(P.sample, true),
          count: this.parseNamedExpression() ?? this.missingExpr(),
        }));
      case 'sample-distinct':
        return this.simpleOperator('SampleDistinct', () => {
          const params = this.parseParamList(P.sampleDistinct, true);
          const count = this.parseNamedExpression() ?? this.missingExpr();
          this.expect('of');
          return { params, count, of: this.parseNamedExpression() ?? this.missingExpr() };
        });
      case 'scan':
        return this.parseScan();
      case 'search':
        return this.parseSearch();
      case 'serialize':
        return this.simpleOperator('Serialize', () => ({
          params: this.parseParamList(P.serialize, true),
          items: this.namedExprList(false),
        }));
      case 'sort':
      case 'order':
        return this.parseSort();
      case 'summarize':
        return this.parseSummarize();
      case 'take':
      case 'limit':
        return this.parseTake();
      case 'top':
        return this.parseTop();
      case 'top-hitters':
        return this.parseTopHitters();
      case 'top-nested':
        return this.parseTopNested();
      case 'union':
        return this.parseUnion();
      case 'make-graph':
        return this.parseMakeGraph();
      case 'graph-match':
      case 'graph-shortest-paths':
        return this.parseGraphMatch();
      case 'graph-to-table':
        return this.parseGraphToTable();
      case 'graph-mark-components':
        return this.simpleOperator('GraphOperator', () => ({
          keyword: 'graph-mark-components',
          params: this.parseParamList(P.graphMarkComponents, true),
          clauses: [],
        }));
      case 'graph-where-nodes':
      case 'graph-where-edges': {
        const keyword = this.k();
        return this.simpleOperator('GraphOperator', () => ({
          keyword,
          params: [],
          clauses: [this.parseUnnamedExpression() ?? this.missingExpr()],
        }));
      }
      case 'assert-schema':
        return this.simpleOperator('AssertSchema', () => ({
          params: [],
          schema: this.parseRowSchema() ?? this.missingSchema(),
        }));
      default:
        return null;
    }
  }

  /** Consumes the operator keyword, runs `body` for the rest, and spans the result. */
  private simpleOperator<K extends N.QueryOperator['kind']>(
    kind: K,
    body: () => Omit<Extract<N.QueryOperator, { kind: K }>, 'kind' | 'start' | 'end'>,
  ): Extract<N.QueryOperator, { kind: K }> {
    const startPos = this.pos;
    this.advance();
    const rest = body();
    return { kind, ...rest, ...this.span(startPos) } as unknown as Extract<N.QueryOperator, { kind: K }>;
  }

  private namedExprList(oneOrMore: boolean): N.Expr[] {
    return this.commaList(
      () => this.parseNamedExpression(),
      () => this.missingExpr(),
      this.commonEnd,
      oneOrMore,
    );
  }

  private columnNameList(): N.Expr[] {
    return this.commaList<N.Expr>(
      () => this.parseWildcard() ?? this.parseName(),
      () => this.missingExpr(),
      this.commonEnd,
    );
  }

  private parseAs(): N.As {
    return this.simpleOperator('As', () => ({
      params: this.parseParamList(P.as, true),
      name: this.parseName() ?? this.missingName(),
    }));
  }

  private parseCount(): N.Count | null {
    if (this.k(1) === '(') return null; // count() is the aggregate
    return this.simpleOperator('Count', () => {
      let asName: N.Name | null = null;
      if (this.accept('as')) {
        const t = this.accept('Identifier');
        if (t) {
          asName = this.tokenName(t);
        } else {
          // a required identifier token: reported where Kusto reports missing tokens
          const at = this.missingTokenLocation();
          this.report(Codes.Expected.code, 'Missing name', at.start, at.length);
          asName = { kind: 'Name', name: '', bracketed: false, start: this.prevEnd(), end: this.prevEnd() };
        }
      }
      return { params: [], asName };
    });
  }

  private parseDistinct(): N.Distinct {
    return this.simpleOperator('Distinct', () => ({
      params: this.parseParamList(P.distinct, true),
      items: this.commaList<N.Expr>(
        () => {
          const star = this.accept('*');
          if (star) return { kind: 'Star', start: star.start, end: star.end };
          return this.parseNamedExpression();
        },
        () => this.missingExpr(),
        this.commonEnd,
        true,
      ),
    }));
  }

  private parseEvaluate(): N.Evaluate {
    return this.simpleOperator('Evaluate', () => {
      const params = this.parseParamList(P.evaluate);
      const call = this.parseRequiredFunctionCall();
      if (this.k() === ':') {
        const startPos = this.pos;
        this.advance();
        const schema = this.parseEvaluateSchema();
        const value: N.TypeOf = { kind: 'TypeOf', type: schema, ...this.span(startPos) };
        params.push({ kind: 'OperatorParam', name: 'schema', value, ...this.span(startPos) });
      }
      return { params, call };
    });
  }

  /** `: (*, a: long)` output schema of a plugin. */
  private parseEvaluateSchema(): N.TypeRef {
    if (this.k() !== '(') return this.missingSchema();
    const startPos = this.pos;
    this.advance();
    this.accept(',');
    const star = this.accept('*') !== null;
    this.accept(',');
    const columns = this.commaList(
      () => this.parseNameAndTypeDeclaration(),
      () => this.missingColumnDecl(),
      this.commonEnd,
      false,
      true,
    );
    this.expect(')');
    return { kind: 'TypeRef', scalar: null, columns, star, ...this.span(startPos) };
  }

  private parseFacet(): N.Facet {
    return this.simpleOperator('Facet', () => {
      this.expect('by');
      const by = this.commaList(
        () => this.parseSimplePathExpression(),
        () => this.missingName(),
        this.customEnd('with'),
        true,
      );
      let withClause: N.Expr | null = null;
      if (this.accept('with')) {
        if (this.accept('(')) {
          withClause = this.parseForkPipeExpression() ?? this.missingOperator();
          this.expect(')');
        } else {
          withClause = this.parseForkPipeOperator() ?? this.missingOperator();
        }
      }
      return { params: [], by, with: withClause };
    });
  }

  private missingOperator(): N.OtherOperator {
    const at = this.prevEnd();
    this.report(Codes.Expected.code, 'Query operator expected', at, 0);
    return { kind: 'OtherOperator', keyword: '', params: [], args: [], start: at, end: at };
  }

  private parseWhere(): N.Where {
    const keyword = this.k() === 'filter' ? 'filter' : 'where';
    return this.simpleOperator('Where', () => ({
      keyword,
      params: this.parseParamList(P.filter, true),
      predicate: this.parseNamedExpression() ?? this.missingExpr(),
    }));
  }

  private parseFindInClause(): N.Expr[] | null {
    if (!this.accept('in')) return null;
    this.expect('(');
    const tables = this.commaList(
      () => this.parseBest([() => this.parseFindOperandNameWithAs(), () => this.parseWildcardedEntity()]),
      () => this.missingExpr(),
      this.commonEnd,
      true,
    );
    this.expect(')');
    return tables;
  }

  /** `T` or `T | as Name` inside `find in (...)`. */
  private parseFindOperandNameWithAs(): N.Expr | null {
    const expr = this.parseBracketedEntityName() ?? this.parseBarePathElementSelector();
    if (expr && this.k() === '|') {
      this.advance();
      const op: N.QueryOperator = this.k() === 'as' ? this.parseAs() : this.missingOperator();
      return { kind: 'Pipe', left: expr, op, start: expr.start, end: Math.max(op.end, expr.end) };
    }
    return expr;
  }

  private parseFind(): N.Find {
    return this.simpleOperator('Find', () => {
      const params: N.OperatorParam[] = [];
      if (this.k() === 'datascope') {
        const startPos = this.pos;
        const value = this.parseDataScopeValue();
        params.push({ kind: 'OperatorParam', name: 'datascope', value, ...this.span(startPos) });
      }
      params.push(...this.parseParamList(P.find));
      const tables = this.parseFindInClause();
      if (params.length > 0 || tables !== null) this.expect('where');
      else this.accept('where');
      const predicate = this.parseUnnamedExpression() ?? this.missingExpr();
      let project: N.Expr[] | null = null;
      let projectSmart = false;
      if (this.accept('project')) {
        project = this.commaList(
          () => this.parseFindProjectColumn(),
          () => this.missingExpr(),
          null,
          true,
        );
      } else if (this.accept('project-smart')) {
        projectSmart = true;
      }
      if (this.k() === '__projectAway') {
        const startPos = this.pos;
        this.advance();
        for (const value of this.commaList(
          () => this.parseFindProjectColumn(),
          () => this.missingExpr(),
          null,
          true,
        )) {
          params.push({ kind: 'OperatorParam', name: '__projectAway', value, ...this.span(startPos) });
        }
      }
      return { params, tables, predicate, project, projectSmart };
    });
  }

  /** `pack(*)`, `*`, `column`, `column: type` in `find ... project`. */
  private parseFindProjectColumn(): N.Expr | null {
    const t = this.peek();
    if (t.kind === 'pack') {
      this.advance();
      this.expect('(');
      const star: N.Star = { kind: 'Star', start: this.peek().start, end: this.peek().end };
      this.expect('*');
      this.expect(')');
      return { kind: 'Call', target: null, name: this.tokenName(t), args: [star], start: t.start, end: this.prevEnd() };
    }
    const star = this.accept('*');
    if (star) return { kind: 'Star', start: star.start, end: star.end };
    const startPos = this.pos;
    const name = this.parseName();
    if (name && this.accept(':')) {
      const type = this.scanParamTypeExtended() ? this.scalarType(this.advance()) : this.parseParamTypeOrInvalid();
      return {
        kind: 'NamedExpr',
        names: [name],
        expr: { kind: 'TypeOf', type, ...spanOf(type) },
        ...this.span(startPos),
      };
    }
    return name;
  }

  private parseSearch(): N.Search {
    return this.simpleOperator('Search', () => {
      const params = this.parseParamList(P.search, true);
      if (this.k() === 'datascope') {
        const startPos = this.pos;
        const value = this.parseDataScopeValue();
        params.push({ kind: 'OperatorParam', name: 'datascope', value, ...this.span(startPos) });
      }
      const tables = this.parseFindInClause();
      let predicate = this.parseUnnamedExpression();
      if (!predicate && this.k() === '*') {
        const star = this.advance();
        const left: N.Star = { kind: 'Star', start: star.start, end: star.end };
        predicate = left;
        if (this.k() === 'and') {
          const op = this.advance();
          predicate = this.binary('and', left, op.start, this.parseUnnamedExpression() ?? this.missingExpr());
        }
      }
      return { params, tables, predicate: predicate ?? this.missingExpr() };
    });
  }

  private parseFork(): N.Fork {
    return this.simpleOperator('Fork', () => {
      const branches = this.list(() => this.parseForkBranch());
      if (branches.length === 0) {
        this.expected('(');
        branches.push(this.missingExpr());
      }
      return { params: [], branches };
    });
  }

  private parseForkBranch(): N.Expr | null {
    const startPos = this.pos;
    let name: N.Name | null = null;
    const nameLen = this.scanName();
    if (nameLen > 0 && this.k(nameLen) === '=') name = this.parseName();
    if (name) this.advance();
    else if (this.k() !== '(') return null;
    this.expect('(');
    const expr = this.parseForkPipeExpression() ?? this.parseExpression() ?? this.missingExpr();
    this.expect(')');
    if (name) return { kind: 'NamedExpr', names: [name], expr, ...this.span(startPos) };
    return expr;
  }

  private parseForkPipeOperator(): N.QueryOperator | null {
    return this.parsePipedOperator() ?? this.parseUnpipedOperator();
  }

  private parseForkPipeExpression(): N.Expr | null {
    let expr: N.Expr | null = this.parseForkPipeOperator();
    while (expr && this.k() === '|') {
      this.advance();
      const op = this.parseRequiredQueryOperator();
      expr = { kind: 'Pipe', left: expr, op, start: expr.start, end: Math.max(op.end, expr.end) };
    }
    return expr;
  }

  private parseInvoke(): N.Invoke {
    return this.simpleOperator('Invoke', () => {
      const expr = this.parseDotCompositeCall();
      let call: N.Call;
      if (expr && expr.kind === 'Call') {
        call = expr;
      } else {
        const missing = this.missingExpr();
        call = {
          kind: 'Call',
          target: null,
          name: { kind: 'Name', name: '', bracketed: false, ...spanOf(missing) },
          args: [],
          ...spanOf(missing),
        };
      }
      return { params: [], call };
    });
  }

  private parseJoinOnList(): N.Expr[] {
    return this.commaList(
      () => this.parseUnnamedExpression(),
      () => this.missingExpr(),
      null,
      true,
    );
  }

  private parseJoin(): N.Join {
    return this.simpleOperator('Join', () => {
      const params = this.parseParamList(P.join, true);
      const right = this.parseUnnamedExpression() ?? this.missingExpr();
      let on: N.Expr[] | null = null;
      let where: N.Expr | null = null;
      if (this.accept('on')) on = this.parseJoinOnList();
      else if (this.accept('where')) where = this.parseUnnamedExpression() ?? this.missingExpr();
      return { params, right, on, where };
    });
  }

  private parseLookup(): N.Lookup {
    return this.simpleOperator('Lookup', () => {
      const params = this.parseParamList(P.lookup, true);
      const right = this.parseUnnamedExpression() ?? this.missingExpr();
      let on: N.Expr[] = [];
      if (this.accept('on')) on = this.parseJoinOnList();
      else this.missing('Missing join on condition clause', Codes.Expected.code);
      return { params, right, on };
    });
  }

  private parseMakeSeries(): N.MakeSeries {
    return this.simpleOperator('MakeSeries', () => {
      const params = this.parseParamList(P.makeSeries, true);
      const aggregates = this.commaList<N.MakeSeriesAggregate>(
        () => {
          const startPos = this.pos;
          const expr = this.parseNamedExpression();
          if (!expr) return null;
          let defaultValue: N.Expr | null = null;
          if (this.accept('default')) {
            this.expect('=');
            defaultValue = this.parseNamedExpression() ?? this.missingExpr();
          }
          return { kind: 'MakeSeriesAggregate', expr, defaultValue, ...this.span(startPos) };
        },
        () => {
          const expr = this.missingExpr();
          return { kind: 'MakeSeriesAggregate', expr, defaultValue: null, ...spanOf(expr) };
        },
        this.customEnd('on', 'from', 'in'),
        true,
      );
      this.expect('on');
      const on = this.parseNamedExpression() ?? this.missingExpr();
      let from: N.Expr | null = null;
      let to: N.Expr | null = null;
      let step: N.Expr;
      let inRange = false;
      const kind = this.k();
      if (kind === 'from' || kind === 'to' || kind === 'step') {
        if (this.accept('from')) from = this.parseUnnamedExpression() ?? this.missingExpr();
        if (this.accept('to')) to = this.parseUnnamedExpression() ?? this.missingExpr();
        this.expect('step');
        step = this.parseUnnamedExpression() ?? this.missingExpr();
      } else {
        inRange = true;
        this.expect('in');
        this.expect('range');
        this.expect('(');
        const items = this.commaList(
          () => this.parseNamedExpression(),
          () => this.missingExpr(),
          this.commonEnd,
        );
        this.expect(')');
        from = items[0] ?? this.missingExpr();
        to = items[1] ?? this.missingExpr();
        step = items[2] ?? this.missingExpr();
        const extra = items[3];
        if (extra)
          this.report(Codes.Unexpected.code, 'range() takes three arguments: start, stop, step', extra.start, 0);
      }
      let by: N.Expr[] = [];
      if (this.accept('by'))
        by = this.commaList(
          () => this.parseNamedExpression(),
          () => this.missingExpr(),
          null,
          true,
        );
      return { params, aggregates, on, from, to, step, inRange, by };
    });
  }

  private parseToTypeOf(): N.TypeRef | null {
    if (!this.accept('to')) return null;
    const t = this.parseTypeOf();
    if (t) return t.type;
    const at = this.prevEnd();
    this.report(Codes.Expected.code, 'Missing typeof literal', at, 0);
    return { kind: 'TypeRef', scalar: '', columns: null, star: false, start: at, end: at };
  }

  private parseMvItem(): N.MvExpandItem | null {
    const startPos = this.pos;
    if (this.k() === 'to') {
      const expr = this.missingExpr();
      return { kind: 'MvExpandItem', expr, toType: this.parseToTypeOf(), ...this.span(startPos) };
    }
    const expr = this.parseNamedExpression();
    if (!expr) return null;
    return { kind: 'MvExpandItem', expr, toType: this.parseToTypeOf(), ...this.span(startPos) };
  }

  private missingMvItem(): N.MvExpandItem {
    const expr = this.missingExpr();
    return { kind: 'MvExpandItem', expr, toType: null, ...spanOf(expr) };
  }

  private parseMvExpand(): N.MvExpand {
    const keyword = this.k() === 'mvexpand' ? 'mvexpand' : 'mv-expand';
    return this.simpleOperator('MvExpand', () => {
      const params = this.parseParamList(P.mvExpand, true);
      const items = this.commaList(
        () => this.parseMvItem(),
        () => this.missingMvItem(),
        this.customEnd('limit'),
        true,
      );
      const limit = this.accept('limit') ? (this.parseUnnamedExpression() ?? this.missingExpr()) : null;
      return { keyword, params, items, limit };
    });
  }

  private parseMvApply(): N.MvApply {
    const keyword = this.k() === 'mvapply' ? 'mvapply' : 'mv-apply';
    return this.simpleOperator('MvApply', () => {
      const params = this.parseParamList(P.mvApply, true);
      const items = this.commaList(
        () => this.parseMvItem(),
        () => this.missingMvItem(),
        () => {
          // `limit`, `id` and `on` end the list unless they are evidently part of an item (`on = x`)
          const k = this.k();
          if (k === 'limit' || k === 'id' || k === 'on') {
            const next = this.k(1);
            if (next !== ',' && next !== 'to' && next !== '=') return true;
          }
          return isCommonListEnd(k);
        },
        true,
      );
      const limit = this.accept('limit') ? (this.parseUnnamedExpression() ?? this.missingExpr()) : null;
      if (this.k() === 'id') {
        const startPos = this.pos;
        this.advance();
        const value = this.parseUnnamedExpression() ?? this.missingExpr();
        params.push({ kind: 'OperatorParam', name: 'id', value, ...this.span(startPos) });
      }
      this.expect('on');
      let subquery: N.Expr;
      if (this.accept('(')) {
        subquery = this.parseContextualSubExpression();
        this.expect(')');
      } else {
        this.expected('(');
        subquery = this.missingExpr();
      }
      return { keyword, params, items, limit, subquery };
    });
  }

  /** A sub-query that starts with an operator (`mv-apply ... on (summarize ...)`). */
  private parseContextualSubExpression(): N.Expr {
    let expr: N.Expr =
      this.k() === '__contextual_datatable'
        ? (this.parseContextualDataTable() as N.Expr)
        : this.parseRequiredQueryOperator();
    while (this.k() === '|') {
      this.advance();
      const op = this.parseRequiredQueryOperator();
      expr = { kind: 'Pipe', left: expr, op, start: expr.start, end: Math.max(op.end, expr.end) };
    }
    return expr;
  }

  private parseParse(): N.Parse | N.ParseWhere {
    const kind = this.k() === 'parse' ? 'Parse' : 'ParseWhere';
    return this.simpleOperator(kind, () => {
      const params = this.parseParamList(P.parse, true);
      const expr = this.parseUnnamedExpression() ?? this.missingExpr();
      this.expect('with');
      const pattern = this.list<N.ParsePatternPart>(() => this.parseParsePatternPart());
      return { params, expr, pattern };
    });
  }

  private parseParsePatternPart(): N.ParsePatternPart | null {
    const star = this.accept('*');
    if (star) return { kind: 'Star', start: star.start, end: star.end };
    const str = this.parseStringOrCompound();
    if (str) return str;
    const startPos = this.pos;
    if (this.k() === ':') {
      const name = this.missingName();
      this.advance();
      return { kind: 'ColumnDecl', name, type: this.parseParamTypeOrInvalid(), ...this.span(startPos) };
    }
    const name = this.parseExtendedName();
    if (!name) return null;
    const type = this.accept(':') ? this.parseParamTypeOrInvalid() : null;
    return { kind: 'ColumnDecl', name, type, ...this.span(startPos) };
  }

  private parseParseKv(): N.ParseKv {
    return this.simpleOperator('ParseKv', () => {
      const expr = this.parseUnnamedExpression() ?? this.missingExpr();
      this.expect('as');
      const schema = this.parseRowSchema() ?? this.missingSchema();
      let options: N.OperatorParam[] = [];
      if (this.accept('with')) {
        this.expect('(');
        options = this.parseParamCommaList(P.parseKvWith, 'declaredOnly');
        this.expect(')');
      }
      return { params: [], expr, columns: schema.columns ?? [], options };
    });
  }

  private parsePartition(): N.Partition {
    return this.simpleOperator('Partition', () => {
      const params = this.parseParamList(P.partition);
      this.expect('by');
      const by = this.parseSimplePathExpression() ?? this.missingName();
      if (this.k() === 'in') {
        const startPos = this.pos;
        this.advance();
        const value = this.parseFunctionCall() ?? this.parseDynamicLiteral() ?? this.missingExpr();
        params.push({ kind: 'OperatorParam', name: 'in', value, ...this.span(startPos) });
      }
      let subquery: N.Expr;
      let braces = false;
      if (this.accept('{')) {
        braces = true;
        subquery = this.parseExpression() ?? this.missingExpr();
        this.expect('}');
      } else if (this.accept('(')) {
        subquery = this.parseContextualSubExpression();
        this.expect(')');
      } else {
        this.expected('(');
        subquery = this.missingExpr();
      }
      return { params, by, subquery, braces };
    });
  }

  /** Internal `__partitionby` operator, parsed leniently. */
  private parsePartitionBy(): N.OtherOperator {
    return this.simpleOperator('OtherOperator', () => {
      const params = this.parseParamList(P.partitionBy);
      const args: N.Expr[] = [this.parseSimplePathExpression() ?? this.missingName()];
      if (this.k() === 'id') {
        const startPos = this.pos;
        this.advance();
        const value = this.parseLiteral() ?? this.missingValue();
        params.push({ kind: 'OperatorParam', name: 'id', value, ...this.span(startPos) });
      }
      this.expect('(');
      args.push(this.parseContextualSubExpression());
      this.expect(')');
      return { keyword: '__partitionby', params, args };
    });
  }

  private parseProjectReorder(): N.ProjectReorder {
    return this.simpleOperator('ProjectReorder', () => ({
      params: [],
      items: this.commaList<N.Expr>(
        () => {
          const expr = this.parseWildcard() ?? this.parseName();
          if (!expr) return null;
          const k = this.k();
          if (k === 'asc' || k === 'desc' || k === 'granny-asc' || k === 'granny-desc') {
            const t = this.advance();
            return {
              kind: 'Ordered',
              expr,
              direction: k === 'asc' || k === 'granny-asc' ? 'asc' : 'desc',
              nulls: null,
              directionText: t.text,
              start: expr.start,
              end: t.end,
            };
          }
          return expr;
        },
        () => this.missingExpr(),
        this.commonEnd,
      ),
    }));
  }

  private parseRange(): N.Range | null {
    if (this.k(1) === '(') return null; // range() is the function
    return this.simpleOperator('Range', () => {
      const name = this.parseName() ?? this.missingName();
      this.expect('from');
      const from = this.parseUnnamedExpression() ?? this.missingExpr();
      this.expect('to');
      const to = this.parseUnnamedExpression() ?? this.missingExpr();
      this.expect('step');
      const step = this.parseUnnamedExpression() ?? this.missingExpr();
      return { params: [], name, from, to, step };
    });
  }

  /** `(` ... `:` before `)`: the start of a schema rather than of connection strings. */
  private scanExternalTableSchema(offset = 0): boolean {
    if (this.k(offset) !== '(') return false;
    for (let i = offset + 1; ; i++) {
      const kind = this.k(i);
      if (kind === 'EndOfText' || kind === ':') return true;
      if (kind === ')') return false;
    }
  }

  /**
   * `inline_external_table (schema) kind=storage|delta [partition by (...)] [pathformat=(...)] dataformat=fmt (uris)
   * [with (...)]`, kept as an OtherOperator whose args are the schema, the partition columns and the URIs.
   */
  private parseInlineExternalTable(): N.OtherOperator | null {
    if (!this.scanExternalTableSchema(1) && this.k(1) !== 'kind') return null;
    return this.simpleOperator('OtherOperator', () => {
      const params: N.OperatorParam[] = [];
      const args: N.Expr[] = [];
      const schema = this.scanExternalTableSchema() ? this.parseRowSchema(true) : null;
      let isDelta = false;
      if (this.k() === 'kind') {
        const startPos = this.pos;
        this.advance();
        this.expect('=');
        const t = this.peek();
        let value: N.Expr;
        if (t.text === 'storage' || t.text === 'delta') {
          isDelta = t.text === 'delta';
          value = this.tokenName(this.advance());
        } else {
          value = this.missingValue('Expected: storage, delta');
        }
        params.push({ kind: 'OperatorParam', name: 'kind', value, ...this.span(startPos) });
      } else {
        this.expected('kind=storage or kind=delta');
      }
      if (schema) args.push({ kind: 'TypeOf', type: schema, ...spanOf(schema) });
      else if (!isDelta) {
        const missing = this.missingSchema();
        args.push({ kind: 'TypeOf', type: missing, ...spanOf(missing) });
      }
      if (this.k() === 'partition') {
        this.advance();
        this.expect('by');
        this.expect('(');
        this.accept(',');
        const columns = this.commaList<N.Expr>(
          () => this.parsePartitionColumn(),
          () => this.missingValue('Missing partition column declaration'),
          this.commonEnd,
          false,
          true,
        );
        args.push(...columns);
        this.expect(')');
      }
      if (this.k() === 'pathformat') {
        this.advance();
        this.expect('=');
        this.expect('(');
        this.parseStringOrCompound();
        const parts = this.list(() => {
          if (isCommonListEnd(this.k())) return null;
          const part = this.parseLiteral() ?? this.parseFunctionCall() ?? this.parseName();
          if (!part) {
            const t = this.advance();
            this.report(Codes.Unexpected.code, 'Unknown token in path format definition', t.start, t.end - t.start);
          }
          return true;
        }, this.commonEnd);
        if (parts.length === 0) this.missingValue('Missing path format tokens');
        this.expect(')');
      }
      if (this.k() === 'dataformat') {
        const startPos = this.pos;
        this.advance();
        this.expect('=');
        const id = this.accept('Identifier');
        const value = id ? this.tokenName(id) : this.missingName();
        params.push({ kind: 'OperatorParam', name: 'dataformat', value, ...this.span(startPos) });
      } else if (!isDelta) {
        this.expected('dataformat=');
      }
      if (this.accept('(')) {
        args.push(
          ...this.commaList(
            () => this.parseExpression(),
            () => this.missingValue(),
            this.commonEnd,
            false,
            true,
          ),
        );
        this.expect(')');
      } else {
        this.expected('(');
      }
      if (this.accept('with')) params.push(...this.parseExternalDataWithOptions());
      return { keyword: 'inline_external_table', params, args };
    });
  }

  /** `name: datetime|long|string [= expr]` in `partition by (...)` of inline_external_table. */
  private parsePartitionColumn(): N.Expr | null {
    const startPos = this.pos;
    const name = this.parseExtendedName();
    if (!name && this.k() !== ':') return null;
    this.expect(':');
    const t = this.peek();
    let type: N.TypeRef;
    if (t.kind === 'datetime' || t.kind === 'long' || t.kind === 'string') {
      type = this.scalarType(this.advance());
    } else if (t.kind !== 'EndOfText') {
      this.advance();
      this.report(
        Codes.UnknownType.code,
        'Partition columns must be datetime, long or string',
        t.start,
        t.end - t.start,
      );
      type = this.scalarType(t);
    } else {
      type = this.missingType();
    }
    const decl: N.TypeOf = { kind: 'TypeOf', type, ...spanOf(type) };
    const expr: N.Expr = this.accept('=') ? (this.parseUnnamedExpression() ?? this.missingExpr()) : decl;
    return { kind: 'NamedExpr', names: [name ?? this.missingName()], expr, ...this.span(startPos) };
  }

  private parseReduce(): N.Reduce {
    return this.simpleOperator('Reduce', () => {
      const params = this.parseParamList(P.reduceWith);
      this.expect('by');
      const by = this.parseNamedExpression() ?? this.missingExpr();
      const options = this.accept('with') ? this.parseParamCommaList(P.reduceWith) : [];
      return { params, by, options };
    });
  }

  private parseRender(): N.Render {
    return this.simpleOperator('Render', () => {
      let chart: N.Name | null = null;
      for (const c of CHART_TYPES) {
        const len = this.matchText(c, 0);
        if (len > 0) {
          const { text, start, end } = this.takeText(len);
          chart = { kind: 'Name', name: text, bracketed: false, start, end };
          break;
        }
      }
      if (!chart) {
        const id = this.accept('Identifier');
        chart = id ? this.tokenName(id) : this.missingName();
      }
      const properties: N.OperatorParam[] = [];
      const endByList = () => ['kind', 'title', 'accumulate', 'with', 'by'].some((n) => this.matchText(n, 0) > 0);
      for (;;) {
        const legacy =
          this.parseSpecificParameter(PARAMS.RenderKind) ??
          this.parseSpecificParameter(PARAMS.RenderTitle) ??
          this.parseSpecificParameter(PARAMS.RenderAccumulate) ??
          (this.k() === 'with' && this.k(1) !== '(' ? this.parseSpecificParameter(PARAMS.RenderWithDeprecated) : null);
        if (legacy) {
          properties.push(legacy);
          continue;
        }
        if (this.k() === 'by') {
          const startPos = this.pos;
          this.advance();
          for (const value of this.parseNameReferenceList(endByList)) {
            properties.push({ kind: 'OperatorParam', name: 'by', value, ...this.span(startPos) });
          }
          continue;
        }
        break;
      }
      if (this.accept('with')) {
        this.expect('(');
        this.accept(',');
        properties.push(...this.parseParamCommaList(P.renderWith, 'declaredOnly'));
        this.expect(')');
      }
      return { params: [], chart, properties };
    });
  }

  private parseScan(): N.Scan {
    return this.simpleOperator('Scan', () => {
      const params = this.parseParamList(P.scan);
      const scanEnd = this.customEnd('partition', 'order', 'by', 'declare', 'with');
      let orderBy: N.Ordered[] = [];
      if (this.accept('order')) {
        this.expect('by');
        orderBy = this.commaList(
          () => this.parseOrdered(),
          () => this.orderedOf(this.missingExpr()),
          scanEnd,
          true,
        );
      }
      let partitionBy: N.Expr[] = [];
      if (this.accept('partition')) {
        this.expect('by');
        partitionBy = this.commaList(
          () => this.parseUnnamedExpression(),
          () => this.missingExpr(),
          scanEnd,
          true,
        );
      }
      let declare: N.FunctionParam[] = [];
      if (this.accept('declare')) {
        this.expect('(');
        declare = this.commaList(
          () => this.parseFunctionParam(),
          () => this.missingFunctionParam(),
          this.commonEnd,
        );
        this.expect(')');
      }
      this.expect('with');
      this.expect('(');
      const steps = this.list(() => this.parseScanStep(), this.commonEnd);
      this.expect(')');
      return { params, orderBy, partitionBy, declare, steps };
    });
  }

  private parseScanStep(): N.ScanStep | null {
    if (this.k() !== 'step') return null;
    const startPos = this.pos;
    this.advance();
    const name = this.parseExtendedName() ?? this.missingName();
    const optional = this.accept('optional') !== null;
    let output: string | null = null;
    if (this.accept('output')) {
      this.expect('=');
      const t = this.peek();
      if (SCAN_STEP_OUTPUT_VALUES.includes(t.text)) {
        output = t.text;
        this.advance();
      } else {
        this.expected(SCAN_STEP_OUTPUT_VALUES.join(', '));
      }
    }
    this.expect(':');
    const predicate = this.parseUnnamedExpression() ?? this.missingExpr();
    let assignments: N.Expr[] = [];
    if (this.accept('=>')) {
      assignments = this.commaList<N.Expr>(
        () => {
          const s = this.pos;
          const target = this.parseExtendedName();
          if (!target) return null;
          this.expect('=');
          const expr = this.parseUnnamedExpression() ?? this.missingExpr();
          return { kind: 'NamedExpr', names: [target], expr, ...this.span(s) };
        },
        () => this.missingName(),
        this.commonEnd,
        true,
      );
    }
    this.expect(';');
    return { kind: 'ScanStep', name, optional, output, predicate, assignments, ...this.span(startPos) };
  }

  private orderedOf(expr: N.Expr): N.Ordered {
    if (expr.kind === 'Ordered') return expr;
    return {
      kind: 'Ordered',
      expr,
      direction: null,
      nulls: null,
      directionText: null,
      start: expr.start,
      end: expr.end,
    };
  }

  /** `expr [asc|desc] [nulls first|last]`; a plain expression becomes an Ordered without direction. */
  private parseOrdered(): N.Ordered | null {
    const expr = this.parseNamedExpression();
    if (!expr) return null;
    const k = this.k();
    if (k !== 'asc' && k !== 'desc' && k !== 'granny-asc' && k !== 'granny-desc' && k !== 'nulls')
      return this.orderedOf(expr);
    let direction: 'asc' | 'desc' | null = null;
    let directionText: string | null = null;
    if (k !== 'nulls') {
      const t = this.advance();
      directionText = t.text;
      direction = k === 'asc' || k === 'granny-asc' ? 'asc' : 'desc';
    }
    let nulls: 'first' | 'last' | null = null;
    if (this.accept('nulls')) {
      if (this.accept('first')) nulls = 'first';
      else if (this.accept('last')) nulls = 'last';
      else this.expected('first or last');
    }
    return { kind: 'Ordered', expr, direction, nulls, directionText, start: expr.start, end: this.prevEnd() };
  }

  private parseSort(): N.Sort {
    const keyword = this.k() === 'order' ? 'order' : 'sort';
    return this.simpleOperator('Sort', () => {
      const params = this.parseParamList(P.sort);
      this.expect('by');
      const by = this.commaList(
        () => this.parseOrdered(),
        () => this.orderedOf(this.missingExpr()),
        this.commonEnd,
        true,
      );
      return { keyword, params, by };
    });
  }

  private parseSummarize(): N.Summarize {
    return this.simpleOperator('Summarize', () => {
      const params = this.parseParamList(P.summarize, true);
      const aggregates = this.commaList(
        () => this.parseNamedExpression(),
        () => this.missingExpr(),
        this.customEnd('by'),
      );
      let by: N.Expr[] = [];
      if (this.accept('by')) {
        // legacy `by x bin = 1h` ends the list when a literal follows `bin =`
        const byEnd = () =>
          (this.k() === 'bin' && this.k(1) === '=' && LITERAL_TOKEN_KINDS.has(this.k(2))) || isCommonListEnd(this.k());
        by = this.commaList(
          () => this.parseNamedExpression(),
          () => this.missingExpr(),
          byEnd,
          true,
        );
        if (this.k() === 'bin' && this.k(1) === '=') {
          const startPos = this.pos;
          this.advance();
          this.advance();
          const value = this.parseUnnamedExpression() ?? this.missingExpr();
          params.push({ kind: 'OperatorParam', name: 'bin', value, ...this.span(startPos) });
        }
      }
      return { params, aggregates, by };
    });
  }

  private parseTake(): N.Take {
    const keyword = this.k() === 'limit' ? 'limit' : 'take';
    return this.simpleOperator('Take', () => ({
      keyword,
      params: this.parseParamList(P.take, true),
      count: this.parseNamedExpression() ?? this.missingExpr(),
    }));
  }

  private parseTop(): N.Top {
    return this.simpleOperator('Top', () => {
      const params = this.parseParamList(P.top, true);
      const count = this.parseNamedExpression() ?? this.missingExpr();
      this.expect('by');
      const by = this.parseOrdered() ?? this.orderedOf(this.missingExpr());
      return { params, count, by };
    });
  }

  private parseTopHitters(): N.TopHitters {
    return this.simpleOperator('TopHitters', () => {
      const count = this.parseNamedExpression() ?? this.missingExpr();
      this.expect('of');
      const of = this.parseNamedExpression() ?? this.missingExpr();
      const by = this.accept('by') ? (this.parseNamedExpression() ?? this.missingExpr()) : null;
      return { params: [], count, of, by };
    });
  }

  private parseTopNested(): N.TopNested {
    const startPos = this.pos;
    const clauses = this.commaList<N.TopNestedClause>(
      () => this.parseTopNestedClause(),
      () => {
        const at = this.prevEnd();
        this.report(Codes.Expected.code, 'Missing clause', at, 0);
        const m: N.Missing = { kind: 'Missing', start: at, end: at };
        return {
          kind: 'TopNestedClause',
          count: null,
          of: m,
          withOthers: null,
          by: m,
          direction: null,
          start: at,
          end: at,
        };
      },
      this.commonEnd,
      true,
    );
    return { kind: 'TopNested', params: [], clauses, ...this.span(startPos) };
  }

  private parseTopNestedClause(): N.TopNestedClause | null {
    if (this.k() !== 'top-nested') return null;
    const startPos = this.pos;
    this.advance();
    const count = this.parseNamedExpression();
    this.expect('of');
    const of = this.parseNamedExpression() ?? this.missingExpr();
    let withOthers: N.Expr | null = null;
    if (this.accept('with')) {
      this.expect('others');
      this.expect('=');
      withOthers = this.parseLiteral() ?? this.parseUnnamedExpression() ?? this.missingExpr();
    }
    this.expect('by');
    const ordered = this.parseOrdered();
    const by = ordered ? ordered.expr : this.missingExpr();
    const direction = ordered?.direction ?? null;
    return { kind: 'TopNestedClause', count, of, withOthers, by, direction, ...this.span(startPos) };
  }

  private parseUnion(): N.Union {
    return this.simpleOperator('Union', () => {
      const params = this.parseParamList(P.union, true);
      const tables = this.commaList(
        () =>
          this.parseParenthesized() ??
          this.parseBest([
            () => this.parseBracketedEntityName(),
            () => this.parseWildcardedEntity(),
            () => this.parseBarePathElementSelector(),
          ]),
        () => this.missingExpr(),
        this.commonEnd,
        true,
      );
      return { params, tables };
    });
  }

  private parseMacroExpand(): N.MacroExpand {
    return this.simpleOperator('MacroExpand', () => {
      const params = this.parseParamList(P.union, true);
      const entityGroup = this.parseEntityGroupReference() ?? this.missingExpr();
      let asName: N.Name | null = null;
      if (this.accept('as')) asName = this.parseName() ?? this.missingName();
      this.expect('(');
      const statements = this.parseStatementList();
      this.expect(')');
      let body: N.Expr | null = null;
      for (const s of statements) if (s.kind === 'ExprStatement') body = s.expr;
      return { params, entityGroup, asName, body: body ?? this.missingExpr() };
    });
  }

  private parseEntityGroupReference(): N.Expr | null {
    const group = this.parseEntityGroup();
    if (group) return group;
    const t = this.peek();
    if ((t.text === 'database' || t.text === 'cluster') && this.k(1) === '(') return this.parseEntityPathExpression();
    return this.parseName();
  }

  /** `entity_group("g")` or `entity_group[cluster('c').database('d'), ...]`: a call of `entity_group`. */
  private parseEntityGroup(): N.Expr | null {
    if (this.k() !== 'entity_group') return null;
    const call = this.parseFunctionCall();
    if (call) return call;
    const kw = this.advance();
    this.expect('[');
    const args = this.commaList(
      () => this.parseUnnamedExpression(),
      () => this.missingExpr(),
      this.commonEnd,
      true,
    );
    this.expect(']');
    return { kind: 'Call', target: null, name: this.tokenName(kw), args, start: kw.start, end: this.prevEnd() };
  }

  private parsePrint(): N.Print {
    return this.simpleOperator('Print', () => ({ params: [], items: this.namedExprList(true) }));
  }

  // ── graph operators: parsed after Kusto's structure, kept as generic clauses ──

  private parseMakeGraph(): N.GraphOperator {
    return this.simpleOperator('GraphOperator', () => {
      const params = this.parseParamList(P.graphMake, true);
      const clauses: N.Expr[] = [this.parseName() ?? this.missingName()];
      if (this.matchText('-->', 0) > 0) this.takeText(3);
      else if (this.matchText('--', 0) > 0) this.takeText(2);
      else this.expected('--> or --');
      clauses.push(this.parseName() ?? this.missingName());
      if (this.k() === 'with_node_id') {
        const startPos = this.pos;
        this.advance();
        this.expect('=');
        const value = this.parseName() ?? this.missingName();
        params.push({ kind: 'OperatorParam', name: 'with_node_id', value, ...this.span(startPos) });
      } else if (this.accept('with')) {
        const tables = this.commaList(
          () => {
            const table = this.parseUnary();
            if (!table) return null;
            const on = this.peek();
            this.expect('on');
            const key = this.parseName() ?? this.missingName();
            const name: N.Name = { kind: 'Name', name: 'on', bracketed: false, start: on.start, end: on.start };
            return {
              kind: 'Call',
              target: null,
              name,
              args: [table, key],
              start: table.start,
              end: this.prevEnd(),
            } as N.Expr;
          },
          () => this.missingExpr(),
          this.customEnd('partitioned-by'),
          true,
        );
        clauses.push(...tables);
      }
      if (this.accept('partitioned-by')) {
        clauses.push(this.parseSimplePathExpression() ?? this.missingName());
        this.expect('(');
        clauses.push(this.parseContextualSubExpression());
        this.expect(')');
      }
      return { keyword: 'make-graph', params, clauses };
    });
  }

  private parseGraphMatch(): N.GraphOperator {
    const keyword = this.k();
    return this.simpleOperator('GraphOperator', () => {
      const params = this.parseParamList(keyword === 'graph-match' ? P.graphMatch : P.graphShortestPaths, true);
      const clauses: N.Expr[] = this.commaList(
        () => this.parseGraphPattern(),
        () => this.missingExpr(),
        null,
        true,
      );
      const graphPatterns = clauses.map((c) => this.patternShapes.get(c) ?? []);
      const graphWhere = this.accept('where') !== null;
      if (graphWhere) clauses.push(this.parseExpression() ?? this.missingExpr());
      if (this.accept('project')) clauses.push(...this.namedExprList(true));
      return { keyword, params, clauses, graphPatterns, graphWhere };
    });
  }

  /** `(a)-[e*1..3]->(b)`: kept as a call `pattern(a, e, 1, 3, b)` of the names and bounds it mentions. */
  private parseGraphPattern(): N.Expr | null {
    const startPos = this.pos;
    const names: N.Expr[] = [];
    const shape: N.GraphPatternElement[] = [];
    for (;;) {
      if (this.accept('(')) {
        const n = this.parseName();
        shape.push({ element: 'node', nameArg: n ? names.length : -1 });
        if (n) names.push(n);
        this.expect(')');
        continue;
      }
      const edge = ['-->', '<--', '--'].find((t) => this.matchText(t, 0) > 0);
      if (edge) {
        this.takeText(this.matchText(edge, 0));
        shape.push({ element: 'edge', nameArg: -1, direction: edge === '-->' ? 'out' : edge === '<--' ? 'in' : 'any' });
        continue;
      }
      const open = ['-[', '<-['].find((t) => this.matchText(t, 0) > 0);
      if (open) {
        this.takeText(this.matchText(open, 0));
        const n = this.parseName();
        const nameArg = n ? names.length : -1;
        if (n) names.push(n);
        let boundArgs: readonly [number, number] | undefined;
        if (this.accept('*')) {
          boundArgs = [names.length, names.length + 1];
          names.push(this.parseUnary() ?? this.missingValue());
          this.expect('..');
          names.push(this.parseUnary() ?? this.missingExpr());
        }
        const close = [']->', ']-'].find((t) => this.matchText(t, 0) > 0);
        if (close) this.takeText(this.matchText(close, 0));
        else this.expected(']-> or ]-');
        const direction = open === '<-[' ? 'in' : close === ']->' ? 'out' : 'any';
        shape.push({ element: 'edge', nameArg, direction, ...(boundArgs ? { boundArgs } : {}) });
        continue;
      }
      break;
    }
    if (this.pos === startPos) return null;
    const span = this.span(startPos);
    const name: N.Name = { kind: 'Name', name: 'pattern', bracketed: false, start: span.start, end: span.start };
    const call: N.Expr = { kind: 'Call', target: null, name, args: names, ...span };
    this.patternShapes.set(call, shape);
    return call;
  }

  private parseGraphToTable(): N.GraphOperator {
    return this.simpleOperator('GraphOperator', () => {
      const params: N.OperatorParam[] = [];
      const clauses = this.commaList<N.Expr>(
        () => {
          const t = this.accept('nodes') ?? this.accept('edges');
          if (!t) return null;
          let name: N.Expr = this.tokenName(t);
          if (this.accept('as'))
            name = {
              kind: 'NamedExpr',
              names: [this.parseName() ?? this.missingName()],
              expr: name,
              start: t.start,
              end: this.prevEnd(),
            };
          params.push(...this.parseParamList(t.kind === 'nodes' ? P.graphToTableNodes : P.graphToTableEdges, true));
          return name;
        },
        () => this.missingExpr(),
        null,
        true,
      );
      return { keyword: 'graph-to-table', params, clauses };
    });
  }

  // ── tabular sources that are expressions ──

  private parseDataTable(): N.Datatable {
    return this.simpleOperator('Datatable', () => {
      const params = this.parseParamList(P.dataTable);
      const schema = this.parseRowSchema() ?? this.missingSchema();
      this.expect('[');
      this.accept(',');
      const values = this.commaList(
        () => this.parseLiteral(),
        () => this.missingValue(),
        this.commonEnd,
        false,
        true,
      );
      this.expect(']');
      return { params, schema, values };
    });
  }

  private parseExternalData(): N.ExternalData {
    return this.simpleOperator('ExternalData', () => {
      const params = this.parseParamList(P.dataTable);
      const schema = this.parseRowSchema() ?? this.missingSchema();
      this.expect('[');
      const uris = this.commaList(
        () => this.parseExpression(),
        () => this.missingValue(),
        this.commonEnd,
        false,
        true,
      );
      this.expect(']');
      const options = this.accept('with') ? this.parseExternalDataWithOptions() : [];
      return { params, schema, uris, options };
    });
  }

  /** `(name = value, ...)` after `with` in externaldata and inline_external_table. */
  private parseExternalDataWithOptions(): N.OperatorParam[] {
    this.expect('(');
    const options = this.commaList(
      () => {
        const startPos = this.pos;
        const name = this.parseExtendedName();
        if (!name) return null;
        this.expect('=');
        const value = this.parseExternalDataPropertyValue() ?? this.missingValue();
        return { kind: 'OperatorParam', name: name.name, value, ...this.span(startPos) } as N.OperatorParam;
      },
      () => {
        const v = this.missingValue('Missing parameter');
        return { kind: 'OperatorParam', name: '', value: v, ...spanOf(v) } as N.OperatorParam;
      },
      this.commonEnd,
    );
    this.expect(')');
    return options;
  }

  private parseExternalDataPropertyValue(): N.Expr | null {
    switch (this.k()) {
      case 'StringLiteral':
      case 'LongLiteral':
      case 'RealLiteral':
      case 'BooleanLiteral':
      case 'DateTimeLiteral':
        return this.parseLiteral();
      case 'RawGuidLiteral':
      case 'GuidLiteral': {
        const t = this.advance();
        return this.typedLiteral(
          'guid',
          t.text,
          t.start,
          t.end,
          decodeGuid(t.kind === 'GuidLiteral' ? t.text : `guid(${t.text})`),
        );
      }
      default:
        return this.parseExtendedName();
    }
  }

  private parseContextualDataTable(): N.OtherOperator {
    return this.simpleOperator('OtherOperator', () => {
      const id = this.parseLiteral() ?? this.parseUnnamedExpression() ?? this.missingExpr();
      const schema = this.parseRowSchema() ?? this.missingSchema();
      return {
        keyword: '__contextual_datatable',
        params: [],
        args: [id, { kind: 'TypeOf', type: schema, ...spanOf(schema) }],
      };
    });
  }

  private parseMaterializedViewCombine(): N.OtherOperator {
    return this.simpleOperator('OtherOperator', () => {
      const args: N.Expr[] = [];
      this.expect('(');
      args.push(this.parseExpression() ?? this.missingExpr());
      this.expect(')');
      for (const clause of ['base', 'delta', 'aggregations']) {
        if (this.matchText(clause, 0) > 0) {
          this.advance();
          this.expect('(');
          args.push((clause === 'aggregations' ? this.parseSummarize() : this.parseExpression()) ?? this.missingExpr());
          this.expect(')');
        } else {
          this.expected(clause);
        }
      }
      return { keyword: 'materialized-view-combine', params: [], args };
    });
  }

  // ── statements ──

  private parseAliasStatement(): N.AliasStatement {
    const startPos = this.pos;
    this.advance();
    this.expect('database');
    const name = this.parseName() ?? this.missingName();
    this.expect('=');
    const value = this.parseUnnamedExpression() ?? this.missingExpr();
    return { kind: 'Alias', name, value, ...this.span(startPos) };
  }

  private parseLetStatement(): N.LetStatement {
    const startPos = this.pos;
    this.advance();
    const name = this.parseName() ?? this.missingName();
    this.expect('=');
    let value: N.Expr | N.FunctionDecl;
    if (this.k() === 'materialize') {
      const kw = this.advance();
      this.expect('(');
      const expr = this.parsePipeExpression() ?? this.missingExpr();
      this.expect(')');
      value = {
        kind: 'Call',
        target: null,
        name: this.tokenName(kw),
        args: [expr],
        start: kw.start,
        end: this.prevEnd(),
      };
    } else if (this.k() === 'entity_group') {
      value = this.parseEntityGroup() as N.Expr;
    } else if (this.scanFunctionDeclarationStart()) {
      value = this.parseFunctionDeclaration();
    } else {
      value = this.parseExpression() ?? this.missingExpr();
    }
    return { kind: 'Let', name, value, ...this.span(startPos) };
  }

  private scanFunctionDeclarationStart(): boolean {
    let offset = 0;
    if (this.k() === 'view') offset++;
    if (this.k(offset) !== '(') return false;
    const next = this.k(offset + 1);
    if (next === ')' || next === '*') return true;
    const len = this.scanExtendedName(offset + 1);
    return len > 0 && this.k(offset + 1 + len) === ':';
  }

  private parseFunctionDeclaration(): N.FunctionDecl {
    const startPos = this.pos;
    const isView = this.accept('view') !== null;
    let params: N.FunctionParam[] = [];
    if (this.accept('(')) {
      params = this.commaList(
        () => this.parseFunctionParam(),
        () => this.missingFunctionParam(),
        this.commonEnd,
      );
      this.expect(')');
    } else {
      this.expected('(');
    }
    let body: N.FunctionBody;
    if (this.k() === '{') {
      body = this.parseFunctionBody();
    } else {
      this.expected('{');
      const m: N.Missing = { kind: 'Missing', start: this.prevEnd(), end: this.prevEnd() };
      body = { kind: 'FunctionBody', statements: [], expr: m, ...spanOf(m) };
    }
    return { kind: 'FunctionDecl', isView, params, body, ...this.span(startPos) };
  }

  private parseFunctionBody(): N.FunctionBody {
    const startPos = this.pos;
    this.advance(); // {
    const statements: N.Statement[] = this.list(() => {
      const s =
        this.k() === 'let'
          ? this.parseLetStatement()
          : this.k() === 'declare'
            ? this.parseQueryParametersStatement()
            : null;
      if (s) this.expect(';');
      return s;
    }, this.commonEnd);
    const expr = this.parseExpression() ?? this.missing('Missing function body expression');
    this.accept(';');
    this.expect('}');
    return { kind: 'FunctionBody', statements, expr, ...this.span(startPos) };
  }

  private parseFunctionParam(): N.FunctionParam | null {
    const startPos = this.pos;
    const decl = this.parseNameAndTypeDeclaration();
    if (!decl) return null;
    let defaultValue: N.Expr | null = null;
    if (this.accept('=')) defaultValue = this.parseLiteral() ?? this.parseIdentifierName() ?? this.missingExpr();
    const type = decl.type ?? this.missingType();
    return { kind: 'FunctionParam', name: decl.name, type, defaultValue, ...this.span(startPos) };
  }

  private missingFunctionParam(): N.FunctionParam {
    const at = this.prevEnd();
    this.report(Codes.Expected.code, 'Missing parameter', at, 0);
    const name: N.Name = { kind: 'Name', name: '', bracketed: false, start: at, end: at };
    const type: N.TypeRef = { kind: 'TypeRef', scalar: '', columns: null, star: false, start: at, end: at };
    return { kind: 'FunctionParam', name, type, defaultValue: null, start: at, end: at };
  }

  private parseSetStatement(): N.SetStatement {
    const startPos = this.pos;
    this.advance();
    const name = this.parseName();
    if (!name) this.missingName();
    const value = this.accept('=') ? (this.parseUnnamedExpression() ?? this.missingExpr()) : null;
    return { kind: 'Set', name: name?.name ?? '', value, ...this.span(startPos) };
  }

  private parseQueryParametersStatement(): N.DeclareQueryParametersStatement {
    const startPos = this.pos;
    this.advance();
    this.expect('query_parameters');
    this.expect('(');
    const params = this.commaList(
      () => this.parseFunctionParam(),
      () => this.missingFunctionParam(),
      this.commonEnd,
      true,
    );
    this.expect(')');
    return { kind: 'DeclareQueryParameters', params, ...this.span(startPos) };
  }

  private parseRestrictStatement(): N.RestrictStatement {
    const startPos = this.pos;
    this.advance();
    this.expect('access');
    this.expect('to');
    this.expect('(');
    const items = this.commaList(
      () => this.parseBest([() => this.parseWildcardedEntity(), () => this.parseName()]),
      () => this.missingExpr(),
      this.commonEnd,
      true,
    );
    this.expect(')');
    if (this.accept('with')) {
      // `with (AllowManagedIdentityAuthentication=true)`: accepted and not represented
      this.expect('(');
      this.commaList<true>(
        () => {
          if (!this.parseExtendedName()) return null;
          this.expect('=');
          if (!this.parseExternalDataPropertyValue()) this.missingValue();
          return true;
        },
        () => {
          this.missingValue('Missing parameter');
          return true;
        },
        this.commonEnd,
      );
      this.expect(')');
    }
    return { kind: 'Restrict', items, ...this.span(startPos) };
  }

  /** `declare pattern p = (...) { ... };` is kept as raw text. */
  private parsePatternStatement(): N.DeclarePatternStatement {
    const startPos = this.pos;
    this.advance();
    this.advance();
    const name = this.parseName() ?? this.missingName();
    if (this.accept('=')) {
      this.expect('(');
      this.commaList(
        () => this.parseNameAndTypeDeclaration(),
        () => this.missingColumnDecl(),
        this.commonEnd,
      );
      this.expect(')');
      if (this.accept('[')) {
        if (!this.parseNameAndTypeDeclaration()) this.missingColumnDecl();
        this.expect(']');
      }
      this.expect('{');
      const matches = this.list(() => this.parsePatternMatch(), this.commonEnd);
      if (matches.length === 0) this.expected('(');
      this.expect('}');
    }
    const span = this.span(startPos);
    return { kind: 'DeclarePattern', name, text: this.text.slice(span.start, span.end), ...span };
  }

  private parsePatternMatch(): true | null {
    if (!this.accept('(')) return null;
    this.commaList(
      () => this.parseUnnamedExpression(),
      () => this.missingExpr(),
      this.commonEnd,
      true,
    );
    this.expect(')');
    if (this.accept('.')) {
      this.expect('[');
      if (!this.parseLiteral()) this.missingValue('Missing string literal');
      this.expect(']');
    }
    this.expect('=');
    this.expect('{');
    this.list(() => {
      const s = this.k() === 'let' ? this.parseLetStatement() : null;
      if (s) this.expect(';');
      return s;
    }, this.commonEnd);
    this.parseExpression();
    this.accept(';');
    this.expect('}');
    this.expect(';');
    return true;
  }
}

// ───────────────────────────── helpers ─────────────────────────────

function missingDiag(what: string, at: { start: number; length: number }): Diagnostic {
  return { code: Codes.Expected.code, severity: 'error', message: `Expected: ${what}`, ...at };
}

function spanOf(n: N.Span): N.Span {
  return { start: n.start, end: n.end };
}

/** The dynamic value of a literal inside `dynamic(...)`. */
function jsonScalar(lit: N.Literal): N.DynamicValue {
  if (lit.value === null) return null;
  switch (lit.type) {
    case 'datetime':
      return { $datetime: lit.value as bigint };
    case 'timespan':
      return { $timespan: lit.value as bigint };
    case 'guid':
      return { $guid: lit.value as string };
    case 'decimal':
      return Number(lit.value);
    case 'int':
      return lit.value as bigint;
    default:
      return lit.value as N.DynamicValue;
  }
}
