/**
 * The syntax stage: `tokenize` (lexer), `parse` (error-tolerant parser) and `printTree` (golden-test printer).
 */
export type { LexResult, Token, TokenKind, VariableTokenKind } from './lexer.js';
export { tokenize } from './lexer.js';
export * from './nodes.js';
export type { ParseResult } from './parser.js';
export { MAX_DEPTH, MAX_TREE_HEIGHT, parse } from './parser.js';
export { printTree } from './print.js';
