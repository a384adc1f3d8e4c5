/**
 * The Lua scripts behind the Redis stores. Each runs atomically on one slot: KEYS[1] is the base key of what it
 * works on (see `redis-keys.ts`), and every other key it touches is built from it, so on a Redis Cluster the script
 * runs on the node that owns that slot. That is what makes presence counts exact across instances, a dead
 * instance's leaves announced by exactly one survivor, and history offsets published in the order they were
 * given out.
 */

/** Presence scripts: KEYS[1] is a scope's base key, ARGV[1] the time to live of its keys (ms). */
const SCOPE_LIB = `
local B = KEYS[1]
local TTL = ARGV[1]
local CONNS, USERS, INFO = B .. ':presence:conns', B .. ':presence:users', B .. ':presence:info'
local function node_set(node) return B .. ':presence:node:' .. node end
-- Every key expires: if all nodes stop at once, no reaper is left to remove their entries. Live nodes refresh theirs.
local function touch(node)
  for _, key in ipairs({CONNS, USERS, INFO, node_set(node)}) do redis.call('PEXPIRE', key, TTL) end
end
local function add_entry(node, conn, user, info)
  if redis.call('HSETNX', CONNS, conn, user) == 0 then return false end
  redis.call('SADD', node_set(node), conn)
  local first = redis.call('HINCRBY', USERS, user, 1) == 1
  if first then redis.call('HSET', INFO, user, info) end
  touch(node)
  return first
end
-- Forgets a connection; returns {user, info} when it was the user's last connection in the scope.
local function remove_entry(node, conn)
  local user = redis.call('HGET', CONNS, conn)
  if not user then return nil end
  redis.call('HDEL', CONNS, conn)
  redis.call('SREM', node_set(node), conn)
  if redis.call('HINCRBY', USERS, user, -1) > 0 then return nil end
  redis.call('HDEL', USERS, user)
  local info = redis.call('HGET', INFO, user)
  redis.call('HDEL', INFO, user)
  return {user, info or '{}'}
end
-- Forgets every entry of a node in the scope; returns a map user -> info of the users who left.
local function remove_node(node)
  local left = {}
  for _, conn in ipairs(redis.call('SMEMBERS', node_set(node))) do
    local gone = remove_entry(node, conn)
    if gone then left[gone[1]] = gone[2] end
  end
  redis.call('DEL', node_set(node))
  return left
end
local function flatten(left)
  local out = {}
  for user, info in pairs(left) do out[#out + 1] = user; out[#out + 1] = info end
  return out
end
`;

/**
 * ARGV: ttl, node, connection, user, info, limit or "". Returns 1 when the user just became a member, 0 when it was
 * one already, -1 (recording nothing) when the user has `limit` connections in the scope already.
 */
const PRESENCE_ADD = `${SCOPE_LIB}
if ARGV[6] ~= '' and redis.call('HEXISTS', CONNS, ARGV[3]) == 0
  and tonumber(redis.call('HGET', USERS, ARGV[4]) or 0) >= tonumber(ARGV[6]) then
  return -1
end
return add_entry(ARGV[2], ARGV[3], ARGV[4], ARGV[5]) and 1 or 0
`;

/** ARGV: ttl, node, connection. Returns [user, info] when it was the user's last connection, else nil. */
const PRESENCE_REMOVE = `${SCOPE_LIB}
return remove_entry(ARGV[2], ARGV[3])
`;

/** ARGV: ttl, user, info. Replaces a member's info; returns 1 when the user is a member, else 0. */
const PRESENCE_SET_INFO = `${SCOPE_LIB}
if redis.call('HEXISTS', USERS, ARGV[2]) == 0 then return 0 end
redis.call('HSET', INFO, ARGV[2], ARGV[3])
redis.call('PEXPIRE', INFO, TTL)
return 1
`;

/**
 * ARGV: ttl, node, then [connection, user, info] for each entry the node really holds in the scope. Replaces the
 * node's recorded entries there with these (after Redis lost them, after the node was reaped while alive, or with
 * none: a dead node's removal); returns [user, info, ...] for users who were members and are not any more.
 */
const PRESENCE_RESYNC_SCOPE = `${SCOPE_LIB}
local node = ARGV[2]
local left = remove_node(node)
for i = 3, #ARGV, 3 do
  add_entry(node, ARGV[i], ARGV[i + 1], ARGV[i + 2])
  left[ARGV[i + 1]] = nil
end
return flatten(left)
`;

/** ARGV: ttl, node. Puts off the expiry of the scope's keys (the node holds entries there). */
const PRESENCE_TOUCH = `${SCOPE_LIB}
touch(ARGV[2])
return 1
`;

