/**
 * Lua scripts. Each touches only the keys it is given, and every call groups keys of one hash
 * tag, so they run unchanged on a single Redis and on Redis Cluster. Values follow the record
 * format in codec.ts: varint(incidentNumber * 2 + hasTag) [+ 9-byte packed tag].
 * No shebang flags, so they also run on Redis 6.2.
 */

/** Walks the records of a value; calls visit(number, tagOrFalse, startPos, endPos). */
const RECORD_WALKER = `
local function walk(v, visit)
  local pos, n = 1, #v
  while pos <= n do
    local start = pos
    local h, mul, b = 0, 1, 0
    repeat
      b = string.byte(v, pos)
      pos = pos + 1
      h = h + (b % 128) * mul
      mul = mul * 128
    until b < 128
    local tag = false
    if h % 2 == 1 then
      tag = string.sub(v, pos, pos + 8)
      pos = pos + 9
    end
    visit(math.floor(h / 2), tag, start, pos - 1)
  end
end
`;

/**
 * Sets filter bits, and the sentinel bit 0: `offsets` is a Lua table of bit offsets; BITFIELD
 * in slices (Lua's unpack limit).
 */
const FILTER_SETTER = `
local function setBits(fkey, offsets)
  local args = {'SET', 'u1', 0, 1}
  for j = 1, #offsets do
    args[#args + 1] = 'SET'
    args[#args + 1] = 'u1'
    args[#args + 1] = offsets[j]
    args[#args + 1] = 1
    if #args >= 4000 then
      redis.call('BITFIELD', fkey, unpack(args))
      args = {}
    end
  end
  if #args > 0 then redis.call('BITFIELD', fkey, unpack(args)) end
end
local function filterBit(s, p, fbits)
  local b1, b2, b3, b4 = string.byte(s, p, p + 3)
  return (((b1 * 256 + b2) * 256 + b3) * 256 + b4) % fbits
end
`;

/**
 * Adds cards of one group to one incident.
 * KEYS[1] = the group's counter hash; KEYS[2] = the group's filter; KEYS[3] = the group's watch
 * log; KEYS[3+i] = bucket of card i.
 * ARGV[1] = incident number; ARGV[2] = field length; ARGV[3] = offset of the filter bytes in a
 * field (0-based); ARGV[4] = filter bits; ARGV[5] = fields of all cards, concatenated;
 * ARGV[6] = their packed tags, 9 bytes each (zeros when none); ARGV[7] = one byte per card,
 * "1" when it has a tag; ARGV[8] = offset of the watch-log bytes in a field (0-based);
 * ARGV[9] = the header (8 bytes) of the watch log if this call creates it.
 * Returns {cards newly watched in the incident, expiry tags added to already watched cards, unchanged}.
 * The counter, the filter and the watch log move in the same script as the data, so they stay
 * exact under retries: a card new to the group is appended to the log once.
 */
