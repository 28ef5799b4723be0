import { availableParallelism } from 'node:os';
import { ConfigError, DEVELOPMENT_DEFAULTS, loadConfig } from './config';
import { PRODUCTION_ENV } from '../../test/support/production-env';

describe('loadConfig', () => {
  it('gives safe development defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      nodeEnv: 'development',
      port: 3000,
      logLevel: 'info',
      copies: { workers: availableParallelism(), leaderRetrySeconds: 5 },
      database: { url: DEVELOPMENT_DEFAULTS.DATABASE_URL, migrateOnStart: true },
      redis: { url: DEVELOPMENT_DEFAULTS.REDIS_URL },
    });
  });

  it('reads a Redis Cluster from redis+cluster://, every node with the credentials and TLS of the URL', () => {
    expect(loadConfig({ REDIS_URL: 'redis+cluster://:secret@10.0.0.1:7000,10.0.0.2:7001' }).redis).toEqual({
      url: 'redis://:secret@10.0.0.1:7000',
      clusterNodes: ['redis://:secret@10.0.0.1:7000', 'redis://:secret@10.0.0.2:7001'],
    });
    expect(loadConfig({ REDIS_URL: 'rediss+cluster://cache-a:6379' }).redis.clusterNodes).toEqual(['rediss://cache-a:6379']);
    expect(loadConfig({ REDIS_URL: 'redis://cache:6379' }).redis.clusterNodes).toBeNull();
    expect(() => loadConfig({ REDIS_URL: 'redis+cluster://10.0.0.1:7000,:bad port' })).toThrow(ConfigError);
    expect(loadConfig({ GATE_SHARDS: '64' }).gate.shards).toBe(64);
    expect(() => loadConfig({ GATE_SHARDS: '0' })).toThrow(ConfigError);
  });

  it('reads and converts every variable', () => {
    const config = loadConfig({
      NODE_ENV: 'test',
      PORT: '8080',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'debug',
      BODY_LIMIT_BYTES: '2048',
      DATABASE_URL: 'postgresql://u:p@db:5432/x',
      DATABASE_POOL_SIZE: '25',
      DATABASE_MIGRATE_ON_START: 'false',
      REDIS_URL: 'rediss://cache:6379',
      DOCS_ENABLED: 'no',
      WORKERS: '4',
      LEADER_RETRY_SECONDS: '2',
    });
    expect(config).toMatchObject({
      nodeEnv: 'test',
      host: '127.0.0.1',
      port: 8080,
      logLevel: 'debug',
      bodyLimitBytes: 2048,
      copies: { workers: 4, leaderRetrySeconds: 2 },
      database: { url: 'postgresql://u:p@db:5432/x', poolSize: 25, migrateOnStart: false },
      redis: { url: 'rediss://cache:6379' },
      docsEnabled: false,
    });
  });

  it.each([
    [{ PORT: 'eighty' }, 'PORT', 'must be a whole number'],
    [{ PORT: '70000' }, 'PORT', 'must be between 0 and 65535'],
    [{ PORT: '3000.5' }, 'PORT', 'must be a whole number'],
    [{ NODE_ENV: 'staging' }, 'NODE_ENV', 'must be one of development, test, production'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', 'must be one of'],
    [{ DATABASE_URL: 'not a url' }, 'DATABASE_URL', 'is not a valid URL'],
    [{ DATABASE_URL: 'mysql://u:p@h/db' }, 'DATABASE_URL', 'must start with postgres://'],
    [{ REDIS_URL: 'http://cache' }, 'REDIS_URL', 'must start with redis://'],
    [{ DOCS_ENABLED: 'maybe' }, 'DOCS_ENABLED', 'must be true or false'],
    [{ BODY_LIMIT_BYTES: '10' }, 'BODY_LIMIT_BYTES', 'must be between'],
    [{ WORKERS: '0' }, 'WORKERS', 'must be between 1 and 256'],
    [{ LEADER_RETRY_SECONDS: 'soon' }, 'LEADER_RETRY_SECONDS', 'must be a whole number'],
  ])('stops on %p naming %s', (env, variable, problem) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(new RegExp(`^Invalid configuration: ${variable} ${problem}`));
  });

  describe('in production', () => {
    const production = PRODUCTION_ENV;

    it('starts with production values', () => {
      expect(loadConfig(production).nodeEnv).toBe('production');
    });

    it('serves no API docs unless DOCS_ENABLED says so', () => {
      expect(loadConfig(production).docsEnabled).toBe(false);
      expect(loadConfig({ ...production, DOCS_ENABLED: 'true' }).docsEnabled).toBe(true);
      expect(loadConfig({}).docsEnabled).toBe(true);
    });

    it('requires a metrics token of at least 32 characters', () => {
      expect(loadConfig(production).metricsToken).toBe(production.METRICS_TOKEN);
      expect(() => loadConfig({ ...production, METRICS_TOKEN: undefined })).toThrow('Invalid configuration: METRICS_TOKEN is required');
      expect(() => loadConfig({ ...production, METRICS_TOKEN: 'short' })).toThrow('METRICS_TOKEN must be at least 32 characters');
      expect(loadConfig({}).metricsToken).toBeUndefined();
    });

    it('has no default database or Redis', () => {
      expect(() => loadConfig({ ...production, DATABASE_URL: '' })).toThrow('DATABASE_URL is required');
      expect(() => loadConfig({ ...production, REDIS_URL: undefined })).toThrow('REDIS_URL is required');
    });

    it('refuses the development database password', () => {
      expect(() => loadConfig({ ...production, DATABASE_URL: DEVELOPMENT_DEFAULTS.DATABASE_URL })).toThrow(
        'DATABASE_URL holds a development secret',
      );
    });
  });
});
