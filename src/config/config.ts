/**
 * Configuration is read from the environment once, at boot, into a typed object.
 * A bad or missing value stops the start with a message naming the variable.
 */

export type NodeEnv = 'development' | 'test' | 'production';
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface AppConfig {
  readonly nodeEnv: NodeEnv;
  readonly host: string;
  readonly port: number;
  readonly logLevel: LogLevel;
  /** Largest request body accepted, in bytes; larger ones get 413. */
  readonly bodyLimitBytes: number;
  readonly database: {
    readonly url: string;
    readonly poolSize: number;
    /** Apply pending migrations when the service starts. */
    readonly migrateOnStart: boolean;
  };
  readonly redis: {
    readonly url: string;
  };
  /** Serve GET /docs and GET /docs-json. */
  readonly docsEnabled: boolean;
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
  REDIS_URL: 'redis://127.0.0.1:6380',
} as const;

/** Secrets that ship in this repository; production refuses to start with any of them. */
const DEVELOPMENT_SECRETS: ReadonlyArray<{ variable: string; secret: string }> = [
  { variable: 'DATABASE_URL', secret: 'lienthong-dev' },
];

type Env = Readonly<Record<string, string | undefined>>;

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const NODE_ENVS: readonly NodeEnv[] = ['development', 'test', 'production'];

export function loadConfig(env: Env = process.env): AppConfig {
  const nodeEnv = oneOf(env, 'NODE_ENV', NODE_ENVS, 'development');
  const production = nodeEnv === 'production';
  const config: AppConfig = {
    nodeEnv,
    host: text(env, 'HOST', '0.0.0.0'),
    port: integer(env, 'PORT', 3000, 0, 65535),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, nodeEnv === 'test' ? 'silent' : 'info'),
    bodyLimitBytes: integer(env, 'BODY_LIMIT_BYTES', 256 * 1024, 1024, 16 * 1024 * 1024),
    database: {
      url: url(env, 'DATABASE_URL', ['postgres:', 'postgresql:'], production ? undefined : DEVELOPMENT_DEFAULTS.DATABASE_URL),
      poolSize: integer(env, 'DATABASE_POOL_SIZE', 10, 1, 200),
      migrateOnStart: boolean(env, 'DATABASE_MIGRATE_ON_START', true),
    },
    redis: {
      url: url(env, 'REDIS_URL', ['redis:', 'rediss:'], production ? undefined : DEVELOPMENT_DEFAULTS.REDIS_URL),
    },
    docsEnabled: boolean(env, 'DOCS_ENABLED', true),
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
