import { randomBytes, randomUUID } from 'node:crypto';
import type { AppConfig } from '../../src/config/config';
import { APP_CONFIG } from '../../src/config/config.module';
import { FaresService } from '../../src/fares/fares.service';
import { localDateAt } from '../../src/fares/domain/local-time';
import { DataSource } from 'typeorm';
import { GateKeys } from '../../src/gate-state/gate-state';
import { MediumKeys, transitCardCryptogram } from '../../src/media/medium-keys';
import { RedisService } from '../../src/redis/redis.service';
import { GateStateBuilder } from '../../src/validation/gate-state-builder';
import { testAccount, type TestAccount } from '../support/auth';
import { gateAt, offlineTap, tap, type GateDevice } from '../support/gate';
import { expectError, useTestApp } from '../support/http';
import { topUp, walletBalance } from '../support/money';
import { Phone } from '../support/phone';
import { waitFor } from '../support/wait';

describe('media of an account: transit cards and chip ID cards at the gates', () => {
  const { app, http } = useTestApp();
  let admin: TestAccount;
  let passenger: TestAccount;
  let catLinh: GateDevice;
  let haDong: GateDevice;

  beforeAll(async () => {
    admin = await testAccount(app(), 'admin');
    [catLinh, haDong] = await Promise.all([gateAt(app(), 'metro-2a', '2a-cat-linh'), gateAt(app(), 'metro-2a', '2a-ha-dong')]);
  });
  beforeEach(async () => {
    passenger = await testAccount(app(), 'passenger');
  });

  const masterKey = () => app().get<AppConfig>(APP_CONFIG).media.transitCardMasterKey;
  const newUid = () => randomBytes(7).toString('hex').toUpperCase();
  const card = (uid: string, counter: number) => ({ kind: 'transit_card', uid, counter, cryptogram: transitCardCryptogram(masterKey(), uid, counter) });
  const fare = () => app().get(FaresService).calculator().quote(null, '2a-cat-linh', '2a-ha-dong', 'adult', Date.now()).amount;
  const register = async (...uids: string[]) => {
    const response = await http().post('/v1/admin/transit-cards').set('Authorization', admin.bearer).send({ cards: uids.map((uid) => ({ uid })) }).expect(201);
    return response.body as { cards: Array<{ uid: string; id: string; registered: boolean }> };
  };
  const link = (body: object, bearer = passenger.bearer) => http().post('/v1/me/media').set('Authorization', bearer).send(body);
  const media = async (bearer = passenger.bearer) => (await http().get('/v1/me/media').set('Authorization', bearer).expect(200)).body as Array<{ id: string; kind: string; status: string; label: string }>;
  /** A birth date `years` years before today's local date (plus `days`). */
  const bornYearsAgo = (years: number, days = 0) => {
    const today = localDateAt(Date.now());
    const date = new Date(`${Number(today.slice(0, 4)) - years}${today.slice(4)}T00:00:00Z`);
    date.setUTCDate(date.getUTCDate() + days);
    return date.toISOString().slice(0, 10);
  };
  const cccd = () => `0010${String(Math.floor(Math.random() * 1e8)).padStart(8, '0')}`;

  describe('transit cards', () => {
    it('registered by an admin, linked by the rider, ride pay as you go on the account', async () => {
      const uid = newUid();
      expect((await register(uid)).cards).toEqual([{ uid, id: expect.any(String), registered: true }]);
      expect((await register(uid)).cards[0].registered).toBe(false);
      await topUp(app(), passenger.bearer, 100_000);
      const linked = await link({ kind: 'transit_card', uid: uid.toLowerCase() }).expect(201);
      expect(linked.body).toMatchObject({ kind: 'transit_card', status: 'active', label: `Thẻ ···${uid.slice(-4)}` });
      expect(JSON.stringify(linked.body)).not.toContain(uid);

      const entry = await tap(app(), catLinh, { medium: card(uid, 1), direction: 'entry' });
      expect(entry).toEqual({ verdict: 'accept', reason: 'OK', accountId: passenger.id, balance: 100_000, journeyId: expect.any(String) });
      const exit = await tap(app(), haDong, { medium: card(uid, 2), direction: 'exit' });
      expect(exit).toEqual({ verdict: 'accept', reason: 'OK', accountId: passenger.id, fare: fare(), balance: 100_000 - fare(), journeyId: entry.journeyId });
      const journeys = await waitFor(
        async () => (await http().get('/v1/me/journeys').set('Authorization', passenger.bearer).expect(200)).body as Array<{ id: string; status: string; medium: string }>,
        (list) => list.some((journey) => journey.id === entry.journeyId && journey.status === 'closed'),
      );
      expect(journeys.find((journey) => journey.id === entry.journeyId)).toMatchObject({ medium: 'transit_card', mediumKind: 'pay_as_you_go' });
    });

    it('refuses a wrong cryptogram and unknown cards (INVALID_QR), and cards nobody linked (NOT_COVERED)', async () => {
      const [uid, unlinked] = [newUid(), newUid()];
      await register(uid, unlinked);
      await link({ kind: 'transit_card', uid }).expect(201);
      expect(await tap(app(), catLinh, { medium: { ...card(uid, 1), cryptogram: transitCardCryptogram('another master key', uid, 1) }, direction: 'entry' })).toEqual({ verdict: 'reject', reason: 'INVALID_QR' });
      expect(await tap(app(), catLinh, { medium: { ...card(uid, 2), counter: 3 }, direction: 'entry' })).toEqual({ verdict: 'reject', reason: 'INVALID_QR' });
      expect(await tap(app(), catLinh, { medium: card(newUid(), 1), direction: 'entry' })).toEqual({ verdict: 'reject', reason: 'INVALID_QR' });
      expect(await tap(app(), catLinh, { medium: card(unlinked, 1), direction: 'entry' })).toEqual({ verdict: 'reject', reason: 'NOT_COVERED' });
    });

    it('links only issued cards, each to one account', async () => {
      expectError(await link({ kind: 'transit_card', uid: newUid() }), 422, 'CARD_NOT_ISSUED');
      const uid = newUid();
      await register(uid);
      await link({ kind: 'transit_card', uid }).expect(201);
      const other = await testAccount(app(), 'passenger');
      expectError(await link({ kind: 'transit_card', uid }, other.bearer), 409, 'MEDIUM_LINKED_ELSEWHERE');
      expectError(await link({ kind: 'transit_card', uid: 'not hex' }), 400, 'VALIDATION_FAILED');
      expectError(await link({ kind: 'transit_card', uid, number: '001060012345' }), 400, 'VALIDATION_FAILED');
    });

    it('refuses a clone (a counter presented again) and blocks the card, which reaches the deny list', async () => {
      const uid = newUid();
      const [{ id }] = (await register(uid)).cards;
      await topUp(app(), passenger.bearer, 100_000);
      await link({ kind: 'transit_card', uid }).expect(201);
      const first = await http().get('/v1/denylist').set('Authorization', catLinh.bearer).expect(200);
      const tapId = randomUUID();
      expect(await tap(app(), catLinh, { tapId, medium: card(uid, 7), direction: 'entry' })).toMatchObject({ verdict: 'accept', reason: 'OK' });
      // The same tap again is a retry, not a clone: its first verdict.
      expect(await tap(app(), catLinh, { tapId, medium: card(uid, 7), direction: 'entry' })).toMatchObject({ verdict: 'accept', reason: 'OK' });
      expect(await tap(app(), haDong, { medium: card(uid, 7), direction: 'exit' })).toMatchObject({ verdict: 'reject', reason: 'REVOKED' });
      expect(await tap(app(), haDong, { medium: card(uid, 8), direction: 'exit' })).toMatchObject({ verdict: 'reject', reason: 'REVOKED' });
      await waitFor(() => media(), (list) => list.some((medium) => medium.id === id && medium.status === 'blocked'));
      const entries = await waitFor(
        async () => (await http().get('/v1/denylist').query({ since: first.body.cursor }).set('Authorization', catLinh.bearer).expect(200)).body.entries as object[],
        (found) => found.some((entry) => (entry as { id: string }).id === id),
      );
      expect(entries).toContainEqual({ kind: 'medium', id, status: 'blocked', at: expect.any(String), mediumKind: 'transit_card', uid });
      const detail = await http().get(`/v1/me/media/${id}`).set('Authorization', passenger.bearer).expect(200);
      expect(detail.body.history.map((event: { status: string; reason: string }) => event.status)).toEqual(['active', 'active', 'blocked']);
    });

    it("a card's highest counter is kept in Postgres: after Redis loses the card, the rebuild still finds a clone", async () => {
      const uid = newUid();
      const [{ id }] = (await register(uid)).cards;
      await topUp(app(), passenger.bearer, 100_000);
      await link({ kind: 'transit_card', uid }).expect(201);
      expect(await tap(app(), catLinh, { medium: card(uid, 41), direction: 'entry' })).toMatchObject({ verdict: 'accept', reason: 'OK' });
      expect(await tap(app(), haDong, { medium: card(uid, 42), direction: 'exit' })).toMatchObject({ verdict: 'accept', reason: 'OK' });
      const db = app().get(DataSource);
      await waitFor(
        async () => (await db.query<Array<{ last_counter: string | null }>>(`SELECT last_counter FROM media WHERE id = $1`, [id]))[0].last_counter,
        (counter) => counter === '42',
      );
      // Redis loses the card's record and its counters; the rebuild writes them back from Postgres.
      await app().get(RedisService).client.del(app().get(GateKeys).medium(app().get(MediumKeys).lookupHash('transit_card', uid)));
      await app().get(GateStateBuilder).rebuild();
      // A copy read at the exit replays counter 42: still a clone.
      expect(await tap(app(), catLinh, { medium: card(uid, 42), direction: 'entry' })).toEqual({ verdict: 'reject', reason: 'REVOKED', accountId: passenger.id, balance: expect.any(Number) });
      await waitFor(() => media(), (list) => list.some((medium) => medium.id === id && medium.status === 'blocked'));
    });

    it('offline: a late tap with a lower counter is taken; a counter another tap presented is a clone', async () => {
      const uid = newUid();
      await register(uid);
      await topUp(app(), passenger.bearer, 100_000);
      await link({ kind: 'transit_card', uid }).expect(201);
      expect(await tap(app(), catLinh, { medium: card(uid, 20), direction: 'entry' })).toMatchObject({ verdict: 'accept', reason: 'OK' });
      const before = (seconds: number) => new Date(Date.now() - seconds * 1000).toISOString();
      expect(await offlineTap(app(), haDong, { medium: card(uid, 15), direction: 'exit', occurredAt: before(30) })).toMatchObject({ verdict: 'accept', reason: 'OK', valid: true });
      expect(await offlineTap(app(), catLinh, { medium: card(uid, 15), direction: 'entry', occurredAt: before(20) })).toMatchObject({ verdict: 'accept', reason: 'REVOKED', valid: false });
    });
  });

  describe('lost, blocked, replaced', () => {
    it('a card reported lost is refused at once and reaches validators through the deny list; staff unblock it', async () => {
      const uid = newUid();
      await register(uid);
      await topUp(app(), passenger.bearer, 100_000);
      const { id } = (await link({ kind: 'transit_card', uid }).expect(201)).body as { id: string };
      const first = await http().get('/v1/denylist').set('Authorization', catLinh.bearer).expect(200);
      expect((await http().post(`/v1/me/media/${id}/lost`).set('Authorization', passenger.bearer).expect(200)).body).toMatchObject({ id, status: 'blocked' });
      expect(await tap(app(), catLinh, { medium: card(uid, 1), direction: 'entry' })).toMatchObject({ verdict: 'reject', reason: 'REVOKED' });
      const entries = await waitFor(
        async () => (await http().get('/v1/denylist').query({ since: first.body.cursor }).set('Authorization', catLinh.bearer).expect(200)).body.entries as Array<{ id: string }>,
        (found) => found.some((entry) => entry.id === id),
        10_000,
      );
      expect(entries.filter((entry) => entry.id === id)).toEqual([{ kind: 'medium', id, status: 'blocked', at: expect.any(String), mediumKind: 'transit_card', uid }]);
      expectError(await http().post(`/v1/me/media/${id}/lost`).set('Authorization', (await testAccount(app(), 'passenger')).bearer), 404, 'NOT_FOUND');

      const support = await testAccount(app(), 'support');
      await http().post(`/v1/admin/media/${id}/unblock`).set('Authorization', support.bearer).send({ reason: 'found at home' }).expect(200);
      expect(await tap(app(), catLinh, { medium: card(uid, 2), direction: 'entry' })).toMatchObject({ verdict: 'accept', reason: 'OK' });
      await http().post(`/v1/admin/media/${id}/block`).set('Authorization', admin.bearer).send({}).expect(200);
      expect(await tap(app(), haDong, { medium: card(uid, 3), direction: 'exit' })).toMatchObject({ verdict: 'reject', reason: 'REVOKED' });
      expectError(await http().post(`/v1/admin/media/${id}/block`).set('Authorization', passenger.bearer).send({}), 403, 'FORBIDDEN');
    });

    it('one active card per account: a new card replaces the old, and the balance and passes stay with the account', async () => {
      const [oldUid, newCardUid] = [newUid(), newUid()];
      await register(oldUid, newCardUid);
      await topUp(app(), passenger.bearer, 400_000);
      const order = await http().post('/v1/orders').set('Authorization', passenger.bearer).set('Idempotency-Key', randomUUID()).send({ payWith: 'wallet', items: [{ productId: 'metro-month' }] }).expect(201);
      const old = (await link({ kind: 'transit_card', uid: oldUid }).expect(201)).body as { id: string };
      const replacement = (await link({ kind: 'transit_card', uid: newCardUid }).expect(201)).body as { id: string };
      const statuses = (await media()).map(({ id, status }) => ({ id, status }));
      expect(statuses).toHaveLength(2);
      expect(statuses).toEqual(expect.arrayContaining([{ id: old.id, status: 'replaced' }, { id: replacement.id, status: 'active' }]));
      expect(await tap(app(), catLinh, { medium: card(oldUid, 1), direction: 'entry' })).toMatchObject({ verdict: 'reject', reason: 'REVOKED' });
      // The new card rides on the account's month pass.
      expect(await tap(app(), catLinh, { medium: card(newCardUid, 1), direction: 'entry' })).toMatchObject({ verdict: 'accept', ticketId: order.body.tickets[0].id });
      const tickets = (await http().get('/v1/tickets').set('Authorization', passenger.bearer).expect(200)).body as Array<{ id: string }>;
      expect(tickets.map((ticket) => ticket.id)).toContain(order.body.tickets[0].id);
    });
  });

  describe("a card opens the account's passes", () => {
    const buy = async (productId: string, bearer = passenger.bearer) =>
      (await http().post('/v1/orders').set('Authorization', bearer).set('Idempotency-Key', randomUUID()).send({ payWith: 'wallet', items: [{ productId }] }).expect(201)).body.tickets[0].id as string;

    it('a rider with a metro pass rides on it with a linked transit card: no charge on the metro, pay as you go on the bus', async () => {
      const uid = newUid();
      await register(uid);
      await topUp(app(), passenger.bearer, 200_000);
      const passId = await buy('metro-day');
      await link({ kind: 'transit_card', uid }).expect(201);
      const balance = await walletBalance(app(), passenger.bearer);

      const entry = await tap(app(), catLinh, { medium: card(uid, 1), direction: 'entry' });
      expect(entry).toEqual({ verdict: 'accept', reason: 'OK', ticketId: passId, journeyId: expect.any(String) });
      // As with the pass's QR: inside already.
      expect(await tap(app(), catLinh, { medium: card(uid, 2), direction: 'entry' })).toEqual({ verdict: 'reject', reason: 'PASSBACK', ticketId: passId });
      expect(await tap(app(), haDong, { medium: card(uid, 3), direction: 'exit' })).toEqual({ verdict: 'accept', reason: 'OK', ticketId: passId, journeyId: entry.journeyId });
      expect(await walletBalance(app(), passenger.bearer)).toBe(balance);
      // The rider's history shows the journey on the pass, made with the card.
      const journeys = await waitFor(
        async () => (await http().get('/v1/me/journeys').set('Authorization', passenger.bearer).expect(200)).body as Array<{ id: string; status: string }>,
        (list) => list.some((journey) => journey.id === entry.journeyId && journey.status === 'closed'),
      );
      expect(journeys.find((journey) => journey.id === entry.journeyId)).toMatchObject({ medium: 'transit_card', mediumKind: 'pass' });

      // A metro pass does not cover the bus: the card pays as you go there.
      const bus = await gateAt(app(), 'bus-32', null);
      const busEntry = await tap(app(), bus, { medium: card(uid, 4), direction: 'entry', stationId: '32-ben-xe-giap-bat' });
      expect(busEntry).toMatchObject({ verdict: 'accept', reason: 'OK', accountId: passenger.id, balance });
      const busExit = await tap(app(), bus, { medium: card(uid, 5), direction: 'exit', stationId: '32-xa-dan' });
      expect(busExit).toMatchObject({ verdict: 'accept', accountId: passenger.id, journeyId: busEntry.journeyId });
      expect(busExit.fare).toBeGreaterThan(0);
    });

    it('a linked CCCD opens the pass too; a refunded pass no longer does (pay as you go again)', async () => {
      const number = cccd();
      const birthDate = '1988-02-29';
      await topUp(app(), passenger.bearer, 200_000);
      const passId = await buy('metro-week');
      await link({ kind: 'id_card', number, birthDate }).expect(201);
      const chip = { kind: 'id_card', number, birthDate };
      const balance = await walletBalance(app(), passenger.bearer);

      await http().post(`/v1/tickets/${passId}/refund`).set('Authorization', passenger.bearer).set('Idempotency-Key', randomUUID()).expect(200);
      const refunded = await walletBalance(app(), passenger.bearer);
      expect(refunded).toBeGreaterThan(balance);
      const entry = await tap(app(), catLinh, { medium: chip, direction: 'entry' });
      expect(entry).toMatchObject({ verdict: 'accept', reason: 'OK', accountId: passenger.id, balance: refunded });
      expect(await tap(app(), haDong, { medium: chip, direction: 'exit' })).toMatchObject({ verdict: 'accept', accountId: passenger.id, fare: fare() });

      const weekId = await buy('metro-week');
      const onPass = await tap(app(), haDong, { medium: chip, direction: 'entry' });
      expect(onPass).toEqual({ verdict: 'accept', reason: 'OK', ticketId: weekId, journeyId: expect.any(String) });
      expect(await tap(app(), catLinh, { medium: chip, direction: 'exit' })).toEqual({ verdict: 'accept', reason: 'OK', ticketId: weekId, journeyId: onPass.journeyId });
    });

    it('a pass that has not begun yet (valid from tomorrow) leaves the card on pay as you go; a retried tap keeps its subject', async () => {
      const uid = newUid();
      await register(uid);
      await topUp(app(), passenger.bearer, 200_000);
      const tomorrow = localDateAt(Date.now() + 24 * 3600_000);
      await http().post('/v1/orders').set('Authorization', passenger.bearer).set('Idempotency-Key', randomUUID()).send({ payWith: 'wallet', items: [{ productId: 'metro-day', validFrom: tomorrow }] }).expect(201);
      await link({ kind: 'transit_card', uid }).expect(201);
      const tapId = randomUUID();
      const entry = await tap(app(), catLinh, { tapId, medium: card(uid, 1), direction: 'entry' });
      expect(entry).toMatchObject({ verdict: 'accept', reason: 'OK', accountId: passenger.id });
      const passId = await buy('metro-day');
      // The same tap again: the same subject (pay as you go), its first verdict, even though a pass now covers it.
      expect(await tap(app(), catLinh, { tapId, medium: card(uid, 1), direction: 'entry' })).toEqual(entry);
      const exit = await tap(app(), haDong, { medium: card(uid, 2), direction: 'exit' });
      expect(exit).toMatchObject({ verdict: 'accept', accountId: passenger.id, fare: fare(), journeyId: entry.journeyId });
      expect(await tap(app(), haDong, { medium: card(uid, 3), direction: 'entry' })).toMatchObject({ verdict: 'accept', ticketId: passId });
    });
  });

  describe("the app's virtual card", () => {
    it('links the phone key and issues its credential; a card reported lost stops its dynamic codes (REVOKED)', async () => {
      const phone = new Phone();
      await topUp(app(), passenger.bearer, 100_000);
      const linked = await link({ kind: 'app', publicKey: phone.publicJwk }).expect(201);
      expect(linked.body).toMatchObject({ kind: 'app', status: 'active', credential: expect.any(String), stepSeconds: 15 });
      const { id, credential } = linked.body as { id: string; credential: string };
      expect(await tap(app(), catLinh, { qr: phone.code(credential), direction: 'entry' })).toMatchObject({ verdict: 'accept', reason: 'OK', accountId: passenger.id });
      await http().post(`/v1/me/media/${id}/lost`).set('Authorization', passenger.bearer).expect(200);
      expect(await tap(app(), haDong, { qr: phone.code(credential), direction: 'exit' })).toMatchObject({ verdict: 'reject', reason: 'REVOKED' });
      expectError(await link({ kind: 'app', publicKey: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' } }), 400, 'INVALID_PUBLIC_KEY');
      expectError(await link({ kind: 'app' }), 400, 'VALIDATION_FAILED');
    });
  });

  describe("renewing the app's credential", () => {
    it("renews before it expires, at the account's category now; a blocked or replaced virtual card cannot", async () => {
      const phone = new Phone();
      await topUp(app(), passenger.bearer, 100_000);
      const linked = (await link({ kind: 'app', publicKey: phone.publicJwk }).expect(201)).body as { id: string; credential: string; credentialExpiresAt: string };
      const renew = (id: string, bearer = passenger.bearer) => http().post(`/v1/me/media/${id}/credential`).set('Authorization', bearer);

      // A free category approved after linking: the renewed credential carries it.
      const claim = await http().post('/v1/me/concessions').set('Authorization', passenger.bearer).send({ category: 'disabled', evidence: 'Giấy xác nhận khuyết tật số 12' }).expect(201);
      await http().post(`/v1/admin/concessions/${claim.body.id}/decision`).set('Authorization', admin.bearer).send({ approve: true }).expect(200);
      const renewed = (await renew(linked.id).expect(200)).body as { id: string; kind: string; status: string; credential: string; credentialExpiresAt: string };
      expect(renewed).toMatchObject({ id: linked.id, kind: 'app', status: 'active', credential: expect.any(String), stepSeconds: 15 });
      expect(renewed.credential).not.toBe(linked.credential);
      expect(Date.parse(renewed.credentialExpiresAt)).toBeGreaterThanOrEqual(Date.parse(linked.credentialExpiresAt));
      const entry = await tap(app(), catLinh, { qr: phone.code(renewed.credential), direction: 'entry' });
      expect(entry).toMatchObject({ verdict: 'accept', reason: 'OK', accountId: passenger.id });
      expect(await tap(app(), haDong, { qr: phone.code(renewed.credential), direction: 'exit' })).toMatchObject({ verdict: 'accept', fare: 0, journeyId: entry.journeyId });

      expectError(await renew(linked.id, (await testAccount(app(), 'passenger')).bearer), 404, 'NOT_FOUND');
      const uid = newUid();
      await register(uid);
      const cardMedium = (await link({ kind: 'transit_card', uid }).expect(201)).body as { id: string };
      expectError(await renew(cardMedium.id), 409, 'NOT_AN_APP_MEDIUM');
      // The card replaced the virtual card: no renewal.
      expectError(await renew(linked.id), 409, 'MEDIUM_REPLACED');
      const second = new Phone();
      const other = (await link({ kind: 'app', publicKey: second.publicJwk }).expect(201)).body as { id: string };
      await http().post(`/v1/me/media/${other.id}/lost`).set('Authorization', passenger.bearer).expect(200);
      expectError(await renew(other.id), 409, 'MEDIUM_BLOCKED');
    });
  });

  describe('chip ID cards (CCCD)', () => {
    it('without an account: a rider of 60 or more rides free, a younger one is NOT_COVERED', async () => {
      const elderly = { kind: 'id_card', number: cccd(), birthDate: bornYearsAgo(60) };
      const entry = await tap(app(), catLinh, { medium: elderly, direction: 'entry' });
      expect(entry).toEqual({ verdict: 'accept', reason: 'OK', journeyId: expect.any(String) });
      expect(await tap(app(), catLinh, { medium: elderly, direction: 'entry' })).toEqual({ verdict: 'reject', reason: 'PASSBACK' });
      expect(await tap(app(), haDong, { medium: elderly, direction: 'exit' })).toEqual({ verdict: 'accept', reason: 'OK', journeyId: entry.journeyId });
      const young = { kind: 'id_card', number: cccd(), birthDate: bornYearsAgo(60, 1) };
      expect(await tap(app(), catLinh, { medium: young, direction: 'entry' })).toEqual({ verdict: 'reject', reason: 'NOT_COVERED' });
    });

    it('linked: opens the account like its QR, when the chip shows the date of birth given at linking', async () => {
      const number = cccd();
      const birthDate = '1990-05-17';
      await topUp(app(), passenger.bearer, 100_000);
      const linked = await link({ kind: 'id_card', number, birthDate }).expect(201);
      expect(linked.body).toMatchObject({ kind: 'id_card', status: 'active', label: `CCCD ···${number.slice(-3)}` });
      const entry = await tap(app(), catLinh, { medium: { kind: 'id_card', number, birthDate }, direction: 'entry' });
      expect(entry).toMatchObject({ verdict: 'accept', accountId: passenger.id });
      expect(await tap(app(), haDong, { medium: { kind: 'id_card', number, birthDate }, direction: 'exit' })).toMatchObject({ verdict: 'accept', fare: fare() });
      // Another date of birth on the chip: not the linked rider's card, and under 60.
      expect(await tap(app(), catLinh, { medium: { kind: 'id_card', number, birthDate: '1991-05-17' }, direction: 'entry' })).toEqual({ verdict: 'reject', reason: 'NOT_COVERED' });
      expectError(await link({ kind: 'id_card', number, birthDate }, (await testAccount(app(), 'passenger')).bearer), 409, 'MEDIUM_LINKED_ELSEWHERE');
    });
  });

  describe('the tap body', () => {
    it('takes exactly one of qr and medium, and a well-formed medium', async () => {
      const send = (body: object) => http().post('/v1/validations').set('Authorization', catLinh.bearer).send({ tapId: randomUUID(), direction: 'entry', ...body });
      expectError(await send({}), 400, 'VALIDATION_FAILED');
      expectError(await send({ qr: 'x', medium: card(newUid(), 1) }), 400, 'VALIDATION_FAILED');
      expectError(await send({ medium: { kind: 'bus_pass' } }), 400, 'VALIDATION_FAILED');
      expectError(await send({ medium: { kind: 'id_card', number: '123', birthDate: '1950-01-01' } }), 400, 'VALIDATION_FAILED');
      expectError(await send({ medium: { ...card(newUid(), 1), extra: 1 } }), 400, 'VALIDATION_FAILED');
      expectError(await send({ medium: { ...card(newUid(), 1), counter: -1 } }), 400, 'VALIDATION_FAILED');
      expectError(await send({ medium: 'card' }), 400, 'VALIDATION_FAILED');
    });
  });
});
