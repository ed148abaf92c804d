/**
 * Response actions requested by custom detections (isolate a device, disable a user, ...). Detections only
 * *request* them through `ActionRequester`; the automation module (issue 7) implements the approval policy and the
 * adapters that act. Until then `StateActionRequester` records every request as pending approval and never acts.
 */
import { createHash } from 'node:crypto';
import type { Migration } from '../state/migrations.js';
import type { SqlDriver } from '../state/sql-driver.js';
import type { ResponseActionType } from './model.js';

export type ActionTargetType = 'device' | 'user' | 'file';

export const ACTION_TARGETS: Readonly<Record<ResponseActionType, ActionTargetType>> = {
  isolateDevice: 'device',
  collectInvestigationPackage: 'device',
  runAntivirusScan: 'device',
  initiateInvestigation: 'device',
  restrictAppExecution: 'device',
  stopAndQuarantineFile: 'file',
  disableUser: 'user',
  forceUserPasswordReset: 'user',
  markUserAsCompromised: 'user',
};

export interface ResponseActionRequest {
  /** Stable per (alert, action, target): asking twice is one request. */
  readonly requestId: string;
  readonly action: ResponseActionType;
  readonly targetType: ActionTargetType;
  /** The target's identifier value, and the result column it came from. */
  readonly targetId: string;
  readonly identifier: string;
  readonly parameters: Readonly<Record<string, string>>;
  /** For devices: the device id from the result (`DeviceId`) when the request targets a file on a device. */
  readonly deviceId: string | null;
  readonly alertId: string;
  readonly ruleId: string;
  readonly ruleName: string;
  readonly requestedAt: string;
  readonly requestedBy: string;
}

export interface ActionRequestStatus {
  readonly requestId: string;
  /** `pending_approval` until the automation module decides. */
  readonly status: string;
}

/** What detections call to ask for a response action. Implementations must never act without approval. */
export interface ActionRequester {
  request(request: ResponseActionRequest): Promise<ActionRequestStatus>;
}

export function actionRequestId(alertId: string, action: string, targetId: string): string {
  return createHash('sha256').update(`${alertId}\n${action}\n${targetId}`).digest('hex').slice(0, 32);
}

export const ACTION_REQUEST_MIGRATIONS: readonly Migration[] = [
  {
    version: 501,
    name: 'detect: response action requests (pending approval)',
    statements: [
      `CREATE TABLE response_action_requests (
        request_id TEXT PRIMARY KEY,
        action TEXT NOT NULL,
        target_type TEXT NOT NULL,
        target_id TEXT NOT NULL,
        identifier TEXT NOT NULL,
        parameters TEXT NOT NULL,
        device_id TEXT,
        alert_id TEXT NOT NULL,
        rule_id TEXT NOT NULL,
        rule_name TEXT NOT NULL,
        status TEXT NOT NULL,
        requested_at TEXT NOT NULL,
        requested_by TEXT NOT NULL
      )`,
      'CREATE INDEX response_action_requests_by_status ON response_action_requests (status, requested_at)',
    ],
  },
];

export interface StoredActionRequest extends ResponseActionRequest {
  readonly status: string;
}

/** Records requests in the state store as `pending_approval`; executes nothing. */
export class StateActionRequester implements ActionRequester {
  constructor(private readonly db: SqlDriver) {}

  async request(r: ResponseActionRequest): Promise<ActionRequestStatus> {
    await this.db.run(
      `INSERT INTO response_action_requests (request_id, action, target_type, target_id, identifier, parameters,
         device_id, alert_id, rule_id, rule_name, status, requested_at, requested_by)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending_approval', ?, ?)
       ON CONFLICT (request_id) DO NOTHING`,
      [
        r.requestId,
        r.action,
        r.targetType,
        r.targetId,
        r.identifier,
        JSON.stringify(r.parameters),
        r.deviceId,
        r.alertId,
        r.ruleId,
        r.ruleName,
        r.requestedAt,
        r.requestedBy,
      ],
    );
    const row = await this.db.get<{ status: string }>(
      'SELECT status FROM response_action_requests WHERE request_id = ?',
      [r.requestId],
    );
    return { requestId: r.requestId, status: row?.status ?? 'pending_approval' };
  }

  async list(status?: string): Promise<StoredActionRequest[]> {
    const rows = await this.db.all<Record<string, string | null>>(
      `SELECT * FROM response_action_requests${status ? ' WHERE status = ?' : ''} ORDER BY requested_at, request_id`,
      status ? [status] : [],
    );
    return rows.map((r) => ({
      requestId: String(r.request_id),
      action: r.action as ResponseActionType,
      targetType: r.target_type as ActionTargetType,
      targetId: String(r.target_id),
      identifier: String(r.identifier),
      parameters: JSON.parse(String(r.parameters)) as Record<string, string>,
      deviceId: r.device_id ?? null,
      alertId: String(r.alert_id),
      ruleId: String(r.rule_id),
      ruleName: String(r.rule_name),
      requestedAt: String(r.requested_at),
      requestedBy: String(r.requested_by),
      status: String(r.status),
    }));
  }
}
