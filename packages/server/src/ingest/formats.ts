/**
 * From request bodies to the writer's input: byte ranges of records (never JS objects). The native format is NDJSON
 * or a JSON array of records; the Defender streaming API wraps records in `{"records":[{category, properties}]}`
 * (Event Hubs) or sends one `{category, properties}` per line (storage blobs), and each record is routed by its
 * category `AdvancedHunting-<Table>` to that table with `properties` as the row.
 */
import { IngestError } from './errors.js';
import { arrayElements, objectMembers, scanRecords, stringValue } from './json-scan.js';
import type { RecordsInput } from './writer.js';

/** How many records of a request are looked at for field names (the table's column names are always read). */
const FIELD_SAMPLE = 100;

/** Validates a body and finds its records; a syntax error becomes `malformed_json` with the byte offset. */
export function parseRecords(body: Uint8Array, compressed = false): RecordsInput {
  const scan = scanRecords(body);
  if (!scan.ok) {
    const where = compressed ? 'byte offset in the decompressed body' : 'byte offset';
    throw new IngestError(
      'malformed_json',
      `malformed JSON at ${where} ${scan.offset}${scan.record >= 0 ? ` (record ${scan.record})` : ''}: ${scan.message}`,
      { offset: scan.offset, ...(scan.record >= 0 ? { record: scan.record } : {}) },
    );
  }
  return {
    kind: 'records',
    body,
    starts: scan.starts,
    ends: scan.ends,
    multiline: scan.multiline,
    lineSeparated: scan.lineSeparated,
    // Records of one source usually carry the same keys in the same order: then the first record's keys are all of
    // them, and the engine reads only those. Otherwise a sample: the engine also declares the table's other
    // columns, does not write them while they stay empty, and reads them for real if a later record has one
    // (LoadSource `sampled`).
    ...(scan.uniformKeys && scan.starts.length > 0
      ? { fields: sampleFields(body, scan.starts.slice(0, 1), scan.ends.slice(0, 1)), fieldsComplete: true }
      : { fields: sampleFields(body, scan.starts, scan.ends) }),
  };
}

/** Top-level keys of the first records. */
export function sampleFields(body: Uint8Array, starts: readonly number[], ends: readonly number[]): string[] {
  const seen = new Set<string>();
  const n = Math.min(starts.length, FIELD_SAMPLE);
  for (let i = 0; i < n; i++) {
    for (const m of objectMembers(body, starts[i] as number, ends[i] as number)) seen.add(m.key);
  }
  return [...seen];
}

export const DEFENDER_CATEGORY_PREFIX = 'AdvancedHunting-';

/** Records of a Defender streaming-API body, by table (first-seen order). */
export function splitDefender(body: Uint8Array, compressed = false): Map<string, RecordsInput> {
  const outer = parseRecords(body, compressed);
  const byTable = new Map<string, { starts: number[]; ends: number[]; multiline: number[] }>();
  const take = (record: { start: number; end: number }, where: string) => {
    const members = objectMembers(body, record.start, record.end);
    const category = members.find((m) => m.key === 'category');
    const properties = members.find((m) => m.key === 'properties');
    const name = category ? stringValue(body, category.start, category.end) : undefined;
    if (name === undefined || !name.startsWith(DEFENDER_CATEGORY_PREFIX)) {
      throw new IngestError(
        'invalid_body',
        `${where}: "category" must be "${DEFENDER_CATEGORY_PREFIX}<Table>"${name !== undefined ? ` (got ${JSON.stringify(name)})` : ''}`,
        { record: where },
      );
    }
    if (!properties || body[properties.start] !== 0x7b) {
      throw new IngestError('invalid_body', `${where}: "properties" must be an object (the row)`, { record: where });
    }
    const table = name.slice(DEFENDER_CATEGORY_PREFIX.length);
    let t = byTable.get(table);
    if (!t) {
      t = { starts: [], ends: [], multiline: [] };
      byTable.set(table, t);
    }
    // Raw line breaks inside a valid JSON value can only be whitespace between tokens: compact that row.
    const span = body.subarray(properties.start, properties.end);
    if (span.includes(0x0a) || span.includes(0x0d)) t.multiline.push(t.starts.length);
    t.starts.push(properties.start);
    t.ends.push(properties.end);
  };
  outer.starts.forEach((start, i) => {
    const end = outer.ends[i] as number;
    const records = objectMembers(body, start, end).find((m) => m.key === 'records');
    if (records) {
      if (body[records.start] !== 0x5b) {
        throw new IngestError('invalid_body', `message ${i}: "records" must be an array`, { message: i });
      }
      arrayElements(body, records.start, records.end).forEach((el, j) => {
        if (body[el.start] !== 0x7b) {
          throw new IngestError('invalid_body', `message ${i}, record ${j} is not an object`, {
            message: i,
            record: j,
          });
        }
        take(el, `message ${i}, record ${j}`);
      });
    } else {
      take({ start, end }, `record ${i}`);
    }
  });
  const out = new Map<string, RecordsInput>();
  for (const [table, t] of byTable) {
    out.set(table, {
      kind: 'records',
      body,
      starts: t.starts,
      ends: t.ends,
      multiline: t.multiline,
      fields: sampleFields(body, t.starts, t.ends),
    });
  }
  return out;
}

/** Records for syslog rows (already JS objects from the parser): serialized once, one per line. */
export function rowsToRecords(rows: readonly Readonly<Record<string, unknown>>[]): RecordsInput {
  const lines = rows.map((r) => JSON.stringify(r));
  const body = Buffer.from(`${lines.join('\n')}\n`);
  const starts: number[] = [];
  const ends: number[] = [];
  let at = 0;
  for (const line of lines) {
    const n = Buffer.byteLength(line);
    starts.push(at);
    ends.push(at + n);
    at += n + 1;
  }
  const fields = new Set<string>();
  for (const r of rows) for (const k of Object.keys(r)) fields.add(k);
  return { kind: 'records', body, starts, ends, lineSeparated: true, fields: [...fields], fieldsComplete: true };
}
