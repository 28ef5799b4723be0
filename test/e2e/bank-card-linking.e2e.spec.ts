import { DataSource } from 'typeorm';
import { CardCharges } from '../../src/bank-cards/card-charges';
import { CardTokens } from '../../src/bank-cards/card-tokens';
import { MODE_BITS } from '../../src/fares/domain/fare-calculator';
import { DAY_MS } from '../../src/fares/domain/local-time';
import { FaresService } from '../../src/fares/fares.service';
import { AccountGateState } from '../../src/gate-state/account-gate-state';
import { TapPersister } from '../../src/validation/tap-persister';
import { testAccount, type TestAccount } from '../support/auth';
import { cardToken } from '../support/bank-cards';
import { forgetDeviceTaps, gateAt, tap, type GateDevice } from '../support/gate';
import { GateKeys, spendField } from '../../src/gate-state/gate-state';
import { RedisService } from '../../src/redis/redis.service';
import { localDayNumber } from '../../src/fares/domain/local-time';
import { randomUUID } from 'node:crypto';
import { expectError, useTestApp } from '../support/http';
import { topUp } from '../support/money';

/**
 * A bank card linked to an account through POST /v1/me/media (issue 19): the card opens the account's
 * pay as you go, so its journeys are in the account's history, its caps are shared with the account's
 * other media and the rider's concession applies, while its fares are still charged to the card.
 */
