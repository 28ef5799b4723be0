import { randomInt, randomUUID } from 'node:crypto';
import request from 'supertest';
import { bearerFor } from '../support/auth';
import { startTestApp } from '../support/test-app';
import { expectError, useTestApp } from '../support/http';

/** Under the Aug 2025 tariff, outside every seeded waiver. */
const OCT_2025 = '2025-10-15T08:00:00+07:00';
const FREE_GROUPS = ['elderly', 'disabled', 'meritorious', 'poor_household', 'child'];

/** A unique instant far in the future, so versions written by this file never meet another's. */
function farFuture(): Date {
  return new Date(Date.parse('2100-01-01T00:00:00Z') + randomInt(0, 2 ** 40));
}

describe('fares over HTTP', () => {
  const { app, http } = useTestApp();
  let admin: string;

  beforeAll(async () => {
    admin = await bearerFor(app(), 'admin');
  });


  const quote = (query: Record<string, string>) => http().get('/v1/fares/quote').query(query);

  describe('GET /v1/fares/quote', () => {
    it('quotes the published metro fares', async () => {
      const response = await quote({ lineId: 'metro-2a', from: '2a-cat-linh', to: '2a-yen-nghia', at: OCT_2025 }).expect(200);
      expect(response.body).toEqual({
        amount: 18_625,
        cashAmount: 19_000,
        fullAmount: 18_625,
        currency: 'VND',
        distanceKm: 12.5,
        lineId: 'metro-2a',
        riderCategory: 'adult',
        ruleId: 'hanoi-2025-08-01:metro-distance',
        fareTableId: 'hanoi-2025-08-01',
        waiverId: null,
        at: '2025-10-15T01:00:00.000Z',
      });
      const line3 = await quote({ from: '3-nhon', to: '3-minh-khai', at: OCT_2025 }).expect(200);
      expect(line3.body).toMatchObject({ amount: 8_935, cashAmount: 9_000, distanceKm: 1.1 });
    });

    it('charges free groups nothing and holidays nothing', async () => {
      for (const riderCategory of FREE_GROUPS) {
        const response = await quote({ from: '3-nhon', to: '3-cau-giay', riderCategory, at: OCT_2025 }).expect(200);
        expect(response.body).toMatchObject({ amount: 0, fullAmount: 14_290 });
      }
      const tet = await quote({ from: '3-nhon', to: '3-cau-giay', at: '2026-02-17T09:00:00+07:00' }).expect(200);
      expect(tet.body).toMatchObject({ amount: 0, waiverId: 'tet-2026' });
    });

    it.each([
      [{ from: 'nowhere', to: '3-nhon' }, 404, 'UNKNOWN_STATION'],
      [{ from: '3-nhon', to: '2a-cat-linh' }, 400, 'STATIONS_ON_DIFFERENT_LINES'],
      [{ lineId: 'metro-2a', from: '3-nhon', to: '3-cau-giay' }, 400, 'STATION_NOT_ON_LINE'],
      [{ from: '3-nhon', to: '3-cau-giay', at: 'yesterday' }, 400, 'VALIDATION_FAILED'],
      [{ from: '3-nhon', to: '3-cau-giay', at: '2026-02-30T08:00:00+07:00' }, 400, 'VALIDATION_FAILED'],
      [{ from: '3-nhon', to: '3-cau-giay', at: '2026-07-01' }, 400, 'VALIDATION_FAILED'],
      [{ from: '3-nhon', to: '3-cau-giay', riderCategory: 'vip' }, 400, 'VALIDATION_FAILED'],
      [{ from: '3-nhon' }, 400, 'VALIDATION_FAILED'],
      [{ from: '3-nhon', to: '3-cau-giay', at: '2019-01-01T00:00:00Z' }, 422, 'NO_FARE_TABLE'],
    ])('refuses %j with %i %s', async (query, status, code) => {
      expectError(await quote(query), status, code);
    });
  });

  describe('GET /v1/products', () => {
    it('lists the catalogue in force, with a price per rider category', async () => {
      const response = await http().get('/v1/products').query({ at: OCT_2025 }).expect(200);
      const month = response.body.find((product: { id: string }) => product.id === 'metro-month');
      expect(month).toMatchObject({
        kind: 'pass',
        modes: ['metro'],
        lines: null,
        validity: { kind: 'days', days: 30 },
        prices: { adult: 280_000, priority: 140_000, elderly: 0, disabled: 0, meritorious: 0, poor_household: 0, child: 0 },
        currency: 'VND',
      });
      expect(response.body.map((product: { id: string }) => product.id)).toEqual(expect.arrayContaining(['metro-single', 'pay-as-you-go', 'bus-metro-12-month']));
    });

    it('filters by mode and prices for one category', async () => {
      const response = await http().get('/v1/products').query({ mode: 'metro', riderCategory: 'priority', at: OCT_2025 }).expect(200);
      expect(response.body.every((product: { modes: string[] }) => product.modes.includes('metro'))).toBe(true);
      expect(response.body.find((product: { id: string }) => product.id === 'bus-metro-month')).toMatchObject({ price: 235_000 });
      expect(response.body.find((product: { id: string }) => product.id === 'bus-day')).toBeUndefined();
    });

    it('shows what was on sale at an earlier time', async () => {
      const response = await http().get('/v1/products').query({ at: '2025-01-01T00:00:00+07:00' }).expect(200);
      expect(response.body.map((product: { id: string }) => product.id)).toEqual(['bus-single']);
    });
  });

  describe('POST /v1/admin/fare-tables', () => {
    const table = (effectiveFrom: string, baseAmount = 9_000) => ({
      effectiveFrom,
      freeRiderCategories: FREE_GROUPS,
      rules: [
        { id: 'metro', modes: ['metro'], method: 'distance', baseAmount, perKmAmount: 1_000, cashRoundingUnit: 1_000 },
        { id: 'bus', modes: ['bus', 'brt'], method: 'route_length_bands', bands: [{ minLengthM: 0, amount: 7_000 }, { minLengthM: 20_000, amount: 9_000 }], cashRoundingUnit: 1_000 },
      ],
    });

    it('changes quotes from its effectiveFrom exactly, and never before', async () => {
      const from = farFuture();
      const before = new Date(from.getTime() - 1).toISOString();
      const trip = { from: '2a-cat-linh', to: '2a-la-thanh' };
      const earlier = await quote({ ...trip, at: before }).expect(200);

      const created = await http().post('/v1/admin/fare-tables').set('Authorization', admin).send(table(from.toISOString())).expect(201);
      expect(created.body).toMatchObject({ id: `fare-table@${from.toISOString()}`, effectiveFrom: from.toISOString() });

      expect((await quote({ ...trip, at: before }).expect(200)).body).toEqual(earlier.body);
      expect((await quote({ ...trip, at: from.toISOString() }).expect(200)).body).toMatchObject({ amount: 9_700, ruleId: `${created.body.id}:metro` });
      expect((await quote({ from: '32-nhon', to: '32-xa-dan', at: from.toISOString() }).expect(200)).body.amount).toBe(9_000);
    });

    it('refuses a second version at the same instant, and one in the past', async () => {
      const from = farFuture().toISOString();
      await http().post('/v1/admin/fare-tables').set('Authorization', admin).send(table(from)).expect(201);
      expectError(await http().post('/v1/admin/fare-tables').set('Authorization', admin).send(table(from, 9_500)), 409, 'OVERLAPPING_VERSION');
      expectError(await http().post('/v1/admin/fare-tables').set('Authorization', admin).send(table('2026-01-01T00:00:00+07:00')), 422, 'EFFECTIVE_FROM_IN_PAST');
    });

    it('refuses negative amounts, unknown fields and rules that overlap', async () => {
      const negative = await http().post('/v1/admin/fare-tables').set('Authorization', admin).send(table(farFuture().toISOString(), -1));
      expectError(negative, 400, 'VALIDATION_FAILED');
      expect(negative.body.error.details).toEqual([{ field: 'rules.0.baseAmount', problem: expect.stringContaining('not be less than 0') }]);
      const extra = { ...table(farFuture().toISOString()), discount: 5 };
      expectError(await http().post('/v1/admin/fare-tables').set('Authorization', admin).send(extra), 400, 'VALIDATION_FAILED');
      const twice = table(farFuture().toISOString());
      twice.rules.push({ ...twice.rules[0], id: 'metro-again' });
      expectError(await http().post('/v1/admin/fare-tables').set('Authorization', admin).send(twice), 400, 'OVERLAPPING_RULES');
      const badBands = table(farFuture().toISOString());
      badBands.rules[1].bands = [{ minLengthM: 5_000, amount: 7_000 }];
      expectError(await http().post('/v1/admin/fare-tables').set('Authorization', admin).send(badBands), 400, 'INVALID_BANDS');
      const unknownLine = table(farFuture().toISOString());
      unknownLine.rules.push({ ...unknownLine.rules[0], id: 'line-9', lineIds: ['metro-9'] } as never);
      expectError(await http().post('/v1/admin/fare-tables').set('Authorization', admin).send(unknownLine), 400, 'UNKNOWN_LINE');
    });

    it('is for admins only', async () => {
      expectError(await http().post('/v1/admin/fare-tables').send(table(farFuture().toISOString())), 401, 'UNAUTHENTICATED');
      const passenger = await bearerFor(app(), 'passenger');
      expectError(await http().post('/v1/admin/fare-tables').set('Authorization', passenger).send(table(farFuture().toISOString())), 403, 'FORBIDDEN');
    });
  });

  describe('POST and PATCH /v1/admin/products', () => {
    const prices = (adult: number) => ({ adult, priority: adult / 2, elderly: 0, disabled: 0, meritorious: 0, poor_household: 0, child: 0 });

    it('creates a product and new versions of it, leaving earlier versions as they were', async () => {
      const id = `weekend-${randomUUID().slice(0, 8)}`;
      const v1 = farFuture();
      const v2 = new Date(v1.getTime() + 86_400_000);
      const body = { id, name: 'Metro weekend pass', kind: 'pass', modes: ['metro'], validityDays: 2, prices: prices(60_000), effectiveFrom: v1.toISOString() };
      const created = await http().post('/v1/admin/products').set('Authorization', admin).send(body).expect(201);
      expect(created.body).toMatchObject({ id, versionId: `${id}@${v1.toISOString()}`, prices: prices(60_000), validity: { kind: 'days', days: 2 } });

      const amended = await http()
        .patch(`/v1/admin/products/${id}`)
        .set('Authorization', admin)
        .send({ prices: prices(70_000), effectiveFrom: v2.toISOString() })
        .expect(200);
      expect(amended.body).toMatchObject({ id, name: 'Metro weekend pass', prices: prices(70_000) });

      const priceAt = async (at: Date) => {
        const response = await http().get('/v1/products').query({ at: at.toISOString(), riderCategory: 'adult' }).expect(200);
        return response.body.find((product: { id: string }) => product.id === id)?.price;
      };
      expect(await priceAt(new Date(v1.getTime() - 1))).toBeUndefined();
      expect(await priceAt(v1)).toBe(60_000);
      expect(await priceAt(v2)).toBe(70_000);

      expectError(await http().post('/v1/admin/products').set('Authorization', admin).send(body), 409, 'PRODUCT_EXISTS');
      const sameInstant = await http().patch(`/v1/admin/products/${id}`).set('Authorization', admin).send({ name: 'x', effectiveFrom: v2.toISOString() });
      expectError(sameInstant, 409, 'OVERLAPPING_VERSION');
    });

    it('refuses products that do not hold together', async () => {
      const id = `bad-${randomUUID().slice(0, 8)}`;
      const noPrices = { id, name: 'No prices', kind: 'pass', modes: ['bus'], validityDays: 1 };
      expectError(await http().post('/v1/admin/products').set('Authorization', admin).send(noPrices), 400, 'INCONSISTENT_PRODUCT');
      const negative = { ...noPrices, prices: { ...prices(10_000), adult: -5 } };
      const response = await http().post('/v1/admin/products').set('Authorization', admin).send(negative);
      expectError(response, 400, 'VALIDATION_FAILED');
      expect(response.body.error.details).toEqual([{ field: 'prices.adult', problem: expect.any(String) }]);
      expectError(await http().patch('/v1/admin/products/no-such-product').set('Authorization', admin).send({ name: 'x' }), 404, 'NOT_FOUND');
    });
  });

  describe('POST /v1/admin/waivers', () => {
    it('makes matching trips free for its period only, on every copy of the service', async () => {
      const other = await startTestApp();
      try {
        const from = farFuture();
        const until = new Date(from.getTime() + 3_600_000);
        const response = await http()
          .post('/v1/admin/waivers')
          .set('Authorization', admin)
          .send({ name: 'Line 3 open day', effectiveFrom: from.toISOString(), effectiveUntil: until.toISOString(), lineIds: ['metro-3'], riderCategories: ['adult'] })
          .expect(201);
        const trip = { from: '3-nhon', to: '3-cau-giay' };
        expect((await quote({ ...trip, at: from.toISOString() }).expect(200)).body).toMatchObject({ amount: 0, waiverId: response.body.id });
        expect((await quote({ ...trip, at: until.toISOString() }).expect(200)).body.amount).toBeGreaterThan(0);
        expect((await quote({ ...trip, at: from.toISOString(), riderCategory: 'priority' }).expect(200)).body.amount).toBeGreaterThan(0);
        expect((await quote({ from: '2a-cat-linh', to: '2a-la-thanh', at: from.toISOString() }).expect(200)).body.amount).toBeGreaterThan(0);

        // The other copy hears of the change through Redis.
        const otherHttp = () => request(other.getHttpServer());
        let waived = false;
        for (let attempt = 0; attempt < 50 && !waived; attempt += 1) {
          const seen = await otherHttp().get('/v1/fares/quote').query({ ...trip, at: from.toISOString() });
          waived = seen.body.waiverId === response.body.id;
          if (!waived) await new Promise((resolve) => setTimeout(resolve, 100));
        }
        expect(waived).toBe(true);
      } finally {
        await other.close();
      }
    });

    it.each([
      [{ effectiveUntil: '2100-01-01T00:00:00Z' }, 400, 'INVALID_PERIOD'],
      [{ zoneId: 'atlantis' }, 400, 'UNKNOWN_ZONE'],
      [{ effectiveFrom: '2025-08-30T00:00:00+07:00' }, 422, 'EFFECTIVE_FROM_IN_PAST'],
      [{ effectiveFrom: 'soon' }, 400, 'VALIDATION_FAILED'],
    ])('refuses %j with %i %s', async (change, status, code) => {
      const body = { name: 'bad', effectiveFrom: '2100-06-01T00:00:00+07:00', effectiveUntil: '2100-06-02T00:00:00+07:00', ...change };
      expectError(await http().post('/v1/admin/waivers').set('Authorization', admin).send(body), status, code);
    });
  });
});
