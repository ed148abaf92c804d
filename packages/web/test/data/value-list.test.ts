/** The comma-separated value lists of the automation rule editor: values with commas, quotes and spaces survive. */
import { describe, expect, test } from 'vitest';
import { formatValueList, parseValueList } from '../../src/data/value-list.js';

describe('value lists', () => {
  test('splits at commas, trims, drops empty values', () => {
    expect(parseValueList('High, Medium ,,Low, ')).toEqual(['High', 'Medium', 'Low']);
    expect(parseValueList('')).toEqual([]);
  });

  test('keeps spaces inside a value (typing "Suspicious PowerShell" one key at a time)', () => {
    expect(parseValueList('Suspicious ')).toEqual(['Suspicious']);
    expect(parseValueList('Suspicious PowerShell')).toEqual(['Suspicious PowerShell']);
  });

  test('a quoted value holds commas and doubled quotes', () => {
    expect(parseValueList('"Sign-in, impossible travel", Malware')).toEqual(['Sign-in, impossible travel', 'Malware']);
    expect(parseValueList('"say ""hi"""')).toEqual(['say "hi"']);
    expect(parseValueList('"unterminated, still one')).toEqual(['unterminated, still one']);
  });

  test('format and parse round-trip', () => {
    for (const values of [
      ['a', 'b'],
      ['Sign-in, impossible travel', 'x'],
      ['say "hi"'],
      [' padded '],
      ['plain words here'],
    ]) {
      expect(parseValueList(formatValueList(values))).toEqual(values);
    }
    expect(formatValueList(['a', 'b, c'])).toBe('a, "b, c"');
  });
});
