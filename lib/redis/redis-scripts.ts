/**
 * The Lua scripts behind the Redis stores. Each runs atomically, which is what makes presence counts exact across
 * instances, a dead instance's `user_left` announced by exactly one survivor, and history offsets published in the
 * order they were given out. Keys are built inside the scripts from the prefix (ARGV[1]), so they need one Redis
 * (a primary with replicas is fine; Redis Cluster is not supported).
 *
 * Keys, after the prefix:
 * - `nodes`: sorted set of instance ids, scored by their last heartbeat (Redis time, ms)
 * - `node:<id>:presence`: set of `[scope, connectionId, userId]` entries the instance holds
 * - `presence:<scope>:conns` (connection -> user), `:users` (user -> connections), `:info` (user -> info JSON);
 *   a scope is a channel, or `#connections` for every connection (anonymous ones under the user "")
 * - `history:<channel>:meta` (epoch, offset) and `history:<channel>:log`, a stream with ids `<offset>-<time ms>`
 */

const PRESENCE_LIB = `
local P = ARGV[1]
local TTL = ARGV[2]
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function scope_key(scope, what) return P .. 'presence:' .. scope .. ':' .. what end
local function node_key(node) return P .. 'node:' .. node .. ':presence' end
-- Every key expires: if all nodes stop at once, no reaper is left to remove their entries. Live nodes refresh theirs.
local function touch_scope(scope)
  for _, what in ipairs({'conns', 'users', 'info'}) do redis.call('PEXPIRE', scope_key(scope, what), TTL) end
end
local function add_entry(node, scope, conn, user, info)
  if redis.call('HSETNX', scope_key(scope, 'conns'), conn, user) == 0 then return false end
  redis.call('SADD', node_key(node), cjson.encode({scope, conn, user}))
  redis.call('PEXPIRE', node_key(node), TTL)
  local first = redis.call('HINCRBY', scope_key(scope, 'users'), user, 1) == 1
  if first then redis.call('HSET', scope_key(scope, 'info'), user, info) end
  touch_scope(scope)
  return first
end
-- Forgets a connection; returns the user's info when it was the user's last connection in the scope.
local function remove_entry(scope, conn)
  local user = redis.call('HGET', scope_key(scope, 'conns'), conn)
  if not user then return nil end
  redis.call('HDEL', scope_key(scope, 'conns'), conn)
  if redis.call('HINCRBY', scope_key(scope, 'users'), user, -1) > 0 then return nil end
  redis.call('HDEL', scope_key(scope, 'users'), user)
  local info = redis.call('HGET', scope_key(scope, 'info'), user)
  redis.call('HDEL', scope_key(scope, 'info'), user)
  return {user, info or '{}'}
end
-- Forgets every entry of a node; returns a map "scope\\0user" -> {scope, user, info} of users who left.
local function remove_node(node)
  local left = {}
  for _, entry in ipairs(redis.call('SMEMBERS', node_key(node))) do
    local e = cjson.decode(entry)
    local gone = remove_entry(e[1], e[2])
    if gone then left[e[1] .. '\\0' .. gone[1]] = {e[1], gone[1], gone[2]} end
  end
  redis.call('DEL', node_key(node))
  return left
end
local function flatten(left)
  local out = {}
  for _, v in pairs(left) do
    out[#out + 1] = v[1]; out[#out + 1] = v[2]; out[#out + 1] = v[3]
  end
  return out
end
`;

/**
 * ARGV: prefix, ttl, node, scope, connection, user, info, limit or "". Returns 1 when the user just became a member,
 * 0 when it was one already, -1 (recording nothing) when the user has `limit` connections in the scope already.
 */
