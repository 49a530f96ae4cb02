/* global navigator */
import { api, ApiError } from '../api.js';
import { append, busy, clearError, errorBox, field, fill, h, showError, table, time } from '../dom.js';
import { pager } from './shared.js';

export const id = 'accounts';
const PAGE = 25;

/** #/accounts?search=&offset= — the account list and the create form. */
export async function render(main, ctx) {
  const search = ctx.params.get('search') ?? '';
  const offset = Math.max(0, Number(ctx.params.get('offset')) || 0);
  const listError = errorBox();
  const list = h('div', { class: 'list' });
  append(main, [
    h('h1', { text: 'Accounts' }),
    searchForm(search, ctx),
    listError,
    list,
    createForm(ctx, () => load()),
  ]);

  async function load() {
    listError.textContent = '';
    try {
      const q = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
      if (search) q.set('search', search);
      const page = await api('GET', `/accounts?${q}`);
      if (!ctx.current()) return;
      fill(list,
        table('Accounts', ['Username', 'Status', 'Scopes', 'Last login', 'Created'], page.accounts.map((a) => [
          h('a', { href: `#/accounts/${encodeURIComponent(a.username)}`, text: a.username }),
          h('span', { class: a.disabled ? 'badge off' : 'badge on', text: a.disabled ? 'disabled' : 'enabled' }),
          a.scopes.join(' '),
          time(a.lastLoginAt),
          time(a.createdAt),
        ]), search ? `No account matches "${search}".` : 'No accounts yet.'),
        pager(page, (o) => {
          const q2 = new URLSearchParams({ offset: String(o) });
          if (search) q2.set('search', search);
          ctx.navigate(`#/accounts?${q2}`);
        }, 'Accounts pages'),
      );
    } catch (err) {
      if (ctx.current()) listError.textContent = err.message;
    }
  }
  await load();
}

function searchForm(search, ctx) {
  const { wrap, control } = field('Search usernames', { type: 'search', name: 'search', value: search, autocomplete: 'off', spellcheck: 'false' });
  return h('form', {
    class: 'inline', role: 'search',
    on: { submit: (e) => { e.preventDefault(); ctx.navigate(control.value ? `#/accounts?${new URLSearchParams({ search: control.value })}` : '#/accounts'); } },
  }, wrap, h('button', { type: 'submit', text: 'Search' }));
}

/**
 * Create form. On any failure every value stays as typed and the message says
 * what to fix; on success the generated password (if any) is shown once.
 */
function createForm(ctx, reload) {
  const error = errorBox();
  const result = h('div', { class: 'result', 'aria-live': 'polite' });
  const user = field('Username', { name: 'username', autocomplete: 'off', autocapitalize: 'none', spellcheck: 'false', required: true, maxlength: 256 });
  const generate = h('input', { type: 'radio', name: 'pwmode', value: 'generate', id: 'pw-generate', checked: true });
  const set = h('input', { type: 'radio', name: 'pwmode', value: 'set', id: 'pw-set' });
  const pw = field('Password to set', { type: 'password', name: 'password', autocomplete: 'new-password', disabled: true }, 'At least 12 characters; common passwords are refused.');
  const scopes = field('Scopes', { name: 'scopes', autocomplete: 'off', spellcheck: 'false', placeholder: 'openid offline_access profile' }, 'Space separated. Empty: openid offline_access profile.');
  const sync = () => { pw.control.disabled = !set.checked; };
  generate.addEventListener('change', sync);
  set.addEventListener('change', sync);

  const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'create-title' },
    h('h2', { id: 'create-title', text: 'Create an account' }),
    user.wrap,
    h('fieldset', {},
      h('legend', { text: 'Password' }),
      h('p', { class: 'choice' }, generate, h('label', { for: 'pw-generate', text: 'Generate a strong password (shown once)' })),
      h('p', { class: 'choice' }, set, h('label', { for: 'pw-set', text: 'Set a password' })),
      pw.wrap),
    scopes.wrap,
    error,
    h('p', { class: 'actions' }, h('button', { type: 'submit', text: 'Create account' })),
    result);

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearError(error, form);
    result.replaceChildren();
    const username = user.control.value;
    if (username.trim() === '') return showError(error, 'Enter a username.', user.control);
    if (username.trim() !== username) return showError(error, 'A username cannot start or end with a space.', user.control);
    if (set.checked && pw.control.value === '') return showError(error, 'Enter a password, or choose "Generate a strong password".', pw.control);
    const body = { username };
    if (set.checked) body.password = pw.control.value;
    const scopeList = scopes.control.value.split(/\s+/).filter(Boolean);
    if (scopeList.length > 0) body.scopes = scopeList;
    await busy(form, async () => {
      try {
        const made = await api('POST', '/accounts', body);
        form.reset();
        sync();
        result.replaceChildren(created(made));
        ctx.notify(`Account "${made.account.username}" created.`);
        await reload();
      } catch (err) {
        const target = !(err instanceof ApiError) ? null
          : err.code === 'conflict' || /username/i.test(err.message) ? user.control
          : /password/i.test(err.message) ? pw.control
          : /scope/i.test(err.message) ? scopes.control : null;
        showError(error, err.message, target);
      }
    });
  });
  return form;
}

function created(made) {
  const link = h('a', { href: `#/accounts/${encodeURIComponent(made.account.username)}`, text: made.account.username });
  if (!made.password) return h('p', {}, 'Created ', link, '.');
  const secret = h('code', { class: 'secret', text: made.password });
  const copy = h('button', {
    type: 'button', class: 'secondary', text: 'Copy password',
    on: { click: async () => { try { await navigator.clipboard.writeText(made.password); copy.textContent = 'Copied'; } catch { copy.textContent = 'Copy failed: select it'; } } },
  });
  return h('div', {}, h('p', {}, 'Created ', link, '. Its generated password is shown this once:'), h('p', {}, secret, ' ', copy));
}
