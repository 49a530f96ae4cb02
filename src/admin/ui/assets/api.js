import { accessToken, ApiError, NETWORK_MESSAGE, refresh } from './session.js';

export { ApiError };

const BASE = '/admin/v1';

/** Set by the shell: shows the sign-in dialog and resolves once the admin is signed in again. */
let requireSignIn = async () => { throw new ApiError(401, 'invalid_token', 'Not signed in.'); };

export function setSignInHandler(fn) {
  requireSignIn = fn;
}

function send(method, path, token, body) {
  const headers = { authorization: `Bearer ${token}`, accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  return fetch(BASE + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), cache: 'no-store', credentials: 'omit' });
}

/**
 * Calls the admin API. A 401 gets one refresh and a retry; when the session is
 * over, the sign-in dialog opens *over* the current page and the call goes on
 * once the admin has signed in — so a form that was being submitted keeps
 * everything typed into it and completes after all.
 * @returns {Promise<any>} the JSON body, or null for 204
 */
export async function api(method, path, body) {
  for (let attempt = 0; attempt < 4; attempt++) {
    let token = await accessToken();
    if (!token) {
      await requireSignIn('expired');
      token = await accessToken();
    }
    let res;
    try {
      res = await send(method, path, token, body);
    } catch {
      throw new ApiError(0, 'network', NETWORK_MESSAGE);
    }
    if (res.status === 401) {
      // Expired or revoked access token: the refresh grant first, the admin's password only when that fails.
      if (!(await refresh())) await requireSignIn('expired');
      continue;
    }
    if (res.status === 204) return null;
    const json = await res.json().catch(() => null);
    if (!res.ok) {
      throw new ApiError(res.status, json?.error ?? 'server_error', json?.error_description ?? `The server answered ${res.status}.`);
    }
    return json;
  }
  throw new ApiError(401, 'invalid_token', 'The server keeps refusing this session. Sign out and in again.');
}

/** Path segment for a username (usernames may hold "/", "?", "#", spaces …). */
export const seg = (s) => encodeURIComponent(s);
