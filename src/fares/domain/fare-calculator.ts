import { DomainError } from '../../common/domain-error';
import type { TransportMode } from '../../network/hanoi-network';
import type { RiderCategory } from '../rider-category';
import type { CapPeriod, FareRule, FareSnapshot, FareTable, FareWaiver, NetworkLine, ProductVersion } from './fare-model';
import { perKmCharge, roundUpToUnit } from './money';

/** Modes as bits, so "the modes this rider used today" is one integer. */
export const MODE_BITS: Readonly<Record<TransportMode, number>> = { metro: 1, brt: 2, bus: 4 };

export function modeBitsOf(modes: readonly TransportMode[]): number {
  let bits = 0;
  for (const mode of modes) bits |= MODE_BITS[mode];
  return bits;
}

/**
 * The capping rule, the one definition: a leg costs its fare, but never more than takes the day's
 * spend to the day cap or the week's to the week cap (null: no cap). gate.lua applies the same rule
 * (its `capped`), and test/integration/gate-state.spec.ts checks on random cases that they agree.
 */
export function capCharge(amount: number, daySpent: number, weekSpent: number, dayCap: number | null, weekCap: number | null): number {
  let charge = amount;
  if (dayCap !== null) charge = Math.min(charge, Math.max(0, dayCap - daySpent));
  if (weekCap !== null) charge = Math.min(charge, Math.max(0, weekCap - weekSpent));
  return charge;
}

/** The fare of one trip between two stations of a line, at one instant, for one rider category. */
export interface FareQuote {
  /** What the rider pays by electronic media: 0 for free categories and waived trips. */
  readonly amount: number;
  /** What the rider pays in cash. */
  readonly cashAmount: number;
  /** The fare before rider-category exemptions and waivers: what free rides are worth to operators. */
  readonly fullAmount: number;
  readonly distanceM: number;
  readonly lineId: string;
  readonly mode: TransportMode;
  readonly riderCategory: RiderCategory;
  readonly fareTableId: string;
  /** `<fareTableId>:<ruleId>`: the rule that priced the trip. */
  readonly ruleId: string;
  readonly waiverId: string | null;
  readonly at: number;
}

/** What a pay-as-you-go rider has already been charged in the current local day and week. */
export interface PayAsYouGoSpend {
  readonly daySpent: number;
  /** MODE_BITS of the modes travelled today. */
  readonly dayModes: number;
  readonly weekSpent: number;
  readonly weekModes: number;
}

export interface LegCharge {
  /** What to take from the rider for this leg. */
  readonly charge: number;
  /** The price of the cheapest day pass covering today's modes, or null when none caps them. */
  readonly dayCap: number | null;
  readonly weekCap: number | null;
  /** The cap lowered the charge. */
  readonly capped: boolean;
}

interface IndexedStation {
  readonly line: IndexedLine;
  readonly positionM: number;
}

interface IndexedLine {
  readonly line: NetworkLine;
  readonly modeBit: number;
  readonly firstStationId: string;
  readonly lastStationId: string;
  /** The route length bands are read against. */
  readonly lengthM: number;
}

interface IndexedTable {
  readonly table: FareTable;
  /** The rule for each line, resolved once: line-specific rules win over mode-wide ones. */
  readonly ruleByLine: ReadonlyMap<string, { rule: FareRule; ruleId: string }>;
  readonly free: ReadonlySet<RiderCategory>;
}

interface IndexedWaiver {
  readonly waiver: FareWaiver;
  readonly lineIds: ReadonlySet<string> | null;
  readonly modeBits: number; // 0: any mode
  readonly riderCategories: ReadonlySet<RiderCategory> | null;
  readonly zone: ReadonlySet<string> | null;
}

interface CapProduct {
  readonly version: ProductVersion;
  readonly modeBits: number;
}

/**
 * The fare engine: pure and synchronous, built once from a snapshot of fare data and then asked
 * many times (the gate path calls it per tap). Everything that can be indexed is indexed here, so
 * a quote allocates only its result.
 */
export class FareCalculator {
  private readonly stations = new Map<string, IndexedStation>();
  private readonly lines = new Map<string, IndexedLine>();
  /** Newest first. */
  private readonly tables: IndexedTable[];
  private readonly waivers: IndexedWaiver[];
  /** Versions per product, newest first. */
  private readonly productVersions = new Map<string, ProductVersion[]>();
  private readonly capProducts: Record<CapPeriod, CapProduct[]> = { day: [], week: [] };

