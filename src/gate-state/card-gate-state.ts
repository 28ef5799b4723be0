import { Injectable } from '@nestjs/common';
import { RedisService } from '../redis/redis.service';
import { GateKeys, type CardField } from './gate-state';

const STATUS: CardField = 'status';

/**
 * The gates' copy of a bank card's deny-list state (`{c:<cardId>}:card`). The bank-cards module
 * calls it after the transaction that denied or restored the card has committed; a rebuild
 * writes every denied card again.
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

  async isDenied(cardId: string): Promise<boolean> {
    return (await this.redis.client.hGet(this.keys.card(cardId), STATUS)) === 'denied';
  }
}
