// What the k6 scripts share: calls to the API, the setup steps that create validators, riders, wallets
// and tickets through it, and the tokens a long run must renew (access tokens last 15 min, validator
// tokens DEVICE_TOKEN_TTL_SECONDS, 1 h by default). Plain JavaScript for k6 0.49 or later: no ?., ??
// or object spread.
//
// Environment: BASE_URL (http://localhost:3000), ADMIN_EMAIL / ADMIN_PASSWORD (the demo admin of
// `npm run local`), SETUP_PARALLEL (requests setup sends at once with http.batch, default 10).
import http from 'k6/http';

export const BASE_URL = __ENV.BASE_URL || 'http://localhost:3000';
const ADMIN_EMAIL = __ENV.ADMIN_EMAIL || 'admin@lienthong.local';
const ADMIN_PASSWORD = __ENV.ADMIN_PASSWORD || 'Hoan-Kiem-demo-2026';
const SETUP_PARALLEL = Math.max(1, Number(__ENV.SETUP_PARALLEL || 10));

/** Spread into a script's options with Object.assign: lets setup's http.batch calls really go out in parallel. */
export const BATCH_OPTIONS = { batch: SETUP_PARALLEL, batchPerHost: SETUP_PARALLEL };

/** A token is renewed this long before it expires. */
const RENEW_BEFORE_MS = 120 * 1000;

/**
 * Request params: JSON, an optional bearer token and extra headers, the `route` tag thresholds select
 * on, and optionally a responseCallback (http.expectedStatuses(...), made once in the init context)
 * naming the statuses http_req_failed must not count, such as 409 INSUFFICIENT_BALANCE.
 */
export function params(route, token, extraHeaders, responseCallback) {
  const headers = Object.assign({ 'Content-Type': 'application/json' }, extraHeaders || {});
  if (token) headers.Authorization = `Bearer ${token}`;
  const result = { headers, tags: { route } };
  if (responseCallback) result.responseCallback = responseCallback;
  return result;
}

export function post(path, body, route, token, extraHeaders, responseCallback) {
  return http.post(`${BASE_URL}${path}`, JSON.stringify(body), params(route, token, extraHeaders, responseCallback));
}

function get(path, route, token) {
  return http.get(`${BASE_URL}${path}`, params(route, token));
}

/** The body of an answer that must have this status (JSON parsed, text as is); setup stops otherwise. */
function must(response, status, what) {
  if (response.status !== status) throw new Error(`${what}: ${response.status} ${response.body}`);
  const type = String(response.headers['Content-Type'] || '');
  return type.indexOf('application/json') === 0 ? response.json() : response.body;
}

/** Sends the requests with http.batch, SETUP_PARALLEL at a time; every answer must have `status`. */
function batchMust(requests, status, what) {
  const bodies = [];
  for (let start = 0; start < requests.length; start += SETUP_PARALLEL) {
    const responses = http.batch(requests.slice(start, start + SETUP_PARALLEL));
    for (let i = 0; i < responses.length; i++) bodies.push(must(responses[i], status, what));
  }
  return bodies;
}

function batchPost(path, body, token, extraHeaders) {
  return { method: 'POST', url: `${BASE_URL}${path}`, body: JSON.stringify(body), params: params('setup', token, extraHeaders) };
}

function batchGet(path, token) {
  return { method: 'GET', url: `${BASE_URL}${path}`, body: null, params: params('setup', token) };
}

export function uuid() {
  return 'xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx'.replace(/[xy]/g, (c) => {
    const r = (Math.random() * 16) | 0;
    return (c === 'x' ? r : (r & 0x3) | 0x8).toString(16);
  });
}

/** Today in Hà Nội (UTC+7, no daylight saving), YYYY-MM-DD: passes start on local dates. */
export function localDate() {
  return new Date(Date.now() + 7 * 3600 * 1000).toISOString().slice(0, 10);
}

/** Fails setup unless the service answers ready. */
export function checkReady() {
  const ready = http.get(`${BASE_URL}/health/ready`, { tags: { route: 'setup' } });
  if (ready.status !== 200) throw new Error(`service not ready at ${BASE_URL}: ${ready.status} ${ready.body}`);
}

export function adminToken() {
  return must(post('/v1/auth/login', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD }, 'setup'), 200, 'admin login').accessToken;
}

/** The stations of a line, in order. */
export function lineStations(lineId) {
  return must(get(`/v1/lines/${lineId}`, 'setup'), 200, `line ${lineId}`).stations.map((station) => station.id);
}

