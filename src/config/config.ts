/**
 * Configuration is read from the environment once, at boot, into a typed object.
 * A bad or missing value stops the start with a message naming the variable.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';

export type NodeEnv = 'development' | 'test' | 'production';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface AppConfig {
  readonly nodeEnv: NodeEnv;
  readonly host: string;
  readonly port: number;
  readonly logLevel: LogLevel;
  readonly copies: CopiesConfig;
  /** Largest request body accepted, in bytes; larger ones get 413. */
  readonly bodyLimitBytes: number;
  /** Deepest nesting of arrays and objects a JSON body may have; deeper ones get 400 before they are parsed. */
  readonly jsonMaxDepth: number;
  readonly database: {
    readonly url: string;
    readonly poolSize: number;
    /** Apply pending migrations when the service starts. */
    readonly migrateOnStart: boolean;
  };
  readonly redis: {
    /** The one Redis; for a cluster, its first node. */
    readonly url: string;
    /** A Redis Cluster's seed nodes (REDIS_URL `redis+cluster://…`); null for one Redis. */
    readonly clusterNodes: readonly string[] | null;
  };
  /** Serve GET /docs and GET /docs-json (default on, off in production). */
  readonly docsEnabled: boolean;
  /** GET /metrics answers only `Authorization: Bearer <token>` when set; required in production. */
  readonly metricsToken: string | undefined;
  /**
   * Which proxies may set X-Forwarded-For (Fastify's trustProxy): false, a hop count, or their
   * addresses. Login rate limiting per address depends on it behind a load balancer.
   */
  readonly trustProxy: false | number | string[];
  readonly auth: AuthConfig;
  readonly payments: PaymentsConfig;
  readonly tickets: TicketsConfig;
  readonly gate: GateConfig;
  readonly riders: RidersConfig;
  readonly media: MediaConfig;
  readonly bankCards: BankCardsConfig;
}

/** Bank cards at the gates, their daily charges and debt recovery (src/bank-cards). */
export interface BankCardsConfig {
  /** `dev`: the development acquirer (refused in production); `off`: no acquirer, charges wait. */
  readonly acquirer: 'dev' | 'off';
  /** HMAC-SHA256 key of the acquirer's webhook signatures (undefined: production without an acquirer). */
  readonly acquirerWebhookSecret: string | undefined;
  /**
   * Keys card ids (an HMAC of the token) and seals the tokens the charges need (AES-256-GCM).
   * Undefined only in production without an acquirer: gates then refuse bank cards.
   */
  readonly cardKey: string | undefined;
  /** How often the charge job runs (days that ended, cards at their cap, retries due); 0: never. */
  readonly chargeIntervalSeconds: number;
  /** Hours after the first decline at which a declined charge is tried again: at most this many retries. */
  readonly retryScheduleHours: readonly number[];
  /** Where the development acquirer writes its daily settlement files. */
  readonly acquirerSettlementDir: string;
}

/** Media of an account (src/media): transit cards, chip ID cards, the app's virtual card. */
export interface MediaConfig {
  /** HMAC-SHA256 key of every medium's look-up hash (a CCCD number is kept only as this hash). */
  readonly lookupSecret: string;
  /** Transit cards' master key: a card's key is HMAC-SHA256(master, uid) (README "Media"). */
  readonly transitCardMasterKey: string;
  /** One active card (virtual or physical) per account: linking one replaces the others. */
  readonly oneActiveCard: boolean;
}

/** Several copies of the service: worker processes on one machine, copies on several. */
export interface CopiesConfig {
  /** Worker processes `npm start` runs, sharing the port (src/workers.ts); 1: the service runs in the process itself. */
  readonly workers: number;
  /** How often a copy tries to take the singleton jobs' lease (src/database/leadership.ts), and its holder confirms it. */
  readonly leaderRetrySeconds: number;
}

