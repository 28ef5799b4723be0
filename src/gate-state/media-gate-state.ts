import { Injectable } from '@nestjs/common';
import { RedisService } from '../redis/redis.service';
import { gateKeys, type MediumField } from './gate-state';

/** A medium as the gates know it: `{m:<lookupHash>}:medium` (gate-state.ts MEDIUM_FIELDS). */
export interface GateMediumRecord {
  lookupHash: string;
  kind: string;
  status: 'active' | 'blocked' | 'replaced';
  /** '' for a card not linked to an account yet. */
  accountId: string;
  riderCategory: string;
  mediumId: string;
  /** Chip ID cards: HMAC of number and date of birth as given at linking; '' otherwise. */
  birthCheck: string;
}

/**
 * The gates' copy of the media (the port of the media module): written after the media module's
 * transaction commits, and by the rebuild. Only the record's own fields: the counters a transit card
 * presented are medium.lua's, and survive a rewrite.
 */
@Injectable()
export class MediaGateState {
  constructor(private readonly redis: RedisService) {}

  async put(records: readonly GateMediumRecord[]): Promise<void> {
    if (records.length === 0) return;
    const multi = this.redis.client.multi();
    for (const record of records) multi.hSet(gateKeys.medium(record.lookupHash), fieldsOf(record));
    await multi.exec();
  }
}

function fieldsOf(record: GateMediumRecord): Record<Exclude<MediumField, 'ctr'>, string> {
  return {
    kind: record.kind,
    status: record.status,
    account: record.accountId,
    cat: record.riderCategory,
    id: record.mediumId,
    chk: record.birthCheck,
  };
}
