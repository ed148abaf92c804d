/**
 * Passwords and bearer secrets. Passwords are hashed with argon2id (OWASP's minimum parameters: 19 MiB, 2
 * iterations); session and API-token secrets are 256-bit random values, so a SHA-256 of the secret is enough at rest
 * (no brute force can invert it) and lets a request be authenticated with one indexed lookup.
 *
 * Credential format: `vgl_<kind><id>.<secret>` — the id finds the row, the secret is compared in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { type Algorithm, hash, verify } from '@node-rs/argon2';

export const MIN_PASSWORD_LENGTH = 12;

// `Algorithm` is an ambient const enum (not importable as a value under isolated modules): 2 is Argon2id.
const ARGON2 = { algorithm: 2 as Algorithm, memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export async function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2);
}

export async function verifyPassword(stored: string, password: string): Promise<boolean> {
  try {
    return await verify(stored, password);
  } catch {
    return false;
  }
}

/** Why a password is refused, or null. */
export function passwordProblem(password: string, userName?: string): string | null {
  if (password.length < MIN_PASSWORD_LENGTH) return `a password needs at least ${MIN_PASSWORD_LENGTH} characters`;
  if (password.length > 1024) return 'a password has at most 1024 characters';
  if (userName && password.toLowerCase().includes(userName.toLowerCase()))
    return 'a password must not contain the user name';
  if (new Set(password).size < 5) return 'a password needs at least 5 different characters';
  return null;
}

export type CredentialKind = 's' | 't';

export interface IssuedCredential {
  readonly id: string;
  /** The whole bearer value, shown once. */
  readonly value: string;
  /** What is stored. */
  readonly secretHash: string;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function issueCredential(kind: CredentialKind): IssuedCredential {
  const id = `${kind}${randomBytes(9).toString('base64url')}`;
  const secret = randomBytes(32).toString('base64url');
  return { id, value: `vgl_${id}.${secret}`, secretHash: sha256(secret) };
}

/** Splits a bearer value into id and secret; null when it is not one of ours. */
export function parseCredential(value: string): { id: string; kind: CredentialKind; secret: string } | null {
  const m = /^vgl_([st][A-Za-z0-9_-]{12})\.([A-Za-z0-9_-]{43})$/.exec(value);
  if (!m) return null;
  const id = m[1] as string;
  return { id, kind: id[0] as CredentialKind, secret: m[2] as string };
}

export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(sha256(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** A one-time code people type or paste (setup of the first Owner). */
export function oneTimeCode(): string {
  return randomBytes(18).toString('base64url');
}
