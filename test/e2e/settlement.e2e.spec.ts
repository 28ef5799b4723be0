import { parse } from 'csv-parse/sync';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { localDayNumber } from '../../src/fares/domain/local-time';
import { FaresService } from '../../src/fares/fares.service';
import { bearerFor, testAccount } from '../support/auth';
import { binaryBody, expectError, useTestApp } from '../support/http';
import { expectLedgerBalanced, topUp } from '../support/money';
import { createPassProduct, createSettlementDatabase, createSettlementNetwork, type SettlementNetwork } from '../support/settlement';
import type { TapVerdict } from '../../src/validation/gate.service';
import { gateAt, tap } from '../support/gate';
import { waitFor } from '../support/wait';
import { tidesPackageProblems, unzipPackage } from '../support/tides';
import { TIDES_FARE_TRANSACTION_FIELDS } from '../../src/settlement/settlement.queries';

function localDate(days: number): string {
  return new Date((localDayNumber(Date.now()) + days) * 24 * 3600 * 1000).toISOString().slice(0, 10);
}

/**
 * A small day through the HTTP API: purchases and a refund through the shop, a multimodal pass used
 * on two operators and a free rider tapped at their gates, then the close and a late offline upload from
 * a bus validator; the tap persister writes the journeys the statements read. The day is today (the shop sells now), in a database, network and product of this test's own.
 */
