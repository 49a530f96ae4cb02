import { InvalidRequest } from './errors.js';

export const MAX_USERNAME_LENGTH = 256;

/** Lower-cased, NFC form: usernames are unique ignoring case (SPEC §5). */
export function usernameKey(username: string): string {
  return username.normalize('NFC').toLowerCase();
}

/** Usernames for new accounts: 1–256 characters, no control characters, no surrounding spaces. */
export function assertUsernameAllowed(username: string): void {
  if (username.length === 0 || username.length > MAX_USERNAME_LENGTH) {
    throw new InvalidRequest(`A username has 1 to ${MAX_USERNAME_LENGTH} characters.`);
  }
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/u.test(username) || username.trim() !== username) {
    throw new InvalidRequest('A username has no control characters and no leading or trailing spaces.');
  }
}
