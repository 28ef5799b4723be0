// k6 load test of a whole rush hour: metro gates and bus validators tapping on entry and exit, riders
// buying single trips and passes from their wallets (and riding their single trips at once), topping up
// and fetching their QR codes, all at the same time, at PEAK_MULTIPLIER times the city's peak rate.
//
// The city makes about 3 million validations a day (README, ../shared/domain/hanoi.md); with 11 % of
// them in the peak hour that is 3,000,000 × 0.11 / 3,600 s ≈ 92 validations/s city-wide, so the default
// PEAK_MULTIPLIER of 3 taps about 275 times a second. Every rate is an -e variable, so it runs small on a
// laptop too:
//   k6 run -e BASE_URL=http://localhost:3000 load/rush-hour.js                        (≈ 275 taps/s)
//   k6 run -e PEAK_MULTIPLIER=0.5 -e RAMP_UP=30s -e HOLD=1m -e RAMP_DOWN=15s load/rush-hour.js
//
// Rates: TAPS_PER_S (default DAILY_VALIDATIONS × PEAK_HOUR_SHARE / 3600 × PEAK_MULTIPLIER, from
// 3,000,000, 0.11 and 3), METRO_SHARE of the taps at metro gates (0.1; metro is ~4 % of Hà Nội's riders
// today), the rest on buses; ORDERS_PER_S, TOP_UPS_PER_S, QR_PER_S (0.05, 0.02 and 0.1 per journey).
// Each scenario ramps up over RAMP_UP (2m), holds HOLD (5m) and ramps down over RAMP_DOWN (1m).
// Riders: GATE_RIDERS and BUS_RIDERS (default: enough that one rider taps again only every
// POOL_SECONDS, 5 s, on average), PAYG_SHARE of them on pay-as-you-go (0.25), the rest on passes;
// wallets are topped up with RIDER_TOP_UP đồng (5,000,000). RETRY_SHARE (0.1) of orders are re-sent with
// the same Idempotency-Key, half of those at the same instant; the replay must be the same order.
// Setup (register, log in, top up, buy, fetch QR codes, register validators) goes through the API; the
// admin is ADMIN_EMAIL / ADMIN_PASSWORD, the demo admin of `npm run local` by default; SETUP_TIMEOUT 30m.
// A summary is written to load/results/rush-hour-summary.json (run k6 from the project's folder).
import http from 'k6/http';
import exec from 'k6/execution';
import { check } from 'k6';
import { Counter, Rate } from 'k6/metrics';
import {
  BASE_URL,
  BATCH_OPTIONS,
  adminToken,
  checkReady,
  createRiders,
  forgetRider,
  lineStations,
  params,
  post,
  qrText,
  registerDevices,
  riderToken,
  summaryText,
  topUp,
  uuid,
  validatorToken,
} from './lib/setup.js';

const DAILY_VALIDATIONS = Number(__ENV.DAILY_VALIDATIONS || 3000000);
const PEAK_HOUR_SHARE = Number(__ENV.PEAK_HOUR_SHARE || 0.11);
const PEAK_MULTIPLIER = Number(__ENV.PEAK_MULTIPLIER || 3);
const TAPS_PER_S = Number(__ENV.TAPS_PER_S || ((DAILY_VALIDATIONS * PEAK_HOUR_SHARE) / 3600) * PEAK_MULTIPLIER);
const METRO_SHARE = Number(__ENV.METRO_SHARE || 0.1);
const JOURNEYS_PER_S = TAPS_PER_S / 2;
const GATE_JOURNEYS_PER_S = JOURNEYS_PER_S * METRO_SHARE;
const BUS_JOURNEYS_PER_S = JOURNEYS_PER_S * (1 - METRO_SHARE);
const ORDERS_PER_S = Number(__ENV.ORDERS_PER_S || JOURNEYS_PER_S * 0.05);
const TOP_UPS_PER_S = Number(__ENV.TOP_UPS_PER_S || JOURNEYS_PER_S * 0.02);
const QR_PER_S = Number(__ENV.QR_PER_S || JOURNEYS_PER_S * 0.1);
const RAMP_UP = __ENV.RAMP_UP || '2m';
const HOLD = __ENV.HOLD || '5m';
const RAMP_DOWN = __ENV.RAMP_DOWN || '1m';

