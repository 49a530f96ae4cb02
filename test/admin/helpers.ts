/** Small HTTP helpers shared by the admin API and console tests. */
import { login, type ServerHandle } from '../helpers/server.js';

export interface Reply {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
  text: string;
}

/** Calls the admin API with a bearer token (or none) and parses the answer. */
export async function adminCall(server: ServerHandle, token: string | null, method: string, path: string, body?: unknown, init: { contentType?: string; raw?: string } = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (token) headers.authorization = `Bearer ${token}`;
  const payload = init.raw ?? (body === undefined ? undefined : JSON.stringify(body));
  if (payload !== undefined) headers['content-type'] = init.contentType ?? 'application/json';
  const res = await fetch(`${server.url}/admin/v1${path}`, { method, headers, body: payload });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  return { status: res.status, headers: res.headers, json, text };
}

/** The bootstrap admin's access token. */
export async function adminToken(server: ServerHandle): Promise<string> {
  return (await login(server.url, server.adminUsername, server.adminPassword)).access_token;
}

/** grant_type=refresh_token through the documented endpoint. */
export async function refreshWith(server: ServerHandle, refreshToken: string): Promise<Reply> {
  const res = await fetch(`${server.url}/api/v140/auth`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'refresh_token', refresh_token: refreshToken }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: JSON.parse(text), text };
}
