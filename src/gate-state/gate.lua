-- One tap at a gate, atomically: checks and changes the ticket's or account's gate state, remembers
-- the verdict under the device's tap id, and appends the tap to the tap stream. README "The gate path"
-- has the rules. Every argument position, hash field, the answer and the event are defined in
-- gate-state.ts, which generates this script's prelude: A (argument positions), TICKET, WALLET, TRIP,
-- SPEND (hash fields), DAY, LOCAL_OFFSET, SPEND_TTL, encode_outcome, encode_event.
--
-- KEYS (gate-state.ts GateKeys; 1 to 6 in the subject's slot): 1 state hash (…:t:<id>:state, written by the
--       tickets module; …:a:<id>:wallet, by AccountGateState)   2 open journey hash   3 tap memory
--       ({g<s>}:tap:<device>:<tapId>)   4 pay-as-you-go spend hash   5 the shard's tap stream
--       6 the shard's open-journey index   7 (on a single Redis only) the device's tap-id claim
--       ({d:<device>}:tap:<tapId>); on a cluster GateScript claims it in a step of its own first.
-- ARGV: GATE_ARGS by name (A.at ...), then from A.dayCaps the day caps by mode bits 1..7 (-1: none),
--       from A.weekCaps the week caps, from A.faresToHere triples: entry station, fare to here, full fare.
-- Returns encode_outcome(...) for a tap; 'closed' or 'open' for a timeout.
local stateKey, tripKey, tapKey, spendKey, stream, openSet, claimKey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7]

local at = tonumber(ARGV[A.at])
local direction, kind, nodeReason = ARGV[A.direction], ARGV[A.kind], ARGV[A.nodeReason]
local station, line, modeBit = ARGV[A.station], ARGV[A.line], tonumber(ARGV[A.modeBit])
local offline = ARGV[A.offline] == '1'
local limit = tonumber(ARGV[A.journeyLimitMs])
local subject = ARGV[A.subject]
local payg = kind == 'payg'
-- A ride without an account (a chip ID card of a rider of 60 or more): like a pass that is always valid, with no state of its own.
local free = kind == 'free'
-- A bank card: priced as pay as you go (its own caps), with no balance: the charge job asks its bank later.
local card = kind == 'bank_card'
local priced = payg or card
local mediumKind, mediumRef = ARGV[A.mediumKind], ARGV[A.mediumRef]
-- A bank card linked to the account opens the account's pay as you go (its journey, its caps, its rider
-- category) but pays the fares itself: the journey remembers the card (TRIP.pay) and no wallet balance moves.
local entryPayer = (payg and mediumKind == 'bank_card') and mediumRef or ''
local openMember = (payg and 'a:' or free and 'm:' or card and 'c:' or 't:') .. subject
-- What makes a repeat of (device, tap id) the same tap (gate-state.ts tapBody).
local body = kind .. ':' .. subject .. ':' .. direction .. ':' .. station
if mediumRef ~= '' then body = body .. ':' .. mediumRef end

-- The same tap again gets its first answer; another tap under the same id changes nothing.
if direction ~= 'timeout' then
  local seen = redis.call('GET', tapKey)
  if seen then
    local split = string.find(seen, TAP_BODY_SEPARATOR, 1, true)
    if split and string.sub(seen, 1, split - 1) == body then return string.sub(seen, split + 1) end
    return encode_outcome({ verdict = 'reject', reason = 'TAP_ID_REUSED', valid = '0', charge = 0 })
  end
  -- The same tap id used by this device for another subject (of any shard).
  if claimKey then
    local claimed = redis.call('SET', claimKey, body, 'NX', 'GET', 'EX', ARGV[A.tapMemorySeconds])
    if claimed and claimed ~= body then
      return encode_outcome({ verdict = 'reject', reason = 'TAP_ID_REUSED', valid = '0', charge = 0 })
    end
  end
end

