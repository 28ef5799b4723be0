import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AuthUser } from '../common/auth-user';
import { DomainError } from '../common/domain-error';
import { isUuid } from '../common/uuid';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { DynamicQrVerifier } from '../validation/dynamic-qr-verifier';
import { QrVerifier, type QrClaims } from '../validation/qr-verifier';
import type { InspectDto, InspectionDto, InspectionResult } from './inspection.dto';

const DAY_MS = 24 * 3600_000;
const OLDEST_UPLOAD_MS = 7 * DAY_MS;
const CLOCK_SKEW_MS = 5 * 60_000;

interface Verdict {
  result: InspectionResult;
  reason: string;
  journey?: { id: string; entry_station_id: string; entered_at: Date };
}

interface TicketRow {
  account_id: string;
  status: 'active' | 'refunded' | 'revoked';
  valid_from: Date | null;
  valid_until: Date | null;
  first_used_at: Date | null;
  validity_days: number | null;
}

/**
 * Inspection on board or on a platform. Online: the QR's signature, the deny list (revoked tickets,
 * blocked accounts) and the rider's open journey on this line, read from Postgres where the tap
 * persister writes it (under a second behind the gate). Offline: what the inspector's device can
 * tell without a network, from the JWKS and the deny list it keeps, and every check is recorded.
 */
