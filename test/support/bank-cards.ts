import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { CardTokens } from '../../src/bank-cards/card-tokens';
import { localDayNumber } from '../../src/fares/domain/local-time';
import { TapPartitions } from '../../src/validation/tap-partitions';

/** A test token: unique, with the development acquirer's decline prefix when asked (`tok_decline_<n>_…` declines n times). */
export function cardToken(prefix = 'tok_ok'): string {
  return `${prefix}_${randomUUID().replace(/-/g, '')}`;
}

/** A closed bank-card journey as the tap persister writes it (for the charge job's tests that need no gate). */
export async function cardJourney(app: NestFastifyApplication, token: string, lineId: string, entry: string, exit: string, at: number, charge: number): Promise<string> {
  const tokens = app.get(CardTokens);
  await app.get(TapPartitions).ensure(localDayNumber(at));
  const id = randomUUID();
  await app.get(DataSource).query(
    `INSERT INTO journeys (id, entered_at, subject_kind, card_id, card_token, rider_category, line_id, entry_station_id, exit_station_id, exited_at, status, fare, full_fare, charge)
     VALUES ($1, $2, 'bank_card', $3, $4, 'adult', $5, $6, $7, $8, 'closed', $9, $9, $9)`,
    [id, new Date(at), tokens.idOf(token), tokens.seal(token), lineId, entry, exit, new Date(at + 20 * 60_000), charge],
  );
  return id;
}
