/**
 * JSON schemas of the admin API. They validate requests and shape responses,
 * and @fastify/swagger turns them into the admin part of /openapi.json.
 */
import { MAX_USERNAME_LENGTH } from '../core/usernames.js';
import { errorSchema } from '../http/schemas.js';

const time = { type: 'string', format: 'date-time' } as const;
const nullableTime = { type: ['string', 'null'], format: 'date-time' } as const;
const nullableString = { type: ['string', 'null'] } as const;

/** RFC 6749 §3.3 scope-token; AccountService checks the characters. */
export const scopesSchema = { type: 'array', maxItems: 64, items: { type: 'string', minLength: 1, maxLength: 128 } } as const;

export const usernameParams = {
  type: 'object', required: ['username'],
  properties: { username: { type: 'string', minLength: 1, maxLength: MAX_USERNAME_LENGTH } },
} as const;

export const accountSchema = {
  type: 'object',
  required: ['id', 'username', 'scopes', 'disabled', 'createdAt', 'updatedAt', 'lastLoginAt'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', description: 'Stable, opaque account id (`uid` claim).' },
    username: { type: 'string' },
    scopes: { type: 'array', items: { type: 'string' } },
    disabled: { type: 'boolean' },
    createdAt: time, updatedAt: time, lastLoginAt: nullableTime,
  },
} as const;

export const sessionSchema = {
  type: 'object',
  required: ['id', 'clientId', 'scopes', 'createdAt', 'lastUsedAt', 'clientIp', 'userAgent', 'expiresAt', 'absoluteExpiresAt', 'idleExpiresAt'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', description: 'Session (refresh-token family) id.' },
    clientId: { type: 'string' },
    scopes: { type: 'array', items: { type: 'string' } },
    createdAt: time, lastUsedAt: time,
    clientIp: nullableString, userAgent: nullableString,
    expiresAt: { ...time, description: 'When the session ends unless used again: the earlier of the absolute and idle ends.' },
    absoluteExpiresAt: time, idleExpiresAt: time,
  },
} as const;

export const keySchema = {
  type: 'object', required: ['kid', 'alg', 'status', 'createdAt', 'retiredAt'], additionalProperties: false,
  properties: {
    kid: { type: 'string', description: 'RFC 7638 thumbprint.' },
    alg: { type: 'string' },
    status: { type: 'string', enum: ['active', 'retired', 'expired'], description: 'retired: still in the JWKS until its tokens expire.' },
    createdAt: time, retiredAt: nullableTime,
  },
} as const;

export const auditEventSchema = {
  type: 'object', required: ['at', 'type', 'outcome'], additionalProperties: false,
  properties: {
    at: time,
    type: { type: 'string' },
    outcome: { type: 'string', enum: ['ok', 'failed', 'throttled', 'detected', 'info'] },
    username: nullableString, accountId: nullableString, clientIp: nullableString, requestId: nullableString,
    actor: { type: ['string', 'null'], description: 'The admin who acted (`cli` for the CLI).' },
    detail: { type: ['object', 'null'], additionalProperties: true },
  },
} as const;

/**
 * A request object that refuses members it does not know. Fastify's Ajv strips
 * what `additionalProperties: false` forbids (removeAdditional), so a typo such
 * as {"disable": true} would quietly change nothing; `propertyNames` is never
 * stripped, it fails validation instead.
 */
export function closedObject<P extends Record<string, object>, X extends Record<string, unknown> = Record<never, never>>(properties: P, extra?: X) {
  return { type: 'object', properties, propertyNames: { enum: Object.keys(properties) }, ...(extra ?? ({} as X)) } as const;
}

/** Paging: `hasMore` tells whether a next page exists (no total count: the store has none to give cheaply). */
export const pageQuery = {
  limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
  offset: { type: 'integer', minimum: 0, maximum: 1_000_000, default: 0 },
} as const;

const pageProps = { limit: { type: 'integer' }, offset: { type: 'integer' }, hasMore: { type: 'boolean' } } as const;

export function pageOf<T extends object>(name: string, item: T) {
  return { type: 'object', required: [name, 'limit', 'offset', 'hasMore'], properties: { [name]: { type: 'array', items: item }, ...pageProps } } as const;
}

/** Fields every admin route shares in /openapi.json. */
export function adminRoute<S extends Record<string, unknown>>(summary: string, schema: S) {
  return {
    summary, tags: ['admin'], security: [{ bearer: [] }],
    ...schema,
    response: { ...(schema.response as object | undefined), '4xx': errorSchema, '5xx': errorSchema },
  };
}

export const noContent = { 204: { type: 'null', description: 'Done.' } } as const;
