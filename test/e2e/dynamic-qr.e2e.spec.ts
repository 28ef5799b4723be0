import { randomUUID } from 'node:crypto';
import { FaresService } from '../../src/fares/fares.service';
import { DataSource } from 'typeorm';
import { parseCredential } from '../../src/tickets/dynamic-qr';
import { testAccount, type TestAccount } from '../support/auth';
import { gateAt, offlineTap, tap, type GateDevice } from '../support/gate';
import { expectError, useTestApp } from '../support/http';
import { topUp } from '../support/money';
import { Phone } from '../support/phone';
import { waitFor } from '../support/wait';

const STEP_MS = 15_000;

describe("the app's dynamic QR at the gates", () => {
  const { app, http } = useTestApp();
  let passenger: TestAccount;
  let phone: Phone;
  let credential: string;
  let mediumId: string;
  let catLinh: GateDevice;
  let haDong: GateDevice;
  let lang: GateDevice;

  beforeAll(async () => {
    [catLinh, haDong, lang] = await Promise.all([gateAt(app(), 'metro-2a', '2a-cat-linh'), gateAt(app(), 'metro-2a', '2a-ha-dong'), gateAt(app(), 'metro-2a', '2a-lang')]);
  });
  /** The phone registers its key (POST /v1/me/media {kind: "app"}) and keeps the credential. */
  const register = async (owner: TestAccount, device: Phone): Promise<{ id: string; credential: string }> => {
    const response = await http().post('/v1/me/media').set('Authorization', owner.bearer).send({ kind: 'app', publicKey: device.publicJwk }).expect(201);
    return response.body as { id: string; credential: string };
  };
  beforeEach(async () => {
    passenger = await testAccount(app(), 'passenger');
    phone = new Phone();
    ({ id: mediumId, credential } = await register(passenger, phone));
  });
  const fare = (from: string, to: string) => app().get(FaresService).calculator().quote(null, from, to, 'adult', Date.now()).amount;

  it("rides pay-as-you-go on the account: a fresh code at entry, another at exit, the fare charged to the wallet", async () => {
    const fields = parseCredential(Buffer.from(credential, 'base64url'))!;
    expect(fields).toMatchObject({ accountId: passenger.id, mediumId, riderCategory: 'adult', phoneKey: Buffer.concat([Buffer.of(4), Buffer.from(phone.publicJwk.x!, 'base64url'), Buffer.from(phone.publicJwk.y!, 'base64url')]) });
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

  it('offline, a code is judged at the time of its tap: accepted later in the batch window, stale ones recorded as invalid', async () => {
    await topUp(app(), passenger.bearer, 100_000);
    // Taps a validator made offline a little after the registration, uploaded now.
    const entryAt = Date.now() + 60_000;
    expect(await offlineTap(app(), catLinh, { qr: phone.code(credential, entryAt), direction: 'entry', occurredAt: new Date(entryAt).toISOString() })).toMatchObject({
      verdict: 'accept',
      reason: 'OK',
      valid: true,
    });
    const later = entryAt + 2 * 60_000;
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
  it('the app medium blocked (reported lost) is REVOKED at entry and at exit, and a new phone replaces the old one', async () => {
    await topUp(app(), passenger.bearer, 100_000);
    expect(await tap(app(), catLinh, { qr: phone.code(credential), direction: 'entry' })).toMatchObject({ verdict: 'accept', reason: 'OK' });
    await http().post(`/v1/me/media/${mediumId}/lost`).set('Authorization', passenger.bearer).expect(200);
    expect(await tap(app(), haDong, { qr: phone.code(credential), direction: 'exit' })).toMatchObject({ verdict: 'reject', reason: 'REVOKED' });
    expect(await tap(app(), catLinh, { qr: phone.code(credential), direction: 'entry' })).toMatchObject({ verdict: 'reject', reason: 'PASSBACK' });
    // The static account QR still opens the account: only the phone is blocked.
    const staticQr = (await http().get('/v1/me/qr').query({ format: 'text' }).set('Authorization', passenger.bearer).expect(200)).text;
    expect(await tap(app(), haDong, { qr: staticQr, direction: 'exit' })).toMatchObject({ verdict: 'accept', reason: 'OK' });
    expect(await tap(app(), catLinh, { qr: phone.code(credential), direction: 'entry' })).toMatchObject({ verdict: 'reject', reason: 'REVOKED' });

    const newPhone = new Phone();
    const second = await register(passenger, newPhone);
    expect(await tap(app(), catLinh, { qr: newPhone.code(second.credential), direction: 'entry' })).toMatchObject({ verdict: 'accept', reason: 'OK' });
    const third = await register(passenger, new Phone());
    const media = (await http().get('/v1/me/media').set('Authorization', passenger.bearer).expect(200)).body as Array<{ id: string; kind: string; status: string }>;
    expect(media.map((medium) => [medium.id, medium.kind, medium.status])).toEqual(expect.arrayContaining([[mediumId, 'app', 'blocked'], [second.id, 'app', 'replaced'], [third.id, 'app', 'active']]));
    expect(await tap(app(), haDong, { qr: newPhone.code(second.credential), direction: 'exit' })).toMatchObject({ verdict: 'reject', reason: 'REVOKED' });
  });

  it('records the app medium with each tap (kind app and the medium id, never the key)', async () => {
    await topUp(app(), passenger.bearer, 100_000);
    const tapId = randomUUID();
    await tap(app(), catLinh, { tapId, qr: phone.code(credential), direction: 'entry' });
    const db = app().get(DataSource);
    const rows = await waitFor(
      () => db.query<Array<{ medium_kind: string; medium_ref: string }>>(`SELECT medium_kind, medium_ref FROM taps WHERE tap_id = $1`, [tapId]),
      (found) => found.length === 1,
      20_000,
    );
    expect(rows).toEqual([{ medium_kind: 'app', medium_ref: mediumId }]);
  });

  it('refuses keys that are not a P-256 public key (INVALID_PUBLIC_KEY) and stores nothing', async () => {
    const send = (publicKey: unknown) => http().post('/v1/me/media').set('Authorization', passenger.bearer).send({ kind: 'app', publicKey });
    expectError(await send({ ...phone.publicJwk, crv: 'P-384' }), 400, 'INVALID_PUBLIC_KEY');
    expectError(await send(phone.privateKey.export({ format: 'jwk' })), 422, 'INVALID_PUBLIC_KEY');
    expectError(await send({ ...phone.publicJwk, y: phone.publicJwk.x }), 422, 'INVALID_PUBLIC_KEY');
    const media = (await http().get('/v1/me/media').set('Authorization', passenger.bearer).expect(200)).body as unknown[];
    expect(media).toHaveLength(1);
  });
});
