-- One tap at a gate, atomically: checks and changes the ticket's or account's gate state, remembers
-- the verdict under the device's tap id, and appends the tap to the tap stream. See gate-script.ts
-- for the keys and arguments, and README "The gate path" for the rules.
--
-- KEYS: 1 state hash ({t:id}:state, written by the tickets module; {a:id}:wallet, by AccountGateState)
--       2 open journey hash   3 tap memory   4 pay-as-you-go spend hash   5 tap stream   6 open-journey index
-- ARGV: 1 at (epoch ms)  2 entry|exit|timeout  3 single|pass|payg  4 reason decided from the signed QR ('' none)
--       5 device  6 tap id  7 station  8 line  9 line's mode bit  10 new journey id  11 offline '1'|'0'
--       12 tap memory seconds  13 journey limit ms  14 ticket or account id  15 rider category
--       16 local day number  17 local week number  18 line's maximum fare  19 its full amount
--       20..26 day cap by mode bits 1..7 (-1: none)  27..33 week cap by mode bits 1..7
--       34.. triples: entry station, fare to here, full fare to here (pay-as-you-go exits)
-- Returns 'verdict|reason|valid|charge|balance|journeyId|fare'.
local stateKey, tripKey, tapKey, spendKey, stream, openSet = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]

local seen = redis.call('GET', tapKey)
if seen then return seen end

local DAY, LOCAL_OFFSET = 86400000, 25200000
local at = tonumber(ARGV[1])
local direction, kind, nodeReason = ARGV[2], ARGV[3], ARGV[4]
local station, line, modeBit = ARGV[7], ARGV[8], tonumber(ARGV[9])
local offline = ARGV[11] == '1'
local limit = tonumber(ARGV[13])
local subject = ARGV[14]
local payg = kind == 'payg'
local openMember = (payg and 'a:' or 't:') .. subject

local balance, status, account = '', 'active', subject
local state
if payg then
  state = redis.call('HMGET', stateKey, 'balance', 'status')
  balance = tonumber(state[1] or '0')
  status = state[2] or 'active'
else
  state = redis.call('HMGET', stateKey, 'status', 'activation', 'validFrom', 'validUntil', 'validityDays', 'firstUseBy', 'firstUsedAt', 'account')
  status = state[1]
  account = state[8] or ''
end

local trip = redis.call('HMGET', tripKey, 'jid', 'st', 'ln', 'at', 'bit', 'max', 'full', 'cat')
local tripOpen = trip[1] ~= false

-- Pay-as-you-go spend in the current local day and week, for the caps.
local spend
if payg then
  local s = redis.call('HMGET', spendKey, 'day', 'daySpent', 'dayModes', 'week', 'weekSpent', 'weekModes')
  local day, week = tonumber(ARGV[16]), tonumber(ARGV[17])
  spend = { day = day, week = week, daySpent = 0, dayModes = 0, weekSpent = 0, weekModes = 0 }
  if tonumber(s[1]) == day then spend.daySpent, spend.dayModes = tonumber(s[2]), tonumber(s[3]) end
  if tonumber(s[4]) == week then spend.weekSpent, spend.weekModes = tonumber(s[5]), tonumber(s[6]) end
end

-- FareCalculator.chargeLeg, with the caps the service computed for every combination of modes.
local function capped(amount, legBit)
  local dayModes, weekModes = bit.bor(spend.dayModes, legBit), bit.bor(spend.weekModes, legBit)
  local dayCap, weekCap = tonumber(ARGV[19 + dayModes]), tonumber(ARGV[26 + weekModes])
  local charge = amount
  if dayCap >= 0 then charge = math.min(charge, math.max(0, dayCap - spend.daySpent)) end
  if weekCap >= 0 then charge = math.min(charge, math.max(0, weekCap - spend.weekSpent)) end
  return charge, dayModes, weekModes
end

local function charge(amount, legBit)
  local c, dayModes, weekModes = capped(amount, legBit)
  spend.daySpent, spend.dayModes = spend.daySpent + c, dayModes
  spend.weekSpent, spend.weekModes = spend.weekSpent + c, weekModes
  redis.call('HSET', spendKey, 'day', spend.day, 'daySpent', spend.daySpent, 'dayModes', dayModes,
    'week', spend.week, 'weekSpent', spend.weekSpent, 'weekModes', weekModes)
  redis.call('PEXPIRE', spendKey, 8 * DAY)
  if c > 0 then balance = redis.call('HINCRBY', stateKey, 'balance', -c) end
  return c
end

local function closeTrip()
  redis.call('DEL', tripKey)
  redis.call('ZREM', openSet, openMember)
  tripOpen = false
end

-- A stream entry is one field holding the event as JSON, every value a string: the persister parses
-- one string per tap (see TapEvent in tap-persister.ts) instead of forty.
local function append(event)
  for name, value in pairs(event) do event[name] = tostring(value) end
  redis.call('XADD', stream, '*', 't', cjson.encode(event))
