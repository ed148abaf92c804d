/**
 * The KQL lexer: text → tokens with leading trivia and UTF-16 offsets. It reproduces Kusto.Language's token rules
 * (TokenParser) because the parser's agreement with Microsoft's analyzer depends on identical tokens: keywords are
 * matched longest-first and case-sensitively, `datetime(...)`-style literals are single tokens whose content is
 * validated later, and characters outside the language become `BadToken`s. Linear time: every loop advances.
 */
import { Codes } from '../diagnostics/codes.js';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { FixedText } from './tables.js';
import { IDENTIFIER_KEYWORDS, PUNCTUATION, RESERVED_KEYWORDS, TIMESPAN_SUFFIXES } from './tables.js';

/** Kinds of tokens whose text varies. Tokens with fixed text (keywords, punctuation) have their text as kind. */
export type VariableTokenKind =
  | 'Identifier'
  | 'StringLiteral'
  | 'LongLiteral'
  | 'IntLiteral'
  | 'RealLiteral'
  | 'DecimalLiteral'
  | 'BooleanLiteral'
  | 'DateTimeLiteral'
  | 'TimespanLiteral'
  | 'GuidLiteral'
  | 'RawGuidLiteral'
  | 'Directive'
  | 'BadToken'
  | 'EndOfText';

export type TokenKind = VariableTokenKind | FixedText;

export interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  /** UTF-16 offset of the token text (after the trivia). */
  readonly start: number;
  readonly end: number;
  /** Leading whitespace and `//` comments. */
  readonly trivia: string;
}

export interface LexResult {
  /** Always ends with one `EndOfText` token. */
  readonly tokens: readonly Token[];
  readonly diagnostics: readonly Diagnostic[];
}

const KEYWORD_SET: ReadonlySet<string> = new Set<string>([...IDENTIFIER_KEYWORDS, ...RESERVED_KEYWORDS]);
const IDENTIFIER_KEYWORD_SET: ReadonlySet<string> = new Set<string>(IDENTIFIER_KEYWORDS);

/** True for keyword kinds (not punctuation, not variable kinds). */
export function isKeyword(kind: TokenKind): boolean {
  return KEYWORD_SET.has(kind);
}

/** True for keywords that may be used as plain identifiers. */
export function isIdentifierKeyword(kind: TokenKind): boolean {
  return IDENTIFIER_KEYWORD_SET.has(kind);
}

/** Fixed texts bucketed by first character, longest first, so the first hit is the longest match. */
const FIXED_BY_FIRST_CHAR: Map<number, string[]> = (() => {
  const map = new Map<number, string[]>();
  for (const text of [...IDENTIFIER_KEYWORDS, ...RESERVED_KEYWORDS, ...PUNCTUATION]) {
    const c = text.charCodeAt(0);
    const bucket = map.get(c);
    if (bucket) bucket.push(text);
    else map.set(c, [text]);
  }
  for (const bucket of map.values()) bucket.sort((a, b) => b.length - a.length);
  return map;
})();

const TIMESPAN_SUFFIXES_LONGEST_FIRST = [...TIMESPAN_SUFFIXES].sort((a, b) => b.length - a.length);
const BOOLEAN_TEXTS = ['true', 'True', 'TRUE', 'false', 'False', 'FALSE'];

/** Keywords that start a "goo" literal when directly followed by `(`: `datetime(2020-01-01)` is one token. */
const GOO_LITERAL_KIND: Readonly<Record<string, VariableTokenKind>> = {
  long: 'LongLiteral',
  int64: 'LongLiteral',
  int: 'IntLiteral',
  int32: 'IntLiteral',
  real: 'RealLiteral',
  double: 'RealLiteral',
  decimal: 'DecimalLiteral',
  bool: 'BooleanLiteral',
  datetime: 'DateTimeLiteral',
  date: 'DateTimeLiteral',
  time: 'TimespanLiteral',
  timespan: 'TimespanLiteral',
  guid: 'GuidLiteral',
};

