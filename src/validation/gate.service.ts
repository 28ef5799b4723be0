import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { DomainError } from '../common/domain-error';
import { MODE_BITS, type FareCalculator } from '../fares/domain/fare-calculator';
import type { NetworkLine } from '../fares/domain/fare-model';
import { localDayNumber, localWeekNumber } from '../fares/domain/local-time';
import { FaresService } from '../fares/fares.service';
import type { RiderCategory } from '../fares/rider-category';
import { tapBody, type SubjectKind } from '../gate-state/gate-state';
import { GateScript, type GateCall, type PayAsYouGoFares } from '../gate-state/gate-script';
import { GateMedia, type MediumSubject } from '../media/gate-media';
import { TRANSPORT_MODES } from '../network/hanoi-network';
import { RecordedTaps, type RecordedTap } from './recorded-taps';
import { DynamicQrVerifier } from './dynamic-qr-verifier';
import { QrVerifier, type QrClaims } from './qr-verifier';
import type { TapInput } from './tap-input';

/** The device a tap comes from, as its token says. */
export interface GateDevice {
  id: string;
  lineId: string;
  /** Gates stand in a station; bus validators send the stop with each tap. */
  stationId?: string;
}

export interface TapVerdict {
  verdict: 'accept' | 'reject';
  reason: string;
  ticketId?: string;
  accountId?: string;
  /** Pay-as-you-go exits: what was charged. */
  fare?: number;
  /** Pay-as-you-go: the balance after the tap. */
  balance?: number;
  journeyId?: string;
  /** Offline uploads: false when the tap would have been refused online. */
  valid?: boolean;
}

interface IndexedStation {
  id: string;
  line: NetworkLine;
  positionM: number;
}

interface NetworkIndex {
  stations: Map<string, IndexedStation>;
  lines: Map<string, NetworkLine>;
}

/** What a tap's QR or medium stands for: the QR's signed claims, or what the medium resolved to. */
type SubjectClaims = Omit<QrClaims, 'kind'> & { readonly kind: SubjectKind };

interface TapSubject {
  claims: SubjectClaims;
  /** A refusal the medium decided ('' when none). */
  reason: string;
  medium?: MediumSubject['medium'];
  /** A bank card's token, sealed, for its journey. */
  cardToken?: string;
}

const INVALID_QR: TapVerdict = { verdict: 'reject', reason: 'INVALID_QR' };
const TAP_ID_REUSED = 'TAP_ID_REUSED';
/** gate.lua refuses a tap with this node reason before any other rule. */
const STALE_CODE = 'STALE_CODE';
/** Capping looks at the modes of the day as bits; these are all seven combinations. */
const MODE_COMBINATIONS = 7;

/**
 * Decides a tap: the QR's signature and its signed claims here, in memory; the ticket's or
 * account's state, the journey and the charge in one Lua script (gate.lua). No SQL.
 */
@Injectable()
export class GateService {
  private readonly indexes = new WeakMap<FareCalculator, NetworkIndex>();

  constructor(
    private readonly fares: FaresService,
    private readonly qr: QrVerifier,
    private readonly media: GateMedia,
    private readonly dynamicQr: DynamicQrVerifier,
    private readonly script: GateScript,
    private readonly recorded: RecordedTaps,
  ) {}

