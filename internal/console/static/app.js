// The console's entry point: sign-in, navigation and the hash router.
import { session, whoIs } from './api.js';
import { h, field } from './dom.js';
import { enrollPage } from './enroll.js';
import { endpointsPage, endpointPage } from './endpoints.js';
import { tokensPage } from './tokens.js';
import { auditPage } from './audit.js';

const main = document.getElementById('main');
const nav = document.getElementById('nav');

// routes: a hash pattern, its page, and whether only admins may open it.
const routes = [
  [/^#\/enroll$/, enrollPage, true],
  [/^#\/endpoints$/, endpointsPage, false],
  [/^#\/endpoints\/(.+)$/, endpointPage, false],
  [/^#\/tokens$/, tokensPage, true],
  [/^#\/audit$/, auditPage, true],
];

let cleanups = [];
let generation = 0;

// render shows the page the hash names, or the sign-in form. With focus
// set, the page's heading takes the focus once it is there, so that a
// keyboard or screen reader user starts at the new page.
async function render(message = '', focus = false) {
  for (const fn of cleanups) fn();
  cleanups = [];
  main.replaceChildren();
  const mine = ++generation;

  if (!session.token) {
    nav.hidden = true;
    return signIn(message);
  }
  showNav();

  const home = session.admin ? '#/enroll' : '#/endpoints';
  const route = routes.find(([re]) => re.test(location.hash));
  if (!route) {
    location.replace(home);
    return;
  }
  const [re, show, adminOnly] = route;
  if (adminOnly && !session.admin) {
    main.append(h('p', { role: 'alert' }, 'This page is for admin tokens.'));
    return;
  }

  // A page that loads before it draws asks live() first: the person may
  // have moved on meanwhile, and the page must not draw into the next one.
  const live = () => mine === generation;
  const page = {
    main,
    admin: session.admin,
    live,
    onCleanup: (fn) => (live() ? cleanups.push(fn) : fn()),
    fail: (err) => live() && fail(err),
    reload: () => setTimeout(() => render('', true)),
  };
  const params = re.exec(location.hash).slice(1).map(decodeURIComponent);
  for (const a of nav.querySelectorAll('a')) {
    a.toggleAttribute('aria-current', location.hash.startsWith(a.getAttribute('href')));
  }
  await show(page, ...params);
  if (focus && live()) focusHeading();
}

// focusHeading moves the focus to the page's main heading.
function focusHeading() {
  const heading = main.querySelector('h1');
  if (!heading) return;
  heading.setAttribute('tabindex', '-1');
  heading.focus();
}

// fail shows an API error; a refused token signs the person out.
function fail(err) {
  if (err.status === 401) {
    session.end();
    render('The token was refused (unknown, expired or revoked). Sign in again.');
    return;
  }
  const alert = h('p', { class: 'error banner', role: 'alert' }, err.message);
  main.prepend(alert);
}

// showNav shows the navigation, without admin-only links for a runner.
function showNav() {
  nav.hidden = false;
  if (!session.admin) for (const el of nav.querySelectorAll('[data-admin]')) el.remove();
}

// signIn asks for a token once; it is kept in sessionStorage only.
function signIn(message) {
  const input = h('input', { id: 'token-input', type: 'password', autocomplete: 'off', required: true });
  const form = h('form', { class: 'card narrow', id: 'sign-in', onsubmit: async (e) => {
    e.preventDefault();
    const token = input.value.trim();
    try {
      const role = await whoIs(token);
      session.start(token, role);
      const home = role === 'admin' ? '#/enroll' : '#/endpoints';
      // A new hash renders the page through hashchange; the same one does not.
      if (location.hash === home) render('', true);
      else location.hash = home;
    } catch (err) {
      document.getElementById('token-input-error').textContent =
        err.status === 401 ? 'That token is not valid (unknown, expired or revoked).' : err.message;
      input.focus();
    }
  } },
  h('h1', {}, 'Sign in'),
  message ? h('p', { role: 'alert' }, message) : null,
  field('Token', input, 'Paste an admin or runner token. It is kept in this tab only, until you sign out.'),
  h('button', { type: 'submit', class: 'primary' }, 'Sign in'));
  main.append(form);
  input.focus();
}

document.getElementById('sign-out').addEventListener('click', () => {
  session.end();
  location.hash = '';
  // Reload so that nothing read with the token stays in the page's memory.
  location.reload();
});
window.addEventListener('hashchange', () => render('', true));
render();
