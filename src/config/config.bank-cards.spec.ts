import { loadConfig } from './config';
import { PRODUCTION_ENV } from '../../test/support/production-env';

const PRODUCTION = { ...PRODUCTION_ENV, DATABASE_URL: 'postgres://app:a-real-password@db:5432/lienthong', REDIS_URL: 'redis://:a-real-password@cache:6379' };

describe('loadConfig: bank cards', () => {
  it('uses the development acquirer outside production, and refuses it in production', () => {
    expect(loadConfig({}).bankCards).toMatchObject({ acquirer: 'dev', chargeIntervalSeconds: 300, retryScheduleHours: [24, 48, 96, 168, 240, 336] });
    expect(loadConfig({ NODE_ENV: 'test' }).bankCards.chargeIntervalSeconds).toBe(0);
    expect(loadConfig(PRODUCTION).bankCards).toMatchObject({ acquirer: 'off', cardKey: undefined, acquirerWebhookSecret: undefined });
    expect(() => loadConfig({ ...PRODUCTION, ACQUIRER: 'dev' })).toThrow('Invalid configuration: ACQUIRER is dev, the development acquirer, which production refuses');
    expect(() => loadConfig({ ...PRODUCTION, BANK_CARD_KEY: 'lienthong-dev-bank-card-key-do-not-use-in-production' })).toThrow('BANK_CARD_KEY holds a development secret');
    expect(() => loadConfig({ ACQUIRER: 'visa' })).toThrow('ACQUIRER must be one of dev, off');
  });

  it('reads the retry schedule: rising hours, at most 6, within 14 days', () => {
    expect(loadConfig({ BANK_CARD_RETRY_HOURS: '12, 36' }).bankCards.retryScheduleHours).toEqual([12, 36]);
    expect(loadConfig({ BANK_CARD_RETRY_HOURS: 'none' }).bankCards.retryScheduleHours).toEqual([]);
    expect(() => loadConfig({ BANK_CARD_RETRY_HOURS: '1,2,3,4,5,6,7' })).toThrow('BANK_CARD_RETRY_HOURS holds more than 6 retries');
    expect(() => loadConfig({ BANK_CARD_RETRY_HOURS: '48,24' })).toThrow('BANK_CARD_RETRY_HOURS must rise');
    expect(() => loadConfig({ BANK_CARD_RETRY_HOURS: '400' })).toThrow('BANK_CARD_RETRY_HOURS must rise, each between 1 and 336');
    expect(() => loadConfig({ BANK_CARD_RETRY_HOURS: 'daily' })).toThrow('BANK_CARD_RETRY_HOURS must be whole hours');
  });
});