describe('daily settlement through HTTP', () => {
  // A database of its own: the day's statement sums everything, and closing today must not touch the
  // common one. The gate path's taps go through a stream of its own, into that database.
  const database: { url?: string } = {};
  beforeAll(async () => {
    database.url = await createSettlementDatabase();
  });
  const { app, http } = useTestApp({
    // Read when the app starts, after the database above exists.
    get DATABASE_URL() {
      return database.url!;
    },
    GATE_TAP_STREAM: `gate:taps:settlement-${randomUUID()}`,
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
    [admin, metroStaff, busStaff] = await Promise.all([
      bearerFor(app(), 'admin'),
      bearerFor(app(), 'operator', { operatorId: net.metroOperator }),
      bearerFor(app(), 'operator', { operatorId: net.busOperator }),
    ]);
  });

  const statement = (bearer: string, query: Record<string, string>) => http().get('/v1/settlements/daily').set('Authorization', bearer).query(query);

  /** A passenger whose approved concession (60 and over) makes them ride free. */
  const elderlyRider = async () => {
    const elder = await testAccount(app(), 'passenger');
    const claim = await http()
      .post('/v1/me/concessions')
      .set('Authorization', elder.bearer)
      .send({ category: 'elderly', evidence: 'CCCD 001045012345', dateOfBirth: '1945-05-01' })
      .expect(201);
    await http().post(`/v1/admin/concessions/${claim.body.id}/decision`).set('Authorization', admin).send({ approve: true }).expect(200);
    return elder;
  };

  /** The tap persister writes journeys asynchronously. */
  const journeysWritten = (db: DataSource, count: number) =>
    waitFor(() => db.query<Array<{ n: number }>>(`SELECT count(*)::int AS n FROM journeys WHERE status = 'closed'`), ([row]) => row.n === count, 30_000);

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

    // The rides, tapped at gates of the two operators: the pass on both lines, and a free rider (60+) on the bus.
    const [metroEntry, metroExit, busValidator] = await Promise.all([
      gateAt(app(), net.metroLine, net.metro[0], net.metroOperator),
      gateAt(app(), net.metroLine, net.metro[3], net.metroOperator),
      gateAt(app(), net.busLine, null, net.busOperator),
    ]);
    const passQr = (await http().get(`/v1/tickets/${passTicket.id}/qr`).query({ format: 'text' }).set('Authorization', rider.bearer).expect(200)).text;
    const elder = await elderlyRider();
    const elderQr = (await http().get('/v1/me/qr').query({ format: 'text' }).set('Authorization', elder.bearer).expect(200)).text;
    const accepted = (verdict: TapVerdict) => expect(verdict).toMatchObject({ verdict: 'accept', reason: 'OK' });
    accepted(await tap(app(), metroEntry, { qr: passQr, direction: 'entry' }));
    accepted(await tap(app(), metroExit, { qr: passQr, direction: 'exit' }));
    accepted(await tap(app(), busValidator, { qr: passQr, direction: 'entry', stationId: net.bus[0] }));
    accepted(await tap(app(), busValidator, { qr: passQr, direction: 'exit', stationId: net.bus[2] }));
    accepted(await tap(app(), busValidator, { qr: elderQr, direction: 'entry', stationId: net.bus[0] }));
    expect(await tap(app(), busValidator, { qr: elderQr, direction: 'exit', stationId: net.bus[2] })).toMatchObject({ verdict: 'accept', fare: 0 });
    await journeysWritten(db, 3);

    // The pass's day part: 300,000 / 30 = 10,000, by passenger-km 12.5 : 5.1 → 7,102.27 and 2,897.73 → 7,102 and 2,898.
    const metro = (await statement(metroStaff, { date: today }).expect(200)).body;
    expect(metro.operatorId).toBe(net.metroOperator);
    expect(metro.operators).toEqual([{ operatorId: net.metroOperator, singleTickets: 18_625, passes: 0, payAsYouGo: 0, bankCards: 0, passAllocation: 7_102, adjustments: 0, total: 25_727 }]);
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
    expect(bus.operators).toEqual([{ operatorId: net.busOperator, singleTickets: 0, passes: 0, payAsYouGo: 0, bankCards: 0, passAllocation: 2_898, adjustments: 0, total: 2_898 }]);
    expect(bus.freeRides).toEqual([{ operatorId: net.busOperator, lineId: net.busLine, mediumKind: 'qr', rides: 1, passengerKm: 5.1 }]);

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
      ['Activate', net.metro[0], pass, 'Optical scan', 1],
      ['Enter', net.metro[0], pass, 'Optical scan', 1],
      ['Exit', net.metro[3], pass, 'Optical scan', 1],
    ]);
    const tidesCsv = await http().get('/v1/fare-transactions').set('Authorization', busStaff).query({ date: today, format: 'csv' }).expect(200);
    const tidesRows = parse<Record<string, string>>(tidesCsv.text, { columns: true });
    expect(tidesRows.filter((row) => row.token_id === passTicket.id).map((row) => row.fare_action)).toEqual(['Enter', 'Exit']);
    expectError(await http().get('/v1/fare-transactions').set('Authorization', busStaff).query({ date: today, operatorId: net.metroOperator }), 403, 'OPERATOR_SCOPE');

    // TIDES v1.0: every column in the schema's order, whole-second timestamps; a data package per day and operator.
    expect(Object.keys(tides[0] ?? {})).toEqual([...TIDES_FARE_TRANSACTION_FIELDS]);
    expect(tides.every((row) => /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(row.event_timestamp as string))).toBe(true);
    const zipOf = async (bearer: string, operatorId?: string) => {
      const response = await http()
        .get('/v1/fare-transactions')
        .set('Authorization', bearer)
        .query({ date: today, format: 'datapackage', ...(operatorId && { operatorId }) })
        .buffer(true)
        .parse(binaryBody)
        .expect(200);
      expect(response.headers['content-type']).toMatch(/^application\/zip/);
      return unzipPackage(response.body as Buffer);
    };
    for (const files of [await zipOf(admin), await zipOf(metroStaff, net.metroOperator), await zipOf(busStaff)]) {
      expect([...files.keys()].sort()).toEqual(['datapackage.json', 'devices.csv', 'fare_transactions.csv', 'stops.csv', 'stops.schema.json']);
      expect(tidesPackageProblems(files, 'position')).toEqual([]);
      expect(tidesPackageProblems(files, 'name')).toEqual([]);
    }
    const everything = await zipOf(admin);
    const rowsOf = (name: string) => parse<Record<string, string>>(everything.get(name)!, { columns: true });
    const all = rowsOf('fare_transactions.csv');
    // The rider's top-up is an Add with the wallet balance after it; the pass's first entry an Activate.
    expect(all.filter((row) => row.fare_action === 'Add')).toEqual([
      expect.objectContaining({ amount: '1000000', fare_product: 'stored-value', balance: '1000000', fare_media_id: '', device_id: '' }),
    ]);
    expect(all.filter((row) => row.fare_action === 'Activate').map((row) => row.token_id)).toEqual([passTicket.id]);
    expect(rowsOf('devices.csv').map((row) => row.device_type).sort()).toEqual(expect.arrayContaining(['Fare gate', 'Farebox']));
    // Dropping a column the validator would catch in position mode (the check can fail).
    const withoutBalance = new Map(everything);
    withoutBalance.set('fare_transactions.csv', everything.get('fare_transactions.csv')!.replace(/,balance\r\n/, '\r\n').replace(/,[^,\r\n]*\r\n/g, '\r\n'));
    expect(tidesPackageProblems(withoutBalance, 'position')).not.toEqual([]);

    // The close: admins only, once; the frozen statement carries its hash.
    expectError(await http().post(`/v1/settlements/daily/${today}/close`).set('Authorization', metroStaff).send(), 403, 'FORBIDDEN');
    const closed = (await http().post(`/v1/settlements/daily/${today}/close`).set('Authorization', admin).send().expect(200)).body;
    expect(closed).toMatchObject({ status: 'closed', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expectError(await http().post(`/v1/settlements/daily/${today}/close`).set('Authorization', admin).send(), 409, 'DAY_ALREADY_CLOSED');

    // A late upload of today's bus ride: today stays frozen; tomorrow carries the difference for today.
    // 10,000 by 12.5 : 7.2 km → 6,345.18 and 3,654.82 → 6,345 and 3,655: bus +757, metro −757.
    const upload = await http()
      .post('/v1/validations/batch')
      .set('Authorization', busValidator.bearer)
      .send({
        taps: [
          { tapId: randomUUID(), qr: passQr, direction: 'entry', stationId: net.bus[0], occurredAt: new Date(Date.now() - 60_000).toISOString() },
          { tapId: randomUUID(), qr: passQr, direction: 'exit', stationId: net.bus[1], occurredAt: new Date().toISOString() },
        ],
      })
      .expect(200);
    expect(upload.body.results).toEqual([expect.objectContaining({ verdict: 'accept', valid: true }), expect.objectContaining({ verdict: 'accept', valid: true })]);
    await journeysWritten(db, 4);
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
