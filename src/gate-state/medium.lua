-- A medium (a card) at a gate, atomically: its record and, for a transit card, the counter it presents.
-- Every name comes from gate-state.ts's prelude: MA (argument positions), MEDIUM (hash fields),
-- MEDIUM_COUNTER_PREFIX, MEDIUM_COUNTERS_KEPT, encode_medium_answer, encode_event.
--
-- A card's counter goes up at every tap. Online, a counter not above the highest seen is a clone (the
-- copy was read earlier); offline taps arrive late and out of order, so there only a counter another tap
-- already presented is one. The tap that presented a counter is remembered with it: the same tap again
-- (a retry) is a replay, not a clone. A clone blocks the card here and appends a `clone` event, from
-- which the media module records the block in Postgres (and the deny list).
--
-- KEYS: 1 the medium ({g<s>}:m:<hash>:medium)   2 its shard's tap stream ({g<s>}:...; one slot)
-- ARGV: MA.at, MA.offline '1'|'0', MA.counter ('' for media without one), MA.tap (the tap: device and tap id),
--       MA.device, MA.tapId
-- Returns encode_medium_answer(...): the medium's fields ('' when unknown) and `counter` none|ok|replay|clone.
local key, stream = KEYS[1], KEYS[2]
local m = redis.call('HMGET', key, MEDIUM.kind, MEDIUM.status, MEDIUM.account, MEDIUM.id, MEDIUM.chk, MEDIUM.ctr)
local answer = { kind = m[1], status = m[2], account = m[3], id = m[4], chk = m[5], counter = 'none' }
local counter = ARGV[MA.counter]
if not m[1] or counter == '' then return encode_medium_answer(answer) end

local n = tonumber(counter)
local field = MEDIUM_COUNTER_PREFIX .. counter
local seen = redis.call('HGET', key, field)
local highest = tonumber(m[6] or '-1')
if seen == ARGV[MA.tap] then
  answer.counter = 'replay'
elseif seen or (ARGV[MA.offline] ~= '1' and n <= highest) then
  answer.counter = 'clone'
  if m[2] == 'active' then
    redis.call('HSET', key, MEDIUM.status, 'blocked')
    answer.status = 'blocked'
    redis.call('XADD', stream, '*', EVENT_STREAM_FIELD,
      encode_event({ ev = 'clone', at = ARGV[MA.at], dev = ARGV[MA.device], tap = ARGV[MA.tapId], med = m[1], mid = m[4] }))
  end
else
  answer.counter = 'ok'
  redis.call('HSET', key, field, ARGV[MA.tap])
  if n > highest then redis.call('HSET', key, MEDIUM.ctr, counter) end
  -- Only the latest counters are kept: an older one is refused online anyway.
  if redis.call('HLEN', key) > MEDIUM_COUNTERS_KEPT * 2 then
    local counters = {}
    for _, name in ipairs(redis.call('HKEYS', key)) do
      if string.sub(name, 1, #MEDIUM_COUNTER_PREFIX) == MEDIUM_COUNTER_PREFIX then
        counters[#counters + 1] = tonumber(string.sub(name, #MEDIUM_COUNTER_PREFIX + 1))
      end
    end
    table.sort(counters)
    for i = 1, #counters - MEDIUM_COUNTERS_KEPT do redis.call('HDEL', key, MEDIUM_COUNTER_PREFIX .. counters[i]) end
  end
end
return encode_medium_answer(answer)
