import fc from 'fast-check';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { capCharge } from '../../src/fares/domain/fare-calculator';
import {
  CARD_FIELDS,
  GATE_ARGS,
  MEDIUM_ARGS,
  MEDIUM_FIELDS,
  OUTCOME_FIELDS,
  SPEND_FIELD,
  TAP_EVENT_FIELDS,
  TICKET_STATE_FIELDS,
  TRIP_FIELDS,
  UNDO_ARGS,
  WALLET_FIELDS,
  GateKeys,
  luaPrelude,
  spendField,
} from '../../src/gate-state/gate-state';
import { LuaScript } from '../../src/redis/lua-script';
import { RedisService } from '../../src/redis/redis.service';
import { REASON_CODES } from '../../src/validation/reason-codes';
import { gateArguments, keysFor, parseOutcome, type GateCall } from '../../src/gate-state/gate-script';
import { testConfig } from '../support/test-app';

const GATE_STATE = join(__dirname, '..', '..', 'src', 'gate-state');
const SCRIPTS = ['gate.lua', 'undo-tap.lua', 'restore-spend.lua', 'move-wallet-balance.lua', 'spend-wallet-balance.lua', 'release-wallet-movement.lua', 'medium.lua', 'lower-spend.lua', 'index-account-pass.lua', 'raise-medium-counter.lua'];
const source = (name: string) => readFileSync(join(GATE_STATE, name), 'utf8');
/** Lua without its comments. */
const code = (lua: string) => lua.replace(/--.*$/gm, '');

/** Every string a gate script may spell out itself: Redis commands, verdicts, reasons, kinds, directions, states. Field names are not among them. */
const ALLOWED_LITERALS = new Set<string>([
  ...['GET', 'SET', 'EX', 'NX', 'HGET', 'HMGET', 'HSET', 'HINCRBY', 'HKEYS', 'HDEL', 'HLEN', 'PEXPIRE', 'DEL', 'ZREM', 'ZADD', 'XADD', 'EXISTS', 'HGETALL', 'PEXPIREAT', '*'],
  ...['accept', 'reject', 'tap', 'timeout', 'entry', 'exit', 'closed', 'open', 'single', 'pass', 'payg', 'free', 'active', 'fixed', '1', '0', '', ':', 'a:', 't:', 'm:'],
  // medium.lua: a medium's status and what its counter says.
  ...['blocked', 'clone', 'none', 'ok', 'replay', '-1'],
  // gate.lua: a bank card, its tag and its deny-list status (CARD_FIELDS status).
  ...['bank_card', 'c:', 'denied'],
  ...REASON_CODES,
  '^(%a+:)(%-?%d+)$',
]);