/** Node registry scripts: KEYS[1] is the registry's base key, ARGV[1] the time to live of its keys (ms). */
const NODES_LIB = `
local R = KEYS[1]
local TTL = ARGV[1]
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function scopes(node) return R .. ':scopes:' .. node end
-- SADD of ARGV[from..], in chunks (unpack has a stack limit).
local function add_scopes(node, from)
  for i = from, #ARGV, 1000 do
    redis.call('SADD', scopes(node), unpack(ARGV, i, math.min(i + 999, #ARGV)))
  end
  redis.call('PEXPIRE', scopes(node), TTL)
end
`;

/** ARGV: ttl, node, then scopes. Records the node (if new) and the scopes where it is about to hold entries. */
const NODES_REGISTER = `${NODES_LIB}
redis.call('ZADD', R, 'NX', now_ms(), ARGV[2])
redis.call('PEXPIRE', R, TTL)
if #ARGV > 2 then add_scopes(ARGV[2], 3) end
return 1
`;

/**
 * ARGV: ttl, node, timeout ms. Records the heartbeat; returns 1 when the node had been missing or silent past the
 * timeout (its entries may have been reaped: it must resync them), else 0.
 */
const NODES_HEARTBEAT = `${NODES_LIB}
local now = now_ms()
local previous = redis.call('ZSCORE', R, ARGV[2])
redis.call('ZADD', R, now, ARGV[2])
redis.call('PEXPIRE', R, TTL)
redis.call('PEXPIRE', scopes(ARGV[2]), TTL)
if not previous or now - tonumber(previous) > tonumber(ARGV[3]) then return 1 end
return 0
`;

/**
 * ARGV: ttl, node (the caller, never claimed), timeout ms. Claims every node silent past the timeout: takes it out
 * of the registry and returns [node, count, scope1, ..., scopeN, ...], to the one caller that claimed it, which then
 * removes the node's entries scope by scope (PRESENCE_RESYNC_SCOPE with none) and announces the leaves.
 */
const NODES_CLAIM_DEAD = `${NODES_LIB}
local cutoff = now_ms() - tonumber(ARGV[3])
local out = {}
for _, node in ipairs(redis.call('ZRANGEBYSCORE', R, '-inf', cutoff)) do
  if node ~= ARGV[2] then
    local held = redis.call('SMEMBERS', scopes(node))
    out[#out + 1] = node; out[#out + 1] = #held
    for _, scope in ipairs(held) do out[#out + 1] = scope end
    redis.call('ZREM', R, node)
    redis.call('DEL', scopes(node))
  end
end
return out
`;

/**
 * ARGV: ttl, node, then the scopes where the node holds entries now (none: it leaves). Replaces its recorded scopes
 * and returns the ones recorded before, so the caller cleans those it no longer holds.
 */
const NODES_SET_SCOPES = `${NODES_LIB}
local before = redis.call('SMEMBERS', scopes(ARGV[2]))
redis.call('DEL', scopes(ARGV[2]))
if #ARGV > 2 then
  add_scopes(ARGV[2], 3)
  redis.call('ZADD', R, now_ms(), ARGV[2])
  redis.call('PEXPIRE', R, TTL)
else
  redis.call('ZREM', R, ARGV[2])
end
return before
`;

/** History scripts: KEYS[1] is the channel's base key (also its pub/sub channel). */
const HISTORY_LIB = `
local B = KEYS[1]
local meta = B .. ':history:meta'
local log = B .. ':history:log'
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function part(id, n)
  local dash = string.find(id, '-', 1, true)
  if n == 1 then return tonumber(string.sub(id, 1, dash - 1)) end
  return tonumber(string.sub(id, dash + 1))
end
-- Opens the channel (a new epoch when it has none) and drops expired entries; returns epoch, offset.
local function open(new_epoch, ttl, now)
  if redis.call('HSETNX', meta, 'epoch', new_epoch) == 1 then
    redis.call('HSET', meta, 'offset', 0)
    redis.call('DEL', log)
  end
  if ttl ~= '' then
    local cutoff = now - tonumber(ttl)
    while true do
      local oldest = redis.call('XRANGE', log, '-', '+', 'COUNT', 64)
      if #oldest == 0 then break end
      local keep = nil
      for _, entry in ipairs(oldest) do
        if part(entry[1], 2) > cutoff then keep = entry[1]; break end
      end
      if keep then redis.call('XTRIM', log, 'MINID', keep); break end
      redis.call('XTRIM', log, 'MINID', (part(oldest[#oldest][1], 1) + 1) .. '-0')
    end
    redis.call('PEXPIRE', meta, ttl)
    redis.call('PEXPIRE', log, ttl)
  end
  return redis.call('HGET', meta, 'epoch'), tonumber(redis.call('HGET', meta, 'offset'))
end
`;

/**
 * ARGV: frame (without offset), size, ttl ms or "", new epoch, then optionally the publish command (PUBLISH, or
 * SPUBLISH on a cluster) and the broker header: the message is published on the channel (KEYS[1]) in the same step,
 * so every node receives the channel's messages in offset order. Returns [epoch, offset, frame with offset].
 */
