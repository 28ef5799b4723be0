import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AuthUser } from '../common/auth-user';
import { DomainError, NotFoundError } from '../common/domain-error';
import { isUuid } from '../common/uuid';
import { isUniqueViolation } from '../database/postgres-errors';
import type { RiderCategory } from '../fares/rider-category';
import { AccessTokens, type AccessClaims, type AccountRole } from './access-tokens';
import type { LoginDto, ProfileDto, RegisterDto, RegisteredDto, TokenPairDto } from './accounts.dto';
import { emailSkeleton, normaliseEmail } from './email';
import { LoginLimiter } from './login-limiter';
import { PasswordHasher } from './password-hasher';
import { RegistrationLimiter } from './registration-limiter';
import { assertPasswordAcceptable } from './password-policy';
import { localDateAt } from '../fares/domain/local-time';
import { categoryEnd, riderCategoryOn, riderCategoryTimeline } from './rider-category-rules';
import { SessionStore, type SessionTokens } from './sessions';
import { PaymentsService } from '../payments/payments.service';

/** What the guard and the profile need about an account, read in one query. */
interface AccountRow {
  id: string;
  email: string;
  full_name: string;
  role: AccountRole;
  operator_id: string | null;
  verified_date_of_birth: string | null;
  approved_categories: RiderCategory[];
  /** Each approved category's end (epoch ms, as text), or null, in the same order. */
  approved_ends: Array<string | null>;
}

const ACCOUNT_COLUMNS = `a.id, a.email, a.full_name, a.role, a.operator_id, a.verified_date_of_birth::text,
  ARRAY(SELECT c.category FROM concession_claims c
         WHERE c.account_id = a.id AND c.status = 'approved' AND (c.valid_until IS NULL OR c.valid_until > now()) ORDER BY c.id) AS approved_categories,
  ARRAY(SELECT (extract(epoch FROM c.valid_until) * 1000)::bigint FROM concession_claims c
         WHERE c.account_id = a.id AND c.status = 'approved' AND (c.valid_until IS NULL OR c.valid_until > now()) ORDER BY c.id) AS approved_ends`;

