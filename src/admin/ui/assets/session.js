/* global atob */
/**
 * The admin's tokens, held in this module's variables only: never in
 * localStorage, sessionStorage, a cookie or the DOM, so no other script, tab or
 * later visitor of this browser can read them, and closing the tab ends the
 * console session (its refresh token simply expires on the server).
 */

const AUTH_PATH = document.querySelector('meta[name="rcauth-auth-path"]')?.getAttribute('content') || '/api/v140/auth';
const REVOKE_PATH = '/oauth2/v1/revoke';
export const ADMIN_SCOPE = 'rcauth:admin';

/** A failure the admin should read: `code` is the server's error code or "network". */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export const NETWORK_MESSAGE = 'The server cannot be reached. Check the connection and try again; nothing you typed was lost.';

let tokens = null; // { access, refresh, expiresAt, username }
let refreshTimer = 0;
let refreshing = null; // single flight: a refresh token works once (rotation), so two refreshes at once would be reuse
const listeners = new Set();

/** Tells the shell (header, nav) when the signed-in admin changes. */
export function onSessionChange(fn) {
  listeners.add(fn);
}

function changed() {
  for (const fn of listeners) fn(tokens ? tokens.username : null);
}

export function signedIn() {
  return tokens !== null;
}

/** The claims of our own access token, read only to greet the admin and to check the scope early. */
function claimsOf(jwt) {
  const part = jwt.split('.')[1] ?? '';
  const json = atob(part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '='));
  return JSON.parse(new TextDecoder().decode(Uint8Array.from(json, (c) => c.charCodeAt(0))));
}

async function postAuth(body) {
  let res;
  try {
    res = await fetch(AUTH_PATH, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), cache: 'no-store', credentials: 'omit' });
  } catch {
    throw new ApiError(0, 'network', NETWORK_MESSAGE);
  }
  const json = await res.json().catch(() => ({}));
  if (!res.ok) {
    const retry = res.headers.get('retry-after');
    if (res.status === 429) throw new ApiError(429, 'slow_down', `Too many attempts. Try again in ${retry ?? 'a few'} seconds.`);
    throw new ApiError(res.status, json.error ?? 'server_error', json.error_description ?? `The server answered ${res.status}.`);
  }
  return json;
}

function keep(response) {
  const claims = claimsOf(response.access_token);
  tokens = {
    access: response.access_token,
    refresh: response.refresh_token,
    expiresAt: Date.now() + response.expires_in * 1000,
    username: claims.sub,
  };
  clearTimeout(refreshTimer);
  // Refresh a minute early (a fifth early for short lifetimes), so requests rarely meet a 401.
  const early = Math.min(60, response.expires_in * 0.2);
  tokens.refreshAt = tokens.expiresAt - early * 1000;
  refreshTimer = setTimeout(() => { refresh().catch(() => {}); }, (response.expires_in - early) * 1000);
  changed();
}

function forget() {
  tokens = null;
  clearTimeout(refreshTimer);
  changed();
}

/** Password sign-in through the server's own auth endpoint (SPEC §3). */
export async function signIn(username, password) {
  let response;
  try {
    response = await postAuth({ username, password });
  } catch (err) {
    if (err.code === 'invalid_grant') throw new ApiError(401, 'invalid_grant', 'Wrong username or password, or the account is disabled.');
    throw err;
  }
  const claims = claimsOf(response.access_token);
  if (!Array.isArray(claims.scp) || !claims.scp.includes(ADMIN_SCOPE)) {
    await revoke(response.refresh_token);
    throw new ApiError(403, 'insufficient_scope', `The account "${claims.sub}" is not an administrator (it lacks the scope ${ADMIN_SCOPE}).`);
  }
  keep(response);
}

/**
 * The refresh grant, one at a time. Resolves true with fresh tokens; false when
 * the session is over (refresh token revoked, expired or reused): the admin
 * must sign in again. A network error rejects and keeps the session.
 */
export function refresh() {
  if (!tokens) return Promise.resolve(false);
  if (!refreshing) {
    const presented = tokens.refresh;
    refreshing = postAuth({ grant_type: 'refresh_token', refresh_token: presented })
      .then((response) => { keep(response); return true; })
      .catch((err) => {
        if (err.code === 'network') throw err;
        // Only forget the tokens this refresh was about; a new sign-in may have replaced them meanwhile.
        if (tokens && tokens.refresh === presented) forget();
        return false;
      })
      .finally(() => { refreshing = null; });
  }
  return refreshing;
}

/** A bearer token that is not about to expire, refreshing first when needed. */
export async function accessToken() {
  // Timers sleep in background tabs; a request made after waking refreshes first.
  if (tokens && Date.now() > tokens.refreshAt) await refresh();
  return tokens ? tokens.access : null;
}

async function revoke(refreshToken) {
  try {
    await fetch(REVOKE_PATH, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: refreshToken, token_type_hint: 'refresh_token' }), credentials: 'omit' });
  } catch {
    // Signing out must work offline too; the session then ends at its idle time.
  }
}

/** Ends the session on the server (RFC 7009) and forgets the tokens. */
export async function signOut() {
  const current = tokens;
  forget();
  if (current) await revoke(current.refresh);
}