const HISTORY_APPEND = `${HISTORY_LIB}
local now = now_ms()
local epoch = open(ARGV[4], ARGV[3], now)
local offset = redis.call('HINCRBY', meta, 'offset', 1)
local frame = '{"offset":' .. offset .. ',' .. string.sub(ARGV[1], 2)
redis.call('XADD', log, 'MAXLEN', tonumber(ARGV[2]), offset .. '-' .. now, 'f', frame)
if ARGV[3] ~= '' then
  redis.call('PEXPIRE', meta, ARGV[3])
  redis.call('PEXPIRE', log, ARGV[3])
end
if ARGV[5] then
  local header = ARGV[6]
  redis.call(ARGV[5], B, string.sub(header, 1, -2) .. ',"offset":' .. offset .. '}\\n' .. frame)
end
return {epoch, offset, frame}
`;

/**
 * ARGV: since or "", limit, ttl ms or "", new epoch. Returns [epoch, offset, complete (0/1), offset1, frame1,
 * offset2, frame2, ...], oldest first.
 */
const HISTORY_READ = `${HISTORY_LIB}
local epoch, offset = open(ARGV[4], ARGV[3], now_ms())
local limit = tonumber(ARGV[2])
local out = {epoch, offset, 1}
local entries
if ARGV[1] == '' then
  entries = redis.call('XREVRANGE', log, '+', '-', 'COUNT', limit)
  for i = #entries, 1, -1 do
    out[#out + 1] = part(entries[i][1], 1); out[#out + 1] = entries[i][2][2]
  end
  return out
end
local since = tonumber(ARGV[1])
local first = redis.call('XRANGE', log, '-', '+', 'COUNT', 1)[1]
local complete = since <= offset and (since == offset or (first ~= nil and part(first[1], 1) <= since + 1))
out[3] = complete and 1 or 0
entries = redis.call('XRANGE', log, (since + 1) .. '-0', '+', 'COUNT', limit)
for _, entry in ipairs(entries) do
  out[#out + 1] = part(entry[1], 1); out[#out + 1] = entry[2][2]
end
return out
`;

/**
 * KEYS[1]: a bucket; ARGV: limit, window ms. A token bucket on Redis time (up to `limit` tokens, refilled at `limit`
 * per window): takes one token and returns 0, or returns how many ms until one more would be allowed.
 */
const RATE_LIMIT = `
local limit, window = tonumber(ARGV[1]), tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or limit
local at = tonumber(state[2]) or now
if now > at then tokens = math.min(limit, tokens + (now - at) * limit / window) end
if tokens >= 1 then
  tokens = tokens - 1
  redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
  redis.call('PEXPIRE', KEYS[1], math.ceil((limit - tokens) * window / limit) + 1)
  return 0
end
return math.max(1, math.ceil((1 - tokens) * window / limit))
`;

export const REDIS_SCRIPTS = {
  realtimeRateLimit: RATE_LIMIT,
  realtimePresenceAdd: PRESENCE_ADD,
  realtimePresenceRemove: PRESENCE_REMOVE,
  realtimePresenceSetInfo: PRESENCE_SET_INFO,
  realtimePresenceResyncScope: PRESENCE_RESYNC_SCOPE,
  realtimePresenceTouch: PRESENCE_TOUCH,
  realtimeNodesRegister: NODES_REGISTER,
  realtimeNodesHeartbeat: NODES_HEARTBEAT,
  realtimeNodesClaimDead: NODES_CLAIM_DEAD,
  realtimeNodesSetScopes: NODES_SET_SCOPES,
  realtimeHistoryAppend: HISTORY_APPEND,
  realtimeHistoryRead: HISTORY_READ,
} as const;

/** A script as a command: the base key, then its arguments. */
type Script<Result> = (key: string, ...args: (string | number)[]) => Promise<Result>;

/** The scripts as commands on the command connection (ioredis `defineCommand`, EVALSHA with a fallback). */
export interface RedisScripts {
  realtimeRateLimit: Script<number>;
  realtimePresenceAdd: Script<-1 | 0 | 1>;
  realtimePresenceRemove: Script<[string, string] | null>;
  realtimePresenceSetInfo: Script<0 | 1>;
  realtimePresenceResyncScope: Script<string[]>;
  realtimePresenceTouch: Script<1>;
  realtimeNodesRegister: Script<1>;
  realtimeNodesHeartbeat: Script<0 | 1>;
  realtimeNodesClaimDead: Script<(string | number)[]>;
  realtimeNodesSetScopes: Script<string[]>;
  realtimeHistoryAppend: Script<[string, number, string]>;
  realtimeHistoryRead: Script<(string | number)[]>;
}