const POOL_SECONDS = Number(__ENV.POOL_SECONDS || 5);
const GATE_RIDERS = Number(__ENV.GATE_RIDERS || Math.max(20, Math.ceil(GATE_JOURNEYS_PER_S * POOL_SECONDS)));
const BUS_RIDERS = Number(__ENV.BUS_RIDERS || Math.max(20, Math.ceil(BUS_JOURNEYS_PER_S * POOL_SECONDS)));
const PAYG_SHARE = Number(__ENV.PAYG_SHARE || 0.25);
const RIDER_TOP_UP = Number(__ENV.RIDER_TOP_UP || 5000000);
const RETRY_SHARE = Number(__ENV.RETRY_SHARE || 0.1);

const METRO_LINES = ['metro-2a', 'metro-3'];
// Bus validators ride these lines, BUS_VALIDATORS_PER_LINE each; a bus validator may serve a BRT line too.
const BUS_LINES = [
  { lineId: 'bus-32', operatorId: 'transerco' },
  { lineId: 'bus-e01', operatorId: 'vinbus' },
  { lineId: 'brt01', operatorId: 'transerco' },
];
const BUS_VALIDATORS_PER_LINE = Number(__ENV.BUS_VALIDATORS_PER_LINE || 4);

const unexpectedVerdicts = new Rate('gate_unexpected_verdicts');
const verdicts = new Counter('gate_verdicts');
const unexpectedPurchases = new Rate('purchase_unexpected_failures');
const unexpectedTopUps = new Rate('top_up_unexpected_failures');
const emptyWallets = new Counter('wallets_topped_up_when_empty');

// 409 INSUFFICIENT_BALANCE is an answer the buyers expect and handle (they top up and retry).
const ORDER_ANSWERS = http.expectedStatuses(201, 409);

/** Arrival rates per minute, so that rates below one a second keep their precision. */
function scenario(execName, perSecond, iterationSeconds) {
  const perMinute = Math.max(0, Math.round(perSecond * 60));
  return {
    executor: 'ramping-arrival-rate',
    exec: execName,
    startRate: Math.round(perMinute / 10),
    timeUnit: '1m',
    preAllocatedVUs: Math.max(2, Math.ceil(perSecond * iterationSeconds)),
    // Room for iterations ten times slower than usual before k6 drops some (dropped_iterations).
    maxVUs: Math.max(10, Math.ceil(perSecond * iterationSeconds * 10)),
    stages: [
      { target: perMinute, duration: RAMP_UP },
      { target: perMinute, duration: HOLD },
      { target: 0, duration: RAMP_DOWN },
    ],
  };
}

