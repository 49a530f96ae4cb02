import { api, seg } from '../api.js';
import { append, busy, clearError, errorBox, field, h, showError, table, time } from '../dom.js';
import { confirmed } from './shared.js';

export const id = 'accounts';

/** #/accounts/NAME — one account: status, scopes, password, throttling, sessions. */
export async function render(main, ctx) {
  const name = ctx.segments[1];
  const heading = h('h1', { text: name });
  const pageError = errorBox();
  const facts = h('div');
  const actions = h('div', { class: 'cards' });
  const sessions = h('section', { 'aria-labelledby': 'sessions-title' });
  append(main, [h('p', { class: 'crumbs' }, h('a', { href: '#/accounts', text: 'Accounts' })), heading, pageError, facts, actions, sessions]);

  let account;
  try {
    account = await api('GET', `/accounts/${seg(name)}`);
  } catch (err) {
    if (ctx.current()) pageError.textContent = err.message;
    return;
  }
  if (!ctx.current()) return;
  const show = (a) => {
    account = a;
    facts.replaceChildren(h('dl', { class: 'facts' },
      h('dt', { text: 'Status' }), h('dd', {}, h('span', { class: a.disabled ? 'badge off' : 'badge on', text: a.disabled ? 'disabled' : 'enabled' })),
      h('dt', { text: 'Scopes' }), h('dd', { text: a.scopes.join(' ') || '—' }),
      h('dt', { text: 'Account id' }), h('dd', {}, h('code', { text: a.id })),
      h('dt', { text: 'Created' }), h('dd', {}, time(a.createdAt)),
      h('dt', { text: 'Last login' }), h('dd', {}, time(a.lastLoginAt))));
    toggle.textContent = a.disabled ? 'Enable account' : 'Disable account';
  };
  const path = `/accounts/${seg(name)}`;

  // Status, unlock and removal: one button each, the outcome in the shared error line or notice.
  const statusError = errorBox();
  const toggle = h('button', { type: 'button' });
  const unlock = h('button', { type: 'button', class: 'secondary', text: 'Clear login throttling' });
  const remove = h('button', { type: 'button', class: 'danger', text: 'Remove account' });
  const statusForm = h('form', { class: 'card', 'aria-labelledby': 'status-title', on: { submit: (e) => e.preventDefault() } },
    h('h2', { id: 'status-title', text: 'Status' }), h('p', { class: 'actions' }, toggle, unlock, remove), statusError);
  const act = (fn) => async () => {
    clearError(statusError, statusForm);
    await busy(statusForm, async () => {
      try { await fn(); } catch (err) { showError(statusError, err.message); }
    });
  };
  toggle.addEventListener('click', act(async () => {
    const disable = !account.disabled;
    if (disable && !confirmed(`Disable "${account.username}"? Every session of the account ends now.`)) return;
    show(await api('PATCH', path, { disabled: disable }));
    ctx.notify(`Account "${account.username}" ${disable ? 'disabled; its sessions ended' : 'enabled'}.`);
    if (disable) await loadSessions();
  }));
  unlock.addEventListener('click', act(async () => {
    await api('POST', `${path}/unlock`);
    ctx.notify(`Login throttling of "${account.username}" cleared.`);
  }));
  remove.addEventListener('click', act(async () => {
    if (!confirmed(`Remove "${account.username}" for good? Its sessions end and the account cannot be restored.`)) return;
    await api('DELETE', path);
    ctx.notify(`Account "${account.username}" removed.`);
    ctx.navigate('#/accounts');
  }));

  append(actions, [statusForm, scopesForm(path, () => account, show, ctx), passwordForm(path, () => account, ctx, () => loadSessions())]);
  show(account);

  const sessionsError = errorBox();
  const sessionList = h('div');
  const revokeAll = h('button', { type: 'button', class: 'danger', text: 'Revoke all sessions' });
  const reload = h('button', { type: 'button', class: 'secondary', text: 'Reload sessions' });
  append(sessions, [h('h2', { id: 'sessions-title', text: 'Sessions' }), h('p', { class: 'actions' }, reload, revokeAll), sessionsError, sessionList]);
  reload.addEventListener('click', () => loadSessions());
  revokeAll.addEventListener('click', async () => {
    if (!confirmed(`End every session of "${account.username}"? Its refresh tokens stop working and its access tokens become inactive.`)) return;
    sessionsError.textContent = '';
    try {
      const { revoked } = await api('DELETE', `${path}/sessions`);
      ctx.notify(`${revoked} session${revoked === 1 ? '' : 's'} of "${account.username}" revoked.`);
      await loadSessions();
    } catch (err) {
      sessionsError.textContent = err.message;
    }
  });

  async function loadSessions() {
    sessionsError.textContent = '';
    try {
      const { sessions: list } = await api('GET', `${path}/sessions`);
      if (!ctx.current()) return;
      sessionList.replaceChildren(table(`Live sessions of ${account.username}`, ['Started', 'Last used', 'Client IP', 'User agent', 'Expires', 'Session id', ''], list.map((s) => [
        time(s.createdAt), time(s.lastUsedAt), s.clientIp ?? '—', h('span', { class: 'ua', text: s.userAgent ?? '—' }), time(s.expiresAt),
        h('code', { class: 'sid', text: s.id }),
        h('button', {
          type: 'button', class: 'secondary', text: 'Revoke', 'aria-label': `Revoke session ${s.id}`,
          on: {
            click: async () => {
              sessionsError.textContent = '';
              try {
                await api('DELETE', `${path}/sessions/${seg(s.id)}`);
                ctx.notify(`Session ${s.id} revoked.`);
                await loadSessions();
              } catch (err) {
                sessionsError.textContent = err.message;
              }
            },
          },
        }),
      ]), 'No live sessions.'));
    } catch (err) {
      if (ctx.current()) sessionsError.textContent = err.message;
    }
  }
  await loadSessions();
}

