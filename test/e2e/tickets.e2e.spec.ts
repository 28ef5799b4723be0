import { createPublicKey, randomUUID, type JsonWebKey } from 'node:crypto';
import jsQR from 'jsqr';
import jwt, { type JwtPayload } from 'jsonwebtoken';
import { PNG } from 'pngjs';
import { DataSource } from 'typeorm';
import { localDayNumber, localDayStartMs } from '../../src/fares/domain/local-time';
import { RedisService } from '../../src/redis/redis.service';
import { GateKeys } from '../../src/gate-state/gate-state';
import { TicketsService } from '../../src/tickets/tickets.service';
import { bearerFor, testAccount, type TestAccount } from '../support/auth';
import { expectError, useTestApp } from '../support/http';
import { expectLedgerBalanced, topUp, walletBalance } from '../support/money';

interface Ticket {
  id: string;
  kind: string;
  status: string;
  price: number;
  productId: string;
  activation: string;
  validFrom?: string;
  validUntil?: string;
  validityDays?: number;
  firstUseBy?: string;
  lineIds: string[] | null;
}
interface Order {
  id: string;
  status: string;
  total: number;
  tickets: Ticket[];
  payment?: { id: string; amount: number; status: string; redirectUrl: string };
}

const SINGLE = { productId: 'metro-single', originStationId: '2a-cat-linh', destinationStationId: '2a-yen-nghia' };

/** A local date `days` after today, YYYY-MM-DD. */
function localDate(days: number): string {
  return new Date((localDayNumber(Date.now()) + days) * 24 * 3600 * 1000).toISOString().slice(0, 10);
}

