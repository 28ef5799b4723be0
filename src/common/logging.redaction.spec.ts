import pino from 'pino';
import { QueryFailedError } from 'typeorm';
import { REDACTED_PATHS, redactedUrl } from './logging.module';

describe('log redaction', () => {
  it('keeps the bound values of a failed query, and credentials in headers, out of log lines', () => {
    const lines: string[] = [];
    const logger = pino({ redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, { write: (line: string) => lines.push(line) });
    const error = new QueryFailedError('INSERT INTO accounts (email, password_hash) VALUES ($1, $2)', ['a@b.vn', '$argon2id$v=19$secret'], new Error('boom'));
    logger.error({ err: error, req: { headers: { authorization: 'Bearer eyJsecret' } } }, 'unhandled error');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('INSERT INTO accounts');
    expect(lines[0]).not.toContain('argon2id');
    expect(lines[0]).not.toContain('eyJsecret');
  });
});

describe('redactedUrl', () => {
  it.each([
    ['/v1/me?access_token=eyJsecret', '/v1/me?access_token=[redacted]'],
    ['/v1/lines?mode=metro&apiKey=k1&x=1', '/v1/lines?mode=metro&apiKey=[redacted]&x=1'],
    ['/a?password=p&refresh%5Ftoken=r&SIG=s', '/a?password=[redacted]&refresh%5Ftoken=[redacted]&SIG=[redacted]'],
    ['/v1/settlements/daily?date=2026-11-21&operatorId=hmc', '/v1/settlements/daily?date=2026-11-21&operatorId=hmc'],
    ['/v1/denylist', '/v1/denylist'],
    ['/a?token', '/a?token'],
  ])('%s is logged as %s', (url, logged) => {
    expect(redactedUrl(url)).toBe(logged);
  });
});
