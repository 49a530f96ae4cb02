import { api } from '../api.js';
import { append, busy, errorBox, h, showError, table, time } from '../dom.js';
import { confirmed } from './shared.js';

export const id = 'keys';

/** #/keys — the signing keys and rotation. */
export async function render(main, ctx) {
  const error = errorBox();
  const list = h('div');
  const rotate = h('button', { type: 'button', text: 'Rotate signing key' });
  const form = h('form', { class: 'card', 'aria-labelledby': 'rotate-title', on: { submit: (e) => e.preventDefault() } },
    h('h2', { id: 'rotate-title', text: 'Rotation' }),
    h('p', { class: 'hint', text: 'A new key signs from now on. The old one stays in the JWKS until every token it signed has expired, so no token stops verifying.' }),
    h('p', { class: 'actions' }, rotate), error);
  append(main, [h('h1', { text: 'Signing keys' }), form, list]);

  rotate.addEventListener('click', async () => {
    if (!confirmed('Rotate the signing key now?')) return;
    error.textContent = '';
    await busy(form, async () => {
      try {
        const key = await api('POST', '/keys/rotate');
        ctx.notify(`New active key ${key.kid}.`);
        await load();
      } catch (err) {
        showError(error, err.message);
      }
    });
  });

  async function load() {
    try {
      const { keys } = await api('GET', '/keys');
      if (!ctx.current()) return;
      list.replaceChildren(table('Signing keys, newest first', ['Key id (kid)', 'Algorithm', 'Status', 'Created', 'Retired'], keys.map((k) => [
        h('code', { class: 'kid', text: k.kid }), k.alg, h('span', { class: `badge ${k.status === 'active' ? 'on' : 'off'}`, text: k.status }), time(k.createdAt), time(k.retiredAt),
      ])));
    } catch (err) {
      if (ctx.current()) error.textContent = err.message;
    }
  }
  await load();
}
