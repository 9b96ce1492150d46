"""The keys of the Redis hit queue (`gateway.delivery.redis_queue`) and the Lua scripts that
keep them, each touching the keys of one stream only (one hash tag: one Cluster slot).

    cg:hits:{hits.<vendor>.<shard>}          stream   `h`: the hit's JSON, `s`: its subject's
                                                      tombstone hash (erasure deletes by it),
                                                      `a`: its client key (fair share)
    cg:hits-sending:{hits.<vendor>.<shard>}  set      ids being sent (written, maybe delivered)
    cg:hits-dead:{hits.<vendor>.<shard>}     stream   dead letters (`h` parameter names, `r`
                                                      reason), capped, trimmed by the purge
    cg:hits-share:{hits.<vendor>.<shard>}    hash     `anon` and `a:<client>` entry counts
    cg:hit-streams                           set      every stream's key (for erasure, purge)
    cg:schema-version                        string   the layout's version (`redis_schema`)

On a Cluster the vendors' (and shards') streams spread over the slots. Acknowledged entries
are deleted (`XACK` + `XDEL`), so `XLEN` is the depth, pending entries included. A dead
worker's entries are reclaimed with `XAUTOCLAIM` once idle for the lease; a live worker renews
what it still holds (waiting out a backoff) with `XCLAIM … JUSTID`, after checking it still
holds them.
"""

from __future__ import annotations

# KEYS: stream, share hash. ARGV: cap in entries, cap in bytes, most anonymous entries, most
# entries per client, then (the hit's JSON, its subject hash or '', its client or '') triples.
# The stream's size is `MEMORY USAGE` (sampled: an estimate within a few %); each hit appended
# counts its own length until the next call measures again. A client's share applies once the
# stream is half full. Returns {appended, refused: cap, anonymous share, client share}.
APPEND = """
local depth = redis.call('XLEN', KEYS[1])
local bytes = tonumber(ARGV[2]) - (redis.call('MEMORY', 'USAGE', KEYS[1]) or 0)
local cap = tonumber(ARGV[1])
local anon = tonumber(redis.call('HGET', KEYS[2], 'anon') or '0')
local result = {0, 0, 0, 0}
for i = 5, #ARGV, 3 do
  local json, subject, client = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local size = #json + #subject + #client
  local held = 0
  if client ~= '' and depth * 2 >= cap then
    held = tonumber(redis.call('HGET', KEYS[2], 'a:' .. client) or '0')
  end
  if depth >= cap or size > bytes then
    result[2] = result[2] + 1
  elseif subject == '' and anon >= tonumber(ARGV[3]) then
    result[3] = result[3] + 1
  elseif held >= tonumber(ARGV[4]) then
    result[4] = result[4] + 1
  else
    local fields = {'h', json}
    if subject ~= '' then
      fields[#fields + 1] = 's'; fields[#fields + 1] = subject
    else
      anon = anon + 1
      redis.call('HINCRBY', KEYS[2], 'anon', 1)
    end
    if client ~= '' then
      fields[#fields + 1] = 'a'; fields[#fields + 1] = client
      redis.call('HINCRBY', KEYS[2], 'a:' .. client, 1)
    end
    redis.call('XADD', KEYS[1], '*', unpack(fields))
    depth = depth + 1
    bytes = bytes - size
    result[1] = result[1] + 1
  end
end
return result
"""

# Lua shared by the scripts that delete entries: their share counts go down with them (an
# emptied stream drops its share hash, which also ends any drift from erasure's own XDEL).
FORGET = """
local function forget(stream, share, id)
  local entry = redis.call('XRANGE', stream, id, id)[1]
  if not entry then return end
  local fields, subject, client = entry[2], nil, nil
  for k = 1, #fields, 2 do
    if fields[k] == 's' then subject = fields[k + 1] end
    if fields[k] == 'a' then client = fields[k + 1] end
  end
  if not subject then redis.call('HINCRBY', share, 'anon', -1) end
  if client then redis.call('HINCRBY', share, 'a:' .. client, -1) end
end
local function tidy(stream, share)
  if redis.call('XLEN', stream) == 0 then redis.call('DEL', share) end
end
"""

