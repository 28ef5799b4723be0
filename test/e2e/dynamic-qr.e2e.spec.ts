import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { FaresService } from '../../src/fares/fares.service';
import { DynamicQrCredentials } from '../../src/tickets/dynamic-qr';
import { testAccount, type TestAccount } from '../support/auth';
import { gateAt, offlineTap, tap, type GateDevice } from '../support/gate';
import { useTestApp } from '../support/http';
import { topUp } from '../support/money';
import { Phone } from '../support/phone';
import { waitFor } from '../support/wait';

const STEP_MS = 15_000;

describe("the app's dynamic QR at the gates", () => {
  const { app, http } = useTestApp();
  let passenger: TestAccount;
  let phone: Phone;
  let credential: string;
  let catLinh: GateDevice;
  let haDong: GateDevice;
  let lang: GateDevice;

  beforeAll(async () => {
    [catLinh, haDong, lang] = await Promise.all([gateAt(app(), 'metro-2a', '2a-cat-linh'), gateAt(app(), 'metro-2a', '2a-ha-dong'), gateAt(app(), 'metro-2a', '2a-lang')]);
  });
  beforeEach(async () => {
    passenger = await testAccount(app(), 'passenger');
    phone = new Phone();
    // The phone's virtual card, linked as the app does; its credential issued again a day earlier, for the offline cases.
    const medium = await http().post('/v1/me/media').set('Authorization', passenger.bearer).send({ kind: 'app', publicKey: phone.publicJwk }).expect(201);
    const issuer = app().get(DynamicQrCredentials);
    credential = issuer.issue({ accountId: passenger.id, mediumId: (medium.body as { id: string }).id, riderCategory: 'adult', categoryValidUntil: null, phoneKey: issuer.publicKeyPoint(phone.publicJwk) }, new Date(Date.now() - 86_400_000)).credential;
  });
  const fare = (from: string, to: string) => app().get(FaresService).calculator().quote(null, from, to, 'adult', Date.now()).amount;

  it("rides pay-as-you-go on the account: a fresh code at entry, another at exit, the fare charged to the wallet", async () => {
    await topUp(app(), passenger.bearer, 100_000);
    const entry = await tap(app(), catLinh, { qr: phone.code(credential), direction: 'entry' });
    expect(entry).toEqual({ verdict: 'accept', reason: 'OK', accountId: passenger.id, balance: 100_000, journeyId: expect.any(String) });
    const charged = fare('2a-cat-linh', '2a-ha-dong');
    expect(charged).toBeGreaterThan(0);
    expect(await tap(app(), haDong, { qr: phone.code(credential, Date.now() + STEP_MS), direction: 'exit' })).toEqual({
      verdict: 'accept',
      reason: 'OK',
      accountId: passenger.id,
      fare: charged,
      balance: 100_000 - charged,
      journeyId: entry.journeyId,
    });
  });

  it('refuses a code replayed after its window (STALE_CODE, nothing opened); within its window the usual PASSBACK', async () => {
    await topUp(app(), passenger.bearer, 100_000);
    const old = phone.code(credential, Date.now() - 3 * STEP_MS);
    expect(await tap(app(), catLinh, { qr: old, direction: 'entry' })).toEqual({ verdict: 'reject', reason: 'STALE_CODE', accountId: passenger.id, balance: 100_000 });
    const fresh = phone.code(credential);
    expect(await tap(app(), catLinh, { qr: fresh, direction: 'entry' })).toMatchObject({ verdict: 'accept', reason: 'OK' });
    expect(await tap(app(), lang, { qr: fresh, direction: 'entry' })).toMatchObject({ verdict: 'reject', reason: 'PASSBACK' });
    expect(await tap(app(), haDong, { qr: old, direction: 'exit' })).toMatchObject({ verdict: 'reject', reason: 'STALE_CODE' });
    expect(await tap(app(), haDong, { qr: phone.code(credential), direction: 'exit' })).toMatchObject({ verdict: 'accept', reason: 'OK' });
  });

  it('a repeated tap id keeps its first verdict, even once the code went stale', async () => {
    await topUp(app(), passenger.bearer, 100_000);
    const tapId = randomUUID();
    const first = await tap(app(), catLinh, { tapId, qr: phone.code(credential), direction: 'entry' });
    expect(first).toMatchObject({ verdict: 'accept', reason: 'OK' });
    expect(await tap(app(), catLinh, { tapId, qr: phone.code(credential, Date.now() - 5 * STEP_MS), direction: 'entry' })).toEqual(first);
  });

  it("refuses a code made with another phone's key for this credential, and forged or truncated codes (INVALID_QR)", async () => {
    await topUp(app(), passenger.bearer, 100_000);
    const invalid = { verdict: 'reject', reason: 'INVALID_QR' };
    expect(await tap(app(), catLinh, { qr: new Phone().code(credential), direction: 'entry' })).toEqual(invalid);
    const code = phone.code(credential);
    expect(await tap(app(), catLinh, { qr: code.slice(0, -3), direction: 'entry' })).toEqual(invalid);
    const forged = code.slice(0, 40) + (code[40] === 'A' ? 'B' : 'A') + code.slice(41);
    expect(await tap(app(), catLinh, { qr: forged, direction: 'entry' })).toEqual(invalid);
    expect(await tap(app(), catLinh, { qr: 'LT1:%%%', direction: 'entry' })).toEqual(invalid);
    expect(await tap(app(), catLinh, { qr: code, direction: 'entry' })).toMatchObject({ verdict: 'accept', reason: 'OK' });
  });

  it('offline, a code is judged at the time of its tap: accepted an hour later, stale ones recorded as invalid', async () => {
    await topUp(app(), passenger.bearer, 100_000);
    const hourAgo = Date.now() - 3600_000;
    expect(await offlineTap(app(), catLinh, { qr: phone.code(credential, hourAgo), direction: 'entry', occurredAt: new Date(hourAgo).toISOString() })).toMatchObject({
      verdict: 'accept',
      reason: 'OK',
      valid: true,
    });
    const later = hourAgo + 20 * 60_000;
    expect(await offlineTap(app(), haDong, { qr: phone.code(credential, later - 10 * STEP_MS), direction: 'exit', occurredAt: new Date(later).toISOString() })).toMatchObject({
      verdict: 'accept',
      reason: 'STALE_CODE',
      valid: false,
      balance: 100_000,
    });
    const exit = await offlineTap(app(), haDong, { qr: phone.code(credential, later), direction: 'exit', occurredAt: new Date(later).toISOString() });
    expect(exit).toMatchObject({ verdict: 'accept', reason: 'OK', valid: true, fare: fare('2a-cat-linh', '2a-ha-dong') });
  });

  it('static QRs keep working beside it: the account QR of the same rider shares its journey', async () => {
    await topUp(app(), passenger.bearer, 100_000);
    const staticQr = (await http().get('/v1/me/qr').query({ format: 'text' }).set('Authorization', passenger.bearer).expect(200)).text;
    expect(await tap(app(), catLinh, { qr: phone.code(credential), direction: 'entry' })).toMatchObject({ verdict: 'accept' });
    expect(await tap(app(), lang, { qr: staticQr, direction: 'entry' })).toMatchObject({ verdict: 'reject', reason: 'PASSBACK' });
    expect(await tap(app(), haDong, { qr: staticQr, direction: 'exit' })).toMatchObject({ verdict: 'accept', reason: 'OK' });
  });

  it('a new phone replaces the old one: its codes are REVOKED, at exit too; the taps name the app medium, never the key', async () => {
    await topUp(app(), passenger.bearer, 100_000);
    const tapId = randomUUID();
    expect(await tap(app(), catLinh, { tapId, qr: phone.code(credential), direction: 'entry' })).toMatchObject({ verdict: 'accept', reason: 'OK' });
    const newPhone = new Phone();
    const second = (await http().post('/v1/me/media').set('Authorization', passenger.bearer).send({ kind: 'app', publicKey: newPhone.publicJwk }).expect(201)).body as { id: string; credential: string };
    expect(await tap(app(), haDong, { qr: phone.code(credential), direction: 'exit' })).toMatchObject({ verdict: 'reject', reason: 'REVOKED' });
    expect(await tap(app(), haDong, { qr: newPhone.code(second.credential), direction: 'exit' })).toMatchObject({ verdict: 'accept', reason: 'OK' });
    const media = (await http().get('/v1/me/media').set('Authorization', passenger.bearer).expect(200)).body as Array<{ id: string; status: string }>;
    expect(media.find((medium) => medium.id === second.id)?.status).toBe('active');
    expect(media.filter((medium) => medium.status === 'replaced')).toHaveLength(1);

    const rows = await waitFor(
      () => app().get(DataSource).query<Array<{ medium_kind: string; medium_ref: string }>>(`SELECT medium_kind, medium_ref FROM taps WHERE tap_id = $1`, [tapId]),
      (found) => found.length === 1,
      20_000,
    );
    expect(rows).toEqual([{ medium_kind: 'app', medium_ref: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
    expect(JSON.stringify(rows)).not.toContain(newPhone.publicJwk.x);
  });
});