const PRESENCE_ADD = `${PRESENCE_LIB}
if ARGV[8] ~= '' and tonumber(redis.call('HGET', scope_key(ARGV[4], 'users'), ARGV[6]) or 0) >= tonumber(ARGV[8])
  and redis.call('HEXISTS', scope_key(ARGV[4], 'conns'), ARGV[5]) == 0 then
  return -1
end
redis.call('ZADD', P .. 'nodes', 'NX', now_ms(), ARGV[3])
redis.call('PEXPIRE', P .. 'nodes', TTL)
return add_entry(ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]) and 1 or 0
`;

/** ARGV: prefix, ttl, node, scope, connection. Returns [user, info] when it was the user's last connection, else nil. */
const PRESENCE_REMOVE = `${PRESENCE_LIB}
local user = redis.call('HGET', scope_key(ARGV[4], 'conns'), ARGV[5])
if not user then return nil end
redis.call('SREM', node_key(ARGV[3]), cjson.encode({ARGV[4], ARGV[5], user}))
return remove_entry(ARGV[4], ARGV[5])
`;

/** ARGV: prefix, ttl, scope, user, info. Replaces a member's info; returns 1 when the user is a member, else 0. */
const PRESENCE_SET_INFO = `${PRESENCE_LIB}
if redis.call('HEXISTS', scope_key(ARGV[3], 'users'), ARGV[4]) == 0 then return 0 end
redis.call('HSET', scope_key(ARGV[3], 'info'), ARGV[4], ARGV[5])
touch_scope(ARGV[3])
return 1
`;

/**
 * ARGV: prefix, ttl, node, timeout ms, refresh ("1" or ""). Records the heartbeat (and with refresh, puts off the
 * expiry of every presence key of this node's entries); returns 1 when the node had been missing or silent past the
 * timeout (its entries may have been reaped: it must resync them).
 */
const PRESENCE_HEARTBEAT = `${PRESENCE_LIB}
local now = now_ms()
local previous = redis.call('ZSCORE', P .. 'nodes', ARGV[3])
redis.call('ZADD', P .. 'nodes', now, ARGV[3])
redis.call('PEXPIRE', P .. 'nodes', TTL)
redis.call('PEXPIRE', node_key(ARGV[3]), TTL)
if ARGV[5] == '1' then
  local touched = {}
  for _, entry in ipairs(redis.call('SMEMBERS', node_key(ARGV[3]))) do
    local scope = cjson.decode(entry)[1]
    if not touched[scope] then touched[scope] = true; touch_scope(scope) end
  end
end
if not previous or now - tonumber(previous) > tonumber(ARGV[4]) then return 1 end
return 0
`;

/**
 * ARGV: prefix, ttl, node (the caller, never reaped), timeout ms. Removes the entries of every node silent past the
 * timeout; returns [scope, user, info, ...] for the users who left, to the one caller that removed them.
 */
const PRESENCE_REAP = `${PRESENCE_LIB}
local cutoff = now_ms() - tonumber(ARGV[4])
local left = {}
for _, node in ipairs(redis.call('ZRANGEBYSCORE', P .. 'nodes', '-inf', cutoff)) do
  if node ~= ARGV[3] then
    for k, v in pairs(remove_node(node)) do left[k] = v end
    redis.call('ZREM', P .. 'nodes', node)
  end
end
return flatten(left)
`;

/**
 * ARGV: prefix, ttl, node, then [scope, connection, user, info] for each entry the node really holds. Replaces the
 * node's recorded entries with these (after Redis lost them, or after the node was reaped while alive); returns
 * [scope, user, info, ...] for users who were recorded and are not any more. An empty list removes the node.
 */
const PRESENCE_RESYNC = `${PRESENCE_LIB}
local node = ARGV[3]
local left = remove_node(node)
for i = 4, #ARGV, 4 do
  add_entry(node, ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3])
  left[ARGV[i] .. '\\0' .. ARGV[i + 2]] = nil
end
if #ARGV > 3 then
  redis.call('ZADD', P .. 'nodes', now_ms(), node)
  redis.call('PEXPIRE', P .. 'nodes', TTL)
else
  redis.call('ZREM', P .. 'nodes', node)
end
return flatten(left)
`;