/** The gate path (validation): journeys, tap idempotency, the tap stream and its persister. */
export interface GateConfig {
  /** A journey left open longer than this is closed (pay-as-you-go: at the line's maximum fare). */
  readonly journeyLimitMinutes: number;
  /** How long a device's tap id is remembered; a repeat within it returns the first verdict. */
  readonly tapMemorySeconds: number;
  readonly streamKey: string;
  /** Subjects are spread over this many shards, each with its own tap stream and open-journey index (one hash slot each on a cluster). */
  readonly shards: number;
  readonly consumerGroup: string;
  /** Taps the persister writes to Postgres in one transaction. */
  readonly persistBatchSize: number;
  /** A pending tap idle this long (its consumer died) is claimed by another consumer. */
  readonly claimIdleSeconds: number;
  /** Rebuild the gate state from Postgres at start when Redis holds none. */
  readonly rebuildOnEmptyRedis: boolean;
  /** Run the tap persister in this process (off for command-line tools, or copies that only answer gates). */
  readonly persisterEnabled: boolean;
  /** Run it in a worker thread of its own rather than on the event loop that answers gates. */
  readonly persisterThread: boolean;
  /**
   * The persister thread's niceness (Linux, 0–19): when cores are short it yields to the thread that
   * answers gates, and catches up from the streams when they are free. 0 leaves it as the process is.
   */
  readonly persisterNice: number;
  /** A tap whose Redis round trip takes longer is answered 503 (the validator keeps it for its offline upload). */
  readonly redisTimeoutMs: number;
  /** An online tap is judged at the server's time; its occurredAt may differ from it by this much at most (else 400). */
  readonly clockToleranceMs: number;
}

/** Journey corrections, inspection (src/journeys, src/inspection). */
export interface RidersConfig {
  /** A rider may claim back a maximum fare this many days after the journey began. */
  readonly claimWindowDays: number;
  /** Claims a rider may make per local calendar month. */
  readonly claimsPerMonth: number;
  /** How often each process looks for maximum-fare journeys to complete automatically; 0: never. */
  readonly completionIntervalSeconds: number;
  /** An open journey entered on the inspected line this recently makes a pay-as-you-go rider VALID. */
  readonly inspectionJourneyMinutes: number;
}

export interface PaymentsConfig {
  /** Where clients reach this service; payment redirect URLs start with it. */
  readonly publicBaseUrl: string;
  /** HMAC-SHA256 key of the payment gateway's webhook signatures. */
  readonly webhookSecret: string;
  /** A payment not confirmed within this many seconds expires. */
  readonly paymentTtlSeconds: number;
  readonly expirySweepSeconds: number;
}

/** An ES256 key for QR tokens; only the first of the list signs, every one verifies. */
export interface QrSigningKey {
  readonly kid: string;
  /** null for a retired key kept only to verify what it signed. */
  readonly privateKey: KeyObject | null;
  readonly publicKey: KeyObject;
}

export interface TicketsConfig {
  /** From QR_SIGNING_KEYS; undefined outside production when unset: a development key is generated into devKeyFile. */
  readonly qrSigningKeys: readonly QrSigningKey[] | undefined;
  readonly qrDevKeyFile: string;
  /** How long an account's pay-as-you-go QR token is valid; the app fetches a fresh one before then. */
  readonly accountQrTtlSeconds: number;
  readonly singleTripValidityHours: number;
  /** A pass starts on a chosen date, or at its first use, at most this many days after purchase. */
  readonly passStartWithinDays: number;
  readonly dynamicQr: DynamicQrConfig;
}

/** The app's dynamic QR (src/tickets/dynamic-qr.ts). */
export interface DynamicQrConfig {
  /** How long a credential for a phone key is valid; the app asks for a new one before then. */
  readonly credentialDays: number;
  /** A code changes every step of this many seconds. */
  readonly stepSeconds: number;
  /** A code is accepted this many steps before or after the gate's own step, else STALE_CODE. */
  readonly windowSteps: number;
}

export interface TokenKey {
  /** The JWT `kid` header naming this key. */
  readonly kid: string;
  readonly secret: string;
}

