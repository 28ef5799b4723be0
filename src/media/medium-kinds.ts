import type { ErrorDetail } from '../common/domain-error';

/**
 * The kinds of media an account is reached through, in one place. To add a kind (a bank card):
 * add it to MEDIUM_KINDS, to `GateMedium` and `MediumLink` with its fields, to GATE_MEDIUM_KINDS and
 * LINK_KINDS below, give it a case in GateMedia.resolve (gate-media.ts), and allow it in the media
 * table's CHECK (a migration).
 */
export const MEDIUM_KINDS = ['app', 'transit_card', 'id_card'] as const;
export type MediumKind = (typeof MEDIUM_KINDS)[number];
export const MEDIUM_STATUSES = ['active', 'blocked', 'replaced'] as const;
export type MediumStatus = (typeof MEDIUM_STATUSES)[number];

/** What a tap was made with, as taps and journeys record it (`medium_kind`): a static QR, a medium, or a bank card. */
export const TAP_MEDIUM_KINDS = ['qr', ...MEDIUM_KINDS, 'bank_card'] as const;
export type TapMediumKind = (typeof TAP_MEDIUM_KINDS)[number];

/** Each medium kind in TIDES `fare_transactions.fare_media_id` words (the exports name it for every tap). */
export const TIDES_FARE_MEDIA = { qr: 'Optical scan', app: 'Optical scan', transit_card: 'Smart card or ticket', id_card: 'Smart card or ticket', bank_card: 'Bank card' } as const satisfies Record<TapMediumKind, string>;
export type TidesFareMedium = (typeof TIDES_FARE_MEDIA)[TapMediumKind];

/** What a validator sends as a tap's `medium`. */
export type GateMedium =
  | { kind: 'transit_card'; uid: string; counter: number; cryptogram: string }
  | { kind: 'id_card'; number: string; birthDate: string }
  | { kind: 'bank_card'; token: string };
export type GateMediumKind = GateMedium['kind'];

/** What a rider may link through POST /v1/me/media: the media kinds, and a bank card (kept by src/bank-cards, not in `media`). */
export const LINKABLE_KINDS = [...MEDIUM_KINDS, 'bank_card'] as const;
export type LinkableKind = (typeof LINKABLE_KINDS)[number];

/** What a rider sends to POST /v1/me/media, by kind. */
export type MediumLink =
  | { kind: 'app'; publicKey: unknown }
  | { kind: 'transit_card'; uid: string }
  | { kind: 'id_card'; number: string; birthDate: string }
  | { kind: 'bank_card'; token: string };
/** A card the `media` table keeps, by its number's look-up hash. */
export type CardLink = Extract<MediumLink, { kind: 'transit_card' | 'id_card' }>;

type Fields = Readonly<Record<string, unknown>>;

interface GateKind<M extends GateMedium> {
  /** The fields a tap's medium of this kind has, besides `kind`. */
  readonly fields: readonly string[];
  /** The medium from a tap's JSON, or undefined with the problems added to `details`. */
  read(raw: Fields, prefix: string, details: ErrorDetail[]): M | undefined;
  /** What the look-up hash is computed over (medium-keys.ts): the card's number, normalised. */
  identity(medium: M): string;
}

interface LinkKind<L extends MediumLink> {
  readonly fields: readonly string[];
  read(raw: Fields, details: ErrorDetail[]): L | undefined;
}

/** A transit card's UID: 4, 7 or 10 bytes in hex (ISO 14443), kept in upper case. */
const UID = /^(?:[0-9A-F]{8}|[0-9A-F]{14}|[0-9A-F]{20})$/;
/** A CCCD number: 12 digits. */
const CCCD = /^\d{12}$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const CRYPTOGRAM = /^[0-9a-f]{64}$/;
/** A card's counter: an unsigned 32-bit number. */
const MAX_COUNTER = 0xffff_ffff;

function uid(value: unknown, field: string, details: ErrorDetail[]): string | undefined {
  const normalised = typeof value === 'string' ? value.toUpperCase() : undefined;
  if (normalised !== undefined && UID.test(normalised)) return normalised;
  details.push({ field, problem: 'must be the card UID: 4, 7 or 10 bytes in hex' });
  return undefined;
}

function cccdNumber(value: unknown, field: string, details: ErrorDetail[]): string | undefined {
  if (typeof value === 'string' && CCCD.test(value)) return value;
  details.push({ field, problem: 'must be the 12 digits of a chip citizen ID card' });
  return undefined;
}

/** A real calendar date, YYYY-MM-DD, not in the future. */
function birthDate(value: unknown, field: string, details: ErrorDetail[]): string | undefined {
  if (typeof value === 'string' && DATE.test(value)) {
    const parsed = new Date(`${value}T00:00:00Z`);
    if (!Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === value && parsed.getTime() <= Date.now()) return value;
  }
  details.push({ field, problem: 'must be a date of birth, YYYY-MM-DD' });
  return undefined;
}

const TRANSIT_CARD_TAP: GateKind<Extract<GateMedium, { kind: 'transit_card' }>> = {
  fields: ['uid', 'counter', 'cryptogram'],
  read(raw, prefix, details) {
    const before = details.length;
    const cardUid = uid(raw.uid, `${prefix}uid`, details);
    const { counter, cryptogram } = raw;
    if (typeof counter !== 'number' || !Number.isInteger(counter) || counter < 0 || counter > MAX_COUNTER) {
      details.push({ field: `${prefix}counter`, problem: `must be a whole number from 0 to ${MAX_COUNTER}` });
    }
    if (typeof cryptogram !== 'string' || !CRYPTOGRAM.test(cryptogram.toLowerCase())) {
      details.push({ field: `${prefix}cryptogram`, problem: 'must be 32 bytes in hex (HMAC-SHA256)' });
    }
    if (details.length > before) return undefined;
    return { kind: 'transit_card', uid: cardUid!, counter: counter as number, cryptogram: (cryptogram as string).toLowerCase() };
  },
  identity: (medium) => medium.uid,
};

