/** The public API, called with the signed-in user's token: the console sees what operators' own systems can fetch. */

const TOKEN_KEY = 'lienthong.console.token';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function signedIn() {
  return sessionStorage.getItem(TOKEN_KEY) !== null;
}

export function signOut() {
  sessionStorage.removeItem(TOKEN_KEY);
}

async function send(path, { method = 'GET', body } = {}) {
  const headers = { accept: 'application/json' };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!response.ok) {
    const error = await response.json().catch(() => ({}));
    if (response.status === 401 && token) signOut();
    throw new ApiError(response.status, error.error ? error.error.code : 'HTTP_' + response.status, error.error ? error.error.message : response.statusText);
  }
  return response;
}

export async function api(path, options) {
  const response = await send(path, options);
  return response.status === 204 ? undefined : response.json();
}

export async function signIn(email, password) {
  const tokens = await api('/v1/auth/login', { method: 'POST', body: { email, password } });
  sessionStorage.setItem(TOKEN_KEY, tokens.accessToken);
}

/** Saves the API's file as it comes: the bytes downloaded are the bytes the API sent. */
export async function download(path, filename) {
  const response = await send(path);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export function query(params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== '') search.set(name, String(value));
  return search.toString();
}