export interface AuthConfig {
  /** HS256 keys for access tokens: the first signs, every one verifies (rotation). */
  readonly tokenKeys: readonly TokenKey[];
  readonly issuer: string;
  readonly audience: string;
  readonly accessTokenTtlSeconds: number;
  readonly refreshTokenTtlSeconds: number;
  readonly deviceTokenTtlSeconds: number;
  /**
   * Login attempts in one window: per account and address pair (then 429 for that pair only), per
   * account (a ceiling: then 429 for addresses that never logged in to it, a slow answer for those
   * that did), and per address (then 429, whatever the account).
   */
  readonly loginAttemptsPerPair: number;
  readonly loginAttemptsPerAccount: number;
  readonly loginAttemptsPerAddress: number;
  readonly loginWindowSeconds: number;
  /** The longest delay a failing pair, or a known-good address of an account under attack, waits before its answer. */
  readonly loginSlowdownMaxMs: number;
  /** Accounts one address may register in one window before 429. */
  readonly registrationsPerAddress: number;
  readonly registrationWindowSeconds: number;
  /** How often each process reloads the disabled validator devices from Postgres (besides Redis notices). */
  readonly disabledDevicesRefreshSeconds: number;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`Invalid configuration: ${variable} ${problem}`);
    this.name = 'ConfigError';
  }
}

/** Development defaults match the servers `npm run local` starts; they must never reach production. */
export const DEVELOPMENT_DEFAULTS = {
  DATABASE_URL: 'postgres://lienthong:lienthong-dev@127.0.0.1:5433/lienthong',
  REDIS_URL: 'redis://:lienthong-dev-redis@127.0.0.1:6380',
  AUTH_TOKEN_KEYS: 'dev-1:lienthong-dev-access-token-key-do-not-use-in-production',
  PAYMENT_WEBHOOK_SECRET: 'lienthong-dev-payment-webhook-secret-do-not-use-in-production',
  MEDIA_LOOKUP_SECRET: 'lienthong-dev-media-lookup-secret-do-not-use-in-production',
  TRANSIT_CARD_MASTER_KEY: 'lienthong-dev-transit-card-master-key-do-not-use-in-production',
  ACQUIRER_WEBHOOK_SECRET: 'lienthong-dev-acquirer-webhook-secret-do-not-use-in-production',
  BANK_CARD_KEY: 'lienthong-dev-bank-card-key-do-not-use-in-production',
} as const;

/** Secrets that ship in this repository; production refuses to start with any of them. */
const DEVELOPMENT_SECRETS: ReadonlyArray<{ variable: string; secret: string }> = [
  { variable: 'DATABASE_URL', secret: 'lienthong-dev' },
  { variable: 'REDIS_URL', secret: 'lienthong-dev' },
  { variable: 'AUTH_TOKEN_KEYS', secret: 'lienthong-dev-access-token-key' },
  { variable: 'PAYMENT_WEBHOOK_SECRET', secret: 'lienthong-dev-payment-webhook-secret' },
  { variable: 'MEDIA_LOOKUP_SECRET', secret: 'lienthong-dev-media-lookup-secret' },
  { variable: 'TRANSIT_CARD_MASTER_KEY', secret: 'lienthong-dev-transit-card-master-key' },
  { variable: 'ACQUIRER_WEBHOOK_SECRET', secret: 'lienthong-dev-acquirer-webhook-secret' },
  { variable: 'BANK_CARD_KEY', secret: 'lienthong-dev-bank-card-key' },
];

type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const NODE_ENVS: readonly NodeEnv[] = ['development', 'test', 'production'];

