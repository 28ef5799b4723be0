import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { OpenAPIObject } from '@nestjs/swagger';
import { errorCodes, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import type { AccessRule } from '../common/access.decorator';
import type { AuthUser } from '../common/auth-user';
import { Authenticator } from '../common/authenticator';
import { jsonBodyParserOf, type JsonBodyParser } from '../common/json-body';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { GateService, type GateDevice, type TapVerdict } from './gate.service';
import { parseTap } from './tap-input';

export const GATE_ROUTE = '/v1/validations';
/** Who may call it, as @Roles('validator') would say on a controller route. */
export const GATE_ROUTE_ACCESS = { public: false, roles: ['validator'] } as const satisfies AccessRule;

/**
 * `POST /v1/validations` straight on Fastify, outside Nest's pipeline of guards, pipes and
 * interceptors: a rider waits at the gate on every tap, and that pipeline cost about 50 µs of CPU
 * a tap (README "Benchmark"). The route does what the pipeline would: only validators may call it
 * (the Authenticator the access guard uses), the body is checked by hand (tap-input.ts), and an
 * error reaches the same exception filter as any route's, through Fastify's error handler that
 * Nest installs. Its OpenAPI entry is `gateRouteDocs`.
 *
 * The tap is answered from the route's preParsing hook, which reads the body itself, so Fastify's
 * content-type parser never runs for it: on Node 20 that parser's per-request AsyncResource.bind
 * costs CPU and, worse, builds new hidden classes that land in the old generation, which made
 * young-generation pauses long at gate rates. Everything else of Fastify's lifecycle stays: the
 * request id, the onSend and onResponse hooks (metrics, request log), and error handling. The body
 * rules are the other routes': JSON only, the same size limit, and the same JSON parser.
 */
@Injectable()
export class GateRoute implements OnModuleInit {
  private readonly clockToleranceMs: number;

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly authenticator: Authenticator,
    private readonly gate: GateService,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.clockToleranceMs = config.gate.clockToleranceMs;
  }

  onModuleInit(): void {
    // Commands build the modules without an HTTP server.
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (!fastify) return;
    const parseJson = jsonBodyParserOf(fastify);
    const bodyLimit = fastify.initialConfig.bodyLimit ?? 1024 * 1024;
    fastify.route({
      method: 'POST',
      url: GATE_ROUTE,
      preParsing: (request, reply, payload, done) => {
        readJsonBody(request, payload, bodyLimit, parseJson)
          .then((body) => this.validate(request.headers.authorization, body))
          .then(
            (verdict) => reply.send(verdict),
            (error: unknown) => answerError(reply, error, done),
          );
      },
      // Never reached: preParsing answers every request.
      handler: (_request, reply) => reply.callNotFound(),
    });
  }

  async validate(authorization: string | undefined, body: unknown): Promise<TapVerdict> {
    const device = await this.authenticator.authorize(authorization, GATE_ROUTE_ACCESS.roles);
    const now = Date.now();
    return this.gate.validate(gateDevice(device), parseTap(body, now, this.clockToleranceMs), false, now);
  }
}

/** Hands the error to Fastify's error handler, as a failed hook does; a body not read to its end closes the connection. */
function answerError(reply: FastifyReply, error: unknown, done: (error: Error) => void): void {
  if (error instanceof BodyError) void reply.header('connection', 'close');
  done(error instanceof BodyError ? error.cause : (error as Error));
}

/** A request body the route refused while reading it. */
class BodyError extends Error {
  constructor(override readonly cause: Error) {
    super(cause.message);
  }
}

/**
 * The body as the other routes' content-type parser would give it: undefined when there is none,
 * 415 for another media type than JSON, 413 over the limit, 400 when its length differs from
 * Content-Length or it is not JSON (Fastify's parser, which refuses prototype poisoning).
 */
function readJsonBody(request: FastifyRequest, payload: Readable, limit: number, parseJson: JsonBodyParser): Promise<unknown> {
  const { headers } = request;
  const contentType = headers['content-type'];
  const declaredLength = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
  if (contentType === undefined && headers['transfer-encoding'] === undefined && (declaredLength === undefined || declaredLength === 0)) {
    return Promise.resolve(undefined);
  }
  if (contentType === undefined || !isJson(contentType)) return Promise.reject(new BodyError(new errorCodes.FST_ERR_CTP_INVALID_MEDIA_TYPE()));
  if (declaredLength !== undefined && declaredLength > limit) return Promise.reject(new BodyError(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE()));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) {
        stop();
        reject(new BodyError(new errorCodes.FST_ERR_CTP_BODY_TOO_LARGE()));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (error?: Error) => {
      stop();
      if (error) return reject(new BodyError(error));
      if (declaredLength !== undefined && received !== declaredLength) return reject(new BodyError(new errorCodes.FST_ERR_CTP_INVALID_CONTENT_LENGTH()));
      const text = chunks.length === 1 ? chunks[0].toString('utf8') : Buffer.concat(chunks).toString('utf8');
      parseJson(request, text, (parseError, value) => (parseError ? reject(parseError) : resolve(value)));
    };
    const stop = () => {
      payload.removeListener('data', onData);
      payload.removeListener('end', onEnd);
      payload.removeListener('error', onEnd);
    };
    payload.on('data', onData);
    payload.on('end', onEnd);
    payload.on('error', onEnd);
  });
}

/** application/json, with or without parameters (charset), in any case: what the other routes' parser takes. */
function isJson(contentType: string): boolean {
  const end = contentType.indexOf(';');
  return (end < 0 ? contentType : contentType.slice(0, end)).trim().toLowerCase() === 'application/json';
}

export function gateDevice(user: AuthUser): GateDevice {
  return { id: user.id, lineId: user.lineId!, ...(user.stationId !== undefined && { stationId: user.stationId }) };
}

/** The route's OpenAPI entry, as Nest would have generated it from a controller (schemas: TapDto, TapVerdictDto). */
export function gateRouteDocs(): OpenAPIObject['paths'] {
  return {
    [GATE_ROUTE]: {
      post: {
        // The id it had as a controller route: clients generate method names from it.
        operationId: 'ValidationController_validate',
        tags: ['validation'],
        security: [{ bearer: [] }],
        parameters: [],
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/TapDto' } } } },
        responses: {
          '200': {
            description: 'Every well-formed tap gets a verdict; the same tapId from the same device gets the same one again',
            content: { 'application/json': { schema: { $ref: '#/components/schemas/TapVerdictDto' } } },
          },
          '400': { description: 'VALIDATION_FAILED: malformed tap' },
          '401': { description: 'UNAUTHENTICATED, TOKEN_INVALID, TOKEN_EXPIRED' },
          '403': { description: 'FORBIDDEN: only validators tap' },
        },
      },
    },
  };
}