const scenarios = {};
const thresholds = {
  http_req_failed: ['rate<0.001'],
  checks: ['rate>0.999'],
  // Logins are slow on purpose (argon2); each VU logs in once and refreshes every ~13 minutes.
  'http_req_duration{route:auth}': ['p(95)<1000'],
};
// A scenario with no rate is left out, with its thresholds (a threshold on no data would say nothing).
if (GATE_JOURNEYS_PER_S > 0) scenarios.gates = scenario('gates', GATE_JOURNEYS_PER_S, 0.05);
if (BUS_JOURNEYS_PER_S > 0) scenarios.buses = scenario('buses', BUS_JOURNEYS_PER_S, 0.05);
if (GATE_JOURNEYS_PER_S > 0 || BUS_JOURNEYS_PER_S > 0 || ORDERS_PER_S > 0) {
  thresholds['http_req_duration{route:validation}'] = ['p(95)<20', 'p(99)<50'];
  thresholds.gate_unexpected_verdicts = ['rate<0.001'];
}
if (ORDERS_PER_S > 0) {
  scenarios.buyers = scenario('buyers', ORDERS_PER_S, 0.3);
  thresholds['http_req_duration{route:order}'] = ['p(95)<250', 'p(99)<500'];
  thresholds.purchase_unexpected_failures = ['rate<0.001'];
}
if (TOP_UPS_PER_S > 0 || ORDERS_PER_S > 0) {
  thresholds['http_req_duration{route:top_up}'] = ['p(95)<250', 'p(99)<500'];
  // The development gateway's completion calls our webhook: a sandbox route, not a production one.
  thresholds['http_req_duration{route:sandbox}'] = ['p(95)<500'];
}
if (TOP_UPS_PER_S > 0) {
  scenarios.top_ups = scenario('topUps', TOP_UPS_PER_S, 0.2);
  thresholds.top_up_unexpected_failures = ['rate<0.001'];
}
if (QR_PER_S > 0 || ORDERS_PER_S > 0) thresholds['http_req_duration{route:qr}'] = ['p(95)<50', 'p(99)<100'];
if (QR_PER_S > 0) scenarios.qr_fetch = scenario('qrFetch', QR_PER_S, 0.05);

export const options = Object.assign({}, BATCH_OPTIONS, {
  setupTimeout: __ENV.SETUP_TIMEOUT || '30m',
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)', 'count'],
  scenarios,
  thresholds,
});

/** The pass a rider of this pool holds, or null for pay-as-you-go; bus single-route passes name their line. */
function passOf(pool, index) {
  if (pool === 'gate') return index % 2 === 0 ? { productId: 'metro-month' } : { productId: 'bus-metro-month' };
  const kind = index % 3;
  if (kind === 0) return { productId: 'bus-month-inter-route' };
  if (kind === 1) return { productId: 'bus-metro-month' };
  return { productId: 'bus-month-single-route', lineId: BUS_LINES[index % BUS_LINES.length].lineId };
}

function ridersOf(pool, count) {
  const specs = [];
  for (let index = 0; index < count; index++) {
    const payg = index < count * PAYG_SHARE;
    specs.push(payg ? { topUp: RIDER_TOP_UP, accountQr: true } : { topUp: RIDER_TOP_UP, items: [passOf(pool, index)] });
  }
  return createRiders(pool, specs).map((rider, index) => {
    const pass = specs[index].items ? specs[index].items[0] : null;
    return {
      email: rider.email,
      password: rider.password,
      kind: pass ? pass.productId : 'payg',
      lineId: pass && pass.lineId ? pass.lineId : null,
      ticketId: rider.tickets.length ? rider.tickets[0].id : null,
      qr: pass ? rider.tickets[0].qr : rider.accountQr,
    };
  });
}