export function loadConfig(env: Env = process.env): AppConfig {
  const nodeEnv = oneOf(env, 'NODE_ENV', NODE_ENVS, 'development');
  const production = nodeEnv === 'production';
  const acquirerKind = acquirer(env, 'ACQUIRER', production);
  const config: AppConfig = {
    nodeEnv,
    host: text(env, 'HOST', '0.0.0.0'),
    port: integer(env, 'PORT', 3000, 0, 65535),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, nodeEnv === 'test' ? 'silent' : 'info'),
    copies: {
      workers: integer(env, 'WORKERS', availableParallelism(), 1, 256),
      leaderRetrySeconds: integer(env, 'LEADER_RETRY_SECONDS', 5, 1, 300),
    },
    bodyLimitBytes: integer(env, 'BODY_LIMIT_BYTES', 256 * 1024, 1024, 16 * 1024 * 1024),
    jsonMaxDepth: integer(env, 'JSON_MAX_DEPTH', 32, 2, 1000),
    database: {
      url: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:'], production ? undefined : DEVELOPMENT_DEFAULTS.DATABASE_URL),
      poolSize: integer(env, 'DATABASE_POOL_SIZE', 10, 1, 200),
      migrateOnStart: boolean(env, 'DATABASE_MIGRATE_ON_START', true),
    },
    redis: redisConfig(env, production ? undefined : DEVELOPMENT_DEFAULTS.REDIS_URL),
    docsEnabled: boolean(env, 'DOCS_ENABLED', !production),
    metricsToken: optionalSecret(env, 'METRICS_TOKEN', production),
    trustProxy: trustProxy(env, 'TRUST_PROXY'),
    auth: {
      tokenKeys: tokenKeys(env, 'AUTH_TOKEN_KEYS', production ? undefined : DEVELOPMENT_DEFAULTS.AUTH_TOKEN_KEYS),
      issuer: text(env, 'AUTH_TOKEN_ISSUER', 'lien-thong'),
      audience: text(env, 'AUTH_TOKEN_AUDIENCE', 'lien-thong-api'),
      accessTokenTtlSeconds: integer(env, 'AUTH_ACCESS_TOKEN_TTL_SECONDS', 15 * 60, 60, 60 * 60),
      refreshTokenTtlSeconds: integer(env, 'AUTH_REFRESH_TOKEN_TTL_SECONDS', 30 * 24 * 3600, 3600, 90 * 24 * 3600),
      deviceTokenTtlSeconds: integer(env, 'DEVICE_TOKEN_TTL_SECONDS', 3600, 60, 24 * 3600),
      loginAttemptsPerPair: integer(env, 'LOGIN_ATTEMPTS_PER_PAIR', 5, 1, 1000),
      loginAttemptsPerAccount: integer(env, 'LOGIN_ATTEMPTS_PER_ACCOUNT', 50, 1, 100_000),
      loginAttemptsPerAddress: integer(env, 'LOGIN_ATTEMPTS_PER_ADDRESS', 100, 1, 100_000),
      loginWindowSeconds: integer(env, 'LOGIN_WINDOW_SECONDS', 15 * 60, 1, 24 * 3600),
      loginSlowdownMaxMs: integer(env, 'LOGIN_SLOWDOWN_MAX_MS', 2_000, 0, 30_000),
      // Test suites register many accounts from one loopback address; the tests of the limit set it.
      registrationsPerAddress: integer(env, 'REGISTRATIONS_PER_ADDRESS', nodeEnv === 'test' ? 10_000 : 10, 1, 100_000),
      registrationWindowSeconds: integer(env, 'REGISTRATION_WINDOW_SECONDS', 3600, 1, 7 * 24 * 3600),
      disabledDevicesRefreshSeconds: integer(env, 'DISABLED_DEVICES_REFRESH_SECONDS', 60, 1, 3600),
    },
    payments: {
      publicBaseUrl: url(env, 'PUBLIC_BASE_URL', ['http:', 'https:'], 'http://localhost:3000').replace(/\/+$/, ''),
      webhookSecret: secret(env, 'PAYMENT_WEBHOOK_SECRET', production ? undefined : DEVELOPMENT_DEFAULTS.PAYMENT_WEBHOOK_SECRET),
      paymentTtlSeconds: integer(env, 'PAYMENT_TTL_SECONDS', 15 * 60, 60, 24 * 3600),
      expirySweepSeconds: integer(env, 'PAYMENT_EXPIRY_SWEEP_SECONDS', 60, 1, 3600),
    },
    tickets: {
      qrSigningKeys: qrSigningKeys(env, 'QR_SIGNING_KEYS', production),
      qrDevKeyFile: resolve(text(env, 'QR_DEV_KEY_FILE', join(raw(env, 'LOCAL_DATA_DIR') ?? join(__dirname, '..', '..', '.local'), 'qr-dev-signing-key.pem'))),
      accountQrTtlSeconds: integer(env, 'QR_ACCOUNT_TOKEN_TTL_SECONDS', 24 * 3600, 300, 30 * 24 * 3600),
      singleTripValidityHours: integer(env, 'SINGLE_TRIP_VALIDITY_HOURS', 24, 1, 24 * 366),
      passStartWithinDays: integer(env, 'PASS_START_WITHIN_DAYS', 30, 1, 366),
      dynamicQr: {
        credentialDays: integer(env, 'DYNAMIC_QR_CREDENTIAL_DAYS', 30, 1, 366),
        stepSeconds: integer(env, 'DYNAMIC_QR_STEP_SECONDS', 15, 5, 300),
        windowSteps: integer(env, 'DYNAMIC_QR_WINDOW_STEPS', 2, 0, 20),
      },
    },
    gate: {
      journeyLimitMinutes: integer(env, 'GATE_JOURNEY_LIMIT_MINUTES', 180, 10, 24 * 60),
      tapMemorySeconds: integer(env, 'GATE_TAP_MEMORY_SECONDS', 3 * 24 * 3600, 60, 30 * 24 * 3600),
      streamKey: text(env, 'GATE_TAP_STREAM', 'gate:taps'),
      shards: integer(env, 'GATE_SHARDS', 16, 1, 4096),
      consumerGroup: text(env, 'GATE_TAP_CONSUMER_GROUP', 'tap-persister'),
      persistBatchSize: integer(env, 'GATE_PERSIST_BATCH_SIZE', 500, 1, 10_000),
      claimIdleSeconds: integer(env, 'GATE_CLAIM_IDLE_SECONDS', 30, 1, 3600),
      rebuildOnEmptyRedis: boolean(env, 'GATE_REBUILD_ON_EMPTY_REDIS', true),
      persisterEnabled: boolean(env, 'GATE_PERSISTER_ENABLED', true),
      persisterThread: boolean(env, 'GATE_PERSISTER_THREAD', true),
      persisterNice: integer(env, 'GATE_PERSISTER_NICE', 10, 0, 19),
      redisTimeoutMs: integer(env, 'GATE_REDIS_TIMEOUT_MS', 1_000, 50, 30_000),
      clockToleranceMs: integer(env, 'GATE_CLOCK_TOLERANCE_SECONDS', 120, 0, 3600) * 1000,
    },
    riders: {
      claimWindowDays: integer(env, 'JOURNEY_CLAIM_WINDOW_DAYS', 56, 1, 366),
      claimsPerMonth: integer(env, 'JOURNEY_CLAIMS_PER_MONTH', 3, 0, 100),
      completionIntervalSeconds: integer(env, 'JOURNEY_COMPLETION_INTERVAL_SECONDS', 300, 0, 24 * 3600),
      inspectionJourneyMinutes: integer(env, 'INSPECTION_JOURNEY_MINUTES', 180, 1, 24 * 60),
    },
    media: {
      lookupSecret: secret(env, 'MEDIA_LOOKUP_SECRET', production ? undefined : DEVELOPMENT_DEFAULTS.MEDIA_LOOKUP_SECRET),
      transitCardMasterKey: secret(env, 'TRANSIT_CARD_MASTER_KEY', production ? undefined : DEVELOPMENT_DEFAULTS.TRANSIT_CARD_MASTER_KEY),
      oneActiveCard: boolean(env, 'MEDIA_ONE_ACTIVE_CARD', true),
    },
    bankCards: {
      acquirer: acquirerKind,
      acquirerWebhookSecret: bankCardSecret(env, 'ACQUIRER_WEBHOOK_SECRET', production, acquirerKind, DEVELOPMENT_DEFAULTS.ACQUIRER_WEBHOOK_SECRET),
      cardKey: bankCardSecret(env, 'BANK_CARD_KEY', production, acquirerKind, DEVELOPMENT_DEFAULTS.BANK_CARD_KEY),
      chargeIntervalSeconds: integer(env, 'BANK_CARD_CHARGE_INTERVAL_SECONDS', nodeEnv === 'test' ? 0 : 300, 0, 24 * 3600),
      retryScheduleHours: retrySchedule(env, 'BANK_CARD_RETRY_HOURS', [24, 48, 96, 168, 240, 336]),
      acquirerSettlementDir: resolve(text(env, 'ACQUIRER_SETTLEMENT_DIR', join(raw(env, 'LOCAL_DATA_DIR') ?? join(__dirname, '..', '..', '.local'), 'acquirer'))),
    },
  };
  if (production) {
    for (const { variable, secret } of DEVELOPMENT_SECRETS) {
      if ((env[variable] ?? '').includes(secret)) {
        throw new ConfigError(variable, 'holds a development secret; set a production value');
      }
    }
  }
  return config;
}

