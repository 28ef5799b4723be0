import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource, type EntityManager } from 'typeorm';
import { AccountsService } from '../accounts/accounts.service';
import { RiderCategories } from '../accounts/rider-categories';
import { categoryEnd } from '../accounts/rider-category-rules';
import { randomUUID } from 'node:crypto';
import { AuditLog } from '../audit/audit-log';
import { DynamicQrCredentials, type IssuedDynamicQrCredential } from '../tickets/dynamic-qr';
import type { AuthUser } from '../common/auth-user';
import { DomainError, NotFoundError, type ErrorDetail } from '../common/domain-error';
import { isUuid } from '../common/uuid';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { MediaGateState } from '../gate-state/media-gate-state';
import type { BankCardDto } from '../bank-cards/bank-cards.dto';
import { CardDebts } from '../bank-cards/card-debts';
import type { LinkMediumDto, MediumDetailDto, MediumDto, RegisteredCardsDto, TransitCardDto } from './media.dto';
import { MediumKeys } from './medium-keys';
import { COLUMNS, changeStatus, gateRecord, recordEvent, type MediumRow } from './media-records';
import { labelOf, linkIdentity, readMediumLink, type CardLink, type MediumLink, type MediumStatus } from './medium-kinds';

const REBUILD_BATCH = 1000;

/**
 * Media of an account (README "Media"): linking, reporting lost, blocking, registering the scheme's
 * transit cards, and the clone blocks the gates decide. Postgres (`media`, `media_events`) is the
 * record; every change reaches the gates through MediaGateState after its transaction commits.
 */