  /**
   * One tap. Online (`offline` false) it is judged at the server's time `now`, whatever the device's
   * clock says; an offline tap at its own time (the batch window was checked by parseBatch).
   */
  async validate(device: GateDevice, tap: TapInput, offline: boolean, now = Date.now()): Promise<TapVerdict> {
    const calculator = this.fares.calculator();
    const network = this.networkOf(calculator);
    const station = this.stationOf(device, tap, network);
    const stationId = station.id;
    const line = station.line;
    const at = offline && tap.occurredAt !== undefined ? tap.occurredAt : now;

    let subject: TapSubject;
    if (tap.medium) {
      const resolved = await this.media.resolve(tap.medium, { direction: tap.direction, lineId: line.id, mode: line.mode, at }, offline, device.id, tap.tapId);
      if (resolved.outcome === 'refused') return { verdict: 'reject', reason: resolved.reason };
      subject = { claims: mediumClaims(resolved), reason: resolved.reason, medium: resolved.medium, ...(resolved.cardToken !== undefined && { cardToken: resolved.cardToken }) };
    } else {
      const checked = this.check(tap.qr, at);
      if (!checked) return INVALID_QR;
      subject = { claims: checked.claims, reason: checked.stale ? STALE_CODE : '' };
      // The app's dynamic QR: its virtual card must still be the account's active medium.
      if (checked.mediumId !== undefined) {
        const app = await this.media.appReason(checked.mediumId, checked.claims.sub, at, offline, device.id, tap.tapId);
        subject = { ...subject, reason: subject.reason || app.reason, medium: app.medium };
      }
    }
    const claims = subject.claims;
    const call: GateCall = {
      at,
      direction: tap.direction,
      kind: claims.kind,
      subjectId: claims.sub,
      nodeReason:
        subject.reason || (tap.direction === 'entry' ? entryReason(claims, line, station, network, calculator, at) : exitReason(claims, station, network)),
      deviceId: device.id,
      tapId: tap.tapId,
      stationId,
      lineId: line.id,
      modeBit: MODE_BITS[line.mode],
      journeyId: tap.direction === 'entry' ? randomUUID() : '',
      offline,
      riderCategory: claims.riderCategory,
      ...(subject.medium && { medium: subject.medium }),
    };
    if (subject.cardToken !== undefined) call.cardToken = subject.cardToken;
    if (tap.medium?.kind === 'transit_card') call.mediumCounter = tap.medium.counter;
    if (claims.kind === 'payg' || claims.kind === 'bank_card') call.fares = payAsYouGoFares(calculator, line, stationId, tap.direction, claims.riderCategory, at);
    const outcome = await this.script.run(call);
    if (outcome.reason === TAP_ID_REUSED) return { verdict: 'reject', reason: TAP_ID_REUSED };

    const verdict: TapVerdict = { verdict: outcome.verdict, reason: outcome.reason };
    if (claims.kind === 'payg') {
      verdict.accountId = claims.sub;
      if (outcome.balance !== null) verdict.balance = outcome.balance;
      if (outcome.verdict === 'accept' && tap.direction === 'exit') verdict.fare = outcome.charge;
    } else if (claims.kind === 'bank_card') {
      if (outcome.verdict === 'accept' && tap.direction === 'exit') verdict.fare = outcome.charge;
    } else if (claims.kind !== 'free') {
      verdict.ticketId = claims.sub;
    }
    if (outcome.journeyId !== null) verdict.journeyId = outcome.journeyId;
    if (offline) verdict.valid = outcome.valid;
    return verdict;
  }

  /**
   * Taps a validator accepted offline, applied one after the other in the device's order with their
   * own times. Every station is checked before any tap is applied, so a malformed batch changes nothing.
   * A tap Postgres already holds (its tap memory in Redis may be gone: batches reach back further)
   * is answered from the record and changes nothing: its first verdict for the same body,
   * TAP_ID_REUSED for another.
   */
  async validateOffline(device: GateDevice, taps: readonly TapInput[]): Promise<Array<TapVerdict & { tapId: string }>> {
    for (const tap of taps) this.stationOf(device, tap);
    const recorded = await this.recorded.find(device.id, taps.map((tap) => tap.tapId));
    const results: Array<TapVerdict & { tapId: string }> = [];
    for (const tap of taps) {
      const record = recorded.get(tap.tapId);
      results.push({ tapId: tap.tapId, ...(record ? this.fromRecord(device, tap, record) : await this.validate(device, tap, true)) });
    }
    return results;
  }

