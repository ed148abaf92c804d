/**
 * What the API commands (`login`, `incidents`, `hunt`, `users`, `tokens`, `workspaces`, `audit`, `automation`,
 * `api`) share: where the server is and which credential to send, one HTTP call with Vigil's error answers turned
 * into readable failures, and plain-text tables.
 *
 * The server, token and workspace come from the options (`--server`, `--token`, `--workspace`), else the
 * environment (`VIGIL_SERVER`, `VIGIL_TOKEN`, `VIGIL_WORKSPACE`), else the file `vigil login` wrote
 * (`$VIGIL_CONFIG`, default `$XDG_CONFIG_HOME/vigil/cli.json` or `~/.config/vigil/cli.json`, mode 0600).
 * Scripts use API tokens (scoped, expiring); `vigil login` mints one from a name and password.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { type CliIO, type OptionSpec, type ParsedArgs, stringOption, UsageError } from './command.js';

/** Options every API command accepts. */
export const REMOTE_OPTIONS: OptionSpec = {
  server: { type: 'string' },
  token: { type: 'string' },
  workspace: { type: 'string', short: 'w' },
  json: { type: 'boolean' },
};

export const REMOTE_USAGE = `Connection (default: what 'vigil login' saved):
  --server URL          the Vigil server (or VIGIL_SERVER)
  --token TOKEN         an API token or session token (or VIGIL_TOKEN)
  --workspace NAME, -w  the workspace (or VIGIL_WORKSPACE; default: the saved one, else 'default')
  --json                print the server's JSON answer instead of text`;

export interface SavedLogin {
  readonly server: string;
  readonly token: string;
  readonly tokenId?: string;
  readonly user?: string;
  readonly workspace?: string;
}

export function configPath(): string {
  if (process.env.VIGIL_CONFIG) return process.env.VIGIL_CONFIG;
  const base = process.env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'vigil', 'cli.json');
}

export async function readLogin(): Promise<SavedLogin | null> {
  try {
    const j = JSON.parse(await readFile(configPath(), 'utf8')) as Partial<SavedLogin>;
    return typeof j.server === 'string' && typeof j.token === 'string' ? (j as SavedLogin) : null;
  } catch {
    return null;
  }
}

export async function saveLogin(login: SavedLogin): Promise<string> {
  const path = configPath();
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  // The token is a credential: only its owner may read the file.
  await writeFile(path, `${JSON.stringify(login, null, 2)}\n`, { mode: 0o600 });
  return path;
}

export async function forgetLogin(): Promise<void> {
  await rm(configPath(), { force: true });
}

/** A refused or failed call: Vigil's `{error: {code, message, details?}}` with the HTTP status. */
export class RemoteError extends Error {
  override readonly name = 'RemoteError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export interface CallOptions {
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Statuses that are answers, not failures (default: any 2xx). */
  readonly accept?: readonly number[];
}

export interface Answer<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly json: T;
  readonly text: string;
}

export class Remote {
  constructor(
    readonly server: string,
    readonly token: string | null,
    readonly workspace: string,
  ) {}

  /** `/api/workspaces/<workspace><path>`. */
  ws(path: string): string {
    return `/api/workspaces/${encodeURIComponent(this.workspace)}${path}`;
  }

  async raw(method: string, path: string, o: CallOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { accept: 'application/json', ...(o.headers ?? {}) };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let body: string | undefined;
    if (o.body !== undefined) {
      body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
      headers['content-type'] ??= 'application/json';
    }
    try {
      return await fetch(new URL(path, this.server), { method, headers, ...(body !== undefined ? { body } : {}) });
    } catch (e) {
      const cause = (e as { cause?: { code?: string; message?: string } }).cause;
      throw new RemoteError(0, 'unreachable', `cannot reach ${this.server}: ${cause?.code ?? cause?.message ?? e}`);
    }
  }

  async call<T = Record<string, unknown>>(method: string, path: string, o: CallOptions = {}): Promise<Answer<T>> {
    const res = await this.raw(method, path, o);
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    const ok = o.accept ? o.accept.includes(res.status) : res.status >= 200 && res.status < 300;
    if (!ok) throw errorOf(res.status, json, text, this);
    return { status: res.status, headers: res.headers, json: json as T, text };
  }

