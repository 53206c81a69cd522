// The code panel: shows an endpoint's current code large, counts down to
// the end of its time step as the server gives it, switches to the next
// code when the step ends, and stops after a few idle minutes, because
// every code read is recorded in the audit trail.
import { call, endpointPath } from './api.js';
import { h, field, setError } from './dom.js';

// idleLimit is how long without a key press or click the panel keeps
// fetching codes.
const idleLimit = 3 * 60 * 1000;

// minGap is the least time between the starts of two code reads, so that
// no disagreement of clocks can make the panel read in a loop.
const minGap = 1000;

// idleMessage is shown when the panel stops for want of activity.
const idleMessage = 'Stopped after a few idle minutes: every code read is audited. ' +
  'Show the code again when you need it.';

// clockSkew estimates how far this browser's clock runs ahead of the
// server's (negative: behind), in milliseconds. Each answer bounds it: the
// server made the code at some moment between the request's sending and
// the answer's arrival, with between seconds_remaining and
// seconds_remaining + 1 seconds of the step left. The estimate is the
// offset nearest to zero that all answers allow, so clocks that agree get
// the server's step boundary exactly.
function clockSkew() {
  let lo = -Infinity;
  let hi = Infinity;
  return {
    get ms() { return lo > 0 ? lo : hi < 0 ? hi : 0; },
    add(c, sentAt, receivedAt) {
      const until = Date.parse(c.valid_until);
      const l = sentAt - until + c.seconds_remaining * 1000;
      const u = receivedAt - until + (c.seconds_remaining + 1) * 1000;
      if (l > hi || u < lo) {
        // A clock was set meanwhile; the earlier answers no longer count.
        [lo, hi] = [l, u];
        return;
      }
      [lo, hi] = [Math.max(lo, l), Math.min(hi, u)];
    },
  };
}

// codePanel returns the panel of endpoint name, a function that stops it
// for good and one that makes it forget the codes it has.
export function codePanel(name, onError) {
  const code = h('output', { class: 'code', id: 'code', 'aria-live': 'polite', 'aria-atomic': 'true' });
  const countdown = h('span', { id: 'countdown', 'aria-live': 'polite', 'aria-atomic': 'true' });
  const next = h('span', { id: 'next-code' });
  const status = h('p', { class: 'status', id: 'code-status', role: 'status' });
  const button = h('button', { type: 'button', id: 'show-code', onclick: () => start() }, 'Show code');
  const box = h('div', { class: 'code-box', hidden: true },
    code,
    h('p', {}, 'Valid for ', countdown, ' · next: ', next));

  const skew = clockSkew();
  // shown is the step on screen: its counter, code, end (valid_until) and
  // the next step's code when the server gave it. confirmed is false while
  // it is a step the panel moved on to by itself, before a read says so.
  let shown = null;
  let confirmed = false;
  let timer = 0;
  let reading = false;
  let readAfter = 0;
  let run = 0;
  let lastActive = Date.now();
  const active = () => { lastActive = Date.now(); };
  const endOf = (step) => step.until + skew.ms;

  // read fetches the code once, unless a read is under way or too recent.
  // min_valid=1 makes the server hold a read made just before its step
  // ends until the next one begins.
  async function read() {
    const now = Date.now();
    if (reading || now < readAfter) return;
    reading = true;
    readAfter = now + minGap;
    const mine = run;
    try {
      const c = await call('GET', endpointPath(name, '/code?min_valid=1'));
      if (mine === run) answered(c, now, Date.now());
    } catch (err) {
      if (mine !== run) return;
      stop('');
      onError(err);
    } finally {
      if (mine === run) reading = false;
    }
  }

  // answered shows the step a read gave, unless it is older than the one
  // on screen: the server's clock has not reached the boundary yet, so the
  // panel asks again once the step ends as the answers now place it.
  function answered(c, sentAt, receivedAt) {
    skew.add(c, sentAt, receivedAt);
    const step = { counter: c.counter, code: c.code, until: Date.parse(c.valid_until), next: c.next };
    if (shown && step.counter < shown.counter) {
      readAfter = Math.max(readAfter, endOf(step));
      return;
    }
    shown = step;
    confirmed = true;
    render();
  }

  // advance moves on to the next step's code when the step on screen is
  // over, or to nothing when that one is over too (after a hidden while).
  function advance(now) {
    const n = shown.next;
    const step = n &&
      { counter: shown.counter + 1, code: n.code, until: Date.parse(n.valid_until), next: null };
    shown = step && now < endOf(step) ? step : null;
    confirmed = false;
    render();
  }

  function render() {
    setText(code, shown ? shown.code : '…');
    setText(next, shown?.next ? shown.next.code : '…');
    box.hidden = false;
    showCountdown();
  }

  function showCountdown() {
    const left = shown ? Math.max(0, Math.ceil((endOf(shown) - Date.now()) / 1000)) : 0;
    setText(countdown, `${left} s`);
  }

  // tick runs four times a second while the panel is on; a hidden page
  // neither moves on nor reads until it is visible again.
  function tick() {
    if (!timer) return;
    showCountdown();
    if (document.hidden || reading) return;

    const now = Date.now();
    if (shown && now >= endOf(shown)) {
      if (now - lastActive > idleLimit) return stop(idleMessage);
      advance(now);
    }
    if (!confirmed) read();
  }

  function start() {
    active();
    status.textContent = '';
    if (!timer) timer = setInterval(tick, 250);
    tick();
  }

  // reset forgets the codes shown, after the secret changed; a running
  // panel reads the new secret's code at once.
  function reset() {
    run++;
    reading = false;
    shown = null;
    confirmed = false;
    readAfter = 0;
    if (!timer) return;
    render();
    tick();
  }

  function stop(message) {
    clearInterval(timer);
    timer = 0;
    run++;
    reading = false;
    shown = null;
    confirmed = false;
    status.textContent = message;
    box.hidden = true;
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
    h('h2', { id: 'code-title' }, 'Code'), button, box, status, verifyBox(name, onError));
  return { el, cleanup, reset };
}

// setText changes el's text only when it differs, so that aria-live
// regions announce changes, not every tick.
function setText(el, text) {
  if (el.textContent !== text) el.textContent = text;
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

  return h('form', { class: 'inline', id: 'verify-form', onsubmit: submit },
    field('Verify a code', input, 'A code from the authenticator app, to check that the secret matches.'),
    h('button', { type: 'submit' }, 'Verify'), result);
}
