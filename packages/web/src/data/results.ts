/**
 * Result-grid logic, outside React: display text of a cell by column type, sorting that respects the type
 * (numbers as numbers, datetimes by instant, nulls last), CSV export (RFC 4180) and tab-separated copy.
 */
import type { Column } from '../api/types.js';

export type Cell = unknown;
export type Row = readonly Cell[];

const NUMERIC = new Set(['int', 'long', 'real', 'decimal', 'double', 'float']);

export function isNumericType(type: string): boolean {
  return NUMERIC.has(type.toLowerCase());
}

/** What a cell shows: dynamic values as compact JSON, null as empty, everything else as text. */
export function cellText(value: Cell, type = 'string'): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  if (type === 'datetime' && typeof value === 'string') return value.replace('T', ' ').replace(/Z$/, '');
  return String(value);
}

function sortKey(value: Cell, type: string): number | string | null {
  if (value === null || value === undefined || value === '') return null;
  if (isNumericType(type)) {
    const n = typeof value === 'number' ? value : Number(value);
    return Number.isNaN(n) ? null : n;
  }
  if (type === 'datetime') {
    const t = Date.parse(String(value));
    return Number.isNaN(t) ? null : t;
  }
  if (type === 'bool') return value === true || value === 'true' ? 1 : 0;
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** A sorted copy of the row indexes (stable; nulls last in both directions). */
export function sortedIndexes(rows: readonly Row[], column: number, type: string, dir: 'asc' | 'desc'): number[] {
  const keys = rows.map((r) => sortKey(r[column], type));
  const idx = rows.map((_, i) => i);
  const sign = dir === 'asc' ? 1 : -1;
  idx.sort((a, b) => {
    const ka = keys[a] ?? null;
    const kb = keys[b] ?? null;
    if (ka === null && kb === null) return a - b;
    if (ka === null) return 1;
    if (kb === null) return -1;
    if (ka < kb) return -sign;
    if (ka > kb) return sign;
    return a - b;
  });
  return idx;
}

function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** RFC 4180 CSV with a header line and CRLF line ends. */
export function toCsv(columns: readonly Column[], rows: readonly Row[], order?: readonly number[]): string {
  const lines = [columns.map((c) => csvField(c.name)).join(',')];
  for (const i of order ?? rows.map((_, k) => k)) {
    const r = rows[i];
    if (!r) continue;
    lines.push(columns.map((c, j) => csvField(cellText(r[j], c.type))).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/** Tab-separated text (pastes into spreadsheets): tabs and line breaks inside cells become spaces. */
export function toTsv(columns: readonly Column[], rows: readonly Row[]): string {
  const clean = (s: string) => s.replace(/[\t\r\n]+/g, ' ');
  const lines = [columns.map((c) => clean(c.name)).join('\t')];
  for (const r of rows) lines.push(columns.map((c, j) => clean(cellText(r[j], c.type))).join('\t'));
  return lines.join('\n');
}

/** A starting width for each column from its name and the first rows' text (px, clamped). */
export function initialWidths(columns: readonly Column[], rows: readonly Row[], sample = 50): number[] {
  return columns.map((c, j) => {
    let longest = c.name.length + 2;
    for (let i = 0; i < Math.min(rows.length, sample); i++) {
      const t = cellText(rows[i]?.[j], c.type);
      if (t.length > longest) longest = t.length;
    }
    return Math.max(80, Math.min(420, Math.round(longest * 7.4 + 24)));
  });
}
