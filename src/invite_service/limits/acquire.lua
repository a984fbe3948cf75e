-- Sliding-window acquire over one sorted set of entries (score = microseconds since the epoch).
-- Checks every window and adds the entry in one step, so concurrent callers cannot both pass.
--
-- KEYS[1]  the key's sorted set, e.g. invite:rl:{acct:42}:invite
-- KEYS[2]  the account's readiness marker, e.g. invite:rl:{acct:42}:ready (same hash slot)
-- KEYS[3]  the generation key, e.g. invite:rl:generation: "ready" once rebuilt from the ledger
-- ARGV[1]  now (microseconds)
-- ARGV[2]  member to add when granted (unique)
-- ARGV[3]  trim bound: entries scored at or below it are dropped, no window can see them
-- ARGV[4]  key TTL in milliseconds
-- ARGV[5]  grace deadline (microseconds) to wait out when the marker is missing
-- ARGV[6..] triples: window length (microseconds), limit, "(" .. (now - length)
--
-- Returns {1, 0} when granted, {0, retry_at} when denied, {0, -1} for a zero limit (never),
-- {2, until} while the account waits to be rebuilt, {3, 0} when it must be rebuilt now.
--
-- The markers guard against Redis losing data (a restart, a flush): an empty set would grant
-- what the ledger already counts. With the generation "ready", a missing account marker is a new
-- account. With the generation gone, Redis lost its data: every acquire is denied for a short
-- grace (so grants still committing their ledger rows land), then the caller reloads everything
-- from the ledger and sets the generation "ready" again.
-- Bounds arrive as strings from the client: Lua 5.1 formats numbers with 14 significant
-- digits, too few for microsecond timestamps, so no timestamp is turned into a string here.
local key = KEYS[1]
if redis.call('GET', KEYS[2]) ~= 'ready' then
  local generation = redis.call('GET', KEYS[3])
  if not generation then
    generation = 'rebuild:' .. ARGV[5]
    redis.call('SET', KEYS[3], generation)
  end
  if generation ~= 'ready' then
    local deadline = string.sub(generation, 9)
    if tonumber(ARGV[1]) < tonumber(deadline) then
      return {2, tonumber(deadline)}
    end
    return {3, 0}
  end
  redis.call('SET', KEYS[2], 'ready')
end
redis.call('ZREMRANGEBYSCORE', key, '-inf', ARGV[3])
local retry = nil
for i = 6, #ARGV, 3 do
  local length = tonumber(ARGV[i])
  local limit = tonumber(ARGV[i + 1])
  local count = redis.call('ZCOUNT', key, ARGV[i + 2], '+inf')
  if count >= limit then
    if limit == 0 then
      return {0, -1}
    end
    -- the (count - limit + 1)-th oldest counted entry must leave this window first
    local entry = redis.call('ZRANGEBYSCORE', key, ARGV[i + 2], '+inf', 'WITHSCORES', 'LIMIT', count - limit, 1)
    local free_at = tonumber(entry[2]) + length
    if retry == nil or free_at > retry then
      retry = free_at
    end
  end
end
if retry ~= nil then
  return {0, retry}
end
redis.call('ZADD', key, ARGV[1], ARGV[2])
redis.call('PEXPIRE', key, ARGV[4])
return {1, 0}
