-- Undoes, once, what gate.lua did for a tap the record refused: the record already held its (device,
-- tap id) (another tap, or this one before the tap memory forgot it), so the tap is not in `taps` and
-- must leave no trace at the gates either. GateTapUndo runs it after the record's commit, with what the
-- tap's event says it changed. README "Tap identity and the record" has the rules.
-- KEYS (all in the subject's slot, GateKeys): 1 state hash (…:t:<id>:state, …:a:<id>:wallet, …:c:<card>:card)  2 open journey hash  3 tap memory  4 spend hash
--       5 the shard's open-journey index  6 this undo's once-marker ({g<s>}:undone:...). GateTapUndo then sets
--       the device's tap-id claim and the recorded rider's tap memory (other slots).
-- ARGV: UNDO_ARGS by name (U.charge ...), then from U.recordedAnswer the recorded tap's answer in
--       OUTCOME_FIELDS' order.
-- Returns 1 when it undid the tap now, 0 when it had been undone before.
local stateKey, tripKey, tapKey, spendKey, openSet, marker = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
if not redis.call('SET', marker, '1', 'NX', 'EX', ARGV[U.markerSeconds]) then return 0 end

local kind = ARGV[U.kind]
local payg, card, free = kind == 'payg', kind == 'bank_card', kind == 'free'
local ticket = not (payg or card or free)
local openMember = (payg and 'a:' or card and 'c:' or free and 'm:' or 't:') .. ARGV[U.subject]
local charge = tonumber(ARGV[U.charge])
-- A journey a linked bank card pays (U.payer): its fare never left the wallet.
local payer = ARGV[U.payer]

-- The fare back to the balance (a wallet's), and out of the spend of its day and week with the mode bits it added
-- (a bank card's own spend too: its fare is charged later from the record, which never held this tap).
if payg or card then
  if charge > 0 and payg and payer == '' then redis.call('HINCRBY', stateKey, WALLET.balance, charge) end
  local dayModes, weekModes = tonumber(ARGV[U.dayModes]), tonumber(ARGV[U.weekModes])
  if charge > 0 or dayModes > 0 or weekModes > 0 then
    local day, week = ARGV[U.dayNumber], ARGV[U.weekNumber]
    local fields = { SPEND.daySpent .. day, SPEND.dayModes .. day, SPEND.weekSpent .. week, SPEND.weekModes .. week }
    local s = redis.call('HMGET', spendKey, fields[1], fields[2], fields[3], fields[4])
    if s[1] or s[2] then
      redis.call('HSET', spendKey, fields[1], math.max(0, tonumber(s[1] or '0') - charge), fields[2], bit.band(tonumber(s[2] or '0'), bit.bnot(dayModes)))
    end
    if s[3] or s[4] then
      redis.call('HSET', spendKey, fields[3], math.max(0, tonumber(s[3] or '0') - charge), fields[4], bit.band(tonumber(s[4] or '0'), bit.bnot(weekModes)))
    end
  end
end

-- The journey it opened, while it is still open (an exit the record holds may have closed it since):
-- gone, and with it the ticket's first use if this tap began it.
local opened = ARGV[U.openedJourney]
if opened ~= '' and redis.call('HGET', tripKey, TRIP.jid) == opened then
  redis.call('DEL', tripKey)
  redis.call('ZREM', openSet, openMember)
  if ticket and ARGV[U.firstUse] ~= '' and redis.call('HGET', stateKey, TICKET.firstUsedAt) == ARGV[U.firstUse] then
    redis.call('HDEL', stateKey, TICKET.firstUsedAt)
  end
end

-- The journey it closed, open again (GateTapUndo passes it only while the record holds it open), unless
-- another journey began since.
local closed = ARGV[U.closedJourney]
if closed ~= '' and redis.call('EXISTS', tripKey) == 0 then
  local limit, tripAt = tonumber(ARGV[U.journeyLimitMs]), tonumber(ARGV[U.tripAt])
  redis.call('HSET', tripKey, TRIP.jid, closed, TRIP.st, ARGV[U.tripStation], TRIP.ln, ARGV[U.tripLine], TRIP.at, ARGV[U.tripAt],
    TRIP.bit, ARGV[U.tripBit], TRIP.max, ARGV[U.tripMax], TRIP.full, ARGV[U.tripFull], TRIP.cat, ARGV[U.tripCategory], TRIP.pay, payer)
  redis.call('PEXPIRE', tripKey, limit + 30 * DAY)
  redis.call('ZADD', openSet, tripAt + limit, openMember)
end

-- The tap memory holds what the record holds: a repeat of the recorded tap gets its answer, another body TAP_ID_REUSED.
if ARGV[U.recordedBody] ~= '' then
  local answer = {}
  for i, name in ipairs(OUTCOME_FIELDS) do answer[name] = ARGV[U.recordedAnswer + i - 1] end
  redis.call('SET', tapKey, ARGV[U.recordedBody] .. TAP_BODY_SEPARATOR .. encode_outcome(answer), 'EX', ARGV[U.tapMemorySeconds])
end
return 1