const ADD_CARDS_LUA = `${RECORD_WALKER}${FILTER_SETTER}
local no = tonumber(ARGV[1])
local flen = tonumber(ARGV[2])
local foff = tonumber(ARGV[3])
local fbits = tonumber(ARGV[4])
local fields, tags, flags = ARGV[5], ARGV[6], ARGV[7]
local function varint(x)
  local s = ''
  while x >= 128 do
    s = s .. string.char(x % 128 + 128)
    x = math.floor(x / 128)
  end
  return s .. string.char(x)
end
local plain = varint(no * 2)
local tagged = varint(no * 2 + 1)
local added, expiries, unchanged = 0, 0, 0
local offsets = {}
local logOff = tonumber(ARGV[8])
local logged = {}
for i = 1, #KEYS - 3 do
  local key = KEYS[i + 3]
  local fstart = (i - 1) * flen + 1
  local field = string.sub(fields, fstart, fstart + flen - 1)
  offsets[i] = filterBit(fields, fstart + foff, fbits)
  local tag = false
  if string.byte(flags, i) == 49 then tag = string.sub(tags, (i - 1) * 9 + 1, i * 9) end
  local rec = plain
  if tag then rec = tagged .. tag end
  if redis.call('HSETNX', key, field, rec) == 1 then
    added = added + 1
    logged[#logged + 1] = string.sub(field, logOff + 1, logOff + 8)
  else
    local v = redis.call('HGET', key, field)
    local seen, same, plainStart, plainEnd = false, false, false, false
    walk(v, function(rno, rtag, s, e)
      if rno == no then
        seen = true
        if not rtag then
          plainStart, plainEnd = s, e
        elseif rtag == tag then
          same = true
        end
      end
    end)
    if not seen then
      redis.call('HSET', key, field, v .. rec)
      added = added + 1
    elseif (not tag) or same then
      unchanged = unchanged + 1
    elseif plainStart then
      redis.call('HSET', key, field, string.sub(v, 1, plainStart - 1) .. rec .. string.sub(v, plainEnd + 1))
      expiries = expiries + 1
    else
      redis.call('HSET', key, field, v .. rec)
      expiries = expiries + 1
    end
  end
end
setBits(KEYS[2], offsets)
if added > 0 then redis.call('HINCRBY', KEYS[1], ARGV[1], added) end
if #logged > 0 then
  if redis.call('EXISTS', KEYS[3]) == 0 then redis.call('SET', KEYS[3], ARGV[9]) end
  redis.call('APPEND', KEYS[3], table.concat(logged))
end
return {added, expiries, unchanged}
`;

/**
 * Looks fingerprints up, checking each group's filter first so most misses cost no HGET.
 * KEYS[1..g] = the filters of the g groups in this call; KEYS[g+i] = bucket of fingerprint i,
 * fingerprints ordered by group. ARGV[1] = field length; ARGV[2] = offset of the filter bytes
 * in a field; ARGV[3] = filter bits; ARGV[4] = fields, concatenated; ARGV[4+k] = how many
 * fingerprints belong to group k. A missing filter (never expected: keys must not be evicted)
 * reads 0 at its sentinel bit and makes its group fall back to plain HGETs, so it can only
 * cost speed, never a hit.
 * Returns only hits, flat: {i, value, i, value, ...}.
 */
const LOOKUP_LUA = `
local flen = tonumber(ARGV[1])
local foff = tonumber(ARGV[2])
local fbits = tonumber(ARGV[3])
local fields = ARGV[4]
local groups = #ARGV - 4
local byte, sub, call = string.byte, string.sub, redis.call
local out, o = {}, 0
local args = {}
local done = 0
for k = 1, groups do
  local count = tonumber(ARGV[4 + k])
  args[1], args[2], args[3] = 'GET', 'u1', 0
  local a = 3
  for j = 1, count do
    local p = (done + j - 1) * flen + 1 + foff
    local b1, b2, b3, b4 = byte(fields, p, p + 3)
    args[a + 1], args[a + 2], args[a + 3] = 'GET', 'u1', (((b1 * 256 + b2) * 256 + b3) * 256 + b4) % fbits
    a = a + 3
  end
  local bits = call('BITFIELD', KEYS[k], unpack(args, 1, a))
  -- bits[1] is the sentinel: 0 means no filter, so every fingerprint of the group is checked.
  local all = bits[1] == 0
  for j = 1, count do
    if all or bits[j + 1] == 1 then
      local i = done + j
      local s = (i - 1) * flen + 1
      local v = call('HGET', KEYS[groups + i], sub(fields, s, s + flen - 1))
      if v then
        out[o + 1], out[o + 2] = i, v
        o = o + 2
      end
    end
  end
  done = done + count
end
return out
`;

