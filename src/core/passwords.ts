import { hash, verify } from '@node-rs/argon2';

// Algorithm.Argon2id of @node-rs/argon2 (an ambient const enum, which verbatimModuleSyntax cannot import).
const ARGON2ID = 2;
import { createRequire } from 'node:module';
import { InvalidRequest } from './errors.js';
import { randomToken } from './crypto.js';

export interface Argon2Params {
  /** KiB; OWASP minimum for argon2id is 19456 (19 MiB). */
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

export const OWASP_MINIMUM: Argon2Params = Object.freeze({ memoryCost: 19456, timeCost: 2, parallelism: 1 });

/** Longest accepted password, in UTF-8 bytes (SPEC §3). */
export const MAX_PASSWORD_BYTES = 1024;

const PHC = /^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/;

/**
 * argon2id hashing (@node-rs/argon2 runs on the libuv thread pool, so hashing
 * uses every core without blocking the event loop).
 */
export class PasswordHasher {
  private readonly dummy: Promise<string>;

  constructor(readonly params: Argon2Params = OWASP_MINIMUM) {
    // Every failure path verifies against this, so an unknown username costs
    // what a wrong password costs (SPEC §6, user enumeration).
    this.dummy = this.hash(randomToken(16));
  }

  hash(password: string): Promise<string> {
    return hash(password, { algorithm: ARGON2ID, ...this.params });
  }

  async verify(passwordHash: string, password: string): Promise<boolean> {
    try {
      return await verify(passwordHash, password);
    } catch {
      return false;
    }
  }

  /** Spends one verify's worth of time and always fails. */
  async dummyVerify(password: string): Promise<false> {
    await this.verify(await this.dummy, password);
    return false;
  }

  /** True when the hash was made with weaker parameters than ours (upgrade at next login). */
  needsRehash(passwordHash: string): boolean {
    const m = PHC.exec(passwordHash);
    if (!m) return true;
    return Number(m[1]) < this.params.memoryCost || Number(m[2]) < this.params.timeCost || Number(m[3]) < this.params.parallelism;
  }
}

let common: Set<string> | null = null;

/**
 * The list of ~49,000 common passwords (@zxcvbn-ts/language-common), loaded on first
 * use: loading it costs ~18 MiB, and a server that only logs people in never needs it.
 */
function commonPasswords(): Set<string> {
  if (!common) {
    const { dictionary } = createRequire(import.meta.url)('@zxcvbn-ts/language-common') as { dictionary: Record<string, string[]> };
    common = new Set(dictionary['passwords-common']!.map((p) => p.toLowerCase()));
  }
  return common;
}

/** Why a password is refused, or null. Used exactly as received: no trimming, no truncation. */
export function passwordProblem(password: string, minLength: number): string | null {
  if ([...password].length < minLength) return `The password must have at least ${minLength} characters.`;
  if (Buffer.byteLength(password, 'utf8') > MAX_PASSWORD_BYTES) return `The password must have at most ${MAX_PASSWORD_BYTES} bytes.`;
  const lower = password.toLowerCase();
  // A common password padded with digits or symbols ("password12345!") is as weak as the word.
  const stem = lower.replace(/[\d\W_]+$/u, '').replace(/^[\d\W_]+/u, '');
  const list = commonPasswords();
  if (list.has(lower) || (stem.length >= 3 && list.has(stem)) || /^(.)\1*$/u.test(password) || /^(.{1,3})\1+$/u.test(password)) {
    return 'The password is on the list of common or breached passwords; choose another.';
  }
  return null;
}

/** Throws invalid_request with the policy message. */
export function assertPasswordAllowed(password: string, minLength: number): void {
  const problem = passwordProblem(password, minLength);
  if (problem) throw new InvalidRequest(problem);
}

/** A generated password: 24 base64url characters, 144 bits. */
export function generatePassword(): string {
  return randomToken(18);
}
