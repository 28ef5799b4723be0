import { Injectable, OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { OpenAPIObject } from '@nestjs/swagger';
import type { FastifyInstance } from 'fastify';
import type { AccessRule } from '../common/access.decorator';
import type { AuthUser } from '../common/auth-user';
import { Authenticator } from '../common/authenticator';
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
 * error thrown here reaches the same exception filter as any route's, through Fastify's error
 * handler that Nest installs. Its OpenAPI entry is `gateRouteDocs`.
 */
@Injectable()
export class GateRoute implements OnModuleInit {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly authenticator: Authenticator,
    private readonly gate: GateService,
  ) {}

  onModuleInit(): void {
    // Commands build the modules without an HTTP server.
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    fastify?.post(GATE_ROUTE, (request) => this.validate(request.headers.authorization, request.body));
  }

  async validate(authorization: string | undefined, body: unknown): Promise<TapVerdict> {
    const device = await this.authenticator.authorize(authorization, GATE_ROUTE_ACCESS.roles);
    return this.gate.validate(gateDevice(device), parseTap(body, Date.now()), false);
  }
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
