import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { testAccount, type TestAccount } from '../support/auth';
import { startTestApp } from '../support/test-app';
import { assertK6Syntax, runK6Script, type K6Run } from './k6-standin';

const LOAD = join(__dirname, '..', '..', 'load');
const SCRIPTS = ['network-read.js', 'gate-rush-hour.js', 'rush-hour.js'];

/**
 * The k6 scripts in load/ (run from outside with real k6) against the real service, through a stand-in
 * for k6's modules (k6-standin/): setup, a few iterations of every scenario, handleSummary. Catches a
 * script that calls the API as it no longer is, expects verdicts the service does not give, or uses
 * syntax k6 refuses. Latency thresholds are not judged here (a test machine is no load test).
 */
describe('the k6 load scripts', () => {
  let app: NestFastifyApplication;
  let admin: TestAccount;
  let baseUrl: string;

  beforeAll(async () => {
    // The scripts register and log in every rider from one address, as README "Load" says to allow.
    app = await startTestApp({ REGISTRATIONS_PER_ADDRESS: '100000', LOGIN_ATTEMPTS_PER_ADDRESS: '100000' });
    await app.listen(0, '127.0.0.1');
    const address = app.getHttpServer().address();
    if (address === null || typeof address === 'string') throw new Error('the test app has no port');
    baseUrl = `http://127.0.0.1:${address.port}`;
    admin = await testAccount(app, 'admin');
  });
  afterAll(async () => {
    await app?.close();
  });

  it('every script in load/ is one of those run here, and parses as k6 0.49 takes it (ES2017: no ?., ??, object spread)', () => {
    const files = readdirSync(LOAD).filter((name) => name.endsWith('.js'));
    expect(files.sort()).toEqual([...SCRIPTS].sort());
    for (const file of [...files.map((name) => join(LOAD, name)), ...readdirSync(join(LOAD, 'lib')).map((name) => join(LOAD, 'lib', name))]) {
      expect(() => assertK6Syntax(file)).not.toThrow();
    }
  });

  it('refuses syntax k6 0.49 refuses', () => {
    expect(() => assertK6Syntax(join(__dirname, 'fixtures', 'optional-chaining.js'))).toThrow();
  });

  const run = (script: string, env: Record<string, string>, iterations: number): Promise<K6Run> =>
    runK6Script(join(LOAD, script), { BASE_URL: baseUrl, ADMIN_EMAIL: admin.email, ADMIN_PASSWORD: admin.password, ...env }, iterations);

  /** Every iteration ran, every request was answered as expected, every check and the script's own rates held. */
  const expectClean = (result: K6Run, scenarios: string[], iterations: number, rates: string[]) => {
    expect(result.errors).toEqual([]);
    expect(result.iterationsRun).toEqual(Object.fromEntries(scenarios.map((name) => [name, iterations])));
    const metrics = result.summary.metrics;
    expect({ failed: metrics.http_req_failed.values.rate, checks: metrics.checks.values.fails }).toEqual({ failed: 0, checks: 0 });
    for (const name of rates) expect({ name, rate: metrics[name]?.values.rate }).toEqual({ name, rate: 0 });
    expect(result.stdout.length).toBeGreaterThan(0);
  };

  it('network-read.js browses the network', async () => {
    const result = await run('network-read.js', {}, 6);
    expectClean(result, ['riders_browsing'], 6, []);
  });

  it('gate-rush-hour.js: riders of every kind, cards among them, tap in and out with the verdicts it expects', async () => {
    const result = await run('gate-rush-hour.js', { RIDERS: '12', PAYG_SHARE: '0.25', MEDIA_SHARE: '0.34' }, 24);
    expectClean(result, ['rush_hour'], 24, ['gate_unexpected_verdicts']);
    expect(result.summary.metrics.gate_verdicts.values.count).toBe(48);
  });

  it('rush-hour.js: gates, buses, buyers (retries with the same key), top-ups and QR fetches', async () => {
    const result = await run(
      'rush-hour.js',
      { GATE_RIDERS: '6', BUS_RIDERS: '6', BUS_VALIDATORS_PER_LINE: '1', RETRY_SHARE: '0.5', RIDER_TOP_UP: '1000000' },
      10,
    );
    expectClean(result, ['gates', 'buses', 'buyers', 'top_ups', 'qr_fetch'], 10, [
      'gate_unexpected_verdicts',
      'purchase_unexpected_failures',
      'top_up_unexpected_failures',
    ]);
  });
});
