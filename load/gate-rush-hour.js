// k6 load test of the gate path at rush hour: riders tap in and out at metro gates and on buses.
// Setup creates riders, tops up their wallets, buys tickets of every kind and registers validators,
// all through the API; the test then ramps entry and exit taps up to a peak and holds it.
// Run against a local service (k6 0.49 or older is enough):
//   k6 run -e BASE_URL=http://localhost:3000 -e PEAK_RPS=400 -e RIDERS=300 load/gate-rush-hour.js
// Admin credentials: ADMIN_EMAIL / ADMIN_PASSWORD (the development demo admin by default).
// PAYG_SHARE is the share of riders on pay-as-you-go (default 0.2; 0 leaves them out).
// A summary is written to load/results/gate-rush-hour-summary.json.
import http from 'k6/http';
import exec from 'k6/execution';
import { check } from 'k6';
import { Counter, Rate } from 'k6/metrics';

const BASE_URL = __ENV.BASE_URL || 'http://localhost:3000';
const PEAK_RPS = Number(__ENV.PEAK_RPS || 400);
const RIDERS = Number(__ENV.RIDERS || 300);
const PAYG_SHARE = Number(__ENV.PAYG_SHARE || 0.2);
const ADMIN_EMAIL = __ENV.ADMIN_EMAIL || 'admin@lienthong.local';
const ADMIN_PASSWORD = __ENV.ADMIN_PASSWORD || 'Hoan-Kiem-demo-2026';

const METRO_STATIONS = ['2a-cat-linh', '2a-thai-ha', '2a-lang', '2a-thuong-dinh', '2a-van-quan', '2a-ha-dong', '2a-yen-nghia'];
const KINDS = ['single', 'metro-pass', 'bus-metro-pass', 'payg'];

const unexpected = new Rate('gate_unexpected_verdicts');
const verdicts = new Counter('gate_verdicts');

// Journeys per second at the peak: every journey is two taps.
const PEAK_JOURNEYS = Math.max(1, Math.floor(PEAK_RPS / 2));

export const options = {
  setupTimeout: '15m',
  summaryTrendStats: ['avg', 'min', 'med', 'max', 'p(90)', 'p(95)', 'p(99)'],
  scenarios: {
    rush_hour: {
      executor: 'ramping-arrival-rate',
      // One iteration is one journey: an entry and an exit tap.
      startRate: Math.max(1, Math.floor(PEAK_JOURNEYS / 10)),
      timeUnit: '1s',
      preAllocatedVUs: 50,
      maxVUs: 500,
      stages: [
        { target: Math.floor(PEAK_JOURNEYS / 4), duration: '30s' },
        { target: PEAK_JOURNEYS, duration: '1m' },
        { target: PEAK_JOURNEYS, duration: '2m' },
        { target: 0, duration: '15s' },
      ],
    },
  },
  thresholds: {
    'http_req_duration{route:validation}': ['p(95)<20', 'p(99)<50'],
    http_req_failed: ['rate<0.001'],
    gate_unexpected_verdicts: ['rate<0.001'],
    checks: ['rate>0.999'],
  },
};

function post(path, body, token, extraHeaders) {
  const headers = Object.assign({ 'Content-Type': 'application/json' }, extraHeaders || {});
  if (token) headers.Authorization = `Bearer ${token}`;
  return http.post(`${BASE_URL}${path}`, JSON.stringify(body), { headers, tags: { route: 'setup' } });
}

function must(response, status, what) {
  if (response.status !== status) throw new Error(`${what}: ${response.status} ${response.body}`);
  return response.json();
}

function uuid() {
  return 'xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx'.replace(/[xy]/g, (c) => {
    const r = (Math.random() * 16) | 0;
    return (c === 'x' ? r : (r & 0x3) | 0x8).toString(16);
  });
}

function localDate() {
  return new Date(Date.now() + 7 * 3600 * 1000).toISOString().slice(0, 10);
}

function buy(token, item) {
  const order = must(post('/v1/orders', { payWith: 'wallet', items: [item] }, token, { 'Idempotency-Key': uuid() }), 201, 'order');
  const ticketId = order.tickets[0].id;
  const qr = http.get(`${BASE_URL}/v1/tickets/${ticketId}/qr?format=text`, { headers: { Authorization: `Bearer ${token}` }, tags: { route: 'setup' } });
  if (qr.status !== 200) throw new Error(`qr: ${qr.status}`);
  return qr.body;
}

