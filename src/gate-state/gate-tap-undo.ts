import { Inject, Injectable } from '@nestjs/common';
import { join } from 'node:path';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import { LuaScript } from '../redis/lua-script';
import { RedisService } from '../redis/redis.service';
import {
  GateKeys,
  OUTCOME_FIELDS,
  OUTCOME_SEPARATOR,
  RECORDED_ANSWER_ARG,
  TAP_UNDO_MARKER_SECONDS,
  TAP_BODY_SEPARATOR,
  UNDO_ARG,
  luaPrelude,
  tapUndoId,
  type OutcomeField,
  type SubjectKind,
  type TapEvent,
} from './gate-state';

/** A tap the record refused, and what the record holds for its (device, tap id). */
export interface RefusedTap {
  /** The tap's event as gate.lua appended it: what it changed. */
  event: TapEvent;
  /** The journey the tap closed is still open in the record: open it again at the gates. */
  reopenJourney: boolean;
  /** The tap the record holds under this (device, tap id): its body (tapBody) and its answer, field by field. */
  recorded: { body: string; answer: Readonly<Record<OutcomeField, string>> } | null;
}

/**
 * The port through which the tap recorder (validation) undoes, at the gates, a tap the record refused:
 * one whose (device, tap id) the record already held (another tap, or this one again after the tap
 * memory forgot it), which gate.lua, not knowing, applied. After the record's commit; undo-tap.lua gives
 * back its charge (balance and the spend of its day and week), removes the journey it opened while it is
 * still open, reopens the journey it closed when the record holds it open, and makes the tap memory say
 * what the record says. Once per application of gate.lua to a tap (a once-marker), however often it is sent.
 */
@Injectable()
export class GateTapUndo {
  private readonly script = LuaScript.fromFile(join(__dirname, 'undo-tap.lua'), luaPrelude());
  private readonly tapMemorySeconds: string;
  private readonly journeyLimitMs: string;

  constructor(
    private readonly redis: RedisService,
    private readonly keys: GateKeys,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.tapMemorySeconds = String(config.gate.tapMemorySeconds);
    this.journeyLimitMs = String(config.gate.journeyLimitMinutes * 60_000);
  }

  /** True when this call undid the tap, false when it had been undone before. */
  async undo(tap: RefusedTap): Promise<boolean> {
    const undone = (await this.script.run(this.redis.client, undoKeys(tap.event, this.keys), undoArguments(tap, this.tapMemorySeconds, this.journeyLimitMs))) === 1;
    if (tap.recorded) await this.rememberRecorded(tap.event, tap.recorded);
    return undone;
  }

  /**
   * The device's tap-id claim, and the tap memory of the recorded tap's own rider (another shard, maybe
   * another node: not in undo-tap.lua's slot), say what the record holds. Plain SETs: safe to repeat.
   */
  private async rememberRecorded(event: TapEvent, recorded: NonNullable<RefusedTap['recorded']>): Promise<void> {
    const [kind, subject] = recorded.body.split(':');
    const deviceId = event.dev ?? '';
    const tapId = event.tap ?? '';
    const answer = OUTCOME_FIELDS.map((field) => recorded.answer[field]).join(OUTCOME_SEPARATOR);
    const expiry = { expiration: { type: 'EX', value: Number(this.tapMemorySeconds) } } as const;
    await Promise.all([
      this.redis.client.set(this.keys.tapClaim(deviceId, tapId), recorded.body, expiry),
      this.redis.client.set(this.keys.tapMemory(kind as SubjectKind, subject, deviceId, tapId), recorded.body + TAP_BODY_SEPARATOR + answer, expiry),
    ]);
  }
}

const U = UNDO_ARG;

function undoKeys(event: TapEvent, keys: GateKeys): string[] {
  const kind = event.kind as SubjectKind;
  const subject = event.sub ?? '';
  const deviceId = event.dev ?? '';
  const tapId = event.tap ?? '';
  return [
    keys.subjectState(kind, subject),
    keys.trip(kind, subject),
    keys.tapMemory(kind, subject, deviceId, tapId),
    keys.spend(kind, subject),
    keys.openJourneys(keys.shardOfSubject(kind, subject)),
    keys.tapUndone(kind, subject, deviceId, tapId, tapUndoId(event)),
  ];
}

/** ARGV of undo-tap.lua, placed by gate-state.ts's UNDO_ARG positions. */
export function undoArguments({ event, reopenJourney, recorded }: RefusedTap, tapMemorySeconds: string, journeyLimitMs: string): string[] {
  const args = new Array<string>(RECORDED_ANSWER_ARG + OUTCOME_FIELDS.length);
  const closes = reopenJourney && event.dir === 'exit' && event.verdict === 'accept' && !!event.jid && event.tbit !== undefined;
  args[U.markerSeconds] = String(TAP_UNDO_MARKER_SECONDS);
  args[U.kind] = event.kind ?? '';
  args[U.subject] = event.sub ?? '';
  args[U.charge] = event.charge || '0';
  args[U.dayNumber] = event.sd ?? '';
  args[U.weekNumber] = event.sw ?? '';
  args[U.dayModes] = event.dm || '0';
  args[U.weekModes] = event.wm || '0';
  args[U.firstUse] = event.fu === '1' ? event.at : '';
  args[U.openedJourney] = event.tj ?? '';
  args[U.closedJourney] = closes ? (event.jid ?? '') : '';
  args[U.tripStation] = closes ? (event.jst ?? '') : '';
  args[U.tripLine] = closes ? (event.ln ?? '') : '';
  args[U.tripAt] = closes ? (event.jat ?? '') : '0';
  args[U.tripBit] = closes ? (event.tbit ?? '') : '';
  args[U.tripMax] = closes ? (event.tmax ?? '') : '';
  args[U.tripFull] = closes ? (event.tfull ?? '') : '';
  args[U.tripCategory] = closes ? (event.tcat ?? '') : '';
  args[U.payer] = event.pay ?? '';
  args[U.journeyLimitMs] = journeyLimitMs;
  args[U.tapMemorySeconds] = tapMemorySeconds;
  args[U.recordedBody] = recorded?.body ?? '';
  OUTCOME_FIELDS.forEach((field, index) => (args[RECORDED_ANSWER_ARG + index] = recorded?.answer[field] ?? ''));
  return args;
}