const NON_ASCII_DIGIT = /\p{Nd}/u;

// Character classes follow Kusto.Language: letters are ASCII only; digits are Unicode decimal digits.
function isAsciiLetter(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90);
}
function isAsciiLetterOrDigit(c: number): boolean {
  return isAsciiLetter(c) || (c >= 48 && c <= 57);
}
function isDigit(c: number): boolean {
  if (c < 256) return c >= 48 && c <= 57;
  return NON_ASCII_DIGIT.test(String.fromCharCode(c));
}
function isHexDigit(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70);
}
export function isIdentifierStartChar(c: number): boolean {
  return isAsciiLetter(c) || c === 95 /* _ */ || c === 36 /* $ */;
}
export function isIdentifierChar(c: number): boolean {
  return isAsciiLetterOrDigit(c) || c === 95;
}
export function isWhitespace(c: number): boolean {
  switch (c) {
    case 9:
    case 32:
    case 13:
    case 10:
    case 12:
    case 160:
    case 5760:
    case 6158:
    case 8192:
    case 8193:
    case 8194:
    case 8195:
    case 8196:
    case 8197:
    case 8198:
    case 8199:
    case 8200:
    case 8201:
    case 8202:
    case 8203:
    case 8239:
    case 8287:
    case 12288:
    case 65279:
      return true;
    default:
      return false;
  }
}
function isLineBreakStart(c: number): boolean {
  return c === 13 || c === 10 || c === 8232 || c === 8233;
}
function isStringQuoteStart(c: number): boolean {
  return c === 39 /* ' */ || c === 34 /* " */ || c === 96 /* ` */ || c === 126 /* ~ */;
}

/** Tokenizes `text`. Never throws; problems become diagnostics (unterminated strings, unexpected characters). */
export function tokenize(text: string): LexResult {
  return new Lexer(text).run();
}

class Lexer {
  private readonly tokens: Token[] = [];
  private readonly diagnostics: Diagnostic[] = [];

  constructor(private readonly text: string) {}

  run(): LexResult {
    const text = this.text;
    let pos = 0;
    for (;;) {
      const triviaStart = pos;
      pos = this.scanTrivia(pos);
      const trivia = text.slice(triviaStart, pos);
      if (pos >= text.length) {
        this.tokens.push({ kind: 'EndOfText', text: '', start: pos, end: pos, trivia });
        break;
      }
      const end = this.scanToken(pos, trivia);
      pos = end;
    }
    for (let i = 0; i < this.diagnostics.length; i++) {
      const d = this.diagnostics[i] as Diagnostic;
      if (d.code === Codes.InvalidCharacter.code && d.length > 1) {
        const shown = this.text.slice(d.start, d.start + Math.min(d.length, 20));
        this.diagnostics[i] = { ...d, message: `Unexpected characters: ${shown}${d.length > 20 ? '...' : ''}` };
      }
    }
    return { tokens: this.tokens, diagnostics: this.diagnostics };
  }

  private code(pos: number): number {
    return pos < this.text.length ? this.text.charCodeAt(pos) : 0;
  }

  private push(kind: TokenKind, start: number, end: number, trivia: string): number {
    this.tokens.push({ kind, text: this.text.slice(start, end), start, end, trivia });
    return end;
  }