/**
 * Registers validators (`placements`: {operatorId, lineId, stationId?, kind}) and exchanges each secret
 * for a token: [{deviceId, secret, lineId, stationId, token, renewAt}]. Keep the secret: validatorToken
 * exchanges it again when the token nears its end.
 */
export function registerDevices(admin, placements) {
  const created = batchMust(placements.map((placement) => batchPost('/v1/admin/devices', placement, admin)), 201, 'register device');
  const tokens = batchMust(created.map((device) => batchPost('/v1/devices/token', { deviceId: device.deviceId, secret: device.secret })), 200, 'device token');
  return created.map((device, i) => ({
    deviceId: device.deviceId,
    secret: device.secret,
    lineId: device.lineId,
    stationId: device.stationId,
    token: tokens[i].accessToken,
    renewAt: Date.now() + tokens[i].expiresIn * 1000 - RENEW_BEFORE_MS,
  }));
}

// This VU's own tokens. Setup data is a copy per VU, so renewals are kept here, by device or rider.
const deviceTokens = {};
const riderSessions = {};

/** A valid token for a device from registerDevices, exchanging its secret again when the last one nears its end. */
export function validatorToken(device) {
  let current = deviceTokens[device.deviceId] || { token: device.token, renewAt: device.renewAt };
  if (Date.now() >= current.renewAt) {
    const answer = must(post('/v1/devices/token', { deviceId: device.deviceId, secret: device.secret }, 'auth'), 200, 'device token');
    current = { token: answer.accessToken, renewAt: Date.now() + answer.expiresIn * 1000 - RENEW_BEFORE_MS };
  }
  deviceTokens[device.deviceId] = current;
  return current.token;
}

/**
 * A valid access token for a rider from createRiders. Each VU logs in on its own and refreshes its own
 * session: refresh tokens rotate, so a token shared between VUs would be spent twice, and the reuse
 * would end the session. Failed refreshes fall back to a login.
 */
export function riderToken(rider) {
  const session = riderSessions[rider.email];
  if (session && Date.now() < session.renewAt) return session.accessToken;
  let answer;
  if (session) {
    const refreshed = post('/v1/auth/refresh', { refreshToken: session.refreshToken }, 'auth');
    if (refreshed.status === 200) answer = refreshed.json();
  }
  if (!answer) answer = must(post('/v1/auth/login', { email: rider.email, password: rider.password }, 'auth'), 200, `login ${rider.email}`);
  riderSessions[rider.email] = { accessToken: answer.accessToken, refreshToken: answer.refreshToken, renewAt: Date.now() + answer.expiresIn * 1000 - RENEW_BEFORE_MS };
  return answer.accessToken;
}

/** Forgets this VU's session of a rider (after a 401): the next riderToken logs in again. */
export function forgetRider(rider) {
  delete riderSessions[rider.email];
}

/** Starts a top-up and completes it at the development gateway: the wallet is credited when this returns. */
export function topUp(token, amount, route) {
  const payment = post('/v1/wallet/top-ups', { amount }, route, token, { 'Idempotency-Key': uuid() });
  if (payment.status !== 201) return { payment, completed: null };
  const completed = post(`/v1/payments/sandbox/${payment.json('id')}/complete`, {}, 'sandbox');
  return { payment, completed };
}

/** The QR token (text) of a ticket, or of the rider's pay-as-you-go account when ticketId is null. */
export function qrText(token, ticketId, route) {
  return http.get(`${BASE_URL}${ticketId ? `/v1/tickets/${ticketId}/qr` : '/v1/me/qr'}?format=text`, params(route, token));
}

/**
 * Registers riders through the API, logs them in, tops their wallets up through the development
 * gateway, buys their tickets from the wallet and fetches the QR codes, SETUP_PARALLEL riders at a
 * time. `specs`: [{topUp, items?, accountQr?}] — `items` an order's items (omitted: no order),
 * `accountQr` whether to fetch the pay-as-you-go QR. Returns, in order,
 * [{email, password, accountId, tickets: [{id, qr}], accountQr?}].
 */