@Injectable()
export class MediaService {
  private readonly oneActiveCard: boolean;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly keys: MediumKeys,
    private readonly gate: MediaGateState,
    private readonly accounts: AccountsService,
    private readonly audit: AuditLog,
    private readonly credentials: DynamicQrCredentials,
    private readonly bankCards: CardDebts,
    private readonly categories: RiderCategories,
    @Inject(APP_CONFIG) config: Pick<AppConfig, 'media'>,
  ) {
    this.oneActiveCard = config.media.oneActiveCard;
  }

  /**
   * The account holding a transit card (its UID) or a chip ID card (its 12-digit number), found by the
   * medium's look-up hash, for customer service: the number is hashed here and never stored or echoed.
   */
  async holderOf(identity: string): Promise<{ accountId: string; mediumId: string; kind: 'transit_card' | 'id_card' } | undefined> {
    const kind = /^\d{12}$/.test(identity) ? 'id_card' : 'transit_card';
    const [row] = await this.db.query<Array<{ id: string; account_id: string }>>(
      `SELECT id, account_id FROM media WHERE kind = $1 AND lookup_hash = $2 AND account_id IS NOT NULL ORDER BY (status = 'active') DESC, updated_at DESC LIMIT 1`,
      [kind, this.keys.lookupHash(kind, kind === 'transit_card' ? identity.toUpperCase() : identity)],
    );
    return row && { accountId: row.account_id, mediumId: row.id, kind };
  }

  /** The account's media and linked bank cards (the bank-cards module's), oldest first. */
  async list(accountId: string): Promise<MediumDto[]> {
    const rows = await this.db.query<MediumRow[]>(`SELECT ${COLUMNS} FROM media WHERE account_id = $1 ORDER BY created_at, id`, [accountId]);
    const cards = (await this.bankCards.cards(accountId)).map(bankCardMedium);
    return [...rows.map(mediumDto), ...cards].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async get(accountId: string, id: string): Promise<MediumDetailDto> {
    const row = await this.own(this.db.manager, accountId, id);
    const history = await this.db.query<Array<{ status: MediumStatus; reason: string; at: Date }>>(
      `SELECT status, reason, at FROM media_events WHERE media_id = $1 ORDER BY id`,
      [row.id],
    );
    return { ...mediumDto(row), history: history.map((event) => ({ status: event.status, reason: event.reason, at: event.at.toISOString() })) };
  }

  /** Links a medium to the rider's account; with one active card per account, the others become `replaced`. */
  async link(accountId: string, body: LinkMediumDto): Promise<MediumDto> {
    const details: ErrorDetail[] = [];
    const link = readMediumLink(body as unknown as Record<string, unknown>, details);
    if (!link) throw new DomainError('invalid', 'VALIDATION_FAILED', 'The request is not valid', details);
    const profile = await this.accounts.profile(accountId);
    if (link.kind === 'app') return this.linkApp(accountId, link.publicKey);
    // A bank card is the bank-cards module's: it keeps the card and tells the gates. It replaces no other medium.
    if (link.kind === 'bank_card') return bankCardMedium(await this.bankCards.link(accountId, link.token, profile.riderCategory));
    if (link.kind === 'id_card' && profile.verifiedDateOfBirth !== undefined && profile.verifiedDateOfBirth !== link.birthDate) {
      throw new DomainError('refused', 'BIRTH_DATE_MISMATCH', 'The date of birth is not the one verified for this account', [{ field: 'birthDate', problem: 'differs from the verified date of birth' }]);
    }
    const lookupHash = this.keys.lookupHash(link.kind, linkIdentity(link));
    const changed = await this.db.transaction(async (em) => {
      await lockAccount(em, accountId);
      const [existing] = await em.query<MediumRow[]>(`SELECT ${COLUMNS} FROM media WHERE kind = $1 AND lookup_hash = $2 FOR UPDATE`, [link.kind, lookupHash]);
      const linked = await this.linkRow(em, accountId, link, lookupHash, existing);
      const replaced = this.oneActiveCard ? await this.replaceOthers(em, accountId, linked.id) : [];
      return [linked, ...replaced];
    });
    await this.publish(changed);
    return mediumDto(changed[0]);
  }

  /**
   * A virtual card bound to the phone's P-256 key: a medium of kind `app` (found by its own id, which the
   * credential carries) and its credential (DynamicQrCredentials). It replaces the account's other cards.
   */
  private async linkApp(accountId: string, publicKey: unknown): Promise<MediumDto> {
    const phoneKey = this.credentials.publicKeyPoint(publicKey);
    const id = randomUUID();
    const { changed, issued } = await this.db.transaction(async (em) => {
      await lockAccount(em, accountId);
      const [row] = await em.query<MediumRow[]>(
        `INSERT INTO media (id, kind, lookup_hash, account_id, status, label, phone_key) VALUES ($1, 'app', $2, $3, 'active', $4, $5) RETURNING ${COLUMNS}`,
        [id, this.keys.lookupHash('app', id), accountId, `App ···${phoneKey.subarray(-2).toString('hex').toUpperCase()}`, phoneKey],
      );
      await recordEvent(em, row, null, 'linked', accountId);
      const replaced = this.oneActiveCard ? await this.replaceOthers(em, accountId, row.id) : [];
      return { changed: [row, ...replaced], issued: await this.issueCredential(accountId, id, phoneKey) };
    });
    await this.publish(changed);
    return withCredential(mediumDto(changed[0]), issued);
  }

  /**
   * A new credential for the rider's active app medium, for the same phone key, at the account's rider
   * category now: the phone renews before its credential expires (or after a concession was decided).
   * A blocked or replaced medium cannot renew (409 MEDIUM_BLOCKED, MEDIUM_REPLACED); another kind is 409 NOT_AN_APP_MEDIUM.
   */
  async renewCredential(accountId: string, id: string): Promise<MediumDto> {
    const row = await this.own(this.db.manager, accountId, id);
    if (row.kind !== 'app') throw new DomainError('conflict', 'NOT_AN_APP_MEDIUM', 'Only the app\'s virtual card has a credential');
    if (row.status === 'blocked') throw new DomainError('conflict', 'MEDIUM_BLOCKED', 'This virtual card is blocked; its credential cannot be renewed');
    if (row.status === 'replaced') throw new DomainError('conflict', 'MEDIUM_REPLACED', 'This virtual card was replaced; link the phone again');
    const [{ phone_key: phoneKey }] = await this.db.query<Array<{ phone_key: Buffer | null }>>(`SELECT phone_key FROM media WHERE id = $1`, [row.id]);
    if (phoneKey === null) throw new DomainError('conflict', 'MEDIUM_REPLACED', 'This virtual card was linked before renewal existed; link the phone again');
    return withCredential(mediumDto(row), await this.issueCredential(accountId, row.id, phoneKey));
  }

  /** Blocks the rider's medium at once; the gates refuse it, and the deny list carries it. */
  async reportLost(accountId: string, id: string): Promise<MediumDto> {
    const changed = await this.db.transaction(async (em) => {
      const row = await this.own(em, accountId, id, true);
      if (row.status === 'blocked') return row;
      if (row.status === 'replaced') throw new DomainError('conflict', 'MEDIUM_REPLACED', 'This medium was replaced; it no longer opens the account');
      return changeStatus(em, row, 'blocked', 'lost', accountId);
    });
    await this.publish([changed]);
    return mediumDto(changed);
  }

  /**
   * Staff block a medium, or lift a block (the card becomes the account's active one again). Customer
   * service names the rider's account (another's medium is 404) and a reason code for the audit entry.
   */
  async setBlocked(staff: AuthUser, id: string, blocked: boolean, reason: string | undefined, scope: { accountId?: string; reasonCode?: string } = {}): Promise<MediumDto> {
    if (!isUuid(id)) throw new NotFoundError('Medium', id);
    const why = reason ?? (blocked ? 'blocked by staff' : 'unblocked by staff');
    const changed = await this.db.transaction(async (em) => {
      const [row] = await em.query<MediumRow[]>(`SELECT ${COLUMNS} FROM media WHERE id = $1 FOR UPDATE`, [id]);
      if (!row || (scope.accountId !== undefined && row.account_id !== scope.accountId)) throw new NotFoundError('Medium', id);
      let rows: MediumRow[] = [row];
      if (blocked && row.status !== 'blocked') {
        rows = [await changeStatus(em, row, 'blocked', why, staff.id)];
      } else if (!blocked && row.status === 'blocked') {
        if (row.account_id !== null) await lockAccount(em, row.account_id);
        const unblocked = await changeStatus(em, row, 'active', why, staff.id);
        rows = [unblocked, ...(this.oneActiveCard && row.account_id !== null ? await this.replaceOthers(em, row.account_id, row.id) : [])];
      }
      await this.audit.record(em, staff, {
        action: blocked ? 'medium.block' : 'medium.unblock',
        subjectKind: 'medium',
        subjectId: row.id,
        reason: scope.reasonCode ?? (blocked ? 'medium_blocked' : 'medium_unblocked'),
        ...(reason !== undefined && { note: reason }),
        before: { status: row.status },
        after: { status: rows[0].status, replaced: rows.slice(1).map((other) => other.id) },
      });
      return rows;
    });
    await this.publish(changed);
    return mediumDto(changed[0]);
  }

  /**
   * Customer service replaces a rider's medium (lost, stolen, broken) with a transit card the scheme
   * issued, handed over at the counter: the old one is blocked, the card linked (CARD_NOT_ISSUED,
   * MEDIUM_LINKED_ELSEWHERE, MEDIUM_BLOCKED as for a rider), and with one active card per account the
   * others are replaced; one transaction with its audit entry. Balance, passes and journeys are the account's.
   */
  async replaceWithCard(staff: AuthUser, accountId: string, id: string, uid: string, why: { reasonCode: string; note: string }): Promise<{ replaced: MediumDto; medium: MediumDto }> {
    const details: ErrorDetail[] = [];
    const link = readMediumLink({ kind: 'transit_card', uid }, details);
    if (link?.kind !== 'transit_card') throw new DomainError('invalid', 'VALIDATION_FAILED', 'The request is not valid', details);
    const lookupHash = this.keys.lookupHash(link.kind, linkIdentity(link));
    const changed = await this.db.transaction(async (em) => {
      await lockAccount(em, accountId);
      const old = await this.own(em, accountId, id, true);
      const [existing] = await em.query<MediumRow[]>(`SELECT ${COLUMNS} FROM media WHERE kind = $1 AND lookup_hash = $2 FOR UPDATE`, [link.kind, lookupHash]);
      if (existing?.id === old.id) throw new DomainError('conflict', 'MEDIUM_SAME', 'The replacement is the medium it replaces');
      const blocked = old.status === 'blocked' ? old : await changeStatus(em, old, 'blocked', why.reasonCode, staff.id);
      const linked = await this.linkRow(em, accountId, link, lookupHash, existing);
      const replaced = this.oneActiveCard ? await this.replaceOthers(em, accountId, linked.id) : [];
      await this.audit.record(em, staff, {
        action: 'medium.replace',
        subjectKind: 'medium',
        subjectId: old.id,
        reason: why.reasonCode,
        note: why.note,
        before: { status: old.status },
        after: { status: blocked.status, replacedBy: { id: linked.id, kind: linked.kind, label: linked.label, status: linked.status }, replaced: replaced.map((other) => other.id) },
      });
      return [blocked, linked, ...replaced];
    });
    await this.publish(changed);
    return { replaced: mediumDto(changed[0]), medium: mediumDto(changed[1]) };
  }

  /** Registers cards the scheme issued: active, linked to no account until a rider links one. */
  async registerTransitCards(admin: AuthUser, cards: readonly TransitCardDto[]): Promise<RegisteredCardsDto> {
    const details: ErrorDetail[] = [];
    const links = cards.map((card, index) => {
      const link = readMediumLink({ kind: 'transit_card', uid: card.uid }, []);
      if (!link || link.kind !== 'transit_card') details.push({ field: `cards.${index}.uid`, problem: 'must be the card UID: 4, 7 or 10 bytes in hex' });
      return link as Extract<MediumLink, { kind: 'transit_card' }>;
    });
    if (details.length > 0) throw new DomainError('invalid', 'VALIDATION_FAILED', 'The request is not valid', details);
    const result = await this.db.transaction(async (em) => {
      const out: RegisteredCardsDto['cards'] = [];
      const fresh: MediumRow[] = [];
      for (const link of links) {
        const lookupHash = this.keys.lookupHash('transit_card', link.uid);
        const [inserted] = await em.query<MediumRow[]>(
          `INSERT INTO media (kind, lookup_hash, account_id, status, label, card_uid) VALUES ('transit_card', $1, NULL, 'active', $2, $3)
           ON CONFLICT (kind, lookup_hash) DO NOTHING RETURNING ${COLUMNS}`,
          [lookupHash, labelOf(link), link.uid],
        );
        if (inserted) {
          await recordEvent(em, inserted, null, 'registered', admin.id);
          await this.audit.record(em, admin, { action: 'transit_card.register', subjectKind: 'medium', subjectId: inserted.id, reason: 'issued', after: { kind: 'transit_card', label: inserted.label } });
          fresh.push(inserted);
          out.push({ uid: link.uid, id: inserted.id, registered: true });
        } else {
          const [known] = await em.query<Array<{ id: string }>>(`SELECT id FROM media WHERE kind = 'transit_card' AND lookup_hash = $1`, [lookupHash]);
          out.push({ uid: link.uid, id: known.id, registered: false });
        }
      }
      return { out, fresh };
    });
    await this.publish(result.fresh);
    return { cards: result.out };
  }

  /** Writes every medium's gate record from Postgres (the gate state's rebuild); returns how many. */
  async rebuildGateState(): Promise<number> {
    let after = '00000000-0000-0000-0000-000000000000';
    let done = 0;
    for (;;) {
      const rows = await this.db.query<MediumRow[]>(`SELECT ${COLUMNS} FROM media WHERE id > $1 ORDER BY id LIMIT ${REBUILD_BATCH}`, [after]);
      if (rows.length === 0) return done;
      await this.gate.put(rows.map(gateRecord));
      done += rows.length;
      after = rows[rows.length - 1].id;
    }
  }

  private async linkRow(em: EntityManager, accountId: string, link: CardLink, lookupHash: string, existing: MediumRow | undefined): Promise<MediumRow> {
    const birthCheck = link.kind === 'id_card' ? this.keys.birthCheck(link.number, link.birthDate) : null;
    if (!existing) {
      if (link.kind === 'transit_card') throw new DomainError('refused', 'CARD_NOT_ISSUED', 'The scheme never issued a card with this UID', [{ field: 'uid', problem: 'is not a registered card' }]);
      const [row] = await em.query<MediumRow[]>(
        `INSERT INTO media (kind, lookup_hash, account_id, status, label, birth_check) VALUES ($1, $2, $3, 'active', $4, $5) RETURNING ${COLUMNS}`,
        [link.kind, lookupHash, accountId, labelOf(link), birthCheck],
      );
      await recordEvent(em, row, null, 'linked', accountId);
      return row;
    }
    if (existing.account_id !== null && existing.account_id !== accountId) {
      throw new DomainError('conflict', 'MEDIUM_LINKED_ELSEWHERE', 'This card is linked to another account');
    }
    if (existing.status === 'blocked') throw new DomainError('conflict', 'MEDIUM_BLOCKED', 'This card is blocked; ask customer service to unblock it');
    const [[row]] = await em.query<[MediumRow[], number]>(
      `UPDATE media SET account_id = $2, status = 'active', birth_check = $3, updated_at = now() WHERE id = $1 RETURNING ${COLUMNS}`,
      [existing.id, accountId, birthCheck],
    );
    if (existing.status !== 'active' || existing.account_id === null) await recordEvent(em, row, existing.status, 'linked', accountId);
    return row;
  }

  /** The account's other active media become `replaced` (one active card per account). */
  private async replaceOthers(em: EntityManager, accountId: string, keptId: string): Promise<MediumRow[]> {
    const others = await em.query<MediumRow[]>(`SELECT ${COLUMNS} FROM media WHERE account_id = $1 AND id <> $2 AND status = 'active' FOR UPDATE`, [accountId, keptId]);
    const replaced: MediumRow[] = [];
    for (const row of others) replaced.push(await changeStatus(em, row, 'replaced', 'replaced by another card', accountId));
    return replaced;
  }

  /**
   * A credential for an app medium's phone key, at the account's rider category now and with the instant
   * it ends (a concession's end, a birthday), after which validators price the rider as adult.
   */
  private async issueCredential(accountId: string, mediumId: string, phoneKey: Buffer): Promise<IssuedDynamicQrCredential> {
    const spans = (await this.categories.timelines([accountId])).get(accountId) ?? [];
    const end = categoryEnd(spans);
    return this.credentials.issue({ accountId, mediumId, riderCategory: spans[0]?.category ?? 'adult', categoryValidUntil: end === null ? null : new Date(end), phoneKey });
  }

  private async own(em: EntityManager, accountId: string, id: string, forUpdate = false): Promise<MediumRow> {
    if (!isUuid(id)) throw new NotFoundError('Medium', id);
    const [row] = await em.query<MediumRow[]>(`SELECT ${COLUMNS} FROM media WHERE id = $1 AND account_id = $2${forUpdate ? ' FOR UPDATE' : ''}`, [id, accountId]);
    if (!row) throw new NotFoundError('Medium', id);
    return row;
  }

  private publish(rows: readonly MediumRow[]): Promise<void> {
    return this.gate.put(rows.map(gateRecord));
  }
}

