/**
 * JSON Schema builders for request and response shapes. Schemas are declared once, next to their route: Fastify
 * validates requests with them and `openapi.ts` publishes them. They stay inline (no `$ref`) and within the subset
 * that both JSON Schema draft-07 (Fastify's Ajv) and OpenAPI 3.1 (JSON Schema 2020-12) read the same way.
 */

export type JsonSchema = { readonly [key: string]: unknown };

type Opts = { readonly description?: string; readonly [key: string]: unknown };

export const S = {
  string: (o: Opts = {}): JsonSchema => ({ type: 'string', ...o }),
  integer: (o: Opts = {}): JsonSchema => ({ type: 'integer', ...o }),
  number: (o: Opts = {}): JsonSchema => ({ type: 'number', ...o }),
  boolean: (o: Opts = {}): JsonSchema => ({ type: 'boolean', ...o }),
  /** Any JSON value. */
  any: (o: Opts = {}): JsonSchema => ({ ...o }),
  enum: (values: readonly string[], o: Opts = {}): JsonSchema => ({ type: 'string', enum: [...values], ...o }),
  array: (items: JsonSchema, o: Opts = {}): JsonSchema => ({ type: 'array', items, ...o }),
  /** A closed object: unknown properties are refused in requests. */
  object: (properties: Record<string, JsonSchema>, required: readonly string[] = [], o: Opts = {}): JsonSchema => ({
    type: 'object',
    properties,
    ...(required.length ? { required: [...required] } : {}),
    additionalProperties: false,
    ...o,
  }),
  /** An object that may carry more properties than listed (responses of evolving services). */
  open: (properties: Record<string, JsonSchema>, required: readonly string[] = [], o: Opts = {}): JsonSchema => ({
    type: 'object',
    properties,
    ...(required.length ? { required: [...required] } : {}),
    ...o,
  }),
  /** A JSON object with any keys. */
  map: (o: Opts = {}): JsonSchema => ({ type: 'object', ...o }),
  nullable: (s: JsonSchema): JsonSchema => {
    if (typeof s.type === 'string')
      return { ...s, type: [s.type, 'null'], ...(s.enum ? { enum: [...(s.enum as unknown[]), null] } : {}) };
    return { anyOf: [s, { type: 'null' }] };
  },
};

export const ErrorSchema = S.object(
  {
    error: S.open(
      {
        code: S.string({ description: 'Stable machine-readable code' }),
        message: S.string(),
        details: S.any(),
      },
      ['code', 'message'],
    ),
  },
  ['error'],
);

/** `{items, nextCursor}`: every list. */
export function page(item: JsonSchema): JsonSchema {
  return S.open(
    {
      items: S.array(item),
      nextCursor: S.nullable(S.string({ description: 'Pass as `cursor` for the next page; null at the end' })),
      total: S.integer(),
    },
    ['items', 'nextCursor'],
  );
}

export const PagingQuery = {
  cursor: S.string({ description: 'From the previous page' }),
  limit: S.integer({ minimum: 1, maximum: 1000, description: 'Page size' }),
};

export const WorkspaceParam = { workspace: S.string({ description: 'Workspace name or id' }) };
