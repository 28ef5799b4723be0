-- Restores an account's pay-as-you-go spend (for the caps) from Postgres, unless the gates already keep one.
-- KEYS[1]: {a:<id>}:spend. ARGV: day, daySpent, dayModes, week, weekSpent, weekModes, ttl ms.
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'day', ARGV[1], 'daySpent', ARGV[2], 'dayModes', ARGV[3], 'week', ARGV[4], 'weekSpent', ARGV[5], 'weekModes', ARGV[6])
redis.call('PEXPIRE', KEYS[1], ARGV[7])
return 1
