import { DataSource, EntityManager } from 'typeorm';
import { DomainError } from '../common/domain-error';
import { isUniqueViolation } from '../database/postgres-errors';
import type { TransportMode } from '../network/hanoi-network';
import type { CapPeriod, FareRule, FareSnapshot, FareTable, FareWaiver, FareZone, ProductKind, ProductVersion } from './domain/fare-model';
import type { RiderCategory } from './rider-category';

/** Fare data as stored, without the network (which the network module owns). */
export type StoredFareData = Pick<FareSnapshot, 'zones' | 'fareTables' | 'products' | 'waivers'>;

/** Whether an insert that meets an existing row with the same id fails (admin) or is skipped (seed). */
export type OnExisting = 'fail' | 'skip';

interface FareTableRow {
  id: string;
  effective_from: Date;
  free_rider_categories: RiderCategory[];
}

interface FareRuleRow {
  fare_table_id: string;
  id: string;
  modes: TransportMode[];
  line_ids: string[] | null;
  method: FareRule['method'];
  base_amount: number | null;
  per_km_amount: number | null;
  min_amount: number | null;
  max_amount: number | null;
  band_min_length_m: number[] | null;
  band_amounts: number[] | null;
  cash_rounding_unit: number;
}

interface ProductVersionRow {
  id: string;
  product_id: string;
  effective_from: Date;
  name: string;
  kind: ProductKind;
  modes: TransportMode[];
  line_ids: string[] | null;
  single_line: boolean;
  validity_days: number | null;
  pay_as_you_go_cap: CapPeriod | null;
  on_sale: boolean;
  prices: Record<RiderCategory, number> | null;
}

interface WaiverRow {
  id: string;
  name: string;
  starts_at: Date;
  ends_at: Date;
  line_ids: string[] | null;
  modes: TransportMode[] | null;
  rider_categories: RiderCategory[] | null;
  zone_id: string | null;
}

/** More to write in the transaction of a fare data change (its audit entry). */
export type AlsoWrite = (db: EntityManager) => Promise<void>;

/** Reads and appends fare data in Postgres. Versions are only ever inserted. */
export class FareStore {
  constructor(private readonly db: DataSource) {}

  /** Everything, from one consistent snapshot: a table is never seen without its rules. */
  async load(): Promise<StoredFareData> {
    return this.db.transaction('REPEATABLE READ', (db) => loadWith(db));
  }

