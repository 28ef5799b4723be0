import { Injectable, Logger, OnApplicationBootstrap, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import stableStringify from 'fast-json-stable-stringify';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { AuditLog } from '../audit/audit-log';
import type { AuthUser } from '../common/auth-user';
import { DomainError, NotFoundError, type ErrorDetail } from '../common/domain-error';
import type { TransportMode } from '../network/hanoi-network';
import { NetworkService } from '../network/network.service';
import type { RedisClient } from '../redis/redis.service';
import { RedisService } from '../redis/redis.service';
import { FareCalculator } from './domain/fare-calculator';
import type { FareRule, FareTable, FareWaiver, ProductVersion } from './domain/fare-model';
import { FareStore } from './fare-store';
import {
  AmendProductDto,
  CreateFareTableDto,
  CreateProductDto,
  CreateWaiverDto,
  FareQuoteDto,
  FareRuleDto,
  FareTableDto,
  ListProductsQuery,
  ProductDto,
  QuoteQuery,
  WaiverDto,
} from './fares.dto';
import type { RiderCategory } from './rider-category';

/** The audit log's reason for an admin's change of fare data (versions only ever added, never rewritten). */
const FARE_DATA_CHANGE = 'fare_data_change';

/** Published on Redis when fare data changes, so every copy of the service reloads at once. */
const CHANGED_CHANNEL = 'fares:changed';
/** A safety net for a missed message (e.g. while Redis was away). */
const RELOAD_EVERY_MS = 60_000;

/**
 * Loads fare data from Postgres into an in-memory FareCalculator, answers the fare API with it, and
 * appends new versions. Other modules (orders, the gate path) call `calculator()` and use it
 * synchronously.
 */
@Injectable()
export class FaresService implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(FaresService.name);
  private readonly store: FareStore;
  private current!: FareCalculator;
  private subscriber: RedisClient | undefined;
  private timer: NodeJS.Timeout | undefined;
  private loadsStarted = 0;
  private newestApplied = 0;

  constructor(
    dataSource: DataSource,
    private readonly network: NetworkService,
    private readonly redis: RedisService,
    private readonly audit: AuditLog,
  ) {
    this.store = new FareStore(dataSource);
  }

  async onModuleInit(): Promise<void> {
    await this.reload();
  }

  async onApplicationBootstrap(): Promise<void> {
    this.subscriber = this.redis.client.duplicate();
    this.subscriber.on('error', () => undefined); // reconnects by itself; the timer covers the gap
    await this.subscriber.connect();
    await this.subscriber.subscribe(CHANGED_CHANNEL, () => void this.reloadLogged());
    this.timer = setInterval(() => void this.reloadLogged(), RELOAD_EVERY_MS);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    if (this.subscriber?.isOpen) await this.subscriber.close();
  }

  /** The fare engine over the data loaded last. Cheap; call it per use rather than keeping it. */
  calculator(): FareCalculator {
    return this.current;
  }

  async reload(): Promise<void> {
    // Loads can overlap (a change, a message, the timer): a load never replaces one that started after it.
    const started = ++this.loadsStarted;
    const calculator = await loadFareCalculator(this.network, this.store);
    if (started > this.newestApplied) {
      this.newestApplied = started;
      this.current = calculator;
    }
  }

  quote(query: QuoteQuery, user: AuthUser | undefined): FareQuoteDto {
    const riderCategory = quoteRiderCategory(query.riderCategory, user);
    const quote = this.current.quote(query.lineId ?? null, query.from, query.to, riderCategory, instantOr(query.at, Date.now()));
    return {
      amount: quote.amount,
      cashAmount: quote.cashAmount,
      fullAmount: quote.fullAmount,
      currency: 'VND',
      distanceKm: quote.distanceM / 1000,
      lineId: quote.lineId,
      riderCategory: quote.riderCategory,
      ruleId: quote.ruleId,
      fareTableId: quote.fareTableId,
      waiverId: quote.waiverId,
      at: new Date(quote.at).toISOString(),
    };
  }

  listProducts(query: ListProductsQuery): ProductDto[] {
    const at = instantOr(query.at, Date.now());
    return this.current
      .productsAt(at)
      .filter((version) => version.onSale && (!query.mode || version.modes.includes(query.mode)))
      .map((version) => toProductDto(version, query.riderCategory));
  }

  async createProduct(admin: AuthUser, body: CreateProductDto): Promise<ProductDto> {
    const effectiveFrom = this.newEffectiveFrom(body.effectiveFrom);
    const version = this.checkedProduct({
      productId: body.id,
      versionId: `${body.id}@${new Date(effectiveFrom).toISOString()}`,
      effectiveFrom,
      name: body.name,
      kind: body.kind,
      modes: body.modes,
      lineIds: body.lineIds ?? null,
      singleLine: body.singleLine ?? false,
      validityDays: body.validityDays ?? null,
      prices: body.prices ?? null,
      payAsYouGoCap: body.payAsYouGoCap ?? null,
      onSale: body.onSale ?? true,
    });
    const created = toProductDto(version, undefined);
    await this.store.insertProductVersion(version, true, 'fail', (db) =>
      this.audit.record(db, admin, { action: 'fares.product_created', subjectKind: 'product', subjectId: version.productId, reason: FARE_DATA_CHANGE, after: created }),
    );
    await this.changed();
    return created;
  }

  async amendProduct(admin: AuthUser, productId: string, body: AmendProductDto | null): Promise<ProductDto> {
    const changes = {
      ...(body?.name !== undefined && { name: body.name }),
      ...(body?.modes !== undefined && { modes: body.modes }),
      ...(body?.lineIds !== undefined && { lineIds: body.lineIds }),
      ...(body?.singleLine !== undefined && { singleLine: body.singleLine }),
      ...(body?.validityDays !== undefined && { validityDays: body.validityDays }),
      ...(body?.prices !== undefined && { prices: body.prices }),
      ...(body?.payAsYouGoCap !== undefined && { payAsYouGoCap: body.payAsYouGoCap }),
      ...(body?.onSale !== undefined && { onSale: body.onSale }),
    };
    const emptyChange = () => invalid('EMPTY_CHANGE', 'The change would write a version identical to the one in force', 'body', 'must change at least one field of the product');
    if (Object.keys(changes).length === 0) throw emptyChange();
    const effectiveFrom = this.newEffectiveFrom(body?.effectiveFrom);
    const base = this.current.productAt(productId, effectiveFrom) ?? this.current.productAt(productId, Number.MAX_SAFE_INTEGER);
    if (!base) throw new NotFoundError('Product', productId);
    const version = this.checkedProduct({ ...base, versionId: `${productId}@${new Date(effectiveFrom).toISOString()}`, effectiveFrom, ...changes });
    const terms = (product: ProductVersion) => stableStringify({ ...product, versionId: null, effectiveFrom: null });
    if (terms(version) === terms(base)) throw emptyChange();
    const amended = toProductDto(version, undefined);
    await this.store.insertProductVersion(version, false, 'fail', (db) =>
      this.audit.record(db, admin, {
        action: 'fares.product_amended',
        subjectKind: 'product',
        subjectId: productId,
        reason: FARE_DATA_CHANGE,
        before: toProductDto(base, undefined),
        after: amended,
      }),
    );
    await this.changed();
    return amended;
  }

  async createFareTable(admin: AuthUser, body: CreateFareTableDto): Promise<FareTableDto> {
    const effectiveFrom = this.newEffectiveFrom(body.effectiveFrom);
    const table: FareTable = {
      id: `fare-table@${new Date(effectiveFrom).toISOString()}`,
      effectiveFrom,
      freeRiderCategories: body.freeRiderCategories,
      rules: body.rules.map((rule, index) => this.checkedRule(rule, `rules.${index}`)),
    };
    checkRulesDoNotOverlap(table.rules);
    const created = toFareTableDto(table);
    await this.store.insertFareTable(table, 'fail', (db) =>
      this.audit.record(db, admin, {
        action: 'fares.fare_table_created',
        subjectKind: 'fare_table',
        subjectId: table.id,
        reason: FARE_DATA_CHANGE,
        after: created,
      }),
    );
    await this.changed();
    return created;
  }

  async createWaiver(admin: AuthUser, body: CreateWaiverDto): Promise<WaiverDto> {
    const startsAt = this.newEffectiveFrom(body.effectiveFrom);
    const endsAt = Date.parse(body.effectiveUntil);
    if (endsAt <= startsAt) {
      throw invalid('INVALID_PERIOD', 'effectiveUntil must be after effectiveFrom', 'effectiveUntil', 'is not after effectiveFrom');
    }
    if (body.lineIds) this.checkLines(body.lineIds, 'lineIds');
    if (body.zoneId !== undefined && !this.current.snapshot.zones.some((zone) => zone.id === body.zoneId)) {
      throw invalid('UNKNOWN_ZONE', `Zone ${JSON.stringify(body.zoneId)} does not exist`, 'zoneId', 'no such zone');
    }
    const waiver: FareWaiver = {
      id: `waiver-${randomUUID()}`,
      name: body.name,
      startsAt,
      endsAt,
      lineIds: body.lineIds ?? null,
      modes: body.modes ?? null,
      riderCategories: body.riderCategories ?? null,
      zoneId: body.zoneId ?? null,
    };
    const created: WaiverDto = {
      id: waiver.id,
      name: waiver.name,
      effectiveFrom: new Date(startsAt).toISOString(),
      effectiveUntil: new Date(endsAt).toISOString(),
      lineIds: waiver.lineIds ? [...waiver.lineIds] : null,
      modes: waiver.modes ? [...waiver.modes] : null,
      riderCategories: waiver.riderCategories ? [...waiver.riderCategories] : null,
      zoneId: waiver.zoneId,
    };
    await this.store.insertWaiver(waiver, 'fail', (db) =>
      this.audit.record(db, admin, { action: 'fares.waiver_created', subjectKind: 'waiver', subjectId: waiver.id, reason: FARE_DATA_CHANGE, after: created }),
    );
    await this.changed();
    return created;
  }

  /** Reloads here, then tells the other copies. */
  private async changed(): Promise<void> {
    await this.reload();
    await this.redis.client.publish(CHANGED_CHANNEL, String(Date.now())).catch((error: unknown) => {
      this.logger.warn({ err: error }, 'could not announce a fare change; other copies reload within a minute');
    });
  }

  private async reloadLogged(): Promise<void> {
    await this.reload().catch((error: unknown) => this.logger.error({ err: error }, 'reloading fare data failed; keeping the previous data'));
  }

  /** A new version starts now or later: starting it earlier would reprice what was already sold or charged. */
  private newEffectiveFrom(value: string | undefined): number {
    const now = Date.now();
    if (value === undefined) return now;
    const effectiveFrom = Date.parse(value);
    if (effectiveFrom < now) {
      throw new DomainError('refused', 'EFFECTIVE_FROM_IN_PAST', 'A new version cannot start in the past: that would reprice what was already sold', [
        { field: 'effectiveFrom', problem: 'is in the past' },
      ]);
    }
    return effectiveFrom;
  }

  private checkedProduct(version: ProductVersion): ProductVersion {
    const details: ErrorDetail[] = [];
    const isPass = version.kind === 'pass';
    if (isPass && version.validityDays === null) details.push({ field: 'validityDays', problem: 'is required for a pass' });
    if (isPass && version.prices === null) details.push({ field: 'prices', problem: 'are required for a pass' });
    if (!isPass && version.validityDays !== null) details.push({ field: 'validityDays', problem: `does not apply to a ${version.kind} product` });
    if (!isPass && version.prices !== null) details.push({ field: 'prices', problem: `do not apply to a ${version.kind} product: the fare table prices it` });
    if (!isPass && version.payAsYouGoCap !== null) details.push({ field: 'payAsYouGoCap', problem: 'only a pass can cap pay-as-you-go spend' });
    if (details.length) throw new DomainError('invalid', 'INCONSISTENT_PRODUCT', 'The product does not hold together', details);
    if (version.lineIds) this.checkLines(version.lineIds, 'lineIds', version.modes);
    return version;
  }

  private checkedRule(rule: FareRuleDto, field: string): FareRule {
    const base = { id: rule.id, modes: rule.modes, lineIds: rule.lineIds ?? null, cashRoundingUnit: rule.cashRoundingUnit };
    if (rule.lineIds) this.checkLines(rule.lineIds, `${field}.lineIds`, rule.modes);
    switch (rule.method) {
      case 'distance': {
        const minAmount = rule.minAmount ?? null;
        const maxAmount = rule.maxAmount ?? null;
        if (minAmount !== null && maxAmount !== null && minAmount > maxAmount) {
          throw invalid('MIN_ABOVE_MAX', 'minAmount is above maxAmount', `${field}.minAmount`, 'is above maxAmount');
        }
        return { ...base, method: 'distance', baseAmount: rule.baseAmount ?? 0, perKmAmount: rule.perKmAmount ?? 0, minAmount, maxAmount };
      }
      case 'route_length_bands': {
        const bands = (rule.bands ?? []).map(({ minLengthM, amount }) => ({ minLengthM, amount }));
        if (bands[0]?.minLengthM !== 0 || bands.some((band, index) => index > 0 && band.minLengthM <= (bands[index - 1]?.minLengthM ?? 0))) {
          throw invalid('INVALID_BANDS', 'Bands must start at 0 m and grow strictly', `${field}.bands`, 'must start at 0 m and grow strictly');
        }
        return { ...base, method: 'route_length_bands', bands };
      }
    }
  }

  private checkLines(lineIds: readonly string[], field: string, modes?: readonly TransportMode[]): void {
    for (const lineId of lineIds) {
      const line = this.current.snapshot.lines.find((candidate) => candidate.id === lineId);
      if (!line) throw invalid('UNKNOWN_LINE', `Line ${JSON.stringify(lineId)} does not exist`, field, `no line ${lineId}`);
      if (modes && !modes.includes(line.mode)) {
        throw invalid('LINE_NOT_IN_MODES', `Line ${lineId} is a ${line.mode} line, not one of ${modes.join(', ')}`, field, `${lineId} is ${line.mode}`);
      }
    }
  }
}

