import type { Store } from './store.js';
import { usernameKey } from './usernames.js';

export interface ThrottlePolicy {
  windowMs: number;
  /** Failures for one username from one IP per window (SPEC §6: 10 in 15 min). */
  perIpUser: number;
  /** Failures for one username from all IPs per window (default 100). */
  perUser: number;
}

/**
 * Brute-force throttling with counters in the store, so every node shares them.
 * Fixed windows: a block always ends when its window ends, so nobody can lock an
 * account for good, and the per-(IP, username) cap cannot lock a user out from
 * other IPs. Unknown usernames are counted exactly like known ones.
 */
export class LoginThrottle {
  constructor(private readonly store: Store, private readonly policy: ThrottlePolicy) {}

  keys(username: string, ip: string): [string, string] {
    const u = usernameKey(username);
    return [`ipu:${ip}|${u}`, `u:${u}`];
  }

  /**
   * `wait`: seconds until the pair may try again (0 when not blocked);
   * `counted`: whether the pair has a failure counter a success should clear.
   */
  async check(username: string, ip: string, now: number): Promise<{ wait: number; counted: boolean }> {
    const [pair, user] = await this.store.throttleGet(this.keys(username, ip));
    const wait = (s: typeof pair, limit: number) =>
      s && s.count >= limit && s.windowStart + this.policy.windowMs > now ? s.windowStart + this.policy.windowMs - now : 0;
    return {
      wait: Math.ceil(Math.max(wait(pair, this.policy.perIpUser), wait(user, this.policy.perUser)) / 1000),
      counted: pair !== null,
    };
  }

  async failed(username: string, ip: string, now: number): Promise<void> {
    await this.store.throttleHit(this.keys(username, ip), now, this.policy.windowMs);
  }

  /** After a successful login, the pair's counter starts again. */
  async succeeded(username: string, ip: string): Promise<void> {
    await this.store.throttleClear([this.keys(username, ip)[0]]);
  }

  /** `rcauth user unlock`: clears every counter of the username. */
  async unlock(username: string): Promise<void> {
    const u = usernameKey(username);
    // throttleList returns at most 1000 rows, newest first: during a spraying attack the
    // name's counters can fall off that list. Blocked pairs (what actually locks a user
    // out) are listed on their own first, so many small counters cannot hide them.
    const listed = [
      ...(await this.store.throttleList(0, Number.MAX_SAFE_INTEGER, this.policy.perIpUser)),
      ...(await this.store.throttleList(0, Number.MAX_SAFE_INTEGER, 0)),
    ];
    const keys = listed.map((r) => r.key).filter((k) => k === `u:${u}` || k.endsWith(`|${u}`));
    await this.store.throttleClear([...new Set([...keys, `u:${u}`])]);
  }

  /** Usernames currently blocked (for the console dashboard). */
  async blocked(now: number): Promise<{ key: string; count: number; until: number }[]> {
    const min = Math.min(this.policy.perIpUser, this.policy.perUser);
    return (await this.store.throttleList(now, this.policy.windowMs, min))
      .filter((r) => r.state.count >= (r.key.startsWith('u:') ? this.policy.perUser : this.policy.perIpUser))
      .map((r) => ({ key: r.key, count: r.state.count, until: r.state.windowStart + this.policy.windowMs }));
  }
}
