-- Writes a ticket's state as Postgres has it, unless Redis already holds a newer version.
-- KEYS[1]: the ticket's state hash.
-- ARGV[1]: the state version; ARGV[2]: when the key may go (epoch ms);
-- ARGV[3]: the first use Postgres knows (epoch ms), or '' (a use a gate recorded is never erased);
-- ARGV[4..]: field, value pairs.
local current = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if tonumber(ARGV[1]) < current then return 0 end
redis.call('HSET', KEYS[1], 'version', ARGV[1], unpack(ARGV, 4))
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'firstUsedAt', ARGV[3]) end
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
return 1
