/**
 * Signing in (password, one-time setup codes, OpenID Connect), sessions, API tokens, users and role assignments,
 * workspaces, the audit log, health and the OpenAPI document.
 *
 * Isolation of users: a workspace Owner manages the role assignments of that workspace only; a user's profile
 * (name, e-mail, password reset, disabling) can be changed by an Owner only when every workspace the user belongs
 * to is one where the caller is an Owner — a tenant's Owner cannot take over an account of another tenant.
 */
import type { FastifyReply } from 'fastify';
import {
  isServerAdmin,
  type Membership,
  PERMISSIONS,
  type Permission,
  type Principal,
  permissionsIn,
  ROLE_PERMISSIONS,
  ROLES,
  type Role,
  type User,
} from '../../auth/model.js';
import { ApiError, forbidden, notFound } from '../errors.js';
import { buildOpenApi } from '../openapi.js';
import { type AnyRoute, type ApiDeps, type Ctx, pageList, route, SESSION_COOKIE } from '../route.js';
import { ErrorSchema, PagingQuery, page, S, WorkspaceParam } from '../schema.js';

const str = S.string();
const nstr = S.nullable(S.string());
const E = {
  400: { description: 'Invalid request', schema: ErrorSchema },
  401: { description: 'Not signed in', schema: ErrorSchema },
  403: { description: 'Not allowed', schema: ErrorSchema },
  404: { description: 'Not found', schema: ErrorSchema },
};
const UserSchema = S.open(
  {
    id: str,
    name: str,
    displayName: str,
    email: nstr,
    serverAdmin: S.boolean(),
    disabled: S.boolean(),
    hasPassword: S.boolean(),
    createdAt: str,
    updatedAt: str,
  },
  ['id', 'name'],
);
const MemberSchema = S.open({ user: UserSchema, role: S.enum(ROLES), approver: S.boolean() }, [
  'user',
  'role',
  'approver',
]);
const TokenSchema = S.open(
  {
    id: str,
    name: str,
    scopes: S.nullable(S.array(S.enum(PERMISSIONS))),
    workspaceId: nstr,
    createdAt: str,
    expiresAt: str,
    lastUsedAt: nstr,
    revokedAt: nstr,
  },
  ['id', 'name', 'expiresAt'],
);
const WorkspaceSchema = S.open(
  {
    id: str,
    name: str,
    displayName: str,
    createdAt: str,
    role: S.nullable(S.enum(ROLES)),
    approver: S.boolean(),
    permissions: S.array(S.enum(PERMISSIONS)),
  },
  ['id', 'name'],
);
const AuditSchema = S.open(
  {
    id: S.integer(),
    at: str,
    userName: str,
    auth: str,
    kind: S.enum(['change', 'query', 'auth']),
    action: str,
    method: str,
    path: str,
    target: nstr,
    status: S.integer(),
    durationMs: S.number(),
    details: S.any(),
  },
  ['id', 'at', 'userName', 'action', 'status'],
);
const SessionAnswer = S.open({ token: str, expiresAt: str, user: UserSchema }, ['token', 'expiresAt', 'user']);
const WS = S.object(WorkspaceParam, ['workspace']);
const MemberParams = S.object({ ...WorkspaceParam, id: str }, ['workspace', 'id']);

function setSessionCookie(reply: FastifyReply, token: string, expiresAt: string, secure: boolean): void {
  const parts = [
    `${SESSION_COOKIE}=${encodeURIComponent(token)}`,
    'Path=/',
    'HttpOnly',
    'SameSite=Strict',
    `Expires=${new Date(expiresAt).toUTCString()}`,
  ];
  if (secure) parts.push('Secure');
  void reply.header('set-cookie', parts.join('; '));
}