  private scanTrivia(pos: number): number {
    const text = this.text;
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (isWhitespace(c)) {
        pos++;
      } else if (c === 47 && this.code(pos + 1) === 47) {
        pos = this.nextLineStart(pos);
      } else {
        break;
      }
    }
    return pos;
  }

  private nextLineStart(pos: number): number {
    const text = this.text;
    while (pos < text.length && !isLineBreakStart(text.charCodeAt(pos))) pos++;
    if (pos >= text.length) return text.length;
    return text.charCodeAt(pos) === 13 && this.code(pos + 1) === 10 ? pos + 2 : pos + 1;
  }

  /** Scans one token at `pos` (past trivia) and returns its end. Mirrors the order of Kusto's TokenParser. */
  private scanToken(pos: number, trivia: string): number {
    const c = this.code(pos);
    if (!isAsciiLetterOrDigit(c)) {
      const punct = this.scanPunctuation(pos);
      if (punct) return this.push(punct, pos, pos + punct.length, trivia);
      if (isStringQuoteStart(c) || (c === 64 /* @ */ && isStringQuoteStart(this.code(pos + 1)))) {
        const end = this.scanString(pos, trivia);
        if (end >= 0) return end;
      } else if (c === 35 /* # */) {
        let end = pos;
        while (end < this.text.length && !isLineBreakStart(this.text.charCodeAt(end))) end++;
        return this.push('Directive', pos, end, trivia);
      }
    }

    // keywords, goo literals and remaining punctuation
    const fixed = this.longestFixedText(pos);
    if (fixed) {
      const next = this.code(pos + fixed.length);
      if (next === 40 /* ( */) {
        const gooKind = GOO_LITERAL_KIND[fixed];
        if (gooKind) return this.scanGoo(gooKind, pos, pos + fixed.length, trivia);
      }
      if (!isIdentifierChar(next)) return this.push(fixed as FixedText, pos, pos + fixed.length, trivia);
    }

    if (isIdentifierStartChar(c)) {
      for (const b of BOOLEAN_TEXTS) {
        if (this.text.startsWith(b, pos) && !isIdentifierChar(this.code(pos + b.length))) {
          return this.push('BooleanLiteral', pos, pos + b.length, trivia);
        }
      }
      if (this.isRawGuid(pos)) return this.push('RawGuidLiteral', pos, pos + 36, trivia);
      const idEnd = this.scanIdentifier(pos);
      if (idEnd === pos + 1 && (c === 104 || c === 72) /* h H */) {
        const c2 = this.code(pos + 1);
        if (isStringQuoteStart(c2) || c2 === 64) {
          const end = this.scanString(pos, trivia);
          if (end >= 0) return end;
        }
      }
      return this.push('Identifier', pos, idEnd, trivia);
    }
    if (isDigit(c)) {
      if (this.isRawGuid(pos)) return this.push('RawGuidLiteral', pos, pos + 36, trivia);
      const realEnd = this.scanReal(pos);
      if (realEnd >= 0) return this.push('RealLiteral', pos, realEnd, trivia);
      const timeEnd = this.scanTimespan(pos);
      if (timeEnd >= 0) return this.push('TimespanLiteral', pos, timeEnd, trivia);
      const longEnd = this.scanLong(pos);
      if (longEnd >= 0) return this.push('LongLiteral', pos, longEnd, trivia);
      const idEnd = this.scanIdentifier(pos);
      if (idEnd > pos) return this.push('Identifier', pos, idEnd, trivia);
    }

    // a run of adjacent bad characters gets one diagnostic (each is still its own token, as in Kusto)
    const prev = this.tokens[this.tokens.length - 1];
    const last = this.diagnostics[this.diagnostics.length - 1];
    if (prev?.kind === 'BadToken' && prev.end === pos && last && last.start + last.length === pos) {
      // the message is finished once the run ends (see run()); building it here would be quadratic
      this.diagnostics[this.diagnostics.length - 1] = { ...last, length: last.length + 1 };
    } else {
      this.diagnostics.push({
        code: Codes.InvalidCharacter.code,
        severity: 'error',
        message: `Unexpected character: ${this.text.slice(pos, pos + 1)}`,
        start: pos,
        length: 1,
      });
    }
    return this.push('BadToken', pos, pos + 1, trivia);
  }

  private scanPunctuation(pos: number): FixedText | null {
    const c = this.code(pos);
    const c2 = this.code(pos + 1);
    switch (c) {
      case 40:
        return '(';
      case 41:
        return ')';
      case 91:
        return '[';
      case 93:
        return ']';
      case 123:
        return '{';
      case 125:
        return '}';
      case 124:
        return '|';
      case 46:
        return c2 === 46 ? '..' : '.';
      case 43:
        return '+';
      case 45:
        return '-';
      case 42:
        return '*';
      case 47:
        return '/';
      case 37:
        return '%';
      case 60:
        return c2 === 61 ? '<=' : c2 === 124 ? '<|' : c2 === 62 ? '<>' : '<';
      case 62:
        return c2 === 61 ? '>=' : '>';
      case 61:
        return c2 === 61 ? '==' : c2 === 62 ? '=>' : c2 === 126 ? '=~' : '=';
      case 33:
        return c2 === 61 ? '!=' : c2 === 126 ? '!~' : null;
      case 58:
        return ':';
      case 59:
        return ';';
      case 44:
        return ',';
      case 64:
        return isStringQuoteStart(c2) ? null : '@';
      case 63:
        return '?';
      default:
        return null;
    }
  }

  private longestFixedText(pos: number): string | null {
    const bucket = FIXED_BY_FIRST_CHAR.get(this.code(pos));
    if (!bucket) return null;
    for (const candidate of bucket) if (this.text.startsWith(candidate, pos)) return candidate;
    return null;
  }

  private scanGoo(kind: VariableTokenKind, start: number, open: number, trivia: string): number {
    const text = this.text;
    let pos = open + 1;
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c === 41 || isLineBreakStart(c)) break;
      pos++;
    }
    if (this.code(pos) === 41) {
      pos++;
    } else {
      this.missingText(')', pos);
    }
    return this.push(kind, start, pos, trivia);
  }

  private missingText(expected: string, at: number): void {
    this.diagnostics.push({
      code: expected === ')' ? Codes.Expected.code : Codes.UnterminatedString.code,
      severity: 'error',
      message: `Missing: ${expected}`,
      start: at,
      length: 0,
    });
  }

  private scanIdentifier(pos: number): number {
    const start = pos;
    const c = this.code(pos);
    if (isIdentifierStartChar(c)) {
      pos++;
      while (isIdentifierChar(this.code(pos))) pos++;
      return pos;
    }
    if (isDigit(c)) {
      const digitsEnd = this.scanDigits(pos);
      const next = this.code(digitsEnd);
      if (isAsciiLetter(next) || next === 95) {
        pos = digitsEnd;
        while (isIdentifierChar(this.code(pos))) pos++;
        return pos;
      }
    }
    return start;
  }

  private scanDigits(pos: number): number {
    while (isDigit(this.code(pos))) pos++;
    return pos;
  }

  private scanLong(start: number): number {
    if (this.code(start) === 48 && (this.code(start + 1) === 120 || this.code(start + 1) === 88)) {
      let pos = start + 2;
      if (isHexDigit(this.code(pos))) {
        while (isHexDigit(this.code(pos))) pos++;
        if (!isIdentifierChar(this.code(pos))) return pos;
      }
    }
    const end = this.scanDigits(start);
    if (end > start && !isIdentifierChar(this.code(end))) return end;
    return -1;
  }

  private scanExponent(pos: number): number {
    const c = this.code(pos);
    if (c !== 101 && c !== 69) return -1;
    pos++;
    const s = this.code(pos);
    if (s === 43 || s === 45) pos++;
    const end = this.scanDigits(pos);
    return end > pos ? end : -1;
  }

  private scanReal(start: number): number {
    let pos = this.scanDigits(start);
    if (pos === start) return -1;
    // `1..2` is a range, but `1...` lexes as `1.` followed by `..`, as in Kusto
    if (this.code(pos) === 46 && (this.code(pos + 1) !== 46 || this.code(pos + 2) === 46)) {
      pos = this.scanDigits(pos + 1);
      const exp = this.scanExponent(pos);
      if (exp > 0) pos = exp;
    } else {
      const exp = this.scanExponent(pos);
      if (exp < 0) return -1;
      pos = exp;
    }
    return isIdentifierChar(this.code(pos)) ? -1 : pos;
  }

  private scanTimespan(start: number): number {
    let pos = this.scanDigits(start);
    if (pos === start) return -1;
    if (this.code(pos) === 46) {
      const fractionEnd = this.scanDigits(pos + 1);
      if (fractionEnd > pos + 1) pos = fractionEnd;
    }
    for (const suffix of TIMESPAN_SUFFIXES_LONGEST_FIRST) {
      if (this.text.startsWith(suffix, pos)) {
        const end = pos + suffix.length;
        return isIdentifierChar(this.code(end)) ? -1 : end;
      }
    }
    return -1;
  }

  private hexRun(pos: number, n: number): boolean {
    if (pos + n > this.text.length) return false;
    for (let i = 0; i < n; i++) if (!isHexDigit(this.text.charCodeAt(pos + i))) return false;
    return true;
  }

  /** `12345678-1234-1234-1234-123456789abc` without `guid(...)`: lexed so the parser can reject it precisely. */
  private isRawGuid(pos: number): boolean {
    return (
      pos + 35 < this.text.length &&
      this.hexRun(pos, 8) &&
      this.code(pos + 8) === 45 &&
      this.hexRun(pos + 9, 4) &&
      this.code(pos + 13) === 45 &&
      this.hexRun(pos + 14, 4) &&
      this.code(pos + 18) === 45 &&
      this.hexRun(pos + 19, 4) &&
      this.code(pos + 23) === 45 &&
      this.hexRun(pos + 24, 12)
    );
  }

  /** Scans a string literal in any form; returns its end, or -1 if `pos` does not start one. */
  private scanString(start: number, trivia: string): number {
    const text = this.text;
    let pos = start;
    let c = this.code(pos);
    if (c === 104 || c === 72) c = this.code(++pos);
    let verbatim = false;
    if (c === 64) {
      verbatim = true;
      c = this.code(++pos);
    }
    if (c === 39 || c === 34) {
      pos++;
      for (;;) {
        if (pos >= text.length) break;
        const ch = text.charCodeAt(pos);
        if (ch === c && verbatim && this.code(pos + 1) === c) {
          pos += 2;
        } else if (ch === 92 /* \ */ && !verbatim) {
          const len = this.scanEscape(pos);
          if (len < 0) break;
          pos += len;
        } else if (ch === c || ch === 13 || ch === 10) {
          break;
        } else {
          pos++;
        }
      }
      if (this.code(pos) === c) pos++;
      else this.missingText(c === 39 ? "'" : '"', pos);
      return this.push('StringLiteral', start, pos, trivia);
    }
    const fence = text.startsWith('```', pos) ? '```' : text.startsWith('~~~', pos) ? '~~~' : null;
    if (!fence) return -1;
    pos += 3;
    const close = text.indexOf(fence, pos);
    if (close >= 0) {
      pos = close + 3;
    } else {
      pos = text.length;
      this.missingText(fence, pos);
    }
    return this.push('StringLiteral', start, pos, trivia);
  }

  /** Length of the escape sequence at `pos` (a backslash), or -1 if it is not a valid escape. */
  private scanEscape(pos: number): number {
    const c = this.code(pos + 1);
    switch (c) {
      case 92:
      case 39:
      case 34:
      case 97:
      case 98:
      case 102:
      case 110:
      case 114:
      case 116:
      case 118:
        return 2;
      case 117: // \uXXXX
        return this.hexRun(pos + 2, 4) ? 6 : -1;
      case 85: // \UXXXXXXXX
        return this.hexRun(pos + 2, 8) ? 10 : -1;
      case 120: // \xXX
        return this.hexRun(pos + 2, 2) ? 4 : -1;
      default: {
        // octal \0 .. \377
        if (c < 48 || c > 55) return -1;
        const c2 = this.code(pos + 2);
        if (c2 < 48 || c2 > 55) return 2;
        const c3 = this.code(pos + 3);
        return c3 >= 48 && c3 <= 55 && c <= 51 ? 4 : 3;
      }
    }
  }
}