export function createRiders(label, specs) {
  const run = uuid().slice(0, 8);
  const riders = [];
  for (let start = 0; start < specs.length; start += SETUP_PARALLEL) {
    const chunk = specs.slice(start, start + SETUP_PARALLEL);
    const people = chunk.map((_, i) => ({
      email: `k6-${label}-${run}-${start + i}@load.lienthong.local`,
      password: `rush hour ${run} ${start + i} ride`,
    }));
    const registered = batchMust(
      people.map((person, i) => batchPost('/v1/auth/register', { email: person.email, password: person.password, fullName: `Rider ${label} ${letters(start + i)}` })),
      201,
      'register',
    );
    const tokens = batchMust(people.map((person) => batchPost('/v1/auth/login', person)), 200, 'login').map((pair) => pair.accessToken);
    const payments = batchMust(chunk.map((spec, i) => batchPost('/v1/wallet/top-ups', { amount: spec.topUp }, tokens[i], { 'Idempotency-Key': uuid() })), 201, 'top-up');
    const completed = batchMust(payments.map((payment) => batchPost(`/v1/payments/sandbox/${payment.id}/complete`, {})), 200, 'sandbox payment');
    completed.forEach((answer) => {
      if (answer.webhookStatus !== 200) throw new Error(`top-up: the webhook answered ${answer.webhookStatus} ${JSON.stringify(answer.webhookResponse)}`);
    });
    const buyers = [];
    chunk.forEach((spec, i) => {
      if (spec.items) buyers.push(i);
    });
    const orders = batchMust(buyers.map((i) => batchPost('/v1/orders', { payWith: 'wallet', items: chunk[i].items }, tokens[i], { 'Idempotency-Key': uuid() })), 201, 'order');
    const tickets = chunk.map(() => []);
    buyers.forEach((i, n) => {
      tickets[i] = orders[n].tickets.map((ticket) => ({ id: ticket.id }));
    });
    const qrRequests = [];
    const qrTargets = [];
    chunk.forEach((spec, i) => {
      tickets[i].forEach((ticket) => {
        qrRequests.push(batchGet(`/v1/tickets/${ticket.id}/qr?format=text`, tokens[i]));
        qrTargets.push((qr) => (ticket.qr = qr));
      });
      if (spec.accountQr) {
        qrRequests.push(batchGet('/v1/me/qr?format=text', tokens[i]));
        qrTargets.push((qr) => (people[i].accountQr = qr));
      }
    });
    batchMust(qrRequests, 200, 'QR').forEach((qr, n) => qrTargets[n](qr));
    chunk.forEach((_, i) => {
      const rider = { email: people[i].email, password: people[i].password, accountId: registered[i].id, tickets: tickets[i] };
      if (people[i].accountQr) rider.accountQr = people[i].accountQr;
      riders.push(rider);
    });
  }
  return riders;
}

/** A number written in letters (0 a, 25 z, 26 ba…): names take letters only. */
function letters(n) {
  let text = '';
  do {
    text = String.fromCharCode(97 + (n % 26)) + text;
    n = Math.floor(n / 26);
  } while (n > 0);
  return text;
}

/** Right-aligned in `width` characters (or left-aligned with `left`). */
function pad(text, width, left) {
  let result = String(text);
  while (result.length < width) result = left ? `${result} ` : ` ${result}`;
  return result;
}

/**
 * A short text summary for handleSummary: latency per route, the rates and counters that matter,
 * and every threshold with ✓ or ✗.
 */
export function summaryText(title, data, routes, extraMetrics) {
  const lines = [`${title}: ${data.metrics.http_reqs ? data.metrics.http_reqs.values.count : 0} requests`];
  lines.push(`  ${pad('route', 12, true)}${pad('count', 9)}${pad('p50', 10)}${pad('p95', 10)}${pad('p99', 10)}${pad('max', 10)}`);
  const ms = (x) => (x === undefined ? '-' : `${x.toFixed(1)} ms`);
  // A route's sub-metric is in the data when a threshold names it; 'count' when summaryTrendStats has it.
  routes.forEach((route) => {
    const metric = data.metrics[`http_req_duration{route:${route}}`];
    if (!metric || !metric.values) return;
    const v = metric.values;
    lines.push(`  ${pad(route, 12, true)}${pad(v.count === undefined ? '' : v.count, 9)}${pad(ms(v.med), 10)}${pad(ms(v['p(95)']), 10)}${pad(ms(v['p(99)']), 10)}${pad(ms(v.max), 10)}`);
  });
  ['http_req_failed', 'checks'].concat(extraMetrics).forEach((name) => {
    const metric = data.metrics[name];
    if (!metric) return;
    if (metric.type === 'rate') lines.push(`  ${name}: ${(metric.values.rate * 100).toFixed(3)} % (${metric.values.passes} of ${metric.values.passes + metric.values.fails})`);
    else if (metric.type === 'counter') lines.push(`  ${name}: ${metric.values.count}`);
  });
  lines.push('  thresholds:');
  Object.keys(data.metrics).forEach((name) => {
    const thresholds = data.metrics[name].thresholds;
    if (!thresholds) return;
    Object.keys(thresholds).forEach((expression) => lines.push(`    ${thresholds[expression].ok ? '✓' : '✗'} ${name} ${expression}`));
  });
  return `${lines.join('\n')}\n`;
}
