/**
 * `npm run bench -- settlement` (also `npm run bench:settlement`): settles a synthetic day of about
 * 3 million taps. Starts a throwaway Postgres, migrates and seeds it, writes the day with SQL
 * generate_series straight into the gate path's tables (passes, singles, pay-as-you-go and free riders
 * on every seeded line), settles it as `npm run settle` does, streams its TIDES fare transactions, and
 * prints the times and the peak memory of this process, which does the settling (run.ts starts each
 * section in a process of its own, so the figure is the settlement's alone). Settlement aggregates in
 * Postgres and the export reads through a cursor, so the memory stays flat whatever the number of taps.
 * BENCH_JOURNEYS (default 1,500,000: an entry and an exit tap each, less timed-out ones, plus rejects).
 * BENCH_SETTLEMENT_SIZES=0.3,1,3,6 instead settles days of those sizes (millions of taps), for the curve.
 */
import { AuditLog } from '../../src/audit/audit-log';
import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { dayBounds, SettlementService } from '../../src/settlement/settlement.service';
import { ensureGatePartitions } from '../support/settlement';
import { mb, printTable, runSection, say } from './harness';

const DATE = '2026-11-20';
const JOURNEYS = Number(process.env.BENCH_JOURNEYS ?? 1_500_000);
/**
 * BENCH_SETTLEMENT_SIZES (e.g. `0.3,1,3,6`, millions of taps): the curve of settling time and memory
 * against the day's size, one day of each size in the same database, with a straight line fitted
 * through them and projected to 30 million taps (ten Hà Nộis). Unset: the one day of BENCH_JOURNEYS.
 */
const CURVE_SIZES = (process.env.BENCH_SETTLEMENT_SIZES ?? '').split(',').filter((size) => size.trim() !== '').map(Number);
const PROJECT_TO_TAPS = 30_000_000;

/** The day's tickets scale with its journeys: at 1.5 million journeys, 200,000 passes and 50,000 singles. */
function dayShape(journeys: number): { journeys: number; passes: number; singles: number } {
  return { journeys, passes: Math.round((journeys * 2) / 15), singles: Math.round(journeys / 30) };
}

/** Runs `work`, says how long it took, and returns its result with the seconds. */
async function timed<T>(label: string, work: () => Promise<T>): Promise<{ result: T; seconds: number }> {
  const started = performance.now();
  const result = await work();
  const seconds = (performance.now() - started) / 1000;
  say(`${label}: ${seconds.toFixed(1)} s`);
  return { result, seconds };
}

