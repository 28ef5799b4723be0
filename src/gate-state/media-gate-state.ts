import { Injectable } from '@nestjs/common';
import { RedisService } from '../redis/redis.service';
import { GateKeys, type MediumField } from './gate-state';

/** A medium as the gates know it: `{g<shard>}:m:<lookupHash>:medium` (gate-state.ts MEDIUM_FIELDS). */
export interface GateMediumRecord {
  lookupHash: string;
  kind: string;
  status: 'active' | 'blocked' | 'replaced';
  /** '' for a card not linked to an account yet. */
  accountId: string;
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
  constructor(
    private readonly redis: RedisService,
    private readonly keys: GateKeys,
  ) {}

  async put(records: readonly GateMediumRecord[]): Promise<void> {
    if (records.length === 0) return;
    // Pipelined, not one MULTI: on a cluster the media lie in many slots.
    await Promise.all(records.map((record) => this.redis.client.hSet(this.keys.medium(record.lookupHash), fieldsOf(record))));
  }
}

function fieldsOf(record: GateMediumRecord): Record<Exclude<MediumField, 'ctr'>, string> {
  return {
    kind: record.kind,
    status: record.status,
    account: record.accountId,
    id: record.mediumId,
    chk: record.birthCheck,
  };
}