  /** The verdict a recorded tap got, or TAP_ID_REUSED for another body. */
  private fromRecord(device: GateDevice, tap: TapInput, record: RecordedTap): TapVerdict {
    const station = this.stationOf(device, tap);
    if (!this.sameTap(tap, station.id, record)) return { verdict: 'reject', reason: TAP_ID_REUSED };
    const verdict: TapVerdict = { verdict: record.verdict, reason: record.reason };
    if (record.subjectKind === 'payg') {
      if (record.accountId !== null) verdict.accountId = record.accountId;
      if (record.balance !== null) verdict.balance = record.balance;
      if (record.verdict === 'accept' && tap.direction === 'exit') verdict.fare = record.charge;
    } else if (record.subjectKind !== 'free' && !tap.medium) {
      const checked = this.check(tap.qr, tap.occurredAt!);
      if (checked) verdict.ticketId = checked.claims.sub;
    }
    if (record.journeyId !== null) verdict.journeyId = record.journeyId;
    verdict.valid = record.valid;
    return verdict;
  }

  /** Whether a tap is the one Postgres recorded under its id: the same QR subject, or the same medium, at the same place and direction. */
  private sameTap(tap: TapInput, stationId: string, record: RecordedTap): boolean {
    if (tap.medium) return record.mediumRef === this.media.lookupHashOf(tap.medium) && record.direction === tap.direction && record.stationId === stationId;
    const checked = this.check(tap.qr, tap.occurredAt!);
    const mediumRef = checked?.mediumId === undefined ? '' : this.media.appLookupHash(checked.mediumId);
    return checked !== undefined && tapBody(checked.claims.kind, checked.claims.sub, tap.direction, stationId, mediumRef) === record.body;
  }


  /**
   * The QR's signed claims, or undefined (INVALID_QR): a ticket's or account's token, or the app's
   * dynamic code (DYNAMIC_QR_PREFIX), whose step is judged at the tap's time `at` (stale: STALE_CODE).
   */
  private check(qr: string, at: number): { claims: QrClaims; stale: boolean; mediumId?: string } | undefined {
    if (DynamicQrVerifier.isDynamic(qr)) {
      const dynamic = this.dynamicQr.check(qr, at);
      return dynamic.ok ? { claims: dynamic.claims, stale: dynamic.stale, mediumId: dynamic.claims.mediumId } : undefined;
    }
    const checked = this.qr.check(qr);
    if (!checked.ok) return undefined;
    // An account's QR after its rider category ended (a concession's end): adult fares.
    const claims = checked.claims.categoryEndsAt !== undefined && at >= checked.claims.categoryEndsAt ? { ...checked.claims, riderCategory: 'adult' as const } : checked.claims;
    return { claims, stale: false };
  }

  /** The mode bit of a line (0 for a line the fare data does not know). */
  modeBitOf(lineId: string): number {
    const line = this.networkOf(this.fares.calculator()).lines.get(lineId);
    return line ? MODE_BITS[line.mode] : 0;
  }

  /** Where the tap happened: the gate's station, or the stop a bus validator sent (400 when it is not on the device's line). */
  stationOf(device: GateDevice, tap: TapInput, network = this.networkOf(this.fares.calculator())): IndexedStation {
    const stationId = device.stationId ?? tap.stationId;
    if (stationId === undefined) throw invalidTap('stationId', 'is required from a bus validator');
    const station = network.stations.get(stationId);
    if (!station || station.line.id !== device.lineId) throw invalidTap('stationId', `is not a station of line ${device.lineId}`);
    return station;
  }

  /** The fare data a sweeper needs to close a pay-as-you-go journey left open on a line. */
  timeoutFares(lineId: string, riderCategory: RiderCategory, at: number): PayAsYouGoFares | undefined {
    const calculator = this.fares.calculator();
    const line = this.networkOf(calculator).lines.get(lineId);
    if (!line) return undefined;
    return payAsYouGoFares(calculator, line, line.stations[0].id, 'entry', riderCategory, at);
  }

  private networkOf(calculator: FareCalculator): NetworkIndex {
    let index = this.indexes.get(calculator);
    if (!index) {
      index = { stations: new Map(), lines: new Map() };
      for (const line of calculator.snapshot.lines) {
        index.lines.set(line.id, line);
        for (const station of line.stations) index.stations.set(station.id, { id: station.id, line, positionM: station.positionM });
      }
      this.indexes.set(calculator, index);
    }
    return index;
  }
}

