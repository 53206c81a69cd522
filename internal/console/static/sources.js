// The four sources of a TOTP secret, as one group of form controls shared
// by enrollment and secret replacement.
import { h, field, setError } from './dom.js';

const kinds = [
  ['secret', 'Secret key'],
  ['otpauth_uri', 'otpauth:// URI'],
  ['qr_image', 'QR image'],
  ['generate', 'Generate a new key'],
];

// secretSources returns the controls, body() giving the request fields of
// the chosen source, fieldFor(code) naming the control a problem concerns,
// and cleanup() removing the paste listener.
export function secretSources(prefix) {
  let image = '';
  const id = (s) => `${prefix}-${s}`;

  const inputs = kinds.map(([value], i) => h('input', { type: 'radio', name: id('source'), value,
    id: id(`source-${value}`), checked: i === 0, onchange: showChosen }));
  const radios = kinds.map(([, label], i) => h('label', { class: 'choice' }, inputs[i], ' ', label));

  const secret = h('input', { id: id('secret'), autocomplete: 'off', spellcheck: 'false' });
  const uri = h('input', { id: id('uri'), autocomplete: 'off', spellcheck: 'false', placeholder: 'otpauth://totp/…' });
  const file = h('input', { type: 'file', id: id('qr'), accept: 'image/png,image/jpeg,image/gif',
    onchange: () => file.files[0] && readImage(file.files[0]) });
  const preview = h('img', { class: 'preview', alt: 'The chosen QR image', hidden: true });
  const drop = h('div', { class: 'drop', id: id('drop'), ondragover: (e) => e.preventDefault(), ondrop: dropped },
    field('QR image', file, 'Choose a file, drop one here, or paste a screenshot with Ctrl+V.'), preview);

  const panels = {
    secret: field('Secret key', secret, 'Base32 as the set-up page shows it; spaces and any case are fine.'),
    otpauth_uri: field('otpauth:// URI', uri),
    qr_image: drop,
    generate: h('p', { class: 'hint' },
      'The service makes a new random key and shows its QR code and URI once, to put into the provider or an app.'),
  };

  function chosen() {
    return inputs.find((r) => r.checked)?.value || 'secret';
  }

  function choose(kind) {
    inputs.find((r) => r.value === kind).checked = true;
    showChosen();
  }

  function showChosen() {
    const kind = chosen();
    for (const [k, panel] of Object.entries(panels)) panel.hidden = k !== kind;
  }

  function readImage(blob) {
    setError(id('qr'), '');
    const reader = new FileReader();
    reader.onload = () => {
      const url = String(reader.result);
      image = url.slice(url.indexOf(',') + 1);
      preview.src = url;
      preview.hidden = false;
    };
    reader.onerror = () => setError(id('qr'), 'That file could not be read.');
    reader.readAsDataURL(blob);
    choose('qr_image');
  }

  function dropped(e) {
    e.preventDefault();
    const f = e.dataTransfer.files[0];
    if (f) readImage(f);
  }

  function pasted(e) {
    for (const item of e.clipboardData?.items || []) {
      if (item.kind === 'file' && item.type.startsWith('image/')) {
        e.preventDefault();
        readImage(item.getAsFile());
        return;
      }
    }
  }
  document.addEventListener('paste', pasted);

  function body() {
    switch (chosen()) {
      case 'secret': return { secret: secret.value };
      case 'otpauth_uri': return { otpauth_uri: uri.value.trim() };
      case 'qr_image': return { qr_image: image };
      default: return { generate: true };
    }
  }

  // fieldFor is the id of the control that problem code concerns, if any.
  function fieldFor(code) {
    const kind = chosen();
    const own = { secret: id('secret'), otpauth_uri: id('uri'), qr_image: id('qr') }[kind];
    switch (code) {
      case 'invalid_secret': case 'secret_too_short': case 'invalid_otpauth_uri': case 'unsupported_otp_type':
        return own;
      case 'invalid_qr_image': case 'payload_too_large':
        return id('qr');
      default:
        return null;
    }
  }

  const el = h('fieldset', { class: 'sources' },
    h('legend', {}, 'Source of the secret'),
    h('div', { class: 'choices' }, radios),
    Object.values(panels));
  showChosen();
  return { el, body, fieldFor, cleanup: () => document.removeEventListener('paste', pasted) };
}
