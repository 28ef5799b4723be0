import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { createHash, randomBytes } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import { DomainError } from '../common/domain-error';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import type { AccountRole } from './access-tokens';

export interface SessionTokens {
  sessionId: string;
  refreshToken: string;
}

export interface RotatedSession extends SessionTokens {
  accountId: string;
  role: AccountRole;
}

/** 256 random bits; only their SHA-256 is stored, so a database leak yields no usable token. */
function newRefreshToken(): { token: string; hash: Buffer } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: hashOf(token) };
}

function hashOf(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

interface TokenRow {
  session_id: string;
  expired: boolean;
  rotated: boolean;
  revoked: boolean;
  account_id: string;
  role: AccountRole;
}

type Lookup =
  | { outcome: 'rotated'; session: RotatedSession }
  | { outcome: 'unknown' | 'revoked' | 'expired' | 'reused' };

/**
 * Login sessions and their rotating refresh tokens. Each refresh spends the token and issues the
 * next one of the same session (family); presenting a spent token again means it was copied, so
 * the whole session is revoked and every token of it, access tokens included, stops working.
 */
@Injectable()
export class SessionStore {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async start(accountId: string): Promise<SessionTokens> {
    return this.db.transaction(async (tx) => {
      const [session] = await tx.query<Array<{ id: string }>>('INSERT INTO sessions (account_id) VALUES ($1) RETURNING id', [accountId]);
      const sessionId = session.id;
      return { sessionId, refreshToken: await this.issue(tx, sessionId) };
    });
  }

  async rotate(refreshToken: string): Promise<RotatedSession> {
    const result = await this.db.transaction(async (tx): Promise<Lookup> => {
      const rows = await tx.query<TokenRow[]>(
        `SELECT t.session_id, t.expires_at <= now() AS expired, t.rotated_at IS NOT NULL AS rotated,
                s.revoked_at IS NOT NULL AS revoked, a.id AS account_id, a.role
           FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id JOIN accounts a ON a.id = s.account_id
          WHERE t.token_hash = $1
          FOR UPDATE OF t, s`,
        [hashOf(refreshToken)],
      );
      const row = rows[0];
      if (!row) return { outcome: 'unknown' };
      if (row.revoked) return { outcome: 'revoked' };
      if (row.rotated) {
        await tx.query(`UPDATE sessions SET revoked_at = now(), revoked_reason = 'reuse' WHERE id = $1`, [row.session_id]);
        return { outcome: 'reused' };
      }
      if (row.expired) return { outcome: 'expired' };
      await tx.query('UPDATE refresh_tokens SET rotated_at = now() WHERE token_hash = $1', [hashOf(refreshToken)]);
      const next = await this.issue(tx, row.session_id);
      return { outcome: 'rotated', session: { sessionId: row.session_id, refreshToken: next, accountId: row.account_id, role: row.role } };
    });
    switch (result.outcome) {
      case 'rotated':
        return result.session;
      case 'reused':
        throw new DomainError('unauthenticated', 'REFRESH_TOKEN_REUSED', 'This refresh token was already used; the session has been ended for safety');
      case 'revoked':
        throw new DomainError('unauthenticated', 'TOKEN_REVOKED', 'This session has ended; log in again');
      case 'expired':
        throw new DomainError('unauthenticated', 'TOKEN_EXPIRED', 'The refresh token has expired; log in again');
      case 'unknown':
        throw new DomainError('unauthenticated', 'TOKEN_INVALID', 'The refresh token is not valid');
    }
  }

  /** Ends the session the token belongs to. Unknown or already ended sessions are fine: logging out twice is not an error. */
  async revoke(refreshToken: string): Promise<void> {
    await this.db.query(
      `UPDATE sessions SET revoked_at = now(), revoked_reason = 'logout'
        WHERE id = (SELECT session_id FROM refresh_tokens WHERE token_hash = $1) AND revoked_at IS NULL`,
      [hashOf(refreshToken)],
    );
  }

  private async issue(tx: EntityManager, sessionId: string): Promise<string> {
    const { token, hash } = newRefreshToken();
    await tx.query(`INSERT INTO refresh_tokens (token_hash, session_id, expires_at) VALUES ($1, $2, now() + make_interval(secs => $3))`, [
      hash,
      sessionId,
      this.config.auth.refreshTokenTtlSeconds,
    ]);
    return token;
  }
}
