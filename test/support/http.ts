import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { startTestApp } from './test-app';

/**
 * Starts the whole app once for a describe block and closes it afterwards.
 * Use `http()` for a supertest agent and `app()` for the application itself.
 */
export function useTestApp(overrides: Record<string, string> = {}): { app: () => NestFastifyApplication; http: () => ReturnType<typeof request> } {
  let app: NestFastifyApplication | undefined;
  beforeAll(async () => {
    app = await startTestApp(overrides);
  });
  afterAll(async () => {
    await app?.close();
  });
  const current = () => {
    if (!app) throw new Error('the test app is not started: call useTestApp() inside a describe block');
    return app;
  };
  return { app: current, http: () => request(current().getHttpServer()) };
}

/** Every error leaves in the contract's shape with a stable code and the request's id, and no stack. */
export function expectError(response: request.Response, status: number, code: string): void {
  expect({ status: response.status, code: (response.body as { error?: { code?: string } }).error?.code }).toEqual({ status, code });
  expect(response.headers['content-type']).toMatch(/application\/json/);
  expect(response.body).toEqual({
    error: { code, message: expect.any(String), details: expect.any(Array) },
    requestId: response.headers['x-request-id'],
  });
  expect(JSON.stringify(response.body)).not.toMatch(/\bat .+\.(js|ts):\d+/);
}

/** A supertest parser that keeps a binary body (a zip) as one Buffer: `.buffer(true).parse(binaryBody)`. */
export function binaryBody(res: request.Response, done: (error: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => done(null, Buffer.concat(chunks)));
}
