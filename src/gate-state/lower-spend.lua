-- Lowers an account's pay-as-you-go spend of one local day and week (for the caps) by a refund of a
-- fare the gates counted (a maximum fare corrected by a claim or an automatic completion), once: a
-- retry after a lost reply finds the marker and changes nothing. Never below zero; a day or week the
-- hash no longer holds (expired, pruned) is left alone.
-- KEYS[1]: {g<s>}:a:<id>:spend  KEYS[2]: {g<s>}:a:<id>:spend-lowered:<refund> (one slot). ARGV: day, week, amount (đồng), marker ttl (seconds).
-- Returns 1 when it lowered the spend now, 0 when the refund had been applied before.
if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[4]) then return 0 end
local amount = tonumber(ARGV[3])
for _, field in ipairs({ SPEND.daySpent .. ARGV[1], SPEND.weekSpent .. ARGV[2] }) do
  local spent = tonumber(redis.call('HGET', KEYS[1], field) or '')
  if spent then redis.call('HSET', KEYS[1], field, math.max(0, spent - amount)) end
end
return 1
