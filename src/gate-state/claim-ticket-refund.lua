-- Takes an unused, active ticket out of the gates' reach while its refund commits in Postgres.
-- KEYS[1]: the ticket's state hash.
-- Returns 'claimed', 'missing' (no state: no gate can accept it either), 'used', or its other status.
if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
local state = redis.call('HMGET', KEYS[1], 'status', 'firstUsedAt')
if state[2] and state[2] ~= '' then return 'used' end
if state[1] ~= 'active' then return state[1] or 'missing' end
redis.call('HSET', KEYS[1], 'status', 'refunding')
return 'claimed'
