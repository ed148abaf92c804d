/**
 * The registry of diagnostic codes. Codes are stable: never renumber, only add. Ranges:
 * - KQL00xx lexer, KQL01xx parser, KQL02xx names, KQL03xx types and calls, KQL04xx operators,
 * - KQL05xx statements, KQL09xx "parsed but not supported by Vigil" (compile-time refusals).
 * Each entry has a default severity; messages are built at the reporting site.
 */
import type { Severity } from './diagnostic.js';

export interface CodeInfo {
  readonly code: string;
  readonly severity: Severity;
  readonly title: string;
}

function c(code: string, title: string, severity: Severity = 'error'): CodeInfo {
  return { code, severity, title };
}

export const Codes = {
  // lexer
  UnterminatedString: c('KQL0001', 'Unterminated string literal'),
  UnterminatedComment: c('KQL0002', 'Unterminated comment'),
  InvalidCharacter: c('KQL0003', 'Invalid character'),
  InvalidLiteral: c('KQL0004', 'Invalid literal'),
  UnterminatedBracket: c('KQL0005', 'Unterminated bracketed identifier'),
  RawGuidNotAllowed: c('KQL0006', 'A GUID must be written as guid(...)'),
  // parser
  Expected: c('KQL0101', 'Expected token or construct'),
  Unexpected: c('KQL0102', 'Unexpected token'),
  MissingExpression: c('KQL0103', 'Missing expression'),
  KeywordAsName: c('KQL0104', 'Keyword used as a name must be bracketed'),
  TooDeep: c('KQL0105', 'Expression nested too deeply'),
  UnknownOperator: c('KQL0106', 'Unknown query operator'),
  IncompleteFragment: c('KQL0107', 'Incomplete fragment'),
  // names
  UnknownName: c('KQL0201', 'Unknown column, table, variable or function'),
  UnknownTable: c('KQL0202', 'Unknown table'),
  UnknownFunction: c('KQL0203', 'Unknown function'),
  UnknownColumn: c('KQL0204', 'Unknown column'),
  DuplicateName: c('KQL0205', 'Name already declared'),
  AmbiguousName: c('KQL0206', 'Ambiguous name'),
  UnknownPlugin: c('KQL0207', 'Unknown plugin'),
  DuplicateColumn: c('KQL0208', 'Duplicate column name'),
  // types and calls
  TypeExpected: c('KQL0301', 'A value of a specific type was expected'),
  ScalarExpected: c('KQL0302', 'A scalar value was expected'),
  TabularExpected: c('KQL0303', 'A tabular value was expected'),
  OperatorTypeMismatch: c('KQL0304', 'Operator not defined for these operand types'),
  ArgumentCount: c('KQL0305', 'Wrong number of arguments'),
  ConstantExpected: c('KQL0306', 'A constant was expected'),
  AggregateNotAllowed: c('KQL0307', 'Aggregate function not allowed here'),
  AggregateExpected: c('KQL0308', 'An aggregate function was expected'),
  ColumnExpected: c('KQL0309', 'A column was expected'),
  InvalidArgument: c('KQL0310', 'Invalid argument'),
  UnknownNamedArgument: c('KQL0311', 'Unknown named argument'),
  TypeNotAllowed: c('KQL0312', 'Type not allowed in this context'),
  NotAFunction: c('KQL0313', 'Not a function'),
  LiteralExpected: c('KQL0314', 'A literal was expected'),
  UnknownType: c('KQL0315', 'Unknown type'),
  NoMatchingSignature: c('KQL0316', 'No overload of the function accepts these argument types'),
  NoCommonType: c('KQL0317', 'No common type can be determined from the arguments'),
  StarNotAllowed: c('KQL0318', 'The * argument is not allowed here'),
  // operators
  JoinColumnMissing: c('KQL0401', 'Join column must exist on both sides'),
  InvalidOperatorParameter: c('KQL0402', 'Invalid operator parameter'),
  OperatorNeedsInput: c('KQL0403', 'Operator requires an input'),
  InvalidJoinCondition: c('KQL0404', 'Invalid join condition'),
  InvalidParsePattern: c('KQL0405', 'Invalid parse pattern'),
  SummarizeByRequiresColumn: c('KQL0406', 'Invalid summarize grouping'),
  // statements
  QueryExpected: c('KQL0501', 'The batch has no query'),
  // Vigil refusals
  Unsupported: c('KQL0901', 'Construct parsed but not supported by Vigil'),
  /** A defect in Vigil's compiler: the query is refused (never run with a wrong plan) and the defect reported. */
  InternalError: c('KQL0999', "Internal error in Vigil's compiler"),
} as const satisfies Record<string, CodeInfo>;

export type CodeName = keyof typeof Codes;