  constructor(readonly snapshot: FareSnapshot) {
    for (const line of snapshot.lines) {
      const first = line.stations[0];
      const last = line.stations[line.stations.length - 1];
      if (!first || !last) continue; // a line without stations has no trips to price
      let lengthM = 0;
      for (const station of line.stations) lengthM = Math.max(lengthM, station.positionM);
      const indexed: IndexedLine = { line, modeBit: MODE_BITS[line.mode], firstStationId: first.id, lastStationId: last.id, lengthM };
      this.lines.set(line.id, indexed);
      for (const station of line.stations) this.stations.set(station.id, { line: indexed, positionM: station.positionM });
    }
    this.tables = [...snapshot.fareTables].sort((a, b) => b.effectiveFrom - a.effectiveFrom).map((table) => this.indexTable(table));
    const zones = new Map(snapshot.zones.map((zone) => [zone.id, new Set(zone.stationIds)]));
    this.waivers = snapshot.waivers.map((waiver) => ({
      waiver,
      lineIds: waiver.lineIds ? new Set(waiver.lineIds) : null,
      modeBits: waiver.modes ? modeBitsOf(waiver.modes) : 0,
      riderCategories: waiver.riderCategories ? new Set(waiver.riderCategories) : null,
      // A waiver naming a zone that does not exist covers no trip rather than every trip.
      zone: waiver.zoneId === null ? null : (zones.get(waiver.zoneId) ?? new Set<string>()),
    }));
    for (const version of snapshot.products) {
      const versions = this.productVersions.get(version.productId) ?? [];
      versions.push(version);
      this.productVersions.set(version.productId, versions);
    }
    for (const versions of this.productVersions.values()) versions.sort((a, b) => b.effectiveFrom - a.effectiveFrom);
    for (const version of snapshot.products) {
      // Only a pass valid on every line of its modes can stand for "the pass that would have covered those trips".
      if (version.payAsYouGoCap && version.prices && version.lineIds === null && !version.singleLine) {
        this.capProducts[version.payAsYouGoCap].push({ version, modeBits: modeBitsOf(version.modes) });
      }
    }
  }

  /**
   * The fare of a trip from one station to another. `lineId` is optional: stations belong to one
   * line each, and when it is given both stations must be on it.
   */
  quote(lineId: string | null, fromStationId: string, toStationId: string, riderCategory: RiderCategory, at: number): FareQuote {
    const from = this.station(fromStationId, 'from');
    const to = this.station(toStationId, 'to');
    if (from.line !== to.line) {
      throw new DomainError('invalid', 'STATIONS_ON_DIFFERENT_LINES', `${fromStationId} and ${toStationId} are not on the same line`, [
        { field: 'to', problem: `is on line ${to.line.line.id}, not ${from.line.line.id}` },
      ]);
    }
    const line = from.line;
    if (lineId !== null && lineId !== line.line.id) {
      if (!this.lines.has(lineId)) throw new DomainError('not_found', 'UNKNOWN_LINE', `Line ${JSON.stringify(lineId)} does not exist`);
      throw new DomainError('invalid', 'STATION_NOT_ON_LINE', `The stations are on line ${line.line.id}, not ${lineId}`, [
        { field: 'lineId', problem: `the stations are on line ${line.line.id}` },
      ]);
    }
    const table = this.tableAt(at);
    const resolved = table.ruleByLine.get(line.line.id);
    if (!resolved) {
      throw new DomainError('refused', 'NO_FARE_RULE', `Fare table ${table.table.id} has no fare for line ${line.line.id}`);
    }
    const distanceM = Math.abs(to.positionM - from.positionM);
    const rule = resolved.rule;
    const fullAmount = ruleFare(rule, distanceM, line.lengthM);
    const waiver = table.free.has(riderCategory) ? null : this.waiverFor(line, fromStationId, toStationId, riderCategory, at);
    const amount = table.free.has(riderCategory) || waiver ? 0 : fullAmount;
    return {
      amount,
      cashAmount: roundUpToUnit(amount, rule.cashRoundingUnit),
      fullAmount,
      distanceM,
      lineId: line.line.id,
      mode: line.line.mode,
      riderCategory,
      fareTableId: table.table.id,
      ruleId: resolved.ruleId,
      waiverId: waiver ? waiver.id : null,
      at,
    };
  }

  /** The fare from one end of the line to the other: what a journey without an exit is charged. */
  maximumFare(lineId: string, riderCategory: RiderCategory, at: number): FareQuote {
    const line = this.lines.get(lineId);
    if (!line) throw new DomainError('not_found', 'UNKNOWN_LINE', `Line ${JSON.stringify(lineId)} does not exist`);
    return this.quote(lineId, line.firstStationId, line.lastStationId, riderCategory, at);
  }

