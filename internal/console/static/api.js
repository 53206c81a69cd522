// The console's only way to the server: the HTTP API, with the token kept
// in sessionStorage (so it is gone when the tab closes) and nowhere else.

const tokenKey = 'totpvault.token';
const roleKey = 'totpvault.role';

// session is who is signed in.
export const session = {
  get token() { return sessionStorage.getItem(tokenKey); },
  get admin() { return sessionStorage.getItem(roleKey) === 'admin'; },
  start(token, role) {
    sessionStorage.setItem(tokenKey, token);
    sessionStorage.setItem(roleKey, role);
  },
  end() {
    sessionStorage.removeItem(tokenKey);
    sessionStorage.removeItem(roleKey);
  },
};

// Problem is an API error: the problem detail's status, code and detail.
export class Problem extends Error {
  constructor(status, body) {
    super(body.detail || body.title || `the server answered ${status}`);
    this.status = status;
    this.code = body.code || '';
  }
}

// call sends one API request and resolves to its JSON body (null for 204);
// an error answer rejects with a Problem.
export async function call(method, path, body, token = session.token) {
  const headers = { Authorization: `Bearer ${token}` };
  const init = { method, headers, cache: 'no-store' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }

  const resp = await fetch(path, init);
  if (resp.status === 204) return null;
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) throw new Problem(resp.status, data);
  return data;
}

// query makes "?a=1&b=2" of the non-empty values; arrays repeat the key.
export function query(params) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    for (const v of [value].flat()) if (v) q.append(key, v);
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

// endpointPath is the API path of an endpoint, plus rest.
export function endpointPath(name, rest = '') {
  return `/v1/endpoints/${encodeURIComponent(name)}${rest}`;
}

// whoIs checks a token and finds its role with one request: listing tokens
// answers 401 to a token that cannot be used, 403 to a runner and 200 to an
// admin. The API has no way to ask for a token's role that a runner may
// use, so a runner's sign-in leaves one auth.denied record in the audit
// trail.
export async function whoIs(token) {
  try {
    await call('GET', '/v1/tokens?limit=1', undefined, token);
    return 'admin';
  } catch (err) {
    if (err.status === 403) return 'runner';
    throw err;
  }
}
