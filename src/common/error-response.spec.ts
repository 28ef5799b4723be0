import { BadRequestException, HttpException, NotFoundException } from '@nestjs/common';
import { runInNewContext } from 'node:vm';
import { ClientClosedError, SimpleError, SocketClosedUnexpectedlyError, TimeoutError } from 'redis';
import { QueryFailedError } from 'typeorm';
import { DomainError, NotFoundError } from './domain-error';
import { toErrorResponse } from './error-response';

describe('toErrorResponse', () => {
  it.each([
    ['invalid', 400],
    ['unauthenticated', 401],
    ['forbidden', 403],
    ['not_found', 404],
    ['conflict', 409],
    ['refused', 422],
    ['rate_limited', 429],
    ['unavailable', 503],
  ] as const)('maps a %s domain error to %i and keeps its code and details', (kind, status) => {
    const details = [{ field: 'amount', problem: 'must be positive' }];
    const response = toErrorResponse(new DomainError(kind, 'SOME_CODE', 'explained', details), 'req-1');
    expect(response.status).toBe(status);
    expect(response.body).toEqual({ error: { code: 'SOME_CODE', message: 'explained', details }, requestId: 'req-1' });
  });

  it('names what was not found', () => {
    expect(toErrorResponse(new NotFoundError('Line', 'x9'), 'r').body.error).toEqual({
      code: 'NOT_FOUND',
      message: 'Line "x9" does not exist',
      details: [],
    });
  });

  it('gives framework HTTP errors a stable code by status', () => {
    expect(toErrorResponse(new NotFoundException('Cannot GET /x'), 'r')).toMatchObject({ status: 404, body: { error: { code: 'NOT_FOUND' } } });
    expect(toErrorResponse(new BadRequestException(['a', 'b']), 'r')).toMatchObject({ status: 400, body: { error: { code: 'BAD_REQUEST', message: 'a; b' } } });
    expect(toErrorResponse(new HttpException('Request body is too large', 413), 'r')).toMatchObject({ status: 413, body: { error: { code: 'PAYLOAD_TOO_LARGE' } } });
    expect(toErrorResponse(new HttpException('teapot', 418), 'r')).toMatchObject({ status: 418, body: { error: { code: 'HTTP_418' } } });
  });

  it('never leaks what an unexpected error says', () => {
    const response = toErrorResponse(new Error('connect ECONNREFUSED 10.0.0.5:5432 password=hunter2'), 'req-9');
    expect(response.status).toBe(500);
    expect(response.internal).toBe(true);
    expect(response.body.error.code).toBe('INTERNAL_ERROR');
    expect(JSON.stringify(response.body)).not.toMatch(/ECONNREFUSED|hunter2/);
    expect(toErrorResponse(new HttpException('db exploded', 502), 'r').body.error).toMatchObject({ code: 'INTERNAL_ERROR' });
    expect(toErrorResponse('a string', 'r').status).toBe(500);
  });

  it('answers 503, retryable, when Postgres or Redis cannot be reached, drops the connection or does not answer, without saying more', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.5:5432'), { code: 'ECONNREFUSED' });
    const shutdown = new QueryFailedError('SELECT 1', [], Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }));
    const dropped = new Error('Connection terminated unexpectedly');
    for (const error of [refused, shutdown, dropped, new TimeoutError('Command timeout: 5000ms'), new ClientClosedError(), new SocketClosedUnexpectedlyError()]) {
      const response = toErrorResponse(error, 'req-5');
      expect(response).toMatchObject({ status: 503, internal: false, body: { error: { code: 'SERVICE_UNAVAILABLE', details: [] }, requestId: 'req-5' } });
      expect(JSON.stringify(response.body)).not.toMatch(/ECONNREFUSED|10\.0\.0\.5|administrator|terminated/);
    }
    const unique = new QueryFailedError('INSERT', [], Object.assign(new Error('duplicate key'), { code: '23505' }));
    expect(toErrorResponse(unique, 'r').status).toBe(500);
  });

  it('answers 503 when a Redis Cluster cannot serve the key now, or a node resets the connection (an error of another realm: Node\'s sockets)', () => {
    const reset = Object.assign(runInNewContext('new Error("write ECONNRESET")') as object, { code: 'ECONNRESET' });
    expect(reset instanceof Error).toBe(false);
    for (const error of [new SimpleError('CLUSTERDOWN The cluster is down'), new SimpleError('LOADING Redis is loading the dataset in memory'), new SimpleError('TRYAGAIN Multiple keys request during rehashing of slot'), reset]) {
      expect(toErrorResponse(error, 'r')).toMatchObject({ status: 503, internal: false, body: { error: { code: 'SERVICE_UNAVAILABLE' } } });
    }
    expect(toErrorResponse(new SimpleError('ERR wrong number of arguments'), 'r').status).toBe(500);
    expect(toErrorResponse(new SimpleError('CROSSSLOT Keys in request don\'t hash to the same slot'), 'r').status).toBe(500);
  });
});
