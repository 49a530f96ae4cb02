import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addUser, login, postAuth, startServer } from './server.js';

/**
 * kill -9 of a node under load: every token pair it acknowledged is still valid
 * afterwards (or was rotated by a request whose answer was lost — the grace
 * window then replays it), and every acknowledged account exists.
 */
export async function killUnderLoad(opts: { databaseUrl?: string }) {
  const dataDir = mkdtempSync(join(tmpdir(), 'rcauth-kill-'));
  const args = ['--refresh-grace', '60'];
  try {
    const server = await startServer({ dataDir, databaseUrl: opts.databaseUrl, args });
    const pw = await addUser(server, 'loaduser');
    const chains: string[] = [];
    for (let i = 0; i < 8; i++) chains.push((await login(server.url, 'loaduser', pw)).refresh_token);
    const acked = [...chains];
    const accounts: string[] = [];
    let stop = false;
    const workers = chains.map(async (_, i) => {
      while (!stop) {
        try {
          const r = await postAuth(server.url, { grant_type: 'refresh_token', refresh_token: acked[i] });
          if (r.status === 200) acked[i] = String(r.json.refresh_token);
          else if (!stop) throw new Error(`refresh failed under load: ${r.status} ${r.text}`);
        } catch (err) {
          if (!stop) throw err;
        }
      }
    });
    const creators = (async () => {
      for (let n = 0; !stop; n++) {
        const r = await server.cli(['user', 'add', `acct-${n}`, '--password-stdin'], `acct-${n}-password-long`);
        if (r.code === 0) accounts.push(`acct-${n}`);
      }
    })();
    await new Promise((r) => setTimeout(r, 2500));
    // Stop counting failures first: requests in flight at the kill fail by design.
    stop = true;
    await server.kill('SIGKILL');
    await Promise.allSettled([...workers, creators]);
    const rotations = acked.filter((t, i) => t !== chains[i]).length;
    assert.ok(rotations >= 4, `load ran (${rotations} chains rotated)`);

    const again = await startServer({ dataDir, databaseUrl: opts.databaseUrl, args });
    try {
      for (const [i, token] of acked.entries()) {
        const r = await postAuth(again.url, { grant_type: 'refresh_token', refresh_token: token });
        assert.equal(r.status, 200, `chain ${i}: last acknowledged refresh token still works (${r.text})`);
      }
      const list = JSON.parse((await again.cli(['user', 'list', '--json'])).stdout) as { username: string }[];
      const names = new Set(list.map((a) => a.username));
      for (const a of accounts) assert.ok(names.has(a), `account ${a} acknowledged before the crash exists`);
      assert.ok(accounts.length >= 1, 'accounts were created under load');
    } finally {
      await again.stop();
    }
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
