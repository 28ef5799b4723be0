-- Raises a transit card's highest counter to one Postgres holds (the media module's record), never lowers
-- it: a live Redis may hold taps Postgres has not seen yet. Names from gate-state.ts's prelude: MEDIUM.
-- KEYS[1]: {g<s>}:m:<hash>:medium.  ARGV[1]: the counter.
local current = tonumber(redis.call('HGET', KEYS[1], MEDIUM.ctr) or '-1')
if tonumber(ARGV[1]) > current then redis.call('HSET', KEYS[1], MEDIUM.ctr, ARGV[1]) end
return 1
