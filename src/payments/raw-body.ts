import type { FastifyRequest } from 'fastify';

/** A request whose JSON body src/app.ts kept as received: webhook signatures cover the exact bytes. */
export type RawBodyRequest = FastifyRequest & { rawBody?: string };
