/* global location */
/**
 * The console shell: hash routing, the sign-in dialog, the header. Plain ES
 * modules served as written — no framework, no bundler, no build step (see
 * docs/admin.md for why).
 */
import { setSignInHandler } from './api.js';
import { clearError, showError } from './dom.js';
import { onSessionChange, signIn, signOut, signedIn } from './session.js';
import * as accountsPage from './pages/accounts.js';
import * as accountPage from './pages/account.js';
import * as auditPage from './pages/audit.js';
import * as dashboardPage from './pages/dashboard.js';
import * as keysPage from './pages/keys.js';

const $ = (id) => document.getElementById(id);
const main = $('main');
const dialog = $('signin');
const form = $('signin-form');
const username = $('signin-username');
const password = $('signin-password');
const signinError = $('signin-error');
const notice = $('notice');

/** Shows a short success message in the polite live region. */
export function notify(message) {
  notice.textContent = message;
}

// ---- routing --------------------------------------------------------------

function parseHash() {
  const raw = location.hash.startsWith('#/') ? location.hash.slice(2) : 'dashboard';
  const [path, query = ''] = raw.split('?');
  const segments = path.split('/').filter(Boolean).map((s) => {
    try { return decodeURIComponent(s); } catch { return s; }
  });
  return { segments, params: new URLSearchParams(query) };
}

function pageFor(segments) {
  switch (segments[0]) {
    case 'accounts': return segments.length > 1 ? accountPage : accountsPage;
    case 'keys': return keysPage;
    case 'audit': return auditPage;
    default: return dashboardPage;
  }
}

let renderCount = 0;

async function route() {
  if (!signedIn()) return;
  const { segments, params } = parseHash();
  const page = pageFor(segments);
  const mine = ++renderCount;
  notify('');
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.dataset.page === page.id) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  main.replaceChildren();
  main.setAttribute('aria-busy', 'true');
  try {
    await page.render(main, {
      segments, params, notify,
      navigate: (hash) => { location.hash = hash; },
      current: () => mine === renderCount,
    });
  } finally {
    if (mine === renderCount) main.removeAttribute('aria-busy');
  }
  if (mine !== renderCount) return;
  document.title = `${main.querySelector('h1')?.textContent ?? 'Console'} · rcauth console`;
  // Screen readers hear the new page's heading; keyboard users start from it.
  const heading = main.querySelector('h1');
  if (heading) {
    heading.setAttribute('tabindex', '-1');
    heading.focus();
  }
}

// ---- signing in ---------------------------------------------------------------

let waiting = null; // { promise, resolve } while the dialog waits for the admin

const REASONS = {
  start: 'Sign in with an administrator account (scope rcauth:admin).',
  expired: 'Your admin session has ended. Sign in again to continue — the page and everything you typed stay as they are.',
  signedout: 'You are signed out.',
};

/** Opens the sign-in dialog over the page; resolves when the admin is signed in. */
function requireSignIn(reason) {
  if (!waiting) {
    let resolve;
    const promise = new Promise((r) => { resolve = r; });
    waiting = { promise, resolve };
    $('signin-reason').textContent = REASONS[reason] ?? REASONS.start;
    clearError(signinError, form);
    password.value = '';
    if (!dialog.open) dialog.showModal();
    (username.value ? password : username).focus();
  }
  return waiting.promise;
}

setSignInHandler(requireSignIn);

// The dialog must stay until the admin signs in: Escape would leave a page that cannot load anything.
dialog.addEventListener('cancel', (event) => event.preventDefault());

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  clearError(signinError, form);
  if (username.value === '') return showError(signinError, 'Enter your admin username.', username);
  if (password.value === '') return showError(signinError, 'Enter your password.', password);
  const submit = $('signin-submit');
  submit.disabled = true;
  try {
    await signIn(username.value, password.value);
  } catch (err) {
    // Both fields keep what was typed; the password is selected so it can be retyped at once.
    showError(signinError, err.message, err.code === 'network' ? null : password);
    password.select();
    return;
  } finally {
    submit.disabled = false;
  }
  password.value = '';
  dialog.close();
  const done = waiting;
  waiting = null;
  // A first sign-in (or one after signing out) draws the page; a renewed session leaves it alone.
  if (main.childElementCount === 0 || main.querySelector('noscript')) await route();
  done?.resolve();
});

let leaving = false; // true while signing out on purpose

onSessionChange((name) => {
  $('nav').hidden = name === null;
  $('who').hidden = name === null;
  $('who-name').textContent = name ?? '';
  // The background refresh found the session ended: ask now, not at the admin's next click.
  if (name === null && !leaving) requireSignIn('expired');
});

$('signout').addEventListener('click', async () => {
  leaving = true;
  try {
    await signOut();
  } finally {
    leaving = false;
  }
  // Unlike an expired session, signing out removes the admin data from the page.
  main.replaceChildren();
  notify('');
  requireSignIn('signedout');
});

$('skip').addEventListener('click', (event) => {
  // The hash belongs to the router; move focus without touching it.
  event.preventDefault();
  main.focus();
});

window.addEventListener('hashchange', () => { route(); });
requireSignIn('start');
