import { LeakwatchError } from '@leakwatch/errors';

/**
 * Error replies that can only mean a bug in the command we sent. Every other reply (LOADING,
 * BUSY, MISCONF, OOM, READONLY, NOPERM, max clients, cluster redirections...) can heal once an
 * operator or the server acts, and must pause-and-retry rather than dead-letter the authorization.
 * `ERR user_script:` is how Redis 7 reports a Lua runtime error (a bug in the script).
 */
const COMMAND_BUG = /^(WRONGTYPE|ERR (wrong number of arguments|unknown command|syntax error|user_script))/;

/**
 * Redis 6 (and 5) wraps any error reply of a command a script calls:
 * `ERR Error running script (call to f_<sha>): @user_script:12: @user_script: 12: -OOM command
 * not allowed when used memory > 'maxmemory'.` The part after `-` is the inner reply, which
 * decides. A wrapped message without an inner reply is a Lua runtime error: a bug.
 * Redis 7 passes the inner reply through unwrapped (`OOM ... script: <sha>, on @user_script:12.`).
 */
const WRAPPED_SCRIPT_ERROR = /^ERR Error running script\b/;
const INNER_REPLY = /@user_script: ?\d+: -([A-Z]+ .*)$/s;

/** Whether an error reply can heal (retry) or reveals a bug in what we sent (never retried). */
function isHealingReply(message: string): boolean {
  if (WRAPPED_SCRIPT_ERROR.test(message)) {
    const inner = INNER_REPLY.exec(message)?.[1];
    return inner !== undefined && isHealingReply(inner);
  }
  return !COMMAND_BUG.test(message);
}

/**
 * A Redis failure as a LeakwatchError: REDIS_UNAVAILABLE (retryable) for anything that can heal,
 * connection errors included; INTERNAL for an error reply that only a bug can cause.
 */
export function toRedisError(error: unknown, what: string): LeakwatchError {
  if (error instanceof LeakwatchError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const isReply = error instanceof Error && error.name === 'ReplyError';
  if (isReply && !isHealingReply(message)) {
    return new LeakwatchError('INTERNAL', `Redis refused ${what}: ${message}`, { cause: error });
  }
  return new LeakwatchError('REDIS_UNAVAILABLE', `Redis failed during ${what}: ${message}`, { cause: error });
}
