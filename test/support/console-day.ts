import { randomBytes } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { upsertDevice } from '../../src/devices/device-seeder';
import { HANOI_LINES } from '../../src/network/hanoi-network';
import { createPassProduct, ensureGatePartitions, insertJourney, insertTap, insertTickets, localTime } from './settlement';

/**
 * A day to look at in the operators' console, on the seeded Hà Nội network in a database of the
 * caller's own: sales, passes and pay-as-you-go journeys on Metro 2A (Hanoi Metro) and Bus 32
 * (Transerco) through registered validators, a gate that rejects most of what it sees, offline
 * uploads that turned out invalid, free rides, and a few quieter days before it for the trend.
 * It counts, as it writes them, what the console must then show.
 */
export interface ConsoleDay {
  date: string;
  metroOperator: 'hmc';
  busOperator: 'transerco';
  metroLine: string;
  busLine: string;
  /** Registered validators: the metro gates, the bus validator, the failing gate and one that never tapped. */
  devices: { gates: string[]; bus: string; failing: string; silent: string };
  /** Accepted taps by local hour on `date`, as written. */
  acceptedByHour: number[];
  /** Rejected taps by reason on `date`, as written. */
  rejectedByReason: Record<string, number>;
  freeRides: number;
  fareAtRisk: number;
  /** The silent gate's last tap, two days before `date`. */
  silentLastTap: Date;
}

const METRO = HANOI_LINES.find((line) => line.id === 'metro-2a')!;
const BUS = HANOI_LINES.find((line) => line.id === 'bus-32')!;
/** Morning and evening peaks: how many metro journeys start in each local hour. */
const METRO_JOURNEYS_BY_HOUR = [0, 0, 0, 0, 0, 1, 4, 9, 7, 3, 2, 2, 3, 2, 2, 3, 5, 8, 6, 3, 2, 1, 0, 0];
const shiftDate = (date: string, days: number) => new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);
const at = (date: string, hour: number, minute: number) => localTime(date, `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`);
/** Metro fares as the scheme charges them: 8,000 đồng plus 850 per km, to the đồng. */
const metroFare = (metres: number) => 8_000 + Math.round((850 * metres) / 1000);