  /** Every item of a cursor-paged list, up to `max`. */
  async all<T>(path: string, max = Number.POSITIVE_INFINITY): Promise<T[]> {
    const out: T[] = [];
    let cursor: string | null = null;
    do {
      const sep = path.includes('?') ? '&' : '?';
      const page: Answer<{ items: T[]; nextCursor: string | null }> = await this.call(
        'GET',
        `${path}${cursor ? `${sep}cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      out.push(...page.json.items);
      cursor = page.json.nextCursor;
    } while (cursor && out.length < max);
    return out.slice(0, max);
  }
}

function errorOf(status: number, json: unknown, text: string, remote: Remote): RemoteError {
  const e = (json as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
  const code = typeof e?.code === 'string' ? e.code : `http_${status}`;
  let message = typeof e?.message === 'string' ? e.message : text.slice(0, 500) || `HTTP ${status}`;
  if (status === 401) message += remote.token ? ' (sign in again: vigil login)' : ' (sign in first: vigil login)';
  return new RemoteError(status, code, `${status} ${code}: ${message}`, e?.details);
}

/** The connection of an API command, from its options, the environment and the saved login. */
export async function connect(args: ParsedArgs, o: { anonymous?: boolean } = {}): Promise<Remote> {
  const saved = await readLogin();
  const server = stringOption(args, 'server') ?? process.env.VIGIL_SERVER ?? saved?.server;
  if (!server) throw new UsageError('no server: pass --server URL, set VIGIL_SERVER, or run vigil login');
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new UsageError(`--server must be a URL like http://127.0.0.1:8080, not '${server}'`);
  }
  // A saved token belongs to the server it was minted on.
  const sameServer = saved && new URL(saved.server).origin === url.origin;
  const token = stringOption(args, 'token') ?? process.env.VIGIL_TOKEN ?? (sameServer ? saved.token : undefined);
  if (!token && !o.anonymous) throw new UsageError('no credential: run vigil login, or pass --token (or VIGIL_TOKEN)');
  const workspace =
    stringOption(args, 'workspace') ??
    process.env.VIGIL_WORKSPACE ??
    (sameServer ? saved.workspace : undefined) ??
    'default';
  return new Remote(url.origin + url.pathname.replace(/\/$/, ''), token ?? null, workspace);
}

/** Prints JSON (for `--json`) and returns true when asked to. */
export function printJson(args: ParsedArgs, io: CliIO, value: unknown): boolean {
  if (args.values.json !== true) return false;
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  return true;
}

/** Rows as aligned text columns (long cells are cut to keep one row per line). */
export function printTable(io: CliIO, headers: readonly string[], rows: readonly (readonly unknown[])[]): void {
  const cell = (v: unknown): string => {
    if (v === null || v === undefined) return '';
    const s = typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
    const flat = s.replace(/\s+/g, ' ');
    return flat.length > 80 ? `${flat.slice(0, 79)}…` : flat;
  };
  const texts = rows.map((r) => headers.map((_, i) => cell(r[i])));
  const widths = headers.map((h, i) => Math.max(h.length, ...texts.map((t) => (t[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  io.stdout.write(`${line(headers)}\n`);
  for (const t of texts) io.stdout.write(`${line(t)}\n`);
  if (rows.length === 0) io.stderr.write('(none)\n');
}

/** `name: value` lines for one object. */
export function printFields(io: CliIO, fields: readonly (readonly [string, unknown])[]): void {
  const width = Math.max(...fields.map(([k]) => k.length));
  for (const [k, v] of fields) {
    if (v === undefined) continue;
    const text = v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
    io.stdout.write(`${`${k}:`.padEnd(width + 2)}${text}\n`);
  }
}

/** The subcommand (first positional) and its own positionals; refuses unknown subcommands. */
export function subcommand(
  args: ParsedArgs,
  known: readonly string[],
  fallback?: string,
): { sub: string; rest: readonly string[] } {
  const [first, ...rest] = args.positionals;
  const sub = first ?? fallback;
  if (!sub) throw new UsageError(`missing the subcommand: ${known.join(', ')}`);
  if (!known.includes(sub)) throw new UsageError(`unknown subcommand '${sub}'; one of ${known.join(', ')}`);
  return { sub, rest };
}

export function positional(rest: readonly string[], index: number, what: string): string {
  const v = rest[index];
  if (v === undefined || v === '') throw new UsageError(`missing ${what}`);
  return v;
}

export function listOption(args: ParsedArgs, name: string): string[] {
  const v = args.values[name];
  if (v === undefined) return [];
  const list = Array.isArray(v) ? v : [String(v)];
  return list.flatMap((x) => x.split(',')).filter((x) => x !== '');
}

export function intOption(args: ParsedArgs, name: string, min = 1, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const v = stringOption(args, name);
  if (v === undefined) return undefined;
  if (!/^[0-9]+$/.test(v) || Number(v) < min || Number(v) > max)
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}`);
  return Number(v);
}

/** Reads all of stdin (a password, a YAML file piped in). */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
  return Buffer.concat(chunks).toString('utf8');
}

/** Query string from defined values (repeated keys for lists). */
export function queryString(
  params: Readonly<Record<string, string | number | boolean | readonly string[] | undefined>>,
): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) {
      if (v.length > 0) q.set(k, v.join(','));
    } else q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}