@Injectable()
export class InspectionService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly qr: QrVerifier,
    private readonly dynamicQr: DynamicQrVerifier,
  ) {}

  async inspect(inspector: AuthUser, body: InspectDto): Promise<InspectionDto> {
    const at = this.instant(body.occurredAt);
    const [line] = await this.db.query<Array<{ operator_id: string; mode: string }>>(`SELECT operator_id, mode FROM lines WHERE id = $1`, [body.lineId]);
    if (!line) throw new DomainError('invalid', 'VALIDATION_FAILED', 'No such line', [{ field: 'lineId', problem: 'no such line' }]);
    if (line.operator_id !== inspector.operatorId) throw new DomainError('forbidden', 'OPERATOR_SCOPE', "Inspectors check their own operator's lines only");
    const basis = body.offline === true ? 'offline' : 'online';
    const { claims, mediumId, refusal } = this.check(body.qr, at);
    const ticket = claims && claims.kind !== 'payg' && isUuid(claims.sub) ? await this.ticket(claims.sub) : undefined;
    const accountId = claims?.kind === 'payg' ? (isUuid(claims.sub) ? claims.sub : undefined) : ticket?.account_id;
    const verdict = claims ? await this.judge(claims, mediumId, ticket, body.lineId, line.mode, at, basis) : { result: 'INVALID' as const, reason: refusal };
    const [row] = await this.db.query<Array<{ id: string }>>(
      `INSERT INTO inspections (inspector_id, device_id, operator_id, line_id, result, reason, basis, subject_kind, ticket_id, account_id, journey_id, occurred_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id`,
      [
        // An inspector's account, or their handset (a device of kind inspector).
        inspector.device ? null : inspector.id,
        inspector.device ? inspector.id : null,
        line.operator_id,
        body.lineId,
        verdict.result,
        verdict.reason,
        basis,
        claims?.kind ?? null,
        ticket ? claims!.sub : null,
        accountId ?? null,
        verdict.journey?.id ?? null,
        new Date(at),
      ],
    );
    return {
      id: row.id,
      result: verdict.result,
      reason: verdict.reason,
      basis,
      ...(claims && { mediumKind: mediumId !== undefined ? 'app' : claims.kind === 'payg' ? 'pay_as_you_go' : claims.kind }),
      ...(ticket && { ticketId: claims!.sub }),
      ...(verdict.journey && { journeyId: verdict.journey.id, entryStationId: verdict.journey.entry_station_id, enteredAt: verdict.journey.entered_at.toISOString() }),
      penaltyPossible: verdict.result !== 'VALID' && accountId !== undefined,
      occurredAt: new Date(at).toISOString(),
    };
  }

  /**
   * The QR's claims: a ticket's or account's token, or the app's dynamic code with its medium, judged
   * at the inspection's time like a gate does (a stale code is a screenshot: INVALID, STALE_CODE).
   */
  private check(qr: string, at: number): { claims?: QrClaims; mediumId?: string; refusal: 'INVALID_QR' | 'STALE_CODE' } {
    if (!DynamicQrVerifier.isDynamic(qr)) {
      const check = this.qr.check(qr);
      return check.ok ? { claims: check.claims, refusal: 'INVALID_QR' } : { refusal: 'INVALID_QR' };
    }
    const check = this.dynamicQr.check(qr, at);
    if (!check.ok) return { refusal: 'INVALID_QR' };
    return check.stale ? { refusal: 'STALE_CODE' } : { claims: check.claims, mediumId: check.claims.mediumId, refusal: 'INVALID_QR' };
  }

  private async judge(claims: QrClaims, mediumId: string | undefined, ticket: TicketRow | undefined, lineId: string, mode: string, at: number, basis: 'online' | 'offline'): Promise<Verdict> {
    if (claims.expiresAt <= at) return { result: 'INVALID', reason: 'EXPIRED' };
    if (claims.notBefore > at) return { result: 'INVALID', reason: 'NOT_YET_VALID' };
    if (!claims.modes.includes(mode as QrClaims['modes'][number]) || (claims.lineIds !== null && !claims.lineIds.includes(lineId))) {
      return { result: 'INVALID', reason: 'NOT_COVERED' };
    }
    if (await this.denied(claims, mediumId, ticket)) return { result: 'INVALID', reason: 'REVOKED' };
    if (basis === 'offline') return { result: 'VALID', reason: 'VALID_OFFLINE' };
    if (claims.kind !== 'payg' && !ticket) return { result: 'INVALID', reason: 'REVOKED' };
    const journey = await this.openJourney(claims.kind === 'payg' ? { account: claims.sub } : { ticket: claims.sub }, lineId, at);
    if (journey) return { result: 'VALID', reason: 'OPEN_JOURNEY', journey };
    if (claims.kind === 'pass' && ticket && passRunning(ticket, at)) return { result: 'VALID', reason: 'VALID_PASS' };
    if (claims.kind === 'single' && ticket?.first_used_at) return { result: 'INVALID', reason: 'ALREADY_USED' };
    return { result: 'NO_TAP', reason: claims.kind === 'payg' ? 'NO_OPEN_JOURNEY' : 'TICKET_NOT_USED' };
  }

  /** The deny list, as validators and inspectors' devices get it: revoked (or refunded) tickets, blocked accounts, and app media no longer active. */
  private async denied(claims: QrClaims, mediumId: string | undefined, ticket: TicketRow | undefined): Promise<boolean> {
    if (claims.kind !== 'payg') return ticket !== undefined && ticket.status !== 'active';
    if (!isUuid(claims.sub)) return true;
    if (mediumId !== undefined) {
      const [medium] = await this.db.query<Array<{ status: string }>>(`SELECT status FROM media WHERE id = $1 AND account_id = $2`, [mediumId, claims.sub]);
      if (medium?.status !== 'active') return true;
    }
    const [block] = await this.db.query<Array<{ blocked: boolean }>>(`SELECT blocked FROM gate_account_blocks WHERE account_id = $1`, [claims.sub]);
    return block?.blocked === true;
  }

  private async openJourney(subject: { account: string } | { ticket: string }, lineId: string, at: number): Promise<Verdict['journey']> {
    const since = new Date(at - this.config.riders.inspectionJourneyMinutes * 60_000);
    const [column, id] = 'account' in subject ? ['account_id', subject.account] : ['ticket_id', subject.ticket];
    const [journey] = await this.db.query<Array<NonNullable<Verdict['journey']>>>(
      `SELECT id, entry_station_id, entered_at FROM journeys
        WHERE ${column} = $1 AND line_id = $2 AND status = 'open' AND entered_at >= $3 AND entered_at <= $4
        ORDER BY entered_at DESC LIMIT 1`,
      [id, lineId, since, new Date(at + CLOCK_SKEW_MS)],
    );
    return journey;
  }

  private async ticket(ticketId: string): Promise<TicketRow | undefined> {
    const [row] = await this.db.query<TicketRow[]>(
      `SELECT account_id, status, valid_from, valid_until, first_used_at, validity_days FROM tickets WHERE id = $1`,
      [ticketId],
    );
    return row;
  }

  private instant(occurredAt: string | undefined): number {
    const now = Date.now();
    if (occurredAt === undefined) return now;
    const at = Date.parse(occurredAt);
    if (Number.isNaN(at) || at > now + CLOCK_SKEW_MS || at < now - OLDEST_UPLOAD_MS) {
      throw new DomainError('invalid', 'VALIDATION_FAILED', 'occurredAt is too far in the future or the past', [{ field: 'occurredAt', problem: 'must be within the last 7 days' }]);
    }
    return at;
  }
}

/** A pass inside its window: fixed dates, or started by a first use and within its days since. */
function passRunning(ticket: TicketRow, at: number): boolean {
  if (ticket.valid_from && ticket.valid_until) return ticket.valid_from.getTime() <= at && at < ticket.valid_until.getTime();
  if (ticket.first_used_at && ticket.validity_days !== null) return at < ticket.first_used_at.getTime() + ticket.validity_days * DAY_MS;
  return false;
}
