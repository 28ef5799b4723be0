import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { JourneyCompletion } from '../../src/journeys/journey-completion';
import type { JourneyDto } from '../../src/journeys/journeys.dto';
import { testAccount } from '../support/auth';
import { expectError } from '../support/http';
import { accountQr, journeysWritten, localMorning, metroGates, ride, weekdaysAgo } from '../support/journeys';
import { expectLedgerBalanced, topUp, walletBalance } from '../support/money';
import { startTestApp } from '../support/test-app';
import { waitFor } from '../support/wait';
import { AccountGateState } from '../../src/gate-state/account-gate-state';
import { GateKeys, spendField } from '../../src/gate-state/gate-state';
import { localDayNumber, localWeekNumber } from '../../src/fares/domain/local-time';
import { RedisService } from '../../src/redis/redis.service';

/** The metro day pass (metro-day, 40,000 VND) caps a day of metro pay-as-you-go. */
const METRO_DAY_CAP = 40_000;

const STATIONS = ['2a-cat-linh', '2a-lang', '2a-ha-dong', '2a-thai-ha'];

describe('journeys: history, automatic completion and claims (e2e)', () => {
  let app: NestFastifyApplication;
  const http = () => request(app.getHttpServer());

  beforeAll(async () => {
    app = await startTestApp();
  });

  afterAll(async () => {
    await expectLedgerBalanced(app);
    await app.close();
  });

  const history = async (bearer: string): Promise<JourneyDto[]> => (await http().get('/v1/me/journeys').set('Authorization', bearer).expect(200)).body as JourneyDto[];
  const quote = async (from: string, to: string): Promise<number> =>
    ((await http().get('/v1/fares/quote').query({ lineId: 'metro-2a', from, to, riderCategory: 'adult' }).expect(200)).body as { amount: number }).amount;

  it('completes a forgotten exit at the usual exit (3 of the last 5 weekdays) and refunds the difference', async () => {
    const rider = await testAccount(app, 'passenger');
    await topUp(app, rider.bearer, 300_000);
    const qr = await accountQr(app, rider.bearer);
    const gates = await metroGates(app, STATIONS);
    const [forgottenDay, ...before] = weekdaysAgo(6);
    // Cát Linh → Láng on three of the five weekdays before, Cát Linh → Hà Đông once (not usual).
    await ride(app, gates, qr, '2a-cat-linh', '2a-lang', localMorning(before[4]));
    await ride(app, gates, qr, '2a-cat-linh', '2a-ha-dong', localMorning(before[3]));
    await ride(app, gates, qr, '2a-cat-linh', '2a-lang', localMorning(before[2]));
    await ride(app, gates, qr, '2a-cat-linh', '2a-lang', localMorning(before[0]));
    // The forgotten exit, then today's entry, which closes it at the maximum fare.
    await ride(app, gates, qr, '2a-cat-linh', null, localMorning(forgottenDay));
    await ride(app, gates, qr, '2a-thai-ha', null, Date.now() - 60_000);
    await journeysWritten(app, rider.id, 5);

    const timedOut = (await history(rider.bearer)).find((journey) => journey.status === 'timed_out')!;
    expect(timedOut).toMatchObject({ mediumKind: 'pay_as_you_go', entryStationId: '2a-cat-linh', claim: 'claimable', lineId: 'metro-2a', operatorId: 'hmc' });
    const maximum = timedOut.charge;
    expect(maximum).toBe(await quote('2a-cat-linh', '2a-yen-nghia'));
    const balanceBefore = await walletBalance(app, rider.bearer);

    const first = await app.get(JourneyCompletion).run();
    expect(first.completed).toBeGreaterThanOrEqual(1);
    // A second run looks at nothing again.
    const again = await app.get(JourneyCompletion).run();
    expect(again.looked).toBe(0);

    const usual = await quote('2a-cat-linh', '2a-lang');
    const completed = (await history(rider.bearer)).find((journey) => journey.id === timedOut.id)!;
    expect(completed).toMatchObject({
      claim: 'auto_completed',
      correction: { kind: 'auto_completion', ruleId: 'usual-exit-3-of-5', exitStationId: '2a-lang', originalCharge: maximum, charge: usual, refunded: maximum - usual },
    });
    expect(await walletBalance(app, rider.bearer)).toBe(balanceBefore + maximum - usual);
    // The gates' copy of the balance follows the refund (through the ledger's wallet listeners, read-only here).
    await waitFor(() => app.get(AccountGateState).balance(rider.id), (gateBalance) => gateBalance === balanceBefore + maximum - usual);
    const [entry] = await app
      .get(DataSource)
      .query<Array<{ amount: string }>>(
        `SELECT e.amount FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id WHERE t.reference = $1 AND t.kind = 'journey_correction' AND e.ledger_account_id = $2`,
        [timedOut.id, `wallet:${rider.id}`],
      );
    expect(Number(entry.amount)).toBe(maximum - usual);
    // Already corrected: a claim is refused.
    expectError(
      await http().post(`/v1/me/journeys/${timedOut.id}/claims`).set('Authorization', rider.bearer).set('Idempotency-Key', randomUUID()).send({ exitStationId: '2a-thai-ha' }),
      409,
      'JOURNEY_ALREADY_CORRECTED',
    );
  });

  it('shows each journey with its fare, the balance after it, and completed journeys cannot be claimed', async () => {
    const rider = await testAccount(app, 'passenger');
    await topUp(app, rider.bearer, 100_000);
    const qr = await accountQr(app, rider.bearer);
    const gates = await metroGates(app, STATIONS);
    await ride(app, gates, qr, '2a-cat-linh', '2a-lang', localMorning(1));
    await journeysWritten(app, rider.id, 1);
    const [journey] = await history(rider.bearer);
    const fare = await quote('2a-cat-linh', '2a-lang');
    expect(journey).toMatchObject({ status: 'closed', exitStationId: '2a-lang', fare, charge: fare, capApplied: false, reduction: 'none', balanceAfter: 100_000 - fare, claim: 'not_applicable' });
    expectError(
      await http().post(`/v1/me/journeys/${journey.id}/claims`).set('Authorization', rider.bearer).set('Idempotency-Key', randomUUID()).send({ exitStationId: '2a-thai-ha' }),
      409,
      'JOURNEY_NOT_CLAIMABLE',
    );
    // Another rider's journey does not exist for them.
    const other = await testAccount(app, 'passenger');
    expectError(
      await http().post(`/v1/me/journeys/${journey.id}/claims`).set('Authorization', other.bearer).set('Idempotency-Key', randomUUID()).send({ exitStationId: '2a-thai-ha' }),
      404,
      'NOT_FOUND',
    );
    expect(await history(other.bearer)).toEqual([]);
  });

  it('pays a claim back once per key and refuses the fourth claim in a month', async () => {
    const rider = await testAccount(app, 'passenger');
    await topUp(app, rider.bearer, 300_000);
    const qr = await accountQr(app, rider.bearer);
    const gates = await metroGates(app, STATIONS);
    // Four forgotten exits on four days (no usual exit: nothing is completed automatically), then today's entry.
    for (const daysAgo of [5, 4, 3, 2]) await ride(app, gates, qr, '2a-cat-linh', null, localMorning(daysAgo));
    await ride(app, gates, qr, '2a-cat-linh', null, Date.now() - 60_000);
    await journeysWritten(app, rider.id, 4);
    await app.get(JourneyCompletion).run();
    const timedOut = (await history(rider.bearer)).filter((journey) => journey.status === 'timed_out');
    expect(timedOut.map((journey) => journey.claim)).toEqual(['claimable', 'claimable', 'claimable', 'claimable']);

    const fare = await quote('2a-cat-linh', '2a-thai-ha');
    const claim = (id: string, key: string) =>
      http().post(`/v1/me/journeys/${id}/claims`).set('Authorization', rider.bearer).set('Idempotency-Key', key).send({ exitStationId: '2a-thai-ha' });
    const balance = await walletBalance(app, rider.bearer);
    const key = randomUUID();
    const paid = await claim(timedOut[0].id, key).expect(200);
    expect(paid.body).toMatchObject({ claim: 'claimed', correction: { kind: 'claim', exitStationId: '2a-thai-ha', charge: fare, refunded: timedOut[0].charge - fare } });
    // The same key again: the first answer, and no second refund.
    expect((await claim(timedOut[0].id, key).expect(200)).body).toEqual(paid.body);
    expect(await walletBalance(app, rider.bearer)).toBe(balance + timedOut[0].charge - fare);

    await claim(timedOut[1].id, randomUUID()).expect(200);
    await claim(timedOut[2].id, randomUUID()).expect(200);
    expectError(await claim(timedOut[3].id, randomUUID()), 409, 'CLAIM_LIMIT_REACHED');
    expect(await walletBalance(app, rider.bearer)).toBe(balance + timedOut.slice(0, 3).reduce((sum, journey) => sum + journey.charge - fare, 0));
    expect((await history(rider.bearer)).find((journey) => journey.id === timedOut[3].id)?.claim).toBe('claimable');
  });

  it("lowers the cap spend the gates counted by a correction's refund, so the rider does not reach the cap early", async () => {
    const rider = await testAccount(app, 'passenger');
    await topUp(app, rider.bearer, 300_000);
    const qr = await accountQr(app, rider.bearer);
    const gates = await metroGates(app, STATIONS);
    // Yesterday: a forgotten exit, closed at the maximum fare by the next entry four hours later.
    await ride(app, gates, qr, '2a-cat-linh', null, localMorning(1));
    await ride(app, gates, qr, '2a-cat-linh', '2a-ha-dong', localMorning(1, 240));
    await journeysWritten(app, rider.id, 2);
    const [second, forgotten] = await history(rider.bearer);
    expect(forgotten).toMatchObject({ status: 'timed_out', claim: 'claimable' });

    // The gates count spend per local day and week: the timeout's, wherever the sweeper or a tap closed it.
    const days = [1, 0].map((back) => localDayNumber(localMorning(back)));
    const weeks = [...new Set([1, 0].map((back) => localWeekNumber(localMorning(back))))];
    const spendFields = [...days.map((day) => spendField('daySpent', day)), ...weeks.map((week) => spendField('weekSpent', week))];
    const spend = async () => {
      const values = await app.get(RedisService).client.hmGet(app.get(GateKeys).spend('payg', rider.id), spendFields);
      const numbers = values.map((value) => Number(value ?? 0));
      return { days: numbers[0] + numbers[1], weeks: numbers.slice(2).reduce((sum, value) => sum + value, 0), yesterday: numbers[0] };
    };
    const before = await spend();
    expect(before.days).toBe(forgotten.charge + second.charge);

    const paid = await http()
      .post(`/v1/me/journeys/${forgotten.id}/claims`)
      .set('Authorization', rider.bearer)
      .set('Idempotency-Key', randomUUID())
      .send({ exitStationId: '2a-lang' })
      .expect(200);
    const refunded = (paid.body as JourneyDto).correction!.refunded;
    expect(refunded).toBeGreaterThan(0);
    const after = await spend();
    expect({ days: before.days - after.days, weeks: before.weeks - after.weeks }).toEqual({ days: refunded, weeks: refunded });

    // A third ride yesterday is capped by what the rider was really charged, not by the maximum fare.
    await ride(app, gates, qr, '2a-ha-dong', '2a-cat-linh', localMorning(1, 300));
    await journeysWritten(app, rider.id, 3);
    const [third] = await history(rider.bearer);
    expect(third.charge).toBe(Math.min(third.fare!, Math.max(0, METRO_DAY_CAP - after.yesterday)));
  });
});