describe('bank cards linked to an account (e2e)', () => {
  const { app, http } = useTestApp();
  let catLinh: GateDevice;
  let haDong: GateDevice;
  let yenNghia: GateDevice;

  beforeAll(async () => {
    [catLinh, haDong, yenNghia] = await Promise.all([gateAt(app(), 'metro-2a', '2a-cat-linh'), gateAt(app(), 'metro-2a', '2a-ha-dong'), gateAt(app(), 'metro-2a', '2a-yen-nghia')]);
  });

  const db = () => app().get(DataSource);
  const cardId = (token: string) => app().get(CardTokens).idOf(token);
  const link = (rider: TestAccount, token: string) => http().post('/v1/me/media').set('Authorization', rider.bearer).send({ kind: 'bank_card', token });
  const accountQr = async (rider: TestAccount): Promise<string> => (await http().get('/v1/me/qr').query({ format: 'text' }).set('Authorization', rider.bearer).expect(200)).text;
  const quote = (from: string, to: string, category: 'adult' | 'priority' = 'adult') => app().get(FaresService).calculator().quote('metro-2a', from, to, category, Date.now());
  const ride = async (medium: { qr: string } | { medium: object }, exit = yenNghia) => {
    expect(await tap(app(), catLinh, { ...medium, direction: 'entry' })).toMatchObject({ verdict: 'accept', reason: 'OK' });
    const out = await tap(app(), exit, { ...medium, direction: 'exit' });
    expect(out).toMatchObject({ verdict: 'accept', reason: 'OK' });
    return out;
  };

  it('links through POST /v1/me/media: listed with the media; 409 for another account; a card number is 400', async () => {
    const [rider, other] = await Promise.all([testAccount(app(), 'passenger'), testAccount(app(), 'passenger')]);
    const token = cardToken();
    const linked = (await link(rider, token).expect(201)).body;
    expect(linked).toMatchObject({ id: cardId(token), kind: 'bank_card', status: 'active', label: `Bank card ${cardId(token).slice(0, 4).toUpperCase()}` });
    expect((await link(rider, token).expect(201)).body).toMatchObject({ id: linked.id, createdAt: linked.createdAt });
    const media = (await http().get('/v1/me/media').set('Authorization', rider.bearer).expect(200)).body as Array<{ id: string; kind: string }>;
    expect(media).toEqual([expect.objectContaining({ id: cardId(token), kind: 'bank_card' })]);
    expectError(await link(other, token), 409, 'MEDIUM_LINKED_ELSEWHERE');
    expectError(await link(rider, '4111111111111111'), 400, 'VALIDATION_FAILED');
    expectError(await http().post('/v1/me/media').set('Authorization', rider.bearer).send({ kind: 'bank_card', token, uid: '04A2B3C4' }), 400, 'VALIDATION_FAILED');
    expect(JSON.stringify(media)).not.toContain(token);
  });

  it("a linked card's journeys are the account's: in its history, capped with its other media, charged to the card and never the wallet", async () => {
    const rider = await testAccount(app(), 'passenger');
    await topUp(app(), rider.bearer, 300_000);
    const qr = await accountQr(rider);
    const token = cardToken();
    await link(rider, token).expect(201);
    const medium = { kind: 'bank_card', token };
    const full = quote('2a-cat-linh', '2a-yen-nghia').amount;
    const dayCap = app().get(FaresService).calculator().capFor('day', MODE_BITS.metro, 'adult', Date.now())!;
    // The wallet pays full trips until one more would pass the day cap ...
    let spent = 0;
    while (spent + full <= dayCap) spent += (await ride({ qr })).fare!;
    const walletAfter = 300_000 - spent;
    expect(await app().get(AccountGateState).balance(rider.id)).toBe(walletAfter);
    // ... and the card's trip is capped by what the account spent: the cap is shared.
    const cardTrip = await ride({ medium });
    expect(cardTrip.fare).toBe(dayCap - spent);
    expect(cardTrip.fare).toBeLessThan(full);
    // After the cap the wallet's trips are free too, and the card's fare never left the wallet.
    expect((await ride({ qr })).fare).toBe(0);
    expect(await app().get(AccountGateState).balance(rider.id)).toBe(walletAfter);

    await app().get(TapPersister).drain();
    const history = (await http().get('/v1/me/journeys').set('Authorization', rider.bearer).expect(200)).body as Array<{ id: string; medium: string; charge: number; claim: string }>;
    const cardJourneys = history.filter((journey) => journey.medium === 'bank_card');
    expect(cardJourneys).toEqual([expect.objectContaining({ id: cardTrip.journeyId, charge: cardTrip.fare, claim: 'not_applicable' })]);
    expect(await db().query(`SELECT subject_kind, account_id, card_id FROM journeys WHERE id = $1`, [cardTrip.journeyId])).toEqual([
      { subject_kind: 'payg', account_id: rider.id, card_id: cardId(token) },
    ]);
    const [wallet] = await db().query<Array<{ balance: string }>>(`SELECT balance FROM ledger_accounts WHERE id = $1`, [`wallet:${rider.id}`]);
    expect(Number(wallet.balance)).toBe(walletAfter);

    // The day's charge goes to the card: the card's journey only.
    await app().get(CardCharges).run(Date.now() + DAY_MS, cardId(token));
    expect(await db().query(`SELECT status, amount::int AS amount FROM bank_card_charges WHERE card_id = $1`, [cardId(token)])).toEqual([{ status: 'captured', amount: cardTrip.fare }]);
    expect(await db().query(`SELECT journey_id FROM bank_card_charge_journeys c JOIN bank_card_charges b ON b.id = c.charge_id WHERE b.card_id = $1`, [cardId(token)])).toEqual([
      { journey_id: cardTrip.journeyId },
    ]);
  });

  it('a verified priority rider pays half on their own linked card; the same card unlinked pays the adult fare', async () => {
    const [rider, admin] = await Promise.all([testAccount(app(), 'passenger'), testAccount(app(), 'admin')]);
    const claim = (await http().post('/v1/me/concessions').set('Authorization', rider.bearer).send({ category: 'priority', evidence: 'Thẻ sinh viên ĐHBK' }).expect(201)).body as { id: string };
    await http().post(`/v1/admin/concessions/${claim.id}/decision`).set('Authorization', admin.bearer).send({ approve: true, validUntil: '2099-06-30T23:59:59+07:00' }).expect(200);
    const unlinked = { kind: 'bank_card', token: cardToken() };
    expect((await ride({ medium: unlinked }, haDong)).fare).toBe(quote('2a-cat-linh', '2a-ha-dong').amount);
    const token = cardToken();
    await link(rider, token).expect(201);
    const trip = await ride({ medium: { kind: 'bank_card', token } }, haDong);
    expect(trip.fare).toBe(quote('2a-cat-linh', '2a-ha-dong', 'priority').amount);
    await app().get(TapPersister).drain();
    expect(await db().query(`SELECT rider_category, charge::int AS charge FROM journeys WHERE id = $1`, [trip.journeyId])).toEqual([{ rider_category: 'priority', charge: trip.fare }]);
  });

  it('a bank-card tap the record refuses is undone at the gates like a wallet tap: spend given back, journey reopened, no wallet credited', async () => {
    const redis = app().get(RedisService).client;
    const keys = app().get(GateKeys);
    const daySpent = (kind: 'bank_card' | 'payg', id: string) => redis.hGet(keys.spend(kind, id), spendField('daySpent', localDayNumber(Date.now())));
    const first = { kind: 'bank_card', token: cardToken() };
    const unlinked = cardToken();
    const rider = await testAccount(app(), 'passenger');
    await topUp(app(), rider.bearer, 100_000);
    const linked = cardToken();
    await link(rider, linked).expect(201);
    for (const [token, kind, subject] of [
      [unlinked, 'bank_card', cardId(unlinked)],
      [linked, 'payg', rider.id],
    ] as const) {
      const reused = randomUUID();
      await tap(app(), catLinh, { medium: first, direction: 'entry' });
      const recorded = await tap(app(), haDong, { tapId: reused, medium: first, direction: 'exit' });
      expect(recorded).toMatchObject({ verdict: 'accept' });
      await app().get(TapPersister).drain();
      await forgetDeviceTaps(app(), haDong.deviceId);
      const medium = { kind: 'bank_card', token };
      const entry = await tap(app(), catLinh, { medium, direction: 'entry' });
      // The gate, having forgotten the id, takes the exit and counts its fare towards the card's (or account's) caps ...
      const answered = await tap(app(), haDong, { tapId: reused, medium, direction: 'exit' });
      expect(answered).toMatchObject({ verdict: 'accept', fare: recorded.fare });
      expect(Number(await daySpent(kind, subject))).toBe(recorded.fare);
      // ... and the record, holding the first card's exit under that id, refuses it: the gates undo it.
      await app().get(TapPersister).drain();
      expect(Number((await daySpent(kind, subject)) ?? 0)).toBe(0);
      expect(await redis.hGet(keys.trip(kind, subject), 'jid')).toBe(entry.journeyId);
      expect(await redis.zScore(keys.openJourneys(keys.shardOfSubject(kind, subject)), `${kind === 'payg' ? 'a' : 'c'}:${subject}`)).not.toBeNull();
    }
    // The linked card's fare never left the wallet, and its undo put nothing into it.
    expect(await app().get(AccountGateState).balance(rider.id)).toBe(100_000);
  });
});
