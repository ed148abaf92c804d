/**
 * Text formats parsed character by character in ClickHouse: `parse_command_line` (Windows argv rules, a state
 * machine in `arrayFold`, as DuckDB's `list_reduce`), and `parse_xml`, which is refused on ClickHouse:
 *
 * DuckDB runs parse_xml as a host function (a real XML parser: well-formedness, entities, CDATA, mixed content,
 * Json.NET's element/attribute/text convention, null for malformed input). ClickHouse SQL has no XML parser, and a
 * regex tokenizer with a stack in `arrayFold` would not be exact for every well-formed document (DOCTYPE internal
 * subsets, character references, repeated-name grouping, malformed input must give null), so the query is refused
 * with a diagnostic on the call instead of returning values that differ from DuckDB's and Kusto's.
 */
import type { Template } from '../../dialect.js';
import { arg, asString, literalString } from './base.js';

/** `parse_command_line(text, 'windows')`: the arguments by CommandLineToArgvW's quoting and backslash rules. */
const parseCommandLine: Template = (args, ctx) => {
  const text = asString(arg(args, 0, ctx));
  const parser = args[1] ? literalString(args[1]) : 'windows';
  if (parser?.toLowerCase() !== 'windows')
    return ctx.unsupported(`parse_command_line() parser ${JSON.stringify(parser)}`);
  // State: (arguments so far, current argument, in quotes, pending backslashes, argument started). Bytes are
  // enough: the rules only look at ASCII '\', '"', space and tab, which never occur inside a UTF-8 sequence.
  const type = 'Tuple(Array(String), String, UInt8, UInt64, UInt8)';
  const st = (a: string, c: string, q: string, b: string, s: string) =>
    `CAST(tuple(${a}, ${c}, ${q}, ${b}, ${s}) AS ${type})`;
  const bs = (n: string) => `repeat('\\\\', ${n})`;
  const step = `(__cl, __ch) -> multiIf(
    __ch = '\\\\', ${st('__cl.1', '__cl.2', '__cl.3', '__cl.4 + 1', '1')},
    __ch = '"', ${st('__cl.1', `concat(__cl.2, ${bs('intDiv(__cl.4, 2)')}, if(__cl.4 % 2 = 1, '"', ''))`, 'if(__cl.4 % 2 = 1, __cl.3, 1 - __cl.3)', '0', '1')},
    (__ch = ' ' OR __ch = '\\t') AND __cl.3 = 0, ${st(`if(__cl.5 = 1, arrayPushBack(__cl.1, concat(__cl.2, ${bs('__cl.4')})), __cl.1)`, "''", '0', '0', '0')},
    ${st('__cl.1', `concat(__cl.2, ${bs('__cl.4')}, __ch)`, '__cl.3', '0', '1')})`;
  const chars = `arrayMap(__i -> substring(__clt, __i, 1), range(1, length(__clt) + 1))`;
  const fold = `arrayFold(${step}, ${chars}, ${st('[]', "''", '0', '0', '0')})`;
  return `arrayElement(arrayMap(__clt -> arrayElement(arrayMap(__cls -> toJSONString(if(__cls.5 = 1, arrayPushBack(__cls.1, concat(__cls.2, ${bs('__cls.4')})), __cls.1)), [${fold}]), 1), [${text}]), 1)`;
};

const parseXml: Template = (args, ctx) => {
  arg(args, 0, ctx);
  return ctx.unsupported('parse_xml() (ClickHouse SQL has no XML parser; DuckDB runs it as a host function)');
};

export const XML_FUNCTIONS: Readonly<Record<string, Template>> = {
  parse_command_line: parseCommandLine,
  parse_xml: parseXml,
};
