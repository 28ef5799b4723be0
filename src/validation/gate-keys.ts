/**
 * The gate path's Redis keys. Every key of one ticket shares the hash tag `{t:<ticketId>}` (the state
 * hash itself is the tickets module's, see ticket-state.store.ts), every key of one account
 * `{a:<accountId>}`, so the gate's Lua script touches one Redis Cluster slot per subject:
 *   {t:<id>}:state                     the ticket's state (tickets module; the gate sets firstUsedAt)
 *   {a:<id>}:wallet                    balance (mirror of the wallet, minus charges not yet in Postgres), status active|blocked
 *   {t:<id>}:trip / {a:<id>}:trip      the open journey: jid, st, ln, at, bit, max, full, cat
 *   {a:<id>}:spend                     pay-as-you-go spend of the local day and week, for the caps
 *   {t:<id>}:tap:<device>:<tapId>      the verdict of a tap, for replays (expires)
 * and two shared keys: the tap stream, and `gate:open-journeys` (sorted by when each journey times out).
 */
export const OPEN_JOURNEYS_KEY = 'gate:open-journeys';
/** Set once the gate state was built from Postgres; absent after Redis lost its data. */
export const GATE_STATE_BUILT_KEY = 'gate:state-built';

export type SubjectKind = 'single' | 'pass' | 'payg';

export function subjectTag(kind: SubjectKind, id: string): string {
  return kind === 'payg' ? `{a:${id}}` : `{t:${id}}`;
}

export function walletKey(accountId: string): string {
  return `{a:${accountId}}:wallet`;
}