describe('the gate state has one definition (src/gate-state/gate-state.ts)', () => {
  it('gate scripts name arguments and hash fields only through the generated prelude', () => {
    const names = {
      A: new Set<string>([...GATE_ARGS, 'dayCaps', 'weekCaps', 'faresToHere']),
      U: new Set<string>([...UNDO_ARGS, 'recordedAnswer']),
      TICKET: new Set<string>(TICKET_STATE_FIELDS),
      WALLET: new Set<string>(WALLET_FIELDS),
      TRIP: new Set<string>(TRIP_FIELDS),
      SPEND: new Set<string>(Object.keys(SPEND_FIELD)),
      MEDIUM: new Set<string>(MEDIUM_FIELDS),
      CARD: new Set<string>(CARD_FIELDS),
      MA: new Set<string>(MEDIUM_ARGS),
    };
    for (const script of SCRIPTS) {
      const lua = code(source(script));
      if (script === 'gate.lua' || script === 'undo-tap.lua') expect(lua).not.toMatch(/ARGV\[\d/);
      for (const [table, allowed] of Object.entries(names)) {
        for (const match of lua.matchAll(new RegExp(`\\b${table}\\.(\\w+)`, 'g'))) expect({ script, name: `${table}.${match[1]}`, known: allowed.has(match[1]) }).toEqual({ script, name: `${table}.${match[1]}`, known: true });
      }
      for (const match of lua.matchAll(/'([^']*)'/g)) expect({ script, literal: match[1], allowed: ALLOWED_LITERALS.has(match[1]) }).toEqual({ script, literal: match[1], allowed: true });
    }
  });

  it("gate.lua's answers and events carry exactly the defined fields", () => {
    const lua = code(source('gate.lua'));
    const tableKeys = (call: string) =>
      [...lua.matchAll(new RegExp(`${call}\\(\\{([^}]*)\\}`, 'g'))].map((match) => [...match[1].matchAll(/(\w+) =/g)].map((key) => key[1]));
    const outcomes = tableKeys('encode_outcome');
    expect(outcomes.length).toBeGreaterThanOrEqual(2);
    for (const keys of outcomes) for (const key of keys) expect(OUTCOME_FIELDS).toContain(key);
    const events = tableKeys('append');
    expect(events.length).toBe(2);
    for (const keys of events) for (const key of keys) expect(TAP_EVENT_FIELDS).toContain(key);
    // A tap event is complete: every field but none of the timeout-only ones missing.
    expect(new Set(events.flat())).toEqual(new Set(TAP_EVENT_FIELDS));
  });

  it('builds every argument gate.lua reads, and parses its answer field by field', () => {
    const call: GateCall = {
      at: 1,
      direction: 'exit',
      kind: 'payg',
      subjectId: 'acc',
      nodeReason: '',
      deviceId: 'dev',
      tapId: 'tap',
      stationId: 'st',
      lineId: 'ln',
      modeBit: 1,
      journeyId: '',
      offline: false,
      riderCategory: 'adult',
      fares: { dayNumber: 2, weekNumber: 3, maxFare: 4, maxFullFare: 5, dayCaps: [-1, 1, 2, 3, 4, 5, 6, 7], weekCaps: [-1, 1, 2, 3, 4, 5, 6, 7], faresToHere: ['a', '1', '2'] },
    };
    for (const variant of [call, { ...call, kind: 'pass' as const, fares: undefined }]) {
      const args = gateArguments(variant, '60', '1000');
      expect(args.every((value) => typeof value === 'string')).toBe(true);
      expect(args.length).toBeGreaterThanOrEqual(GATE_ARGS.length + 14);
    }
    const keys = new GateKeys({ shards: 16, streamKey: 'stream' });
    const shard = keys.shardOfSubject('payg', 'acc');
    const inSlot = [keys.wallet('acc'), keys.trip('payg', 'acc'), keys.tapMemory('payg', 'acc', 'dev', 'tap'), keys.spend('payg', 'acc'), keys.tapStream(shard), keys.openJourneys(shard)];
    expect(keysFor(call, keys, false)).toEqual(inSlot);
    expect(new Set(inSlot.map((key) => /^\{[^}]*\}/.exec(key)?.[0]))).toEqual(new Set([`{g${shard}}`]));
    expect(keysFor(call, keys, true)).toEqual([...inSlot, keys.tapClaim('dev', 'tap')]);
    const answer = OUTCOME_FIELDS.map((field) => ({ verdict: 'accept', reason: 'OK', valid: '1', charge: '7', balance: '93', jid: 'j', fare: '9' })[field]).join('|');
    expect(parseOutcome(answer)).toEqual({ verdict: 'accept', reason: 'OK', valid: true, charge: 7, balance: 93, journeyId: 'j', fare: 9 });
  });

  describe('gate.lua caps as FareCalculator does (capCharge)', () => {
    const redis = new RedisService(testConfig());
    const gate = LuaScript.fromFile(join(GATE_STATE, 'gate.lua'), luaPrelude());
    const keys = new GateKeys({ shards: 4, streamKey: `gate-state-spec:${randomUUID()}` });
    beforeAll(() => redis.onModuleInit());
    afterAll(async () => {
      for (const shard of keys.allShards()) await redis.client.del(keys.tapStream(shard));
      await redis.onModuleDestroy();
    });

    const cap = fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 300_000 }));
    it('charges what capCharge says for any spend, caps and fare', async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.record({
            amount: fc.integer({ min: 0, max: 60_000 }),
            daySpent: fc.integer({ min: 0, max: 200_000 }),
            weekSpent: fc.integer({ min: 0, max: 400_000 }),
            dayModes: fc.integer({ min: 0, max: 7 }),
            weekModes: fc.integer({ min: 0, max: 7 }),
            legBit: fc.constantFrom(1, 2, 4),
            dayCaps: fc.array(cap, { minLength: 7, maxLength: 7 }),
            weekCaps: fc.array(cap, { minLength: 7, maxLength: 7 }),
            day: fc.integer({ min: 20_000, max: 21_000 }),
          }),
          async ({ amount, daySpent, weekSpent, dayModes, weekModes, legBit, dayCaps, weekCaps, day }) => {
            const accountId = randomUUID();
            const week = Math.floor((day + 3) / 7);
            const at = Date.now();
            await redis.client.hSet(keys.wallet(accountId), { balance: '1000000', status: 'active' });
            await redis.client.hSet(keys.trip('payg', accountId), { jid: randomUUID(), st: 'from', ln: 'line', at: String(at), bit: String(legBit), max: '99999', full: '99999', cat: 'adult' });
            await redis.client.hSet(keys.spend('payg', accountId), {
              [spendField('daySpent', day)]: daySpent,
              [spendField('dayModes', day)]: dayModes,
              [spendField('weekSpent', week)]: weekSpent,
              [spendField('weekModes', week)]: weekModes,
            });
            const call: GateCall = {
              at,
              direction: 'exit',
              kind: 'payg',
              subjectId: accountId,
              nodeReason: '',
              deviceId: 'spec',
              tapId: randomUUID(),
              stationId: 'to',
              lineId: 'line',
              modeBit: legBit,
              journeyId: '',
              offline: false,
              riderCategory: 'adult',
              fares: {
                dayNumber: day,
                weekNumber: week,
                maxFare: 99_999,
                maxFullFare: 99_999,
                dayCaps: [-1, ...dayCaps.map((value) => value ?? -1)],
                weekCaps: [-1, ...weekCaps.map((value) => value ?? -1)],
                faresToHere: ['from', String(amount), String(amount)],
              },
            };
            const outcome = parseOutcome((await gate.run(redis.client, keysFor(call, keys, !redis.cluster), gateArguments(call, '60', String(3600_000)))) as string);
            const expected = capCharge(amount, daySpent, weekSpent, dayCaps[(dayModes | legBit) - 1], weekCaps[(weekModes | legBit) - 1]);
            const spend = await redis.client.hmGet(keys.spend('payg', accountId), [spendField('daySpent', day), spendField('weekSpent', week)]);
            await redis.client.del([keys.wallet(accountId), keys.trip('payg', accountId), keys.spend('payg', accountId), keys.tapMemory('payg', accountId, 'spec', call.tapId)]);
            expect({ charge: outcome.charge, daySpent: Number(spend[0]), weekSpent: Number(spend[1]) }).toEqual({ charge: expected, daySpent: daySpent + expected, weekSpent: weekSpent + expected });
          },
        ),
        { numRuns: 150 },
      );
    });
  });
});
