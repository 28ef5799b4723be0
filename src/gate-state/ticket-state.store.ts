import { Injectable } from '@nestjs/common';
import { join } from 'node:path';
import { LuaScript } from '../redis/lua-script';
import { DAY_MS } from '../fares/domain/local-time';
import { RedisService } from '../redis/redis.service';
import { GateKeys, accountPassValue, luaPrelude, type TicketStateField } from './gate-state';

/**
 * A ticket's state as the gates read it. Each hash lives under `{g<shard>}:t:<ticketId>:state`: the
 * hash tag keeps every key of one ticket in its shard's Redis Cluster slot, for the gate's Lua script.
 *
 * Fields (epoch milliseconds, '' when unknown):
 *   status        active | refunding (a refund is committing) | refunded | revoked
 *   kind          single | pass          account   the owner's account id
 *   riderCategory                        modes, lineIds   comma-separated ('' lineIds: every line)
 *   origin, destination                  single trips' stations
 *   activation    fixed | first_use      validFrom, validUntil, validityDays, firstUseBy
 *   firstUsedAt   set by the gate path on first use; never cleared from here
 *   version       Postgres' state_version: an older write never overwrites a newer one
 */
export interface TicketState {
  ticketId: string;
  version: number;
  status: 'active' | 'refunded' | 'revoked';
  kind: 'single' | 'pass';
  accountId: string;
  riderCategory: string;
  modes: readonly string[];
  lineIds: readonly string[] | null;
  originStationId: string | null;
  destinationStationId: string | null;
  activation: 'fixed' | 'first_use';
  validFrom: Date | null;
  validUntil: Date | null;
  validityDays: number | null;
  firstUseBy: Date | null;
  firstUsedAt: Date | null;
}

export type RefundClaim = 'claimed' | 'missing' | 'used' | 'refunding' | 'refunded' | 'revoked';

/** How long a ticket's state outlives its validity, so a late tap still finds why it is refused. */
const KEEP_AFTER_EXPIRY_MS = 7 * DAY_MS;

@Injectable()
export class TicketStateStore {
  private readonly writeScript = LuaScript.fromFile(join(__dirname, 'write-ticket-state.lua'));
  private readonly claimScript = LuaScript.fromFile(join(__dirname, 'claim-ticket-refund.lua'));
  private readonly indexPassScript = LuaScript.fromFile(join(__dirname, 'index-account-pass.lua'), luaPrelude());

  constructor(
    private readonly redis: RedisService,
    private readonly keys: GateKeys,
  ) {}

  /**
   * Writes each ticket's state (in one pipeline), skipping any Redis already holds at a newer version;
   * a pass also goes into its account's pass index (`…:a:<id>:passes`), where the account's media find it.
   */
  async write(states: readonly TicketState[], now = Date.now()): Promise<void> {
    await Promise.all(
      states.flatMap((state) => {
        const args = stateArguments(state);
        const writes = [this.writeScript.run(this.redis.client, [this.keys.ticketState(state.ticketId)], args)];
        if (state.kind === 'pass') {
          const keepUntil = Number(args[1]);
          const value = accountPassValue({ ticketId: state.ticketId, modes: state.modes, lineIds: state.lineIds, validityEnd: keepUntil - KEEP_AFTER_EXPIRY_MS, keepUntil });
          writes.push(this.indexPassScript.run(this.redis.client, [this.keys.accountPasses(state.accountId)], [String(now), state.ticketId, value]));
        }
        return writes;
      }),
    );
  }

  /** Blocks the ticket at the gates unless a gate has used it; see claim-ticket-refund.lua. */
  async claimForRefund(ticketId: string): Promise<RefundClaim> {
    return (await this.claimScript.run(this.redis.client, [this.keys.ticketState(ticketId)], [])) as RefundClaim;
  }
}

/** Field names checked against TICKET_STATE_FIELDS by the compiler. */
const field = (name: TicketStateField): string => name;

/** write-ticket-state.lua's ARGV for one ticket's state. */
export function stateArguments(state: TicketState): string[] {
  const lastValidDay = state.validUntil ?? new Date((state.firstUseBy?.getTime() ?? Date.now()) + (state.validityDays ?? 0) * DAY_MS);
  return [
    String(state.version),
    String(lastValidDay.getTime() + KEEP_AFTER_EXPIRY_MS),
    ms(state.firstUsedAt),
    field('status'), state.status,
    field('kind'), state.kind,
    field('account'), state.accountId,
    field('riderCategory'), state.riderCategory,
    field('modes'), state.modes.join(','),
    field('lineIds'), state.lineIds?.join(',') ?? '',
    field('origin'), state.originStationId ?? '',
    field('destination'), state.destinationStationId ?? '',
    field('activation'), state.activation,
    field('validFrom'), ms(state.validFrom),
    field('validUntil'), ms(state.validUntil),
    field('validityDays'), state.validityDays === null ? '' : String(state.validityDays),
    field('firstUseBy'), ms(state.firstUseBy),
  ];
}

function ms(date: Date | null): string {
  return date === null ? '' : String(date.getTime());
}