export function setup() {
  checkReady();
  const admin = adminToken();
  // A gate in every station of both metro lines, and BUS_VALIDATORS_PER_LINE validators on each bus line.
  const metro = METRO_LINES.map((lineId) => {
    const stations = lineStations(lineId);
    return { lineId, stations, gates: registerDevices(admin, stations.map((stationId) => ({ operatorId: 'hmc', lineId, stationId, kind: 'gate' }))) };
  });
  const buses = BUS_LINES.map((line) => {
    const placements = [];
    for (let i = 0; i < BUS_VALIDATORS_PER_LINE; i++) placements.push({ operatorId: line.operatorId, lineId: line.lineId, kind: 'bus' });
    return { lineId: line.lineId, stops: lineStations(line.lineId), validators: registerDevices(admin, placements) };
  });
  const gateRiders = GATE_JOURNEYS_PER_S > 0 ? ridersOf('gate', GATE_RIDERS) : [];
  const busRiders = BUS_JOURNEYS_PER_S > 0 ? ridersOf('bus', BUS_RIDERS) : [];
  // The riders' apps are those riders' (appRider); without journeys, riders of their own.
  const appRiders = gateRiders.length + busRiders.length === 0 ? ridersOf('app', 20) : [];
  console.log(
    `rush hour at ${TAPS_PER_S.toFixed(0)} taps/s (${GATE_JOURNEYS_PER_S.toFixed(1)} gate and ${BUS_JOURNEYS_PER_S.toFixed(1)} bus journeys/s), ` +
      `${ORDERS_PER_S.toFixed(1)} orders/s, ${TOP_UPS_PER_S.toFixed(1)} top-ups/s, ${QR_PER_S.toFixed(1)} QR fetches/s; ` +
      `${gateRiders.length} gate and ${busRiders.length} bus riders against ${BASE_URL}`,
  );
  return { metro, buses, gateRiders, busRiders, appRiders, run: uuid().slice(0, 8) };
}

function tap(device, body) {
  const response = http.post(`${BASE_URL}/v1/validations`, JSON.stringify(body), params('validation', validatorToken(device)));
  check(response, { 'validation 200': (r) => r.status === 200 });
  return response.status === 200 ? response.json() : { verdict: 'error', reason: `HTTP ${response.status}` };
}

/** Counts the verdict, and whether it was the one this rider should get. */
function expectVerdict(scenarioName, kind, direction, verdict, expected) {
  verdicts.add(1, { kind, direction, reason: verdict.reason });
  unexpectedVerdicts.add(verdict.reason !== expected, { scenario: scenarioName, kind, direction });
}

/**
 * A journey: entry then exit, both expected OK. Tap ids are unique per run and device (a repeated tap
 * id would get its first verdict again). A bus validator sends the stop; a gate knows its station.
 */
function journey(scenarioName, kind, qr, entry, exit, id) {
  const entryBody = { tapId: `${id}-e`, qr, direction: 'entry' };
  if (entry.stationId) entryBody.stationId = entry.stationId;
  expectVerdict(scenarioName, kind, 'entry', tap(entry.device, entryBody), 'OK');
  const exitBody = { tapId: `${id}-x`, qr, direction: 'exit' };
  if (exit.stationId) exitBody.stationId = exit.stationId;
  expectVerdict(scenarioName, kind, 'exit', tap(exit.device, exitBody), 'OK');
}

/**
 * Journey i of the scenario is rider i mod n's: a rider taps again only every n journeys, and is never
 * in two places at once while journeys take less than n / rate seconds (POOL_SECONDS). Entry and exit
 * are at two different stations of one line.
 */
export function gates(data) {
  const i = exec.scenario.iterationInTest;
  const rider = data.gateRiders[i % data.gateRiders.length];
  const line = data.metro[(i + Math.floor(i / data.gateRiders.length)) % data.metro.length];
  const from = (i * 7) % line.stations.length;
  const to = (from + 1 + (i % (line.stations.length - 1))) % line.stations.length;
  journey('gates', rider.kind, rider.qr, { device: line.gates[from] }, { device: line.gates[to] }, `g${data.run}-${i}`);
}

export function buses(data) {
  const i = exec.scenario.iterationInTest;
  const rider = data.busRiders[i % data.busRiders.length];
  let line = data.buses[i % data.buses.length];
  if (rider.lineId) line = data.buses.filter((candidate) => candidate.lineId === rider.lineId)[0];
  const device = line.validators[i % line.validators.length];
  const from = i % (line.stops.length - 1);
  const to = from + 1 + (Math.floor(i / 2) % (line.stops.length - 1 - from));
  journey('buses', rider.kind, rider.qr, { device, stationId: line.stops[from] }, { device, stationId: line.stops[to] }, `b${data.run}-${i}`);
}

let appRiders;

