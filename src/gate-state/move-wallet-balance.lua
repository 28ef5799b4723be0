-- Moves an account's gate balance by one committed wallet movement (a top-up, a purchase, a refund),
-- once: a retry after a lost reply finds the movement's marker and changes nothing.
-- KEYS[1]: {g<s>}:a:<id>:wallet  KEYS[2]: {g<s>}:a:<id>:moved:<kind>:<reference> (one slot). ARGV: delta (đồng), marker ttl (seconds).
-- Returns 1 when it moved the balance now, 0 when the movement had been applied before.
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[2]) then
  redis.call('HINCRBY', KEYS[1], WALLET.balance, ARGV[1])
  return 1
end
return 0
