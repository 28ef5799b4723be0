-- Restores an account's pay-as-you-go spend of the current local day and week (for the caps) from
-- Postgres, unless the gates already keep one. The prelude (gate-state.ts) names the fields.
-- KEYS[1]: {g<s>}:a:<id>:spend. ARGV: day, daySpent, dayModes, week, weekSpent, weekModes.
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], SPEND.daySpent .. ARGV[1], ARGV[2], SPEND.dayModes .. ARGV[1], ARGV[3],
  SPEND.weekSpent .. ARGV[4], ARGV[5], SPEND.weekModes .. ARGV[4], ARGV[6])
redis.call('PEXPIRE', KEYS[1], SPEND_TTL)
return 1
