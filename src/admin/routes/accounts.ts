import type { FastifyInstance } from 'fastify';
import { Conflict, InvalidRequest } from '../../core/errors.js';
import { MAX_PASSWORD_BYTES } from '../../core/passwords.js';
import { MAX_USERNAME_LENGTH } from '../../core/usernames.js';
import type { AppDeps } from '../../http/context.js';
import { ADMIN_SCOPE, actorOf } from '../api.js';
import { accountSchema, adminRoute, closedObject, noContent, pageOf, pageQuery, scopesSchema, usernameParams } from '../schemas.js';
import { accountView } from '../views.js';

type ByName = { Params: { username: string } };

/** The password byte limit is in UTF-8 bytes (SPEC §3); a schema counts characters. */
function assertPasswordSize(password: string): void {
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) throw new InvalidRequest(`A password has at most ${MAX_PASSWORD_BYTES} bytes.`);
}

/** Usernames compare ignoring case (SPEC §5), so "Admin" acting on "admin" is acting on itself. */
function isSelf(actor: string, username: string): boolean {
  return actor.normalize('NFC').toLowerCase() === username.normalize('NFC').toLowerCase();
}

/** /admin/v1/accounts — everything `rcauth user …` does, over HTTP. */
export function accountRoutes(app: FastifyInstance, deps: AppDeps): void {
  const accounts = deps.core.accounts;

  app.get<{ Querystring: { search?: string; limit: number; offset: number } }>('/accounts', {
    schema: adminRoute('List accounts', {
      description: 'Ordered by username; `search` matches part of a username, ignoring case.',
      querystring: closedObject({ search: { type: 'string', maxLength: MAX_USERNAME_LENGTH }, ...pageQuery }),
      response: { 200: pageOf('accounts', accountSchema) },
    }),
  }, async (request) => {
    const { search, limit, offset } = request.query;
    // One extra row tells whether another page exists without a COUNT query.
    const rows = await accounts.list({ search: search || undefined, limit: limit + 1, offset });
    return { accounts: rows.slice(0, limit).map(accountView), limit, offset, hasMore: rows.length > limit };
  });

  app.post<{ Body: { username: string; password?: string; scopes?: string[] } }>('/accounts', {
    schema: adminRoute('Create an account', {
      description: 'Without `password` a strong one is generated and returned in this response only.',
      body: closedObject({
        username: { type: 'string', minLength: 1, maxLength: MAX_USERNAME_LENGTH },
        password: { type: 'string', maxLength: MAX_PASSWORD_BYTES },
        scopes: { ...scopesSchema, description: 'Default: openid offline_access profile.' },
      }, { required: ['username'] }),
      response: {
        201: {
          type: 'object', required: ['account'], additionalProperties: false,
          properties: { account: accountSchema, password: { type: 'string', description: 'Only when generated: shown once, never again.' } },
        },
      },
    }),
  }, async (request, reply) => {
    const { username, password, scopes } = request.body;
    if (password !== undefined) assertPasswordSize(password);
    const made = await accounts.create(username, password, scopes, actorOf(request));
    return reply.code(201).send({ account: accountView(made.account), ...(made.generated ? { password: made.password } : {}) });
  });

  app.get<ByName>('/accounts/:username', {
    schema: adminRoute('One account', { params: usernameParams, response: { 200: accountSchema } }),
  }, async (request) => accountView(await accounts.get(request.params.username)));

  app.patch<ByName & { Body: { disabled?: boolean; scopes?: string[] } }>('/accounts/:username', {
    schema: adminRoute('Disable, enable, or set the scopes of an account', {
      description: 'Disabling ends every session of the account at once (SPEC §5).',
      params: usernameParams,
      body: closedObject({ disabled: { type: 'boolean' }, scopes: scopesSchema }, { minProperties: 1 }),
      response: { 200: accountSchema },
    }),
  }, async (request) => {
    const { username } = request.params;
    const { disabled, scopes } = request.body;
    const by = actorOf(request);
    // An admin cannot lock themselves out by accident; another admin can do it.
    if (isSelf(by.actor, username)) {
      if (disabled === true) throw new Conflict('You cannot disable your own account.');
      if (scopes !== undefined && !scopes.includes(ADMIN_SCOPE)) throw new Conflict(`You cannot remove "${ADMIN_SCOPE}" from your own account.`);
    }
    let account = await accounts.get(username);
    if (scopes !== undefined) account = await accounts.setScopes(username, scopes, by);
    if (disabled !== undefined && disabled !== account.disabled) account = await accounts.setDisabled(username, disabled, by);
    return accountView(await accounts.get(account.username));
  });

  app.post<ByName & { Body: { password: string } }>('/accounts/:username/password', {
    schema: adminRoute('Set a new password', {
      description: 'Ends every session of the account (SPEC §5). The password policy applies (length, common passwords).',
      params: usernameParams,
      body: closedObject({ password: { type: 'string', maxLength: MAX_PASSWORD_BYTES } }, { required: ['password'] }),
      response: noContent,
    }),
  }, async (request, reply) => {
    assertPasswordSize(request.body.password);
    await accounts.setPassword(request.params.username, request.body.password, actorOf(request));
    return reply.code(204).send();
  });

  app.post<ByName>('/accounts/:username/unlock', {
    schema: adminRoute('Clear the login throttling of a username', {
      description: 'Works for any username, existing or not: failed logins are counted for both alike (SPEC §6).',
      params: usernameParams,
      response: noContent,
    }),
  }, async (request, reply) => {
    await accounts.unlock(request.params.username, actorOf(request));
    return reply.code(204).send();
  });

  app.delete<ByName>('/accounts/:username', {
    schema: adminRoute('Remove an account', { description: 'Ends its sessions first.', params: usernameParams, response: noContent }),
  }, async (request, reply) => {
    const by = actorOf(request);
    if (isSelf(by.actor, request.params.username)) throw new Conflict('You cannot remove your own account.');
    await accounts.remove(request.params.username, by);
    return reply.code(204).send();
  });
}