end

-- A journey left open past the limit: closed at the maximum fare (pay-as-you-go) or without a fare.
local function closeStale()
  local c = 0
  if payg then c = charge(tonumber(trip[6]), tonumber(trip[5])) end
  append({ ev = 'timeout', at = ARGV[1], kind = kind, sub = subject, acct = account, cat = trip[8], jid = trip[1],
    jat = trip[4], jst = trip[2], ln = trip[3], fare = trip[6], full = trip[7], charge = c, bal = balance })
  closeTrip()
end

local function stale()
  return at - tonumber(trip[4]) > limit
end

if direction == 'timeout' then
  if tripOpen and stale() then closeStale() return 'closed' end
  return 'open'
end

local function finish(verdict, reason, valid, c, jid, fare, full, jat, jst)
  local result = verdict .. '|' .. reason .. '|' .. (valid and '1' or '0') .. '|' .. c .. '|' .. balance .. '|' .. jid .. '|' .. fare
  redis.call('SET', tapKey, result, 'EX', ARGV[12])
  append({ ev = 'tap', at = ARGV[1], dev = ARGV[5], tap = ARGV[6], dir = direction, st = station, ln = line, kind = kind,
    sub = subject, acct = account, cat = ARGV[15], verdict = verdict, reason = reason, valid = valid and '1' or '0',
    off = ARGV[11], jid = jid, jat = jat, jst = jst, fare = fare, full = full, charge = c, bal = balance })
  return result
end

-- Online a refusal is a reject that changes nothing; offline the gate has already let the rider through.
local function refuse(reason)
  return finish(offline and 'accept' or 'reject', reason, false, 0, '', '', '', '', '')
end

local function openTrip(extra)
  local jid = ARGV[10]
  redis.call('HSET', tripKey, 'jid', jid, 'st', station, 'ln', line, 'at', ARGV[1], 'bit', modeBit,
    'max', ARGV[18], 'full', ARGV[19], 'cat', ARGV[15])
  redis.call('PEXPIRE', tripKey, limit + 30 * DAY)
  redis.call('ZADD', openSet, at + limit, openMember)
  return jid
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

if not payg then
  if not status then return refuse('INVALID_QR') end -- signed by us, but unknown to the gates: refuse, never guess
  local used = state[7] and state[7] ~= ''
  if direction == 'entry' then
    if tripOpen and kind == 'pass' and stale() then closeStale() end
    local reason = ''
    if status ~= 'active' then reason = 'REVOKED'
    elseif tripOpen then reason = 'PASSBACK'
    elseif kind == 'single' and used then reason = 'ALREADY_USED'
    elseif nodeReason ~= '' then reason = nodeReason
    else reason = windowReason() end
    if reason ~= '' then
      if offline and not tripOpen then openTrip() end
      return refuse(reason)
    end
    if not used then redis.call('HSET', stateKey, 'firstUsedAt', ARGV[1]) end
    local jid = openTrip()
    return finish('accept', 'OK', true, 0, jid, '', '', ARGV[1], station)
  end
  if not tripOpen or trip[3] ~= line then return refuse('NO_ENTRY') end
  local reason = ''
  if status ~= 'active' then reason = 'REVOKED' else reason = nodeReason end
  if reason ~= '' and not offline then return refuse(reason) end
  closeTrip()
  return finish('accept', reason == '' and 'OK' or reason, reason == '', 0, trip[1], '', '', trip[4], trip[2])
end

-- Pay as you go.
if direction == 'entry' then
  if tripOpen and stale() then closeStale() end
  if tripOpen then return refuse('PASSBACK') end
  local reason = nodeReason
  if reason == '' and status ~= 'active' then reason = 'REVOKED' end
  if reason == '' and (balance < 0 or balance < capped(tonumber(ARGV[18]), modeBit)) then reason = 'INSUFFICIENT_BALANCE' end
  if reason ~= '' and not offline then return refuse(reason) end
  local jid = openTrip()
  return finish('accept', reason == '' and 'OK' or reason, reason == '', 0, jid, '', '', ARGV[1], station)
end

if tripOpen and trip[3] ~= line then closeStale() end
if not tripOpen then return refuse('NO_ENTRY') end
local reason = ''
if status ~= 'active' then reason = 'REVOKED' end
if reason ~= '' and not offline then return refuse(reason) end
local fare, full = tonumber(trip[6]), tonumber(trip[7])
if not stale() then
  for i = 34, #ARGV, 3 do
    if ARGV[i] == trip[2] then fare, full = tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]) break end
  end
end
local c = charge(fare, modeBit)
closeTrip()
return finish('accept', reason == '' and 'OK' or reason, reason == '', c, trip[1], fare, full, trip[4], trip[2])