  /** Inserts a fare table version with its rules, in one transaction (with `alsoWrite`, e.g. its audit entry). */
  async insertFareTable(table: FareTable, onExisting: OnExisting, alsoWrite?: AlsoWrite): Promise<void> {
    await this.inTransaction(alsoWrite, async (db) => {
      const inserted = await db.query<unknown[]>(
        `INSERT INTO fare_tables (id, effective_from, free_rider_categories) VALUES ($1, $2, $3)
         ${onExisting === 'skip' ? 'ON CONFLICT (id) DO NOTHING' : ''} RETURNING id`,
        [table.id, new Date(table.effectiveFrom), table.freeRiderCategories],
      );
      if (inserted.length === 0) return;
      for (const [position, rule] of table.rules.entries()) {
        const distance = rule.method === 'distance' ? rule : null;
        const bands = rule.method === 'route_length_bands' ? rule.bands : null;
        await db.query(
          `INSERT INTO fare_rules (fare_table_id, id, position, modes, line_ids, method, base_amount, per_km_amount, min_amount, max_amount,
             band_min_length_m, band_amounts, cash_rounding_unit)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
          [
            table.id,
            rule.id,
            position,
            rule.modes,
            rule.lineIds,
            rule.method,
            distance?.baseAmount ?? null,
            distance?.perKmAmount ?? null,
            distance?.minAmount ?? null,
            distance?.maxAmount ?? null,
            bands?.map((band) => band.minLengthM) ?? null,
            bands?.map((band) => band.amount) ?? null,
            rule.cashRoundingUnit,
          ],
        );
      }
    });
  }

  /** Inserts a product version (and the product itself when `newProduct`) with its prices. */
  async insertProductVersion(version: ProductVersion, newProduct: boolean, onExisting: OnExisting, alsoWrite?: AlsoWrite): Promise<void> {
    const ignore = onExisting === 'skip' ? 'ON CONFLICT DO NOTHING' : '';
    await this.inTransaction(alsoWrite, async (db) => {
      if (newProduct) {
        const created = await db.query<unknown[]>('INSERT INTO products (id) VALUES ($1) ON CONFLICT (id) DO NOTHING RETURNING id', [version.productId]);
        if (created.length === 0 && onExisting === 'fail') {
          throw new DomainError('conflict', 'PRODUCT_EXISTS', `Product ${JSON.stringify(version.productId)} already exists`);
        }
      }
      const inserted = await db.query<unknown[]>(
        `INSERT INTO product_versions (id, product_id, effective_from, name, kind, modes, line_ids, single_line, validity_days, pay_as_you_go_cap, on_sale)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ${ignore} RETURNING id`,
        [
          version.versionId,
          version.productId,
          new Date(version.effectiveFrom),
          version.name,
          version.kind,
          version.modes,
          version.lineIds,
          version.singleLine,
          version.validityDays,
          version.payAsYouGoCap,
          version.onSale,
        ],
      );
      if (inserted.length === 0 || !version.prices) return;
      for (const [category, amount] of Object.entries(version.prices)) {
        await db.query('INSERT INTO product_prices (product_version_id, rider_category, amount) VALUES ($1, $2, $3)', [version.versionId, category, amount]);
      }
    });
  }

  async insertWaiver(waiver: FareWaiver, onExisting: OnExisting, alsoWrite?: AlsoWrite): Promise<void> {
    await this.inTransaction(alsoWrite, (db) =>
      db.query(
        `INSERT INTO fare_waivers (id, name, starts_at, ends_at, line_ids, modes, rider_categories, zone_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ${onExisting === 'skip' ? 'ON CONFLICT (id) DO NOTHING' : ''}`,
        [waiver.id, waiver.name, new Date(waiver.startsAt), new Date(waiver.endsAt), waiver.lineIds, waiver.modes, waiver.riderCategories, waiver.zoneId],
      ),
    );
  }

  /** Zones are reference data, not versions: their name and stations follow the seed. */
  async upsertZone(zone: FareZone, membershipEstimated: boolean): Promise<void> {
    await this.inTransaction(undefined, async (db) => {
      await db.query('INSERT INTO fare_zones (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name', [zone.id, zone.name]);
      await db.query('DELETE FROM fare_zone_stations WHERE zone_id = $1 AND NOT (station_id = ANY($2))', [zone.id, zone.stationIds]);
      for (const stationId of zone.stationIds) {
        await db.query(
          `INSERT INTO fare_zone_stations (zone_id, station_id, membership_estimated) VALUES ($1, $2, $3)
           ON CONFLICT (zone_id, station_id) DO UPDATE SET membership_estimated = EXCLUDED.membership_estimated`,
          [zone.id, stationId, membershipEstimated],
        );
      }
    });
  }

  /** Runs a write, then `alsoWrite` in its transaction; a second version at the same instant becomes 409 OVERLAPPING_VERSION. */
  private async inTransaction<T>(alsoWrite: AlsoWrite | undefined, work: (db: EntityManager) => Promise<T>): Promise<T> {
    try {
      return await this.db.transaction(async (db) => {
        const result = await work(db);
        await alsoWrite?.(db);
        return result;
      });
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new DomainError('conflict', 'OVERLAPPING_VERSION', 'A version with the same id or effectiveFrom already exists');
      }
      throw error;
    }
  }
}

function toRule(row: FareRuleRow): FareRule {
  const base = { id: row.id, modes: row.modes, lineIds: row.line_ids, cashRoundingUnit: row.cash_rounding_unit };
  switch (row.method) {
    case 'distance':
      return { ...base, method: 'distance', baseAmount: row.base_amount ?? 0, perKmAmount: row.per_km_amount ?? 0, minAmount: row.min_amount, maxAmount: row.max_amount };
    case 'route_length_bands':
      return {
        ...base,
        method: 'route_length_bands',
        bands: (row.band_amounts ?? []).map((amount, index) => ({ minLengthM: row.band_min_length_m?.[index] ?? 0, amount })),
      };
  }
}

/** Reads every fare table in turn on one connection, inside the caller's snapshot. */
async function loadWith(db: EntityManager): Promise<StoredFareData> {
  const zones = await db.query<Array<{ id: string; name: string; station_ids: string[] }>>(
    `SELECT z.id, z.name, COALESCE(array_agg(s.station_id ORDER BY s.station_id) FILTER (WHERE s.station_id IS NOT NULL), '{}') AS station_ids
     FROM fare_zones z LEFT JOIN fare_zone_stations s ON s.zone_id = z.id GROUP BY z.id ORDER BY z.id`,
  );
  const tables = await db.query<FareTableRow[]>('SELECT id, effective_from, free_rider_categories FROM fare_tables');
  const rules = await db.query<FareRuleRow[]>('SELECT * FROM fare_rules ORDER BY fare_table_id, position');
  const products = await db.query<ProductVersionRow[]>(
    `SELECT v.*, (SELECT jsonb_object_agg(p.rider_category, p.amount) FROM product_prices p WHERE p.product_version_id = v.id) AS prices
     FROM product_versions v`,
  );
  const waivers = await db.query<WaiverRow[]>('SELECT * FROM fare_waivers');
  const rulesByTable = new Map<string, FareRule[]>();
  for (const row of rules) {
    const list = rulesByTable.get(row.fare_table_id) ?? [];
    list.push(toRule(row));
    rulesByTable.set(row.fare_table_id, list);
  }
  return {
    zones: zones.map((row): FareZone => ({ id: row.id, name: row.name, stationIds: row.station_ids })),
    fareTables: tables.map(
      (row): FareTable => ({
        id: row.id,
        effectiveFrom: row.effective_from.getTime(),
        freeRiderCategories: row.free_rider_categories,
        rules: rulesByTable.get(row.id) ?? [],
      }),
    ),
    products: products.map(
      (row): ProductVersion => ({
        productId: row.product_id,
        versionId: row.id,
        effectiveFrom: row.effective_from.getTime(),
        name: row.name,
        kind: row.kind,
        modes: row.modes,
        lineIds: row.line_ids,
        singleLine: row.single_line,
        validityDays: row.validity_days,
        prices: row.kind === 'pass' ? row.prices : null,
        payAsYouGoCap: row.pay_as_you_go_cap,
        onSale: row.on_sale,
      }),
    ),
    waivers: waivers.map(
      (row): FareWaiver => ({
        id: row.id,
        name: row.name,
        startsAt: row.starts_at.getTime(),
        endsAt: row.ends_at.getTime(),
        lineIds: row.line_ids,
        modes: row.modes,
        riderCategories: row.rider_categories,
        zoneId: row.zone_id,
      }),
    ),
  };
}
