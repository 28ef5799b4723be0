import { randomBytes } from 'node:crypto';
import type { AppConfig } from '../../src/config/config';
import { APP_CONFIG } from '../../src/config/config.module';
import { FaresService } from '../../src/fares/fares.service';
import { GateKeys } from '../../src/gate-state/gate-state';
import { RedisService } from '../../src/redis/redis.service';
import { GateStateBuilder } from '../../src/validation/gate-state-builder';
import { transitCardCryptogram } from '../../src/media/medium-keys';
import { testAccount, type TestAccount } from '../support/auth';
import { gateAt, tap, type GateDevice } from '../support/gate';
import { useTestApp } from '../support/http';
import { topUp } from '../support/money';
import { Phone } from '../support/phone';

/** A card rides at its account's rider category of the moment; a concession that ends prices as adult at the gates and in pricing. */
describe("media follow the account's rider category; concessions that end (e2e)", () => {
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
    await topUp(app(), passenger.bearer, 100_000);
  });

  const adultFare = () => app().get(FaresService).calculator().quote(null, '2a-cat-linh', '2a-ha-dong', 'adult', Date.now()).amount;
  let counter = 0;
  const card = (uid: string) => {
    counter++;
    return { kind: 'transit_card', uid, counter, cryptogram: transitCardCryptogram(app().get<AppConfig>(APP_CONFIG).media.transitCardMasterKey, uid, counter) };
  };
  const linkedCard = async () => {
    const uid = randomBytes(7).toString('hex').toUpperCase();
    await http().post('/v1/admin/transit-cards').set('Authorization', admin.bearer).send({ cards: [{ uid }] }).expect(201);
    await http().post('/v1/me/media').set('Authorization', passenger.bearer).send({ kind: 'transit_card', uid }).expect(201);
    return uid;
  };
  const approve = async (category: string, validUntil?: number) => {
    const claim = await http().post('/v1/me/concessions').set('Authorization', passenger.bearer).send({ category, evidence: 'Giấy xác nhận số 2026-77' }).expect(201);
    await http()
      .post(`/v1/admin/concessions/${claim.body.id}/decision`)
      .set('Authorization', admin.bearer)
      .send({ approve: true, ...(validUntil !== undefined && { validUntil: new Date(validUntil).toISOString() }) })
      .expect(200);
  };
  /** A ride from Cát Linh to Hà Đông with what `shown` gives at each tap; its fare. */
  const ride = async (shown: () => { qr: string } | { medium: object }) => {
    const entry = await tap(app(), catLinh, { ...shown(), direction: 'entry' });
    expect(entry).toMatchObject({ verdict: 'accept', reason: 'OK' });
    const exit = await tap(app(), haDong, { ...shown(), direction: 'exit' });
    expect(exit).toMatchObject({ verdict: 'accept', reason: 'OK', journeyId: entry.journeyId });
    return exit.fare;
  };
  const untilPast = async (at: number) => {
    while (Date.now() <= at) await new Promise((resolve) => setTimeout(resolve, 100));
  };

  it('a card linked as an adult rides free once a free category is approved, and at adult fares again once it ends', async () => {
    const uid = await linkedCard();
    expect(await ride(() => ({ medium: card(uid) }))).toBe(adultFare());
    const ends = Date.now() + 4_000;
    await approve('disabled', ends);
    expect(await ride(() => ({ medium: card(uid) }))).toBe(0);
    await untilPast(ends);
    expect(await ride(() => ({ medium: card(uid) }))).toBe(adultFare());
  });

  it("the account's QR and the app's credential, taken before a concession ends, price as adult after its end; so do quotes", async () => {
    const ends = Date.now() + 5_000;
    await approve('poor_household', ends);
    const qr = (await http().get('/v1/me/qr').query({ format: 'text' }).set('Authorization', passenger.bearer).expect(200)).text;
    const phone = new Phone();
    const app_ = (await http().post('/v1/me/media').set('Authorization', passenger.bearer).send({ kind: 'app', publicKey: phone.publicJwk }).expect(201)).body as { credential: string };
    const quote = () => http().get('/v1/fares/quote').query({ lineId: 'metro-2a', from: '2a-cat-linh', to: '2a-ha-dong' }).set('Authorization', passenger.bearer).expect(200);
    expect((await quote()).body).toMatchObject({ amount: 0, riderCategory: 'poor_household' });
    expect(await ride(() => ({ qr }))).toBe(0);
    await untilPast(ends);
    expect(await ride(() => ({ qr }))).toBe(adultFare());
    expect(await ride(() => ({ qr: phone.code(app_.credential) }))).toBe(adultFare());
    expect((await quote()).body).toMatchObject({ amount: adultFare(), riderCategory: 'adult' });
    // Told before it ended, and after.
    const events = (await http().get('/v1/me/notifications').set('Authorization', passenger.bearer).expect(200)).body.events as Array<{ type: string; data: object }>;
    expect(events).toContainEqual(expect.objectContaining({ type: 'concession_expired', data: expect.objectContaining({ category: 'poor_household', nowPricedAs: 'adult' }) }));
  });

  it('a card follows a category approved after it was linked, across a rebuild of the gate state', async () => {
    const uid = await linkedCard();
    await approve('meritorious');
    expect(await ride(() => ({ medium: card(uid) }))).toBe(0);
    // Redis loses the account's category: the rebuild writes it again from Postgres.
    await app().get(RedisService).client.del(app().get(GateKeys).riderCategories(passenger.id));
    expect(await ride(() => ({ medium: card(uid) }))).toBe(adultFare());
    await app().get(GateStateBuilder).rebuild();
    expect(await ride(() => ({ medium: card(uid) }))).toBe(0);
  });
});