# KEYS: stream, sending set. ARGV: consumer, lease in ms, then the ids. Marks (and renews) the
# entries the consumer still holds within its lease, not already marked; returns their ids.
MARK = """
local marked = {}
for i = 3, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], 'delivery', ARGV[i], ARGV[i], 1, ARGV[1])
  if p[1] and tonumber(p[1][3]) < tonumber(ARGV[2])
      and redis.call('SISMEMBER', KEYS[2], ARGV[i]) == 0 then
    redis.call('XCLAIM', KEYS[1], 'delivery', ARGV[1], 0, ARGV[i], 'JUSTID')
    redis.call('SADD', KEYS[2], ARGV[i])
    marked[#marked + 1] = ARGV[i]
  end
end
return marked
"""

# KEYS: stream. ARGV: consumer, then the ids. Renews the entries the consumer still holds
# (`XCLAIM` alone would take back one another worker has reclaimed meanwhile).
RENEW = """
for i = 2, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], 'delivery', ARGV[i], ARGV[i], 1, ARGV[1])
  if p[1] then
    redis.call('XCLAIM', KEYS[1], 'delivery', ARGV[1], 0, ARGV[i], 'JUSTID')
  end
end
return 1
"""

# KEYS: stream, sending set. ARGV: consumer, then the ids. Gives back the entries the consumer
# holds and has not marked: idle since the epoch, so the next `XAUTOCLAIM` takes them at once.
RELEASE = """
local now = redis.call('TIME')
local idle = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000) - 1
for i = 2, #ARGV do
  local p = redis.call('XPENDING', KEYS[1], 'delivery', ARGV[i], ARGV[i], 1, ARGV[1])
  if p[1] and redis.call('SISMEMBER', KEYS[2], ARGV[i]) == 0 then
    redis.call('XCLAIM', KEYS[1], 'delivery', ARGV[1], 0, ARGV[i], 'IDLE', idle, 'JUSTID')
  end
end
return 1
"""

# KEYS: stream, sending set, share hash. ARGV: the ids.
ACK = (
    FORGET
    + """
for i = 1, #ARGV do forget(KEYS[1], KEYS[3], ARGV[i]) end
redis.call('XACK', KEYS[1], 'delivery', unpack(ARGV))
redis.call('XDEL', KEYS[1], unpack(ARGV))
redis.call('SREM', KEYS[2], unpack(ARGV))
tidy(KEYS[1], KEYS[3])
return #ARGV
"""
)

# KEYS: stream, sending set, dead-letter stream, share hash. ARGV: kept, reason, the gateway's time in ms,
# then id, body pairs. A dead letter's id carries the gateway's time, not the server's: the purge
# trims by the gateway's clock (`XTRIM MINID`), so both must be the same clock (never going back
# in one stream, whatever the instances' clocks say).
DEAD_LETTER = (
    FORGET
    + """
local ms = tonumber(ARGV[3])
local top = redis.call('XREVRANGE', KEYS[3], '+', '-', 'COUNT', 1)[1]
if top then
  local top_ms = tonumber(string.match(top[1], '^(%d+)'))
  if top_ms > ms then ms = top_ms end
end
local id = string.format('%.0f-*', ms)
for i = 4, #ARGV, 2 do
  forget(KEYS[1], KEYS[4], ARGV[i])
  redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[1], id, 'h', ARGV[i + 1], 'r', ARGV[2])
  redis.call('XACK', KEYS[1], 'delivery', ARGV[i])
  redis.call('XDEL', KEYS[1], ARGV[i])
  redis.call('SREM', KEYS[2], ARGV[i])
end
tidy(KEYS[1], KEYS[4])
return 1
"""
)
