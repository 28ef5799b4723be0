import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { CardCharges } from '../../src/bank-cards/card-charges';
import { CardTokens } from '../../src/bank-cards/card-tokens';
import { localDateAt, localDayNumber, localDayStartMs } from '../../src/fares/domain/local-time';
import type { DailyStatement } from '../../src/settlement/statement';
import type { CardReconciliationDto } from '../../src/bank-cards/bank-cards.dto';
import type { TapVerdict } from '../../src/validation/gate.service';
import { TapPersister } from '../../src/validation/tap-persister';
import { bearerFor, testAccount } from '../support/auth';
import { gateAt, type GateDevice } from '../support/gate';
import { cardJourney, cardToken } from '../support/bank-cards';
import { expectError, useTestApp } from '../support/http';
import { expectLedgerBalanced } from '../support/money';
import { createSettlementDatabase } from '../support/settlement';

/**
 * A day of bank-card journeys in the daily statement (issue 19), in a database of its own: a statement
 * sums the whole day. Fares collected are the operators' revenue; declined and not yet charged fares
 * are revenue at risk; a debt recovered later is an adjustment of the day it is recovered.
 */
describe('bank cards in the daily settlement (e2e)', () => {
  const database: { url?: string } = {};
  beforeAll(async () => {
    database.url = await createSettlementDatabase();
  });
  const { app, http } = useTestApp({
    get DATABASE_URL() {
      return database.url!;
    },
    GATE_TAP_STREAM: `gate:taps:card-settlement-${randomUUID()}`,
    GATE_REBUILD_ON_EMPTY_REDIS: 'false',
    ACQUIRER_SETTLEMENT_DIR: mkdtempSync(join(tmpdir(), 'acquirer-')),
  });
  const today = localDateAt(Date.now());
  const yesterdayStart = localDayStartMs(localDayNumber(Date.now()) - 1);
  const yesterday = localDateAt(yesterdayStart);
  const at = (hour: number) => yesterdayStart + hour * 3_600_000;
  let admin: string;
  let operatorOf: Record<string, string>;

  beforeAll(async () => {
    admin = (await testAccount(app(), 'admin')).bearer;
    const lines = await app().get(DataSource).query<Array<{ id: string; operator_id: string }>>(`SELECT id, operator_id FROM lines WHERE id IN ('metro-2a', 'bus-32')`);
    operatorOf = Object.fromEntries(lines.map((line) => [line.id, line.operator_id]));
  });

  const statementOf = async (date: string): Promise<DailyStatement> => (await http().get('/v1/settlements/daily').query({ date }).set('Authorization', admin).expect(200)).body as DailyStatement;

  it('a day of card journeys on two operators settles to the đồng: collected, declined, not charged; a recovered debt is an adjustment of the day it comes', async () => {
    const paying = cardToken();
    const declining = cardToken('tok_decline_1');
    await cardJourney(app(), paying, 'metro-2a', '2a-cat-linh', '2a-lang', at(8), 12_000);
    await cardJourney(app(), paying, 'bus-32', '32-ben-xe-giap-bat', '32-xa-dan', at(9), 8_000);
    await cardJourney(app(), declining, 'metro-2a', '2a-cat-linh', '2a-ha-dong', at(10), 10_000);
    await app().get(CardCharges).run();
    // A journey uploaded after the day's charge: not charged yet.
    await cardJourney(app(), cardToken(), 'bus-32', '32-ben-xe-giap-bat', '32-xa-dan', at(11), 7_000);

    const day = await statementOf(yesterday);
    const metro = operatorOf['metro-2a'];
    const bus = operatorOf['bus-32'];
    expect(day.check.balanced).toBe(true);
    expect(day.revenue).toMatchObject({ bankCards: 20_000, total: 20_000 });
    expect(day.bankCards).toEqual([
      { operatorId: bus, lineId: 'bus-32', journeys: 2, fares: 15_000, collected: 8_000, declined: 0, notCharged: 7_000, declinedJourneys: 0, notChargedJourneys: 1 },
      { operatorId: metro, lineId: 'metro-2a', journeys: 2, fares: 22_000, collected: 12_000, declined: 10_000, notCharged: 0, declinedJourneys: 1, notChargedJourneys: 0 },
    ].sort((a, b) => a.operatorId.localeCompare(b.operatorId)));
    expect(day.operators.map(({ operatorId, bankCards, total }) => ({ operatorId, bankCards, total }))).toEqual(
      expect.arrayContaining([
        { operatorId: metro, bankCards: 12_000, total: 12_000 },
        { operatorId: bus, bankCards: 8_000, total: 8_000 },
      ]),
    );
    expect(day.revenueAtRisk).toEqual(
      expect.arrayContaining([
        { operatorId: metro, lineId: 'metro-2a', reason: 'CARD_DECLINED', taps: 1, fareAtRisk: 10_000 },
        { operatorId: bus, lineId: 'bus-32', reason: 'CARD_NOT_CHARGED', taps: 1, fareAtRisk: 7_000 },
      ]),
    );
    const closed = (await http().post(`/v1/settlements/daily/${yesterday}/close`).set('Authorization', admin).expect(200)).body as DailyStatement;
    expect(closed.check).toMatchObject({ revenue: 20_000, allocated: 20_000, balanced: true });

    // The rider links the declined card and pays its debt today: an adjustment of today, naming yesterday.
    const rider = await testAccount(app(), 'passenger');
    await http().post('/v1/me/media').set('Authorization', rider.bearer).send({ kind: 'bank_card', token: declining }).expect(201);
    const [debt] = (await http().get('/v1/me/debts').set('Authorization', rider.bearer).expect(200)).body as Array<{ id: string }>;
    await http().post(`/v1/me/debts/${debt.id}/pay`).set('Authorization', rider.bearer).set('Idempotency-Key', randomUUID()).expect(200);
    const now = await statementOf(today);
    expect(now.adjustments).toEqual([{ belongsTo: yesterday, operatorId: metro, amount: 10_000, reason: 'recovered_card_debt' }]);
    expect(now.operators).toEqual([expect.objectContaining({ operatorId: metro, adjustments: 10_000, total: 10_000 })]);
    expect(now.check).toEqual({ revenue: 0, adjustments: 10_000, allocated: 10_000, unallocated: 0, balanced: true });
    // Yesterday is frozen as it was: the debt stays revenue at risk of its own day.
    expect(await statementOf(yesterday)).toEqual(closed);
    const csv = (await http().get('/v1/settlements/daily.csv').query({ date: today }).set('Authorization', admin).expect(200)).text;
    expect(csv).toContain(`adjustment,${metro},,,,recovered_card_debt,,${yesterday},,10000`);
    for (const token of [paying, declining]) expect(JSON.stringify([day, now]) + csv).not.toContain(token);
    await expectLedgerBalanced(app());
  });

  const reconciliation = async (date: string, bearer = admin, operatorId?: string) =>
    (await http().get('/v1/bank-cards/reconciliation').query({ date, ...(operatorId && { operatorId }) }).set('Authorization', bearer).expect(200)).body as CardReconciliationDto;

  it("a day of card taps reconciles three ways, taps ↔ charges ↔ the acquirer's file, and every mismatch is listed", async () => {
    const dayStart = localDayStartMs(localDayNumber(Date.now()) - 2);
    const date = localDateAt(dayStart);
    const [metroIn, metroOut, bus] = await Promise.all([gateAt(app(), 'metro-2a', '2a-cat-linh'), gateAt(app(), 'metro-2a', '2a-lang'), gateAt(app(), 'bus-32', null)]);
    const upload = async (device: GateDevice, token: string, body: object, tapId = randomUUID()) => {
      const response = await http().post('/v1/validations/batch').set('Authorization', device.bearer).send({ taps: [{ tapId, medium: { kind: 'bank_card', token }, ...body }] }).expect(200);
      return { tapId, ...(response.body as { results: TapVerdict[] }).results[0] };
    };
    const iso = (ms: number) => new Date(ms).toISOString();
    const tokens = [cardToken(), cardToken(), cardToken('tok_decline')];
    const exits: Array<{ tapId: string; fare: number; token: string; device: GateDevice; journeyId: string }> = [];
    for (const [index, token] of tokens.entries()) {
      const t = dayStart + (7 + 3 * index) * 3_600_000;
      await upload(metroIn, token, { direction: 'entry', occurredAt: iso(t) });
      const metroExit = await upload(metroOut, token, { direction: 'exit', occurredAt: iso(t + 20 * 60_000) });
      await upload(bus, token, { direction: 'entry', stationId: '32-ben-xe-giap-bat', occurredAt: iso(t + 60 * 60_000) });
      const busExit = await upload(bus, token, { direction: 'exit', stationId: '32-xa-dan', occurredAt: iso(t + 80 * 60_000) });
      exits.push({ ...metroExit, fare: metroExit.fare!, token, device: metroOut, journeyId: metroExit.journeyId! }, { ...busExit, fare: busExit.fare!, token, device: bus, journeyId: busExit.journeyId! });
    }
    await app().get(TapPersister).drain();
    await app().get(CardCharges).run();
    const fares = exits.reduce((sum, exit) => sum + exit.fare, 0);
    const declined = exits.filter((exit) => exit.token === tokens[2]).reduce((sum, exit) => sum + exit.fare, 0);
    expect(fares).toBeGreaterThan(0);

    const day = await reconciliation(date);
    expect(day).toMatchObject({
      date,
      acquirer: 'dev',
      balanced: true,
      mismatches: [],
      taps: { exits: 6, charged: fares, timedOutJourneys: 0, timedOutCharged: 0 },
      journeys: { count: 6, fares, inCharges: fares },
      charges: { count: 3, amount: fares, captured: fares - declined, declined, open: 0 },
    });
    // The charges were captured today: today's captures against the acquirer's file of today.
    const today_ = await reconciliation(today);
    expect(today_).toMatchObject({ balanced: true, mismatches: [] });
    expect(today_.settlement.captured).toBe(today_.settlement.fileTotal);
    expect(today_.settlement.captured).toBeGreaterThanOrEqual(fares - declined);
    // The statement of the day settles the same taps to the đồng.
    const statement = await statementOf(date);
    expect(statement.check.balanced).toBe(true);
    expect(statement.revenue.bankCards).toBe(fares - declined);
    expect(statement.revenueAtRisk.filter((row) => row.reason === 'CARD_DECLINED').reduce((sum, row) => sum + row.fareAtRisk, 0)).toBe(declined);

    // An operator's staff see their own lines; another operator's figures are 403.
    const busOperator = operatorOf['bus-32'];
    const busStaff = await bearerFor(app(), 'operator', { operatorId: busOperator });
    const own = await reconciliation(date, busStaff);
    expect(own).toMatchObject({ operatorId: busOperator, balanced: true, journeys: { count: 3 }, charges: { count: 3 } });
    expectError(await http().get('/v1/bank-cards/reconciliation').query({ date, operatorId: operatorOf['metro-2a'] }).set('Authorization', busStaff), 403, 'OPERATOR_SCOPE');
    expectError(await http().get('/v1/bank-cards/reconciliation').query({ date: '2026-02-30' }).set('Authorization', admin), 400, 'VALIDATION_FAILED');

    // Disagreements, each listed with its code: a tap whose charge differs from its journey's, a capture the
    // acquirer filed under another reference, and a payout in the file that names no charge of ours.
    const db = app().get(DataSource);
    const tampered = exits[0];
    await db.query(`UPDATE taps SET charge = charge + 1 WHERE device_id = $1 AND tap_id = $2`, [tampered.device.deviceId, tampered.tapId]);
    const [capture] = await db.query<Array<{ id: string }>>(`SELECT c.id FROM bank_card_charges c WHERE c.status = 'captured' AND c.card_id = $1`, [app().get(CardTokens).idOf(tokens[1])]);
    await db.query(`UPDATE bank_card_charges SET acquirer_reference = 'acq_ours' WHERE id = $1`, [capture.id]);
    const stranger = randomUUID();
    await db.query(
      `INSERT INTO dev_acquirer_operations (idempotency_key, operation, card_ref, merchant_reference, amount, outcome, acquirer_reference) VALUES ($1, 'capture', 'x', $2, 5000, 'approved', 'acq_stranger')`,
      [randomUUID(), stranger],
    );
    expect((await reconciliation(date)).mismatches).toEqual([
      { code: 'TAP_FARE_MISMATCH', journeyId: tampered.journeyId, cardId: app().get(CardTokens).idOf(tampered.token), deviceId: tampered.device.deviceId, tapId: tampered.tapId, expected: tampered.fare, found: tampered.fare + 1 },
    ]);
    const mismatches = (await reconciliation(today)).mismatches;
    expect(mismatches).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'FILE_REFERENCE_MISMATCH', chargeId: capture.id }),
        expect.objectContaining({ code: 'FILE_LINE_UNKNOWN', chargeId: stranger, acquirerReference: 'acq_stranger', found: 5000 }),
      ]),
    );
    expect(mismatches).toHaveLength(2);
    for (const token of tokens) expect(JSON.stringify([day, today_, own, mismatches])).not.toContain(token);
  });
});
