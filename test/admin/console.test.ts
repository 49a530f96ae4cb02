/**
 * The web console end to end, in a real headless Chromium (Debian's, driven by
 * playwright-core): sign in, accounts, sessions, keys, audit, and the bad-input
 * cases, against the real server. Screenshots go to test-artifacts/ (and one to
 * docs/console.png for the README when UPDATE_DOCS_SCREENSHOT=1).
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { addUser, login, postAuth, ROOT, startServer, type ServerHandle } from '../helpers/server.js';
import { adminCall, refreshWith } from './helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-artifacts');
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";
const STRONG = 'Marble-Lantern-58-Orchid';
const OPS_PASSWORD = 'Ops-Second-Admin-Pass-1';

/** Polls until the locator's text matches (playwright-core has no `expect`). */
async function waitText(locator: Locator, pattern: RegExp, timeout = 10_000): Promise<string> {
  const end = Date.now() + timeout;
  let last = '';
  while (Date.now() < end) {
    last = (await locator.first().textContent().catch(() => '')) ?? '';
    if (pattern.test(last)) return last;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${pattern}; last text: ${JSON.stringify(last)}`);
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `console-${name}.png`), fullPage: true });
}

/** Every form control on the page has a label (WCAG 1.3.1 / 4.1.2). */
async function unlabelled(page: Page): Promise<string[]> {
  return page.evaluate(() => Array.from(document.querySelectorAll('input, select, textarea'))
    .filter((el) => (el as HTMLInputElement).labels?.length === 0)
    .map((el) => el.outerHTML));
}

const MISSING = `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y --no-install-recommends chromium); .ci/run does.`;

// Never skip: a missing browser is a broken test machine, and the run must fail saying so.
it('finds Debian\'s Chromium at /usr/bin/chromium', () => {
  assert.ok(existsSync(CHROMIUM), MISSING);
});

describe('admin console (headless Chromium)', () => {
  let server: ServerHandle;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let ops: string;
  const problems: string[] = [];

  before(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(MISSING);
    mkdirSync(ARTIFACTS, { recursive: true });
    server = await startServer();
    await addUser(server, 'ops', OPS_PASSWORD, 'rcauth:admin,openid');
    ops = (await login(server.url, 'ops', OPS_PASSWORD)).access_token;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-GB', timezoneId: 'UTC' });
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('console', (msg) => { if (msg.type() === 'error' && !/Failed to load resource/.test(msg.text())) problems.push(`console: ${msg.text()}`); });
    page.on('dialog', (d) => { void d.accept(); });
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  const main = () => page.locator('main');
  const dialog = () => page.locator('#signin');
  const notice = () => page.locator('#notice');

  it('serves the console with the strict CSP and no external asset', async () => {
    const res = await page.goto(`${server.url}/admin`);
    assert.equal(res?.status(), 200);
    assert.equal(res?.headers()['content-security-policy'], CSP);
    assert.equal(res?.headers()['x-frame-options'], 'DENY');
    const external = await page.evaluate(() => Array.from(document.querySelectorAll('[src], [href]'))
      .map((el) => el.getAttribute('src') ?? el.getAttribute('href') ?? '')
      .filter((u) => /^(https?:)?\/\//.test(u)));
    assert.deepEqual(external, []);
    const js = await fetch(`${server.url}/admin/assets/app.js`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.equal(js.headers.get('content-security-policy'), CSP);
    const again = await fetch(`${server.url}/admin/assets/app.js`, { headers: { 'if-none-match': js.headers.get('etag') ?? '' } });
    assert.equal(again.status, 304);
    for (const bad of ['/admin/assets/..%2Fconsole.ts', '/admin/assets/%2e%2e/index.html', '/admin/assets/nope.js', '/admin/assets/app.js.map']) {
      assert.equal((await fetch(`${server.url}${bad}`)).status, 404, bad);
    }
  });

  it('refuses an empty password and a wrong one at sign-in, keeping what was typed', async () => {
    await dialog().waitFor({ state: 'visible' });
    assert.deepEqual(await unlabelled(page), []);
    // Keyboard only: the dialog opens with focus in the username field.
    await page.keyboard.type('admin');
    await page.keyboard.press('Enter');
    await waitText(page.locator('#signin-error'), /Enter your password/);
    assert.equal(await page.locator('#signin-username').inputValue(), 'admin');
    await page.keyboard.type('wrong-password-0000');
    await page.keyboard.press('Enter');
    await waitText(page.locator('#signin-error'), /Wrong username or password/);
    assert.equal(await page.locator('#signin-username').inputValue(), 'admin');
    assert.equal(await page.locator('#signin-password').inputValue(), 'wrong-password-0000');
    await shot(page, 'signin-error');
  });

  it('signs in with the keyboard and keeps the tokens in memory only', async () => {
    await page.locator('#signin-password').fill('');
    await page.locator('#signin-password').focus();
    await page.keyboard.type(server.adminPassword);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await dialog().waitFor({ state: 'hidden' });
    await waitText(page.locator('#who-name'), /^admin$/);
    const storage = await page.evaluate(() => ({ local: localStorage.length, session: sessionStorage.length, cookie: document.cookie }));
    assert.deepEqual(storage, { local: 0, session: 0, cookie: '' });
    assert.deepEqual(await context.cookies(), []);
  });

  it('creates an account, showing the form errors without losing input', async () => {
    await page.getByRole('link', { name: 'Accounts' }).click();
    await page.getByRole('heading', { level: 1, name: 'Accounts' }).waitFor();
    assert.deepEqual(await unlabelled(page), []);
    const form = page.locator('form', { has: page.getByRole('heading', { name: 'Create an account' }) });
    await form.getByLabel('Username').fill('carol');
    await form.getByLabel('Set a password').check();
    await form.getByLabel('Password to set').fill(STRONG);
    await form.getByRole('button', { name: 'Create account' }).click();
    await waitText(notice(), /Account "carol" created/);
    await main().getByRole('table').getByRole('link', { name: 'carol', exact: true }).waitFor();
    await shot(page, 'accounts');
  });

  it('says so when the username exists, keeping every value typed', async () => {
    const form = page.locator('form', { has: page.getByRole('heading', { name: 'Create an account' }) });
    await form.getByLabel('Username').fill('CAROL');
    await form.getByLabel('Set a password').check();
    await form.getByLabel('Password to set').fill('Another-Long-Pass-123');
    await form.getByLabel('Scopes', { exact: true }).fill('openid reports:read');
    await form.getByRole('button', { name: 'Create account' }).click();
    await waitText(form.getByRole('alert'), /exists already/);
    assert.equal(await form.getByLabel('Username').inputValue(), 'CAROL');
    assert.equal(await form.getByLabel('Password to set').inputValue(), 'Another-Long-Pass-123');
    assert.equal(await form.getByLabel('Scopes', { exact: true }).inputValue(), 'openid reports:read');
    assert.equal(await form.getByLabel('Username').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('name')), 'username');
    await shot(page, 'error-existing-username');
  });

  it('refuses an empty password before sending anything', async () => {
    const form = page.locator('form', { has: page.getByRole('heading', { name: 'Create an account' }) });
    await form.getByLabel('Username').fill('dave');
    await form.getByLabel('Password to set').fill('');
    await form.getByRole('button', { name: 'Create account' }).click();
    await waitText(form.getByRole('alert'), /Enter a password/);
    assert.equal(await form.getByLabel('Username').inputValue(), 'dave');
    assert.equal(await form.getByLabel('Scopes', { exact: true }).inputValue(), 'openid reports:read');
    assert.equal((await adminCall(server, ops, 'GET', '/accounts/dave')).status, 404);
  });

  it('reports a network error and keeps the form', async () => {
    const form = page.locator('form', { has: page.getByRole('heading', { name: 'Create an account' }) });
    await form.getByLabel('Password to set').fill('Dave-Strong-Pass-4821');
    await page.route('**/admin/v1/accounts', (route) => route.abort('internetdisconnected'));
    await form.getByRole('button', { name: 'Create account' }).click();
    await waitText(form.getByRole('alert'), /cannot be reached/);
    await page.unroute('**/admin/v1/accounts');
    assert.equal(await form.getByLabel('Username').inputValue(), 'dave');
    assert.equal(await form.getByLabel('Password to set').inputValue(), 'Dave-Strong-Pass-4821');
    await shot(page, 'error-network');
    // The same form, submitted again once the network is back, goes through.
    await form.getByRole('button', { name: 'Create account' }).click();
    await waitText(notice(), /Account "dave" created/);
  });

  it('refreshes the admin token after a 401 and retries the call', async () => {
    let faked = false;
    await page.route('**/admin/v1/keys', async (route) => {
      if (faked) return route.continue();
      faked = true;
      await route.fulfill({ status: 401, contentType: 'application/json', body: '{"error":"invalid_token","error_description":"expired"}' });
    });
    const refreshed = page.waitForResponse((r) => /\/api\/v\d+\/auth$/.test(r.url()) && (r.request().postData() ?? '').includes('"grant_type":"refresh_token"'));
    await page.getByRole('link', { name: 'Keys' }).click();
    assert.equal((await refreshed).status(), 200);
    await main().locator('code.kid').first().waitFor();
    await page.unroute('**/admin/v1/keys');
    assert.ok(faked);
    assert.ok(await dialog().isHidden(), 'a refreshable session never asks for the password');
  });

  it('shows the session of an account, revokes it, and the refresh is refused', async () => {
    const res = await postAuth(server.url, { username: 'carol', password: STRONG }, { headers: { 'user-agent': 'carol-e2e-agent/1.0' } });
    assert.equal(res.status, 200);
    const carol = res.json as { refresh_token: string };
    await page.goto(`${server.url}/admin#/accounts/carol`);
    await page.reload();
    await dialog().waitFor({ state: 'visible' });
    // A reload forgets the tokens (memory only): signing in again is expected.
    await page.locator('#signin-username').fill('admin');
    await page.locator('#signin-password').fill(server.adminPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'carol' }).waitFor();
    const row = main().locator('tr', { hasText: 'carol-e2e-agent/1.0' });
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /127\.0\.0\.1/);
    assert.deepEqual(await unlabelled(page), []);
    await shot(page, 'sessions');
    await row.getByRole('button', { name: /Revoke session/ }).click();
    await waitText(notice(), /Session .* revoked/);
    await main().getByText('No live sessions.').waitFor();
    const refused = await refreshWith(server, carol.refresh_token);
    assert.equal(refused.status, 401);
    assert.equal(refused.json.error, 'invalid_grant');
  });

  it('shows the revocation in the audit log, filtered', async () => {
    await page.getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('heading', { level: 1, name: 'Audit log' }).waitFor();
    assert.deepEqual(await unlabelled(page), []);
    await main().getByLabel('Username', { exact: true }).fill('carol');
    await page.getByLabel('Event type').selectOption('revoke');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/#\/audit\?username=carol&type=revoke$/);
    // The unfiltered table may still be on screen for a moment: wait for the filtered one.
    await page.waitForFunction(() => document.querySelectorAll('main tbody tr').length === 1);
    const row = main().locator('tbody tr').first();
    const cells = await row.locator('td').allTextContents();
    assert.equal(cells[1], 'revoke');
    assert.equal(cells[3], 'carol');
    assert.equal(cells[4], 'admin');
    await shot(page, 'audit');
  });

  it('rotates the signing key and lists the new kid', async () => {
    await page.getByRole('link', { name: 'Keys' }).click();
    await page.getByRole('heading', { level: 1, name: 'Signing keys' }).waitFor();
    const before = await main().locator('code.kid').first().textContent();
    await page.getByRole('button', { name: 'Rotate signing key' }).click();
    const text = await waitText(notice(), /New active key (\S+)\./);
    const kid = /New active key (\S+)\./.exec(text)![1]!;
    assert.notEqual(kid, before);
    await waitText(main().locator('tbody tr').first(), new RegExp(`${kid.replace(/[-]/g, '\\-')}.*active`));
    await waitText(main().locator('tbody tr').nth(1), /retired/);
    const jwks = (await (await fetch(`${server.url}/oauth2/v1/keys`)).json()) as { keys: { kid: string }[] };
    assert.ok(jwks.keys.some((k) => k.kid === kid));
    await shot(page, 'keys');
  });

  it('asks for the password again when the admin session ends, and loses nothing typed', async () => {
    await page.getByRole('link', { name: 'Accounts' }).click();
    const form = page.locator('form', { has: page.getByRole('heading', { name: 'Create an account' }) });
    await form.getByLabel('Username').fill('erin');
    await form.getByLabel('Set a password').check();
    await form.getByLabel('Password to set').fill('Erin-Strong-Pass-3390');
    // Another admin ends every session of "admin": its refresh token and its access tokens die.
    const ended = await adminCall(server, ops, 'DELETE', '/accounts/admin/sessions');
    assert.equal(ended.status, 200);
    await form.getByRole('button', { name: 'Create account' }).click();
    await dialog().waitFor({ state: 'visible' });
    await waitText(page.locator('#signin-reason'), /session has ended/);
    assert.equal(await form.getByLabel('Username').inputValue(), 'erin');
    assert.equal(await form.getByLabel('Password to set').inputValue(), 'Erin-Strong-Pass-3390');
    await shot(page, 'expired-session');
    await page.locator('#signin-password').fill(server.adminPassword);
    await page.getByRole('button', { name: 'Sign in' }).click();
    // The interrupted submission completes by itself after signing in.
    await waitText(notice(), /Account "erin" created/);
    assert.equal((await adminCall(server, ops, 'GET', '/accounts/erin')).status, 200);
  });

  it('draws the dashboard chart and lists throttled usernames', async () => {
    for (let i = 0; i < 10; i++) await postAuth(server.url, { username: 'mallory', password: `guess-number-${i}-xx` });
    for (let i = 0; i < 3; i++) await postAuth(server.url, { username: 'carol', password: `typo-password-${i}-xx` });
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor();
    await main().locator('svg.chart').waitFor();
    const bars = await main().locator('svg.chart rect.bar').count();
    assert.equal(bars, 24 * 3);
    const failedHeights = await main().locator('svg.chart rect.bar.failed').evaluateAll((bars) => bars.map((b) => Number(b.getAttribute('height'))));
    assert.ok(failedHeights.some((h) => h > 0), 'the failed logins show as a bar');
    const throttledRow = main().locator('tr', { hasText: 'mallory' });
    await throttledRow.waitFor();
    // The README's picture is refreshed on request only, so a test run never dirties the checkout.
    if (process.env.UPDATE_DOCS_SCREENSHOT) await page.screenshot({ path: join(ROOT, 'docs/console.png'), fullPage: true });
    await shot(page, 'dashboard');
    await throttledRow.getByRole('button', { name: 'Unlock mallory' }).click();
    await waitText(notice(), /throttling of "mallory" cleared/);
    await main().getByText('Nobody is throttled.').waitFor();
  });

  it('signs out: the page is emptied and the session revoked on the server', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await dialog().waitFor({ state: 'visible' });
    assert.equal(await main().locator('*').count(), 0);
    const sessions = await adminCall(server, ops, 'GET', '/accounts/admin/sessions');
    assert.deepEqual(sessions.json.sessions, []);
  });

  it('raised no script error and no CSP violation', () => {
    assert.deepEqual(problems, []);
  });
});