/**
 * A medium's subject as claims: a pass on its modes and lines, or an account's pay as you go or a free
 * ride on every mode and line; without an end (a pass's window is its state's, checked by gate.lua).
 */
function mediumClaims(subject: MediumSubject): SubjectClaims {
  return {
    sub: subject.subjectId,
    kind: subject.kind,
    riderCategory: subject.riderCategory,
    modes: (subject.pass?.modes as QrClaims['modes'] | undefined) ?? TRANSPORT_MODES,
    lineIds: subject.pass?.lineIds ?? null,
    originStationId: null,
    destinationStationId: null,
    notBefore: 0,
    expiresAt: Number.MAX_SAFE_INTEGER,
  };
}

/** What the signed QR (or the medium) alone says against an entry here, or ''. */
function entryReason(claims: SubjectClaims, line: NetworkLine, station: IndexedStation, network: NetworkIndex, calculator: FareCalculator, at: number): string {
  if (!claims.modes.includes(line.mode) || (claims.lineIds !== null && !claims.lineIds.includes(line.id))) return 'NOT_COVERED';
  if ((claims.kind === 'payg' || claims.kind === 'bank_card') && !calculator.coversLine(line.id, at)) return 'NOT_COVERED';
  if (claims.kind === 'single' && !withinPaidTrip(claims, station, network)) return 'NOT_COVERED';
  if (claims.expiresAt <= at) return 'EXPIRED';
  if (claims.notBefore > at) return 'NOT_YET_VALID';
  return '';
}

/** A single trip's exit outside the stations it was paid between is UNDERPAID. */
function exitReason(claims: SubjectClaims, station: IndexedStation, network: NetworkIndex): string {
  return claims.kind === 'single' && !withinPaidTrip(claims, station, network) ? 'UNDERPAID' : '';
}

function withinPaidTrip(claims: SubjectClaims, station: IndexedStation, network: NetworkIndex): boolean {
  const origin = network.stations.get(claims.originStationId!);
  const destination = network.stations.get(claims.destinationStationId!);
  if (!origin || !destination || origin.line !== station.line) return false;
  const low = Math.min(origin.positionM, destination.positionM);
  const high = Math.max(origin.positionM, destination.positionM);
  return station.positionM >= low && station.positionM <= high;
}

/** A line the fare table does not price costs nothing (its entries are refused as NOT_COVERED). */
function payAsYouGoFares(calculator: FareCalculator, line: NetworkLine, stationId: string, direction: 'entry' | 'exit', riderCategory: RiderCategory, at: number): PayAsYouGoFares {
  const priced = calculator.coversLine(line.id, at);
  const maximum = priced ? calculator.maximumFare(line.id, riderCategory, at) : { amount: 0, fullAmount: 0 };
  const dayCaps: number[] = [-1];
  const weekCaps: number[] = [-1];
  for (let bits = 1; bits <= MODE_COMBINATIONS; bits++) {
    dayCaps.push(calculator.capFor('day', bits, riderCategory, at) ?? -1);
    weekCaps.push(calculator.capFor('week', bits, riderCategory, at) ?? -1);
  }
  const faresToHere: string[] = [];
  if (direction === 'exit' && priced) {
    for (const entry of line.stations) {
      const quote = calculator.quote(line.id, entry.id, stationId, riderCategory, at);
      faresToHere.push(entry.id, String(quote.amount), String(quote.fullAmount));
    }
  }
  return {
    dayNumber: localDayNumber(at),
    weekNumber: localWeekNumber(at),
    maxFare: maximum.amount,
    maxFullFare: maximum.fullAmount,
    dayCaps,
    weekCaps,
    faresToHere,
  };
}

function invalidTap(field: string, problem: string): DomainError {
  return new DomainError('invalid', 'VALIDATION_FAILED', `The tap is malformed: ${field} ${problem}`, [{ field, problem }]);
}
