// The enroll page: one form for the four sources, then the new endpoint's
// code.
import { call } from './api.js';
import { h, field, setError, clearErrors, parseLabels } from './dom.js';
import { secretSources } from './sources.js';
import { codePanel } from './code.js';

// optionalFields are the controls of the optional enrollment fields.
export function optionalFields(prefix) {
  const select = (id, options) => h('select', { id: `${prefix}-${id}` },
    options.map(([v, t]) => h('option', { value: v }, t)));
  return {
    issuer: h('input', { id: `${prefix}-issuer`, autocomplete: 'off' }),
    account: h('input', { id: `${prefix}-account`, autocomplete: 'off' }),
    algorithm: select('algorithm', [['', 'From the source (SHA1)'], ['SHA1', 'SHA1'], ['SHA256', 'SHA256'],
      ['SHA512', 'SHA512']]),
    digits: select('digits', [['', 'From the source (6)'], ['6', '6'], ['7', '7'], ['8', '8']]),
    period: h('input', { id: `${prefix}-period`, type: 'number', min: 10, max: 300, placeholder: '30' }),
  };
}

// optionalBody reads the filled-in optional fields.
export function optionalBody(f) {
  const body = {};
  for (const key of ['issuer', 'account', 'algorithm']) if (f[key].value.trim()) body[key] = f[key].value.trim();
  for (const key of ['digits', 'period']) if (f[key].value) body[key] = Number(f[key].value);
  return body;
}

// showProblem puts err's detail beside the control it concerns, else at
// the form's foot.
export function showProblem(err, controlId, formError) {
  if (controlId) setError(controlId, err.message);
  else formError.textContent = err.message;
  (controlId ? document.getElementById(controlId) : formError)?.focus?.();
}

// problemField guesses the optional field an invalid_request names.
export function problemField(err, prefix, names) {
  if (err.code !== 'invalid_request') return null;
  const name = names.find((n) => err.message.includes(n));
  return name ? `${prefix}-${name}` : null;
}

// enrollPage shows the form.
export function enrollPage(page) {
  const sources = secretSources('enroll');
  page.onCleanup(sources.cleanup);
  const name = h('input', { id: 'enroll-name', required: true, autocomplete: 'off', spellcheck: 'false' });
  const opt = optionalFields('enroll');
  const labels = h('textarea', { id: 'enroll-labels', rows: 3, spellcheck: 'false' });
  const formError = h('p', { class: 'error', role: 'alert', id: 'enroll-form-error', tabindex: -1 });
  const result = h('div', { id: 'enroll-result' });

  async function submit(e) {
    e.preventDefault();
    clearErrors(form);
    formError.textContent = '';
    let body;
    try {
      body = { name: name.value.trim(), ...sources.body(), ...optionalBody(opt), labels: parseLabels(labels.value) };
    } catch (err) {
      setError(labels.id, err.message);
      return;
    }
    try {
      const created = await call('POST', '/v1/endpoints', body);
      showCreated(created);
    } catch (err) {
      if (err.status === 401) return page.fail(err);
      const id = { invalid_name: name.id, already_exists: name.id }[err.code] ||
        sources.fieldFor(err.code) || problemField(err, 'enroll', ['issuer', 'account', 'algorithm',
          'digits', 'period', 'labels']);
      showProblem(err, id, formError);
    }
  }

  function showCreated(ep) {
    form.hidden = true;
    const panel = codePanel(ep.name, page.fail);
    page.onCleanup(panel.cleanup);
    result.replaceChildren(
      h('section', { class: 'card' },
        h('h2', { tabindex: -1, id: 'enrolled' }, 'Enrolled ', ep.name),
        ep.qr_png ? generated(ep) : null,
        h('p', {}, h('a', { href: `#/endpoints/${encodeURIComponent(ep.name)}` }, 'Open the endpoint page'),
          ' · ', h('a', { href: '#/enroll', onclick: () => page.reload() }, 'Enroll another'))),
      panel.el);
    document.getElementById('enrolled').focus();
  }

  const form = h('form', { class: 'card', id: 'enroll-form', onsubmit: submit, novalidate: true },
    h('h1', {}, 'Enroll an endpoint'),
    field('Name', name, 'Letters, digits, ".", "_" and "-"; e.g. o365-alice.'),
    sources.el,
    h('fieldset', {}, h('legend', {}, 'Details (optional; they override the URI or QR)'),
      h('div', { class: 'grid' },
        field('Issuer', opt.issuer), field('Account', opt.account), field('Algorithm', opt.algorithm),
        field('Digits', opt.digits), field('Period (seconds)', opt.period)),
      field('Labels', labels, 'One key=value a line.')),
    h('button', { type: 'submit', class: 'primary' }, 'Enroll'),
    formError);
  page.main.append(form, result);
}

// generated shows a generated key's QR code and URI, this once.
export function generated(ep) {
  return h('div', { class: 'once', id: 'generated' },
    h('p', { class: 'warning', role: 'alert' },
      'This QR code and URI are shown only now and never again. Put them into the provider or an app before leaving.'),
    h('img', { src: `data:image/png;base64,${ep.qr_png}`, alt: `QR code of the new key of ${ep.name}`,
      class: 'qr', id: 'generated-qr' }),
    field('otpauth:// URI', h('input', { id: 'generated-uri', readonly: true, value: ep.otpauth_uri })));
}
