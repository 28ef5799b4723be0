import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { readFileSync } from 'node:fs';
import { PassThrough, Readable } from 'node:stream';
import OpenAPIResponseValidator from 'openapi-response-validator';
import { OPENAPI_FILE } from '../../src/cli/openapi';

/**
 * Every answer the test app gives is checked against the committed OpenAPI document (openapi.json)
 * with openapi-response-validator: its status must be documented for the operation, its body must
 * match that status's schema (errors included), and a non-JSON body's media type must be listed.
 * Answers to paths the document does not list must be errors in the ErrorResponse shape, except the
 * deliberately undocumented /metrics and /docs pages.
 *
 * Mismatches are recorded here; test/setup/openapi-responses.ts fails the e2e test that received one.
 */

interface Operation {
  readonly method: string;
  readonly template: string;
  readonly pattern: RegExp;
  readonly responses: Record<string, { content?: Record<string, unknown> }>;
}

type Document = { paths: Record<string, Record<string, { responses: Operation['responses'] }>>; components: Record<string, unknown> };

const UNDOCUMENTED = /^\/(metrics|docs)(\/|-|$)/;
const violations: string[] = [];
let loaded: { document: Document; operations: Operation[]; validators: Map<string, OpenAPIResponseValidator> } | undefined;

function spec() {
  if (loaded) return loaded;
  const document = JSON.parse(readFileSync(OPENAPI_FILE, 'utf8')) as Document;
  const operations: Operation[] = [];
  for (const [template, methods] of Object.entries(document.paths)) {
    const pattern = new RegExp(`^${template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{[^}]+\}/g, '[^/]+')}$`);
    for (const [method, operation] of Object.entries(methods)) {
      operations.push({ method: method.toUpperCase(), template, pattern, responses: operation.responses });
    }
  }
  // Literal paths before templated ones: /v1/settlements/daily.csv is not /v1/settlements/{x}.
  operations.sort((a, b) => Number(a.template.includes('{')) - Number(b.template.includes('{')));
  loaded = { document, operations, validators: new Map() };
  return loaded;
}

function validatorFor(key: string, responses: Operation['responses']): OpenAPIResponseValidator {
  const { document, validators } = spec();
  let validator = validators.get(key);
  if (!validator) {
    validator = new OpenAPIResponseValidator({ responses: responses as never, components: document.components });
    validators.set(key, validator);
  }
  return validator;
}

/** The problems of one answer, none when it matches the document. */
export function checkResponse(method: string, url: string, status: number, contentType: string | undefined, body: Buffer): string[] {
  const path = url.split('?')[0] ?? url;
  const verb = method === 'HEAD' ? 'GET' : method;
  const operation = spec().operations.find((candidate) => candidate.method === verb && candidate.pattern.test(path));
  const mediaType = (contentType ?? '').split(';')[0]?.trim() ?? '';
  const isJson = /^application\/(.+\+)?json$/.test(mediaType);
  let parsed: unknown;
  if (body.length > 0 && isJson && method !== 'HEAD') {
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return [`body is not JSON although ${mediaType}`];
    }
  }
  if (!operation) {
    if (UNDOCUMENTED.test(path)) return [];
    if (status < 400) return [`${status} answer to a path the document does not list`];
    const errors = validatorFor('#error', { default: { content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorResponse' } } } } });
    return describe(errors.validateResponse(status, parsed));
  }
  const documented = operation.responses[String(status)] ?? operation.responses[`${String(status)[0]}XX`] ?? operation.responses.default;
  if (!documented) return [`status ${status} is not documented for ${operation.method} ${operation.template}`];
  if (!isJson || method === 'HEAD') {
    const listed = Object.keys(documented.content ?? {});
    if (body.length > 0 && method !== 'HEAD' && !listed.includes(mediaType)) return [`${mediaType || 'no content type'} is not among the documented media types (${listed.join(', ') || 'none'})`];
    return [];
  }
  return describe(validatorFor(`${operation.method} ${operation.template}`, operation.responses).validateResponse(status, parsed));
}

function describe(result: ReturnType<OpenAPIResponseValidator['validateResponse']>): string[] {
  return result ? result.errors.map((error: { path?: string; message: string }) => `${error.path ?? ''} ${error.message}`.trim()) : [];
}

function record(request: FastifyRequest, reply: FastifyReply, body: Buffer): void {
  const problems = checkResponse(request.method, request.url, reply.statusCode, reply.getHeader('content-type') as string | undefined, body);
  if (problems.length) violations.push(`${request.method} ${request.url} → ${reply.statusCode}: ${problems.join('; ')}\n  body: ${body.toString('utf8').slice(0, 300)}`);
}

/** Installs the check on an app built by createApp, before it is ready. */
export function checkResponsesAgainstOpenApi(app: NestFastifyApplication): void {
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onSend', async (request, reply, payload: unknown) => {
      if (payload instanceof Readable) {
        const chunks: Buffer[] = [];
        const copy = new PassThrough();
        payload.on('data', (chunk: Buffer | string) => chunks.push(Buffer.from(chunk)));
        payload.on('end', () => record(request, reply, Buffer.concat(chunks)));
        payload.on('error', (error) => copy.destroy(error));
        payload.pipe(copy);
        return copy;
      }
      const body = payload === undefined || payload === null ? Buffer.alloc(0) : Buffer.isBuffer(payload) ? payload : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload));
      record(request, reply, body);
      return payload;
    });
}

/** The mismatches recorded since the last call. */
export function takeOpenApiViolations(): string[] {
  return violations.splice(0, violations.length);
}