/** The synthetic day: passes of three kinds, single tickets sold that day, journeys on every line, and their taps. */
async function generateDay(db: DataSource, date: string, { journeys: JOURNEYS, passes: PASSES, singles: SINGLES }: ReturnType<typeof dayShape>): Promise<number> {
  const { start } = dayBounds(date);
  await ensureGatePartitions(db, date);
  const [account] = await db.query<Array<{ id: string }>>(
    `INSERT INTO accounts (email, password_hash, full_name, role) VALUES ($1, 'x', 'Bench', 'passenger') RETURNING id`,
    [`bench-${date}@lienthong.local`],
  );
  const [order] = await db.query<Array<{ id: string }>>(
    `INSERT INTO orders (account_id, status, pay_with, total, rider_category, items, paid_at) VALUES ($1, 'paid', 'wallet', 0, 'adult', '[]', $2) RETURNING id`,
    [account.id, start],
  );
  // Passes bought over the last month: multimodal (passenger-km), bus network (trips), metro only (direct).
  await db.query(
    `INSERT INTO tickets (order_id, order_position, account_id, product_id, product_version_id, kind, rider_category, price, modes, validity_days, activation, valid_from, valid_until, status, issued_at)
     SELECT $1, g, $2, p.product_id, p.product_id || '@bench', 'pass', 'adult', p.price, p.modes, 30, 'fixed',
            $3::timestamptz - make_interval(days => g % 30), $3::timestamptz - make_interval(days => g % 30) + interval '30 days', 'active',
            $3::timestamptz - make_interval(days => g % 30)
       FROM generate_series(0, $4 - 1) g
       CROSS JOIN LATERAL (SELECT * FROM (VALUES
         (0, 'bus-metro-month', 500000, ARRAY['metro', 'bus', 'brt']),
         (1, 'bus-month-inter-route', 280000, ARRAY['bus', 'brt']),
         (2, 'metro-month', 280000, ARRAY['metro'])) AS k (kind, product_id, price, modes) WHERE k.kind = g % 3) p`,
    [order.id, account.id, start, PASSES],
  );
  await db.query(
    `WITH metro AS (SELECT array_agg(id ORDER BY sequence) AS ids FROM stations WHERE line_id = 'metro-2a')
     INSERT INTO tickets (order_id, order_position, account_id, product_id, product_version_id, kind, rider_category, price, modes, origin_station_id, destination_station_id,
       activation, valid_from, valid_until, status, issued_at)
     SELECT $1, $4 + g, $2, 'metro-single', 'metro-single@bench', 'single', 'adult', 8000 + 850 * (g % 12), ARRAY['metro'], metro.ids[1], metro.ids[2 + g % 11],
            'fixed', $3::timestamptz + make_interval(secs => g % 86000), $3::timestamptz + make_interval(secs => g % 86000) + interval '1 day', 'active',
            $3::timestamptz + make_interval(secs => g % 86000)
       FROM generate_series(0, $5 - 1) g, metro`,
    [order.id, account.id, start, PASSES, SINGLES],
  );
  await db.query(`DROP TABLE IF EXISTS bench_lines, bench_passes`);
  await db.query(`CREATE TEMPORARY TABLE bench_lines AS
    SELECT row_number() OVER (ORDER BY line_id) - 1 AS idx, line_id, array_agg(id ORDER BY sequence) AS stations, count(*)::int AS n FROM stations GROUP BY line_id`);
  await db.query(`CREATE TEMPORARY TABLE bench_passes AS SELECT row_number() OVER (ORDER BY id) - 1 AS idx, id::text AS id FROM tickets WHERE kind = 'pass' AND order_id = $1`, [order.id]);
  await db.query(`CREATE UNIQUE INDEX ON bench_passes (idx)`);
  // 70 % on passes, 20 % pay as you go, 5 % free riders (pay as you go at 0), 5 % singles; 3 % time out at the maximum fare.
  await db.query(
    `INSERT INTO journeys (id, entered_at, subject_kind, ticket_id, account_id, rider_category, line_id, entry_station_id, exit_station_id, exited_at, status, fare, full_fare, charge, unpaid)
     SELECT gen_random_uuid(), t.entered_at, t.kind, CASE WHEN t.kind = 'payg' THEN NULL ELSE coalesce(p.id, gen_random_uuid()::text) END, NULL,
            CASE WHEN g % 100 BETWEEN 90 AND 94 THEN 'elderly' ELSE 'adult' END, l.line_id, l.stations[1 + (g * 7) % l.n],
            CASE WHEN t.timed_out THEN NULL ELSE l.stations[1 + (g * 13 + 3) % l.n] END,
            CASE WHEN t.timed_out THEN NULL ELSE t.entered_at + interval '25 minutes' END,
            CASE WHEN t.timed_out THEN 'timed_out' ELSE 'closed' END, t.fare, t.fare, t.charge, 0
       FROM generate_series(0, $2 - 1) g
       JOIN bench_lines l ON l.idx = g % (SELECT count(*) FROM bench_lines)
       CROSS JOIN LATERAL (SELECT $1::timestamptz + make_interval(secs => (g * 37) % 84000) AS entered_at,
                                  CASE WHEN g % 100 < 70 THEN 'pass' WHEN g % 100 < 95 THEN 'payg' ELSE 'single' END AS kind,
                                  g % 33 = 0 AS timed_out,
                                  CASE WHEN g % 100 BETWEEN 70 AND 89 THEN 8000 + (g % 10) * 850 ELSE 0 END AS fare,
                                  CASE WHEN g % 100 BETWEEN 70 AND 89 THEN 8000 + (g % 10) * 850 ELSE 0 END AS charge) t
       LEFT JOIN bench_passes p ON t.kind = 'pass' AND p.idx = g % $3`,
    [start, JOURNEYS, PASSES],
  );
  const tapColumns = `device_id, tap_id, occurred_at, direction, station_id, line_id, subject_kind, ticket_id, account_id, rider_category, verdict, reason, valid, offline, journey_id, fare, full_fare, charge`;
  await db.query(
    `INSERT INTO taps (${tapColumns})
     SELECT 'bench-' || line_id, id::text || ':in', entered_at, 'entry', entry_station_id, line_id, subject_kind, ticket_id, account_id, rider_category, 'accept', 'OK', true, false, id, NULL, NULL, 0
       FROM journeys WHERE entered_at >= $1 AND entered_at < $1::timestamptz + interval '1 day'`,
    [start],
  );
  await db.query(
    `INSERT INTO taps (${tapColumns})
     SELECT 'bench-' || line_id, id::text || ':out', exited_at, 'exit', exit_station_id, line_id, subject_kind, ticket_id, account_id, rider_category, 'accept', 'OK', true, false, id, fare, full_fare, charge
       FROM journeys WHERE entered_at >= $1 AND entered_at < $1::timestamptz + interval '1 day' AND status = 'closed' AND exited_at < $1::timestamptz + interval '1 day'`,
    [start],
  );
  // Rejected and offline-accepted-but-invalid taps, 3 % of the journeys.
  await db.query(
    `INSERT INTO taps (${tapColumns})
     SELECT 'bench-' || l.line_id, 'reject:' || g, $1::timestamptz + make_interval(secs => (g * 53) % 86000), 'entry', l.stations[1], l.line_id, 'payg', NULL, NULL, 'adult',
            CASE WHEN g % 10 = 0 THEN 'accept' ELSE 'reject' END, (ARRAY['INSUFFICIENT_BALANCE', 'PASSBACK', 'EXPIRED', 'REVOKED'])[1 + g % 4], false, g % 10 = 0, NULL, 8000, 8000, 0
       FROM generate_series(0, $2 - 1) g JOIN bench_lines l ON l.idx = g % (SELECT count(*) FROM bench_lines)`,
    [start, Math.round(JOURNEYS * 0.03)],
  );
  await db.query(`ANALYZE tickets, journeys, taps`);
  const [{ taps }] = await db.query<Array<{ taps: string }>>(`SELECT count(*) AS taps FROM taps WHERE occurred_at >= $1 AND occurred_at < $1::timestamptz + interval '1 day'`, [start]);
  return Number(taps);
}

