// The code panel: shows an endpoint's current code large, counts down to
// the end of its time step as the server gives it, switches to the next
// code when the step ends, and stops after a few idle minutes, because
// every code read is recorded in the audit trail.
import { call, endpointPath } from './api.js';
import { h, field, setError } from './dom.js';

// idleLimit is how long without a key press or click the panel keeps
// fetching codes.
const idleLimit = 3 * 60 * 1000;

// deadlineOf is when, on this browser's clock, the code stops being valid.
// valid_until is the server's step boundary; when this browser's clock
// disagrees with the server's by more than the rounding of
// seconds_remaining, the countdown goes by seconds_remaining instead.
function deadlineOf(c, receivedAt) {
  const until = Date.parse(c.valid_until);
  const byServer = receivedAt + c.seconds_remaining * 1000;
  return Math.abs(until - byServer) <= 1500 ? until : byServer + 500;
}

// codePanel returns the panel of endpoint name and a function that stops it.
export function codePanel(name, onError) {
  const code = h('output', { class: 'code', id: 'code', 'aria-live': 'polite', 'aria-atomic': 'true' });
  const countdown = h('span', { id: 'countdown', 'aria-live': 'polite', 'aria-atomic': 'true' });
  const next = h('span', { id: 'next-code' });
  const status = h('p', { class: 'status', id: 'code-status', role: 'status' });
  const button = h('button', { type: 'button', id: 'show-code', onclick: () => start() }, 'Show code');
  const shown = h('div', { class: 'code-box', hidden: true },
    code,
    h('p', {}, 'Valid for ', countdown, ' · next: ', next));

  let current = null;
  let deadline = 0;
  let timer = 0;
  let lastActive = Date.now();
  const active = () => { lastActive = Date.now(); };

  async function load() {
    try {
      const c = await call('GET', endpointPath(name, '/code'));
      show(c, deadlineOf(c, Date.now()));
    } catch (err) {
      stop('');
      onError(err);
    }
  }

  function show(c, until) {
    current = c;
    deadline = until;
    code.textContent = c.code;
    next.textContent = c.next ? c.next.code : '…';
    shown.hidden = false;
    tick();
  }

  function tick() {
    const left = Math.max(0, Math.ceil((deadline - Date.now()) / 1000));
    const text = `${left} s`;
    if (countdown.textContent !== text) countdown.textContent = text;
    if (left > 0 || document.hidden || !current) return;

    if (Date.now() - lastActive > idleLimit) {
      stop('Stopped after a few idle minutes: every code read is audited. Show the code again when you need it.');
      return;
    }
    // The step is over: show the next code at once, then fetch the pair
    // after it.
    const n = current.next;
    if (n) show({ ...current, code: n.code, valid_until: n.valid_until, next: null },
      deadline + current.period * 1000);
    current = null;
    load();
  }

  function start() {
    active();
    status.textContent = '';
    clearInterval(timer);
    timer = setInterval(tick, 250);
    load();
  }

  function stop(message) {
    clearInterval(timer);
    timer = 0;
    current = null;
    status.textContent = message;
    if (message) {
      code.textContent = '';
      next.textContent = '';
      shown.hidden = true;
    }
  }

  document.addEventListener('keydown', active);
  document.addEventListener('pointerdown', active);
  document.addEventListener('visibilitychange', tick);
  const cleanup = () => {
    stop('');
    document.removeEventListener('keydown', active);
    document.removeEventListener('pointerdown', active);
    document.removeEventListener('visibilitychange', tick);
  };

  const el = h('section', { class: 'card', 'aria-labelledby': 'code-title' },
    h('h2', { id: 'code-title' }, 'Code'), button, shown, status, verifyBox(name, onError));
  return { el, cleanup };
}

// verifyBox checks a code against the stored secret.
function verifyBox(name, onError) {
  const input = h('input', { id: 'verify-input', inputmode: 'numeric', autocomplete: 'off', pattern: '[0-9]*' });
  const result = h('p', { id: 'verify-result', role: 'status' });

  async function submit(e) {
    e.preventDefault();
    setError(input.id, '');
    result.textContent = '';
    try {
      const v = await call('POST', endpointPath(name, '/verify'), { code: input.value.trim() });
      result.textContent = v.valid ? `Valid (time step offset ${v.offset}).` : 'Not valid.';
    } catch (err) {
      if (err.status === 400) setError(input.id, err.message);
      else onError(err);
    }
  }

  return h('form', { class: 'inline', onsubmit: submit },
    field('Verify a code', input, 'A code from the authenticator app, to check that the secret matches.'),
    h('button', { type: 'submit' }, 'Verify'), result);
}
