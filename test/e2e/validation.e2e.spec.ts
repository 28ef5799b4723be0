import { generateKeyPairSync, randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { FaresService } from '../../src/fares/fares.service';
import { localDayNumber, localWeekNumber } from '../../src/fares/domain/local-time';
import type { RiderCategory } from '../../src/fares/rider-category';
import { RedisService } from '../../src/redis/redis.service';
import { QrTokens } from '../../src/tickets/qr-tokens';
import { TicketStateStore, type TicketState } from '../../src/gate-state/ticket-state.store';
import { HANOI_LINES } from '../../src/network/hanoi-network';
import { GateKeys, spendField } from '../../src/gate-state/gate-state';
import { AccountGateState } from '../../src/gate-state/account-gate-state';
import { GateStateBuilder } from '../../src/validation/gate-state-builder';
import { bearerFor, testAccount, type TestAccount } from '../support/auth';
import { gateAt, tap, type GateDevice } from '../support/gate';
import { expectError, useTestApp } from '../support/http';
import { topUp } from '../support/money';

const HOUR = 3600_000;

describe('the gate path: POST /v1/validations', () => {
  const { app, http } = useTestApp();
  let passenger: TestAccount;
  let catLinh: GateDevice;
  let lang: GateDevice;
  let haDong: GateDevice;
  let yenNghia: GateDevice;
  let nhon: GateDevice;
  let bus32: GateDevice;

  beforeAll(async () => {
    [catLinh, lang, haDong, yenNghia, nhon, bus32] = await Promise.all([
      gateAt(app(), 'metro-2a', '2a-cat-linh'),
      gateAt(app(), 'metro-2a', '2a-lang'),
      gateAt(app(), 'metro-2a', '2a-ha-dong'),
      gateAt(app(), 'metro-2a', '2a-yen-nghia'),
      gateAt(app(), 'metro-3', '3-nhon'),
      gateAt(app(), 'bus-32', null),
    ]);
  });
  beforeEach(async () => {
    passenger = await testAccount(app(), 'passenger');
  });

  const buy = async (item: object, bearer = passenger.bearer): Promise<{ id: string; qr: string }> => {
    const order = await http().post('/v1/orders').set('Authorization', bearer).set('Idempotency-Key', randomUUID()).send({ payWith: 'wallet', items: [item] });
    if (order.status !== 201) throw new Error(`order failed: ${order.status} ${JSON.stringify(order.body)}`);
    const ticketId = (order.body as { tickets: Array<{ id: string }> }).tickets[0].id;
    const qr = await http().get(`/v1/tickets/${ticketId}/qr`).query({ format: 'text' }).set('Authorization', bearer).expect(200);
    return { id: ticketId, qr: qr.text };
  };
  const accountQr = async (bearer = passenger.bearer): Promise<string> =>
    (await http().get('/v1/me/qr').query({ format: 'text' }).set('Authorization', bearer).expect(200)).text;
  const calculator = () => app().get(FaresService).calculator();
  const quote = (from: string, to: string, category: RiderCategory = 'adult', at = Date.now()) => calculator().quote(null, from, to, category, at);

  describe('single trips', () => {
    it('opens on entry at a paid station, closes on exit, and is consumed once', async () => {
      await topUp(app(), passenger.bearer, 100_000);
      const ticket = await buy({ productId: 'metro-single', originStationId: '2a-cat-linh', destinationStationId: '2a-ha-dong' });
      const entry = await tap(app(), catLinh, { qr: ticket.qr, direction: 'entry' });
      expect(entry).toEqual({ verdict: 'accept', reason: 'OK', ticketId: ticket.id, journeyId: expect.any(String) });
      expect(await tap(app(), lang, { qr: ticket.qr, direction: 'entry' })).toMatchObject({ verdict: 'reject', reason: 'PASSBACK' });
      expect(await tap(app(), haDong, { qr: ticket.qr, direction: 'exit' })).toEqual({ verdict: 'accept', reason: 'OK', ticketId: ticket.id, journeyId: entry.journeyId });
      expect(await tap(app(), catLinh, { qr: ticket.qr, direction: 'entry' })).toMatchObject({ verdict: 'reject', reason: 'ALREADY_USED' });
      expect(await tap(app(), haDong, { qr: ticket.qr, direction: 'exit' })).toMatchObject({ verdict: 'reject', reason: 'NO_ENTRY' });
    });

    it('refuses an exit beyond the paid station (UNDERPAID, still inside) and entries off its trip or line (NOT_COVERED)', async () => {
      await topUp(app(), passenger.bearer, 100_000);
      const ticket = await buy({ productId: 'metro-single', originStationId: '2a-cat-linh', destinationStationId: '2a-lang' });
      expect(await tap(app(), haDong, { qr: ticket.qr, direction: 'entry' })).toMatchObject({ verdict: 'reject', reason: 'NOT_COVERED' });
      expect(await tap(app(), nhon, { qr: ticket.qr, direction: 'entry' })).toMatchObject({ verdict: 'reject', reason: 'NOT_COVERED' });
      expect(await tap(app(), catLinh, { qr: ticket.qr, direction: 'entry' })).toMatchObject({ verdict: 'accept', reason: 'OK' });
      expect(await tap(app(), yenNghia, { qr: ticket.qr, direction: 'exit' })).toMatchObject({ verdict: 'reject', reason: 'UNDERPAID' });
      expect(await tap(app(), lang, { qr: ticket.qr, direction: 'exit' })).toMatchObject({ verdict: 'accept', reason: 'OK' });
    });
    it('refuses a single trip outside its validity (EXPIRED, NOT_YET_VALID)', async () => {
      const trip = { kind: 'single' as const, originStationId: '2a-cat-linh', destinationStationId: '2a-ha-dong' };
      const expired = await syntheticPass({ ...trip, validFrom: new Date(Date.now() - 2 * DAY), validUntil: new Date(Date.now() - HOUR) });
      expect(await tap(app(), catLinh, { qr: expired.qr, direction: 'entry' })).toMatchObject({ verdict: 'reject', reason: 'EXPIRED' });
      const later = await syntheticPass({ ...trip, validFrom: new Date(Date.now() + HOUR), validUntil: new Date(Date.now() + DAY) });
      expect(await tap(app(), catLinh, { qr: later.qr, direction: 'entry' })).toMatchObject({ verdict: 'reject', reason: 'NOT_YET_VALID' });
    });
  });

  describe('pay as you go', () => {
    it("follows the wallet: committed top-ups, purchases from it and refunds move the gates' balance; refused orders do not", async () => {
      const mirror = () => app().get(AccountGateState).balance(passenger.id);
      await topUp(app(), passenger.bearer, 100_000);
      expect(await mirror()).toBe(100_000);
      const price = quote('2a-cat-linh', '2a-ha-dong').amount;
      const ticket = await buy({ productId: 'metro-single', originStationId: '2a-cat-linh', destinationStationId: '2a-ha-dong' });
      expect(await mirror()).toBe(100_000 - price);
      await http().post(`/v1/tickets/${ticket.id}/refund`).set('Authorization', passenger.bearer).set('Idempotency-Key', randomUUID()).send({}).expect(200);
      expect(await mirror()).toBe(100_000);
      const refused = await http()
        .post('/v1/orders')
        .set('Authorization', passenger.bearer)
        .set('Idempotency-Key', randomUUID())
        .send({ payWith: 'wallet', items: [{ productId: 'metro-month' }] });
      expectError(refused, 409, 'INSUFFICIENT_BALANCE');
      expect(await mirror()).toBe(100_000);
    });

    it('opens a journey at entry and charges the fare engine distance fare at exit', async () => {
      await topUp(app(), passenger.bearer, 200_000);
      const qr = await accountQr();
      const entry = await tap(app(), catLinh, { qr, direction: 'entry' });
      expect(entry).toEqual({ verdict: 'accept', reason: 'OK', accountId: passenger.id, balance: 200_000, journeyId: expect.any(String) });
      const fare = quote('2a-cat-linh', '2a-ha-dong').amount;
      expect(fare).toBeGreaterThan(0);
      expect(await tap(app(), haDong, { qr, direction: 'exit' })).toEqual({
        verdict: 'accept',
        reason: 'OK',
        accountId: passenger.id,
        fare,
        balance: 200_000 - fare,
        journeyId: entry.journeyId,
      });
    });
  });

  describe('passes', () => {
    it('a first-use pass starts at its first entry, rides again and again on its modes only', async () => {
      await topUp(app(), passenger.bearer, 1_000_000);
      const pass = await buy({ productId: 'metro-month' });
      expect(await tap(app(), bus32, { qr: pass.qr, direction: 'entry', stationId: busStop(1) })).toMatchObject({ verdict: 'reject', reason: 'NOT_COVERED' });
      expect(await app().get(RedisService).client.hGet(app().get(GateKeys).ticketState(pass.id), 'firstUsedAt')).toBeNull();
      expect(await tap(app(), catLinh, { qr: pass.qr, direction: 'entry' })).toMatchObject({ verdict: 'accept', reason: 'OK', ticketId: pass.id });
      expect(Number(await app().get(RedisService).client.hGet(app().get(GateKeys).ticketState(pass.id), 'firstUsedAt'))).toBeGreaterThan(Date.now() - 60_000);
      expect(await tap(app(), catLinh, { qr: pass.qr, direction: 'entry' })).toMatchObject({ verdict: 'reject', reason: 'PASSBACK' });
      expect(await tap(app(), haDong, { qr: pass.qr, direction: 'exit' })).toMatchObject({ verdict: 'accept', reason: 'OK' });
      expect(await tap(app(), haDong, { qr: pass.qr, direction: 'exit' })).toMatchObject({ verdict: 'reject', reason: 'NO_ENTRY' });
      expect(await tap(app(), nhon, { qr: pass.qr, direction: 'entry' })).toMatchObject({ verdict: 'accept', reason: 'OK' });
      expect(await tap(app(), catLinh, { qr: pass.qr, direction: 'exit' })).toMatchObject({ verdict: 'reject', reason: 'NO_ENTRY' });
    });

    it('a dated pass is NOT_YET_VALID before its first day; a bus + metro pass rides both modes', async () => {
      await topUp(app(), passenger.bearer, 1_000_000);
      const later = await buy({ productId: 'metro-day', validFrom: localDate(2) });
      expect(await tap(app(), catLinh, { qr: later.qr, direction: 'entry' })).toMatchObject({ verdict: 'reject', reason: 'NOT_YET_VALID' });
      const both = await buy({ productId: 'bus-metro-day', validFrom: localDate(0) });
      expect(await tap(app(), bus32, { qr: both.qr, direction: 'entry', stationId: busStop(0) })).toMatchObject({ verdict: 'accept', reason: 'OK' });
      expect(await tap(app(), bus32, { qr: both.qr, direction: 'exit', stationId: busStop(3) })).toMatchObject({ verdict: 'accept', reason: 'OK' });
      expect(await tap(app(), catLinh, { qr: both.qr, direction: 'entry' })).toMatchObject({ verdict: 'accept', reason: 'OK' });
    });

    it('refuses passes past their window (EXPIRED) and off their lines (NOT_COVERED), as Redis holds them', async () => {
      const usedLongAgo = await syntheticPass({ activation: 'first_use', validityDays: 30, firstUseBy: new Date(Date.now() + 5 * DAY), firstUsedAt: new Date(Date.now() - 40 * DAY) });
      expect(await tap(app(), catLinh, { qr: usedLongAgo.qr, direction: 'entry' })).toMatchObject({ verdict: 'reject', reason: 'EXPIRED' });
      const neverStarted = await syntheticPass({ activation: 'first_use', validityDays: 30, firstUseBy: new Date(Date.now() - HOUR) });
      expect(await tap(app(), catLinh, { qr: neverStarted.qr, direction: 'entry' })).toMatchObject({ verdict: 'reject', reason: 'EXPIRED' });
      const ended = await syntheticPass({ validFrom: new Date(Date.now() - 2 * DAY), validUntil: new Date(Date.now() - HOUR) });
      expect(await tap(app(), catLinh, { qr: ended.qr, direction: 'entry' })).toMatchObject({ verdict: 'reject', reason: 'EXPIRED' });
      const line3Only = await syntheticPass({ lineIds: ['metro-3'] });
      expect(await tap(app(), catLinh, { qr: line3Only.qr, direction: 'entry' })).toMatchObject({ verdict: 'reject', reason: 'NOT_COVERED' });
      expect(await tap(app(), nhon, { qr: line3Only.qr, direction: 'entry' })).toMatchObject({ verdict: 'accept', reason: 'OK' });
    });
  });

  describe('revoked, refunded and unknown tickets', () => {
    it('refuses a revoked ticket at entry, and at exit when revoked mid-trip', async () => {
      const admin = await bearerFor(app(), 'admin');
      await topUp(app(), passenger.bearer, 1_000_000);
      const single = await buy({ productId: 'metro-single', originStationId: '2a-cat-linh', destinationStationId: '2a-ha-dong' });
      await http().post(`/v1/admin/tickets/${single.id}/revoke`).set('Authorization', admin).send({ reason: 'fraud' }).expect(200);
      expect(await tap(app(), catLinh, { qr: single.qr, direction: 'entry' })).toMatchObject({ verdict: 'reject', reason: 'REVOKED' });
      const pass = await buy({ productId: 'metro-month' });
      expect(await tap(app(), catLinh, { qr: pass.qr, direction: 'entry' })).toMatchObject({ verdict: 'accept' });
      await http().post(`/v1/admin/tickets/${pass.id}/revoke`).set('Authorization', admin).send({ reason: 'stolen' }).expect(200);
      expect(await tap(app(), haDong, { qr: pass.qr, direction: 'exit' })).toMatchObject({ verdict: 'reject', reason: 'REVOKED' });
    });

    it('refuses a refunded ticket, and a validly signed ticket the gates do not know', async () => {
      await topUp(app(), passenger.bearer, 100_000);
      const single = await buy({ productId: 'metro-single', originStationId: '2a-cat-linh', destinationStationId: '2a-ha-dong' });
      await http().post(`/v1/tickets/${single.id}/refund`).set('Authorization', passenger.bearer).set('Idempotency-Key', randomUUID()).send({}).expect(200);
      expect(await tap(app(), catLinh, { qr: single.qr, direction: 'entry' })).toMatchObject({ verdict: 'reject', reason: 'REVOKED' });
      const unknown = await syntheticPass({}, false);
      expect(await tap(app(), catLinh, { qr: unknown.qr, direction: 'entry' })).toEqual({ verdict: 'reject', reason: 'INVALID_QR', ticketId: unknown.id });
    });
  });

  describe('pay-as-you-go rules', () => {
    const funded = async (amount: number): Promise<string> => {
      if (amount > 0) {
        await topUp(app(), passenger.bearer, amount);
      }
      return accountQr();
    };

    it('caps the day at the day pass price, trip by trip as the fare engine charges it', async () => {
      const qr = await funded(200_000);
      const spend = { daySpent: 0, dayModes: 0, weekSpent: 0, weekModes: 0 };
      let balance = 200_000;
      const charged: number[] = [];
      for (let trip = 0; trip < 4; trip++) {
        await tap(app(), catLinh, { qr, direction: 'entry' });
        const exit = await tap(app(), yenNghia, { qr, direction: 'exit' });
        const expected = calculator().chargeLeg(quote('2a-cat-linh', '2a-yen-nghia'), spend).charge;
        balance -= expected;
        expect(exit).toMatchObject({ verdict: 'accept', fare: expected, balance });
        charged.push(expected);
        Object.assign(spend, { daySpent: spend.daySpent + expected, dayModes: 1, weekSpent: spend.weekSpent + expected, weekModes: 1 });
      }
      expect(charged).toEqual([18_625, 18_625, 2_750, 0]);
    });

    it('caps the week at the week pass price', async () => {
      const qr = await funded(200_000);
      const now = Date.now();
      await app()
        .get(RedisService)
        .client.hSet(app().get(GateKeys).spend('payg', passenger.id), {
          [spendField('daySpent', localDayNumber(now) - 1)]: 40_000,
          [spendField('dayModes', localDayNumber(now) - 1)]: 1,
          [spendField('weekSpent', localWeekNumber(now))]: 159_000,
          [spendField('weekModes', localWeekNumber(now))]: 1,
        });
      await tap(app(), catLinh, { qr, direction: 'entry' });
      const expected = calculator().chargeLeg(quote('2a-cat-linh', '2a-yen-nghia'), { daySpent: 0, dayModes: 0, weekSpent: 159_000, weekModes: 1 }).charge;
      expect(expected).toBe(1_000);
      expect(await tap(app(), yenNghia, { qr, direction: 'exit' })).toMatchObject({ verdict: 'accept', fare: 1_000, balance: 199_000 });
    });

    it('needs the balance for the longest trip of the line at entry (INSUFFICIENT_BALANCE)', async () => {
      const qr = await funded(0);
      expect(await tap(app(), catLinh, { qr, direction: 'entry' })).toMatchObject({ verdict: 'reject', reason: 'INSUFFICIENT_BALANCE', balance: 0 });
      await app().get(AccountGateState).applyMovement(passenger.id, `test:${randomUUID()}`, calculator().maximumFare('metro-2a', 'adult', Date.now()).amount - 1);
      expect(await tap(app(), catLinh, { qr, direction: 'entry' })).toMatchObject({ verdict: 'reject', reason: 'INSUFFICIENT_BALANCE' });
      await app().get(AccountGateState).applyMovement(passenger.id, `test:${randomUUID()}`, 1);
      expect(await tap(app(), catLinh, { qr, direction: 'entry' })).toMatchObject({ verdict: 'accept', reason: 'OK' });
    });

    it('PASSBACK inside, NO_ENTRY without an entry', async () => {
      const qr = await funded(100_000);
      expect(await tap(app(), haDong, { qr, direction: 'exit' })).toMatchObject({ verdict: 'reject', reason: 'NO_ENTRY' });
      await tap(app(), catLinh, { qr, direction: 'entry' });
      expect(await tap(app(), lang, { qr, direction: 'entry' })).toMatchObject({ verdict: 'reject', reason: 'PASSBACK' });
    });

    it('free riders by category ride at no charge with no balance; priority riders pay their category fare', async () => {
      const tokens = app().get(QrTokens);
      const free = tokens.forAccount(passenger.id, 'elderly', new Date());
      expect(await tap(app(), catLinh, { qr: free, direction: 'entry' })).toMatchObject({ verdict: 'accept', reason: 'OK', balance: 0 });
      expect(await tap(app(), yenNghia, { qr: free, direction: 'exit' })).toMatchObject({ verdict: 'accept', fare: 0, balance: 0 });
      expect(quote('2a-cat-linh', '2a-yen-nghia', 'elderly').fullAmount).toBe(18_625);
      const other = await testAccount(app(), 'passenger');
      await topUp(app(), other.bearer, 50_000);
      const priority = tokens.forAccount(other.id, 'priority', new Date());
      await tap(app(), catLinh, { qr: priority, direction: 'entry' });
      const fare = quote('2a-cat-linh', '2a-lang', 'priority').amount;
      expect(await tap(app(), lang, { qr: priority, direction: 'exit' })).toMatchObject({ verdict: 'accept', fare, balance: 50_000 - fare });
    });

    it('a waiver (trips inside Ring Road 1) makes the trip free', async () => {
      const qr = await funded(100_000);
      const [kimMa, giangVo] = await Promise.all([gateAt(app(), 'brt01', 'brt01-kim-ma'), gateAt(app(), 'brt01', 'brt01-giang-vo')]);
      const waived = quote('brt01-kim-ma', 'brt01-giang-vo');
      expect({ amount: waived.amount, waived: waived.waiverId !== null, full: waived.fullAmount > 0 }).toEqual({ amount: 0, waived: true, full: true });
      await tap(app(), kimMa, { qr, direction: 'entry' });
      expect(await tap(app(), giangVo, { qr, direction: 'exit' })).toMatchObject({ verdict: 'accept', fare: 0, balance: 100_000 });
    });

    it('refuses a blocked account until the block is lifted', async () => {
      const admin = await bearerFor(app(), 'admin');
      const qr = await funded(100_000);
      await http().put(`/v1/admin/accounts/${passenger.id}/gate-block`).set('Authorization', admin).send({ blocked: true, reason: 'chargeback' }).expect(204);
      expect(await tap(app(), catLinh, { qr, direction: 'entry' })).toMatchObject({ verdict: 'reject', reason: 'REVOKED' });
      await http().put(`/v1/admin/accounts/${passenger.id}/gate-block`).set('Authorization', admin).send({ blocked: false, reason: 'resolved' }).expect(204);
      expect(await tap(app(), catLinh, { qr, direction: 'entry' })).toMatchObject({ verdict: 'accept', reason: 'OK' });
    });

    it('closes a journey left open past the limit at the maximum fare: at the exit, at the next entry, or by the sweeper', async () => {
      const qr = await funded(200_000);
      const max = calculator().maximumFare('metro-2a', 'adult', Date.now()).amount;
      // Online taps are judged at the server's time: an entry long ago comes in a batch.
      const enterLongAgo = () =>
        http()
          .post('/v1/validations/batch')
          .set('Authorization', catLinh.bearer)
          .send({ taps: [{ tapId: randomUUID(), qr, direction: 'entry', occurredAt: new Date(Date.now() - 4 * HOUR).toISOString() }] })
          .expect(200);
      await enterLongAgo();
      expect(await tap(app(), lang, { qr, direction: 'exit' })).toMatchObject({ verdict: 'accept', fare: max, balance: 200_000 - max });
      await enterLongAgo();
      expect(await tap(app(), lang, { qr, direction: 'entry' })).toMatchObject({ verdict: 'accept', reason: 'OK', balance: 200_000 - 2 * max });
      await tap(app(), lang, { qr, direction: 'exit' });
      const afterShortTrip = await app().get(AccountGateState).balance(passenger.id);
      await enterLongAgo();
      expect(await app().get(GateStateBuilder).sweep()).toBeGreaterThanOrEqual(1);
      expect(await app().get(AccountGateState).balance(passenger.id)).toBe(afterShortTrip! - Math.max(0, Math.min(max, 40_000 - (200_000 - afterShortTrip!))));
      expect(await tap(app(), lang, { qr, direction: 'exit' })).toMatchObject({ verdict: 'reject', reason: 'NO_ENTRY' });
    });
  });

  describe('tap ids', () => {
    it('the same tapId from the same device returns the first verdict and changes nothing', async () => {
      await topUp(app(), passenger.bearer, 100_000);
      const qr = await accountQr();
      const entryId = randomUUID();
      const entry = await tap(app(), catLinh, { tapId: entryId, qr, direction: 'entry' });
      expect(await tap(app(), catLinh, { tapId: entryId, qr, direction: 'entry' })).toEqual(entry);
      const exitId = randomUUID();
      const exit = await tap(app(), haDong, { tapId: exitId, qr, direction: 'exit' });
      expect(exit.fare).toBeGreaterThan(0);
      expect(await tap(app(), haDong, { tapId: exitId, qr, direction: 'exit' })).toEqual(exit);
      expect(await tap(app(), catLinh, { tapId: entryId, qr, direction: 'entry' })).toEqual(entry);
      expect(await app().get(AccountGateState).balance(passenger.id)).toBe(exit.balance);
    });
  });

  describe('offline uploads: POST /v1/validations/batch', () => {
    const batch = (device: GateDevice, taps: object[]) => http().post('/v1/validations/batch').set('Authorization', device.bearer).send({ taps });

    it('applies taps in order with their times; refusals are recorded as accepted but invalid; charges apply, the balance may go negative', async () => {
      await topUp(app(), passenger.bearer, 10_000);
      const qr = await accountQr();
      const at = (minutesAgo: number) => new Date(Date.now() - minutesAgo * 60_000).toISOString();
      const fare = quote('2a-cat-linh', '2a-yen-nghia').amount;
      const entry = await batch(catLinh, [{ tapId: randomUUID(), qr, direction: 'entry', occurredAt: at(50) }]).expect(200);
      expect(entry.body.results).toEqual([
        { tapId: expect.any(String), verdict: 'accept', reason: 'INSUFFICIENT_BALANCE', valid: false, accountId: passenger.id, balance: 10_000, journeyId: expect.any(String) },
      ]);
      const exit = await batch(yenNghia, [{ tapId: randomUUID(), qr, direction: 'exit', occurredAt: at(20) }]).expect(200);
      expect(exit.body.results[0]).toMatchObject({ verdict: 'accept', reason: 'OK', valid: true, fare, balance: 10_000 - fare });
      expect(10_000 - fare).toBeLessThan(0);
      expect(await tap(app(), catLinh, { qr, direction: 'entry' })).toMatchObject({ verdict: 'reject', reason: 'INSUFFICIENT_BALANCE', balance: 10_000 - fare });
    });

    it('records a single trip used twice offline as invalid the second time', async () => {
      await topUp(app(), passenger.bearer, 100_000);
      const single = await buy({ productId: 'metro-single', originStationId: '2a-cat-linh', destinationStationId: '2a-ha-dong' });
      const soon = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();
      const response = await batch(catLinh, [
        { tapId: randomUUID(), qr: single.qr, direction: 'entry', occurredAt: soon(1) },
        { tapId: randomUUID(), qr: single.qr, direction: 'entry', occurredAt: soon(2) },
      ]).expect(200);
      expect(response.body.results.map((result: { reason: string; valid: boolean; verdict: string }) => [result.verdict, result.reason, result.valid])).toEqual([
        ['accept', 'OK', true],
        ['accept', 'PASSBACK', false],
      ]);
    });

    it('rejects a malformed batch whole, before applying any tap', async () => {
      await topUp(app(), passenger.bearer, 100_000);
      const single = await buy({ productId: 'metro-single', originStationId: '2a-cat-linh', destinationStationId: '2a-ha-dong' });
      const now = new Date().toISOString();
      expectError(await batch(bus32, [{ tapId: 'a', qr: single.qr, direction: 'entry', occurredAt: now, stationId: busStop(0) }, { tapId: 'b', qr: single.qr, direction: 'entry', occurredAt: now }]), 400, 'VALIDATION_FAILED');
      expectError(await batch(catLinh, [{ tapId: 'a', qr: single.qr, direction: 'entry' }]), 400, 'VALIDATION_FAILED');
      expect(await tap(app(), catLinh, { qr: single.qr, direction: 'entry' })).toMatchObject({ verdict: 'accept', reason: 'OK' });
    });
  });

  describe('malformed taps and roles', () => {
    it('answers 400 for malformed taps, never a verdict', async () => {
      const send = (device: GateDevice, body: object) => http().post('/v1/validations').set('Authorization', device.bearer).send(body);
      const good = { tapId: 't-1', qr: 'x.y.z', direction: 'entry' };
      expectError(await send(catLinh, { ...good, extra: 1 }), 400, 'VALIDATION_FAILED');
      expectError(await send(catLinh, { ...good, direction: 'sideways' }), 400, 'VALIDATION_FAILED');
      expectError(await send(catLinh, { ...good, tapId: '' }), 400, 'VALIDATION_FAILED');
      expectError(await send(catLinh, { ...good, occurredAt: 'yesterday' }), 400, 'VALIDATION_FAILED');
      expectError(await send(bus32, good), 400, 'VALIDATION_FAILED');
      expectError(await send(bus32, { ...good, stationId: '2a-lang' }), 400, 'VALIDATION_FAILED');
      expect((await send(catLinh, good).expect(200)).body).toEqual({ verdict: 'reject', reason: 'INVALID_QR' });
    });

    it('keeps the contract outside Nest: bad JSON, huge bodies, no body, request ids and metrics', async () => {
      const raw = (body: string) => http().post('/v1/validations').set('Authorization', catLinh.bearer).set('Content-Type', 'application/json').send(body);
      expectError(await raw('{"tapId": "t-1",'), 400, 'MALFORMED_JSON');
      expectError(await raw(JSON.stringify({ tapId: 't-1', qr: 'x'.repeat(1024 * 1024), direction: 'entry' })), 413, 'PAYLOAD_TOO_LARGE');
      expectError(await http().post('/v1/validations').set('Authorization', catLinh.bearer), 400, 'VALIDATION_FAILED');
      // The route reads its own body (gate.route.ts): the same rules as the content-type parser of every other route.
      expectError(await raw(''), 400, 'MALFORMED_JSON');
      expectError(await raw('{"tapId": "t-1", "qr": "x.y.z", "direction": "entry", "__proto__": {"admin": true}}'), 400, 'REFUSED_KEY');
      const asText = await http().post('/v1/validations').set('Authorization', catLinh.bearer).set('Content-Type', 'text/plain').send('{"tapId": "t-1"}');
      expectError(asText, 415, 'UNSUPPORTED_MEDIA_TYPE');
      expect(asText.headers.connection).toBe('close');
      const withCharset = http().post('/v1/validations').set('Authorization', catLinh.bearer).set('Content-Type', 'Application/JSON; charset=utf-8');
      expect((await withCharset.send(JSON.stringify({ tapId: 't-3', qr: 'x.y.z', direction: 'entry' })).expect(200)).body).toEqual({ verdict: 'reject', reason: 'INVALID_QR' });
      const answered = await http().post('/v1/validations').set('Authorization', catLinh.bearer).set('X-Request-Id', 'gate-req-1').send({ tapId: 't-2', qr: 'x.y.z', direction: 'exit' });
      expect({ status: answered.status, requestId: answered.headers['x-request-id'] }).toEqual({ status: 200, requestId: 'gate-req-1' });
      const metrics = (await http().get('/metrics').expect(200)).text;
      expect(metrics).toMatch(/http_requests_total\{[^}]*route="\/v1\/validations"[^}]*status="200"[^}]*\} [1-9]/);
    });

    it('validators cannot call passenger or admin routes, and people cannot validate', async () => {
      const validator = catLinh.bearer;
      await http().get('/v1/tickets').set('Authorization', validator).expect(403);
      await http().get('/v1/me').set('Authorization', validator).expect(403);
      await http().post('/v1/orders').set('Authorization', validator).set('Idempotency-Key', randomUUID()).send({}).expect(403);
      await http().put(`/v1/admin/accounts/${passenger.id}/gate-block`).set('Authorization', validator).send({ blocked: true, reason: 'nope' }).expect(403);
      const body = { tapId: 't-1', qr: 'x.y.z', direction: 'entry' };
      for (const role of ['passenger', 'operator', 'admin'] as const) {
        expectError(await http().post('/v1/validations').set('Authorization', await bearerFor(app(), role)).send(body), 403, 'FORBIDDEN');
        expectError(await http().post('/v1/validations/batch').set('Authorization', await bearerFor(app(), role)).send({ taps: [] }), 403, 'FORBIDDEN');
      }
      expectError(await http().post('/v1/validations').send(body), 401, 'UNAUTHENTICATED');
      expectError(await http().get('/v1/denylist').set('Authorization', passenger.bearer), 403, 'FORBIDDEN');
    });
  });

  describe('forged and expired QR codes', () => {
    it('never accepts a forged signature, another key, a changed payload or garbage (INVALID_QR), nor an expired token (EXPIRED)', async () => {
      await topUp(app(), passenger.bearer, 100_000);
      const token = await accountQr();
      const [header, payload, signature] = token.split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
      const stranger = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
      const kid = (JSON.parse(Buffer.from(header, 'base64url').toString()) as { kid: string }).kid;
      const forged = [
        `${header}.${payload}.${signature.slice(0, -4)}AAAA`,
        jwt.sign({ ...claims }, stranger, { algorithm: 'ES256', keyid: kid }),
        `${header}.${Buffer.from(JSON.stringify({ ...claims, rc: 'elderly' })).toString('base64url')}.${signature}`,
        'not a token at all',
        `${header}.${payload}.`,
      ];
      for (const qr of forged) {
        expect(await tap(app(), catLinh, { qr, direction: 'entry' })).toEqual({ verdict: 'reject', reason: 'INVALID_QR' });
      }
      const expired = app().get(QrTokens).forAccount(passenger.id, 'adult', new Date(Date.now() - 3 * DAY));
      expect(await tap(app(), catLinh, { qr: expired, direction: 'entry' })).toMatchObject({ verdict: 'reject', reason: 'EXPIRED' });
      for (let index = 0; index < 200; index++) {
        const at = (index * 7) % (token.length - 1); // the last character holds padding bits: some changes there decode to the same signature
        const mutated = token.slice(0, at) + (token[at] === 'x' ? 'y' : 'x') + token.slice(at + 1);
        expect((await tap(app(), catLinh, { qr: mutated, direction: 'entry' })).verdict).toBe('reject');
      }
      expect(await tap(app(), catLinh, { qr: token, direction: 'entry' })).toMatchObject({ verdict: 'accept' });
    });
  });

  describe('GET /v1/denylist', () => {
    it('feeds revoked tickets and blocked accounts after a cursor', async () => {
      const admin = await bearerFor(app(), 'admin');
      await topUp(app(), passenger.bearer, 100_000);
      const single = await buy({ productId: 'metro-single', originStationId: '2a-cat-linh', destinationStationId: '2a-ha-dong' });
      const first = await http().get('/v1/denylist').set('Authorization', catLinh.bearer).expect(200);
      await http().post(`/v1/admin/tickets/${single.id}/revoke`).set('Authorization', admin).send({ reason: 'fraud' }).expect(200);
      await http().put(`/v1/admin/accounts/${passenger.id}/gate-block`).set('Authorization', admin).send({ blocked: true, reason: 'chargeback' }).expect(204);
      await new Promise((resolve) => setTimeout(resolve, 2_200));
      const all: Array<{ kind: string; id: string; status: string }> = [];
      let cursor = (first.body as { cursor: string }).cursor;
      for (;;) {
        const page = await http().get('/v1/denylist').query({ since: cursor }).set('Authorization', catLinh.bearer).expect(200);
        all.push(...page.body.entries);
        if (page.body.entries.length === 0) break;
        cursor = page.body.cursor;
      }
      expect(all).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'ticket', id: single.id, status: 'revoked' }), expect.objectContaining({ kind: 'account', id: passenger.id, status: 'blocked' })]));
      const after = await http().get('/v1/denylist').query({ since: cursor }).set('Authorization', catLinh.bearer).expect(200);
      expect(after.body.entries).toEqual([]);
      expectError(await http().get('/v1/denylist').query({ since: 'not-a-cursor' }).set('Authorization', catLinh.bearer), 400, 'VALIDATION_FAILED');
    });
  });

  const syntheticPass = async (overrides: Partial<TicketState>, known = true): Promise<{ id: string; qr: string }> => {
    const id = randomUUID();
    const state: TicketState = {
      ticketId: id,
      version: 1,
      status: 'active',
      kind: 'pass',
      accountId: passenger.id,
      riderCategory: 'adult',
      modes: ['metro'],
      lineIds: null,
      originStationId: null,
      destinationStationId: null,
      activation: 'fixed',
      validFrom: new Date(Date.now() - DAY),
      validUntil: new Date(Date.now() + DAY),
      validityDays: null,
      firstUseBy: null,
      firstUsedAt: null,
      ...overrides,
    };
    if (known) await app().get(TicketStateStore).write([state]);
    const firstUse = state.activation === 'first_use';
    const qr = app()
      .get(QrTokens)
      .forTicket(
        {
          ticketId: id,
          kind: state.kind,
          riderCategory: 'adult',
          modes: ['metro'],
          lineIds: state.lineIds,
          originStationId: state.originStationId,
          destinationStationId: state.destinationStationId,
          validFrom: firstUse ? null : state.validFrom,
          validUntil: firstUse ? null : state.validUntil,
          validityDays: state.validityDays,
          firstUseBy: state.firstUseBy,
        },
        new Date(),
      );
    return { id, qr };
  };
});

const DAY = 24 * HOUR;

/** A local date `days` after today, YYYY-MM-DD. */
function localDate(days: number): string {
  return new Date((localDayNumber(Date.now()) + days) * DAY).toISOString().slice(0, 10);
}

function busStop(index: number): string {
  return HANOI_LINES.find((line) => line.id === 'bus-32')!.stations[index].id;
}
