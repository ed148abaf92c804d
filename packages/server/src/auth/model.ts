/**
 * Who may do what. Roles are Sentinel's (Reader, Responder, Contributor, Owner), assigned per workspace; the Approver
 * permission is a separate grant (separation of duties: an Owner does not approve destructive actions unless someone
 * granted it). Every API route names the one permission it needs; API tokens narrow a user's permissions to their
 * scopes, and may be bound to one workspace.
 */

export type Role = 'Reader' | 'Responder' | 'Contributor' | 'Owner';
export const ROLES: readonly Role[] = ['Reader', 'Responder', 'Contributor', 'Owner'];

/**
 * - `read`: see every resource of the workspace and run KQL (hunt);
 * - `triage`: change incidents (assign, status, classification, comments, tasks, merge/split), run playbooks on demand;
 * - `author`: rules, automation rules, playbooks, connectors, tables, stored functions, data collection rules;
 * - `ingest`: send data to the ingestion endpoints;
 * - `admin`: users and role assignments of the workspace, the audit log;
 * - `approve`: decide on destructive actions (the Approver grant).
 */
export type Permission = 'read' | 'triage' | 'author' | 'ingest' | 'admin' | 'approve';
export const PERMISSIONS: readonly Permission[] = ['read', 'triage', 'author', 'ingest', 'admin', 'approve'];

export const ROLE_PERMISSIONS: Readonly<Record<Role, readonly Permission[]>> = {
  Reader: ['read'],
  Responder: ['read', 'triage'],
  Contributor: ['read', 'triage', 'author', 'ingest'],
  Owner: ['read', 'triage', 'author', 'ingest', 'admin'],
};

export function isRole(v: unknown): v is Role {
  return typeof v === 'string' && (ROLES as readonly string[]).includes(v);
}

export function isPermission(v: unknown): v is Permission {
  return typeof v === 'string' && (PERMISSIONS as readonly string[]).includes(v);
}

/** A user's assignment in one workspace. */
export interface Membership {
  readonly workspaceId: string;
  readonly role: Role;
  readonly approver: boolean;
}

export interface User {
  readonly id: string;
  /** Sign-in name (unique, case-insensitive). */
  readonly name: string;
  readonly displayName: string;
  readonly email: string | null;
  /** May create workspaces and see the server's audit log. */
  readonly serverAdmin: boolean;
  readonly disabled: boolean;
  readonly hasPassword: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export type AuthMethod = 'session' | 'token' | 'oidc';

/** The authenticated caller of a request. */
export interface Principal {
  readonly user: User;
  readonly method: AuthMethod;
  /** Credential id (session or token id), for the audit log. */
  readonly credentialId: string;
  /** The token's scopes (null: everything the user's roles allow). */
  readonly scopes: readonly Permission[] | null;
  /** The token's workspace (null: every workspace the user is a member of). */
  readonly workspaceId: string | null;
  readonly memberships: ReadonlyMap<string, Membership>;
}

/** The permissions a principal holds in a workspace (roles ∩ token scopes). */
export function permissionsIn(p: Principal, workspaceId: string): Set<Permission> {
  const out = new Set<Permission>();
  if (p.workspaceId !== null && p.workspaceId !== workspaceId) return out;
  const m = p.memberships.get(workspaceId);
  if (!m) return out;
  for (const perm of ROLE_PERMISSIONS[m.role]) out.add(perm);
  if (m.approver) out.add('approve');
  if (p.scopes) for (const perm of [...out]) if (!p.scopes.includes(perm)) out.delete(perm);
  return out;
}

export function can(p: Principal, workspaceId: string, permission: Permission): boolean {
  return permissionsIn(p, workspaceId).has(permission);
}

/** A server-level permission (create workspaces, server audit): admins, and only through an unscoped credential. */
export function isServerAdmin(p: Principal): boolean {
  return p.user.serverAdmin && (p.scopes === null || p.scopes.includes('admin')) && p.workspaceId === null;
}
