-- Takes a committing payment out of an account's gate balance before its transaction commits, once, and
-- only if it fits what the gates leave spendable: the balance less the maximum fare of an open
-- pay-as-you-go journey. Atomic with the gates' own checks, so an entry cannot slip between the payment's
-- check and its debit. release-wallet-movement.lua gives it back if the transaction then rolls back.
-- KEYS[1]: {g<s>}:a:<id>:wallet  KEYS[2]: …:a:<id>:moved:<kind>:<reference>  KEYS[3]: …:a:<id>:trip (one slot).
-- ARGV: delta (negative đồng), marker ttl (seconds).
-- Returns 1 when the balance holds the movement (now or before), 0 when it does not fit.
if redis.call('EXISTS', KEYS[2]) == 1 then return 1 end
local balance = redis.call('HGET', KEYS[1], WALLET.balance)
if balance then
  local trip = redis.call('HMGET', KEYS[3], TRIP.jid, TRIP.max)
  local held = trip[1] and tonumber(trip[2] or '0') or 0
  if tonumber(balance) - held + tonumber(ARGV[1]) < 0 then return 0 end
end
redis.call('SET', KEYS[2], '1', 'EX', ARGV[2])
redis.call('HINCRBY', KEYS[1], WALLET.balance, ARGV[1])
return 1
