/**
 * A validator for the subset of JSON Schema (2020-12) that the playbook schema uses: type, enum, const,
 * properties, required, additionalProperties, items, minItems, maxItems, minLength, maxLength, pattern, minimum,
 * maximum, $ref to $defs, and oneOf — a oneOf whose branches each fix a `const` property (a discriminator, like
 * a step's `type`) reports the errors of the matching branch only, which is what an author needs to read.
 */

export interface JsonSchema {
  readonly $schema?: string;
  readonly $id?: string;
  readonly $ref?: string;
  readonly $defs?: Readonly<Record<string, JsonSchema>>;
  readonly title?: string;
  readonly description?: string;
  readonly type?: 'object' | 'array' | 'string' | 'number' | 'integer' | 'boolean' | 'null' | readonly string[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | JsonSchema;
  readonly items?: JsonSchema;
  readonly minItems?: number;
  readonly maxItems?: number;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly pattern?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly oneOf?: readonly JsonSchema[];
  readonly anyOf?: readonly JsonSchema[];
  readonly default?: unknown;
}

export interface SchemaError {
  readonly path: readonly (string | number)[];
  readonly message: string;
}

const typeOf = (v: unknown): string =>
  v === null
    ? 'null'
    : Array.isArray(v)
      ? 'array'
      : typeof v === 'number' && Number.isInteger(v)
        ? 'integer'
        : typeof v;

function typeMatches(v: unknown, t: string): boolean {
  const actual = typeOf(v);
  if (t === 'number') return actual === 'number' || actual === 'integer';
  return actual === t;
}

export function validateSchema(value: unknown, schema: JsonSchema, root: JsonSchema = schema): SchemaError[] {
  const errors: SchemaError[] = [];
  check(value, schema, root, [], errors);
  return errors;
}

function resolve(s: JsonSchema, root: JsonSchema): JsonSchema {
  let cur = s;
  for (let i = 0; cur.$ref && i < 20; i++) {
    const name = cur.$ref.replace(/^#\/\$defs\//, '');
    const target = root.$defs?.[name];
    if (!target) throw new Error(`schema: unknown $ref ${cur.$ref}`);
    cur = target;
  }
  return cur;
}

function discriminator(branches: readonly JsonSchema[], root: JsonSchema): string | null {
  let key: string | null = null;
  for (const b of branches.map((x) => resolve(x, root))) {
    const consts = Object.entries(b.properties ?? {}).filter(([, p]) => p.const !== undefined);
    const first = consts[0];
    if (!first) return null;
    if (key === null) key = first[0];
    else if (!consts.some(([k]) => k === key)) return null;
  }
  return key;
}

function check(v: unknown, s0: JsonSchema, root: JsonSchema, path: (string | number)[], out: SchemaError[]): void {
  const s = resolve(s0, root);
  if (s.type !== undefined) {
    const types = typeof s.type === 'string' ? [s.type] : s.type;
    if (!types.some((t) => typeMatches(v, t))) {
      out.push({
        path,
        message: `expected ${types.join(' or ')}, found ${typeOf(v) === 'integer' ? 'number' : typeOf(v)}`,
      });
      return;
    }
  }
  if (s.const !== undefined && v !== s.const) out.push({ path, message: `must be ${JSON.stringify(s.const)}` });
  if (s.enum && !s.enum.includes(v))
    out.push({ path, message: `must be one of ${s.enum.map((x) => JSON.stringify(x)).join(', ')}` });
  if (typeof v === 'string') {
    if (s.minLength !== undefined && v.length < s.minLength)
      out.push({
        path,
        message: s.minLength === 1 ? 'must not be empty' : `must be at least ${s.minLength} characters`,
      });
    if (s.maxLength !== undefined && v.length > s.maxLength)
      out.push({ path, message: `must be at most ${s.maxLength} characters` });
    if (s.pattern !== undefined && !new RegExp(s.pattern).test(v))
      out.push({ path, message: `must match ${s.pattern}` });
  }
  if (typeof v === 'number') {
    if (s.minimum !== undefined && v < s.minimum) out.push({ path, message: `must be at least ${s.minimum}` });
    if (s.maximum !== undefined && v > s.maximum) out.push({ path, message: `must be at most ${s.maximum}` });
  }
  if (Array.isArray(v)) {
    if (s.minItems !== undefined && v.length < s.minItems)
      out.push({ path, message: s.minItems === 1 ? 'must not be empty' : `needs at least ${s.minItems} items` });
    if (s.maxItems !== undefined && v.length > s.maxItems)
      out.push({ path, message: `takes at most ${s.maxItems} items` });
    if (s.items) for (const [i, x] of v.entries()) check(x, s.items, root, [...path, i], out);
  }
  if (v && typeof v === 'object' && !Array.isArray(v)) {
    const o = v as Record<string, unknown>;
    for (const r of s.required ?? []) if (!(r in o)) out.push({ path: [...path, r], message: `'${r}' is required` });
    for (const [k, x] of Object.entries(o)) {
      const p = s.properties?.[k];
      if (p) check(x, p, root, [...path, k], out);
      else if (s.additionalProperties === false) {
        const known = Object.keys(s.properties ?? {});
        out.push({
          path: [...path, k],
          message: `unknown field '${k}'${known.length ? ` (fields: ${known.join(', ')})` : ''}`,
        });
      } else if (typeof s.additionalProperties === 'object') check(x, s.additionalProperties, root, [...path, k], out);
    }
  }
  if (s.oneOf) {
    const key = discriminator(s.oneOf, root);
    if (key && v && typeof v === 'object' && !Array.isArray(v)) {
      const tag = (v as Record<string, unknown>)[key];
      const branch = s.oneOf.find((b) => resolve(b, root).properties?.[key]?.const === tag);
      if (!branch) {
        const tags = s.oneOf.map((b) => resolve(b, root).properties?.[key]?.const);
        out.push({
          path: tag === undefined ? [...path, key] : [...path, key],
          message:
            tag === undefined
              ? `'${key}' is required (${tags.join(', ')})`
              : `unknown ${key} '${String(tag)}' (${tags.join(', ')})`,
        });
        return;
      }
      check(v, branch, root, path, out);
      return;
    }
    const matching = s.oneOf.filter((b) => validateSchema(v, b, root).length === 0);
    if (matching.length !== 1)
      out.push({
        path,
        message: matching.length === 0 ? 'matches none of the allowed forms' : 'matches several forms',
      });
  }
  if (s.anyOf && !s.anyOf.some((b) => validateSchema(v, b, root).length === 0))
    out.push({ path, message: 'matches none of the allowed forms' });
}
