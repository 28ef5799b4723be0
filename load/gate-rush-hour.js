// k6 load test of the gate path at rush hour: riders tap in and out at metro gates and on buses.
// Setup creates riders, tops up their wallets, buys tickets of every kind and registers validators,
// all through the API (lib/setup.js, shared with rush-hour.js); the test then ramps entry and exit taps
// up to a peak and holds it. Run against a local service (k6 0.49 or later):
//   k6 run -e BASE_URL=http://localhost:3000 -e PEAK_RPS=400 -e RIDERS=300 load/gate-rush-hour.js
// Admin credentials: ADMIN_EMAIL / ADMIN_PASSWORD (the development demo admin by default).
// PAYG_SHARE is the share of riders on pay-as-you-go (default 0.2; 0 leaves them out).
// MEDIA_SHARE is the share of riders who tap a card instead of a QR (default 0.1; 0 leaves them out): half
// a contactless bank card never seen before (accepted, priced later), half a chip ID card (CCCD) of a
// rider over 60 with no account (free).
// A summary is written to load/results/gate-rush-hour-summary.json.
import http from 'k6/http';
import exec from 'k6/execution';
import { check } from 'k6';
import { Counter, Rate } from 'k6/metrics';
import { BASE_URL, BATCH_OPTIONS, adminToken, checkReady, createRiders, lineStations, localDate, params, registerDevices, uuid, validatorToken } from './lib/setup.js';

const PEAK_RPS = Number(__ENV.PEAK_RPS || 400);
const RIDERS = Number(__ENV.RIDERS || 300);
const PAYG_SHARE = Number(__ENV.PAYG_SHARE || 0.2);
const MEDIA_SHARE = Number(__ENV.MEDIA_SHARE === undefined ? 0.1 : __ENV.MEDIA_SHARE);

const METRO_STATIONS = ['2a-cat-linh', '2a-thai-ha', '2a-lang', '2a-thuong-dinh', '2a-van-quan', '2a-ha-dong', '2a-yen-nghia'];
const KINDS = ['single', 'metro-pass', 'bus-metro-pass', 'payg'];
const CARD_KINDS = ['bank-card', 'cccd-elderly'];

const unexpected = new Rate('gate_unexpected_verdicts');
const verdicts = new Counter('gate_verdicts');

// Journeys per second at the peak: every journey is two taps.
const PEAK_JOURNEYS = Math.max(1, Math.floor(PEAK_RPS / 2));

export const options = Object.assign({}, BATCH_OPTIONS, {
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
});

/** The order each kind of rider places in setup (pay-as-you-go riders buy nothing and show the account QR). */
function itemsOf(kind) {
  if (kind === 'single') return [{ productId: 'metro-single', originStationId: METRO_STATIONS[0], destinationStationId: METRO_STATIONS[METRO_STATIONS.length - 1] }];
  if (kind === 'metro-pass') return [{ productId: 'metro-month' }];
  if (kind === 'bus-metro-pass') return [{ productId: 'bus-metro-day', validFrom: localDate() }];
  return undefined;
}

export function setup() {
  checkReady();
  const admin = adminToken();

  // Validators: a gate in every listed metro station, and one bus validator on route 32.
  const gates = registerDevices(admin, METRO_STATIONS.map((stationId) => ({ operatorId: 'hmc', lineId: 'metro-2a', stationId, kind: 'gate' })));
  const bus = { device: registerDevices(admin, [{ operatorId: 'transerco', lineId: 'bus-32', kind: 'bus' }])[0], stops: lineStations('bus-32') };

  const cardRiders = Math.floor(RIDERS * MEDIA_SHARE);
  const kinds = [];
  for (let index = 0; index < RIDERS - cardRiders; index++) kinds.push(index < RIDERS * PAYG_SHARE ? 'payg' : KINDS[index % 3]);
  const specs = kinds.map((kind) => (kind === 'payg' ? { topUp: 500000, accountQr: true } : { topUp: 500000, items: itemsOf(kind) }));
  const riders = createRiders('gate', specs).map((rider, index) => ({ kind: kinds[index], qr: kinds[index] === 'payg' ? rider.accountQr : rider.tickets[0].qr }));
  // Card riders need no account: the validator sends what it read from the card.
  for (let index = 0; index < cardRiders; index++) riders.push({ kind: CARD_KINDS[index % 2], medium: cardOf(CARD_KINDS[index % 2]) });
  return { gates, bus, riders };
}

/** A card as a validator reads it: a bank card's token (never its number), or a CCCD's 12 digits and date of birth. */
function cardOf(kind) {
  if (kind === 'bank-card') return { kind: 'bank_card', token: `k6-card-${uuid()}` };
  let number = '';
  for (let digit = 0; digit < 12; digit++) number += String(Math.floor(Math.random() * 10));
  return { kind: 'id_card', number, birthDate: '1950-03-15' };
}

/** What rider shows at a validator: a card, or a QR. */
function shown(rider) {
  return rider.medium ? { medium: rider.medium } : { qr: rider.qr };
}

function tap(device, body) {
  const response = http.post(`${BASE_URL}/v1/validations`, JSON.stringify(body), params('validation', validatorToken(device)));
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
    expect(rider.kind, 'entry', tap(data.bus.device, Object.assign({ tapId: `e-${id}`, direction: 'entry', stationId: stops[from] }, shown(rider))), 'OK');
    expect(rider.kind, 'exit', tap(data.bus.device, Object.assign({ tapId: `x-${id}`, direction: 'exit', stationId: stops[from + 1] }, shown(rider))), 'OK');
    return;
  }
  const gates = data.gates;
  const entryGate = rider.kind === 'single' ? gates[0] : gates[iteration % gates.length];
  const exitGate = rider.kind === 'single' ? gates[gates.length - 1] : gates[(iteration + 3) % gates.length];
  const entryExpected = rider.kind === 'single' && !firstJourney ? 'ALREADY_USED' : 'OK';
  const exitExpected = rider.kind === 'single' && !firstJourney ? 'NO_ENTRY' : 'OK';
  expect(rider.kind, 'entry', tap(entryGate, Object.assign({ tapId: `e-${id}`, direction: 'entry' }, shown(rider))), entryExpected);
  expect(rider.kind, 'exit', tap(exitGate, Object.assign({ tapId: `x-${id}`, direction: 'exit' }, shown(rider))), exitExpected);
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
