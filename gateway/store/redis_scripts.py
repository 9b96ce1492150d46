"""The Lua scripts that make a write under a subject and the check of its tombstone one operation.

Each script takes its keys in fixed-width groups, one group per item, with the subject's
tombstone (`redis_keys.suppression_key`, in the subject's slot) in each group (the single node's
`ADD_RECEIPTS` adds the batch's day sets after them). On a single node
one call carries every item of a batch; on a Cluster the batch is split by slot and each slot
gets its own call (`RedisConnection.per_subject`). Every script answers one integer per item:
1 written, 0 already there, -1 refused because the subject was erased.
"""

from __future__ import annotations

# Single node only (the day sets live in other slots). KEYS: per receipt its subject hash and
# tombstone; then the day set of each day of the batch; then the set of days. ARGV: retention
# seconds; per day "<expiry> <day start> <day>"; per receipt "<day's number> <time> <id> <body>"
# (one argument per receipt: packing arguments is most of what a batch costs the client). A day
# set's expiry and the set of days are written once per day of the batch that got a receipt.
ADD_RECEIPTS = """
local receipts = #KEYS - #ARGV
local days, keep, done, touched = #ARGV - 1 - receipts, ARGV[1], {}, {}
for i = 1, receipts do
  local day, at, id, body = string.match(ARGV[1 + days + i], '^(%d+) (%S+) (%S+) (.*)$')
  day = tonumber(day)
  if redis.call('EXISTS', KEYS[2 * i]) == 1 then
    done[i] = -1
  else
    done[i] = redis.call('HSETNX', KEYS[2 * i - 1], id, body)
    redis.call('EXPIRE', KEYS[2 * i - 1], keep)
    redis.call('ZADD', KEYS[2 * receipts + day], at, body)
    touched[day] = true
  end
end
for d = 1, days do
  if touched[d] then
    local expiry, start, day = string.match(ARGV[1 + d], '^(%S+) (%S+) (%S+)$')
    redis.call('EXPIREAT', KEYS[2 * receipts + d], expiry)
    redis.call('ZADD', KEYS[#KEYS], start, day)
  end
end
return done
"""

# KEYS per receipt: subject hash, tombstone. ARGV: retention seconds, then id, body per receipt.
# (Cluster: the day sets are written before and undone after for the refused ones.)
ADD_SUBJECT_RECEIPTS = """
local keep, done = ARGV[1], {}
for i = 1, #KEYS / 2 do
  local subject, tomb, a = KEYS[2 * i - 1], KEYS[2 * i], 2 + (i - 1) * 2
  if redis.call('EXISTS', tomb) == 1 then
    done[i] = -1
  else
    done[i] = redis.call('HSETNX', subject, ARGV[a], ARGV[a + 1])
    redis.call('EXPIRE', subject, keep)
  end
end
return done
"""

# KEYS per event: the subject's event set, tombstone. ARGV: retention seconds, cutoff, then
# time and body per event. Expired events of the subject go as new ones arrive.
ADD_EVENTS = """
local keep, cutoff, done = ARGV[1], ARGV[2], {}
for i = 1, #KEYS / 2 do
  local events, tomb, a = KEYS[2 * i - 1], KEYS[2 * i], 3 + (i - 1) * 2
  if redis.call('EXISTS', tomb) == 1 then
    done[i] = -1
  else
    done[i] = redis.call('ZADD', events, ARGV[a], ARGV[a + 1])
    redis.call('ZREMRANGEBYSCORE', events, '-inf', '(' .. cutoff)
    redis.call('EXPIRE', events, keep)
  end
end
return done
"""

# KEYS per item: the key to set, tombstone. ARGV: the value per item. (Consent, objection.)
SET_UNLESS_ERASED = """
local done = {}
for i = 1, #KEYS / 2 do
  if redis.call('EXISTS', KEYS[2 * i]) == 1 then
    done[i] = -1
  else
    redis.call('SET', KEYS[2 * i - 1], ARGV[i])
    done[i] = 1
  end
end
return done
"""

# Erasure, in the subject's slot. KEYS: receipts hash, event set, email consent, objection,
# tombstone. ARGV: erasure time. Writes the tombstone (the first erasure's date stays), deletes
# the rest but the receipts, and answers {erased at, receipt bodies, events, consent,
# objection}. The receipts stay until their copies in the day sets are gone (another slot), so
# an erasure cut short is finished by running it again; the tombstone hides them meanwhile.
ERASE_SUBJECT = """
redis.call('SET', KEYS[5], ARGV[1], 'NX')
local erased_at = redis.call('GET', KEYS[5])
local bodies = redis.call('HVALS', KEYS[1])
local events = redis.call('ZCARD', KEYS[2])
local consent = redis.call('EXISTS', KEYS[3])
local objection = redis.call('EXISTS', KEYS[4])
redis.call('DEL', KEYS[2])
redis.call('DEL', KEYS[3])
redis.call('DEL', KEYS[4])
return {erased_at, bodies, events, consent, objection}
"""

# KEYS: a hit queue stream, its sending set, its share hash. ARGV: entry ids. Deletes queued
# hits (of an erased subject) whether or not a worker has taken them, and their client's count
# in the queue's fair share; a stream without its group yet is fine.
FORGET_QUEUED_HITS = """
for i = 1, #ARGV do
  local entry = redis.call('XRANGE', KEYS[1], ARGV[i], ARGV[i])[1]
  if entry then
    for k = 1, #entry[2], 2 do
      if entry[2][k] == 'a' then redis.call('HINCRBY', KEYS[3], 'a:' .. entry[2][k + 1], -1) end
    end
  end
end
pcall(redis.call, 'XACK', KEYS[1], 'delivery', unpack(ARGV))
redis.call('XDEL', KEYS[1], unpack(ARGV))
redis.call('SREM', KEYS[2], unpack(ARGV))
return #ARGV
"""