  /**
   * What a pay-as-you-go leg costs given what the rider already paid: never more than takes the
   * day's spend to the price of the cheapest day pass covering the day's modes, and likewise for
   * the week.
   */
  chargeLeg(quote: FareQuote, spend: PayAsYouGoSpend): LegCharge {
    const modeBit = MODE_BITS[quote.mode];
    const dayCap = this.capFor('day', spend.dayModes | modeBit, quote.riderCategory, quote.at);
    const weekCap = this.capFor('week', spend.weekModes | modeBit, quote.riderCategory, quote.at);
    const charge = capCharge(quote.amount, spend.daySpent, spend.weekSpent, dayCap, weekCap);
    return { charge, dayCap, weekCap, capped: charge < quote.amount };
  }

  /** The version of a product in force at an instant, or undefined when it did not exist yet. */
  productAt(productId: string, at: number): ProductVersion | undefined {
    const versions = this.productVersions.get(productId);
    if (!versions) return undefined;
    for (const version of versions) if (version.effectiveFrom <= at) return version;
    return undefined;
  }

  /** Every product's version in force at an instant, on sale or not. */
  productsAt(at: number): ProductVersion[] {
    const result: ProductVersion[] = [];
    for (const productId of this.productVersions.keys()) {
      const version = this.productAt(productId, at);
      if (version) result.push(version);
    }
    return result.sort((a, b) => a.productId.localeCompare(b.productId));
  }

  /** Whether the fare table in force at an instant prices trips on the line. */
  coversLine(lineId: string, at: number): boolean {
    return this.tableAt(at).ruleByLine.has(lineId);
  }

  /** The pass price that caps pay-as-you-go spend over a period, for riders who used these modes. */
  capFor(period: CapPeriod, modeBits: number, riderCategory: RiderCategory, at: number): number | null {
    let cap: number | null = null;
    for (const candidate of this.capProducts[period]) {
      if ((candidate.modeBits & modeBits) !== modeBits) continue;
      const { version } = candidate;
      // Only the version in force now may cap: a later or superseded version of the same product may not.
      if (version.effectiveFrom > at || this.productAt(version.productId, at) !== version || !version.onSale) continue;
      const price = version.prices?.[riderCategory];
      if (price !== undefined && (cap === null || price < cap)) cap = price;
    }
    return cap;
  }

  private station(id: string, field: string): IndexedStation {
    const station = this.stations.get(id);
    if (!station) {
      throw new DomainError('not_found', 'UNKNOWN_STATION', `Station ${JSON.stringify(id)} does not exist`, [{ field, problem: 'no such station' }]);
    }
    return station;
  }

  private tableAt(at: number): IndexedTable {
    for (const table of this.tables) if (table.table.effectiveFrom <= at) return table;
    throw new DomainError('refused', 'NO_FARE_TABLE', `No fare table is in force at ${new Date(at).toISOString()}`);
  }

  private waiverFor(line: IndexedLine, fromId: string, toId: string, riderCategory: RiderCategory, at: number): FareWaiver | null {
    for (const candidate of this.waivers) {
      const { waiver } = candidate;
      if (at < waiver.startsAt || at >= waiver.endsAt) continue;
      if (candidate.lineIds && !candidate.lineIds.has(line.line.id)) continue;
      if (candidate.modeBits !== 0 && (candidate.modeBits & line.modeBit) === 0) continue;
      if (candidate.riderCategories && !candidate.riderCategories.has(riderCategory)) continue;
      if (candidate.zone && !(candidate.zone.has(fromId) && candidate.zone.has(toId))) continue;
      return waiver;
    }
    return null;
  }

  private indexTable(table: FareTable): IndexedTable {
    const ruleByLine = new Map<string, { rule: FareRule; ruleId: string }>();
    for (const { line } of this.lines.values()) {
      const rule =
        table.rules.find((candidate) => candidate.lineIds?.includes(line.id)) ??
        table.rules.find((candidate) => candidate.lineIds === null && candidate.modes.includes(line.mode));
      if (rule) ruleByLine.set(line.id, { rule, ruleId: `${table.id}:${rule.id}` });
    }
    return { table, ruleByLine, free: new Set(table.freeRiderCategories) };
  }
}

/** The fare of a rule for a distance travelled on a route of a given length, before exemptions. */
function ruleFare(rule: FareRule, distanceM: number, routeLengthM: number): number {
  switch (rule.method) {
    case 'distance': {
      let amount = rule.baseAmount + perKmCharge(rule.perKmAmount, distanceM);
      if (rule.minAmount !== null && amount < rule.minAmount) amount = rule.minAmount;
      if (rule.maxAmount !== null && amount > rule.maxAmount) amount = rule.maxAmount;
      return amount;
    }
    case 'route_length_bands': {
      let amount = 0;
      for (const band of rule.bands) if (routeLengthM >= band.minLengthM) amount = band.amount;
      return amount;
    }
  }
}
