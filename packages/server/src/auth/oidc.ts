/**
 * OpenID Connect sign-in, configured by the issuer URL alone (plus the client id and secret the provider gave):
 * discovery (`/.well-known/openid-configuration`), the authorization-code flow with PKCE (S256) and a nonce, the code
 * exchange, and ID-token verification (signature against the provider's JWKS with `node:crypto`: RS256/384/512,
 * PS256, ES256/384; `iss`, `aud`, `exp`, `nbf`, `nonce`). The ID token's `sub` is linked to a Vigil user (see
 * `AuthService.userForIdentity`).
 */
import { createHash, createPublicKey, type JsonWebKey, randomBytes, verify } from 'node:crypto';

export interface OidcConfig {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret?: string;
  /** Where the provider sends the browser back: `<public url>/api/auth/oidc/callback`. */
  readonly redirectUri: string;
  /** Default `openid email profile`. */
  readonly scopes?: string;
  /** Fetch used for discovery, JWKS and the token exchange (tests pass one that trusts their certificate). */
  readonly fetch?: typeof fetch;
  readonly clock?: () => number;
}

interface Discovery {
  readonly issuer: string;
  readonly authorization_endpoint: string;
  readonly token_endpoint: string;
  readonly jwks_uri: string;
}

export interface OidcIdentity {
  readonly issuer: string;
  readonly subject: string;
  /** Only when the provider says it is verified (or does not say: many providers omit `email_verified`). */
  readonly email: string | null;
  readonly name: string | null;
}

interface Pending {
  readonly nonce: string;
  readonly verifier: string;
  readonly returnTo: string;
  readonly expiresAt: number;
}

export class OidcError extends Error {
  override readonly name = 'OidcError';
}

const b64url = (b: Buffer) => b.toString('base64url');

export class OidcClient {
  private discovery: Discovery | null = null;
  private jwks: { keys: (JsonWebKey & { kid?: string; alg?: string; use?: string })[] } | null = null;
  private readonly pending = new Map<string, Pending>();
  private readonly fetch: typeof fetch;
  private readonly clock: () => number;

  constructor(readonly config: OidcConfig) {
    this.fetch = config.fetch ?? fetch;
    this.clock = config.clock ?? Date.now;
  }