runSection('settlement', async (run) => {
  const postgres = await run.postgres(say);
  const db = await new DataSource(dataSourceOptions({ database: { url: postgres.url, poolSize: 2, migrateOnStart: false } })).initialize();
  run.defer(() => db.destroy());
  if (CURVE_SIZES.length > 0) return settlementCurve(db);
  const { passes: PASSES, singles: SINGLES } = dayShape(JOURNEYS);
  const generated = await timed(`generated the day ${DATE}`, () => generateDay(db, DATE, dayShape(JOURNEYS)));
  const taps = generated.result;
  say(`${taps.toLocaleString('en-US')} taps, ${JOURNEYS.toLocaleString('en-US')} journeys, ${PASSES.toLocaleString('en-US')} passes, ${SINGLES.toLocaleString('en-US')} single tickets`);

  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const rssBefore = process.memoryUsage().rss;
  const settlement = new SettlementService(db, new AuditLog(db));
  const settled = await timed('settled the day', () => settlement.schemeStatement(dayBounds(DATE)));
  const statement = settled.result;
  const again = await timed('settled it again (an open day re-runs)', () => settlement.schemeStatement(dayBounds(DATE)));
  const peakSettling = Math.max(peakRss, process.memoryUsage().rss);
  const exported = await timed('streamed the TIDES fare transactions of the day', async () => {
    let rows = 0;
    let amount = 0;
    for await (const row of settlement.fareTransactions({ id: 'bench', role: 'admin' }, DATE, undefined)) {
      rows += 1;
      amount += row.amount;
    }
    say(`  sum of their amounts: ${amount.toLocaleString('en-US')} VND`);
    return rows;
  });
  clearInterval(sampler);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);

  say(`${exported.result.toLocaleString('en-US')} fare transactions exported`);
  const sameOnRerun = JSON.stringify(again.result) === JSON.stringify(statement);
  say(`same figures on re-run: ${sameOnRerun}`);
  say(`check: revenue ${statement.check.revenue} = allocated ${statement.check.allocated} + unallocated ${statement.check.unallocated}: ${statement.check.balanced ? 'balanced' : 'NOT BALANCED'}`);
  for (const row of statement.operators) say(`  ${row.operatorId}: ${row.total.toLocaleString('en-US')} VND`);
  say(`memory: RSS before settling ${mb(rssBefore)}, peak while settling and exporting ${mb(peakRss)}, process maxRSS ${mb(process.resourceUsage().maxRSS * 1024)}`);
  if (!statement.check.balanced || !sameOnRerun) process.exitCode = 1;
  const seconds = (value: number) => `${value.toFixed(1)} s`.padStart(12);
  printTable(
    'settlement',
    [
      '',
      `${''.padEnd(34)}${'seconds'.padStart(12)}${'peak RSS'.padStart(12)}`,
      `${`settle ${DATE} (${(taps / 1e6).toFixed(1)} M taps)`.padEnd(34)}${seconds(settled.seconds)}${mb(peakSettling).padStart(12)}`,
      `${'settle it again'.padEnd(34)}${seconds(again.seconds)}${''.padStart(12)}`,
      `${`stream ${(exported.result / 1e6).toFixed(1)} M TIDES fare transactions`.padEnd(34)}${seconds(exported.seconds)}${mb(peakRss).padStart(12)}`,
      `peak RSS of this process: while settling (both runs), then with the export; RSS before settling ${mb(rssBefore)}`,
      `generating the day took ${generated.seconds.toFixed(0)} s; the statement ${statement.check.balanced ? 'balances' : 'DOES NOT BALANCE'}${sameOnRerun ? ' and is the same on re-run' : ' and DIFFERS on re-run'}`,
      '',
    ].join('\n'),
  );
});