function workspaceView(deps: ApiDeps, p: Principal, wsId: string) {
  const ws = deps.manager.get(wsId);
  if (!ws) return null;
  const m = p.memberships.get(ws.id);
  return {
    id: ws.id,
    name: ws.name,
    displayName: ws.record.displayName,
    createdAt: ws.record.createdAt,
    role: m?.role ?? null,
    approver: m?.approver ?? false,
    permissions: [...permissionsIn(p, ws.id)],
  };
}

/** May the caller change this user's profile (see the file comment)? */
async function mayManageProfile(deps: ApiDeps, caller: Principal, userId: string): Promise<boolean> {
  if (isServerAdmin(caller)) return true;
  const target = await deps.auth.getUser(userId);
  if (!target || target.serverAdmin) return false;
  const ms = await deps.auth.memberships(userId);
  return ms.length > 0 && ms.every((m) => permissionsIn(caller, m.workspaceId).has('admin'));
}

async function memberOrThrow(
  ctx: Ctx<{ workspace: string; id: string }, unknown, unknown>,
): Promise<{ user: User; membership: Membership }> {
  const u = await ctx.deps.auth.getUser(ctx.params.id);
  const m = u ? (await ctx.deps.auth.memberships(u.id)).find((x) => x.workspaceId === ctx.ws.id) : undefined;
  if (!u || !m) throw notFound(`user ${ctx.params.id} in this workspace`);
  return { user: u, membership: m };
}

async function keepAnOwner(
  ctx: Ctx<{ workspace: string; id: string }, unknown, unknown>,
  current: Membership,
  nextRole: Role | null,
): Promise<void> {
  if (current.role === 'Owner' && nextRole !== 'Owner' && (await ctx.deps.auth.ownerCount(ctx.ws.id)) <= 1)
    throw new ApiError(409, 'last_owner', 'a workspace keeps at least one Owner');
}