local balance, status, account = '', 'active', subject
local state
if payg then
  state = redis.call('HMGET', stateKey, WALLET.balance, WALLET.status)
  balance = tonumber(state[1] or '0')
  status = state[2] or 'active'
elseif free then
  state = {}
  status, account = 'active', ''
elseif card then
  -- A card on the deny list (an unpaid charge) is refused; an unknown card is accepted (the first-ride risk).
  state = redis.call('HMGET', stateKey, CARD.status)
  status, account = state[1] == 'denied' and 'blocked' or 'active', ''
else
  state = redis.call('HMGET', stateKey, TICKET.status, TICKET.activation, TICKET.validFrom, TICKET.validUntil, TICKET.validityDays,
    TICKET.firstUseBy, TICKET.firstUsedAt, TICKET.account)
  status = state[1]
  account = state[8] or ''
end

-- What this tap changed beyond its answer, carried in its event (gate-state.ts TAP_EVENT_FIELDS) so that
-- a tap the record refuses can be undone exactly (undo-tap.lua).
local effects = {}

local trip = redis.call('HMGET', tripKey, TRIP.jid, TRIP.st, TRIP.ln, TRIP.at, TRIP.bit, TRIP.max, TRIP.full, TRIP.cat, TRIP.pay)
local tripOpen = trip[1] ~= false
-- Who pays the open journey: its entry's linked card, or '' (the wallet, or a card of its own).
local tripPayer = trip[9] or ''

-- Pay-as-you-go spend of the tap's own local day and week, for the caps.
local spend
if priced then
  local day, week = ARGV[A.dayNumber], ARGV[A.weekNumber]
  local fields = { SPEND.daySpent .. day, SPEND.dayModes .. day, SPEND.weekSpent .. week, SPEND.weekModes .. week }
  local s = redis.call('HMGET', spendKey, fields[1], fields[2], fields[3], fields[4])
  spend = { fields = fields, daySpent = tonumber(s[1] or '0'), dayModes = tonumber(s[2] or '0'),
    weekSpent = tonumber(s[3] or '0'), weekModes = tonumber(s[4] or '0') }
end

-- The capping rule of fare-calculator.ts (capCharge), with the caps the service computed for every combination of modes.
local function capped(amount, legBit)
  local dayModes, weekModes = bit.bor(spend.dayModes, legBit), bit.bor(spend.weekModes, legBit)
  local dayCap, weekCap = tonumber(ARGV[A.dayCaps - 1 + dayModes]), tonumber(ARGV[A.weekCaps - 1 + weekModes])
  local charge = amount
  if dayCap >= 0 then charge = math.min(charge, math.max(0, dayCap - spend.daySpent)) end
  if weekCap >= 0 then charge = math.min(charge, math.max(0, weekCap - spend.weekSpent)) end
  return charge, dayModes, weekModes
end

-- Days and weeks before the batch window can take no more taps: their spend goes.
local function pruneSpend()
  local keepDay, keepWeek = tonumber(ARGV[A.keepFromDay]), tonumber(ARGV[A.keepFromWeek])
  for _, field in ipairs(redis.call('HKEYS', spendKey)) do
    local prefix, number = string.match(field, '^(%a+:)(%-?%d+)$')
    local n = tonumber(number)
    if n and (((prefix == SPEND.daySpent or prefix == SPEND.dayModes) and n < keepDay)
      or ((prefix == SPEND.weekSpent or prefix == SPEND.weekModes) and n < keepWeek)) then
      redis.call('HDEL', spendKey, field)
    end
  end
end

-- Returns the charge and the mode bits it added to the day and the week; `payer` a linked card: no balance moves.
local function charge(amount, legBit, payer)
  local c, dayModes, weekModes = capped(amount, legBit)
  local addedDay, addedWeek = bit.band(dayModes, bit.bnot(spend.dayModes)), bit.band(weekModes, bit.bnot(spend.weekModes))
  spend.daySpent, spend.dayModes = spend.daySpent + c, dayModes
  spend.weekSpent, spend.weekModes = spend.weekSpent + c, weekModes
  local f = spend.fields
  redis.call('HSET', spendKey, f[1], spend.daySpent, f[2], dayModes, f[3], spend.weekSpent, f[4], weekModes)
  redis.call('PEXPIRE', spendKey, SPEND_TTL)
  if redis.call('HLEN', spendKey) > SPEND_MAX_FIELDS then pruneSpend() end
  if c > 0 and payg and payer == '' then balance = redis.call('HINCRBY', stateKey, WALLET.balance, -c) end
  return c, addedDay, addedWeek
