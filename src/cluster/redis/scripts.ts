/**
 * The Lua scripts: each runs atomically on the server, so a check and the write it guards cannot be
 * split by another client. node-redis sends them by EVALSHA and falls back to EVAL on NOSCRIPT (a
 * restarted Redis forgets its script cache).
 */
import { type CommandParser, defineScript } from '@redis/client';

/** Reply: ['ok', id] when written; ['epoch', current] or ['last', current] when fenced. */
const fencedAppend = defineScript({
  SCRIPT: `
local epoch = redis.call('GET', KEYS[3]) or ''
if epoch ~= ARGV[1] then return {'epoch', epoch} end
local last = redis.call('GET', KEYS[2]) or '0-0'
if last ~= ARGV[2] then return {'last', last} end
redis.call('XADD', KEYS[1], ARGV[3], 'b', ARGV[4])
redis.call('SET', KEYS[2], ARGV[3])
return {'ok', ARGV[3]}`,
  NUMBER_OF_KEYS: 3,
  parseCommand(parser: CommandParser, keys: [string, string, string], args: [string, string, string, string]) {
    for (const key of keys) parser.pushKey(key);
    parser.push(...args);
  },
  transformReply: (reply: unknown) => reply as [string, string],
});

/** Reply: the new epoch, or null while anyone holds the lease. */
const acquireLease = defineScript({
  SCRIPT: `
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
return redis.call('INCR', KEYS[2])`,
  NUMBER_OF_KEYS: 2,
  parseCommand(parser: CommandParser, lease: string, epoch: string, owner: string, ttlMs: number) {
    parser.pushKeys([lease, epoch]);
    parser.push(owner, String(ttlMs));
  },
  transformReply: (reply: unknown) => reply as number | null,
});

/** Reply: 1 when the lease held `owner` and its ttl was reset, else 0. */
const renewLease = defineScript({
  SCRIPT: `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('PEXPIRE', KEYS[1], ARGV[2])`,
  NUMBER_OF_KEYS: 1,
  parseCommand(parser: CommandParser, lease: string, owner: string, ttlMs: number) {
    parser.pushKey(lease);
    parser.push(owner, String(ttlMs));
  },
  transformReply: (reply: unknown) => reply as number,
});

/** Reply: 1 when the lease held `owner` and is gone, else 0. */
const releaseLease = defineScript({
  SCRIPT: `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])`,
  NUMBER_OF_KEYS: 1,
  parseCommand(parser: CommandParser, lease: string, owner: string) {
    parser.pushKey(lease);
    parser.push(owner);
  },
  transformReply: (reply: unknown) => reply as number,
});

export const SCRIPTS = { fencedAppend, acquireLease, renewLease, releaseLease };
