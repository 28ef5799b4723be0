-- Gives back a movement spend-wallet-balance.lua took from the gate balance, once, when the transaction
-- that made it rolled back: only while its marker is there (removed here).
-- KEYS[1]: {g<s>}:a:<id>:wallet  KEYS[2]: …:a:<id>:moved:<kind>:<reference> (one slot). ARGV: the movement's delta (đồng).
-- Returns 1 when it gave the movement back now, 0 when there was nothing to give back.
if redis.call('DEL', KEYS[2]) == 1 then
  redis.call('HINCRBY', KEYS[1], WALLET.balance, -tonumber(ARGV[1]))
  return 1
end
return 0
