import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { FaresService } from '../../src/fares/fares.service';
import { TicketStateStore } from '../../src/gate-state/ticket-state.store';
import { AccountGateState } from '../../src/gate-state/account-gate-state';
import { GateAccountsService } from '../../src/validation/gate-accounts.service';
import { GateScript } from '../../src/gate-state/gate-script';
import { TapPersister } from '../../src/validation/tap-persister';
import { GateKeys } from '../../src/gate-state/gate-state';
import { RedisService } from '../../src/redis/redis.service';
import { TicketsService } from '../../src/tickets/tickets.service';
import { testAccount } from '../support/auth';
import { gateAt, tap, tapStreams, type GateDevice } from '../support/gate';
import { useTestApp } from '../support/http';
import { expectLedgerBalanced, topUp } from '../support/money';
import { waitFor } from '../support/wait';

describe('the gate path: the tap stream to Postgres, and races at the gate', () => {
  const { app, http } = useTestApp();
  let catLinh: GateDevice;
  let haDong: GateDevice;

  beforeAll(async () => {
    [catLinh, haDong] = await Promise.all([gateAt(app(), 'metro-2a', '2a-cat-linh'), gateAt(app(), 'metro-2a', '2a-ha-dong')]);
  });

  const db = () => app().get(DataSource);
  const streamEventsOf = async (accountId: string) => (await tapStreams.events(app())).filter((event) => event.acct === accountId);

  it('writes every tap once, the journey with its fare, and the pay-as-you-go charge to the ledger; replays change nothing', async () => {
    const passenger = await testAccount(app(), 'passenger');
    await topUp(app(), passenger.bearer, 100_000);
    const qr = (await http().get('/v1/me/qr').query({ format: 'text' }).set('Authorization', passenger.bearer).expect(200)).text;
    const entryId = randomUUID();
    const exitId = randomUUID();
    const entry = await tap(app(), catLinh, { tapId: entryId, qr, direction: 'entry' });
    const exit = await tap(app(), haDong, { tapId: exitId, qr, direction: 'exit' });
    await tap(app(), haDong, { tapId: exitId, qr, direction: 'exit' });
    const refused = await tap(app(), haDong, { qr, direction: 'exit' });
    expect(refused.reason).toBe('NO_ENTRY');
    const fare = app().get(FaresService).calculator().quote('metro-2a', '2a-cat-linh', '2a-ha-dong', 'adult', Date.now()).amount;
    expect(exit.fare).toBe(fare);

    const events = await streamEventsOf(passenger.id);
    expect(events).toHaveLength(3);
    await app().get(TapPersister).drain();
    const taps = await waitFor(
      () => db().query<Array<{ tap_id: string; verdict: string; reason: string; charge: string }>>(`SELECT tap_id, verdict, reason, charge FROM taps WHERE account_id = $1 ORDER BY occurred_at`, [passenger.id]),
      (rows) => rows.length === 3,
    );
    expect(taps.map((row) => [row.tap_id === entryId || row.tap_id === exitId, row.verdict, row.reason, Number(row.charge)])).toEqual([
      [true, 'accept', 'OK', 0],
      [true, 'accept', 'OK', fare],
      [false, 'reject', 'NO_ENTRY', 0],
    ]);
    const journeys = await waitFor(
      () => db().query<Array<{ id: string; status: string; charge: string; unpaid: string; exit_station_id: string }>>(`SELECT * FROM journeys WHERE account_id = $1`, [passenger.id]),
      (rows) => rows[0]?.status === 'closed',
    );
    expect(journeys.map((row) => ({ id: row.id, status: row.status, charge: Number(row.charge), unpaid: Number(row.unpaid), exit: row.exit_station_id }))).toEqual([
      { id: entry.journeyId, status: 'closed', charge: fare, unpaid: 0, exit: '2a-ha-dong' },
    ]);
    const ledger = await waitFor(
      () => db().query<Array<{ amount: string }>>(`SELECT e.amount FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id WHERE t.kind = 'fare' AND t.reference = $1 AND e.ledger_account_id = $2`, [entry.journeyId, `wallet:${passenger.id}`]),
      (rows) => rows.length === 1,
    );
    expect(Number(ledger[0].amount)).toBe(-fare);
    expect((await http().get('/v1/wallet').set('Authorization', passenger.bearer).expect(200)).body).toMatchObject({ balance: 100_000 - fare });

    // Redelivery after a crash between the commit and the acknowledgement: the same events again change nothing.
    await app().get(TapPersister).persist(events);
    expect(await db().query(`SELECT count(*)::int AS n FROM taps WHERE account_id = $1`, [passenger.id])).toEqual([{ n: 3 }]);
    expect(await db().query(`SELECT count(*)::int AS n FROM ledger_transactions WHERE reference = $1`, [entry.journeyId])).toEqual([{ n: 1 }]);
    await expectLedgerBalanced(app());
  });

  it('keeps what an offline trip costs beyond the wallet as owed on the journey', async () => {
    const passenger = await testAccount(app(), 'passenger');
    await topUp(app(), passenger.bearer, 10_000);
    const qr = (await http().get('/v1/me/qr').query({ format: 'text' }).set('Authorization', passenger.bearer).expect(200)).text;
    const now = Date.now();
    const at = (seconds: number) => new Date(now - seconds * 1000).toISOString();
    await http().post('/v1/validations/batch').set('Authorization', catLinh.bearer).send({ taps: [{ tapId: randomUUID(), qr, direction: 'entry', occurredAt: at(600) }] }).expect(200);
    const exit = await http().post('/v1/validations/batch').set('Authorization', haDong.bearer).send({ taps: [{ tapId: randomUUID(), qr, direction: 'exit', occurredAt: at(60) }] }).expect(200);
    const fare = exit.body.results[0].fare as number;
    expect(fare).toBeGreaterThan(10_000);
    await app().get(TapPersister).drain();
    const [journey] = await waitFor(
      () => db().query<Array<{ charge: string; unpaid: string }>>(`SELECT charge, unpaid FROM journeys WHERE account_id = $1 AND status = 'closed'`, [passenger.id]),
      (rows) => rows.length === 1,
    );
    expect({ charge: Number(journey.charge), unpaid: Number(journey.unpaid) }).toEqual({ charge: fare, unpaid: fare - 10_000 });
    expect((await http().get('/v1/wallet').set('Authorization', passenger.bearer).expect(200)).body).toMatchObject({ balance: 0 });

    // The next top-up pays the debt first, in its own transaction; the gates' mirror had already counted it.
    await topUp(app(), passenger.bearer, 20_000);
    expect(await db().query(`SELECT unpaid::int FROM journeys WHERE account_id = $1`, [passenger.id])).toEqual([{ unpaid: 0 }]);
    expect((await http().get('/v1/wallet').set('Authorization', passenger.bearer).expect(200)).body).toMatchObject({ balance: 30_000 - fare });
    expect(await app().get(AccountGateState).balance(passenger.id)).toBe(30_000 - fare);
    expect(await app().get(GateAccountsService).collectOwedFares(db().manager, passenger.id)).toBe(0);
    await expectLedgerBalanced(app());
  });

  it('one single-use ticket tapped on entry at 10 gates at once, 1,000 times: exactly one accept each time', async () => {
    const script = app().get(GateScript);
    const states = app().get(TicketStateStore);
    const passenger = await testAccount(app(), 'passenger');
    const stations = ['2a-cat-linh', '2a-la-thanh', '2a-thai-ha', '2a-lang', '2a-thuong-dinh', '2a-vanh-dai-3', '2a-phung-khoang', '2a-van-quan', '2a-ha-dong', '2a-la-khe'];
    const now = Date.now();
    for (let round = 0; round < 1_000; round++) {
      const ticketId = randomUUID();
      await states.write([
        {
          ticketId,
          version: 1,
          status: 'active',
          kind: 'single',
          accountId: passenger.id,
          riderCategory: 'adult',
          modes: ['metro'],
          lineIds: null,
          originStationId: '2a-cat-linh',
          destinationStationId: '2a-yen-nghia',
          activation: 'fixed',
          validFrom: new Date(now - 60_000),
          validUntil: new Date(now + 3_600_000),
          validityDays: null,
          firstUseBy: null,
          firstUsedAt: null,
        },
      ]);
      const outcomes = await Promise.all(
        stations.map((stationId, gate) =>
          script.run({
            at: now,
            direction: 'entry',
            kind: 'single',
            subjectId: ticketId,
            nodeReason: '',
            deviceId: `race-gate-${gate}`,
            tapId: `race-${round}`,
            stationId,
            lineId: 'metro-2a',
            modeBit: 1,
            journeyId: randomUUID(),
            offline: false,
            riderCategory: 'adult',
          }),
        ),
      );
      const accepted = outcomes.filter((outcome) => outcome.verdict === 'accept').length;
      if (accepted !== 1) throw new Error(`round ${round}: ${accepted} gates accepted one single-use ticket`);
    }
  });

  it('a first use the gates began reaches the ticket in Postgres: shown, not refundable, and back at the gates after Redis lost the ticket', async () => {
    const passenger = await testAccount(app(), 'passenger');
    await topUp(app(), passenger.bearer, 100_000);
    const order = await http()
      .post('/v1/orders')
      .set('Authorization', passenger.bearer)
      .set('Idempotency-Key', randomUUID())
      .send({ payWith: 'wallet', items: [{ productId: 'metro-single', originStationId: '2a-cat-linh', destinationStationId: '2a-ha-dong' }] })
      .expect(201);
    const ticketId = (order.body as { tickets: Array<{ id: string }> }).tickets[0].id;
    const qr = (await http().get(`/v1/tickets/${ticketId}/qr`).query({ format: 'text' }).set('Authorization', passenger.bearer).expect(200)).text;
    const entry = await tap(app(), catLinh, { qr, direction: 'entry' });
    expect(entry).toMatchObject({ verdict: 'accept', reason: 'OK' });
    await tap(app(), haDong, { qr, direction: 'exit' });
    await app().get(TapPersister).drain();

    const shown = await http().get(`/v1/tickets/${ticketId}`).set('Authorization', passenger.bearer).expect(200);
    expect((shown.body as { firstUsedAt?: string }).firstUsedAt).toEqual(expect.any(String));
    const refund = await http().post(`/v1/tickets/${ticketId}/refund`).set('Authorization', passenger.bearer).set('Idempotency-Key', randomUUID()).send({});
    expect(refund.status).toBe(409);
    // Redis loses the ticket; the rebuild writes it from Postgres: the used single trip stays used.
    await app().get(RedisService).client.del(app().get(GateKeys).ticketState(ticketId));
    await app().get(TicketsService).rebuildGateState();
    expect(await tap(app(), catLinh, { qr, direction: 'entry' })).toMatchObject({ verdict: 'reject', reason: 'ALREADY_USED' });
  });
});
