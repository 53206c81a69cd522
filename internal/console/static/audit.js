// The audit page: newest first, with filters.
import { call, query } from './api.js';
import { h, field, table, when, pager, clearErrors, setError } from './dom.js';

const actions = ['endpoint.create', 'endpoint.update', 'endpoint.secret_replace', 'endpoint.delete',
  'code.read', 'code.claim', 'code.verify', 'token.create', 'token.revoke', 'auth.denied'];

// utc turns a datetime-local value (the viewer's time zone) into RFC 3339.
const utc = (value) => (value ? new Date(value).toISOString() : '');

export function auditPage(page) {
  const endpoint = h('input', { id: 'audit-endpoint', autocomplete: 'off', spellcheck: 'false' });
  const action = h('select', { id: 'audit-action' }, h('option', { value: '' }, 'Any'),
    actions.map((a) => h('option', { value: a }, a)));
  const token = h('input', { id: 'audit-token', autocomplete: 'off', spellcheck: 'false' });
  const since = h('input', { id: 'audit-since', type: 'datetime-local', step: 1 });
  const until = h('input', { id: 'audit-until', type: 'datetime-local', step: 1 });
  const list = h('div', { id: 'audit-list' });

  const pages = pager(async (cursor) => {
    const q = query({ endpoint: endpoint.value.trim(), action: action.value, token_id: token.value.trim(),
      since: utc(since.value), until: utc(until.value), cursor, limit: 50 });
    try {
      const body = await call('GET', `/v1/audit${q}`);
      list.replaceChildren(body.events.length === 0 ? h('p', {}, 'No events match.') :
        table('Audit events, newest first', ['Time', 'Action', 'Outcome', 'Endpoint', 'Token', 'Address', 'Detail'],
          body.events.map((e) => [when(e.time), e.action, e.outcome, e.endpoint || '',
            e.token_name || e.token_id || '', e.remote_addr || '', e.detail || ''])));
      return body.next_cursor || '';
    } catch (err) {
      if (err.status !== 400) page.fail(err);
      else setError(['since', 'until', 'endpoint', 'token'].map((k) => `audit-${k}`)
        .find((id) => err.message.includes(id.slice(6))) || endpoint.id, err.message);
      return null;
    }
  });

  const filters = h('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); clearErrors(filters); pages.first(); } },
    field('Endpoint', endpoint), field('Action', action), field('Token ID', token),
    field('Since', since), field('Until', until), h('button', { type: 'submit' }, 'Filter'));
  page.main.append(h('h1', {}, 'Audit'), filters, list, pages.el);
  pages.first();
}
