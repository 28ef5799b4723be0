import { AuditLog } from '../../src/audit/audit-log';
import { DataSource } from 'typeorm';
import type { AuthUser } from '../../src/common/auth-user';
import { DomainError } from '../../src/common/domain-error';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { passDayPart } from '../../src/settlement/domain/allocation';
import { SettlementService, statementHash } from '../../src/settlement/settlement.service';
import type { DailyStatement } from '../../src/settlement/statement';
import { createPassProduct, createSettlementDatabase, createSettlementNetwork, ensureGatePartitions, insertJourney, insertTap, insertTickets, localTime, type SettlementNetwork } from '../support/settlement';

/**
 * The statement SQL on real Postgres, in a database of this file's own. Taps and journeys are written
 * straight into the gate path's tables; each test has its own network, products and dates.
 */
describe('daily settlement statements in Postgres', () => {
  let db: DataSource;
  let settlement: SettlementService;
  const admin: AuthUser = { id: 'settlement-test-admin', role: 'admin' };

  beforeAll(async () => {
    db = await new DataSource(dataSourceOptions({ database: { url: await createSettlementDatabase(), poolSize: 4, migrateOnStart: false } })).initialize();
    settlement = new SettlementService(db, new AuditLog(db));
  });
  afterAll(async () => {
    await db?.destroy();
  });

  const ownLines = (net: SettlementNetwork) => {
    const own = new Set([net.metroOperator, net.busOperator]);
    return <T extends { operatorId: string | null }>(rows: readonly T[]) => rows.filter((row) => row.operatorId !== null && own.has(row.operatorId));
  };

  it('settles a day of sales, passes and taps to hand-computed figures, and balances', async () => {
    const date = '2026-07-10';
    const net = await createSettlementNetwork(db);
    for (const day of ['2026-07-09', date]) await ensureGatePartitions(db, day);
    const both = [net.metroLine, net.busLine];
    const byKm = await createPassProduct(db, { lineIds: both, price: 300_007, validityDays: 30, key: 'passenger_km' });
    const metroOnly = await createPassProduct(db, { lineIds: [net.metroLine], price: 100_000, validityDays: 7, key: 'trips' });
    const unusedToday = await createPassProduct(db, { lineIds: both, price: 70_000, validityDays: 7, key: 'trips' });

    const [single] = await insertTickets(db, [
      { productId: 'metro-single', kind: 'single', price: 8_595, issuedAt: localTime(date, '09:00'), modes: ['metro'], originStationId: net.metro[0], destinationStationId: net.metro[1] },
      {
        productId: 'metro-single',
        kind: 'single',
        price: 10_000,
        issuedAt: localTime(date, '10:00'),
        refundedAt: localTime(date, '11:00'),
        modes: ['metro'],
        originStationId: net.metro[0],
        destinationStationId: net.metro[2],
      },
    ]);
    expect(single).toBeDefined();
    const [passKm] = await insertTickets(db, [
      { productId: byKm, kind: 'pass', price: 300_007, issuedAt: localTime(date, '08:00'), lineIds: both, validityDays: 30, validFrom: localTime(date, '00:00'), validUntil: localTime('2026-08-09', '00:00') },
    ]);
    const [passMetro] = await insertTickets(db, [
      { productId: metroOnly, kind: 'pass', price: 100_000, issuedAt: localTime('2026-07-08', '07:00'), lineIds: [net.metroLine], validityDays: 7, validFrom: localTime('2026-07-08', '00:00'), validUntil: localTime('2026-07-15', '00:00') },
    ]);
    const [passUnused] = await insertTickets(db, [
      { productId: unusedToday, kind: 'pass', price: 70_000, issuedAt: localTime('2026-07-09', '06:00'), lineIds: both, validityDays: 7, firstUseBy: localTime('2026-07-30', '00:00') },
    ]);
    // Its first use, the day before: a first-use pass starts there, and today is its day 1.
    await insertJourney(db, { subjectKind: 'pass', ticketId: passUnused, lineId: net.busLine, entryStationId: net.bus[0], exitStationId: net.bus[1], enteredAt: localTime('2026-07-09', '08:00'), exitedAt: localTime('2026-07-09', '08:20') });

    await insertJourney(db, { subjectKind: 'pass', ticketId: passKm, lineId: net.metroLine, entryStationId: net.metro[0], exitStationId: net.metro[3], enteredAt: localTime(date, '08:30'), exitedAt: localTime(date, '09:00') });
    await insertJourney(db, { subjectKind: 'pass', ticketId: passKm, lineId: net.busLine, entryStationId: net.bus[0], exitStationId: net.bus[2], enteredAt: localTime(date, '09:10'), exitedAt: localTime(date, '09:40') });
    await insertJourney(db, { subjectKind: 'pass', ticketId: passMetro, lineId: net.metroLine, entryStationId: net.metro[1], exitStationId: net.metro[2], enteredAt: localTime(date, '12:00'), exitedAt: localTime(date, '12:10') });
    await insertJourney(db, { subjectKind: 'payg', lineId: net.busLine, entryStationId: net.bus[0], exitStationId: net.bus[1], enteredAt: localTime(date, '13:00'), exitedAt: localTime(date, '13:15'), fare: 8_000, charge: 8_000, unpaid: 1_000 });
    await insertJourney(db, { subjectKind: 'payg', lineId: net.metroLine, entryStationId: net.metro[1], enteredAt: localTime(date, '14:00'), status: 'timed_out', fare: 18_625, charge: 18_625 });
    await insertJourney(db, { subjectKind: 'payg', riderCategory: 'elderly', lineId: net.busLine, entryStationId: net.bus[0], exitStationId: net.bus[2], enteredAt: localTime(date, '15:00'), exitedAt: localTime(date, '15:30') });
    await insertTap(db, { deviceId: 'st-gate', direction: 'entry', at: localTime(date, '16:00'), stationId: net.metro[0], journey: { subjectKind: 'single', ticketId: single, lineId: net.metroLine }, verdict: 'reject', reason: 'EXPIRED' });
    await insertTap(db, {
      deviceId: 'st-bus',
      direction: 'exit',
      at: localTime(date, '17:00'),
      stationId: net.bus[1],
      journey: { subjectKind: 'payg', lineId: net.busLine },
      reason: 'REVOKED',
      valid: false,
      offline: true,
      fare: 8_000,
    });

    const statement = await settlement.statement(admin, date, undefined);
    const own = ownLines(net);
    // Pass day parts: 300,007 / 30 → 10,001 on day 0; 100,000 / 7 → 14,286 on day 2; 70,000 / 7 → 10,000.
    // 10,001 by passenger-km, 12.5 km metro and 5.1 km bus: 7,103.07 and 2,897.93 → 7,103 and 2,898.
    expect(own(statement.operators)).toEqual([
      { operatorId: net.busOperator, singleTickets: 0, passes: 0, payAsYouGo: 7_000, bankCards: 0, passAllocation: 2_898, adjustments: 0, total: 9_898 },
      { operatorId: net.metroOperator, singleTickets: 8_595, passes: 14_286, payAsYouGo: 18_625, bankCards: 0, passAllocation: 7_103, adjustments: 0, total: 48_609 },
    ]);
    expect(statement.passAllocation.find((pool) => pool.productId === byKm)).toEqual({
      productId: byKm,
      allocationKey: expect.objectContaining({ key: 'passenger_km', source: 'table' }),
      appliedKey: 'passenger_km',
      passesUsed: 1,
      amount: 10_001,
      operators: [
        { operatorId: net.busOperator, trips: 1, passengerKm: 5.1, weight: 5_100, amount: 2_898 },
        { operatorId: net.metroOperator, trips: 1, passengerKm: 12.5, weight: 12_500, amount: 7_103 },
      ],
      unallocated: 0,
    });
    expect(statement.directPasses.filter((row) => row.productId === metroOnly)).toEqual([{ productId: metroOnly, operatorId: net.metroOperator, passes: 1, amount: 14_286 }]);
    expect(statement.unallocated.unusedPasses.filter((row) => row.productId === unusedToday)).toEqual([{ productId: unusedToday, passes: 1, amount: 10_000 }]);
    expect(own(statement.sales)).toEqual([
      { productId: 'metro-single', riderCategory: 'adult', kind: 'single', operatorId: net.metroOperator, count: 2, amount: 18_595 },
    ]);
    expect(own(statement.refunds)).toEqual([{ productId: 'metro-single', riderCategory: 'adult', kind: 'single', operatorId: net.metroOperator, count: 1, amount: 10_000 }]);
    expect(own(statement.payAsYouGo)).toEqual([
      { operatorId: net.busOperator, lineId: net.busLine, journeys: 2, charged: 8_000, unpaid: 1_000, collected: 7_000 },
      { operatorId: net.metroOperator, lineId: net.metroLine, journeys: 1, charged: 18_625, unpaid: 0, collected: 18_625 },
    ]);
    expect(own(statement.freeRides)).toEqual([{ operatorId: net.busOperator, lineId: net.busLine, mediumKind: 'qr', rides: 1, passengerKm: 5.1 }]);
    expect(own(statement.maximumFareJourneys)).toEqual([{ operatorId: net.metroOperator, lineId: net.metroLine, subjectKind: 'payg', journeys: 1, charged: 18_625 }]);
    expect(own(statement.rejectedTaps)).toEqual([{ operatorId: net.metroOperator, lineId: net.metroLine, reason: 'EXPIRED', taps: 1 }]);
    expect(own(statement.revenueAtRisk)).toEqual([{ operatorId: net.busOperator, lineId: net.busLine, reason: 'REVOKED', taps: 1, fareAtRisk: 8_000 }]);
    expect(statement.check.balanced).toBe(true);
    expect(statement.check.revenue + statement.check.adjustments).toBe(statement.check.allocated + statement.check.unallocated);

    // An open day recomputed from the same record gives the same figures.
    expect(await settlement.statement(admin, date, undefined)).toEqual(statement);
  });

  it('computes the same day parts in SQL as the allocation domain, over a whole validity', async () => {
    const net = await createSettlementNetwork(db);
    const product = await createPassProduct(db, { lineIds: [net.metroLine, net.busLine], price: 500_009, validityDays: 30, key: 'trips' });
    await insertTickets(db, [
      { productId: product, kind: 'pass', price: 500_009, issuedAt: localTime('2026-09-01', '07:00'), lineIds: [net.metroLine, net.busLine], validityDays: 30, validFrom: localTime('2026-09-01', '00:00'), validUntil: localTime('2026-10-01', '00:00') },
    ]);
    const parts: number[] = [];
    for (let day = 0; day < 31; day++) {
      const date = new Date(Date.UTC(2026, 8, 1 + day)).toISOString().slice(0, 10);
      const statement = await settlement.statement(admin, date, undefined);
      parts.push(statement.unallocated.unusedPasses.find((row) => row.productId === product)?.amount ?? 0);
      expect(statement.check.balanced).toBe(true);
    }
    expect(parts).toEqual(Array.from({ length: 31 }, (_, day) => passDayPart(500_009, 30, day)));
    expect(parts.reduce((a, b) => a + b)).toBe(500_009);
  });

  it('freezes a closed day and lands late events in the next open day as adjustments', async () => {
    const [day1, day2, day3] = ['2026-10-05', '2026-10-06', '2026-10-07'];
    const net = await createSettlementNetwork(db);
    for (const day of [day1, day2, day3]) await ensureGatePartitions(db, day);
    const product = await createPassProduct(db, { lineIds: [net.metroLine, net.busLine], price: 60_000, validityDays: 1, key: 'trips' });
    const [pass] = await insertTickets(db, [
      { productId: product, kind: 'pass', price: 60_000, issuedAt: localTime(day1, '06:00'), lineIds: [net.metroLine, net.busLine], validityDays: 1, validFrom: localTime(day1, '00:00'), validUntil: localTime(day2, '00:00') },
    ]);
    const ride = (lineId: string, stations: string[], time: string) =>
      insertJourney(db, { subjectKind: 'pass', ticketId: pass, lineId, entryStationId: stations[0], exitStationId: stations[1], enteredAt: localTime(day1, time), exitedAt: localTime(day1, time) });
    await ride(net.metroLine, net.metro, '07:00');

    const closed = await settlement.close(admin, day1);
    expect(closed).toMatchObject({ status: 'closed', closedAt: expect.any(String), sha256: statementHash(closed) });
    const pool = closed.passAllocation.find((row) => row.productId === product);
    expect(pool?.operators.map(({ operatorId, amount }) => [operatorId, amount])).toEqual([[net.metroOperator, 60_000]]);
    await expect(settlement.close(admin, day1)).rejects.toMatchObject({ code: 'DAY_ALREADY_CLOSED' } satisfies Partial<DomainError>);

    // A validator uploads a bus ride of that day after the close: one trip each, 30,000 each.
    await ride(net.busLine, net.bus, '18:00');
    expect(await settlement.statement(admin, day1, undefined)).toEqual(closed);
    const next = await settlement.statement(admin, day2, undefined);
    const own = (rows: DailyStatement['adjustments']) => rows.filter((row) => row.operatorId === net.metroOperator || row.operatorId === net.busOperator);
    expect(own(next.adjustments)).toEqual([
      { belongsTo: day1, operatorId: net.busOperator, amount: 30_000 },
      { belongsTo: day1, operatorId: net.metroOperator, amount: -30_000 },
    ]);
    expect(next.operators.find((row) => row.operatorId === net.busOperator)).toMatchObject({ adjustments: 30_000, total: 30_000 });
    expect(next.check.balanced).toBe(true);

    // Day 2 closes with that adjustment; another late bus ride of day 1 (now 40,000 bus, 20,000 metro) lands
    // on day 3, net of the 30,000 day 2 moved.
    await settlement.close(admin, day2);
    await ride(net.busLine, net.bus, '19:00');
    const third = await settlement.statement(admin, day3, undefined);
    expect(own(third.adjustments)).toEqual([
      { belongsTo: day1, operatorId: net.busOperator, amount: 10_000 },
      { belongsTo: day1, operatorId: net.metroOperator, amount: -10_000 },
    ]);
    expect(third.check.balanced).toBe(true);
  });

  it('closes a day once when two admins close it at the same moment', async () => {
    const results = await Promise.allSettled([settlement.close(admin, '2026-05-15'), settlement.close(admin, '2026-05-15')]);
    expect(results.map((result) => result.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(results.find((result) => result.status === 'rejected')).toMatchObject({ reason: { code: 'DAY_ALREADY_CLOSED' } });
  });

  it('refuses to close a day that has not begun, and a date that is no date', async () => {
    await expect(settlement.close(admin, '2999-01-01')).rejects.toMatchObject({ code: 'DAY_NOT_STARTED' });
    await expect(settlement.statement(admin, '2026-02-30', undefined)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
