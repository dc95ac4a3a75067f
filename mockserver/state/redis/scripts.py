"""The Lua scripts that make each shared step atomic: Redis runs a script whole, with nothing of another worker's
in between. Each one is the shared twin of a locked method of the in-memory state (named beside it)."""

from __future__ import annotations

__all__ = [
    "ADD_RULES",
    "JOURNAL_ADD",
    "RATE_LIMIT",
    "READ_RULES",
    "REMOVE_RULE",
    "SELECT_RULE",
    "STORE_ADD",
    "UPDATE_RULE",
]

#: ``RuleEngine.add``: KEYS order, spec, remaining, hits, version, counter; ARGV max_rules (-1: no cap), then per
#: rule: id ('' for a fresh one), rule JSON, times ('inf' = forever). Returns the ids, or an error reply
#: ``cap:<in force>`` / ``dup:<id>``; all or nothing.
ADD_RULES = """
local max_rules = tonumber(ARGV[1])
local count = (#ARGV - 1) / 3
local in_force = redis.call('LLEN', KEYS[1])
if max_rules >= 0 and in_force + count > max_rules then
  return redis.error_reply('cap:' .. in_force)
end
local given = {}
for i = 0, count - 1 do
  local ident = ARGV[2 + i * 3]
  if ident ~= '' then
    if given[ident] or redis.call('HEXISTS', KEYS[2], ident) == 1 then
      return redis.error_reply('dup:' .. ident)
    end
    given[ident] = true
  end
end
local ids = {}
for i = 0, count - 1 do
  local ident = ARGV[2 + i * 3]
  if ident == '' then
    repeat
      ident = 'rule_' .. redis.call('INCR', KEYS[6])
    until not given[ident] and redis.call('HEXISTS', KEYS[2], ident) == 0
    given[ident] = true
  end
  redis.call('RPUSH', KEYS[1], ident)
  redis.call('HSET', KEYS[2], ident, ARGV[3 + i * 3])
  redis.call('HSET', KEYS[3], ident, ARGV[4 + i * 3])
  redis.call('HSET', KEYS[4], ident, 0)
  ids[#ids + 1] = ident
end
redis.call('INCR', KEYS[5])
return ids
"""

#: the rules in order with their counts: KEYS order, spec, remaining, hits, version. Returns
#: ``{version, id1, json1, remaining1, hits1, ...}``.
READ_RULES = """
local out = {redis.call('GET', KEYS[5]) or '0'}
for _, ident in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  out[#out + 1] = ident
  out[#out + 1] = redis.call('HGET', KEYS[2], ident) or ''
  out[#out + 1] = redis.call('HGET', KEYS[3], ident) or '0'
  out[#out + 1] = redis.call('HGET', KEYS[4], ident) or '0'
end
return out
"""

#: ``RuleEngine.select``: KEYS remaining, hits, version, replies; ARGV the version the caller's copy of the rules
#: has, then the ids (in order) of the rules that match the request and won their draw. Uses one of the first
#: live one's ``times``. Returns ``{'stale'}`` when the rules changed since, else ``{id or '', queued replies}``.
SELECT_RULE = """
if (redis.call('GET', KEYS[3]) or '0') ~= ARGV[1] then
  return {'stale'}
end
for i = 2, #ARGV do
  local remaining = redis.call('HGET', KEYS[1], ARGV[i])
  if remaining and remaining ~= '0' then
    if remaining ~= 'inf' then
      redis.call('HINCRBY', KEYS[1], ARGV[i], -1)
    end
    redis.call('HINCRBY', KEYS[2], ARGV[i], 1)
    return {ARGV[i], redis.call('LLEN', KEYS[4])}
  end
end
return {'', redis.call('LLEN', KEYS[4])}
"""

#: ``RuleEngine.remove``: KEYS order, spec, remaining, hits, version; ARGV the id. Returns 1 if it was there.
REMOVE_RULE = """
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then
  return 0
end
redis.call('LREM', KEYS[1], 0, ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
redis.call('HDEL', KEYS[4], ARGV[1])
redis.call('INCR', KEYS[5])
return 1
"""