const HISTORY_LIB = `
local P = ARGV[1]
local meta = P .. 'history:' .. ARGV[2] .. ':meta'
local log = P .. 'history:' .. ARGV[2] .. ':log'
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
 * ARGV: prefix, channel, frame (without offset), size, ttl ms or "", new epoch, then optionally the pub/sub channel
 * and the broker header: the message is published in the same step, so every node receives the channel's messages
 * in offset order. Returns [epoch, offset, frame with offset].
 */
const HISTORY_APPEND = `${HISTORY_LIB}
local now = now_ms()
local epoch = open(ARGV[6], ARGV[5], now)
local offset = redis.call('HINCRBY', meta, 'offset', 1)
local frame = '{"offset":' .. offset .. ',' .. string.sub(ARGV[3], 2)
redis.call('XADD', log, 'MAXLEN', tonumber(ARGV[4]), offset .. '-' .. now, 'f', frame)
if ARGV[5] ~= '' then
  redis.call('PEXPIRE', meta, ARGV[5])
  redis.call('PEXPIRE', log, ARGV[5])
end
if ARGV[7] then
  local header = ARGV[8]
  redis.call('PUBLISH', ARGV[7], string.sub(header, 1, -2) .. ',"offset":' .. offset .. '}\\n' .. frame)
end
return {epoch, offset, frame}
`;

/**
 * ARGV: prefix, channel, since or "", limit, ttl ms or "", new epoch. Returns [epoch, offset, complete (0/1),
 * offset1, frame1, offset2, frame2, ...], oldest first.
 */
const HISTORY_READ = `${HISTORY_LIB}
local epoch, offset = open(ARGV[6], ARGV[5], now_ms())
local limit = tonumber(ARGV[4])
local out = {epoch, offset, 1}
local entries
if ARGV[3] == '' then
  entries = redis.call('XREVRANGE', log, '+', '-', 'COUNT', limit)
  for i = #entries, 1, -1 do
    out[#out + 1] = part(entries[i][1], 1); out[#out + 1] = entries[i][2][2]
  end
  return out
end
local since = tonumber(ARGV[3])
local first = redis.call('XRANGE', log, '-', '+', 'COUNT', 1)[1]
local complete = since <= offset and (since == offset or (first ~= nil and part(first[1], 1) <= since + 1))
out[3] = complete and 1 or 0
entries = redis.call('XRANGE', log, (since + 1) .. '-0', '+', 'COUNT', limit)
for _, entry in ipairs(entries) do
  out[#out + 1] = part(entry[1], 1); out[#out + 1] = entry[2][2]
end
return out
`;

export const REDIS_SCRIPTS = {
  realtimePresenceAdd: PRESENCE_ADD,
  realtimePresenceRemove: PRESENCE_REMOVE,
  realtimePresenceSetInfo: PRESENCE_SET_INFO,
  realtimePresenceHeartbeat: PRESENCE_HEARTBEAT,
  realtimePresenceReap: PRESENCE_REAP,
  realtimePresenceResync: PRESENCE_RESYNC,
  realtimeHistoryAppend: HISTORY_APPEND,
  realtimeHistoryRead: HISTORY_READ,
} as const;

type Script<Result> = (...args: (string | number)[]) => Promise<Result>;

/** The scripts as commands on the command connection (ioredis `defineCommand`, EVALSHA with a fallback). */
export interface RedisScripts {
  realtimePresenceAdd: Script<-1 | 0 | 1>;
  realtimePresenceRemove: Script<[string, string] | null>;
  realtimePresenceSetInfo: Script<0 | 1>;
  realtimePresenceHeartbeat: Script<0 | 1>;
  realtimePresenceReap: Script<string[]>;
  realtimePresenceResync: Script<string[]>;
  realtimeHistoryAppend: Script<[string, number, string]>;
  realtimeHistoryRead: Script<(string | number)[]>;
}
