import { randomUUID } from 'node:crypto';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { upsertAccount } from '../../src/accounts/account-seeder';
import { migrateAndMaybeSeed } from '../../src/cli/migrate';
import { compactLocalDate, localDayNumber, localDayStartMs } from '../../src/fares/domain/local-time';
import { FareStore } from '../../src/fares/fare-store';
import type { RiderCategory } from '../../src/fares/rider-category';

/**
 * Throwaway data for settlement tests: a database of their own (a statement sums a whole day, and
 * other test files count the seeded network exactly, so settlement tests neither share nor add to
 * the common one), a network of two operators, products covering only its lines, and taps and
 * journeys written straight into the gate path's tables, as its persister would write them.
 */

/** A new database on the test server, migrated and seeded; its name says "test", as the test app requires. */
export async function createSettlementDatabase(): Promise<string> {
  const shared = new URL(process.env.DATABASE_URL!);
  const name = `lienthong_test_settlement_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const admin = new Client({ connectionString: shared.toString() });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(shared.toString());
  url.pathname = `/${name}`;
  await migrateAndMaybeSeed(url.toString(), true, () => undefined);
  return url.toString();
}
export interface SettlementNetwork {
  metroOperator: string;
  busOperator: string;
  metroLine: string;
  busLine: string;
  /** Metro stations at 0, 0.7, 1.7 and 12.5 km. */
  metro: string[];
  /** Bus stops at 0, 2.1 and 5.1 km. */
  bus: string[];
}

export async function createSettlementNetwork(db: DataSource): Promise<SettlementNetwork> {
  const tag = randomUUID().slice(0, 8);
  const network: SettlementNetwork = {
    metroOperator: `st-metro-${tag}`,
    busOperator: `st-bus-${tag}`,
    metroLine: `st-m-${tag}`,
    busLine: `st-b-${tag}`,
    metro: [0, 700, 1_700, 12_500].map((_, index) => `st-m-${tag}-${index}`),
    bus: [0, 2_100, 5_100].map((_, index) => `st-b-${tag}-${index}`),
  };
  await db.query(`INSERT INTO operators (id, name, short_name) VALUES ($1, 'Test metro', 'TM'), ($2, 'Test bus', 'TB')`, [network.metroOperator, network.busOperator]);
  await db.query(`INSERT INTO lines (id, code, name, mode, operator_id) VALUES ($1, $1, 'Test metro line', 'metro', $2), ($3, $3, 'Test bus line', 'bus', $4)`, [
    network.metroLine,
    network.metroOperator,
    network.busLine,
    network.busOperator,
  ]);
  const stations = (line: string, ids: string[], positions: number[]) =>
    db.query(
      `INSERT INTO stations (id, line_id, sequence, name, position_m, position_estimated) SELECT id, $1, ord - 1, id, pos, true FROM unnest($2::text[], $3::int[]) WITH ORDINALITY AS s (id, pos, ord)`,
      [line, ids, positions],
    );
  await stations(network.metroLine, network.metro, [0, 700, 1_700, 12_500]);
  await stations(network.busLine, network.bus, [0, 2_100, 5_100]);
  return network;
}

/** A pass product of the test network's lines, priced for adults (free riders 0), and its allocation key. */
export async function createPassProduct(
  db: DataSource,
  options: { lineIds: string[]; price: number; validityDays: number; key: 'trips' | 'passenger_km' | 'fixed_shares'; shares?: Record<string, number> },
): Promise<string> {
  const productId = `st-pass-${randomUUID().slice(0, 8)}`;
  const effectiveFrom = Date.parse('2020-01-01T00:00:00+07:00');
  await new FareStore(db).insertProductVersion(
    {
      productId,
      versionId: `${productId}@1`,
      name: `Test pass ${productId}`,
      kind: 'pass',
      modes: ['metro', 'bus'],
      lineIds: options.lineIds,
      singleLine: false,
      validityDays: options.validityDays,
      prices: { adult: options.price, priority: options.price, elderly: 0, disabled: 0, meritorious: 0, poor_household: 0, child: 0 },
      payAsYouGoCap: null,
      onSale: true,
      effectiveFrom,
    },
    true,
    'fail',
  );
  await db.query(`INSERT INTO product_allocation_keys (product_id, effective_from, key, shares, note) VALUES ($1, $2, $3, $4, 'test key')`, [
    productId,
    new Date(effectiveFrom),
    options.key,
    options.shares ? JSON.stringify(options.shares) : null,
  ]);
  return productId;
}

/** The instant `hh:mm` local time on a local date. */
export function localTime(date: string, time: string): Date {
  return new Date(`${date}T${time}:00+07:00`);
}

/** The day's tap and journey partitions, as the tap persister creates them. */
export async function ensureGatePartitions(db: DataSource, date: string): Promise<void> {
  const day = localDayNumber(Date.parse(`${date}T12:00:00+07:00`));
  const [from, to] = [new Date(localDayStartMs(day)).toISOString(), new Date(localDayStartMs(day + 1)).toISOString()];
  await db.transaction(async (em) => {
    await em.query(`SELECT pg_advisory_xact_lock(hashtext('gate-partitions'))`);
    for (const table of ['taps', 'journeys']) {
      await em.query(`CREATE TABLE IF NOT EXISTS ${table}_${compactLocalDate(day)} PARTITION OF ${table} FOR VALUES FROM ('${from}') TO ('${to}')`);
    }
  });
}

export interface TicketFixture {
  productId: string;
  kind: 'single' | 'pass';
  price: number;
  issuedAt: Date;
  riderCategory?: RiderCategory;
  lineIds?: string[] | null;
  modes?: string[];
  originStationId?: string;
  destinationStationId?: string;
  validityDays?: number;
  /** Fixed passes and singles: the validity window (singles default to a day from issue). */
  validFrom?: Date;
  validUntil?: Date;
  /** First-use passes: the deadline to start. */
  firstUseBy?: Date;
  refundedAt?: Date;
}

/** A paid order with its tickets, as the shop would have written them at `issuedAt`. */
export async function insertTickets(db: DataSource, tickets: readonly TicketFixture[]): Promise<string[]> {
  const accountId = await upsertAccount(db, { email: `settle-${randomUUID()}@test.lienthong.local`, password: 'not used in this test', fullName: 'Settlement test', role: 'passenger' });
  const total = tickets.reduce((sum, ticket) => sum + ticket.price, 0);
  const [order] = await db.query<Array<{ id: string }>>(
    `INSERT INTO orders (account_id, status, pay_with, total, rider_category, items, created_at, paid_at) VALUES ($1, 'paid', 'wallet', $2, 'adult', '[]', $3, $3) RETURNING id`,
    [accountId, total, tickets[0].issuedAt],
  );
  const ids: string[] = [];
  for (const [position, ticket] of tickets.entries()) {
    const firstUse = ticket.firstUseBy !== undefined;
    const [row] = await db.query<Array<{ id: string }>>(
      `INSERT INTO tickets (order_id, order_position, account_id, product_id, product_version_id, kind, rider_category, price, modes, line_ids,
         origin_station_id, destination_station_id, validity_days, activation, valid_from, valid_until, first_use_by, status, issued_at, refunded_at)
       VALUES ($1, $2, $3, $4, $4 || '@1', $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19) RETURNING id`,
      [
        order.id,
        position,
        accountId,
        ticket.productId,
        ticket.kind,
        ticket.riderCategory ?? 'adult',
        ticket.price,
        ticket.modes ?? ['metro', 'bus'],
        ticket.lineIds ?? null,
        ticket.originStationId ?? null,
        ticket.destinationStationId ?? null,
        ticket.validityDays ?? null,
        firstUse ? 'first_use' : 'fixed',
        firstUse ? null : (ticket.validFrom ?? ticket.issuedAt),
        firstUse ? null : (ticket.validUntil ?? new Date(ticket.issuedAt.getTime() + 24 * 3_600_000)),
        ticket.firstUseBy ?? null,
        ticket.refundedAt ? 'refunded' : 'active',
        ticket.issuedAt,
        ticket.refundedAt ?? null,
      ],
    );
    ids.push(row.id);
  }
  return ids;
}

export interface JourneyFixture {
  subjectKind: 'single' | 'pass' | 'payg';
  ticketId?: string;
  accountId?: string;
  riderCategory?: RiderCategory;
  lineId: string;
  entryStationId: string;
  exitStationId?: string;
  enteredAt: Date;
  exitedAt?: Date;
  status?: 'open' | 'closed' | 'timed_out';
  fare?: number;
  charge?: number;
  unpaid?: number;
}

/** A journey and its entry (and exit) taps, as the persister writes them; returns the journey id. */
export async function insertJourney(db: DataSource, journey: JourneyFixture, deviceId = `st-dev-${randomUUID().slice(0, 8)}`): Promise<string> {
  const id = randomUUID();
  const status = journey.status ?? (journey.exitStationId ? 'closed' : 'open');
  await db.query(
    `INSERT INTO journeys (id, entered_at, subject_kind, ticket_id, account_id, rider_category, line_id, entry_station_id, exit_station_id, exited_at, status, fare, full_fare, charge, unpaid)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12, $13, $14)`,
    [
      id,
      journey.enteredAt,
      journey.subjectKind,
      journey.ticketId ?? null,
      journey.accountId ?? null,
      journey.riderCategory ?? 'adult',
      journey.lineId,
      journey.entryStationId,
      journey.exitStationId ?? null,
      journey.exitedAt ?? null,
      status,
      status === 'open' ? null : (journey.fare ?? 0),
      journey.charge ?? 0,
      journey.unpaid ?? 0,
    ],
  );
  await insertTap(db, { deviceId, direction: 'entry', at: journey.enteredAt, stationId: journey.entryStationId, journey, journeyId: id });
  if (journey.exitStationId && journey.exitedAt) {
    await insertTap(db, { deviceId, direction: 'exit', at: journey.exitedAt, stationId: journey.exitStationId, journey, journeyId: id, charge: journey.charge ?? 0, fare: journey.fare ?? 0 });
  }
  return id;
}

export interface TapFixture {
  deviceId: string;
  direction: 'entry' | 'exit';
  at: Date;
  stationId: string;
  journey: Pick<JourneyFixture, 'subjectKind' | 'ticketId' | 'accountId' | 'riderCategory' | 'lineId'>;
  journeyId?: string;
  verdict?: 'accept' | 'reject';
  reason?: string;
  valid?: boolean;
  offline?: boolean;
  fare?: number;
  charge?: number;
}

export async function insertTap(db: DataSource, tap: TapFixture): Promise<void> {
  const tapId = randomUUID();
  const verdict = tap.verdict ?? 'accept';
  await db.query(`INSERT INTO tap_keys (device_id, tap_id) VALUES ($1, $2)`, [tap.deviceId, tapId]);
  await db.query(
    `INSERT INTO taps (device_id, tap_id, occurred_at, direction, station_id, line_id, subject_kind, ticket_id, account_id, rider_category, verdict, reason, valid, offline,
       journey_id, fare, full_fare, charge)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16, $17)`,
    [
      tap.deviceId,
      tapId,
      tap.at,
      tap.direction,
      tap.stationId,
      tap.journey.lineId,
      tap.journey.subjectKind,
      tap.journey.subjectKind === 'payg' ? null : (tap.journey.ticketId ?? null),
      tap.journey.accountId ?? null,
      tap.journey.riderCategory ?? 'adult',
      verdict,
      tap.reason ?? 'OK',
      tap.valid ?? verdict === 'accept',
      tap.offline ?? false,
      tap.journeyId ?? null,
      tap.fare ?? null,
      tap.charge ?? 0,
    ],
  );
}