describe('orders, tickets and QR codes', () => {
  const { app, http } = useTestApp();
  let passenger: TestAccount;

  beforeEach(async () => {
    passenger = await testAccount(app(), 'passenger');
  });
  afterEach(async () => {
    await expectLedgerBalanced(app());
  });

  const order = (body: object, key: string = randomUUID(), bearer = passenger.bearer) =>
    http().post('/v1/orders').set('Authorization', bearer).set('Idempotency-Key', key).send(body);
  const quote = async (from: string, to: string): Promise<number> =>
    ((await http().get('/v1/fares/quote').query({ from, to }).expect(200)).body as { amount: number }).amount;
  const redisState = (ticketId: string) => app().get(RedisService).client.hGetAll(app().get(GateKeys).ticketState(ticketId));
  const rowsOf = async (table: 'orders' | 'tickets' | 'payments'): Promise<number> =>
    Number((await app().get(DataSource).query<Array<{ n: string }>>(`SELECT count(*) AS n FROM ${table} WHERE account_id = $1`, [passenger.id]))[0].n);
  const binary = (path: string) =>
    http()
      .get(path)
      .set('Authorization', passenger.bearer)
      .buffer(true)
      .parse((response, done) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => done(null, Buffer.concat(chunks)));
      });

  describe('paid from the wallet', () => {
    it('sells a single trip at the fare engine price, a dated pass, a first-use pass and a single-route pass', async () => {
      await topUp(app(), passenger.bearer, 1_000_000);
      const fare = await quote(SINGLE.originStationId, SINGLE.destinationStationId);
      expect(fare).toBe(18_625);
      const start = localDate(2);
      const response = await order({
        payWith: 'wallet',
        items: [
          { ...SINGLE, quantity: 2 },
          { productId: 'metro-day', validFrom: start },
          { productId: 'metro-month' },
          { productId: 'bus-month-single-route', lineId: 'bus-32' },
        ],
      }).expect(201);
      const body = response.body as Order;
      const total = 2 * fare + 40_000 + 280_000 + 140_000;
      expect(body).toMatchObject({ status: 'paid', total, currency: 'VND', riderCategory: 'adult', payWith: 'wallet' });
      expect(body.tickets).toHaveLength(5);
      const [single, , day, month, route] = body.tickets;
      expect(single).toMatchObject({ kind: 'single', price: fare, activation: 'fixed', lineIds: ['metro-2a'], status: 'active', originStationId: '2a-cat-linh' });
      expect(Date.parse(single.validUntil!) - Date.parse(single.validFrom!)).toBe(24 * 3600 * 1000);
      const startDay = localDayNumber(Date.now()) + 2;
      expect(day).toMatchObject({ productId: 'metro-day', price: 40_000, activation: 'fixed', validityDays: 1 });
      expect(day.validFrom).toBe(new Date(localDayStartMs(startDay)).toISOString());
      expect(day.validUntil).toBe(new Date(localDayStartMs(startDay + 1)).toISOString());
      expect(month).toMatchObject({ productId: 'metro-month', price: 280_000, activation: 'first_use', validityDays: 30, lineIds: null });
      expect(month.validFrom).toBeUndefined();
      expect(Date.parse(month.firstUseBy!)).toBeGreaterThan(Date.now());
      expect(route).toMatchObject({ productId: 'bus-month-single-route', price: 140_000, lineIds: ['bus-32'] });
      expect(await walletBalance(app(), passenger.bearer)).toBe(1_000_000 - total);

      // Ticket state reached Redis, ready for the gates.
      expect(await redisState(single.id)).toMatchObject({ status: 'active', kind: 'single', account: passenger.id, origin: '2a-cat-linh', version: '1' });
      expect(await redisState(month.id)).toMatchObject({ status: 'active', activation: 'first_use', validityDays: '30', modes: 'metro', lineIds: '' });

      const fetched = await http().get(`/v1/orders/${body.id}`).set('Authorization', passenger.bearer).expect(200);
      expect(fetched.body).toMatchObject({ id: body.id, status: 'paid', total });
      expect((fetched.body as Order).tickets.map((ticket) => ticket.id).sort()).toEqual(body.tickets.map((ticket) => ticket.id).sort());
      const list = await http().get('/v1/tickets').set('Authorization', passenger.bearer).expect(200);
      expect(list.body).toHaveLength(5);
    });

    it('refuses what an order cannot sell', async () => {
      await topUp(app(), passenger.bearer, 100_000);
      expectError(await order({ payWith: 'wallet', items: [{ productId: 'pay-as-you-go' }] }), 422, 'PRODUCT_NOT_SOLD_AS_TICKET');
      expectError(await order({ payWith: 'wallet', items: [{ productId: 'no-such-product' }] }), 404, 'UNKNOWN_PRODUCT');
      expectError(await order({ payWith: 'wallet', items: [{ productId: 'metro-single' }] }), 400, 'ORIGIN_DESTINATION_REQUIRED');
      expectError(await order({ payWith: 'wallet', items: [{ productId: 'metro-single', originStationId: '2a-cat-linh', destinationStationId: 'brt01-kim-ma' }] }), 400, 'STATIONS_ON_DIFFERENT_LINES');
      expectError(await order({ payWith: 'wallet', items: [{ productId: 'bus-single', originStationId: '2a-cat-linh', destinationStationId: '2a-la-thanh' }] }), 422, 'PRODUCT_NOT_VALID_ON_LINE');
      expectError(await order({ payWith: 'wallet', items: [{ productId: 'bus-month-single-route' }] }), 400, 'LINE_REQUIRED');
      expectError(await order({ payWith: 'wallet', items: [{ productId: 'metro-day', validFrom: localDate(-1) }] }), 400, 'INVALID_VALID_FROM');
      expectError(await order({ payWith: 'wallet', items: [{ ...SINGLE, validFrom: localDate(0) }] }), 400, 'FIELD_NOT_APPLICABLE');
      expectError(await order({ payWith: 'cash', items: [SINGLE] }), 400, 'VALIDATION_FAILED');
      expectError(await order({ payWith: 'wallet', items: [{ ...SINGLE, price: 1 }] }), 400, 'VALIDATION_FAILED');
      expect(await rowsOf('orders')).toBe(0);
      expect(await walletBalance(app(), passenger.bearer)).toBe(100_000);
    });

    it('answers insufficient balance with 409 and writes nothing, not even the key', async () => {
      await topUp(app(), passenger.bearer, 20_000);
      const key = randomUUID();
      const body = { payWith: 'wallet', items: [{ productId: 'metro-day', validFrom: localDate(0) }] };
      expectError(await order(body, key), 409, 'INSUFFICIENT_BALANCE');
      expect({ orders: await rowsOf('orders'), tickets: await rowsOf('tickets'), balance: await walletBalance(app(), passenger.bearer) }).toEqual({
        orders: 0,
        tickets: 0,
        balance: 20_000,
      });
      const entries = await app().get(DataSource).query<Array<{ n: string }>>(
        `SELECT count(*) AS n FROM ledger_entries WHERE ledger_account_id = $1`,
        [`wallet:${passenger.id}`],
      );
      expect(entries[0].n).toBe('1'); // the top-up only
      // Nothing was stored under the key: after topping up, the same request goes through.
      await topUp(app(), passenger.bearer, 20_000);
      await order(body, key).expect(201);
      expect(await walletBalance(app(), passenger.bearer)).toBe(0);
    });

    it('charges once for the same order posted twice with one key', async () => {
      await topUp(app(), passenger.bearer, 100_000);
      const key = randomUUID();
      const first = await order({ payWith: 'wallet', items: [SINGLE] }, key).expect(201);
      const second = await order({ items: [SINGLE], payWith: 'wallet' }, key).expect(201);
      expect(second.body).toEqual(first.body);
      expect(await walletBalance(app(), passenger.bearer)).toBe(100_000 - 18_625);
      expectError(await order({ payWith: 'wallet', items: [{ ...SINGLE, quantity: 2 }] }, key), 422, 'IDEMPOTENCY_KEY_REUSED');
      expect({ orders: await rowsOf('orders'), tickets: await rowsOf('tickets') }).toEqual({ orders: 1, tickets: 1 });
    });

    it('charges once for 20 concurrent retries of one key', async () => {
      await topUp(app(), passenger.bearer, 100_000);
      const key = randomUUID();
      const responses = await Promise.all(Array.from({ length: 20 }, () => order({ payWith: 'wallet', items: [SINGLE] }, key)));
      expect(responses.map((response) => response.status)).toEqual(Array.from({ length: 20 }, () => 201));
      // The first response, replayed byte for byte.
      expect(new Set(responses.map((response) => response.text)).size).toBe(1);
      expect({ orders: await rowsOf('orders'), tickets: await rowsOf('tickets') }).toEqual({ orders: 1, tickets: 1 });
      expect(await walletBalance(app(), passenger.bearer)).toBe(100_000 - 18_625);
    });

    it('never spends the same đồng twice: concurrent orders with different keys stop at the balance', async () => {
      await topUp(app(), passenger.bearer, 50_000);
      const responses = await Promise.all(Array.from({ length: 8 }, () => order({ payWith: 'wallet', items: [SINGLE] })));
      const paid = responses.filter((response) => response.status === 201);
      expect(paid).toHaveLength(2); // 2 × 18,625 ≤ 50,000 < 3 × 18,625
      for (const refused of responses.filter((response) => response.status !== 201)) expectError(refused, 409, 'INSUFFICIENT_BALANCE');
      expect(await walletBalance(app(), passenger.bearer)).toBe(50_000 - 2 * 18_625);
    });
  });

  describe('paid through the gateway', () => {
    it('issues the tickets only when the payment completes, in the same transaction', async () => {
      const items = [SINGLE, { productId: 'bus-metro-week', validFrom: localDate(1) }, { productId: 'bus-month-single-route', lineId: 'brt01' }];
      const created = await order({ payWith: 'gateway', items }).expect(201);
      const body = created.body as Order;
      expect(body).toMatchObject({ status: 'pending_payment', total: 18_625 + 200_000 + 140_000, tickets: [] });
      expect(body.payment).toMatchObject({ status: 'pending', amount: 358_625, purpose: 'order', orderId: body.id });
      expect(await rowsOf('tickets')).toBe(0);

      const completed = await http().post(`/v1/payments/sandbox/${body.payment!.id}/complete`).send({}).expect(200);
      expect(completed.body).toMatchObject({ webhookStatus: 200, webhookResponse: { status: 'succeeded', applied: true } });
      const paid = (await http().get(`/v1/orders/${body.id}`).set('Authorization', passenger.bearer).expect(200)).body as Order;
      expect(paid).toMatchObject({ status: 'paid', payment: { status: 'succeeded' } });
      expect(paid.tickets.map((ticket) => [ticket.productId, ticket.price, ticket.activation])).toEqual([
        ['metro-single', 18_625, 'fixed'],
        ['bus-metro-week', 200_000, 'fixed'],
        ['bus-month-single-route', 140_000, 'first_use'],
      ]);
      expect(await redisState(paid.tickets[0].id)).toMatchObject({ status: 'active' });
      // The wallet is not involved; a replayed callback issues nothing more.
      expect(await walletBalance(app(), passenger.bearer)).toBe(0);
      await http().post(`/v1/payments/sandbox/${body.payment!.id}/complete`).send({}).expect(200);
      expect(await rowsOf('tickets')).toBe(3);
    });

    it('marks the order failed or expired with its payment, and issues nothing', async () => {
      const failing = (await order({ payWith: 'gateway', items: [SINGLE] }).expect(201)).body as Order;
      await http().post(`/v1/payments/sandbox/${failing.payment!.id}/complete`).send({ outcome: 'failed' }).expect(200);
      expect((await http().get(`/v1/orders/${failing.id}`).set('Authorization', passenger.bearer)).body).toMatchObject({ status: 'failed', tickets: [] });

      const expiring = (await order({ payWith: 'gateway', items: [SINGLE] }).expect(201)).body as Order;
      await app().get(DataSource).query(`UPDATE payments SET expires_at = now() - interval '1 second' WHERE id = $1`, [expiring.payment!.id]);
      const late = await http().post(`/v1/payments/sandbox/${expiring.payment!.id}/complete`).send({}).expect(200);
      expect(late.body).toMatchObject({ webhookStatus: 409, webhookResponse: { error: { code: 'PAYMENT_NOT_PENDING' } } });
      expect((await http().get(`/v1/orders/${expiring.id}`).set('Authorization', passenger.bearer)).body).toMatchObject({ status: 'expired', tickets: [] });
      expect(await rowsOf('tickets')).toBe(0);
    });
  });

  describe('QR codes', () => {
    it('renders a ticket as PNG, SVG and text, all carrying one token that verifies against GET /v1/keys', async () => {
      await topUp(app(), passenger.bearer, 50_000);
      const ticket = ((await order({ payWith: 'wallet', items: [SINGLE] }).expect(201)).body as Order).tickets[0];

      const text = await http().get(`/v1/tickets/${ticket.id}/qr?format=text`).set('Authorization', passenger.bearer).expect(200);
      expect(text.headers['content-type']).toMatch(/^text\/plain/);
      const token = text.text;
      const keys = (await http().get('/v1/keys').expect(200)).body as { keys: Array<JsonWebKey & { kid: string; alg: string }> };
      expect(keys.keys.every((key) => key.d === undefined)).toBe(true); // public keys only
      const header = jwt.decode(token, { complete: true })!.header;
      expect(header).toMatchObject({ alg: 'ES256', typ: 'JWT' });
      const jwk = keys.keys.find((key) => key.kid === header.kid)!;
      const claims = jwt.verify(token, createPublicKey({ key: jwk, format: 'jwk' }), { algorithms: ['ES256'] }) as JwtPayload;
      expect(claims).toMatchObject({ sub: ticket.id, typ: 'ticket', knd: 'single', rc: 'adult', md: ['metro'], ln: ['metro-2a'], org: '2a-cat-linh', dst: '2a-yen-nghia' });
      expect(claims.nbf).toBe(Math.floor(Date.parse(ticket.validFrom!) / 1000));
      expect(claims.exp).toBe(Math.floor(Date.parse(ticket.validUntil!) / 1000));

      const png = await binary(`/v1/tickets/${ticket.id}/qr?format=png`).expect(200);
      expect(png.headers['content-type']).toBe('image/png');
      const image = PNG.sync.read(png.body as Buffer);
      expect(image.width).toBeGreaterThanOrEqual(400);
      const decoded = jsQR(new Uint8ClampedArray(image.data), image.width, image.height);
      const decodedClaims = jwt.verify(decoded!.data, createPublicKey({ key: jwk, format: 'jwk' }), { algorithms: ['ES256'] }) as JwtPayload;
      expect(decodedClaims).toEqual({ ...claims, iat: expect.any(Number) });

      const svg = await binary(`/v1/tickets/${ticket.id}/qr?format=svg`).expect(200);
      expect(svg.headers['content-type']).toBe('image/svg+xml');
      expect((svg.body as Buffer).toString()).toMatch(/^<svg [^>]*viewBox="0 0 \d+ \d+"[\s\S]*<path[\s\S]*<\/svg>/);

      expectError(await http().get(`/v1/tickets/${ticket.id}/qr?format=gif`).set('Authorization', passenger.bearer), 400, 'VALIDATION_FAILED');
    });

    it("decodes the PNG to exactly the text token, and gives the account's pay-as-you-go credential", async () => {
      const text = (await http().get('/v1/me/qr?format=text').set('Authorization', passenger.bearer).expect(200)).text;
      const png = await binary('/v1/me/qr').expect(200);
      const image = PNG.sync.read(png.body as Buffer);
      const decoded = jsQR(new Uint8ClampedArray(image.data), image.width, image.height)!.data;
      const [textClaims, pngClaims] = [text, decoded].map((token) => jwt.decode(token) as JwtPayload);
      expect(pngClaims).toEqual(textClaims); // same claims; iat may differ by a second between the calls
      expect(textClaims).toMatchObject({ sub: passenger.id, typ: 'account', knd: 'payg', rc: 'adult' });
      expect(textClaims.exp! - textClaims.iat!).toBe(24 * 3600);
    });
  });

  describe('refunds and revocation', () => {
    it('refunds an unused ticket to the wallet, once', async () => {
      await topUp(app(), passenger.bearer, 50_000);
      const ticket = ((await order({ payWith: 'wallet', items: [SINGLE] }).expect(201)).body as Order).tickets[0];
      expect(await walletBalance(app(), passenger.bearer)).toBe(50_000 - 18_625);
      const refundPath = `/v1/tickets/${ticket.id}/refund`;
      expectError(await http().post(refundPath).set('Authorization', passenger.bearer).send({}), 400, 'IDEMPOTENCY_KEY_REQUIRED');
      const key = randomUUID();
      const refunded = await http().post(refundPath).set('Authorization', passenger.bearer).set('Idempotency-Key', key).send({}).expect(200);
      expect(refunded.body).toMatchObject({ id: ticket.id, status: 'refunded', refundedAt: expect.any(String) });
      expect(await walletBalance(app(), passenger.bearer)).toBe(50_000);
      expect(await redisState(ticket.id)).toMatchObject({ status: 'refunded', version: '2' });
      const replay = await http().post(refundPath).set('Authorization', passenger.bearer).set('Idempotency-Key', key).send({}).expect(200);
      expect(replay.body).toEqual(refunded.body);
      expectError(await http().post(refundPath).set('Authorization', passenger.bearer).set('Idempotency-Key', randomUUID()).send({}), 409, 'TICKET_NOT_ACTIVE');
      expect(await walletBalance(app(), passenger.bearer)).toBe(50_000);
      expectError(await http().get(`/v1/tickets/${ticket.id}/qr`).set('Authorization', passenger.bearer), 409, 'TICKET_NOT_ACTIVE');
    });

    it('refuses to refund a ticket a gate has used (Redis) or the tap log recorded (Postgres)', async () => {
      await topUp(app(), passenger.bearer, 50_000);
      const [atGate, inLog] = ((await order({ payWith: 'wallet', items: [{ ...SINGLE, quantity: 2 }] }).expect(201)).body as Order).tickets;
      // What the gate path (issue 6) does on first use, and what its worker later writes to Postgres.
      await app().get(RedisService).client.hSet(app().get(GateKeys).ticketState(atGate.id), 'firstUsedAt', String(Date.now()));
      await app().get(DataSource).query(`UPDATE tickets SET first_used_at = now() WHERE id = $1`, [inLog.id]);
      for (const ticket of [atGate, inLog]) {
        const response = await http().post(`/v1/tickets/${ticket.id}/refund`).set('Authorization', passenger.bearer).set('Idempotency-Key', randomUUID()).send({});
        expectError(response, 409, 'TICKET_ALREADY_USED');
      }
      expect(await redisState(atGate.id)).toMatchObject({ status: 'active' });
      expect(await walletBalance(app(), passenger.bearer)).toBe(50_000 - 2 * 18_625);
    });

    it('lets an admin revoke a ticket, which the gates then refuse', async () => {
      await topUp(app(), passenger.bearer, 50_000);
      const ticket = ((await order({ payWith: 'wallet', items: [SINGLE] }).expect(201)).body as Order).tickets[0];
      const admin = await bearerFor(app(), 'admin');
      expectError(await http().post(`/v1/admin/tickets/${ticket.id}/revoke`).set('Authorization', passenger.bearer).send({ reason: 'x' }), 403, 'FORBIDDEN');
      const revoked = await http().post(`/v1/admin/tickets/${ticket.id}/revoke`).set('Authorization', admin).send({ reason: 'Reported stolen' }).expect(200);
      expect(revoked.body).toMatchObject({ status: 'revoked', revokedAt: expect.any(String) });
      expect(await redisState(ticket.id)).toMatchObject({ status: 'revoked' });
      await http().post(`/v1/admin/tickets/${ticket.id}/revoke`).set('Authorization', admin).send({ reason: 'again' }).expect(200);
      expectError(await http().post(`/v1/tickets/${ticket.id}/refund`).set('Authorization', passenger.bearer).set('Idempotency-Key', randomUUID()).send({}), 409, 'TICKET_NOT_ACTIVE');
      expectError(await http().post(`/v1/admin/tickets/${randomUUID()}/revoke`).set('Authorization', admin).send({ reason: 'x' }), 404, 'NOT_FOUND');
    });
  });

  describe("priced for the buyer's rider category", () => {
    async function grant(category: string): Promise<void> {
      const claim = await http().post('/v1/me/concessions').set('Authorization', passenger.bearer).send({ category, evidence: 'checked at the counter' }).expect(201);
      const admin = await bearerFor(app(), 'admin');
      await http().post(`/v1/admin/concessions/${(claim.body as { id: string }).id}/decision`).set('Authorization', admin).send({ approve: true }).expect(200);
    }

    it('sells a priority rider the priority price', async () => {
      await grant('priority');
      await topUp(app(), passenger.bearer, 200_000);
      const body = (await order({ payWith: 'wallet', items: [{ productId: 'metro-month' }] }).expect(201)).body as Order;
      expect(body).toMatchObject({ total: 140_000, riderCategory: 'priority', tickets: [{ price: 140_000, riderCategory: 'priority' }] });
      expect(await walletBalance(app(), passenger.bearer)).toBe(60_000);
    });

    it('issues a free rider a free pass at once, even when asked to pay through the gateway, moving no money', async () => {
      await grant('disabled');
      const body = (await order({ payWith: 'gateway', items: [{ productId: 'bus-metro-month' }] }).expect(201)).body as Order;
      expect(body).toMatchObject({ status: 'paid', total: 0, tickets: [{ price: 0, riderCategory: 'disabled' }] });
      expect(body.payment).toBeUndefined();
      expect(await rowsOf('payments')).toBe(0);
      const token = (await http().get(`/v1/tickets/${body.tickets[0].id}/qr?format=text`).set('Authorization', passenger.bearer).expect(200)).text;
      expect(jwt.decode(token)).toMatchObject({ rc: 'disabled', knd: 'pass', vd: 30 });
    });
  });

  it("shows nobody another passenger's orders and tickets", async () => {
    await topUp(app(), passenger.bearer, 50_000);
    const body = (await order({ payWith: 'wallet', items: [SINGLE] }).expect(201)).body as Order;
    const stranger = await testAccount(app(), 'passenger');
    for (const path of [`/v1/orders/${body.id}`, `/v1/tickets/${body.tickets[0].id}`, `/v1/tickets/${body.tickets[0].id}/qr`, '/v1/tickets/not-a-uuid']) {
      expectError(await http().get(path).set('Authorization', stranger.bearer), 404, 'NOT_FOUND');
    }
    expectError(await http().post(`/v1/tickets/${body.tickets[0].id}/refund`).set('Authorization', stranger.bearer).set('Idempotency-Key', randomUUID()).send({}), 404, 'NOT_FOUND');
    expect((await http().get('/v1/tickets').set('Authorization', stranger.bearer).expect(200)).body).toEqual([]);
  });

  it('rebuilds the gate state from Postgres', async () => {
    await topUp(app(), passenger.bearer, 50_000);
    const ticket = ((await order({ payWith: 'wallet', items: [SINGLE] }).expect(201)).body as Order).tickets[0];
    const before = await redisState(ticket.id);
    await app().get(RedisService).client.del(app().get(GateKeys).ticketState(ticket.id));
    expect(await app().get(TicketsService).rebuildGateState()).toBeGreaterThanOrEqual(1);
    expect(await redisState(ticket.id)).toEqual(before);
  });
});