function scopesForm(path, get, show, ctx) {
  const error = errorBox();
  const scopes = field('Scopes', { name: 'scopes', value: get().scopes.join(' '), autocomplete: 'off', spellcheck: 'false' }, 'Space separated, e.g. openid offline_access profile rcauth:admin.');
  const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'scopes-title' },
    h('h2', { id: 'scopes-title', text: 'Scopes' }), scopes.wrap, error, h('p', { class: 'actions' }, h('button', { type: 'submit', text: 'Save scopes' })));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearError(error, form);
    await busy(form, async () => {
      try {
        show(await api('PATCH', path, { scopes: scopes.control.value.split(/\s+/).filter(Boolean) }));
        ctx.notify(`Scopes of "${get().username}" saved.`);
      } catch (err) {
        showError(error, err.message, err.code === 'network' ? null : scopes.control);
      }
    });
  });
  return form;
}

function passwordForm(path, get, ctx, after) {
  const error = errorBox();
  const pw = field('New password', { type: 'password', name: 'new-password', autocomplete: 'new-password' }, 'At least 12 characters. Every session of the account ends.');
  const form = h('form', { class: 'card', novalidate: true, 'aria-labelledby': 'password-title' },
    h('h2', { id: 'password-title', text: 'Reset password' }), pw.wrap, error, h('p', { class: 'actions' }, h('button', { type: 'submit', text: 'Set password' })));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearError(error, form);
    if (pw.control.value === '') return showError(error, 'Enter a new password.', pw.control);
    await busy(form, async () => {
      try {
        await api('POST', `${path}/password`, { password: pw.control.value });
        pw.control.value = '';
        ctx.notify(`Password of "${get().username}" changed; its sessions ended.`);
        await after();
      } catch (err) {
        showError(error, err.message, err.code === 'network' ? null : pw.control);
      }
    });
  });
  return form;
}
