// k6 load test of the public read path: network lines and one line's stations, plus readiness.
// Run against a local service:  k6 run -e BASE_URL=http://localhost:3000 load/network-read.js
// A summary is written to load/results/network-read-summary.json.
import http from 'k6/http';
import { check, group } from 'k6';

const BASE_URL = __ENV.BASE_URL || 'http://localhost:3000';
const PEAK_RPS = Number(__ENV.PEAK_RPS || 500);

export const options = {
  scenarios: {
    riders_browsing: {
      executor: 'ramping-arrival-rate',
      startRate: Math.max(1, Math.floor(PEAK_RPS / 10)),
      timeUnit: '1s',
      preAllocatedVUs: 50,
      maxVUs: 400,
      stages: [
        { target: PEAK_RPS, duration: '30s' },
        { target: PEAK_RPS, duration: '1m' },
        { target: 0, duration: '10s' },
      ],
    },
  },
  thresholds: {
    http_req_failed: ['rate<0.001'],
    'http_req_duration{route:lines}': ['p(95)<50', 'p(99)<100'],
    'http_req_duration{route:line}': ['p(95)<50', 'p(99)<100'],
    checks: ['rate>0.999'],
  },
};

export function setup() {
  const ready = http.get(`${BASE_URL}/health/ready`);
  if (ready.status !== 200) throw new Error(`service not ready at ${BASE_URL}: ${ready.status}`);
  const lines = http.get(`${BASE_URL}/v1/lines`).json();
  if (!Array.isArray(lines) || lines.length === 0) throw new Error('no lines: is the network seeded?');
  return { lineIds: lines.map((line) => line.id) };
}

export default function (data) {
  group('browse lines', () => {
    const list = http.get(`${BASE_URL}/v1/lines`, { tags: { route: 'lines' } });
    check(list, { 'lines 200': (r) => r.status === 200 });
    const id = data.lineIds[Math.floor(Math.random() * data.lineIds.length)];
    const line = http.get(`${BASE_URL}/v1/lines/${id}`, { tags: { route: 'line' } });
    check(line, {
      'line 200': (r) => r.status === 200,
      'line has stations': (r) => Array.isArray(r.json('stations')) && r.json('stations').length > 1,
    });
  });
}

export function handleSummary(data) {
  return {
    'load/results/network-read-summary.json': JSON.stringify(data, null, 2),
    stdout: `network-read: ${data.metrics.http_reqs.values.count} requests, ` +
      `p95 ${data.metrics.http_req_duration.values['p(95)'].toFixed(1)} ms, ` +
      `failed ${(data.metrics.http_req_failed.values.rate * 100).toFixed(3)} %\n`,
  };
}
