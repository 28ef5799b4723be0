import { parse } from 'csv-parse/sync';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { localDayNumber } from '../../src/fares/domain/local-time';
import { FaresService } from '../../src/fares/fares.service';
import { bearerFor, testAccount } from '../support/auth';
import { expectError, useTestApp } from '../support/http';
import { expectLedgerBalanced, topUp } from '../support/money';
import { createPassProduct, createSettlementDatabase, createSettlementNetwork, ensureGatePartitions, insertJourney, type SettlementNetwork } from '../support/settlement';

function localDate(days: number): string {
  return new Date((localDayNumber(Date.now()) + days) * 24 * 3600 * 1000).toISOString().slice(0, 10);
}

/**
 * A small day through the HTTP API: purchases and a refund through the shop, a multimodal pass used
 * on two operators and a free rider, then the close and a late upload. The taps are written straight
 * into the gate path's tables (its HTTP path is another issue's, in progress), as its persister would.
 * The day is today (the shop sells now), in a database, network and product of this test's own.
 */
describe('daily settlement through HTTP', () => {
  // A database of its own: the day's statement sums everything, and closing today must not touch the
  // common one. Nothing here runs the gate path, whose Redis stream the other files share.
  const database: { url?: string } = {};
  beforeAll(async () => {
    database.url = await createSettlementDatabase();
  });
  const { app, http } = useTestApp({
    // Read when the app starts, after the database above exists.
    get DATABASE_URL() {
      return database.url!;
    },
    GATE_PERSISTER_ENABLED: 'false',
    GATE_REBUILD_ON_EMPTY_REDIS: 'false',
  });
  const today = localDate(0);
  const tomorrow = localDate(1);
  let net: SettlementNetwork;
  let pass: string;
  let admin: string;
  let metroStaff: string;
  let busStaff: string;

  beforeAll(async () => {
    const db = app().get(DataSource);
    const [{ name }] = await db.query<Array<{ name: string }>>(`SELECT current_database() AS name`);
    if (`/${name}` !== new URL(database.url!).pathname) throw new Error(`the settlement e2e must run on its own database, not ${name}`);
    net = await createSettlementNetwork(db);
    pass = await createPassProduct(db, { lineIds: [net.metroLine, net.busLine], price: 300_000, validityDays: 30, key: 'passenger_km' });
    await app().get(FaresService).reload();
    await ensureGatePartitions(db, today);
    [admin, metroStaff, busStaff] = await Promise.all([
      bearerFor(app(), 'admin'),
      bearerFor(app(), 'operator', { operatorId: net.metroOperator }),
      bearerFor(app(), 'operator', { operatorId: net.busOperator }),
    ]);
  });

  const statement = (bearer: string, query: Record<string, string>) => http().get('/v1/settlements/daily').set('Authorization', bearer).query(query);

  it('settles the day to hand-computed figures, scoped per operator, then freezes it and adjusts the next day', async () => {
    const db = app().get(DataSource);
    const rider = await testAccount(app(), 'passenger');
    await topUp(app(), rider.bearer, 1_000_000);
    const order = await http()
      .post('/v1/orders')
      .set('Authorization', rider.bearer)
      .set('Idempotency-Key', randomUUID())
      .send({
        payWith: 'wallet',
        items: [
          { productId: pass, validFrom: today },
          { productId: 'metro-single', originStationId: net.metro[0], destinationStationId: net.metro[3] },
          { productId: 'metro-single', originStationId: net.metro[0], destinationStationId: net.metro[1] },
        ],
      })
      .expect(201);
    const [passTicket, longSingle, shortSingle] = order.body.tickets as Array<{ id: string; price: number }>;
    // 8,000 + 850/km: 12.5 km → 18,625; 0.7 km → 8,595.
    expect([passTicket.price, longSingle.price, shortSingle.price]).toEqual([300_000, 18_625, 8_595]);
    await http().post(`/v1/tickets/${shortSingle.id}/refund`).set('Authorization', rider.bearer).set('Idempotency-Key', randomUUID()).send().expect(200);

    const now = Date.now();
    const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000);
    await insertJourney(db, { subjectKind: 'pass', ticketId: passTicket.id, accountId: rider.id, lineId: net.metroLine, entryStationId: net.metro[0], exitStationId: net.metro[3], enteredAt: at(3), exitedAt: at(2) });
    await insertJourney(db, { subjectKind: 'pass', ticketId: passTicket.id, accountId: rider.id, lineId: net.busLine, entryStationId: net.bus[0], exitStationId: net.bus[2], enteredAt: at(2), exitedAt: at(1) });
    await insertJourney(db, { subjectKind: 'payg', riderCategory: 'elderly', lineId: net.busLine, entryStationId: net.bus[0], exitStationId: net.bus[2], enteredAt: at(2), exitedAt: at(1) });

    // The pass's day part: 300,000 / 30 = 10,000, by passenger-km 12.5 : 5.1 → 7,102.27 and 2,897.73 → 7,102 and 2,898.
    const metro = (await statement(metroStaff, { date: today }).expect(200)).body;
    expect(metro.operatorId).toBe(net.metroOperator);
    expect(metro.operators).toEqual([{ operatorId: net.metroOperator, singleTickets: 18_625, passes: 0, payAsYouGo: 0, passAllocation: 7_102, adjustments: 0, total: 25_727 }]);
    expect(metro.sales.filter((row: { productId: string; operatorId: string | null }) => row.productId === pass || row.operatorId === net.metroOperator)).toEqual([
      { productId: 'metro-single', riderCategory: 'adult', kind: 'single', operatorId: net.metroOperator, count: 2, amount: 27_220 },
      { productId: pass, riderCategory: 'adult', kind: 'pass', operatorId: null, count: 1, amount: 300_000 },
    ]);
    expect(metro.refunds.filter((row: { operatorId: string | null }) => row.operatorId === net.metroOperator)).toEqual([
      { productId: 'metro-single', riderCategory: 'adult', kind: 'single', operatorId: net.metroOperator, count: 1, amount: 8_595 },
    ]);
    expect(metro.passAllocation).toEqual([
      expect.objectContaining({
        productId: pass,
        allocationKey: expect.objectContaining({ key: 'passenger_km' }),
        amount: 10_000,
        operators: [{ operatorId: net.metroOperator, trips: 1, passengerKm: 12.5, weight: 12_500, amount: 7_102 }],
      }),
    ]);
    expect(metro.freeRides).toEqual([]);
    // The seeded defaults are on every statement: multimodal passes by passenger-km.
    expect(metro.allocationKeys).toEqual(
      expect.arrayContaining([expect.objectContaining({ productId: 'bus-metro-month', key: 'passenger_km' }), expect.objectContaining({ productId: pass, key: 'passenger_km' })]),
    );
    expect(metro.check.balanced).toBe(true);

    const bus = (await statement(busStaff, { date: today, operatorId: net.busOperator }).expect(200)).body;
    expect(bus.operators).toEqual([{ operatorId: net.busOperator, singleTickets: 0, passes: 0, payAsYouGo: 0, passAllocation: 2_898, adjustments: 0, total: 2_898 }]);
    expect(bus.freeRides).toEqual([{ operatorId: net.busOperator, lineId: net.busLine, rides: 1, passengerKm: 5.1 }]);

    expectError(await statement(metroStaff, { date: today, operatorId: net.busOperator }), 403, 'OPERATOR_SCOPE');
    expectError(await statement(rider.bearer, { date: today }), 403, 'FORBIDDEN');
    expectError(await statement(admin, { date: 'yesterday' }), 400, 'VALIDATION_FAILED');

    const scheme = (await statement(admin, { date: today }).expect(200)).body;
    expect(scheme.operatorId).toBeNull();
    expect(scheme.operators).toEqual(expect.arrayContaining([metro.operators[0], bus.operators[0]]));
    expect(scheme.check.balanced).toBe(true);
    expect(scheme.check.revenue + scheme.check.adjustments).toBe(scheme.check.allocated + scheme.check.unallocated);

    const csv = await http().get('/v1/settlements/daily.csv').set('Authorization', metroStaff).query({ date: today }).expect(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const rows = parse<Record<string, string>>(csv.text, { columns: true });
    expect(rows.find((row) => row.section === 'operator_total')).toMatchObject({ operator_id: net.metroOperator, amount: '25727' });
    expect(rows.find((row) => row.section === 'pass_allocation')).toMatchObject({ product_id: pass, allocation_key: 'passenger_km', amount: '7102', passenger_km: '12.5' });

    const tides = (await http().get('/v1/fare-transactions').set('Authorization', metroStaff).query({ date: today, format: 'json' }).expect(200)).body as Array<Record<string, unknown>>;
    expect(tides.find((row) => row.transaction_id === `purchase:${longSingle.id}`)).toMatchObject({ fare_action: 'Purchase', amount: 18_625, currency_type: 'VND', fare_product: 'metro-single', service_date: today, fare_capped: false });
    expect(tides.find((row) => row.transaction_id === `refund:${shortSingle.id}`)).toMatchObject({ fare_action: 'Adjust', amount: -8_595 });
    expect(tides.filter((row) => row.token_id === passTicket.id).map((row) => [row.fare_action, row.stop_id, row.fare_product, row.fare_media_id, row.num_riders])).toEqual([
      ['Enter', net.metro[0], pass, 'Optical scan', 1],
      ['Exit', net.metro[3], pass, 'Optical scan', 1],
    ]);
    const tidesCsv = await http().get('/v1/fare-transactions').set('Authorization', busStaff).query({ date: today, format: 'csv' }).expect(200);
    const tidesRows = parse<Record<string, string>>(tidesCsv.text, { columns: true });
    expect(tidesRows.filter((row) => row.token_id === passTicket.id).map((row) => row.fare_action)).toEqual(['Enter', 'Exit']);
    expectError(await http().get('/v1/fare-transactions').set('Authorization', busStaff).query({ date: today, operatorId: net.metroOperator }), 403, 'OPERATOR_SCOPE');

    // The close: admins only, once; the frozen statement carries its hash.
    expectError(await http().post(`/v1/settlements/daily/${today}/close`).set('Authorization', metroStaff).send(), 403, 'FORBIDDEN');
    const closed = (await http().post(`/v1/settlements/daily/${today}/close`).set('Authorization', admin).send().expect(200)).body;
    expect(closed).toMatchObject({ status: 'closed', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expectError(await http().post(`/v1/settlements/daily/${today}/close`).set('Authorization', admin).send(), 409, 'DAY_ALREADY_CLOSED');

    // A late upload of today's bus ride: today stays frozen; tomorrow carries the difference for today.
    // 10,000 by 12.5 : 7.2 km → 6,345.18 and 3,654.82 → 6,345 and 3,655: bus +757, metro −757.
    await insertJourney(db, { subjectKind: 'pass', ticketId: passTicket.id, accountId: rider.id, lineId: net.busLine, entryStationId: net.bus[0], exitStationId: net.bus[1], enteredAt: at(1), exitedAt: at(0) });
    expect((await statement(busStaff, { date: today }).expect(200)).body).toEqual({ ...bus, status: 'closed', closedAt: closed.closedAt, sha256: closed.sha256, check: closed.check });
    const busTomorrow = (await statement(busStaff, { date: tomorrow }).expect(200)).body;
    expect(busTomorrow.adjustments).toEqual([{ belongsTo: today, operatorId: net.busOperator, amount: 757 }]);
    expect(busTomorrow.operators).toEqual([expect.objectContaining({ operatorId: net.busOperator, adjustments: 757 })]);
    const metroTomorrow = (await statement(metroStaff, { date: tomorrow }).expect(200)).body;
    expect(metroTomorrow.adjustments).toEqual([{ belongsTo: today, operatorId: net.metroOperator, amount: -757 }]);
    expect(busTomorrow.check.balanced).toBe(true);
    await expectLedgerBalanced(app());
  });
});
