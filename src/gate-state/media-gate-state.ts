import { Injectable } from '@nestjs/common';
import { join } from 'node:path';
import { LuaScript } from '../redis/lua-script';
import { RedisService } from '../redis/redis.service';
import { GateKeys, luaPrelude, type MediumField } from './gate-state';

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
  /** Transit cards: the highest counter Postgres knows the card presented (null: none yet). */
  highestCounter: number | null;
}

/**
 * The gates' copy of the media (the port of the media module): written after the media module's
 * transaction commits, and by the rebuild. Only the record's own fields: the counters a transit card
 * presented are medium.lua's, and survive a rewrite; the highest Postgres knows only raises theirs.
 */
@Injectable()
export class MediaGateState {
  private readonly raiseCounter = LuaScript.fromFile(join(__dirname, 'raise-medium-counter.lua'), luaPrelude());

  constructor(
    private readonly redis: RedisService,
    private readonly keys: GateKeys,
  ) {}

  async put(records: readonly GateMediumRecord[]): Promise<void> {
    if (records.length === 0) return;
    // Pipelined, not one MULTI: on a cluster the media lie in many slots.
    await Promise.all(
      records.flatMap((record) => {
        const key = this.keys.medium(record.lookupHash);
        const writes: Array<Promise<unknown>> = [this.redis.client.hSet(key, fieldsOf(record))];
        if (record.highestCounter !== null) writes.push(this.raiseCounter.run(this.redis.client, [key], [String(record.highestCounter)]));
        return writes;
      }),
    );
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