function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function required(name: string, fallback: string | undefined, value: string | undefined): string {
  if (value !== undefined) return value;
  if (fallback !== undefined) return fallback;
  throw new ConfigError(name, 'is required');
}

function text(env: Env, name: string, fallback?: string): string {
  return required(name, fallback, raw(env, name));
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!/^-?\d+$/.test(value)) throw new ConfigError(name, `must be a whole number, got "${value}"`);
  const parsed = Number(value);
  if (parsed < min || parsed > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${parsed}`);
  return parsed;
}

function boolean(env: Env, name: string, fallback: boolean): boolean {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (/^(true|1|yes|on)$/i.test(value)) return true;
  if (/^(false|0|no|off)$/i.test(value)) return false;
  throw new ConfigError(name, `must be true or false, got "${value}"`);
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(value)) {
    throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${value}"`);
  }
  return value as T;
}

/** `kid:secret` pairs separated by commas; secrets of at least 32 characters, kids unique. */
function tokenKeys(env: Env, name: string, fallback?: string): TokenKey[] {
  return kidPairs(name, required(name, fallback, raw(env, name)), 'secret').map(({ kid, value: secret }) => {
    if (secret.length < 32) throw new ConfigError(name, `has a secret shorter than 32 characters for kid "${kid}"`);
    return { kid, secret };
  });
}