export const accessRoutes: AnyRoute[] = [
  // ── system ──
  route({
    method: 'GET',
    path: '/api/health',
    operationId: 'system.health',
    summary: 'Liveness',
    tags: ['System'],
    access: { kind: 'public' },
    responses: {
      200: { description: 'OK', schema: S.object({ status: S.enum(['ok']), workspaces: S.integer() }, ['status']) },
    },
    handler: async (ctx) => ({ status: 'ok', workspaces: ctx.deps.manager.list().length }),
  }),
  route({
    method: 'GET',
    path: '/api/openapi.json',
    operationId: 'system.openapi',
    summary: 'This OpenAPI 3.1 document',
    tags: ['System'],
    access: { kind: 'public' },
    responses: { 200: { description: 'The document', schema: S.map() } },
    handler: async (ctx) => buildOpenApi(ctx.deps.routes()),
  }),

  // ── signing in ──
  route({
    method: 'GET',
    path: '/api/auth/providers',
    operationId: 'auth.providers',
    summary: 'How to sign in: password, and OpenID Connect when configured',
    tags: ['Authentication'],
    access: { kind: 'public' },
    responses: {
      200: {
        description: 'Providers',
        schema: S.object({ password: S.boolean(), oidc: S.nullable(S.object({ issuer: str, loginUrl: str })) }, [
          'password',
          'oidc',
        ]),
      },
    },
    handler: async (ctx) => ({
      password: true,
      oidc: ctx.deps.oidc ? { issuer: ctx.deps.oidc.config.issuer, loginUrl: '/api/auth/oidc/login' } : null,
    }),
  }),
  route<unknown, unknown, { name: string; password: string }>({
    method: 'POST',
    path: '/api/auth/login',
    operationId: 'auth.login',
    summary: 'Sign in with a password: a session token (also set as an HttpOnly cookie)',
    tags: ['Authentication'],
    access: { kind: 'public' },
    audit: 'auth',
    body: S.object(
      { name: S.string({ minLength: 1, maxLength: 128 }), password: S.string({ minLength: 1, maxLength: 1024 }) },
      ['name', 'password'],
    ),
    responses: {
      200: { description: 'Signed in', schema: SessionAnswer },
      ...E,
      429: { description: 'Too many failures', schema: ErrorSchema },
    },
    handler: async (ctx) => {
      ctx.audit.target = ctx.body.name;
      ctx.audit.details = { name: ctx.body.name };
      const s = await ctx.deps.auth.login(
        ctx.body.name,
        ctx.body.password,
        String(ctx.request.headers['user-agent'] ?? ''),
      );
      setSessionCookie(ctx.reply, s.token, s.expiresAt, ctx.request.protocol === 'https');
      return { token: s.token, expiresAt: s.expiresAt, user: s.user };
    },
  }),
  route({
    method: 'POST',
    path: '/api/auth/logout',
    operationId: 'auth.logout',
    summary: 'End this session',
    tags: ['Authentication'],
    access: { kind: 'user' },
    audit: 'auth',
    responses: { 204: { description: 'Signed out' }, ...E },
    handler: async (ctx) => {
      const p = ctx.me();
      if (p.method !== 'token') await ctx.deps.auth.logout(p.credentialId);
      ctx.reply.header('set-cookie', `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
      ctx.reply.status(204);
    },
  }),
  route<unknown, unknown, { code: string; password: string }>({
    method: 'POST',
    path: '/api/auth/setup',
    operationId: 'auth.setup',
    summary: 'Set a password with a one-time setup code (first start, invitations, resets)',
    tags: ['Authentication'],
    access: { kind: 'public' },
    audit: 'auth',
    body: S.object(
      { code: S.string({ minLength: 10, maxLength: 256 }), password: S.string({ minLength: 1, maxLength: 1024 }) },
      ['code', 'password'],
    ),
    responses: { 200: { description: 'The user, who can now sign in', schema: UserSchema }, ...E },
    handler: async (ctx) => {
      const u = await ctx.deps.auth.completeSetup(ctx.body.code, ctx.body.password);
      ctx.audit.target = u.name;
      return u;
    },
  }),
  route({
    method: 'GET',
    path: '/api/auth/me',
    operationId: 'auth.me',
    summary: 'Who I am: user, how I signed in, my workspaces, roles and permissions',
    tags: ['Authentication'],
    access: { kind: 'user' },
    responses: {
      200: {
        description: 'Me',
        schema: S.open(
          { user: UserSchema, method: str, scopes: S.nullable(S.array(str)), workspaces: S.array(WorkspaceSchema) },
          ['user', 'workspaces'],
        ),
      },
      ...E,
    },
    handler: async (ctx) => {
      const p = ctx.me();
      return {
        user: p.user,
        method: p.method,
        scopes: p.scopes,
        workspaces: [...p.memberships.keys()]
          .map((id) => workspaceView(ctx.deps, p, id))
          .filter((w) => w && w.permissions.length > 0),
      };
    },
  }),
  route<unknown, unknown, { currentPassword: string; newPassword: string }>({
    method: 'PUT',
    path: '/api/auth/password',
    operationId: 'auth.changePassword',
    summary: 'Change my password (ends my other sessions)',
    tags: ['Authentication'],
    access: { kind: 'user' },
    body: S.object({ currentPassword: S.string({ maxLength: 1024 }), newPassword: S.string({ maxLength: 1024 }) }, [
      'currentPassword',
      'newPassword',
    ]),
    responses: { 204: { description: 'Changed' }, ...E },
    handler: async (ctx) => {
      await ctx.deps.auth.changePassword(ctx.me().user.id, ctx.body.currentPassword, ctx.body.newPassword);
      ctx.reply.status(204);
    },
  }),
  route<unknown, { returnTo?: string }>({
    method: 'GET',
    path: '/api/auth/oidc/login',
    operationId: 'auth.oidcLogin',
    summary: 'Start an OpenID Connect sign-in (redirects to the provider)',
    tags: ['Authentication'],
    access: { kind: 'public' },
    query: S.object({ returnTo: S.string({ maxLength: 2048, description: 'A path of this server to come back to' }) }),
    responses: {
      302: { description: 'To the identity provider' },
      404: { description: 'OIDC is not configured', schema: ErrorSchema },
    },
    handler: async (ctx) => {
      if (!ctx.deps.oidc) throw notFound('OpenID Connect provider (not configured)');
      const back = ctx.query.returnTo ?? '/';
      // Only local paths: the sign-in must not become an open redirect.
      const returnTo = back.startsWith('/') && !back.startsWith('//') ? back : '/';
      return ctx.reply.redirect(await ctx.deps.oidc.begin(returnTo), 302);
    },
  }),
  route<unknown, { code?: string; state?: string; error?: string; error_description?: string }>({
    method: 'GET',
    path: '/api/auth/oidc/callback',
    operationId: 'auth.oidcCallback',
    summary: 'Where the identity provider returns: opens a session and redirects',
    tags: ['Authentication'],
    access: { kind: 'public' },
    audit: 'auth',
    query: S.open({ code: str, state: str, error: str, error_description: str }),
    responses: { 302: { description: 'Signed in: back to the page that started' }, ...E },
    handler: async (ctx) => {
      const oidc = ctx.deps.oidc;
      if (!oidc) throw notFound('OpenID Connect provider (not configured)');
      if (ctx.query.error)
        throw new ApiError(401, 'oidc_error', `${ctx.query.error}: ${ctx.query.error_description ?? ''}`);
      if (!ctx.query.code || !ctx.query.state) throw new ApiError(400, 'bad_request', 'code and state are required');
      let done: Awaited<ReturnType<typeof oidc.complete>>;
      try {
        done = await oidc.complete(ctx.query.code, ctx.query.state);
      } catch (e) {
        throw new ApiError(401, 'oidc_failed', e instanceof Error ? e.message : String(e));
      }
      const user = await ctx.deps.auth.userForIdentity(
        done.identity.issuer,
        done.identity.subject,
        done.identity.email,
      );
      ctx.audit.target = user.name;
      ctx.audit.details = { issuer: done.identity.issuer, subject: done.identity.subject };
      const s = await ctx.deps.auth.openSession(user, 'oidc', String(ctx.request.headers['user-agent'] ?? ''));
      setSessionCookie(ctx.reply, s.token, s.expiresAt, ctx.request.protocol === 'https');
      return ctx.reply.redirect(done.returnTo, 302);
    },
  }),

  // ── API tokens ──
  route<unknown, { cursor?: string; limit?: number }>({
    method: 'GET',
    path: '/api/tokens',
    operationId: 'tokens.list',
    summary: 'My API tokens (never their secrets)',
    tags: ['API tokens'],
    access: { kind: 'user' },
    query: S.object(PagingQuery),
    responses: { 200: { description: 'A page of tokens', schema: page(TokenSchema) }, ...E },
    handler: async (ctx) =>
      pageList(await ctx.deps.auth.tokens(ctx.me().user.id), (t) => t.id, ctx.query.cursor, ctx.query.limit),
  }),
  route<unknown, unknown, { name: string; scopes?: Permission[]; workspace?: string; expiresInDays?: number }>({
    method: 'POST',
    path: '/api/tokens',
    operationId: 'tokens.create',
    summary: 'Create an API token for scripts: scoped, optionally bound to one workspace, expiring. Shown once.',
    tags: ['API tokens'],
    access: { kind: 'user' },
    body: S.object(
      {
        name: S.string({ minLength: 1, maxLength: 128 }),
        scopes: S.array(S.enum(PERMISSIONS), { minItems: 1, uniqueItems: true }),
        workspace: S.string({ description: 'Bind the token to this workspace (name or id)' }),
        expiresInDays: S.integer({ minimum: 1, maximum: 366 }),
      },
      ['name'],
    ),
    responses: {
      201: {
        description: 'The token; `value` is the bearer secret, shown only now',
        schema: S.open({ value: str, token: TokenSchema }, ['value', 'token']),
      },
      ...E,
    },
    handler: async (ctx) => {
      const p = ctx.me();
      // A token cannot mint tokens: its scopes would not bound what it creates.
      if (p.method === 'token') throw forbidden('create API tokens from a signed-in session, not with a token');
      let workspaceId: string | null = null;
      if (ctx.body.workspace !== undefined) {
        const ws = ctx.deps.manager.get(ctx.body.workspace);
        if (!ws || !p.memberships.has(ws.id)) throw notFound(`workspace '${ctx.body.workspace}'`);
        workspaceId = ws.id;
      }
      const t = await ctx.deps.auth.createToken(p.user.id, {
        name: ctx.body.name,
        scopes: ctx.body.scopes ?? null,
        workspaceId,
        ...(ctx.body.expiresInDays !== undefined ? { expiresInDays: ctx.body.expiresInDays } : {}),
      });
      ctx.audit.target = t.token.id;
      ctx.reply.status(201);
      return t;
    },
  }),
  route<{ id: string }>({
    method: 'DELETE',
    path: '/api/tokens/:id',
    operationId: 'tokens.revoke',
    summary: 'Revoke one of my API tokens',
    tags: ['API tokens'],
    access: { kind: 'user' },
    params: S.object({ id: str }, ['id']),
    responses: { 204: { description: 'Revoked' }, ...E },
    handler: async (ctx) => {
      if (!(await ctx.deps.auth.revokeToken(ctx.me().user.id, ctx.params.id))) throw notFound(`token ${ctx.params.id}`);
      ctx.reply.status(204);
    },
  }),

  // ── workspaces ──
  route<unknown, { cursor?: string; limit?: number }>({
    method: 'GET',
    path: '/api/workspaces',
    operationId: 'workspaces.list',
    summary: 'The workspaces I can use (every workspace for a server administrator)',
    tags: ['Workspaces'],
    access: { kind: 'user' },
    query: S.object(PagingQuery),
    responses: { 200: { description: 'A page of workspaces', schema: page(WorkspaceSchema) }, ...E },
    handler: async (ctx) => {
      const p = ctx.me();
      const all = ctx.deps.manager
        .list()
        .filter((w) => isServerAdmin(p) || permissionsIn(p, w.id).size > 0)
        .map((w) => workspaceView(ctx.deps, p, w.id))
        .filter((w): w is NonNullable<typeof w> => w !== null);
      return pageList(all, (w) => w.name, ctx.query.cursor, ctx.query.limit);
    },
  }),
  route<unknown, unknown, { name: string; displayName?: string }>({
    method: 'POST',
    path: '/api/workspaces',
    operationId: 'workspaces.create',
    summary: 'Create a workspace (a tenant): its own data, rules, incidents, automation and users; I become its Owner',
    tags: ['Workspaces'],
    access: { kind: 'server-admin' },
    body: S.object(
      { name: S.string({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' }), displayName: S.string({ maxLength: 256 }) },
      ['name'],
    ),
    responses: {
      201: { description: 'The workspace', schema: WorkspaceSchema },
      ...E,
      409: { description: 'Name taken', schema: ErrorSchema },
    },
    handler: async (ctx) => {
      const p = ctx.me();
      const ws = await ctx.deps.manager.create(ctx.body.name, ctx.body.displayName ?? ctx.body.name, p.user.name);
      await ctx.deps.auth.setMembership(p.user.id, ws.id, 'Owner', false);
      ctx.audit.target = ws.id;
      ctx.reply.status(201);
      return {
        id: ws.id,
        name: ws.name,
        displayName: ws.record.displayName,
        createdAt: ws.record.createdAt,
        role: 'Owner',
        approver: false,
        permissions: ROLE_PERMISSIONS.Owner,
      };
    },
  }),
  route<{ workspace: string }>({
    method: 'GET',
    path: '/api/workspaces/:workspace',
    operationId: 'workspaces.get',
    summary: 'A workspace, with my role and permissions in it',
    tags: ['Workspaces'],
    access: { kind: 'workspace', permission: 'read' },
    params: WS,
    responses: { 200: { description: 'The workspace', schema: WorkspaceSchema }, ...E },
    handler: async (ctx) => workspaceView(ctx.deps, ctx.me(), ctx.ws.id),
  }),

  // ── users and roles of a workspace ──
  route<{ workspace: string }, { cursor?: string; limit?: number }>({
    method: 'GET',
    path: '/api/workspaces/:workspace/users',
    operationId: 'users.list',
    summary: 'Members of the workspace with their roles',
    tags: ['Users'],
    access: { kind: 'workspace', permission: 'admin' },
    params: WS,
    query: S.object(PagingQuery),
    responses: { 200: { description: 'A page of members', schema: page(MemberSchema) }, ...E },
    handler: async (ctx) => {
      const limit = Math.min(ctx.query.limit ?? 100, 1000);
      const after = ctx.query.cursor ? Buffer.from(ctx.query.cursor, 'base64url').toString() : null;
      const rows = await ctx.deps.auth.members(ctx.ws.id, after, limit + 1);
      const items = rows
        .slice(0, limit)
        .map((r) => ({ user: r.user, role: r.membership.role, approver: r.membership.approver }));
      const last = items[items.length - 1];
      return {
        items,
        nextCursor:
          rows.length > limit && last ? Buffer.from(last.user.name.toLowerCase()).toString('base64url') : null,
      };
    },
  }),
  route<
    { workspace: string },
    unknown,
    { name: string; displayName?: string; email?: string; password?: string; role: Role; approver?: boolean }
  >({
    method: 'POST',
    path: '/api/workspaces/:workspace/users',
    operationId: 'users.create',
    summary:
      'Add a user to the workspace with a role (a new local user; without a password, a one-time setup code is returned)',
    tags: ['Users'],
    access: { kind: 'workspace', permission: 'admin' },
    params: WS,
    body: S.object(
      {
        name: S.string({ minLength: 1, maxLength: 128 }),
        displayName: S.string({ maxLength: 256 }),
        email: S.string({ maxLength: 320, format: 'email' }),
        password: S.string({ maxLength: 1024 }),
        role: S.enum(ROLES),
        approver: S.boolean(),
      },
      ['name', 'role'],
    ),
    responses: {
      201: {
        description: 'The member',
        schema: S.open({ user: UserSchema, role: S.enum(ROLES), approver: S.boolean(), setupCode: S.nullable(str) }, [
          'user',
          'role',
        ]),
      },
      ...E,
      409: { description: 'Name taken', schema: ErrorSchema },
    },
    handler: async (ctx) => {
      const p = ctx.me();
      const b = ctx.body;
      let user = await ctx.deps.auth.findUserByName(b.name);
      let setupCode: string | null = null;
      if (user) {
        // Adding an existing account to a tenant is for server administrators only.
        if (!isServerAdmin(p)) throw new ApiError(409, 'conflict', `a user named '${b.name}' exists`);
      } else {
        user = await ctx.deps.auth.createUser({
          name: b.name,
          ...(b.displayName ? { displayName: b.displayName } : {}),
          ...(b.email ? { email: b.email } : {}),
          ...(b.password !== undefined ? { password: b.password } : {}),
        });
        if (b.password === undefined) setupCode = await ctx.deps.auth.issueSetupCode(user.id);
      }
      const m = await ctx.deps.auth.setMembership(user.id, ctx.ws.id, b.role, b.approver ?? false);
      ctx.audit.target = user.id;
      ctx.reply.status(201);
      return { user, role: m.role, approver: m.approver, setupCode };
    },
  }),
  route<{ workspace: string; id: string }>({
    method: 'GET',
    path: '/api/workspaces/:workspace/users/:id',
    operationId: 'users.get',
    summary: 'A member of the workspace',
    tags: ['Users'],
    access: { kind: 'workspace', permission: 'admin' },
    params: MemberParams,
    responses: { 200: { description: 'The member', schema: MemberSchema }, ...E },
    handler: async (ctx) => {
      const { user, membership } = await memberOrThrow(ctx);
      return { user, role: membership.role, approver: membership.approver };
    },
  }),
  route<
    { workspace: string; id: string },
    unknown,
    { role?: Role; approver?: boolean; displayName?: string; email?: string | null; disabled?: boolean }
  >({
    method: 'PATCH',
    path: '/api/workspaces/:workspace/users/:id',
    operationId: 'users.update',
    summary: "Change a member's role or Approver grant, or their profile (name, e-mail, disabled)",
    tags: ['Users'],
    access: { kind: 'workspace', permission: 'admin' },
    params: MemberParams,
    body: S.object({
      role: S.enum(ROLES),
      approver: S.boolean(),
      displayName: S.string({ minLength: 1, maxLength: 256 }),
      email: S.nullable(S.string({ maxLength: 320 })),
      disabled: S.boolean(),
    }),
    responses: {
      200: { description: 'The member', schema: MemberSchema },
      ...E,
      409: { description: 'The last Owner', schema: ErrorSchema },
    },
    handler: async (ctx) => {
      const { user, membership } = await memberOrThrow(ctx);
      const b = ctx.body;
      if (b.role !== undefined) await keepAnOwner(ctx, membership, b.role);
      if (b.displayName !== undefined || b.email !== undefined || b.disabled !== undefined) {
        if (!(await mayManageProfile(ctx.deps, ctx.me(), user.id)))
          throw forbidden('this user also belongs to workspaces you do not own: only their role here can be changed');
        if (b.disabled && membership.role === 'Owner') await keepAnOwner(ctx, membership, null);
        await ctx.deps.auth.updateUser(user.id, {
          ...(b.displayName !== undefined ? { displayName: b.displayName } : {}),
          ...(b.email !== undefined ? { email: b.email } : {}),
          ...(b.disabled !== undefined ? { disabled: b.disabled } : {}),
        });
      }
      const m =
        b.role !== undefined || b.approver !== undefined
          ? await ctx.deps.auth.setMembership(
              user.id,
              ctx.ws.id,
              b.role ?? membership.role,
              b.approver ?? membership.approver,
            )
          : membership;
      return { user: await ctx.deps.auth.getUser(user.id), role: m.role, approver: m.approver };
    },
  }),
  route<{ workspace: string; id: string }>({
    method: 'DELETE',
    path: '/api/workspaces/:workspace/users/:id',
    operationId: 'users.remove',
    summary: 'Remove a member from the workspace (the account goes too when it belonged nowhere else)',
    tags: ['Users'],
    access: { kind: 'workspace', permission: 'admin' },
    params: MemberParams,
    responses: { 204: { description: 'Removed' }, ...E, 409: { description: 'The last Owner', schema: ErrorSchema } },
    handler: async (ctx) => {
      const { user, membership } = await memberOrThrow(ctx);
      await keepAnOwner(ctx, membership, null);
      await ctx.deps.auth.removeMembership(user.id, ctx.ws.id);
      if ((await ctx.deps.auth.memberships(user.id)).length === 0 && !user.serverAdmin)
        await ctx.deps.auth.deleteUser(user.id);
      ctx.reply.status(204);
    },
  }),
  route<{ workspace: string; id: string }>({
    method: 'POST',
    path: '/api/workspaces/:workspace/users/:id/setup-code',
    operationId: 'users.resetPassword',
    summary: 'Issue a one-time setup code with which the user sets a new password',
    tags: ['Users'],
    access: { kind: 'workspace', permission: 'admin' },
    params: MemberParams,
    responses: {
      201: {
        description: 'The code (valid 24 hours)',
        schema: S.object({ setupCode: str, expiresInHours: S.integer() }, ['setupCode']),
      },
      ...E,
    },
    handler: async (ctx) => {
      const { user } = await memberOrThrow(ctx);
      if (!(await mayManageProfile(ctx.deps, ctx.me(), user.id)))
        throw forbidden('this user also belongs to workspaces you do not own');
      ctx.reply.status(201);
      return { setupCode: await ctx.deps.auth.issueSetupCode(user.id), expiresInHours: 24 };
    },
  }),
  route<unknown, { cursor?: string; limit?: number }>({
    method: 'GET',
    path: '/api/users',
    operationId: 'users.all',
    summary: 'Every user of the server (server administrators)',
    tags: ['Users'],
    access: { kind: 'server-admin' },
    query: S.object(PagingQuery),
    responses: { 200: { description: 'A page of users', schema: page(UserSchema) }, ...E },
    handler: async (ctx) => {
      const limit = Math.min(ctx.query.limit ?? 100, 1000);
      const after = ctx.query.cursor ? Buffer.from(ctx.query.cursor, 'base64url').toString() : null;
      const rows = await ctx.deps.auth.allUsers(after, limit + 1);
      const items = rows.slice(0, limit);
      const last = items[items.length - 1];
      return {
        items,
        nextCursor: rows.length > limit && last ? Buffer.from(last.name.toLowerCase()).toString('base64url') : null,
      };
    },
  }),

  // ── audit ──
  route<{ workspace: string }, AuditQuery>({
    method: 'GET',
    path: '/api/workspaces/:workspace/audit',
    operationId: 'audit.list',
    summary: 'The workspace audit log: every change and query (who, when, what), newest first',
    tags: ['Audit'],
    access: { kind: 'workspace', permission: 'admin' },
    params: WS,
    query: AuditQuerySchema(),
    responses: { 200: { description: 'A page of entries', schema: page(AuditSchema) }, ...E },
    handler: async (ctx) => ctx.ws.audit.list(auditFilter(ctx.query)),
  }),
  route<unknown, AuditQuery>({
    method: 'GET',
    path: '/api/audit',
    operationId: 'audit.server',
    summary: 'The server audit log: sign-ins, users, workspaces, refused calls (server administrators)',
    tags: ['Audit'],
    access: { kind: 'server-admin' },
    query: AuditQuerySchema(),
    responses: { 200: { description: 'A page of entries', schema: page(AuditSchema) }, ...E },
    handler: async (ctx) => ctx.deps.serverAudit.list(auditFilter(ctx.query)),
  }),
];

interface AuditQuery {
  cursor?: string;
  limit?: number;
  user?: string;
  action?: string;
  kind?: 'change' | 'query' | 'auth';
  target?: string;
  from?: string;
  to?: string;
  order?: 'asc' | 'desc';
}

function AuditQuerySchema() {
  return S.object({
    cursor: S.string({ pattern: '^[0-9]+$' }),
    limit: S.integer({ minimum: 1, maximum: 1000 }),
    user: S.string({ description: 'Sign-in name' }),
    action: S.string({ description: 'Operation id, e.g. incidents.update, queries.run, kusto.query' }),
    kind: S.enum(['change', 'query', 'auth']),
    target: str,
    from: S.string({ format: 'date-time' }),
    to: S.string({ format: 'date-time' }),
    order: S.enum(['asc', 'desc']),
  });
}

function auditFilter(q: AuditQuery) {
  return {
    ...(q.user ? { user: q.user } : {}),
    ...(q.action ? { action: q.action } : {}),
    ...(q.kind ? { kind: q.kind } : {}),
    ...(q.target ? { target: q.target } : {}),
    ...(q.from ? { from: new Date(q.from).toISOString() } : {}),
    ...(q.to ? { to: new Date(q.to).toISOString() } : {}),
    ...(q.order ? { order: q.order } : {}),
    cursor: q.cursor ?? null,
    limit: q.limit ?? 100,
  };
}