export async function createConsoleDay(db: DataSource, date: string, trendDays = 14): Promise<ConsoleDay> {
  const gateStations = [0, 3, 7, 11].map((index) => METRO.stations[index]);
  const devices = {
    gates: gateStations.map((station) => `gate-2a-${station.id.replace(/^.*?-/, '')}`.slice(0, 60)),
    bus: 'bus32-29b-10521',
    failing: `gate-2a-${METRO.stations[5].id.replace(/^.*?-/, '')}`.slice(0, 60),
    silent: `gate-2a-${METRO.stations[9].id.replace(/^.*?-/, '')}`.slice(0, 60),
  };
  const register = (deviceId: string, lineId: string, stationId: string | undefined, operatorId: string) =>
    upsertDevice(db, { deviceId, secret: randomBytes(24).toString('base64url'), operatorId, lineId, stationId, kind: stationId ? 'gate' : 'bus' });
  for (const [index, deviceId] of devices.gates.entries()) await register(deviceId, METRO.id, gateStations[index].id, 'hmc');
  await register(devices.failing, METRO.id, METRO.stations[5].id, 'hmc');
  await register(devices.silent, METRO.id, METRO.stations[9].id, 'hmc');
  await register(devices.bus, BUS.id, undefined, 'transerco');

  for (let day = -trendDays; day <= 0; day++) await ensureGatePartitions(db, shiftDate(date, day));
  const networkPass = await createPassProduct(db, { lineIds: [METRO.id, BUS.id], price: 200_000, validityDays: 30, key: 'passenger_km' });
  const metroPass = await createPassProduct(db, { lineIds: [METRO.id], price: 140_000, validityDays: 30, key: 'trips' });
  const passes = await insertTickets(db, [
    ...[0, 1, 2].map(() => ({ productId: networkPass, kind: 'pass' as const, price: 200_000, issuedAt: at(shiftDate(date, -trendDays), 7, 0), lineIds: [METRO.id, BUS.id], validityDays: 30, validFrom: localTime(shiftDate(date, -trendDays), '00:00'), validUntil: localTime(shiftDate(date, 30 - trendDays), '00:00') })),
    { productId: metroPass, kind: 'pass' as const, price: 140_000, issuedAt: at(date, 6, 40), lineIds: [METRO.id], validityDays: 30, validFrom: localTime(date, '00:00'), validUntil: localTime(shiftDate(date, 30), '00:00') },
  ]);

  const acceptedByHour = Array.from({ length: 24 }, () => 0);
  let journeyNumber = 0;
  /** A metro journey between two gates, through their devices; every third is pay-as-you-go, every fifth on a pass. */
  const metroJourney = async (day: string, hour: number, minute: number) => {
    const from = journeyNumber % gateStations.length;
    const to = (from + 1 + (journeyNumber % (gateStations.length - 1))) % gateStations.length;
    const metres = Math.abs(gateStations[to].positionM - gateStations[from].positionM);
    const kind = journeyNumber % 5 === 0 ? 'pass' : journeyNumber % 3 === 0 ? 'payg' : 'single';
    const ticketId = kind === 'pass' ? passes[journeyNumber % passes.length] : kind === 'single' ? (await insertTickets(db, [{ productId: 'metro-2a-single', kind: 'single', price: metroFare(metres), issuedAt: at(day, hour, minute), modes: ['metro'], lineIds: [METRO.id], originStationId: gateStations[from].id, destinationStationId: gateStations[to].id }]))[0] : undefined;
    journeyNumber++;
    const fare = metroFare(metres);
    await insertJourney(
      db,
      { subjectKind: kind, ticketId, lineId: METRO.id, entryStationId: gateStations[from].id, exitStationId: gateStations[to].id, enteredAt: at(day, hour, minute), exitedAt: new Date(at(day, hour, minute).getTime() + 20 * 60_000), fare, charge: kind === 'payg' ? fare : 0 },
      devices.gates[from],
    );
    return [hour, minute + 20 < 60 ? hour : hour + 1];
  };

  for (const [hour, journeys] of METRO_JOURNEYS_BY_HOUR.entries()) {
    for (let index = 0; index < journeys; index++) {
      const minute = Math.floor((index * 37) % 39);
      const [entryHour, exitHour] = await metroJourney(date, hour, minute);
      acceptedByHour[entryHour]++;
      acceptedByHour[exitHour]++;
    }
  }
  // A refund the same day: the ticket leaves the revenue.
  await insertTickets(db, [{ productId: 'metro-2a-single', kind: 'single', price: 12_250, issuedAt: at(date, 9, 5), refundedAt: at(date, 9, 40), modes: ['metro'], lineIds: [METRO.id], originStationId: METRO.stations[0].id, destinationStationId: METRO.stations[4].id }]);

  // Bus 32: pay as you go at a flat 7,000, two elderly riders free, one journey on a network pass.
  const busJourney = async (hour: number, riderCategory: 'adult' | 'elderly', subjectKind: 'payg' | 'pass' = 'payg') => {
    const charge = riderCategory === 'elderly' || subjectKind === 'pass' ? 0 : 7_000;
    await insertJourney(
      db,
      { subjectKind, ticketId: subjectKind === 'pass' ? passes[0] : undefined, riderCategory, lineId: BUS.id, entryStationId: BUS.stations[0].id, exitStationId: BUS.stations[3].id, enteredAt: at(date, hour, 10), exitedAt: at(date, hour, 45), fare: charge, charge },
      devices.bus,
    );
    acceptedByHour[hour] += 2;
  };
  for (const hour of [6, 7, 7, 8, 12, 17, 18]) await busJourney(hour, 'adult');
  await busJourney(9, 'elderly');
  await busJourney(10, 'elderly');
  await busJourney(16, 'adult', 'pass');

  // Offline uploads from the bus: accepted on board, invalid on the record (a revoked medium).
  let fareAtRisk = 0;
  for (const hour of [13, 19]) {
    await insertTap(db, { deviceId: devices.bus, direction: 'exit', at: at(date, hour, 5), stationId: BUS.stations[2].id, journey: { subjectKind: 'payg', lineId: BUS.id }, reason: 'REVOKED', valid: false, offline: true, fare: 7_000 });
    acceptedByHour[hour]++;
    fareAtRisk += 7_000;
  }

  // The failing gate: three good taps and many it refuses.
  const rejectedByReason: Record<string, number> = {};
  const failing = [
    ['OK', 7], ['INVALID_QR', 7], ['INVALID_QR', 8], ['INVALID_QR', 8], ['INVALID_QR', 17], ['INVALID_QR', 18], ['EXPIRED', 8], ['EXPIRED', 17], ['OK', 12], ['PASSBACK', 18], ['OK', 18],
  ] as const;
  for (const [index, [reason, hour]] of failing.entries()) {
    const verdict = reason === 'OK' ? 'accept' : 'reject';
    await insertTap(db, { deviceId: devices.failing, direction: 'entry', at: at(date, hour, 2 + index), stationId: METRO.stations[5].id, journey: { subjectKind: 'payg', lineId: METRO.id }, verdict, reason });
    if (verdict === 'accept') acceptedByHour[hour]++;
    else rejectedByReason[reason] = (rejectedByReason[reason] ?? 0) + 1;
  }

  // Quieter days before it, for the trend.
  for (let day = -trendDays; day < 0; day++) {
    const journeys = 3 + ((day + trendDays) % 7);
    for (let index = 0; index < journeys; index++) await metroJourney(shiftDate(date, day), 7 + (index % 12), 10);
  }

  // The silent gate last worked two days before.
  const silentLastTap = at(shiftDate(date, -2), 18, 30);
  for (const minutes of [0, 30]) {
    await insertTap(db, { deviceId: devices.silent, direction: 'entry', at: new Date(silentLastTap.getTime() - minutes * 60_000), stationId: METRO.stations[9].id, journey: { subjectKind: 'payg', lineId: METRO.id } });
  }

  return { silentLastTap, date, metroOperator: 'hmc', busOperator: 'transerco', metroLine: METRO.id, busLine: BUS.id, devices, acceptedByHour, rejectedByReason, freeRides: 2, fareAtRisk };
}