/** A comma-separated list of `kid:value` pairs, kids of letters, digits, ".", "_" or "-", each named once. */
function kidPairs(name: string, list: string, valueName: string): Array<{ kid: string; value: string }> {
  const pairs = list.split(',').map((pair) => {
    const separator = pair.indexOf(':');
    const kid = pair.slice(0, separator).trim();
    if (separator < 1 || !/^[A-Za-z0-9._-]{1,64}$/.test(kid)) {
      throw new ConfigError(name, `must be a comma-separated list of kid:${valueName} pairs (kid of letters, digits, ".", "_" or "-")`);
    }
    return { kid, value: pair.slice(separator + 1).trim() };
  });
  if (new Set(pairs.map((pair) => pair.kid)).size !== pairs.length) throw new ConfigError(name, 'names a kid twice');
  return pairs;
}

/** A secret of at least 32 characters that may be left unset, except where `required`. */
function optionalSecret(env: Env, name: string, isRequired: boolean): string | undefined {
  if (raw(env, name) === undefined && !isRequired) return undefined;
  return secret(env, name);
}

function secret(env: Env, name: string, fallback?: string): string {
  const value = required(name, fallback, raw(env, name));
  if (value.length < 32) throw new ConfigError(name, 'must be at least 32 characters');
  return value;
}

/**
 * `kid:key` pairs separated by commas, each key base64 DER: a PKCS#8 EC P-256 private key, or for a
 * retired key an SPKI public key. The first must be private: it signs.
 */
