import { h } from '../dom.js';

/** Previous/next buttons for `{limit, offset, hasMore}` pages. */
export function pager(page, go, label) {
  if (page.offset === 0 && !page.hasMore) return null;
  const from = page.offset + 1;
  return h('nav', { class: 'pager', 'aria-label': label },
    h('button', { type: 'button', class: 'secondary', disabled: page.offset === 0, text: 'Previous', on: { click: () => go(Math.max(0, page.offset - page.limit)) } }),
    h('span', { text: `From number ${from}` }),
    h('button', { type: 'button', class: 'secondary', disabled: !page.hasMore, text: 'Next', on: { click: () => go(page.offset + page.limit) } }));
}

/** A confirmation before something that cannot be undone (window.confirm is keyboard and screen-reader friendly). */
export function confirmed(question) {
  return window.confirm(question);
}
