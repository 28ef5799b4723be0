import pino from 'pino';
import { QueryFailedError } from 'typeorm';
import { REDACTED_PATHS } from './logging.module';

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