export function setup() {
  const ready = http.get(`${BASE_URL}/health/ready`);
  if (ready.status !== 200) throw new Error(`service not ready at ${BASE_URL}: ${ready.status}`);
  const admin = must(post('/v1/auth/login', { email: ADMIN_EMAIL, password: ADMIN_PASSWORD }), 200, 'admin login').accessToken;

  // Validators: a gate in every listed metro station, and one bus validator on route 32.
  const device = (body) => {
    const created = must(post('/v1/admin/devices', body, admin), 201, 'device');
    return must(post('/v1/devices/token', { deviceId: created.deviceId, secret: created.secret }), 200, 'device token').accessToken;
  };
  const gates = METRO_STATIONS.map((stationId) => ({ stationId, token: device({ operatorId: 'hmc', lineId: 'metro-2a', stationId, kind: 'gate' }) }));
  const busLine = must(http.get(`${BASE_URL}/v1/lines/bus-32`), 200, 'bus line');
  const bus = { token: device({ operatorId: 'transerco', lineId: 'bus-32', kind: 'bus' }), stops: busLine.stations.map((station) => station.id) };

  const riders = [];
  const run = uuid().slice(0, 8);
  for (let index = 0; index < RIDERS; index++) {
    const email = `k6-${run}-${index}@load.lienthong.local`;
    const password = `rush hour ${run} ${index} ride`;
    must(post('/v1/auth/register', { email, password, fullName: `Rider ${index}` }), 201, 'register');
    const token = must(post('/v1/auth/login', { email, password }), 200, 'login').accessToken;
    const payment = must(post('/v1/wallet/top-ups', { amount: 500000 }, token, { 'Idempotency-Key': uuid() }), 201, 'top-up');
    must(post(`/v1/payments/sandbox/${payment.id}/complete`, {}), 200, 'sandbox payment');
    const kind = index < RIDERS * PAYG_SHARE ? 'payg' : KINDS[index % 3];
    let qr;
    if (kind === 'single') qr = buy(token, { productId: 'metro-single', originStationId: METRO_STATIONS[0], destinationStationId: METRO_STATIONS[METRO_STATIONS.length - 1] });
    else if (kind === 'metro-pass') qr = buy(token, { productId: 'metro-month' });
    else if (kind === 'bus-metro-pass') qr = buy(token, { productId: 'bus-metro-day', validFrom: localDate() });
    else qr = http.get(`${BASE_URL}/v1/me/qr?format=text`, { headers: { Authorization: `Bearer ${token}` } }).body;
    riders.push({ kind, qr });
  }
  return { gates, bus, riders };
}

function tap(token, body) {
  const response = http.post(`${BASE_URL}/v1/validations`, JSON.stringify(body), {
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
    tags: { route: 'validation' },
  });
  check(response, { 'validation 200': (r) => r.status === 200 });
  return response.status === 200 ? response.json() : { verdict: 'error', reason: String(response.status) };
}

function expect(kind, direction, verdict, expected) {
  verdicts.add(1, { kind, direction, reason: verdict.reason });
  unexpected.add(verdict.reason !== expected, { kind, direction });
}

export default function (data) {
  // Iteration i is rider i mod RIDERS's next journey: riders are never in two places at once while
  // the pool is larger than the journeys in flight, and a single trip is used on its first journey only.
  const iteration = exec.scenario.iterationInTest;
  const rider = data.riders[iteration % data.riders.length];
  const firstJourney = iteration < data.riders.length;
  const onBus = rider.kind === 'bus-metro-pass' && iteration % 2 === 1;
  const id = `${iteration}-${uuid().slice(0, 8)}`;
  if (onBus) {
    const stops = data.bus.stops;
    const from = iteration % (stops.length - 1);
    expect(rider.kind, 'entry', tap(data.bus.token, { tapId: `e-${id}`, qr: rider.qr, direction: 'entry', stationId: stops[from] }), 'OK');
    expect(rider.kind, 'exit', tap(data.bus.token, { tapId: `x-${id}`, qr: rider.qr, direction: 'exit', stationId: stops[from + 1] }), 'OK');
    return;
  }
  const gates = data.gates;
  const entryGate = rider.kind === 'single' ? gates[0] : gates[iteration % gates.length];
  const exitGate = rider.kind === 'single' ? gates[gates.length - 1] : gates[(iteration + 3) % gates.length];
  const entryExpected = rider.kind === 'single' && !firstJourney ? 'ALREADY_USED' : 'OK';
  const exitExpected = rider.kind === 'single' && !firstJourney ? 'NO_ENTRY' : 'OK';
  expect(rider.kind, 'entry', tap(entryGate.token, { tapId: `e-${id}`, qr: rider.qr, direction: 'entry' }), entryExpected);
  expect(rider.kind, 'exit', tap(exitGate.token, { tapId: `x-${id}`, qr: rider.qr, direction: 'exit' }), exitExpected);
}

export function handleSummary(data) {
  const duration = data.metrics['http_req_duration{route:validation}'];
  const values = duration ? duration.values : data.metrics.http_req_duration.values;
  return {
    'load/results/gate-rush-hour-summary.json': JSON.stringify(data, null, 2),
    stdout:
      `gate-rush-hour: ${data.metrics.gate_verdicts ? data.metrics.gate_verdicts.values.count : 0} taps, ` +
      `p95 ${values['p(95)'].toFixed(1)} ms, p99 ${values['p(99)'].toFixed(1)} ms, ` +
      `unexpected verdicts ${((data.metrics.gate_unexpected_verdicts ? data.metrics.gate_unexpected_verdicts.values.rate : 0) * 100).toFixed(3)} %\n`,
  };
}