@Injectable()
export class AccountsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly hasher: PasswordHasher,
    private readonly limiter: LoginLimiter,
    private readonly registrations: RegistrationLimiter,
    private readonly sessions: SessionStore,
    private readonly tokens: AccessTokens,
    private readonly payments: PaymentsService,
  ) {}

  /** A new passenger. A declared date of birth is kept but grants nothing: concessions need an approved claim. */
  /**
   * A new passenger. A declared date of birth is kept but grants nothing: concessions need an
   * approved claim. An address that looks like an existing account's (the same confusable
   * skeleton: "admın@", "аdmin@") is taken; registrations of one skeleton are serialised by an
   * advisory lock, so two look-alikes sent at once cannot both pass the check.
   */
  async register(input: RegisterDto, address: string, today = localDateAt(Date.now())): Promise<RegisteredDto> {
    const email = normaliseEmail(input.email);
    assertPasswordAcceptable(input.password, email);
    if (input.dateOfBirth !== undefined && (input.dateOfBirth > today || input.dateOfBirth < '1900-01-01')) {
      throw new DomainError('invalid', 'VALIDATION_FAILED', 'The request is not valid', [
        { field: 'dateOfBirth', problem: 'must be a past date after 1900' },
      ]);
    }
    await this.registrations.attempt(address);
    const skeleton = emailSkeleton(email);
    const taken = () => new DomainError('conflict', 'EMAIL_TAKEN', 'An account with this email, or one that looks the same, already exists');
    const passwordHash = await this.hasher.hash(input.password);
    try {
      const id = await this.db.transaction(async (em) => {
        await em.query(`SELECT pg_advisory_xact_lock(hashtext('account-email:' || $1))`, [skeleton]);
        const [lookAlike] = await em.query<unknown[]>(`SELECT 1 FROM accounts WHERE email_skeleton = $1 OR email = $2 LIMIT 1`, [skeleton, email]);
        if (lookAlike) throw taken();
        const [row] = await em.query<Array<{ id: string }>>(
          `INSERT INTO accounts (email, password_hash, full_name, role, declared_date_of_birth, email_skeleton)
           VALUES ($1, $2, $3, 'passenger', $4, $5) RETURNING id`,
          [email, passwordHash, input.fullName.trim(), input.dateOfBirth ?? null, skeleton],
        );
        return row.id;
      });
      return { id, email, riderCategory: 'adult' };
    } catch (error) {
      if (isUniqueViolation(error)) throw taken();
      throw error;
    }
  }

  /**
   * A new session for the right email and password. Unknown email and wrong password are one and
   * the same 401, and cost the same argon2 work.
   */
  async login(input: LoginDto, address: string): Promise<TokenPairDto> {
    const email = normaliseEmail(input.email);
    await this.limiter.attempt(email, address);
    const [account] = await this.db.query<Array<{ id: string; role: AccountRole; password_hash: string }>>(
      'SELECT id, role, password_hash FROM accounts WHERE email = $1',
      [email],
    );
    const passwordMatches = await this.hasher.verify(account?.password_hash, input.password);
    if (!account || !passwordMatches) {
      throw new DomainError('unauthenticated', 'INVALID_CREDENTIALS', 'The email or password is wrong');
    }
    await this.limiter.succeeded(email, address);
    return this.tokenPair(account.id, account.role, await this.sessions.start(account.id));
  }

  /** Spends the refresh token and returns the next pair of the same session. */
  async refresh(refreshToken: string): Promise<TokenPairDto> {
    const session = await this.sessions.rotate(refreshToken);
    return this.tokenPair(session.accountId, session.role, session);
  }

  logout(refreshToken: string): Promise<void> {
    return this.sessions.revoke(refreshToken);
  }

  /**
   * The caller behind a verified access token, read fresh: a revoked session fails at once, and
   * the rider category reflects approvals, expiries and birthdays as of this request.
   */
  async authenticate(claims: Extract<AccessClaims, { subject: 'account' }>): Promise<AuthUser> {
    if (!isUuid(claims.accountId) || !isUuid(claims.sessionId)) {
      throw new DomainError('unauthenticated', 'TOKEN_INVALID', 'The access token is not valid');
    }
    const [row] = await this.db.query<Array<AccountRow & { revoked: boolean }>>(
      `SELECT ${ACCOUNT_COLUMNS}, s.revoked_at IS NOT NULL AS revoked
         FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.id = $1 AND a.id = $2`,
      [claims.sessionId, claims.accountId],
    );
    if (!row) throw new DomainError('unauthenticated', 'TOKEN_INVALID', 'The access token is not valid');
    if (row.revoked) throw new DomainError('unauthenticated', 'TOKEN_REVOKED', 'This session has ended; log in again');
    return authUserOf(row);
  }

  async profile(accountId: string): Promise<ProfileDto> {
    const [row] = await this.db.query<AccountRow[]>(`SELECT ${ACCOUNT_COLUMNS} FROM accounts a WHERE a.id = $1`, [accountId]);
    if (!row) throw new NotFoundError('Account', accountId);
    const wallet = await this.payments.walletBalance(accountId);
    return {
      id: row.id,
      email: row.email,
      fullName: row.full_name,
      role: row.role,
      ...(row.operator_id === null ? {} : { operatorId: row.operator_id }),
      riderCategory: riderCategoryOf(row),
      ...(row.verified_date_of_birth === null ? {} : { verifiedDateOfBirth: row.verified_date_of_birth }),
      balance: wallet.balance,
      currency: wallet.currency,
    };
  }

  private tokenPair(accountId: string, role: AccountRole, session: SessionTokens): TokenPairDto {
    const access = this.tokens.sign({ subject: 'account', accountId, sessionId: session.sessionId, role });
    return { accessToken: access.token, refreshToken: session.refreshToken, expiresIn: access.expiresIn, tokenType: 'Bearer' };
  }
}

function riderCategoryOf(row: AccountRow): RiderCategory {
  return riderCategoryOn({ verifiedDateOfBirth: row.verified_date_of_birth, approvedCategories: row.approved_categories }, localDateAt(Date.now()));
}

/** When the rider's current category ends (a concession's end, a birthday), or null. */
function riderCategoryEndOf(row: AccountRow): number | null {
  const concessions = row.approved_categories.map((category, index) => ({ category, validUntil: row.approved_ends[index] === null ? null : Number(row.approved_ends[index]) }));
  return categoryEnd(riderCategoryTimeline(row.verified_date_of_birth, concessions, Date.now()));
}

function authUserOf(row: AccountRow): AuthUser {
  switch (row.role) {
    case 'passenger':
      return { id: row.id, role: row.role, riderCategory: riderCategoryOf(row), ...ended(riderCategoryEndOf(row)) };
    case 'operator':
    case 'support':
    case 'inspector':
      return { id: row.id, role: row.role, ...(row.operator_id === null ? {} : { operatorId: row.operator_id }) };
    case 'admin':
      return { id: row.id, role: row.role };
  }
}

function ended(at: number | null): { riderCategoryEndsAt?: number } {
  return at === null ? {} : { riderCategoryEndsAt: at };
}
