import { Injectable } from '@nestjs/common';
import { ELDERLY_FROM_AGE, ageOn } from '../accounts/rider-category-rules';
import { localDateAt } from '../fares/domain/local-time';
import { RIDER_CATEGORIES, type RiderCategory } from '../fares/rider-category';
import { GateScript, type MediumRecord } from '../gate-state/gate-script';
import { riderCategoryAt } from '../gate-state/gate-state';
import { CardTokens } from '../bank-cards/card-tokens';
import { MediumKeys } from './medium-keys';
import type { GateMedium, MediumKind } from './medium-kinds';
import { candidatePasses, choosePass, type TapPlace } from './pass-choice';

/** A medium the gate cannot take further: refused at once, with nothing to record against (no account, no ride). */
export interface MediumRefused {
  readonly outcome: 'refused';
  readonly reason: 'INVALID_QR' | 'NOT_COVERED';
}

/** What a medium stands for at this tap: one of the account's passes or its pay as you go, or a free ride without an account. */
export interface MediumSubject {
  readonly outcome: 'subject';
  readonly kind: 'pass' | 'payg' | 'free' | 'bank_card';
  /** The pass (a ticket id), the account, or for a free ride the medium's look-up hash. */
  readonly subjectId: string;
  /** A pass: where it is valid (its ticket's modes and lines, null every line). */
  readonly pass?: { readonly modes: readonly string[]; readonly lineIds: readonly string[] | null };
  readonly riderCategory: RiderCategory;
  /** A refusal the medium itself decides ('' when none): REVOKED for a blocked or cloned card, NOT_COVERED under 60. */
  readonly reason: string;
  /** Recorded with the tap: the kind and the look-up hash (never the number). */
  readonly medium: { readonly kind: MediumKind | 'bank_card'; readonly ref: string };
  /** A bank card's token, sealed: its journey keeps it for the charge job (src/bank-cards). */
  readonly cardToken?: string;
}

export type MediumResolution = MediumRefused | MediumSubject;

const INVALID: MediumRefused = { outcome: 'refused', reason: 'INVALID_QR' };
const NOT_LINKED: MediumRefused = { outcome: 'refused', reason: 'NOT_COVERED' };
const CATEGORY_SET: ReadonlySet<string> = new Set(RIDER_CATEGORIES);

/**
 * Resolves a medium shown at a gate to what it opens, from the gates' Redis state only (no SQL): the
 * rules of README "Media". medium.lua (one round trip) finds the medium; a card that opens an account
 * then reads the account's pass index and pay-as-you-go journey (one more), and when a pass may cover
 * the tap, those passes' live state (one more, pipelined over their slots), to ride on a pass (pass-choice.ts).
 */
@Injectable()
export class GateMedia {
  constructor(
    private readonly keys: MediumKeys,
    private readonly script: GateScript,
    private readonly cards: CardTokens,
  ) {}

  /** The look-up hash of a medium a validator sent: what taps record as its reference. */
  lookupHashOf(medium: GateMedium): string {
    switch (medium.kind) {
      case 'transit_card':
        return this.keys.lookupHash('transit_card', medium.uid);
      case 'id_card':
        return this.keys.lookupHash('id_card', medium.number);
      case 'bank_card':
        return this.cards.idOf(medium.token);
    }
  }

  /** The look-up hash of an app medium (a virtual card): its id, which the dynamic QR's credential carries. */
  appLookupHash(mediumId: string): string {
    return this.keys.lookupHash('app', mediumId);
  }

  /**
   * A dynamic QR's app medium, from the gates' state: REVOKED when it is blocked or replaced (or
   * belongs to another account), '' when it opens the account. One round trip (medium.lua).
   */
  async appReason(mediumId: string, accountId: string, at: number, offline: boolean, deviceId: string, tapId: string): Promise<{ reason: string; medium: MediumSubject['medium'] }> {
    const lookupHash = this.appLookupHash(mediumId);
    const record = await this.script.medium({ lookupHash, at, offline, deviceId, tapId });
    const opens = record.kind === 'app' && record.status === 'active' && record.account === accountId;
    return { reason: opens ? '' : 'REVOKED', medium: { kind: 'app', ref: lookupHash } };
  }

