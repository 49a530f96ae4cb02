/** JSON schemas shared by the routes; /openapi.json is generated from them. */

export const errorSchema = {
  type: 'object',
  required: ['error', 'error_description'],
  properties: {
    error: { type: 'string', description: 'RFC 6749 §5.2 / RFC 6750 §3.1 error code' },
    error_description: { type: 'string' },
    request_id: { type: 'string', description: 'On 500 and 503 only: quote it when reporting a problem.' },
  },
} as const;

export const tokenResponseSchema = {
  type: 'object',
  required: ['token_type', 'expires_in', 'access_token', 'refresh_token'],
  additionalProperties: false,
  properties: {
    token_type: { type: 'string', enum: ['Bearer'] },
    expires_in: { type: 'integer', description: 'Access token lifetime in seconds.' },
    access_token: { type: 'string', description: 'RS256 JWT; send as Authorization: Bearer <token>.' },
    refresh_token: { type: 'string', description: '43 base64url characters; single use.' },
  },
} as const;

export const tokenRequestSchema = {
  type: 'object',
  properties: {
    grant_type: { type: 'string', enum: ['password', 'refresh_token'] },
    username: { type: 'string', maxLength: 256 },
    password: { type: 'string' },
    scope: { type: 'string' },
    refresh_token: { type: 'string' },
    client_id: { type: 'string' },
  },
} as const;
