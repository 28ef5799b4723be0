import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import request from 'supertest';
import { DataSource } from 'typeorm';
import { localDayNumber, localDayStartMs } from '../../src/fares/domain/local-time';
import { gateAt, offlineTap, type GateDevice } from './gate';
import { waitFor } from './wait';

const HOUR_MS = 3600_000;

/** The rider's pay-as-you-go QR, as text. */
export async function accountQr(app: NestFastifyApplication, bearer: string): Promise<string> {
  return (await request(app.getHttpServer()).get('/v1/me/qr').query({ format: 'text' }).set('Authorization', bearer).expect(200)).text;
}

/** 08:00 local on the day `daysAgo` local days before today, plus `minutes`. */
export function localMorning(daysAgo: number, minutes = 0): number {
  return localDayStartMs(localDayNumber(Date.now()) - daysAgo) + 8 * HOUR_MS + minutes * 60_000;
}

/** Whole local days back from today to the weekdays (Monday to Friday) before today, nearest first. */
export function weekdaysAgo(count: number): number[] {
  const today = localDayNumber(Date.now());
  const found: number[] = [];
  for (let back = 1; found.length < count; back++) {
    const weekday = (today - back + 4) % 7; // local day 0 (1970-01-01) was a Thursday; 0 = Sunday
    if (weekday !== 0 && weekday !== 6) found.push(back);
  }
  return found;
}

/** Gates of Metro 2A, one per station asked for. */
export async function metroGates(app: NestFastifyApplication, stations: readonly string[]): Promise<Record<string, GateDevice>> {
  const gates = await Promise.all(stations.map((station) => gateAt(app, 'metro-2a', station)));
  return Object.fromEntries(stations.map((station, index) => [station, gates[index]]));
}

/** Taps in at `from` at `atMs` and, unless `to` is null, out at `to` 25 minutes later: uploaded as batches, since online taps carry the server's time. */
export async function ride(app: NestFastifyApplication, gates: Record<string, GateDevice>, qr: string, from: string, to: string | null, atMs: number): Promise<void> {
  const entry = await offlineTap(app, gates[from], { qr, direction: 'entry', occurredAt: new Date(atMs).toISOString() });
  if (entry.verdict !== 'accept') throw new Error(`entry refused: ${JSON.stringify(entry)}`);
  if (to === null) return;
  const exit = await offlineTap(app, gates[to], { qr, direction: 'exit', occurredAt: new Date(atMs + 25 * 60_000).toISOString() });
  if (exit.verdict !== 'accept') throw new Error(`exit refused: ${JSON.stringify(exit)}`);
}

/** Waits until the tap persister has written `count` closed or timed-out journeys of the account. */
export async function journeysWritten(app: NestFastifyApplication, accountId: string, count: number): Promise<void> {
  await waitFor(
    () => app.get(DataSource).query<Array<{ n: number }>>(`SELECT count(*)::int AS n FROM journeys WHERE account_id = $1 AND status <> 'open'`, [accountId]),
    ([row]) => row.n >= count,
  );
}