/**
 * Rebuilds one group's filter and watch log from its buckets (bits and log entries of removed
 * cards linger until then).
 * KEYS[1] = the filter; KEYS[2] = the watch log; KEYS[3..] = every bucket of the group.
 * ARGV[1] = offset of the filter bytes in a field; ARGV[2] = filter bits; ARGV[3] = offset of
 * the watch-log bytes in a field; ARGV[4] = the new log's header (8 bytes, a new generation).
 * Returns the number of cards seen.
 */
const REBUILD_FILTER_LUA = `${FILTER_SETTER}
local foff = tonumber(ARGV[1])
local fbits = tonumber(ARGV[2])
local logOff = tonumber(ARGV[3])
redis.call('DEL', KEYS[1])
redis.call('SETBIT', KEYS[1], fbits - 1, 0)
local offsets = {}
local logged = {ARGV[4]}
for k = 3, #KEYS do
  local fields = redis.call('HKEYS', KEYS[k])
  for j = 1, #fields do
    offsets[#offsets + 1] = filterBit(fields[j], 1 + foff, fbits)
    logged[#logged + 1] = string.sub(fields[j], logOff + 1, logOff + 8)
  end
end
setBits(KEYS[1], offsets)
redis.call('SET', KEYS[2], table.concat(logged))
return #offsets
`;

/**
 * Reads a group's watch log from a byte offset. KEYS[1] = the log; ARGV[1] = first byte
 * (0-based, at least 8: after the header); ARGV[2] = most bytes to return.
 * Returns {header (8 bytes, empty when there is no log), log length, the bytes read}; reading
 * header and bytes in one call tells a reader when the log was rebuilt under it.
 */
const READ_WATCH_LOG_LUA = `
local len = redis.call('STRLEN', KEYS[1])
if len == 0 then return {'', 0, ''} end
local from = tonumber(ARGV[1])
local to = math.min(len, from + tonumber(ARGV[2])) - 1
local bytes = ''
if to >= from then bytes = redis.call('GETRANGE', KEYS[1], from, to) end
return {redis.call('GETRANGE', KEYS[1], 0, 7), len, bytes}
`;

/**
 * Takes cards of one group off the watch list in every incident.
 * KEYS[1] = the group's counter hash; KEYS[1+i] = bucket of card i; ARGV[i] = its field.
 * Returns {{i, incidentNumber...}, ...} for the cards that were watched.
 */
const REMOVE_CARDS_LUA = `${RECORD_WALKER}
local out = {}
for i = 2, #KEYS do
  local field = ARGV[i - 1]
  local v = redis.call('HGET', KEYS[i], field)
  if v then
    redis.call('HDEL', KEYS[i], field)
    local entry, seen = {i - 1}, {}
    walk(v, function(rno)
      if not seen[rno] then
        seen[rno] = true
        entry[#entry + 1] = rno
        if redis.call('HINCRBY', KEYS[1], tostring(rno), -1) <= 0 then
          redis.call('HDEL', KEYS[1], tostring(rno))
        end
      end
    end)
    out[#out + 1] = entry
  end
end
return out
`;

/**
 * Drops the records of retired incidents from some buckets of one group.
 * KEYS[1] = the group's counter hash; KEYS[2..] = bucket hashes; ARGV = retired incident numbers.
 * Returns {values rewritten, cards no longer watched at all}.
 */
const PURGE_LUA = `${RECORD_WALKER}
local retired = {}
for i = 1, #ARGV do retired[tonumber(ARGV[i])] = true end
local rewritten, dropped = 0, 0
for k = 2, #KEYS do
  local all = redis.call('HGETALL', KEYS[k])
  for j = 1, #all, 2 do
    local v = all[j + 1]
    local kept, changed = {}, false
    walk(v, function(rno, _, s, e)
      if retired[rno] then changed = true else kept[#kept + 1] = string.sub(v, s, e) end
    end)
    if changed then
      if #kept == 0 then
        redis.call('HDEL', KEYS[k], all[j])
        dropped = dropped + 1
      else
        redis.call('HSET', KEYS[k], all[j], table.concat(kept))
        rewritten = rewritten + 1
      end
    end
  end
end
for i = 1, #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]) end
return {rewritten, dropped}
`;

