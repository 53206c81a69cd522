// Small helpers to build the page. Everything that comes from the API goes
// into the page as text (text nodes, textContent, attribute values), never
// as HTML.

let ids = 0;

// h makes an element. attrs are attributes, except on* keys, which are
// event listeners; null, undefined and false leave an attribute out.
// Children are nodes or strings (as text).
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value == null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

// field is a labelled control with a place for its error beside it.
// It returns the wrapper; the control keeps its id.
export function field(label, control, hint) {
  control.id ||= 'f' + ++ids;
  const error = h('p', { class: 'error', id: control.id + '-error', 'aria-live': 'polite' });
  const hintEl = hint ? h('p', { class: 'hint', id: control.id + '-hint' }, hint) : null;
  control.setAttribute('aria-describedby', [hintEl?.id, error.id].filter(Boolean).join(' '));
  return h('div', { class: 'field' }, h('label', { for: control.id }, label), control, hintEl, error);
}

// setError shows message beside the control with this id (or clears it).
export function setError(id, message) {
  const el = document.getElementById(id + '-error');
  const control = document.getElementById(id);
  if (el) el.textContent = message || '';
  if (control) control.toggleAttribute('aria-invalid', Boolean(message));
}

// clearErrors clears every error message inside root.
export function clearErrors(root) {
  for (const el of root.querySelectorAll('.error')) el.textContent = '';
  for (const el of root.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

// table makes a table with these column headings and rows of cells. On a
// narrow window the table scrolls sideways inside its wrapper, which takes
// the keyboard focus so that it can be scrolled without a mouse.
export function table(caption, headings, rows) {
  return h('div', { class: 'scroll', tabindex: 0, role: 'region', 'aria-label': caption },
    h('table', {},
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, headings.map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map((c) => h('td', {}, c)))))));
}

// when formats an RFC 3339 time for people, in their time zone.
export function when(rfc3339) {
  return rfc3339 ? new Date(rfc3339).toLocaleString() : '';
}

// labelsText shows a labels object as "key=value" lines.
export function labelsText(labels) {
  return Object.entries(labels || {}).map(([k, v]) => `${k}=${v}`).join('\n');
}

// parseLabels reads "key=value" lines (blank lines ignored) into an object.
export function parseLabels(text) {
  const labels = {};
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const at = line.indexOf('=');
    if (at < 1) throw new Error(`"${line.trim()}" is not key=value`);
    labels[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return labels;
}

// pager keeps the cursors of the pages seen so far. load(cursor) shows a
// page and resolves to its next_cursor ('' on the last page), or to null
// when it could not load it; the pager then stays where it was.
export function pager(load) {
  const cursors = [''];
  let page = 0;
  const prev = h('button', { type: 'button', class: 'prev', onclick: () => go(page - 1) }, 'Previous page');
  const next = h('button', { type: 'button', class: 'next', onclick: () => go(page + 1) }, 'Next page');
  const where = h('span', { 'aria-live': 'polite' });

  async function go(to) {
    const nextCursor = await load(cursors[to]);
    if (nextCursor == null) return;
    page = to;
    cursors.length = to + 1;
    if (nextCursor) cursors.push(nextCursor);
    prev.disabled = page === 0;
    next.disabled = cursors.length <= page + 1;
    where.textContent = `Page ${page + 1}`;
  }
  return { el: h('nav', { class: 'pager', 'aria-label': 'Pages' }, prev, where, next), first: () => go(0) };
}
