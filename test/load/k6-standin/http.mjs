// `k6/http`: get, post, put, patch, del, request, batch and expectedStatuses, synchronous as in k6, with
// the built-in metrics k6 records for every request (http_reqs, http_req_duration, http_req_failed).
import { record, send } from './runtime.mjs';

const EXPECTED = Symbol('expectedStatuses');

/** Go's canonical header name, as k6 shows response headers: content-type → Content-Type. */
function canonical(name) {
  return name
    .split('-')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1).toLowerCase())
    .join('-');
}

/** GJSON's dotted path, as much of it as the scripts use: `a.b`, `list.0.id`. */
function select(value, path) {
  let current = value;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = current[Array.isArray(current) ? Number(part) : part];
  }
  return current;
}

function requestOf(method, url, body, params) {
  const options = params || {};
  if (options.responseCallback !== undefined && !(options.responseCallback && options.responseCallback[EXPECTED])) {
    throw new Error('responseCallback must come from http.expectedStatuses');
  }
  let payload = body;
  if (payload !== undefined && payload !== null && typeof payload === 'object') payload = JSON.stringify(payload);
  return { method: method.toUpperCase(), url: String(url), body: payload === undefined || payload === null ? undefined : String(payload), headers: Object.assign({}, options.headers || {}), params: options };
}

function responseOf(request, answer) {
  const headers = {};
  for (const name of Object.keys(answer.headers)) headers[canonical(name)] = answer.headers[name];
  const expected = request.params.responseCallback ? request.params.responseCallback[EXPECTED] : null;
  const failed = expected ? expected.indexOf(answer.status) < 0 : !(answer.status >= 200 && answer.status < 400);
  const tags = Object.assign({ method: request.method, url: request.url, name: request.url, status: String(answer.status), expected_response: String(!failed) }, request.params.tags || {});
  record('http_reqs', 'counter', 1, tags);
  record('http_req_duration', 'trend', answer.duration, tags);
  record('http_req_failed', 'rate', failed ? 1 : 0, tags);
  return {
    status: answer.status,
    body: answer.body,
    headers,
    error: answer.error || '',
    url: request.url,
    request: { method: request.method, url: request.url, body: request.body || '', headers: request.headers },
    timings: { duration: answer.duration },
    json(path) {
      const parsed = JSON.parse(answer.body);
      return path === undefined ? parsed : select(parsed, path);
    },
  };
}

function run(requests) {
  const answers = send(requests.map((request) => ({ method: request.method, url: request.url, body: request.body, headers: request.headers })));
  return answers.map((answer, index) => responseOf(requests[index], answer));
}

function one(method, url, body, params) {
  return run([requestOf(method, url, body, params)])[0];
}

export function batch(requests) {
  const list = Array.isArray(requests) ? requests : Object.values(requests);
  return run(
    list.map((request) => {
      if (typeof request === 'string') return requestOf('GET', request, undefined, undefined);
      if (Array.isArray(request)) return requestOf(request[0], request[1], request[2], request[3]);
      return requestOf(request.method || 'GET', request.url, request.body, request.params);
    }),
  );
}

export function expectedStatuses(...statuses) {
  const callback = {};
  callback[EXPECTED] = statuses.map(Number);
  return callback;
}

export default {
  get: (url, params) => one('GET', url, undefined, params),
  head: (url, params) => one('HEAD', url, undefined, params),
  post: (url, body, params) => one('POST', url, body, params),
  put: (url, body, params) => one('PUT', url, body, params),
  patch: (url, body, params) => one('PATCH', url, body, params),
  del: (url, body, params) => one('DELETE', url, body, params),
  request: (method, url, body, params) => one(method, url, body, params),
  batch,
  expectedStatuses,
};
