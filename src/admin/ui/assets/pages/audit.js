import { api } from '../api.js';
import { append, clearError, errorBox, field, fill, h, showError, table, time } from '../dom.js';
import { pager } from './shared.js';

export const id = 'audit';
const PAGE = 50;

const TYPES = ['login', 'refresh', 'refresh_reuse', 'revoke', 'sessions_revoked', 'account_created', 'account_removed', 'account_disabled',
  'account_enabled', 'password_changed', 'scopes_changed', 'account_unlocked', 'key_rotated', 'key_created'];

/** `datetime-local` holds local time without a zone; the API wants an instant. */
function toIso(local) {
  if (!local) return '';
  const t = new Date(local);
  return Number.isNaN(t.getTime()) ? null : t.toISOString();
}

function toLocal(iso) {
  if (!iso) return '';
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())}T${pad(t.getHours())}:${pad(t.getMinutes())}`;
}

/** #/audit?username=&type=&since=&until=&offset= — security events; the filters live in the URL. */
export async function render(main, ctx) {
  const p = ctx.params;
  const error = errorBox();
  const list = h('div');
  const username = field('Username', { name: 'username', value: p.get('username') ?? '', autocomplete: 'off', spellcheck: 'false' });
  const type = field('Event type', { tag: 'select', name: 'type' });
  append(type.control, [h('option', { value: '', text: 'Any' }), TYPES.map((t) => h('option', { value: t, text: t, selected: p.get('type') === t }))]);
  const since = field('From', { type: 'datetime-local', name: 'since', value: toLocal(p.get('since')) }, 'Your local time.');
  const until = field('Until', { type: 'datetime-local', name: 'until', value: toLocal(p.get('until')) }, 'Your local time.');
  const form = h('form', { class: 'card filters', novalidate: true, 'aria-labelledby': 'filter-title' },
    h('h2', { id: 'filter-title', text: 'Filters' }),
    h('div', { class: 'row' }, username.wrap, type.wrap, since.wrap, until.wrap),
    h('p', { class: 'actions' }, h('button', { type: 'submit', text: 'Apply filters' }), h('a', { href: '#/audit', class: 'button secondary', text: 'Clear' })),
    error);
  append(main, [h('h1', { text: 'Audit log' }), form, list]);

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    clearError(error, form);
    const from = toIso(since.control.value);
    const to = toIso(until.control.value);
    if (from === null) return showError(error, 'The "From" time is not a valid date and time.', since.control);
    if (to === null) return showError(error, 'The "Until" time is not a valid date and time.', until.control);
    if (from && to && from >= to) return showError(error, '"From" must be before "Until".', since.control);
    const q = new URLSearchParams();
    if (username.control.value) q.set('username', username.control.value);
    if (type.control.value) q.set('type', type.control.value);
    if (from) q.set('since', from);
    if (to) q.set('until', to);
    const next = `#/audit?${q}`;
    // Same filters again: reload in place (the hash would not change).
    if (`#/audit?${p}` === next) load(); else ctx.navigate(next);
  });

  async function load() {
    const q = new URLSearchParams({ limit: String(PAGE), offset: String(Math.max(0, Number(p.get('offset')) || 0)) });
    for (const k of ['username', 'type', 'since', 'until']) if (p.get(k)) q.set(k, p.get(k));
    try {
      const page = await api('GET', `/audit?${q}`);
      if (!ctx.current()) return;
      fill(list,
        table('Audit events, newest first', ['Time', 'Event', 'Outcome', 'Username', 'By', 'Client IP', 'Detail'], page.events.map((e) => [
          time(e.at), e.type, h('span', { class: `outcome ${e.outcome}`, text: e.outcome }), e.username ?? '—', e.actor ?? '—', e.clientIp ?? '—',
          e.detail ? h('code', { class: 'detail', text: JSON.stringify(e.detail) }) : '—',
        ]), 'No events match these filters.'),
        pager(page, (o) => {
          const q2 = new URLSearchParams(p);
          q2.set('offset', String(o));
          ctx.navigate(`#/audit?${q2}`);
        }, 'Audit pages'),
      );
    } catch (err) {
      if (ctx.current()) showError(error, err.message);
    }
  }
  await load();
}
