import { DataSource } from 'typeorm';
import { dataSourceOptions } from '../../src/database/data-source-options';
import { seedFares } from '../../src/fares/fares.seeder';
import { testConfig } from '../support/test-app';

describe('fare data in Postgres', () => {
  let db: DataSource;

  beforeAll(async () => {
    db = await new DataSource(dataSourceOptions(testConfig())).initialize();
  });
  afterAll(async () => {
    await db.destroy();
  });

  const seededRows = async () =>
    db.query<Array<{ tables: string; rules: string; products: string; prices: string; waivers: string }>>(
      `SELECT (SELECT count(*) FROM fare_tables WHERE id LIKE 'hanoi-%') AS tables,
              (SELECT count(*) FROM fare_rules WHERE fare_table_id LIKE 'hanoi-%') AS rules,
              (SELECT count(*) FROM product_versions WHERE id LIKE 'metro-month@%') AS products,
              (SELECT count(*) FROM product_prices WHERE product_version_id LIKE 'metro-month@%') AS prices,
              (SELECT count(*) FROM fare_waivers WHERE id IN ('national-day-2025', 'tet-2026', 'ring-road-1-2026')) AS waivers`,
    );

  it('seeds once: running the seeder again adds nothing', async () => {
    const before = await seededRows();
    expect(before).toEqual([{ tables: '3', rules: '5', products: '1', prices: '7', waivers: '3' }]);
    await seedFares(db);
    expect(await seededRows()).toEqual(before);
  });

  it.each([
    ["UPDATE product_prices SET amount = 1 WHERE product_version_id LIKE 'metro-month@%'"],
    ["DELETE FROM fare_waivers WHERE id = 'tet-2026'"],
    ["UPDATE fare_rules SET per_km_amount = 900 WHERE id = 'metro-distance'"],
    ["UPDATE product_versions SET name = 'x' WHERE product_id = 'metro-day'"],
  ])('never lets a version be rewritten: %s', async (sql) => {
    await expect(db.query(sql)).rejects.toThrow(/append-only/);
  });

  it('refuses negative money at the database too', async () => {
    await expect(
      db.query(`INSERT INTO fare_tables (id, effective_from, free_rider_categories) VALUES ('negative-test', '2999-01-01T00:00:00Z', '{}');
                INSERT INTO fare_rules (fare_table_id, id, position, modes, method, base_amount, per_km_amount, cash_rounding_unit)
                VALUES ('negative-test', 'r', 0, '{metro}', 'distance', -1, 850, 1000)`),
    ).rejects.toThrow(/check constraint/);
  });
});
