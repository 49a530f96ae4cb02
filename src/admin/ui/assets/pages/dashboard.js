import { api, seg } from '../api.js';
import { append, errorBox, h, table, time } from '../dom.js';
import { barChart } from '../chart.js';

export const id = 'dashboard';

const SERIES = [
  { key: 'ok', label: 'Successful' },
  { key: 'failed', label: 'Failed' },
  { key: 'throttled', label: 'Throttled' },
];

/** #/dashboard — logins over the last 24 hours and who is throttled right now. */
export async function render(main, ctx) {
  const error = errorBox();
  const body = h('div');
  const reload = h('button', { type: 'button', class: 'secondary', text: 'Reload', on: { click: () => load() } });
  append(main, [h('h1', { text: 'Dashboard' }), h('p', { class: 'actions' }, reload), error, body]);

  async function load() {
    error.textContent = '';
    try {
      const stats = await api('GET', '/stats');
      if (ctx.current()) body.replaceChildren(...view(stats, ctx, load));
    } catch (err) {
      if (ctx.current()) error.textContent = err.message;
    }
  }
  await load();
}

function view(stats, ctx, reload) {
  const hour = (iso) => new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  const buckets = stats.logins.map((b) => ({ label: hour(b.start), title: `${new Date(b.start).toLocaleString()} (1 h)`, values: b }));
  const t = stats.totals;
  const summary = `Over the last 24 hours: ${t.ok} successful, ${t.failed} failed and ${t.throttled} throttled logins.`;
  const unlockError = errorBox();

  return [
    h('section', { 'aria-labelledby': 'logins-title', class: 'card' },
      h('h2', { id: 'logins-title', text: 'Logins, last 24 hours' }),
      h('ul', { class: 'totals' }, SERIES.map((x) => h('li', { class: `total ${x.key}` }, h('span', { class: 'n', text: String(t[x.key]) }), ` ${x.label.toLowerCase()}`))),
      h('ul', { class: 'legend', 'aria-label': 'Legend' }, SERIES.map((x) => h('li', {}, h('span', { class: `swatch ${x.key}`, 'aria-hidden': 'true' }), x.label))),
      barChart(buckets, SERIES, summary),
      stats.truncated ? h('p', { class: 'hint', text: 'More logins than the dashboard reads in one go: the oldest hours count only part of them.' }) : null,
      h('details', {},
        h('summary', { text: 'Show the figures as a table' }),
        table('Logins per hour', ['Hour starting', 'Successful', 'Failed', 'Throttled'],
          stats.logins.map((b) => [time(b.start), String(b.ok), String(b.failed), String(b.throttled)])))),
    h('section', { 'aria-labelledby': 'throttled-title', class: 'card' },
      h('h2', { id: 'throttled-title', text: 'Throttled now' }),
      h('p', { class: 'hint', text: 'Usernames whose failed logins reached the limit; each block ends by itself at the time shown.' }),
      unlockError,
      table('Throttled usernames', ['Username', 'From', 'Failures', 'Until', ''], stats.throttled.map((b) => [
        b.username, b.clientIp ?? 'every address', String(b.failures), time(b.until),
        h('button', {
          type: 'button', class: 'secondary', text: 'Unlock', 'aria-label': `Unlock ${b.username}`,
          on: {
            click: async () => {
              unlockError.textContent = '';
              try {
                await api('POST', `/accounts/${seg(b.username)}/unlock`);
                ctx.notify(`Login throttling of "${b.username}" cleared.`);
                await reload();
              } catch (err) {
                unlockError.textContent = err.message;
              }
            },
          },
        }),
      ]), 'Nobody is throttled.')),
  ];
}
