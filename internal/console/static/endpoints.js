// The endpoints list and one endpoint's page.
import { call, query, endpointPath } from './api.js';
import { h, field, table, when, labelsText, parseLabels, pager, setError, clearErrors } from './dom.js';
import { codePanel } from './code.js';
import { secretSources } from './sources.js';
import { optionalFields, optionalBody, showProblem, problemField, generated } from './enroll.js';

const link = (name) => h('a', { href: `#/endpoints/${encodeURIComponent(name)}` }, name);

// endpointsPage lists endpoints with prefix and label filters.
export function endpointsPage(page) {
  const prefix = h('input', { id: 'filter-prefix', autocomplete: 'off', spellcheck: 'false' });
  const label = h('input', { id: 'filter-label', autocomplete: 'off', spellcheck: 'false',
    placeholder: 'team:ops env:prod' });
  const list = h('div', { id: 'endpoint-list' });

  const pages = pager(async (cursor) => {
    const q = query({ prefix: prefix.value.trim(), label: label.value.split(/\s+/).filter(Boolean),
      cursor, limit: 50 });
    try {
      const body = await call('GET', `/v1/endpoints${q}`);
      list.replaceChildren(body.endpoints.length === 0 ? h('p', {}, 'No endpoints match.') :
        table('Endpoints', ['Name', 'Issuer', 'Account', 'Labels', 'Digits / period'],
          body.endpoints.map((e) => [link(e.name), e.issuer || '', e.account || '',
            labelsText(e.labels), `${e.digits} / ${e.period} s`])));
      return body.next_cursor || '';
    } catch (err) {
      if (err.status === 400) setError(label.id, err.message);
      else page.fail(err);
      return null;
    }
  });

  const filters = h('form', { class: 'filters', onsubmit: (e) => { e.preventDefault(); clearErrors(filters); pages.first(); } },
    field('Name prefix', prefix),
    field('Labels', label, 'key:value pairs, space-separated; all must match.'),
    h('button', { type: 'submit' }, 'Filter'));
  page.main.append(h('h1', {}, 'Endpoints'), filters, list, pages.el);
  pages.first();
}

// endpointPage shows one endpoint: details, code, and for admins the
// changes.
export async function endpointPage(page, name) {
  let ep;
  try {
    ep = await call('GET', endpointPath(name));
  } catch (err) {
    return page.fail(err);
  }
  if (!page.live()) return;

  const details = h('dl', { class: 'details', id: 'details' });
  const showDetails = (e) => details.replaceChildren(...[
    ['Issuer', e.issuer], ['Account', e.account], ['Algorithm', e.algorithm], ['Digits', e.digits],
    ['Period', `${e.period} s`], ['Labels', labelsText(e.labels)], ['Created', when(e.created_at)],
    ['Updated', when(e.updated_at)],
  ].flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v ?? '')]));
  showDetails(ep);

  const panel = codePanel(name, page.fail);
  page.onCleanup(panel.cleanup);
  page.main.append(h('h1', { id: 'endpoint-name' }, name), h('section', { class: 'card' }, details), panel.el);
  if (page.admin) {
    const replaced = (e) => {
      showDetails(e);
      panel.reset();
    };
    page.main.append(editForm(page, ep, showDetails), secretForm(page, name, replaced),
      deleteForm(page, name));
  }
}

// editForm changes issuer, account and labels.
function editForm(page, ep, showDetails) {
  const issuer = h('input', { id: 'edit-issuer', value: ep.issuer || '' });
  const account = h('input', { id: 'edit-account', value: ep.account || '' });
  const labels = h('textarea', { id: 'edit-labels', rows: 4, spellcheck: 'false' });
  labels.value = labelsText(ep.labels);
  const done = h('p', { role: 'status', id: 'edit-done' });
  const formError = h('p', { class: 'error', role: 'alert' });

  async function submit(e) {
    e.preventDefault();
    clearErrors(form);
    done.textContent = formError.textContent = '';
    let body;
    try {
      body = { issuer: issuer.value.trim() || null, account: account.value.trim() || null,
        labels: parseLabels(labels.value) };
    } catch (err) {
      return setError(labels.id, err.message);
    }
    try {
      const updated = await call('PATCH', endpointPath(ep.name), body);
      showDetails(updated);
      done.textContent = 'Saved.';
    } catch (err) {
      if (err.status === 401) return page.fail(err);
      showProblem(err, problemField(err, 'edit', ['issuer', 'account', 'labels']) || labels.id, formError);
    }
  }

  const form = h('form', { class: 'card', id: 'edit-form', onsubmit: submit, 'data-admin': true },
    h('h2', {}, 'Issuer, account and labels'),
    field('Issuer', issuer), field('Account', account), field('Labels', labels, 'One key=value a line.'),
    h('button', { type: 'submit' }, 'Save'), done, formError);
  return form;
}

// secretForm replaces the secret; replaced gets the endpoint afterwards.
function secretForm(page, name, replaced) {
  const sources = secretSources('replace');
  page.onCleanup(sources.cleanup);
  const opt = optionalFields('replace');
  const result = h('div', { id: 'replace-result' });
  const formError = h('p', { class: 'error', role: 'alert' });

  async function submit(e) {
    e.preventDefault();
    clearErrors(form);
    formError.textContent = '';
    result.replaceChildren();
    try {
      const ep = await call('PUT', endpointPath(name, '/secret'), { ...sources.body(), ...optionalBody(opt) });
      replaced(ep);
      result.replaceChildren(ep.qr_png ? generated(ep) : h('p', { role: 'status' }, 'Secret replaced.'));
    } catch (err) {
      if (err.status === 401) return page.fail(err);
      showProblem(err, sources.fieldFor(err.code) ||
        problemField(err, 'replace', ['issuer', 'account', 'algorithm', 'digits', 'period']), formError);
    }
  }

  const form = h('form', { class: 'card', id: 'secret-form', onsubmit: submit, novalidate: true, 'data-admin': true },
    h('h2', {}, 'Replace the secret'), sources.el,
    h('fieldset', {}, h('legend', {}, 'Details (optional)'),
      h('div', { class: 'grid' }, field('Issuer', opt.issuer), field('Account', opt.account),
        field('Algorithm', opt.algorithm), field('Digits', opt.digits), field('Period (seconds)', opt.period))),
    h('button', { type: 'submit' }, 'Replace secret'), formError, result);
  return form;
}

// deleteForm deletes the endpoint once its name is typed.
function deleteForm(page, name) {
  const confirm = h('input', { id: 'delete-confirm', autocomplete: 'off', spellcheck: 'false' });

  async function submit(e) {
    e.preventDefault();
    if (confirm.value !== name) return setError(confirm.id, 'Type the name exactly to confirm.');
    try {
      await call('DELETE', endpointPath(name));
      location.hash = '#/endpoints';
    } catch (err) {
      page.fail(err);
    }
  }

  return h('form', { class: 'card danger', id: 'delete-form', onsubmit: submit, 'data-admin': true },
    h('h2', {}, 'Delete'),
    field(`Type "${name}" to delete this endpoint and its secret`, confirm),
    h('button', { type: 'submit', class: 'danger' }, 'Delete endpoint'));
}