/** The category a quote is for: the one asked for, else the signed-in passenger's, else adult. */
export function quoteRiderCategory(requested: RiderCategory | undefined, user: AuthUser | undefined): RiderCategory {
  return requested ?? (user?.role === 'passenger' ? user.riderCategory : undefined) ?? 'adult';
}

/** A calculator over the network and fare data as they are in Postgres now. */
export async function loadFareCalculator(network: Pick<NetworkService, 'linesWithStations'>, store: FareStore): Promise<FareCalculator> {
  const [lines, data] = await Promise.all([network.linesWithStations(), store.load()]);
  return new FareCalculator({ lines, ...data });
}

function invalid(code: string, message: string, field: string, problem: string): DomainError {
  return new DomainError('invalid', code, message, [{ field, problem }]);
}

/** Two rules of one table may not claim the same line, or the same mode as a whole. */
function checkRulesDoNotOverlap(rules: readonly FareRule[]): void {
  const claimed = new Map<string, string>();
  for (const rule of rules) {
    const keys = rule.lineIds ? rule.lineIds.map((id) => `line ${id}`) : rule.modes.map((mode) => `mode ${mode}`);
    for (const key of [`id ${rule.id}`, ...keys]) {
      const other = claimed.get(key);
      if (other !== undefined) {
        throw invalid('OVERLAPPING_RULES', `Rules ${other} and ${rule.id} both cover ${key}`, 'rules', `${other} and ${rule.id} both cover ${key}`);
      }
      claimed.set(key, rule.id);
    }
  }
}

