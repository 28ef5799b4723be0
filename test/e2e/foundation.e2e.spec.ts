import { expectError, useTestApp } from '../support/http';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('foundation over HTTP', () => {
  const { http } = useTestApp();

  describe('health', () => {
    it('is live', async () => {
      const response = await http().get('/health/live').expect(200);
      expect(response.body).toEqual({ status: 'ok', checks: {} });
    });

    it('is ready when Postgres and Redis answer', async () => {
      const response = await http().get('/health/ready').expect(200);
      expect(response.body).toEqual({ status: 'ok', checks: { postgres: 'up', redis: 'up' } });
    });
  });

  describe('request ids', () => {
    it('gives every response a fresh id', async () => {
      const [first, second] = await Promise.all([http().get('/health/live'), http().get('/health/live')]);
      expect(first.headers['x-request-id']).toMatch(UUID);
      expect(second.headers['x-request-id']).toMatch(UUID);
      expect(first.headers['x-request-id']).not.toBe(second.headers['x-request-id']);
    });

    it("keeps the caller's sane X-Request-Id and replaces an unsafe one", async () => {
      const kept = await http().get('/nowhere').set('X-Request-Id', 'gate-17.tap-42');
      expect(kept.headers['x-request-id']).toBe('gate-17.tap-42');
      expect(kept.body.requestId).toBe('gate-17.tap-42');
      const replaced = await http().get('/health/live').set('X-Request-Id', 'x"; DROP TABLE taps; --');
      expect(replaced.headers['x-request-id']).toMatch(UUID);
    });
  });

  describe('errors', () => {
    it('answers an unknown route with 404 NOT_FOUND', async () => {
      expectError(await http().get('/v1/no-such-thing'), 404, 'NOT_FOUND');
      expectError(await http().delete('/v1/lines'), 404, 'NOT_FOUND');
    });

    it('answers URLs the router refuses in the contract shape: an over-long path parameter, bad percent-encoding', async () => {
      expectError(await http().get(`/v1/lines/${'a'.repeat(200)}`), 404, 'NOT_FOUND');
      expectError(await http().get('/v1/lines/%E0%A4%A'), 400, 'VALIDATION_FAILED');
    });

    it('answers malformed JSON with 400 MALFORMED_JSON', async () => {
      const response = await http().post('/v1/lines').set('Content-Type', 'application/json').send('{"items": [');
      expectError(response, 400, 'MALFORMED_JSON');
    });

    it('refuses JSON that tries to poison prototypes', async () => {
      const response = await http().post('/v1/lines').set('Content-Type', 'application/json').send('{"__proto__": {"admin": true}}');
      expectError(response, 400, 'REFUSED_KEY');
    });

    it('answers a body over the limit with 413 PAYLOAD_TOO_LARGE', async () => {
      const huge = JSON.stringify({ note: 'x'.repeat(1024 * 1024) });
      const response = await http().post('/v1/lines').set('Content-Type', 'application/json').send(huge);
      expectError(response, 413, 'PAYLOAD_TOO_LARGE');
    });

    it('rejects unknown query fields and wrong values with every problem listed', async () => {
      const response = await http().get('/v1/lines').query({ mode: 'ferry', colour: 'red' });
      expectError(response, 400, 'VALIDATION_FAILED');
      expect(response.body.error.details).toEqual(
        expect.arrayContaining([
          { field: 'colour', problem: expect.stringContaining('should not exist') },
          { field: 'mode', problem: expect.stringContaining('metro, brt, bus') },
        ]),
      );
    });
  });

  describe('metrics', () => {
    it('counts requests by route pattern and exposes latency histograms', async () => {
      await http().get('/v1/lines/metro-3').expect(200);
      const response = await http().get('/metrics').expect(200);
      expect(response.headers['content-type']).toMatch(/text\/plain/);
      expect(response.text).toMatch(/http_requests_total\{method="GET",route="\/v1\/lines\/:id",status="200"\} \d+/);
      expect(response.text).toContain('http_request_duration_seconds_bucket{le="0.005",method="GET",route="/v1/lines/:id",status="200"}');
      expect(response.text).toContain('process_cpu_user_seconds_total');
    });
  });

  describe('docs', () => {
    it('serves the OpenAPI document and its UI', async () => {
      const json = await http().get('/docs-json').expect(200);
      expect(json.body.openapi).toMatch(/^3\./);
      expect(Object.keys(json.body.paths)).toEqual(expect.arrayContaining(['/v1/operators', '/v1/lines', '/v1/lines/{id}', '/health/ready']));
      const ui = await http().get('/docs').redirects(1);
      expect(ui.status).toBe(200);
      expect(ui.text).toContain('swagger');
    });
  });
});