  async resolve(medium: GateMedium, place: TapPlace, offline: boolean, deviceId: string, tapId: string): Promise<MediumResolution> {
    const at = place.at;
    const lookupHash = this.lookupHashOf(medium);
    switch (medium.kind) {
      case 'bank_card': {
        if (!this.cards.enabled) return NOT_LINKED;
        const card = await this.script.card(lookupHash);
        // Linked: the account's pay as you go (its journeys, caps shared with its other media, its rider
        // category), the fares charged to the card (gate.lua: the journey's payer); a denied card is REVOKED.
        if (card.account !== '') {
          return {
            outcome: 'subject',
            kind: 'payg',
            subjectId: card.account,
            riderCategory: riderCategory(card.cat),
            reason: card.status === 'denied' ? 'REVOKED' : '',
            medium: { kind: 'bank_card', ref: lookupHash },
            cardToken: this.cards.seal(medium.token),
          };
        }
        // An unknown card is accepted unless deny-listed (gate.lua reads the card's state): the card's own caps, adult fares.
        return {
          outcome: 'subject',
          kind: 'bank_card',
          subjectId: lookupHash,
          riderCategory: 'adult',
          reason: '',
          medium: { kind: 'bank_card', ref: lookupHash },
          cardToken: this.cards.seal(medium.token),
        };
      }
      case 'transit_card': {
        if (!this.keys.cryptogramValid(medium.uid, medium.counter, medium.cryptogram)) return INVALID;
        const record = await this.script.medium({ lookupHash, at, offline, counter: medium.counter, deviceId, tapId });
        if (record.kind !== 'transit_card') return INVALID; // a card the scheme never issued
        if (record.account === '') return NOT_LINKED;
        return this.openAccount(record, record.counter === 'clone' || record.status !== 'active' ? 'REVOKED' : '', medium.kind, lookupHash, place, deviceId, tapId);
      }
      case 'id_card': {
        const record = await this.script.medium({ lookupHash, at, offline, deviceId, tapId });
        // Linked, and the chip's date of birth is the one the rider gave when linking: the account's.
        if (record.kind === 'id_card' && record.account !== '' && record.status !== 'replaced' && record.chk === this.keys.birthCheck(medium.number, medium.birthDate)) {
          return this.openAccount(record, record.status === 'active' ? '' : 'REVOKED', medium.kind, lookupHash, place, deviceId, tapId);
        }
        // Without an account: a rider of 60 or more on the tap's local day rides free.
        const elderly = ageOn(medium.birthDate, localDateAt(at)) >= ELDERLY_FROM_AGE;
        return {
          outcome: 'subject',
          kind: 'free',
          subjectId: lookupHash,
          riderCategory: elderly ? 'elderly' : 'adult',
          reason: elderly ? '' : 'NOT_COVERED',
          medium: { kind: medium.kind, ref: lookupHash },
        };
      }
    }
  }

  /**
   * What a card that opens an account rides on here: one of its passes, or its pay as you go at the
   * account's rider category of the tap's time (`…:a:<id>:rider`; a refused card: pay as you go, refused).
   */
  private async openAccount(record: MediumRecord, reason: string, kind: GateMedium['kind'], lookupHash: string, place: TapPlace, deviceId: string, tapId: string): Promise<MediumSubject> {
    const account = await this.script.account(record.account);
    const payg = accountSubject(record.account, riderCategoryAt(account.categories, place.at), reason, kind, lookupHash);
    if (reason !== '') return payg;
    const candidates = candidatePasses(account.passes, place);
    if (candidates.length === 0) return payg;
    const live = await this.script.passes(
      candidates.map((pass) => pass.ticketId),
      deviceId,
      tapId,
    );
    const chosen = choosePass(place, account.trip, live.passes, live.claimed);
    if (!chosen) return payg;
    return {
      outcome: 'subject',
      kind: 'pass',
      subjectId: chosen.ticketId,
      pass: { modes: chosen.state.modes.split(','), lineIds: chosen.state.lineIds === '' ? null : chosen.state.lineIds.split(',') },
      riderCategory: riderCategory(chosen.state.riderCategory),
      reason,
      medium: { kind, ref: lookupHash },
    };
  }
}

function accountSubject(accountId: string, category: string, reason: string, kind: GateMedium['kind'], lookupHash: string): MediumSubject {
  return { outcome: 'subject', kind: 'payg', subjectId: accountId, riderCategory: riderCategory(category), reason, medium: { kind, ref: lookupHash } };
}

function riderCategory(value: string): RiderCategory {
  return CATEGORY_SET.has(value) ? (value as RiderCategory) : 'adult';
}
