import { Injectable } from '@nestjs/common';
import { RedisService } from '../redis/redis.service';
import { GateKeys, type CardField } from './gate-state';

const STATUS: CardField = 'status';

/** A bank card as the gates know it: on the deny list or not, and the account it is linked to ('' none). */
export interface CardGateRecord {
  cardId: string;
  denied: boolean;
  accountId: string;
  riderCategory: string;
}

/**
 * The gates' copy of a bank card (`{g<s>}:c:<cardId>:card`, CARD_FIELDS): its deny-list state and the
 * account it is linked to. The bank-cards module calls it after the transaction that denied, restored
 * or linked the card has committed; its rebuild writes every card it knows again.
 */
@Injectable()
export class CardGateState {
  constructor(
    private readonly redis: RedisService,
    private readonly keys: GateKeys,
  ) {}

  async setDenied(cardId: string, denied: boolean): Promise<void> {
    await this.redis.client.hSet(this.keys.card(cardId), STATUS, denied ? 'denied' : 'active');
  }

  /** The card opens the account's pay as you go at the gates, at this rider category. */
  async link(cardId: string, accountId: string, riderCategory: string): Promise<void> {
    await this.redis.client.hSet(this.keys.card(cardId), { account: accountId, cat: riderCategory } satisfies Partial<Record<CardField, string>>);
  }

  /** Whole records (the rebuild); a linked card opens the account's pay as you go at its rider category. */
  async put(records: readonly CardGateRecord[]): Promise<void> {
    // Pipelined, not one MULTI: on a cluster the cards lie in many slots.
    await Promise.all(records.map((record) => this.redis.client.hSet(this.keys.card(record.cardId), fieldsOf(record))));
  }

  async isDenied(cardId: string): Promise<boolean> {
    return (await this.redis.client.hGet(this.keys.card(cardId), STATUS)) === 'denied';
  }
}

function fieldsOf(record: CardGateRecord): Record<CardField, string> {
  return { status: record.denied ? 'denied' : 'active', account: record.accountId, cat: record.riderCategory };
}
