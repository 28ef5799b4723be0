import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataSource } from 'typeorm';
import { CardCharges } from '../../src/bank-cards/card-charges';
import { localDateAt, localDayNumber, localDayStartMs } from '../../src/fares/domain/local-time';
import type { DailyStatement } from '../../src/settlement/statement';
import { testAccount } from '../support/auth';
import { cardJourney, cardToken } from '../support/bank-cards';
import { useTestApp } from '../support/http';
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
});