function instantOr(value: string | undefined, fallback: number): number {
  return value === undefined ? fallback : Date.parse(value);
}

function toProductDto(version: ProductVersion, riderCategory: RiderCategory | undefined): ProductDto {
  return {
    id: version.productId,
    versionId: version.versionId,
    name: version.name,
    kind: version.kind,
    modes: [...version.modes],
    lines: version.lineIds ? [...version.lineIds] : null,
    singleLine: version.singleLine,
    validity:
      version.kind === 'pass'
        ? { kind: 'days', days: version.validityDays }
        : { kind: version.kind === 'single' ? 'single_trip' : 'open', days: null },
    prices: version.prices ? { ...version.prices } : null,
    ...(riderCategory && { price: version.prices ? (version.prices[riderCategory] ?? null) : null }),
    payAsYouGoCap: version.payAsYouGoCap,
    onSale: version.onSale,
    effectiveFrom: new Date(version.effectiveFrom).toISOString(),
    currency: 'VND',
  };
}

function toFareTableDto(table: FareTable): FareTableDto {
  return {
    id: table.id,
    effectiveFrom: new Date(table.effectiveFrom).toISOString(),
    freeRiderCategories: [...table.freeRiderCategories],
    rules: table.rules.map((rule) => {
      const common = { id: rule.id, modes: [...rule.modes], ...(rule.lineIds && { lineIds: [...rule.lineIds] }), method: rule.method, cashRoundingUnit: rule.cashRoundingUnit };
      switch (rule.method) {
        case 'distance':
          return {
            ...common,
            baseAmount: rule.baseAmount,
            perKmAmount: rule.perKmAmount,
            ...(rule.minAmount !== null && { minAmount: rule.minAmount }),
            ...(rule.maxAmount !== null && { maxAmount: rule.maxAmount }),
          };
        case 'route_length_bands':
          return { ...common, bands: rule.bands.map((band) => ({ ...band })) };
      }
    }),
  };
}
