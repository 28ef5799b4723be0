import { localDayNumber, localDayStartMs } from '../fares/domain/local-time';
import type { AccountPass } from '../gate-state/gate-state';
import type { LivePass, OpenTrip } from '../gate-state/gate-script';

/** Where and how a card is tapped. */
export interface TapPlace {
  readonly direction: 'entry' | 'exit';
  readonly lineId: string;
  readonly mode: string;
  readonly at: number;
}

/**
 * Which of the account's passes a card's tap rides on, or undefined for pay as you go (README "Media"):
 * the rules are the pass QR's, the card only picks the pass the rider would have shown.
 * - A retry of a tap (its device's tap id already claimed) takes the subject it took the first time.
 * - Entry: inside on pay as you go already, pay as you go (PASSBACK follows); else a covering pass
 *   usable now, one with an open journey first (PASSBACK follows), then one already started, ending
 *   soonest, then one not started yet, the one that must start soonest; else pay as you go.
 * - Exit: the subject whose journey is open on this line, the latest entry if several; else pay as you go.
 */
export function choosePass(place: TapPlace, payg: OpenTrip | null, passes: readonly LivePass[], claimed: string | null): LivePass | undefined {
  if (claimed !== null) {
    const [kind, subject] = claimed.split(':');
    if (kind === 'payg') return undefined;
    const pinned = kind === 'pass' ? passes.find((pass) => pass.ticketId === subject) : undefined;
    if (pinned) return pinned;
  }
  if (place.direction === 'exit') {
    let latest: LivePass | undefined;
    for (const pass of passes) if (pass.trip?.lineId === place.lineId && (!latest || pass.trip.at > latest.trip!.at)) latest = pass;
    if (!latest) return undefined;
    return payg?.lineId === place.lineId && payg.at > latest.trip!.at ? undefined : latest;
  }
  if (payg !== null) return undefined;
  const usable = passes.filter((pass) => covers(pass, place) && usableAt(pass, place.at));
  return usable.sort((a, b) => rank(a) - rank(b) || a.ticketId.localeCompare(b.ticketId))[0];
}

/** The passes of the index that may cover a tap here (before their live state is read): for an exit, any still kept. */
export function candidatePasses(passes: readonly AccountPass[], place: TapPlace): AccountPass[] {
  if (place.direction === 'exit') return passes.filter((pass) => pass.keepUntil > place.at);
  return passes.filter((pass) => pass.modes.includes(place.mode) && (pass.lineIds === null || pass.lineIds.includes(place.lineId)) && pass.validityEnd > place.at);
}

function covers(pass: LivePass, place: TapPlace): boolean {
  const lineIds = pass.state.lineIds;
  return pass.state.modes.split(',').includes(place.mode) && (lineIds === '' || lineIds.split(',').includes(place.lineId));
}

/** gate.lua's window rule (windowReason) for an active pass: usable at `at`. */
function usableAt(pass: LivePass, at: number): boolean {
  const state = pass.state;
  if (state.status !== 'active') return false;
  if (state.activation === 'fixed') return at >= Number(state.validFrom) && at < Number(state.validUntil);
  if (state.firstUsedAt !== '') return at < localDayStartMs(localDayNumber(Number(state.firstUsedAt)) + Number(state.validityDays));
  return at <= Number(state.firstUseBy);
}

/** Lower first: an open journey, then started passes by their end, then passes not started by when they must start. */
function rank(pass: LivePass): number {
  const state = pass.state;
  if (pass.trip !== null) return -1;
  if (state.activation === 'fixed') return Number(state.validUntil);
  if (state.firstUsedAt !== '') return localDayStartMs(localDayNumber(Number(state.firstUsedAt)) + Number(state.validityDays));
  // Not started: after every started one (a pass ends at most years ahead), by when it must start.
  return 1e15 + Number(state.firstUseBy);
}