  private async discover(): Promise<Discovery> {
    if (this.discovery) return this.discovery;
    const url = `${this.config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    const res = await this.fetch(url);
    if (!res.ok) throw new OidcError(`OIDC discovery failed: ${res.status} from ${url}`);
    const d = (await res.json()) as Discovery;
    if (d.issuer.replace(/\/$/, '') !== this.config.issuer.replace(/\/$/, ''))
      throw new OidcError(`OIDC discovery: the document names issuer ${d.issuer}, not ${this.config.issuer}`);
    this.discovery = d;
    return d;
  }

  /** Starts a sign-in: the provider URL to send the browser to. */
  async begin(returnTo: string): Promise<string> {
    const d = await this.discover();
    const now = this.clock();
    for (const [k, p] of this.pending) if (p.expiresAt <= now) this.pending.delete(k);
    if (this.pending.size > 10_000) throw new OidcError('too many sign-ins in progress');
    const state = b64url(randomBytes(24));
    const nonce = b64url(randomBytes(24));
    const verifier = b64url(randomBytes(32));
    this.pending.set(state, { nonce, verifier, returnTo, expiresAt: now + 10 * 60_000 });
    const u = new URL(d.authorization_endpoint);
    u.searchParams.set('response_type', 'code');
    u.searchParams.set('client_id', this.config.clientId);
    u.searchParams.set('redirect_uri', this.config.redirectUri);
    u.searchParams.set('scope', this.config.scopes ?? 'openid email profile');
    u.searchParams.set('state', state);
    u.searchParams.set('nonce', nonce);
    u.searchParams.set('code_challenge', b64url(createHash('sha256').update(verifier).digest()));
    u.searchParams.set('code_challenge_method', 'S256');
    return u.toString();
  }

  /** Completes a sign-in from the callback's `code` and `state`. */
  async complete(code: string, state: string): Promise<{ identity: OidcIdentity; returnTo: string }> {
    const p = this.pending.get(state);
    this.pending.delete(state);
    if (!p || p.expiresAt <= this.clock()) throw new OidcError('unknown or expired sign-in state');
    const d = await this.discover();
    const body = new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: this.config.redirectUri,
      client_id: this.config.clientId,
      code_verifier: p.verifier,
    });
    if (this.config.clientSecret) body.set('client_secret', this.config.clientSecret);
    const res = await this.fetch(d.token_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body,
    });
    if (!res.ok) throw new OidcError(`the token exchange failed: ${res.status} ${await res.text()}`);
    const tokens = (await res.json()) as { id_token?: string };
    if (!tokens.id_token) throw new OidcError('the provider returned no id_token');
    const claims = await this.verifyIdToken(tokens.id_token, p.nonce);
    const verified = claims.email_verified === undefined || claims.email_verified === true;
    return {
      identity: {
        issuer: d.issuer,
        subject: String(claims.sub),
        email: typeof claims.email === 'string' && verified ? claims.email : null,
        name: typeof claims.name === 'string' ? claims.name : null,
      },
      returnTo: p.returnTo,
    };
  }

  private async key(kid: string | undefined, alg: string): Promise<JsonWebKey> {
    const find = () =>
      this.jwks?.keys.find((k) => (kid === undefined || k.kid === kid) && (k.use === undefined || k.use === 'sig'));
    let k = find();
    if (!k) {
      // Keys rotate: fetch the set again once before giving up.
      const d = await this.discover();
      const res = await this.fetch(d.jwks_uri);
      if (!res.ok) throw new OidcError(`fetching the provider's keys failed: ${res.status}`);
      this.jwks = (await res.json()) as typeof this.jwks;
      k = find();
    }
    if (!k) throw new OidcError(`the provider has no key ${kid ?? ''} for ${alg}`);
    return k;
  }

  async verifyIdToken(jwt: string, nonce: string): Promise<Record<string, unknown>> {
    const parts = jwt.split('.');
    if (parts.length !== 3) throw new OidcError('the id_token is not a JWT');
    const [h, p, s] = parts as [string, string, string];
    const header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as { alg?: string; kid?: string };
    const alg = header.alg ?? '';
    const spec = ALGORITHMS[alg];
    if (!spec) throw new OidcError(`unsupported id_token algorithm '${alg}'`);
    const jwk = await this.key(header.kid, alg);
    const key = createPublicKey({ key: jwk, format: 'jwk' });
    const ok = verify(spec.hash, Buffer.from(`${h}.${p}`), { key, ...spec.options }, Buffer.from(s, 'base64url'));
    if (!ok) throw new OidcError('the id_token signature is invalid');
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as Record<string, unknown>;
    const d = await this.discover();
    const now = this.clock() / 1000;
    const aud = claims.aud;
    if (claims.iss !== d.issuer) throw new OidcError('the id_token was issued by another issuer');
    if (!(aud === this.config.clientId || (Array.isArray(aud) && aud.includes(this.config.clientId))))
      throw new OidcError('the id_token is for another client');
    if (typeof claims.exp !== 'number' || claims.exp < now - 60) throw new OidcError('the id_token has expired');
    if (typeof claims.nbf === 'number' && claims.nbf > now + 60) throw new OidcError('the id_token is not valid yet');
    if (claims.nonce !== nonce) throw new OidcError('the id_token nonce does not match the sign-in');
    if (typeof claims.sub !== 'string' || claims.sub === '') throw new OidcError('the id_token has no subject');
    return claims;
  }
}

const PSS = { padding: 6, saltLength: 32 } as const; // RSA_PKCS1_PSS_PADDING, digest length
const ALGORITHMS: Readonly<Record<string, { hash: string; options: Record<string, unknown> }>> = {
  RS256: { hash: 'sha256', options: {} },
  RS384: { hash: 'sha384', options: {} },
  RS512: { hash: 'sha512', options: {} },
  PS256: { hash: 'sha256', options: PSS },
  ES256: { hash: 'sha256', options: { dsaEncoding: 'ieee-p1363' } },
  ES384: { hash: 'sha384', options: { dsaEncoding: 'ieee-p1363' } },
};