end

local function closeTrip()
  redis.call('DEL', tripKey)
  redis.call('ZREM', openSet, openMember)
  tripOpen = false
end

-- A stream entry is one field holding the event as JSON, every value a string: the persister parses
-- one string per tap instead of twenty.
local function append(event)
  redis.call('XADD', stream, '*', EVENT_STREAM_FIELD, encode_event(event))
end

-- A journey left open past the limit: closed at the maximum fare (pay-as-you-go) or without a fare.
local function closeStale()
  local c = 0
  if priced then c = charge(tonumber(trip[6]), tonumber(trip[5]), tripPayer) end
  append({ ev = 'timeout', at = ARGV[A.at], kind = kind, sub = subject, acct = account, cat = trip[8], jid = trip[1],
    jat = trip[4], jst = trip[2], ln = trip[3], fare = trip[6], full = trip[7], charge = c, bal = balance, pay = tripPayer })
  closeTrip()
end

local function stale()
  return at - tonumber(trip[4]) > limit
end

if direction == 'timeout' then
  if tripOpen and stale() then closeStale() return 'closed' end
  return 'open'
end

local function finish(verdict, reason, valid, c, jid, fare, full, jat, jst, payer)
  local result = encode_outcome({ verdict = verdict, reason = reason, valid = valid and '1' or '0', charge = c, balance = balance,
    jid = jid, fare = fare })
  redis.call('SET', tapKey, body .. TAP_BODY_SEPARATOR .. result, 'EX', ARGV[A.tapMemorySeconds])
  append({ ev = 'tap', at = ARGV[A.at], dev = ARGV[A.device], tap = ARGV[A.tapId], dir = direction, st = station, ln = line, kind = kind,
    sub = subject, acct = account, cat = ARGV[A.riderCategory], verdict = verdict, reason = reason, valid = valid and '1' or '0',
    off = ARGV[A.offline], jid = jid, jat = jat, jst = jst, fare = fare, full = full, charge = c, bal = balance,
    sd = effects.sd, sw = effects.sw, dm = effects.dm, wm = effects.wm, fu = effects.fu, tj = effects.tj,
    tbit = effects.tbit, tmax = effects.tmax, tfull = effects.tfull, tcat = effects.tcat, med = mediumKind, mid = mediumRef, ctok = ARGV[A.cardToken], pay = payer or '',
    mctr = ARGV[A.mediumCounter] })
  return result
end

-- Online a refusal is a reject that changes nothing; offline the gate has already let the rider through.
local function refuse(reason)
  return finish(offline and 'accept' or 'reject', reason, false, 0, '', '', '', '', '')
end

local function openTrip()
  local jid = ARGV[A.journeyId]
  redis.call('HSET', tripKey, TRIP.jid, jid, TRIP.st, station, TRIP.ln, line, TRIP.at, ARGV[A.at], TRIP.bit, modeBit,
    TRIP.max, ARGV[A.maxFare], TRIP.full, ARGV[A.maxFullFare], TRIP.cat, ARGV[A.riderCategory], TRIP.pay, entryPayer)
  redis.call('PEXPIRE', tripKey, limit + 30 * DAY)
  redis.call('ZADD', openSet, at + limit, openMember)
  effects.tj = jid
  return jid
end

-- This tap's exit closes the open journey: what reopening it would need.
local function closeByExit()
  effects.tbit, effects.tmax, effects.tfull, effects.tcat = trip[5], trip[6], trip[7], trip[8]
  closeTrip()
end