/**
 * Creates an incident (giving it the next number) or updates its manifest fields.
 * KEYS = meta hash, ids hash, incident hash. ARGV[1] = incidentId, ARGV[2] = now (ISO),
 * ARGV[3..] = field, value pairs. Returns {created (0/1), number, changed (0/1)}.
 */
const UPSERT_INCIDENT_LUA = `
local no = redis.call('HGET', KEYS[2], ARGV[1])
if not no then
  no = redis.call('HINCRBY', KEYS[1], 'seq', 1)
  redis.call('HSET', KEYS[2], ARGV[1], no)
  redis.call('HSET', KEYS[3], 'number', no, 'status', 'active', 'createdAt', ARGV[2], 'updatedAt', ARGV[2], 'retiredAt', '')
  for i = 3, #ARGV, 2 do redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1]) end
  redis.call('HINCRBY', KEYS[1], 'version', 1)
  return {1, no, 1}
end
local changed = 0
for i = 3, #ARGV, 2 do
  if redis.call('HGET', KEYS[3], ARGV[i]) ~= ARGV[i + 1] then
    redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
    changed = 1
  end
end
if changed == 1 then
  redis.call('HSET', KEYS[3], 'updatedAt', ARGV[2])
  redis.call('HINCRBY', KEYS[1], 'version', 1)
end
return {0, tonumber(no), changed}
`;

/**
 * Marks an incident retired. KEYS = meta hash, ids hash, incident hash; ARGV[1] = incidentId,
 * ARGV[2] = now. Returns 0 when unknown, 1 when retired now, 2 when it already was.
 */
const RETIRE_INCIDENT_LUA = `
if not redis.call('HGET', KEYS[2], ARGV[1]) then return 0 end
if redis.call('HGET', KEYS[3], 'status') == 'retired' then return 2 end
redis.call('HSET', KEYS[3], 'status', 'retired', 'retiredAt', ARGV[2], 'updatedAt', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'version', 1)
return 1
`;

/**
 * Stores the layout unless one is stored already; returns the stored one.
 * KEYS[1] = meta hash; ARGV = layoutVersion, bucketBits, groupBits, fieldBytes, filterBits, capacity and
 * maxEntriesPerBucket (the last two only for operators to read). A store created here has
 * complete watch logs from its first card, so it is marked `watchLogs` = 1 (a store created
 * before watch logs existed gets the mark from its first filter rebuild).
 */
const INIT_LAYOUT_LUA = `
if redis.call('HEXISTS', KEYS[1], 'layoutVersion') == 0 then
  redis.call('HSET', KEYS[1], 'layoutVersion', ARGV[1], 'bucketBits', ARGV[2], 'groupBits', ARGV[3],
    'fieldBytes', ARGV[4], 'filterBits', ARGV[5], 'capacity', ARGV[6], 'maxEntriesPerBucket', ARGV[7],
    'watchLogs', '1')
end
return redis.call('HMGET', KEYS[1], 'layoutVersion', 'bucketBits', 'groupBits', 'fieldBytes', 'filterBits', 'capacity')
`;

export const SCRIPTS = {
  addCards: ADD_CARDS_LUA,
  lookup: LOOKUP_LUA,
  rebuildFilter: REBUILD_FILTER_LUA,
  removeCards: REMOVE_CARDS_LUA,
  purge: PURGE_LUA,
  upsertIncident: UPSERT_INCIDENT_LUA,
  retireIncident: RETIRE_INCIDENT_LUA,
  initLayout: INIT_LAYOUT_LUA,
  readWatchLog: READ_WATCH_LOG_LUA,
} as const;

export type ScriptName = keyof typeof SCRIPTS;