const ID_CARD_TAP: GateKind<Extract<GateMedium, { kind: 'id_card' }>> = {
  fields: ['number', 'birthDate'],
  read(raw, prefix, details) {
    const before = details.length;
    const number = cccdNumber(raw.number, `${prefix}number`, details);
    const born = birthDate(raw.birthDate, `${prefix}birthDate`, details);
    if (details.length > before) return undefined;
    return { kind: 'id_card', number: number!, birthDate: born! };
  },
  identity: (medium) => medium.number,
};

/** A bank card's payment account reference or the acquirer's token: never a card number (src/bank-cards). */
const BANK_CARD_TOKEN = /^[A-Za-z0-9_.:-]{16,128}$/;
/** 13 to 19 digits alone look like a card number (PAN): refused, so that none is ever taken in. */
const LOOKS_LIKE_PAN = /^\d{13,19}$/;

const BANK_CARD_TAP: GateKind<Extract<GateMedium, { kind: 'bank_card' }>> = {
  fields: ['token'],
  read(raw, prefix, details) {
    const { token } = raw;
    if (typeof token !== 'string' || !BANK_CARD_TOKEN.test(token) || LOOKS_LIKE_PAN.test(token)) {
      details.push({ field: `${prefix}token`, problem: "must be the card's token (16 to 128 letters, digits or _.:-), never its number" });
      return undefined;
    }
    return { kind: 'bank_card', token };
  },
  identity: (medium) => medium.token,
};

export const GATE_MEDIUM_KINDS: { readonly [K in GateMediumKind]: GateKind<Extract<GateMedium, { kind: K }>> } = {
  transit_card: TRANSIT_CARD_TAP,
  id_card: ID_CARD_TAP,
  bank_card: BANK_CARD_TAP,
};

export const LINK_KINDS: { readonly [K in LinkableKind]: LinkKind<Extract<MediumLink, { kind: K }>> } = {
  app: {
    fields: ['publicKey'],
    read(raw, details) {
      if (typeof raw.publicKey !== 'object' || raw.publicKey === null) {
        details.push({ field: 'publicKey', problem: "must be the phone's P-256 public key as a JWK" });
        return undefined;
      }
      return { kind: 'app', publicKey: raw.publicKey };
    },
  },
  transit_card: {
    fields: ['uid'],
    read(raw, details) {
      const cardUid = uid(raw.uid, 'uid', details);
      return cardUid === undefined ? undefined : { kind: 'transit_card', uid: cardUid };
    },
  },
  id_card: {
    fields: ['number', 'birthDate'],
    read(raw, details) {
      const tap = ID_CARD_TAP.read(raw, '', details);
      return tap && { kind: 'id_card', number: tap.number, birthDate: tap.birthDate };
    },
  },
  bank_card: {
    fields: ['token'],
    read(raw, details) {
      const tap = BANK_CARD_TAP.read(raw, '', details);
      return tap && { kind: 'bank_card', token: tap.token };
    },
  },
};

/** A tap's `medium`: an object with a known gate kind and its fields only. */
export function readGateMedium(raw: unknown, prefix: string, details: ErrorDetail[]): GateMedium | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    details.push({ field: prefix.slice(0, -1), problem: 'must be an object' });
    return undefined;
  }
  const fields = raw as Fields;
  const kind = fields.kind;
  if (typeof kind !== 'string' || !Object.hasOwn(GATE_MEDIUM_KINDS, kind)) {
    details.push({ field: `${prefix}kind`, problem: `must be one of ${Object.keys(GATE_MEDIUM_KINDS).join(', ')}` });
    return undefined;
  }
  const spec = GATE_MEDIUM_KINDS[kind as GateMediumKind];
  const before = details.length;
  for (const field of Object.keys(fields)) if (field !== 'kind' && !spec.fields.includes(field)) details.push({ field: prefix + field, problem: 'is not allowed' });
  const medium = spec.read(fields, prefix, details);
  return details.length > before ? undefined : medium;
}

/** The body of POST /v1/me/media: a known kind and its fields only. */
export function readMediumLink(raw: Fields, details: ErrorDetail[]): MediumLink | undefined {
  const kind = raw.kind as LinkableKind;
  const spec = LINK_KINDS[kind];
  const before = details.length;
  // A DTO instance has every declared field, unset ones undefined.
  for (const field of Object.keys(raw)) if (field !== 'kind' && raw[field] !== undefined && !spec.fields.includes(field)) details.push({ field, problem: `is not allowed for kind ${kind}` });
  const link = spec.read(raw, details);
  return details.length > before ? undefined : link;
}

/** What a rider sees of a medium: never its number, only its last digits. */
export function labelOf(link: CardLink): string {
  switch (link.kind) {
    case 'transit_card':
      return `Thẻ ···${link.uid.slice(-4)}`;
    case 'id_card':
      return `CCCD ···${link.number.slice(-3)}`;
  }
}

/** The identity a link is hashed over: the same as the gate's for the same card. */
export function linkIdentity(link: CardLink): string {
  switch (link.kind) {
    case 'transit_card':
      return link.uid;
    case 'id_card':
      return link.number;
  }
}
