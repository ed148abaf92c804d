/**
 * Response actions: the catalog (what each acts on), the adapter interface, and the first adapter — an HTTP call to
 * a configurable endpoint with a documented JSON contract (`vigil.action/v1`, see CONTEXT.md), so that any EDR, IdP
 * or mail bridge can implement the actions. Every call carries the request id as `Idempotency-Key`: a bridge that
 * sees a key again answers with the first result instead of acting twice, which makes retries and a restart in the
 * middle of a call safe.
 */
import type { Actor } from '../incidents/model.js';
import type { OutboundHttp } from './http-guard.js';
import { OutboundBlockedError, OutboundError } from './http-guard.js';
import type { ActionResult, ActionTarget } from './model.js';

export interface ActionInfo {
  readonly name: string;
  /** What the action needs as its target. */
  readonly target: 'device' | 'user' | 'file' | 'ip' | 'url' | 'email';
  readonly description: string;
}

/** Every action changes the world; each one runs only after approval unless its policy says `auto`. */
export const ACTION_CATALOG: readonly ActionInfo[] = [
  { name: 'isolateDevice', target: 'device', description: 'cut a device off the network (EDR isolation)' },
  { name: 'releaseDevice', target: 'device', description: 'end the isolation of a device' },
  { name: 'restrictAppExecution', target: 'device', description: 'allow only signed applications to run' },
  { name: 'runAntivirusScan', target: 'device', description: 'run a full antivirus scan' },
  { name: 'collectInvestigationPackage', target: 'device', description: 'collect forensic data from a device' },
  { name: 'initiateInvestigation', target: 'device', description: 'start an automated investigation' },
  { name: 'stopAndQuarantineFile', target: 'file', description: 'stop processes of a file and quarantine it' },
  { name: 'quarantineFile', target: 'file', description: 'quarantine a file by hash' },
  { name: 'disableUser', target: 'user', description: 'disable an account' },
  { name: 'forceUserPasswordReset', target: 'user', description: 'require a new password at next sign-in' },
  { name: 'revokeUserSessions', target: 'user', description: 'revoke refresh tokens and sessions' },
  { name: 'markUserAsCompromised', target: 'user', description: 'mark an account as compromised (risk)' },
  { name: 'blockIp', target: 'ip', description: 'block an IP address at the firewall or EDR' },
  { name: 'blockUrl', target: 'url', description: 'block a URL or domain' },
  { name: 'moveEmail', target: 'email', description: 'move a message to another folder (parameters.folder)' },
  { name: 'deleteEmail', target: 'email', description: 'soft- or hard-delete a message (parameters.mode)' },
];

export const ACTION_NAMES: readonly string[] = ACTION_CATALOG.map((a) => a.name);

export function actionInfo(name: string): ActionInfo | null {
  return ACTION_CATALOG.find((a) => a.name === name) ?? null;
}

/** What an adapter receives: the request and the decision (JSON body of the HTTP contract). */
export interface ActionExecution {
  readonly contract: 'vigil.action/v1';
  readonly id: string;
  readonly action: string;
  readonly target: ActionTarget;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly incident: { readonly id: string; readonly number: number; readonly title: string } | null;
  readonly alertId: string | null;
  readonly requestedBy: Actor;
  readonly requestedAt: string;
  readonly approvedBy: Actor;
  readonly approvedAt: string;
  readonly comment: string | null;
}

/** An adapter's failure that is worth retrying (network, timeout, 5xx, 429), as opposed to a refusal. */
export class TransientActionError extends Error {
  override readonly name = 'TransientActionError';
}

export interface ActionAdapter {
  readonly id: string;
  handles(action: string): boolean;
  /** Performs the action; throws TransientActionError for retryable failures. */
  execute(request: ActionExecution, signal: AbortSignal): Promise<ActionResult>;
}

export interface HttpAdapterConfig {
  readonly id: string;
  /** Where the JSON is POSTed. */
  readonly url: string;
  /** The actions this endpoint implements (default: all). */
  readonly actions?: readonly string[];
  /** A secret holding the bearer token sent as `Authorization`. */
  readonly tokenSecret?: string;
  readonly timeoutMs?: number;
}

export class HttpActionAdapter implements ActionAdapter {
  readonly id: string;
  constructor(
    private readonly config: HttpAdapterConfig,
    private readonly http: OutboundHttp,
    /** Reveals a secret (the token) at call time. */
    private readonly secret: (name: string) => Promise<string | null>,
  ) {
    this.id = config.id;
  }

  handles(action: string): boolean {
    return !this.config.actions || this.config.actions.includes(action);
  }

  async execute(request: ActionExecution, signal: AbortSignal): Promise<ActionResult> {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'idempotency-key': request.id,
      'x-vigil-action': request.action,
    };
    if (this.config.tokenSecret) {
      const token = await this.secret(this.config.tokenSecret);
      if (!token) return failed(`the adapter's token secret '${this.config.tokenSecret}' does not exist`);
      headers.authorization = `Bearer ${token}`;
    }
    let res: Awaited<ReturnType<OutboundHttp['request']>>;
    try {
      res = await this.http.request({
        method: 'POST',
        url: this.config.url,
        headers,
        body: JSON.stringify(request),
        timeoutMs: this.config.timeoutMs ?? 30_000,
        signal,
      });
    } catch (e) {
      if (e instanceof OutboundBlockedError) return failed(e.message);
      if (e instanceof OutboundError && e.code !== 'too_large' && e.code !== 'invalid')
        throw new TransientActionError(`${this.id}: ${e.message}`);
      return failed(`${this.id}: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (res.status === 429 || res.status >= 500) throw new TransientActionError(`${this.id} answered ${res.status}`);
    const body = (res.json && typeof res.json === 'object' ? res.json : {}) as Record<string, unknown>;
    const message = typeof body.message === 'string' ? body.message : '';
    const externalId = typeof body.externalId === 'string' ? body.externalId : null;
    if (res.status < 200 || res.status >= 300)
      return failed(`${this.id} refused the action (${res.status})${message ? `: ${message}` : ''}`, body.details);
    const status = body.status === 'failed' ? 'failed' : 'succeeded';
    return {
      status,
      message: message || (status === 'succeeded' ? 'done' : 'failed'),
      externalId,
      details: body.details ?? null,
    };
  }
}

function failed(message: string, details: unknown = null): ActionResult {
  return { status: 'failed', message, externalId: null, details };
}
