import { InvalidRequest } from '../core/errors.js';

/** A parsed token-endpoint body: field name → every value it was given. */
export class FormFields {
  constructor(readonly fields: Map<string, unknown[]>) {}

  /** An optional string field; duplicated or non-string values are malformed (RFC 6749 §3.2). */
  optional(name: string, maxLength = 4096): string | undefined {
    const values = this.fields.get(name);
    if (values === undefined) return undefined;
    if (values.length > 1) throw new InvalidRequest(`The field "${name}" is given more than once.`);
    const value = values[0];
    if (typeof value !== 'string') throw new InvalidRequest(`The field "${name}" must be a string.`);
    if (value.length > maxLength) throw new InvalidRequest(`The field "${name}" is too long.`);
    return value;
  }

  required(name: string, maxLength = 4096): string {
    const value = this.optional(name, maxLength);
    if (value === undefined || value === '') throw new InvalidRequest(`The field "${name}" is required.`);
    return value;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Decodes UTF-8 strictly: invalid bytes are invalid_request, never replaced. */
export function decode(raw: Buffer): string {
  try {
    return utf8.decode(raw);
  } catch {
    throw new InvalidRequest('The request body is not valid UTF-8.');
  }
}

/** Parses a JSON object (strict UTF-8); anything else is invalid_request. */
export function parseJsonObject(text: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new InvalidRequest('The request body is not valid JSON.');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InvalidRequest('The request body must be a JSON object.');
  }
  return parsed as Record<string, unknown>;
}

/** application/json: a single object; duplicate top-level keys are kept so they can be refused. */
export function parseJsonFields(raw: Buffer): FormFields {
  const text = decode(raw);
  if (text.trim() === '') throw new InvalidRequest('The request body is empty.');
  const parsed = parseJsonObject(text);
  const fields = new Map<string, unknown[]>();
  for (const key of topLevelKeys(text)) {
    const values = fields.get(key) ?? [];
    // JSON.parse keeps only the last duplicate; the count is what matters here.
    values.push((parsed as Record<string, unknown>)[key]);
    fields.set(key, values);
  }
  return new FormFields(fields);
}

/** application/x-www-form-urlencoded (what OAuth2 libraries send, RFC 6749 appendix B). */
export function parseFormFields(raw: Buffer): FormFields {
  const text = decode(raw);
  if (/%(?![0-9A-Fa-f]{2})/.test(text)) throw new InvalidRequest('The form body has a malformed percent-encoding.');
  const params = new URLSearchParams(text);
  const fields = new Map<string, unknown[]>();
  for (const [key, value] of params) {
    // URLSearchParams replaces invalid UTF-8 with U+FFFD; refuse instead of guessing.
    if (value.includes('\uFFFD') || key.includes('\uFFFD')) throw new InvalidRequest('The form body is not valid UTF-8.');
    const values = fields.get(key) ?? [];
    values.push(value);
    fields.set(key, values);
  }
  return new FormFields(fields);
}

/**
 * The member names of the outermost object of a valid JSON text, duplicates
 * included, in order. Only called after JSON.parse accepted the text.
 */
export function topLevelKeys(text: string): string[] {
  const keys: string[] = [];
  let depth = 0;
  let i = 0;
  let expectKey = false;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (depth === 1 && expectKey) keys.push(JSON.parse(text.slice(i, j + 1)) as string);
      expectKey = false;
      i = j + 1;
      continue;
    }
    if (c === '{' || c === '[') {
      depth++;
      expectKey = c === '{' && depth === 1;
    } else if (c === '}' || c === ']') depth--;
    else if (c === ',' && depth === 1) expectKey = true;
    i++;
  }
  return keys;
}
