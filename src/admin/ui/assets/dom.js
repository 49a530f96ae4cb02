/**
 * Tiny DOM helpers. Every piece of data (usernames, user agents, audit details —
 * all of which an attacker can choose) reaches the page as text nodes, never as
 * HTML: there is no innerHTML anywhere in the console.
 */

/**
 * Creates an element. `props`: `class`, `text`, `on: {event: handler}`, boolean
 * attributes as true/false, anything else as an attribute.
 * @param {string} tag
 * @param {Record<string, unknown>} [props]
 * @param {...(Node|string|null|undefined|false)} children
 * @returns {HTMLElement}
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') el.className = String(value);
    else if (name === 'text') el.textContent = String(value);
    else if (name === 'on') for (const [event, fn] of Object.entries(value)) el.addEventListener(event, fn);
    else if (value === true) el.setAttribute(name, '');
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

/** Appends children, skipping empty ones; strings become text nodes. */
export function append(parent, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(typeof child === 'object' ? child : document.createTextNode(String(child)));
  }
  return parent;
}

let ids = 0;
/** A unique id for label/field pairs. */
export function uid(prefix) {
  ids += 1;
  return `${prefix}-${ids}`;
}

/**
 * A labelled form field (every control has a <label>). Returns the wrapper and
 * the control. `hint` is tied to the control with aria-describedby.
 */
export function field(label, attrs = {}, hint = '') {
  const id = attrs.id ?? uid('f');
  const hintId = hint ? `${id}-hint` : undefined;
  const control = attrs.tag === 'select' ? h('select', { ...attrs, tag: undefined, id, 'aria-describedby': hintId }) : h('input', { ...attrs, id, 'aria-describedby': hintId });
  const wrap = h('p', { class: 'field' }, h('label', { for: id, text: label }), control, hint ? h('span', { class: 'hint', id: hintId, text: hint }) : null);
  return { wrap, control };
}

/** Local, readable time inside a machine-readable <time>. */
export function time(iso) {
  if (!iso) return h('span', { class: 'muted', text: '—' });
  return h('time', { datetime: iso, title: iso, text: new Date(iso).toLocaleString() });
}

/** A table with a caption (screen readers announce it) and header cells. */
export function table(caption, headers, rows, empty = 'Nothing to show.') {
  if (rows.length === 0) return h('p', { class: 'empty', text: empty });
  return h('div', { class: 'table-wrap' },
    h('table', {},
      h('caption', { class: 'visually-hidden', text: caption }),
      h('thead', {}, h('tr', {}, headers.map((text) => h('th', { scope: 'col', text })))),
      h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((c) => h('td', {}, c)))))));
}

/** An error line for a form or a page: a live region that exists before it is filled. */
export function errorBox() {
  return h('p', { class: 'error', role: 'alert', 'aria-live': 'assertive' });
}

/**
 * Shows an error next to the control it is about: aria-invalid, the message in the
 * form's live region, and focus on the control so the admin can fix it at once.
 */
export function showError(box, message, control) {
  box.textContent = message;
  if (control) {
    control.setAttribute('aria-invalid', 'true');
    control.setAttribute('aria-errormessage', box.id || (box.id = uid('err')));
    control.focus();
  }
}

/** Clears the error state of a form. */
export function clearError(box, form) {
  box.textContent = '';
  for (const el of form.querySelectorAll('[aria-invalid]')) {
    el.removeAttribute('aria-invalid');
    el.removeAttribute('aria-errormessage');
  }
}

/**
 * Runs a submit handler with the button disabled (no double submit) and the form
 * marked busy; the form's values are never reset on failure.
 */
export async function busy(form, fn) {
  const buttons = [...form.querySelectorAll('button')];
  const was = buttons.map((b) => b.disabled);
  for (const b of buttons) b.disabled = true;
  form.setAttribute('aria-busy', 'true');
  try {
    return await fn();
  } finally {
    buttons.forEach((b, i) => { b.disabled = was[i]; });
    form.removeAttribute('aria-busy');
  }
}

/** Replaces an element's children (empty ones skipped: replaceChildren would print "null"). */
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}