/**
 * This VU's rider in the riders' apps: one per VU, so that each VU logs in once and keeps its session.
 * Buyers leave pay-as-you-go riders alone: their wallets must keep paying at the gates.
 */
function appRider(data, forPurchases) {
  if (!appRiders) {
    const all = data.gateRiders.concat(data.busRiders, data.appRiders);
    appRiders = { all, buying: all.filter((rider) => rider.kind !== 'payg') };
  }
  const riders = forPurchases ? appRiders.buying : appRiders.all;
  return riders[exec.vu.idInTest % riders.length];
}

/** What buyer iteration i buys: mostly single trips between two stations of a line, some day and month passes. */
function purchaseOf(data, i) {
  const pick = i % 20;
  if (pick < 10) {
    const line = data.metro[i % data.metro.length];
    const from = (i * 5) % line.stations.length;
    const to = (from + 1 + (i % (line.stations.length - 1))) % line.stations.length;
    return { item: { productId: 'metro-single', originStationId: line.stations[from], destinationStationId: line.stations[to] }, ride: { line, from, to, metro: true } };
  }
  if (pick < 14) {
    const line = data.buses[i % data.buses.length];
    const from = i % (line.stops.length - 1);
    const to = from + 1 + (Math.floor(i / 3) % (line.stops.length - 1 - from));
    return { item: { productId: 'bus-single', originStationId: line.stops[from], destinationStationId: line.stops[to] }, ride: { line, from, to, metro: false } };
  }
  if (pick < 16) return { item: { productId: 'metro-day' } };
  if (pick < 18) return { item: { productId: 'bus-metro-day' } };
  if (pick === 18) return { item: { productId: 'metro-month' } };
  return { item: { productId: 'bus-month-single-route', lineId: data.buses[i % data.buses.length].lineId } };
}

/** POST /v1/orders as an http.batch request, or sent at once by sendOrder. */
function orderRequest(token, body, key) {
  return { method: 'POST', url: `${BASE_URL}/v1/orders`, body: JSON.stringify(body), params: params('order', token, { 'Idempotency-Key': key }, ORDER_ANSWERS) };
}

function sendOrder(token, body, key) {
  const request = orderRequest(token, body, key);
  return http.request(request.method, request.url, request.body, request.params);
}

function isPaidOrder(response, quantity) {
  if (response.status !== 201) return false;
  const order = response.json();
  return order.status === 'paid' && order.tickets.length === quantity;
}

/**
 * A rider buys one product from the wallet with a fresh Idempotency-Key. An empty wallet (409
 * INSUFFICIENT_BALANCE) is topped up and the same request re-sent: a refusal stores nothing, so the
 * key is still free. RETRY_SHARE of orders are sent again with the same key — after the answer, as a
 * client that lost it would, or at the same instant, as a double tap — and must be the same order. A
 * single trip is then ridden at once: its QR fetched, an entry at its origin and an exit at its destination.
 */
