// The tokens page: list, create (shown once), revoke.
import { call, query } from './api.js';
import { h, field, table, when, pager, clearErrors, setError } from './dom.js';

export function tokensPage(page) {
  const list = h('div', { id: 'token-list' });
  const pages = pager(async (cursor) => {
    try {
      const body = await call('GET', `/v1/tokens${query({ cursor, limit: 50 })}`);
      list.replaceChildren(table('Tokens', ['Name', 'Role', 'Scopes', 'Created', 'Expires', 'ID', ''],
        body.tokens.map((t) => [t.name, t.role, (t.scopes || []).join(' '), when(t.created_at),
          when(t.expires_at) || 'never', h('code', {}, t.id), revokeButton(t)])));
      return body.next_cursor || '';
    } catch (err) {
      page.fail(err);
      return null;
    }
  });

  // revokeButton asks once more, in place, before revoking.
  function revokeButton(t) {
    const cell = h('span', { class: 'revoke' });
    const ask = h('button', { type: 'button', 'data-revoke': t.id, onclick: () => {
      cell.replaceChildren(`Revoke ${t.name}? `,
        h('button', { type: 'button', class: 'danger', 'data-confirm-revoke': t.id, onclick: revoke }, 'Yes, revoke'),
        ' ', h('button', { type: 'button', onclick: () => { cell.replaceChildren(ask); ask.focus(); } }, 'Cancel'));
      cell.querySelector('button').focus();
    } }, 'Revoke');
    async function revoke() {
      try {
        await call('DELETE', `/v1/tokens/${encodeURIComponent(t.id)}`);
        pages.first();
      } catch (err) {
        page.fail(err);
      }
    }
    cell.append(ask);
    return cell;
  }

  page.main.append(h('h1', {}, 'Tokens'), createForm(page, () => pages.first()), list, pages.el);
  pages.first();
}

// createForm makes a token and shows its value this once.
function createForm(page, created) {
  const name = h('input', { id: 'token-name', autocomplete: 'off' });
  const role = h('select', { id: 'token-role' }, h('option', { value: 'runner' }, 'runner'),
    h('option', { value: 'admin' }, 'admin'));
  const scopes = h('input', { id: 'token-scopes', autocomplete: 'off', spellcheck: 'false', placeholder: 'o365-*' });
  const ttl = h('input', { id: 'token-ttl', autocomplete: 'off', placeholder: '720h' });
  const formError = h('p', { class: 'error', role: 'alert' });
  const result = h('div', { id: 'token-result' });

  async function submit(e) {
    e.preventDefault();
    clearErrors(form);
    formError.textContent = '';
    const body = { name: name.value.trim(), role: role.value };
    const s = scopes.value.split(/[\s,]+/).filter(Boolean);
    if (s.length) body.scopes = s;
    if (ttl.value.trim()) body.ttl = ttl.value.trim();
    try {
      const t = await call('POST', '/v1/tokens', body);
      showValue(t);
      created();
    } catch (err) {
      if (err.status === 401) return page.fail(err);
      const which = ['scopes', 'ttl', 'role', 'name'].find((k) => err.message.includes(k));
      if (which) setError(`token-${which}`, err.message);
      else formError.textContent = err.message;
    }
  }

  function showValue(t) {
    const value = h('input', { id: 'new-token-value', readonly: true, value: t.token, class: 'mono' });
    const copied = h('span', { role: 'status' });
    result.replaceChildren(h('div', { class: 'once' },
      h('p', { class: 'warning', role: 'alert' }, `The value of ${t.name} is shown only now. Copy it and keep it safe.`),
      field('Token value', value),
      h('button', { type: 'button', id: 'copy-token', onclick: async () => {
        value.select();
        try {
          await navigator.clipboard.writeText(t.token);
          copied.textContent = ' Copied.';
        } catch {
          copied.textContent = ' Copy it by hand (Ctrl+C): the browser refused.';
        }
      } }, 'Copy'), copied,
      ' ', h('button', { type: 'button', onclick: () => result.replaceChildren() }, 'Done, hide it')));
    value.focus();
  }

  const form = h('form', { class: 'card', id: 'token-form', onsubmit: submit },
    h('h2', {}, 'Create a token'),
    h('div', { class: 'grid' }, field('Name', name), field('Role', role),
      field('Scopes', scopes, 'Endpoint name patterns, e.g. o365-*; a runner needs one.'),
      field('Expires after', ttl, 'A Go duration such as 720h; empty for never.')),
    h('button', { type: 'submit', class: 'primary' }, 'Create token'), formError, result);
  return form;
}
