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

// render shows the page the hash names, or the sign-in form.
function render(message = '') {
  for (const fn of cleanups) fn();
  cleanups = [];
  main.replaceChildren();

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

  const page = {
    main,
    admin: session.admin,
    onCleanup: (fn) => cleanups.push(fn),
    fail,
    reload: () => setTimeout(render),
  };
  const params = re.exec(location.hash).slice(1).map(decodeURIComponent);
  show(page, ...params);
  for (const a of nav.querySelectorAll('a')) {
    a.toggleAttribute('aria-current', location.hash.startsWith(a.getAttribute('href')));
  }
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
      location.hash = role === 'admin' ? '#/enroll' : '#/endpoints';
      render();
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
window.addEventListener('hashchange', () => render());
render();
