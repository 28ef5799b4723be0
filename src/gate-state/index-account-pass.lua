-- Puts a pass in its account's pass index (gate-state.ts accountPassValue), drops the entries whose time
-- is up, and lets the key go with the last of them. Names from gate-state.ts's prelude: ACCOUNT_PASS_SEPARATOR.
-- KEYS[1]: {g<s>}:a:<id>:passes.  ARGV[1]: now (epoch ms); ARGV[2]: the ticket id; ARGV[3]: its value.
local key = KEYS[1]

-- The value's last field: when the entry may go (epoch ms).
local function keepUntil(value)
  local at, last = 0, 0
  repeat
    last = at
    at = string.find(value, ACCOUNT_PASS_SEPARATOR, at + 1, true)
  until not at
  return tonumber(string.sub(value, last + 1)) or 0
end

redis.call('HSET', key, ARGV[2], ARGV[3])
local now, latest = tonumber(ARGV[1]), 0
local entries = redis.call('HGETALL', key)
for i = 1, #entries, 2 do
  local keep = keepUntil(entries[i + 1])
  if keep < now then redis.call('HDEL', key, entries[i]) elseif keep > latest then latest = keep end
end
if latest > 0 then redis.call('PEXPIREAT', key, latest) end
return 1
