import { Inject, Injectable } from '@nestjs/common';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';
import type { MediumKind } from './medium-kinds';

/**
 * The keyed hashes of media (README "Media"). A medium is found by its look-up hash,
 * HMAC-SHA256(MEDIA_LOOKUP_SECRET, "<kind>:<number>") in hex, in Postgres, Redis, taps and exports
 * alike: a CCCD number itself is never kept. A transit card proves itself with a cryptogram under a
 * key of its own, diversified from TRANSIT_CARD_MASTER_KEY.
 */
@Injectable()
export class MediumKeys {
  private readonly lookupSecret: Buffer;
  private readonly masterKey: Buffer;

  constructor(@Inject(APP_CONFIG) config: Pick<AppConfig, 'media'>) {
    this.lookupSecret = Buffer.from(config.media.lookupSecret, 'utf8');
    this.masterKey = Buffer.from(config.media.transitCardMasterKey, 'utf8');
  }

  lookupHash(kind: MediumKind, identity: string): string {
    return createHmac('sha256', this.lookupSecret).update(`${kind}:${identity}`).digest('hex');
  }

  /** A chip ID card's number with a date of birth, hashed: what linking recorded, compared at the gate. */
  birthCheck(number: string, birthDate: string): string {
    return createHmac('sha256', this.lookupSecret).update(`id_card-birth:${number}|${birthDate}`).digest('hex');
  }

  /** Whether a transit card's cryptogram (64 hex digits, lower case) is its key's HMAC of "<UID>|<counter>". */
  cryptogramValid(uid: string, counter: number, cryptogram: string): boolean {
    const expected = transitCardCryptogram(this.masterKey, uid, counter);
    return timingSafeEqual(Buffer.from(expected, 'latin1'), Buffer.from(cryptogram, 'latin1'));
  }
}

/**
 * What a transit card computes at a tap (README "Media", for the card vendor): its key
 * key_card = HMAC-SHA256(master key, UID in upper-case hex, ASCII), then
 * HMAC-SHA256(key_card, "<UID>|<counter in decimal>") in lower-case hex.
 */
export function transitCardCryptogram(masterKey: Buffer | string, uid: string, counter: number): string {
  const cardKey = createHmac('sha256', masterKey).update(uid, 'ascii').digest();
  return createHmac('sha256', cardKey).update(`${uid}|${counter}`, 'ascii').digest('hex');
}