export function buyers(data) {
  const i = exec.scenario.iterationInTest;
  const rider = appRider(data, true);
  const token = riderToken(rider);
  const purchase = purchaseOf(data, i);
  const body = { payWith: 'wallet', items: [purchase.item] };
  const key = uuid();
  const retry = Math.random() < RETRY_SHARE;
  let response;
  let replays = [];
  if (retry && Math.random() < 0.5) {
    const both = http.batch([orderRequest(token, body, key), orderRequest(token, body, key)]);
    response = both[0];
    replays = [both[1]];
  } else {
    response = sendOrder(token, body, key);
  }
  if (response.status === 409 && response.json('error.code') === 'INSUFFICIENT_BALANCE') {
    emptyWallets.add(1);
    const funded = topUp(token, RIDER_TOP_UP, 'top_up');
    unexpectedTopUps.add(!(funded.completed && funded.completed.status === 200));
    response = sendOrder(token, body, key);
    replays = [];
  }
  if (response.status === 401) forgetRider(rider);
  const paid = isPaidOrder(response, 1);
  unexpectedPurchases.add(!paid, { product: purchase.item.productId, status: String(response.status) });
  check(response, { 'order 201 paid': () => paid });
  if (!paid) return;
  const order = response.json();
  if (retry && replays.length === 0) replays = [sendOrder(token, body, key)];
  replays.forEach((replay) => {
    const same = replay.status === 201 && replay.json('id') === order.id && replay.json('total') === order.total && replay.json('tickets.0.id') === order.tickets[0].id;
    unexpectedPurchases.add(!same, { product: purchase.item.productId, status: String(replay.status), replay: 'true' });
    check(replay, { 'order replay is the same order': () => same });
  });
  if (!purchase.ride) return;
  const qr = qrText(token, order.tickets[0].id, 'qr');
  if (!check(qr, { 'ticket QR 200': (r) => r.status === 200 })) return;
  const ride = purchase.ride;
  const at = (index) => (ride.metro ? { device: ride.line.gates[index] } : { device: ride.line.validators[i % ride.line.validators.length], stationId: ride.line.stops[index] });
  journey('buyers', 'single', qr.body, at(ride.from), at(ride.to), `s${data.run}-${i}`);
}

/** A top-up through the development gateway: the pending payment, then the payer completing it (the gateway calls our webhook). */
export function topUps(data) {
  const i = exec.scenario.iterationInTest;
  const rider = appRider(data, false);
  const token = riderToken(rider);
  const amount = 10000 * (5 + (i % 46));
  const key = uuid();
  const payment = post('/v1/wallet/top-ups', { amount }, 'top_up', token, { 'Idempotency-Key': key });
  if (payment.status === 401) forgetRider(rider);
  const pending = payment.status === 201 && payment.json('status') === 'pending' && payment.json('amount') === amount;
  let ok = pending;
  if (pending && Math.random() < RETRY_SHARE) {
    const replay = post('/v1/wallet/top-ups', { amount }, 'top_up', token, { 'Idempotency-Key': key });
    ok = replay.status === 201 && replay.json('id') === payment.json('id');
  }
  if (pending) {
    const completed = post(`/v1/payments/sandbox/${payment.json('id')}/complete`, {}, 'sandbox');
    ok = ok && completed.status === 200 && completed.json('webhookStatus') === 200 && completed.json('webhookResponse.status') === 'succeeded';
  }
  unexpectedTopUps.add(!ok);
  check(payment, { 'top-up credited': () => ok });
}

const QR_TOKEN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** A rider's app shows the QR: the ticket's for pass holders, the account's for pay-as-you-go (and now and then for everyone). */
export function qrFetch(data) {
  const i = exec.scenario.iterationInTest;
  const rider = appRider(data, false);
  const token = riderToken(rider);
  const fetches = [rider.ticketId ? qrText(token, rider.ticketId, 'qr') : qrText(token, null, 'qr')];
  if (rider.ticketId && i % 4 === 0) fetches.push(qrText(token, null, 'qr'));
  fetches.forEach((response) => {
    if (response.status === 401) forgetRider(rider);
    check(response, {
      'QR 200 text': (r) => r.status === 200 && String(r.headers['Content-Type']).indexOf('text/plain') === 0,
      'QR is a signed token': (r) => QR_TOKEN.test(r.body),
    });
  });
}

export function handleSummary(data) {
  return {
    'load/results/rush-hour-summary.json': JSON.stringify(data, null, 2),
    stdout: summaryText('rush-hour', data, ['validation', 'order', 'top_up', 'sandbox', 'qr', 'auth'], [
      'gate_unexpected_verdicts',
      'purchase_unexpected_failures',
      'top_up_unexpected_failures',
      'wallets_topped_up_when_empty',
      'gate_verdicts',
      'dropped_iterations',
    ]),
  };
}
