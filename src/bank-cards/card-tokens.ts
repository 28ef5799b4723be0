import { Inject, Injectable } from '@nestjs/common';
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import type { AppConfig } from '../config/config';
import { APP_CONFIG } from '../config/config.module';

/** A card id: 32 hex digits, the first half of HMAC-SHA256(id key, token). */
export const CARD_ID = /^[0-9a-f]{32}$/;
const SEALED = /^v1\.([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]{22})$/;

/**
 * What the service keeps of a bank card's token (a payment account reference or the acquirer's
 * token, never the card number): its id, an HMAC under a key of ours, which keys the card
 * everywhere (gate state, taps, journeys, charges, the deny list), and the token sealed with
 * AES-256-GCM, which only the charge job opens to ask the acquirer for money. The token itself is
 * never stored, logged or returned. Both keys come from BANK_CARD_KEY through HKDF.
 */
@Injectable()
export class CardTokens {
  private readonly idKey: Buffer | undefined;
  private readonly sealKey: Buffer | undefined;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const secret = config.bankCards.cardKey;
    if (secret === undefined) return;
    this.idKey = Buffer.from(hkdfSync('sha256', secret, 'lien-thong', 'bank-card-id', 32));
    this.sealKey = Buffer.from(hkdfSync('sha256', secret, 'lien-thong', 'bank-card-seal', 32));
  }

  /** False in production without an acquirer (no BANK_CARD_KEY): bank cards are not taken. */
  get enabled(): boolean {
    return this.idKey !== undefined;
  }

  idOf(token: string): string {
    return createHmac('sha256', this.key(this.idKey)).update(token, 'utf8').digest('hex').slice(0, 32);
  }

  seal(token: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key(this.sealKey), iv);
    const sealed = Buffer.concat([cipher.update(token, 'utf8'), cipher.final()]);
    return `v1.${iv.toString('base64url')}.${sealed.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`;
  }

  open(sealed: string): string {
    const parts = SEALED.exec(sealed);
    if (!parts) throw new Error('not a sealed card token');
    const decipher = createDecipheriv('aes-256-gcm', this.key(this.sealKey), Buffer.from(parts[1], 'base64url'));
    decipher.setAuthTag(Buffer.from(parts[3], 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(parts[2], 'base64url')), decipher.final()]).toString('utf8');
  }

  private key(key: Buffer | undefined): Buffer {
    if (!key) throw new Error('bank cards are off: BANK_CARD_KEY is not set');
    return key;
  }
}

/** How a card is shown to its rider: never any part of the token, only of its id. */
export function cardLabel(cardId: string): string {
  return `Bank card ${cardId.slice(0, 4).toUpperCase()}`;
}