-- Why a ticket's own validity window refuses an entry now, or '' (and whether this entry is its first use).
local function windowReason()
  if state[2] == 'fixed' then
    if at < tonumber(state[3]) then return 'NOT_YET_VALID' end
    if at >= tonumber(state[4]) then return 'EXPIRED' end
    return ''
  end
  if state[7] and state[7] ~= '' then
    local firstDay = math.floor((tonumber(state[7]) + LOCAL_OFFSET) / DAY)
    if at >= (firstDay + tonumber(state[5])) * DAY - LOCAL_OFFSET then return 'EXPIRED' end
    return ''
  end
  if at > tonumber(state[6]) then return 'EXPIRED' end
  return ''
end

-- A dynamic QR outside its time window proves nothing about who holds the phone: it is refused before any
-- other rule, at entry and exit alike, and changes nothing (its tap is remembered and streamed as any refusal).
if nodeReason == 'STALE_CODE' then return refuse(nodeReason) end

if not priced then
  if not status then return refuse('INVALID_QR') end -- signed by us, but unknown to the gates: refuse, never guess
  local used = state[7] and state[7] ~= ''
  if direction == 'entry' then
    if tripOpen and kind == 'pass' and stale() then closeStale() end
    local reason = ''
    if status ~= 'active' then reason = 'REVOKED'
    elseif tripOpen then reason = 'PASSBACK'
    elseif kind == 'single' and used then reason = 'ALREADY_USED'
    elseif nodeReason ~= '' then reason = nodeReason
    elseif not free then reason = windowReason() end
    if reason ~= '' then
      if offline and not tripOpen then openTrip() end
      return refuse(reason)
    end
    if not used and not free then
      redis.call('HSET', stateKey, TICKET.firstUsedAt, ARGV[A.at])
      effects.fu = '1'
    end
    local jid = openTrip()
    return finish('accept', 'OK', true, 0, jid, '', '', ARGV[A.at], station)
  end
  if not tripOpen or trip[3] ~= line then return refuse('NO_ENTRY') end
  local reason = ''
  if status ~= 'active' then reason = 'REVOKED' else reason = nodeReason end
  if reason ~= '' and not offline then return refuse(reason) end
  closeByExit()
  return finish('accept', reason == '' and 'OK' or reason, reason == '', 0, trip[1], '', '', trip[4], trip[2])
end

-- Pay as you go.
if direction == 'entry' then
  if tripOpen and stale() then closeStale() end
  if tripOpen then return refuse('PASSBACK') end
  local reason = nodeReason
  if reason == '' and status ~= 'active' then reason = 'REVOKED' end
  if reason == '' and payg and entryPayer == '' and (balance < 0 or balance < capped(tonumber(ARGV[A.maxFare]), modeBit)) then reason = 'INSUFFICIENT_BALANCE' end
  if reason ~= '' and not offline then return refuse(reason) end
  local jid = openTrip()
  return finish('accept', reason == '' and 'OK' or reason, reason == '', 0, jid, '', '', ARGV[A.at], station, entryPayer)
end

if tripOpen and trip[3] ~= line then closeStale() end
if not tripOpen then return refuse('NO_ENTRY') end
-- A blocked medium of the account (nodeReason REVOKED) cannot leave online either.
local reason = nodeReason
if reason == '' and status ~= 'active' then reason = 'REVOKED' end
if reason ~= '' and not offline then return refuse(reason) end
local fare, full = tonumber(trip[6]), tonumber(trip[7])
if not stale() then
  for i = A.faresToHere, #ARGV, 3 do
    if ARGV[i] == trip[2] then fare, full = tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]) break end
  end
end
local c
c, effects.dm, effects.wm = charge(fare, modeBit, tripPayer)
effects.sd, effects.sw = ARGV[A.dayNumber], ARGV[A.weekNumber]
closeByExit()
return finish('accept', reason == '' and 'OK' or reason, reason == '', c, trip[1], fare, full, trip[4], trip[2], tripPayer)
