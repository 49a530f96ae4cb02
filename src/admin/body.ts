import type { FastifyInstance } from 'fastify';
import { InvalidRequest } from '../core/errors.js';
import { decode, parseJsonObject } from '../http/body.js';

/** Admin bodies are small JSON documents (a username, a password, some scopes). */
export const ADMIN_BODY_LIMIT = 64 * 1024;

/**
 * A strict JSON body: UTF-8 (fatal, no guessing), one JSON object, nothing else.
 * An empty body is `undefined`, so body-less POSTs (unlock, rotate) work with or
 * without a content type; routes that need a body say so in their schema.
 */
export function parseAdminJson(raw: Buffer): Record<string, unknown> | undefined {
  if (raw.length === 0) return undefined;
  const text = decode(raw);
  if (text.trim() === '') return undefined;
  return parseJsonObject(text);
}

/**
 * Replaces, inside the admin scope only, the app's token-endpoint parsers (which
 * yield `FormFields`, see src/http/body.ts) with a plain-object JSON parser, so the
 * route schemas validate the bodies. Every other content type is refused with 415.
 */
export function useAdminJson(scope: FastifyInstance): void {
  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: ADMIN_BODY_LIMIT }, (_req, body, done) => {
    try {
      done(null, parseAdminJson(body as Buffer));
    } catch (err) {
      done(err as Error);
    }
  });
  scope.addContentTypeParser('*', (_req, _payload, done) => {
    done(new InvalidRequest('The content type must be application/json.', 415));
  });
}
