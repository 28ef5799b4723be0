import type { LivePass } from '../gate-state/gate-script';
import { choosePass, type TapPlace } from './pass-choice';

const DAY = 24 * 3600_000;
const now = Date.UTC(2026, 11, 7, 3, 0, 0);
const entry: TapPlace = { direction: 'entry', lineId: 'metro-2a', mode: 'metro', at: now };
const exit: TapPlace = { ...entry, direction: 'exit' };

function pass(ticketId: string, state: Partial<LivePass['state']>, trip: LivePass['trip'] = null): LivePass {
  return {
    ticketId,
    trip,
    state: {
      status: 'active',
      riderCategory: 'adult',
      modes: 'metro',
      lineIds: '',
      activation: 'first_use',
      validFrom: '',
      validUntil: '',
      validityDays: '1',
      firstUseBy: String(now + 30 * DAY),
      firstUsedAt: '',
      ...state,
    },
  };
}

describe("choosePass: which of the account's passes a card rides on", () => {
  it('at entry: a started pass before one not started, the one ending soonest first; none usable: pay as you go', () => {
    const month = pass('a-month', { validityDays: '30', firstUsedAt: String(now - DAY) });
    const week = pass('b-week', { validityDays: '7', firstUsedAt: String(now - DAY) });
    const day = pass('c-day', {});
    expect(choosePass(entry, null, [day, month, week], null)?.ticketId).toBe('b-week');
    expect(choosePass(entry, null, [day], null)?.ticketId).toBe('c-day');
    const ended = pass('d', { validityDays: '1', firstUsedAt: String(now - 2 * DAY) });
    const bus = pass('e', { modes: 'bus' });
    const otherLine = pass('f', { lineIds: 'metro-3' });
    const revoked = pass('g', { status: 'revoked' });
    const later = pass('h', { activation: 'fixed', validFrom: String(now + DAY), validUntil: String(now + 2 * DAY) });
    expect(choosePass(entry, null, [ended, bus, otherLine, revoked, later], null)).toBeUndefined();
  });

  it('at entry: a pass with an open journey (PASSBACK follows); inside on pay as you go, pay as you go', () => {
    const open = pass('z-open', {}, { lineId: 'metro-2a', at: now - 60_000 });
    expect(choosePass(entry, null, [pass('a', { firstUsedAt: String(now) }), open], null)?.ticketId).toBe('z-open');
    expect(choosePass(entry, { lineId: 'metro-2a', at: now - 60_000 }, [pass('a', {})], null)).toBeUndefined();
  });

  it("at exit: the latest journey open on this line, whatever the pass's window now", () => {
    const older = pass('a', { status: 'revoked' }, { lineId: 'metro-2a', at: now - 600_000 });
    const newer = pass('b', {}, { lineId: 'metro-2a', at: now - 60_000 });
    const elsewhere = pass('c', {}, { lineId: 'metro-3', at: now - 1_000 });
    expect(choosePass(exit, null, [older, newer, elsewhere], null)?.ticketId).toBe('b');
    expect(choosePass(exit, { lineId: 'metro-2a', at: now - 10_000 }, [older, newer], null)).toBeUndefined();
    expect(choosePass(exit, null, [elsewhere], null)).toBeUndefined();
  });

  it("a retry takes the subject its tap id was first used with", () => {
    const a = pass('a', {});
    const b = pass('b', { firstUsedAt: String(now) });
    expect(choosePass(entry, null, [a, b], 'pass:a:entry:2a-cat-linh:hash')?.ticketId).toBe('a');
    expect(choosePass(entry, null, [a, b], 'payg:acct:entry:2a-cat-linh:hash')).toBeUndefined();
  });
});
