import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AccessTokens } from '../../src/accounts/access-tokens';
import { FaresService } from '../../src/fares/fares.service';
import { localDayNumber, localDayStartMs } from '../../src/fares/domain/local-time';
import { QrTokens } from '../../src/tickets/qr-tokens';
import { TicketStateStore } from '../../src/gate-state/ticket-state.store';
import { AccountGateState } from '../../src/gate-state/account-gate-state';
import { TapPersister } from '../../src/validation/tap-persister';
import { GateKeys } from '../../src/gate-state/gate-state';
import { testAccount, type TestAccount } from '../support/auth';
import { forgetDeviceTaps, gateAt, tap, tapStreams, type GateDevice } from '../support/gate';
import { RedisService } from '../../src/redis/redis.service';
import { expectError, useTestApp } from '../support/http';
import { topUp } from '../support/money';
import { waitFor } from '../support/wait';

const HOUR = 3600_000;
const DAY = 24 * HOUR;

/**
 * Issue 15's eight findings, each as it was reproduced against the old main: a rider charged at a
 * gate without the record hearing of it, or a gate trusting what it should not.
 */
describe('the gate state and the record agree (issue 15 findings)', () => {
  const { app, http } = useTestApp();
  let catLinh: GateDevice;
  let haDong: GateDevice;
  let yenNghia: GateDevice;

  beforeAll(async () => {
    [catLinh, haDong, yenNghia] = await Promise.all([gateAt(app(), 'metro-2a', '2a-cat-linh'), gateAt(app(), 'metro-2a', '2a-ha-dong'), gateAt(app(), 'metro-2a', '2a-yen-nghia')]);
  });

  const db = () => app().get(DataSource);
  const accountQr = async (rider: TestAccount): Promise<string> => (await http().get('/v1/me/qr').query({ format: 'text' }).set('Authorization', rider.bearer).expect(200)).text;
  const gateBalance = (rider: TestAccount) => app().get(AccountGateState).balance(rider.id);
  const postgresWallet = async (rider: TestAccount): Promise<number> => {
    const [row] = await db().query<Array<{ balance: string }>>(`SELECT balance FROM ledger_accounts WHERE id = $1`, [`wallet:${rider.id}`]);
    return Number(row?.balance ?? 0);
  };
  /** What Postgres owes the gates: the wallet less fares it could not cover. */
  const recordBalance = async (rider: TestAccount): Promise<number> => {
    const [row] = await db().query<Array<{ unpaid: string }>>(`SELECT coalesce(sum(unpaid), 0) AS unpaid FROM journeys WHERE account_id = $1`, [rider.id]);
    return (await postgresWallet(rider)) - Number(row.unpaid);
  };
  const drain = () => app().get(TapPersister).drain();
  const batch = (device: GateDevice, taps: object[]) => http().post('/v1/validations/batch').set('Authorization', device.bearer).send({ taps });
  const forgetTaps = (device: GateDevice): Promise<number> => forgetDeviceTaps(app(), device.deviceId);
  const calculator = () => app().get(FaresService).calculator();
  const streamEvents = () => tapStreams.events(app());

  it('1. a tap id reused by a device for another rider changes nothing and is refused as TAP_ID_REUSED; the first body still gets its verdict', async () => {
    const [x, y] = await Promise.all([testAccount(app(), 'passenger'), testAccount(app(), 'passenger')]);
    await Promise.all([topUp(app(), x.bearer, 100_000), topUp(app(), y.bearer, 100_000)]);
    const [qrX, qrY] = await Promise.all([accountQr(x), accountQr(y)]);
    await tap(app(), catLinh, { qr: qrX, direction: 'entry' });
    await tap(app(), catLinh, { qr: qrY, direction: 'entry' });
    const reused = randomUUID();
    const first = await tap(app(), haDong, { tapId: reused, qr: qrX, direction: 'exit' });
    expect(first).toMatchObject({ verdict: 'accept', reason: 'OK' });
    const second = await tap(app(), haDong, { tapId: reused, qr: qrY, direction: 'exit' });
    expect(second).toEqual({ verdict: 'reject', reason: 'TAP_ID_REUSED' });
    expect(await gateBalance(y)).toBe(100_000);
    expect(await tap(app(), haDong, { tapId: reused, qr: qrX, direction: 'exit' })).toEqual(first);
    // Y's journey is still open: its real exit is charged once.
    expect(await tap(app(), haDong, { qr: qrY, direction: 'exit' })).toMatchObject({ verdict: 'accept', fare: first.fare });
    await drain();
    expect(await db().query(`SELECT count(*)::int AS n FROM taps WHERE device_id = $1 AND tap_id = $2`, [haDong.deviceId, reused])).toEqual([{ n: 1 }]);
    for (const rider of [x, y]) expect(await recordBalance(rider)).toBe(await gateBalance(rider));
  });

  /** The taps the record refused under one (device, tapId) (tap_conflicts). */
  const conflicts = async (device: GateDevice, tapId: string) =>
    db().query<Array<{ same_body: boolean; sub: string }>>(`SELECT same_body, event->>'sub' AS sub FROM tap_conflicts WHERE device_id = $1 AND tap_id = $2 ORDER BY occurred_at`, [device.deviceId, tapId]);
  const openJourneyAtGates = async (rider: TestAccount) => (await app().get(RedisService).client.hGet(app().get(GateKeys).trip('payg', rider.id), 'jid')) ?? null;

  it('1c. an online tap reusing an id the tap memory forgot is undone at the gates once the record refuses it', async () => {
    const [x, y] = await Promise.all([testAccount(app(), 'passenger'), testAccount(app(), 'passenger')]);
    await Promise.all([topUp(app(), x.bearer, 100_000), topUp(app(), y.bearer, 100_000)]);
    const [qrX, qrY] = await Promise.all([accountQr(x), accountQr(y)]);
    const reused = randomUUID();
    await tap(app(), catLinh, { qr: qrX, direction: 'entry' });
    const first = await tap(app(), haDong, { tapId: reused, qr: qrX, direction: 'exit' });
    expect(first).toMatchObject({ verdict: 'accept' });
    await drain();
    await forgetTaps(haDong);
    const yEntry = await tap(app(), catLinh, { qr: qrY, direction: 'entry' });
    // With the memory gone the gate cannot tell this from a new tap: it answers and charges Y ...
    const answered = await tap(app(), haDong, { tapId: reused, qr: qrY, direction: 'exit' });
    expect(answered).toMatchObject({ verdict: 'accept', fare: first.fare });
    expect(await gateBalance(y)).toBe(100_000 - first.fare!);
    // ... and the record, which holds X's tap under that id, refuses it: the gates give the fare back and reopen Y's journey.
    await drain();
    expect(await gateBalance(y)).toBe(100_000);
    expect(await recordBalance(y)).toBe(100_000);
    expect(await openJourneyAtGates(y)).toBe(yEntry.journeyId);
    expect(await conflicts(haDong, reused)).toEqual([{ same_body: false, sub: y.id }]);
    expect(await db().query(`SELECT account_id FROM taps WHERE device_id = $1 AND tap_id = $2`, [haDong.deviceId, reused])).toEqual([{ account_id: x.id }]);
    // The tap memory now says what the record says.
    expect(await tap(app(), haDong, { tapId: reused, qr: qrY, direction: 'exit' })).toEqual({ verdict: 'reject', reason: 'TAP_ID_REUSED' });
    expect(await tap(app(), haDong, { tapId: reused, qr: qrX, direction: 'exit' })).toEqual(first);
    // Y's real exit is charged once, at the gates and in the record; a redelivery of the batch changes nothing.
    expect(await tap(app(), haDong, { qr: qrY, direction: 'exit' })).toMatchObject({ verdict: 'accept', fare: first.fare });
    await drain();
    for (const rider of [x, y]) expect(await recordBalance(rider)).toBe(await gateBalance(rider));
    expect(await gateBalance(y)).toBe(100_000 - first.fare!);
  });

  it('1d. the same tap again after the tap memory forgot it charges nothing in the end, and then gets its first answer', async () => {
    const x = await testAccount(app(), 'passenger');
    await topUp(app(), x.bearer, 100_000);
    const qr = await accountQr(x);
    const exitId = randomUUID();
    await tap(app(), catLinh, { qr, direction: 'entry' });
    const first = await tap(app(), haDong, { tapId: exitId, qr, direction: 'exit' });
    await drain();
    const charged = await gateBalance(x);
    expect(charged).toBe(100_000 - first.fare!);
    await forgetTaps(haDong);
    const second = await tap(app(), catLinh, { qr, direction: 'entry' });
    // The validator sends its old exit again: the gate, having forgotten it, closes the new journey with it.
    expect(await tap(app(), haDong, { tapId: exitId, qr, direction: 'exit' })).toMatchObject({ verdict: 'accept', journeyId: second.journeyId });
    await drain();
    expect(await gateBalance(x)).toBe(charged);
    expect(await recordBalance(x)).toBe(charged);
    expect(await openJourneyAtGates(x)).toBe(second.journeyId);
    expect(await conflicts(haDong, exitId)).toEqual([{ same_body: true, sub: x.id }]);
    expect(await tap(app(), haDong, { tapId: exitId, qr, direction: 'exit' })).toEqual(first);
    expect(await gateBalance(x)).toBe(charged);
  });

  it('1e. a reused id whose two taps reach the record in one batch: the first is recorded, the second undone', async () => {
    const [x, y] = await Promise.all([testAccount(app(), 'passenger'), testAccount(app(), 'passenger')]);
    await Promise.all([topUp(app(), x.bearer, 100_000), topUp(app(), y.bearer, 100_000)]);
    const [qrX, qrY] = await Promise.all([accountQr(x), accountQr(y)]);
    await drain();
    const reused = randomUUID();
    await tap(app(), catLinh, { qr: qrX, direction: 'entry' });
    await tap(app(), catLinh, { qr: qrY, direction: 'entry' });
    const first = await tap(app(), haDong, { tapId: reused, qr: qrX, direction: 'exit' });
    await forgetTaps(haDong);
    expect(await tap(app(), haDong, { tapId: reused, qr: qrY, direction: 'exit' })).toMatchObject({ verdict: 'accept', fare: first.fare });
    await drain();
    expect(await db().query(`SELECT account_id FROM taps WHERE device_id = $1 AND tap_id = $2`, [haDong.deviceId, reused])).toEqual([{ account_id: x.id }]);
    expect(await conflicts(haDong, reused)).toEqual([{ same_body: false, sub: y.id }]);
    expect(await gateBalance(x)).toBe(100_000 - first.fare!);
    expect(await gateBalance(y)).toBe(100_000);
    for (const rider of [x, y]) expect(await recordBalance(rider)).toBe(await gateBalance(rider));
  });

  it('1f. a refused tap is undone once however often its batch is delivered', async () => {
    const [x, y] = await Promise.all([testAccount(app(), 'passenger'), testAccount(app(), 'passenger')]);
    await Promise.all([topUp(app(), x.bearer, 100_000), topUp(app(), y.bearer, 100_000)]);
    const [qrX, qrY] = await Promise.all([accountQr(x), accountQr(y)]);
    const reused = randomUUID();
    await tap(app(), catLinh, { qr: qrX, direction: 'entry' });
    await tap(app(), haDong, { tapId: reused, qr: qrX, direction: 'exit' });
    await drain();
    await forgetTaps(haDong);
    await tap(app(), catLinh, { qr: qrY, direction: 'entry' });
    await tap(app(), haDong, { tapId: reused, qr: qrY, direction: 'exit' });
    const events = (await streamEvents()).filter((event) => event.acct === y.id);
    await drain();
    expect(await gateBalance(y)).toBe(100_000);
    // Redelivered after a crash between the commit and the acknowledgement: the undo does not run twice.
    await app().get(TapPersister).persist(events);
    await app().get(TapPersister).persist(events);
    expect(await gateBalance(y)).toBe(100_000);
    expect(await conflicts(haDong, reused)).toHaveLength(1);
    expect(await recordBalance(y)).toBe(100_000);
  });

  it('1b. two taps with one (device, tapId) in one persister batch are one row', async () => {
    const events = [
      { ev: 'tap' as const, at: String(Date.now()), dev: 'dup-dev', tap: 'dup-1', dir: 'entry', st: '2a-cat-linh', ln: 'metro-2a', kind: 'pass', sub: randomUUID(), acct: '', cat: 'adult', verdict: 'accept', reason: 'OK', valid: '1', off: '0', jid: randomUUID(), jat: String(Date.now()), jst: '2a-cat-linh', fare: '', full: '', charge: '0', bal: '' },
    ];
    const deviceId = `dup-${randomUUID()}`;
    const twice = [{ ...events[0], dev: deviceId }, { ...events[0], dev: deviceId, sub: randomUUID(), jid: randomUUID() }];
    await app().get(TapPersister).persist(twice);
    expect(await db().query(`SELECT count(*)::int AS n FROM taps WHERE device_id = $1`, [deviceId])).toEqual([{ n: 1 }]);
  });

  it('2. a batch uploaded again after the tap memory forgot it changes nothing: the record decides', async () => {
    const rider = await testAccount(app(), 'passenger');
    await topUp(app(), rider.bearer, 100_000);
    const qr = await accountQr(rider);
    const at = (hoursAgo: number) => new Date(Date.now() - hoursAgo * HOUR).toISOString();
    const entries = [{ tapId: randomUUID(), qr, direction: 'entry', occurredAt: at(5 * 24) }];
    const exits = [{ tapId: randomUUID(), qr, direction: 'exit', occurredAt: at(5 * 24 - 1) }];
    const firstEntry = (await batch(catLinh, entries).expect(200)).body;
    const firstExit = (await batch(haDong, exits).expect(200)).body;
    expect(firstExit.results[0]).toMatchObject({ verdict: 'accept', valid: true });
    const charged = await gateBalance(rider);
    expect(charged).toBeLessThan(100_000);
    await drain();
    expect(await forgetTaps(catLinh)).toBeGreaterThan(0);
    await forgetTaps(haDong);
    expect((await batch(catLinh, entries).expect(200)).body.results).toEqual(firstEntry.results);
    expect((await batch(haDong, exits).expect(200)).body.results).toEqual(firstExit.results);
    expect(await gateBalance(rider)).toBe(charged);
    await drain();
    expect(await recordBalance(rider)).toBe(charged);
    // The same tap id with another body is refused here too.
    const other = await batch(haDong, [{ ...exits[0], direction: 'entry' }]).expect(200);
    expect(other.body.results[0]).toMatchObject({ verdict: 'reject', reason: 'TAP_ID_REUSED' });
  });

  it("3. a late tap counts on its own local day: it never resets today's cap", async () => {
    const rider = await testAccount(app(), 'passenger');
    await topUp(app(), rider.bearer, 300_000);
    const qr = await accountQr(rider);
    const now = Date.now();
    const dayCap = calculator().capFor('day', 1, 'adult', now)!;
    expect(dayCap).toBeGreaterThan(0);
    const trip = async () => {
      await tap(app(), catLinh, { qr, direction: 'entry' });
      return (await tap(app(), yenNghia, { qr, direction: 'exit' })).fare ?? 0;
    };
    let today = 0;
    for (let i = 0; i < 4; i++) today += await trip();
    expect(today).toBeLessThanOrEqual(dayCap);
    // 10:00 local yesterday: the whole late trip on yesterday's local day, whatever the time now.
    const yesterday = (minutes: number) => new Date(localDayStartMs(localDayNumber(now) - 1) + 10 * HOUR + minutes * 60_000).toISOString();
    await batch(catLinh, [{ tapId: randomUUID(), qr, direction: 'entry', occurredAt: yesterday(0) }]).expect(200);
    const late = await batch(yenNghia, [{ tapId: randomUUID(), qr, direction: 'exit', occurredAt: yesterday(30) }]).expect(200);
    expect(late.body.results[0].fare).toBeGreaterThan(0);
    for (let i = 0; i < 2; i++) today += await trip();
    expect(today).toBeLessThanOrEqual(dayCap);
  });

  it('4. an open pay-as-you-go journey holds its maximum fare: a purchase from the wallet cannot spend it', async () => {
    const rider = await testAccount(app(), 'passenger');
    const max = calculator().maximumFare('metro-2a', 'adult', Date.now()).amount;
    const price = calculator().quote(null, '2a-cat-linh', '2a-ha-dong', 'adult', Date.now()).amount;
    const funds = max + Math.floor(price / 2);
    await topUp(app(), rider.bearer, funds);
    const qr = await accountQr(rider);
    expect(await tap(app(), catLinh, { qr, direction: 'entry' })).toMatchObject({ verdict: 'accept', reason: 'OK' });
    const order = await http()
      .post('/v1/orders')
      .set('Authorization', rider.bearer)
      .set('Idempotency-Key', randomUUID())
      .send({ payWith: 'wallet', items: [{ productId: 'metro-single', originStationId: '2a-cat-linh', destinationStationId: '2a-ha-dong' }] });
    expectError(order, 409, 'INSUFFICIENT_BALANCE');
    expect(await tap(app(), yenNghia, { qr, direction: 'exit' })).toMatchObject({ verdict: 'accept' });
    expect(await gateBalance(rider)).toBeGreaterThanOrEqual(0);
  });

  it('4b. a purchase from the wallet racing an entry: the entry cannot pass on money the committing purchase spends', async () => {
    const rider = await testAccount(app(), 'passenger');
    const max = calculator().maximumFare('metro-2a', 'adult', Date.now()).amount;
    const price = calculator().quote(null, '2a-cat-linh', '2a-ha-dong', 'adult', Date.now()).amount;
    const funds = max + Math.floor(price / 2);
    await topUp(app(), rider.bearer, funds);
    const qr = await accountQr(rider);
    // Hold the purchase's transaction open after its wallet check: its tickets wait on this lock.
    const blocker = db().createQueryRunner();
    await blocker.connect();
    await blocker.startTransaction();
    await blocker.query('LOCK TABLE tickets IN EXCLUSIVE MODE');
    const order = http()
      .post('/v1/orders')
      .set('Authorization', rider.bearer)
      .set('Idempotency-Key', randomUUID())
      .send({ payWith: 'wallet', items: [{ productId: 'metro-single', originStationId: '2a-cat-linh', destinationStationId: '2a-ha-dong' }] })
      .then((response) => response);
    try {
      // The purchase has passed its check and waits to commit: the gates already count it.
      await waitFor(() => gateBalance(rider), (balance) => balance === funds - price);
      expect(await tap(app(), catLinh, { qr, direction: 'entry' })).toMatchObject({ verdict: 'reject', reason: 'INSUFFICIENT_BALANCE' });
    } finally {
      await blocker.commitTransaction();
      await blocker.release();
    }
    expect((await order).status).toBe(201);
    expect(await gateBalance(rider)).toBe(funds - price);
    await drain();
    expect(await recordBalance(rider)).toBe(funds - price);
  });

  it('4c. a purchase whose transaction rolls back gives back what the gates took for it', async () => {
    const rider = await testAccount(app(), 'passenger');
    await topUp(app(), rider.bearer, 50_000);
    const blocker = db().createQueryRunner();
    await blocker.connect();
    await blocker.startTransaction();
    await blocker.query('LOCK TABLE tickets IN EXCLUSIVE MODE');
    const order = http()
      .post('/v1/orders')
      .set('Authorization', rider.bearer)
      .set('Idempotency-Key', randomUUID())
      .send({ payWith: 'wallet', items: [{ productId: 'metro-single', originStationId: '2a-cat-linh', destinationStationId: '2a-ha-dong' }] })
      .then((response) => response);
    try {
      await waitFor(() => gateBalance(rider), (balance) => balance !== 50_000);
      // The purchase's transaction fails: its backend is ended while it waits.
      const [{ pid }] = await blocker.query(
        `SELECT pid FROM pg_locks WHERE relation = 'tickets'::regclass AND NOT granted AND pid <> pg_backend_pid() LIMIT 1`,
      );
      await blocker.query('SELECT pg_terminate_backend($1)', [pid]);
    } finally {
      await blocker.commitTransaction();
      await blocker.release();
    }
    expect((await order).status).toBeGreaterThanOrEqual(500);
    await waitFor(() => gateBalance(rider), (balance) => balance === 50_000);
    expect(await postgresWallet(rider)).toBe(50_000);
  });

  it("5. online taps are judged at the server's time; a device clock beyond the tolerance is refused", async () => {
    const rider = await testAccount(app(), 'passenger');
    const ticketId = randomUUID();
    const validUntil = new Date(Date.now() - 10_000);
    const validFrom = new Date(Date.now() - DAY);
    await app().get(TicketStateStore).write([
      { ticketId, version: 1, status: 'active', kind: 'pass', accountId: rider.id, riderCategory: 'adult', modes: ['metro'], lineIds: null, originStationId: null, destinationStationId: null, activation: 'fixed', validFrom, validUntil, validityDays: null, firstUseBy: null, firstUsedAt: null },
    ]);
    const qr = app().get(QrTokens).forTicket({ ticketId, kind: 'pass', riderCategory: 'adult', modes: ['metro'], lineIds: null, originStationId: null, destinationStationId: null, validFrom, validUntil, validityDays: null, firstUseBy: null }, validFrom);
    // The device's clock says 30 s ago, when the pass was still valid: the server's time decides.
    expect(await tap(app(), catLinh, { qr, direction: 'entry', occurredAt: new Date(Date.now() - 30_000).toISOString() })).toMatchObject({ verdict: 'reject', reason: 'EXPIRED' });
    const send = (occurredAt: string) => http().post('/v1/validations').set('Authorization', catLinh.bearer).send({ tapId: randomUUID(), qr, direction: 'entry', occurredAt });
    expectError(await send(new Date(Date.now() - 2 * DAY).toISOString()), 400, 'VALIDATION_FAILED');
  });

  it('8. a validator token naming no device (signed with the key) cannot tap', async () => {
    const { token } = app().get(AccessTokens).sign({ subject: 'device', deviceId: `ghost-${randomUUID()}`, operatorId: 'hmc', lineId: 'metro-2a', stationId: '2a-cat-linh' });
    const response = await http().post('/v1/validations').set('Authorization', `Bearer ${token}`).send({ tapId: randomUUID(), qr: 'x.y.z', direction: 'entry' });
    expectError(response, 401, 'TOKEN_INVALID');
    const offline = await http().post('/v1/validations/batch').set('Authorization', `Bearer ${token}`).send({ taps: [{ tapId: 'a', qr: 'x.y.z', direction: 'entry', occurredAt: new Date().toISOString() }] });
    expectError(offline, 401, 'TOKEN_INVALID');
  });
});