/** Serialises the changes of one account's media (linking and the one-active-card rule). */
async function lockAccount(em: EntityManager, accountId: string): Promise<void> {
  await em.query(`SELECT pg_advisory_xact_lock(hashtext('media:' || $1))`, [accountId]);
}

function bankCardMedium(card: BankCardDto): MediumDto {
  return { id: card.id, kind: 'bank_card', status: card.status, label: card.label, createdAt: card.createdAt, updatedAt: card.createdAt };
}

function withCredential(dto: MediumDto, issued: IssuedDynamicQrCredential): MediumDto {
  return { ...dto, credential: issued.credential, credentialExpiresAt: issued.expiresAt.toISOString(), stepSeconds: issued.stepSeconds, windowSteps: issued.windowSteps };
}

function mediumDto(row: MediumRow): MediumDto {
  return { id: row.id, kind: row.kind, status: row.status, label: row.label, createdAt: row.created_at.toISOString(), updatedAt: row.updated_at.toISOString() };
}

/**
 * The media's part of GET /v1/denylist (validation's feed): blocked and replaced media, and media
 * unblocked again, as rows (kind, id, status, at, at_us, uid). A transit card carries its UID, which an
 * offline validator matches the cards it reads against; a chip ID card only its id.
 */
export const MEDIA_DENYLIST_SQL = `
  SELECT 'medium' AS kind, e.media_id::text AS id, CASE WHEN e.status = 'active' THEN 'unblocked' ELSE 'blocked' END AS status, e.at,
         (extract(epoch FROM e.at) * 1000000)::bigint AS at_us, m.kind AS medium_kind, m.card_uid AS uid
    FROM media_events e JOIN media m ON m.id = e.media_id
   WHERE e.status <> 'active' OR e.previous_status IN ('blocked', 'replaced')`;