interface CurvePoint {
  taps: number;
  generateSeconds: number;
  settleSeconds: number;
  againSeconds: number;
  peakRss: number;
}

/** Days of growing size in one database (each on its own date), each settled twice; time and peak memory against size. */
async function settlementCurve(db: DataSource): Promise<void> {
  const points: CurvePoint[] = [];
  const settlement = new SettlementService(db, new AuditLog(db));
  let balanced = true;
  for (const [index, millions] of CURVE_SIZES.entries()) {
    const date = new Date(Date.parse(`${DATE}T12:00:00Z`) + index * 86_400_000).toISOString().slice(0, 10);
    const shape = dayShape(Math.round((millions * 1e6) / 2));
    const generated = await timed(`generated ${date}: ${shape.journeys.toLocaleString('en-US')} journeys, ${shape.passes.toLocaleString('en-US')} passes`, () => generateDay(db, date, shape));
    let peakRss = process.memoryUsage().rss;
    const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
    const settled = await timed(`settled ${date} (${(generated.result / 1e6).toFixed(2)} M taps)`, () => settlement.schemeStatement(dayBounds(date)));
    const again = await timed('settled it again', () => settlement.schemeStatement(dayBounds(date)));
    clearInterval(sampler);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    const same = JSON.stringify(again.result) === JSON.stringify(settled.result);
    balanced &&= settled.result.check.balanced && same;
    say(`  ${settled.result.check.balanced ? 'balanced' : 'NOT BALANCED'}, ${same ? 'same' : 'DIFFERENT'} on re-run; peak RSS ${mb(peakRss)}`);
    points.push({ taps: generated.result, generateSeconds: generated.seconds, settleSeconds: settled.seconds, againSeconds: again.seconds, peakRss });
  }
  if (!balanced) process.exitCode = 1;
  // Least squares: seconds = a + b × taps, over the first settlements.
  const n = points.length;
  const [sx, sy] = [points.reduce((sum, p) => sum + p.taps, 0), points.reduce((sum, p) => sum + p.settleSeconds, 0)];
  const sxx = points.reduce((sum, p) => sum + p.taps * p.taps, 0);
  const sxy = points.reduce((sum, p) => sum + p.taps * p.settleSeconds, 0);
  const slope = n > 1 ? (n * sxy - sx * sy) / (n * sxx - sx * sx) : sy / sx;
  const intercept = n > 1 ? (sy - slope * sx) / n : 0;
  const cell = (value: string, width = 14) => value.padStart(width);
  printTable(
    'settlement',
    [
      '',
      `${'taps in the day'.padEnd(18)}${cell('generated')}${cell('settled')}${cell('again')}${cell('s per M taps')}${cell('peak RSS')}`,
      ...points.map(
        (p) =>
          `${`${(p.taps / 1e6).toFixed(2)} M`.padEnd(18)}${cell(`${p.generateSeconds.toFixed(0)} s`)}${cell(`${p.settleSeconds.toFixed(1)} s`)}${cell(`${p.againSeconds.toFixed(1)} s`)}` +
          `${cell((p.settleSeconds / (p.taps / 1e6)).toFixed(2))}${cell(mb(p.peakRss))}`,
      ),
      `fit: settling takes ${intercept.toFixed(1)} s + ${(slope * 1e6).toFixed(2)} s per million taps; projected for ${PROJECT_TO_TAPS / 1e6} M taps: ${(intercept + slope * PROJECT_TO_TAPS).toFixed(0)} s`,
      `peak RSS is this process's (the settling client); the work is Postgres' (one server, default settings). ${balanced ? 'Every statement balances and is the same on re-run.' : 'A statement DOES NOT BALANCE or differs on re-run.'}`,
      '',
    ].join('\n'),
  );
}