function qrSigningKeys(env: Env, name: string, production: boolean): QrSigningKey[] | undefined {
  const value = raw(env, name);
  if (value === undefined) {
    if (production) throw new ConfigError(name, 'is required');
    return undefined;
  }
  const keys = kidPairs(name, value, 'base64-DER').map(({ kid, value: encoded }): QrSigningKey => {
    const der = Buffer.from(encoded, 'base64');
    let privateKey: KeyObject | null = null;
    let publicKey: KeyObject;
    try {
      privateKey = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
      publicKey = createPublicKey(privateKey);
    } catch {
      try {
        publicKey = createPublicKey({ key: der, format: 'der', type: 'spki' });
      } catch {
        throw new ConfigError(name, `has a key for kid "${kid}" that is neither a PKCS#8 private key nor an SPKI public key`);
      }
    }
    if (publicKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') throw new ConfigError(name, `has a key for kid "${kid}" that is not EC P-256 (ES256)`);
    return { kid, privateKey, publicKey };
  });
  if (!keys[0]?.privateKey) throw new ConfigError(name, 'must start with a private key: the first key signs');
  return keys;
}

/** `dev` (the default outside production) or `off` (production's default: `dev` is refused there). */
function acquirer(env: Env, name: string, production: boolean): 'dev' | 'off' {
  const value = oneOf(env, name, ['dev', 'off'] as const, production ? 'off' : 'dev');
  if (production && value === 'dev') throw new ConfigError(name, 'is dev, the development acquirer, which production refuses');
  return value;
}

/** Outside production a development default; in production required once an acquirer is set, optional without one. */
function bankCardSecret(env: Env, name: string, production: boolean, acquirerKind: 'dev' | 'off', development: string): string | undefined {
  if (!production) return secret(env, name, development);
  return optionalSecret(env, name, acquirerKind !== 'off');
}

/** Hours after a decline, comma-separated, rising, at most 6 and within 14 days (336 h). */
function retrySchedule(env: Env, name: string, fallback: readonly number[]): number[] {
  const value = raw(env, name);
  if (value === undefined) return [...fallback];
  if (value === 'none') return [];
  const hours = value.split(',').map((part) => part.trim());
  if (hours.some((hour) => !/^\d{1,3}$/.test(hour))) throw new ConfigError(name, `must be whole hours separated by commas (or none), got "${value}"`);
  const numbers = hours.map(Number);
  if (numbers.length > 6) throw new ConfigError(name, 'holds more than 6 retries');
  if (numbers.some((hour, index) => hour < 1 || hour > 336 || (index > 0 && hour <= numbers[index - 1]))) {
    throw new ConfigError(name, 'must rise, each between 1 and 336 hours (14 days) after the decline');
  }
  return numbers;
}

/** false (the default), a number of proxy hops, or a comma-separated list of proxy addresses or CIDRs. */
function trustProxy(env: Env, name: string): false | number | string[] {
  const value = raw(env, name);
  if (value === undefined || /^(false|0|no|off)$/i.test(value)) return false;
  if (/^\d+$/.test(value)) return Number(value);
  const addresses = value.split(',').map((address) => address.trim());
  if (addresses.some((address) => !/^[0-9a-fA-F.:]+(\/\d{1,3})?$/.test(address))) {
    throw new ConfigError(name, `must be false, a number of hops, or proxy addresses, got "${value}"`);
  }
  return addresses;
}

/**
 * REDIS_URL: `redis://…` (or `rediss://`) names one Redis; `redis+cluster://[user:password@]host:port,host:port…`
 * (or `rediss+cluster://`) names a Redis Cluster by some of its nodes, each then given as a URL of its own.
 */
function redisConfig(env: Env, fallback: string | undefined): AppConfig['redis'] {
  const value = required('REDIS_URL', fallback, raw(env, 'REDIS_URL'));
  const cluster = /^(rediss?)\+cluster:\/\/(?:([^@/]*)@)?([^/?#]+)(.*)$/.exec(value);
  if (!cluster) return { url: url(env, 'REDIS_URL', ['redis:', 'rediss:'], fallback), clusterNodes: null };
  const [, scheme, credentials, hosts, rest] = cluster;
  const clusterNodes = hosts.split(',').map((host) => `${scheme}://${credentials ? `${credentials}@` : ''}${host}${rest}`);
  for (const node of clusterNodes) url({ REDIS_URL: node }, 'REDIS_URL', ['redis:', 'rediss:']);
  return { url: clusterNodes[0], clusterNodes };
}

function url(env: Env, name: string, protocols: readonly string[], fallback?: string): string {
  const value = required(name, fallback, raw(env, name));
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError(name, 'is not a valid URL');
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `must start with ${protocols.map((p) => `${p}//`).join(' or ')}`);
  }
  return value;
}