#: ``RuleEngine.update``: KEYS spec, remaining, version; ARGV id, new rule JSON, new remaining ('' = unchanged).
#: Returns 0 when there is no such rule.
UPDATE_RULE = """
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[3] ~= '' then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
end
redis.call('INCR', KEYS[3])
return 1
"""

#: ``RateLimiter.check`` / ``record``: KEYS the buckets' hash; ARGV rpm (0: none), tpm (0: none), mode ('check' or
#: 'record'), the estimate, the actual count (record). Refills both buckets to Redis' clock (``TIME``, so hosts
#: agree), then ``check`` takes one request and the estimate when both fit (nothing otherwise) and ``record``
#: charges the difference. Returns ``{allowed, requests level, tokens level}`` as of before the charge (levels as
#: exact decimal text; '' for a bucket not configured).
RATE_LIMIT = """
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local caps = {requests = tonumber(ARGV[1]), tokens = tonumber(ARGV[2])}
local levels = {}
for name, cap in pairs(caps) do
  if cap > 0 then
    local level = tonumber(redis.call('HGET', KEYS[1], name .. ':level'))
    local updated = tonumber(redis.call('HGET', KEYS[1], name .. ':updated'))
    if level == nil then
      level = cap
      updated = now
    end
    if now > updated then
      level = math.min(cap, level + (now - updated) * (cap / 60.0))
    end
    levels[name] = level
  end
end
local estimate = tonumber(ARGV[4])
local function text(name)
  if levels[name] == nil then return '' end
  return string.format('%.17g', levels[name])
end
local before = {text('requests'), text('tokens')}
local allowed = 0
if ARGV[3] == 'check' then
  local fits = not (levels.tokens ~= nil and estimate > caps.tokens)
  for name, level in pairs(levels) do
    local amount = 1
    if name == 'tokens' then amount = estimate end
    if amount - level > 1e-9 * caps[name] then fits = false end
  end
  if fits then
    allowed = 1
    if levels.requests ~= nil then levels.requests = levels.requests - 1 end
    if levels.tokens ~= nil then levels.tokens = levels.tokens - estimate end
  end
elseif levels.tokens ~= nil then
  levels.tokens = math.min(caps.tokens, levels.tokens - (tonumber(ARGV[5]) - estimate))
end
for name, level in pairs(levels) do
  redis.call('HSET', KEYS[1], name .. ':level', string.format('%.17g', level), name .. ':updated',
    string.format('%.17g', now))
end
return {allowed, before[1], before[2]}
"""

#: ``Journal.begin`` + eviction: KEYS entries, seq, bytes; ARGV size, byte budget (-1: none), then pairs of cost
#: and entry JSON without its ``seq`` (``{...}``). Numbers each entry, appends it, and drops the oldest while
#: either cap is exceeded (the newest entry is always kept).
JOURNAL_ADD = """
local size = tonumber(ARGV[1])
local budget = tonumber(ARGV[2])
for i = 3, #ARGV, 2 do
  local seq = redis.call('INCR', KEYS[2])
  local entry = '{"seq":' .. seq .. ',' .. string.sub(ARGV[i + 1], 2)
  redis.call('RPUSH', KEYS[1], ARGV[i] .. '|' .. entry)
  redis.call('INCRBY', KEYS[3], ARGV[i])
end
local held = redis.call('LLEN', KEYS[1])
while held > 1 and (held > size or (budget >= 0 and tonumber(redis.call('GET', KEYS[3])) > budget)) do
  local dropped = redis.call('LPOP', KEYS[1])
  local cost = tonumber(string.match(dropped, '^(%d+)|'))
  redis.call('DECRBY', KEYS[3], cost)
  held = held - 1
end
return held
"""

#: ``ResourceStore.add``: KEYS order (a sorted set by creation), items, creation counter; ARGV id, item JSON.
#: A new id goes last; an id already stored is replaced in place.
STORE_ADD = """
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then
  redis.call('ZADD', KEYS[1], redis.call('INCR', KEYS[3]), ARGV[1])
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1
"""
