import { LeakwatchError } from '@leakwatch/errors';
import { ReplyError } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { toRedisError } from './redis-error.js';

/** An error reply as ioredis raises it. */
function reply(message: string): Error {
  // ioredis types ReplyError as any (it comes from redis-errors, which ships no types)
  return new (ReplyError as new (message: string) => Error)(message);
}

const SHA = 'f_1028a5dba704e1d8a01fd96efeba25bb78f62df2';

describe('toRedisError', () => {
  it.each([
    // Redis 6 (and 5) wraps what a command inside a script replied
    [
      'OOM inside a script (Redis 6)',
      `ERR Error running script (call to ${SHA}): @user_script:57: @user_script: 57: -OOM command not allowed when used memory > 'maxmemory'. `,
    ],
    [
      'READONLY inside a script (Redis 6, after a failover)',
      `ERR Error running script (call to ${SHA}): @user_script:4: @user_script: 4: -READONLY You can't write against a read only replica. `,
    ],
    [
      'LOADING inside a script (Redis 6)',
      `ERR Error running script (call to ${SHA}): @user_script:1: @user_script: 1: -LOADING Redis is loading the dataset in memory`,
    ],
    [
      'MASTERDOWN inside a script (Redis 6)',
      `ERR Error running script (call to ${SHA}): @user_script:2: @user_script: 2: -MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.`,
    ],
    // Redis 7 passes the inner reply through, and plain replies stay as they are
    [
      'OOM inside a script (Redis 7)',
      `OOM command not allowed when used memory > 'maxmemory'. script: 1028a5db, on @user_script:57.`,
    ],
    ['LOADING', 'LOADING Redis is loading the dataset in memory'],
    ['READONLY', "READONLY You can't write against a read only replica."],
    ['BUSY', 'BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.'],
  ])('%s: REDIS_UNAVAILABLE, retried', (_name, message) => {
    const error = toRedisError(reply(message), 'leak lookup');
    expect(error.code).toBe('REDIS_UNAVAILABLE');
    expect(error.retryable).toBe(true);
    expect(error.cause).toBeInstanceOf(ReplyError);
  });

  it.each([
    [
      'a Lua runtime error (Redis 6)',
      `ERR Error running script (call to ${SHA}): @user_script:9: user_script:9: attempt to compare nil with number`,
    ],
    [
      'a bad call from a script (Redis 6)',
      `ERR Error running script (call to ${SHA}): @user_script:1: @user_script: 1: Wrong number of args calling Redis command From Lua script `,
    ],
    [
      'WRONGTYPE inside a script (Redis 6)',
      `ERR Error running script (call to ${SHA}): @user_script:1: @user_script: 1: -WRONGTYPE Operation against a key holding the wrong kind of value`,
    ],
    [
      'WRONGTYPE inside a script (Redis 3)',
      `ERR Error running script (call to ${SHA}): @user_script:1: WRONGTYPE Operation against a key holding the wrong kind of value`,
    ],
    [
      'a syntax error inside a script (Redis 6)',
      `ERR Error running script (call to ${SHA}): @user_script:3: @user_script: 3: -ERR syntax error`,
    ],
    [
      'a Lua runtime error (Redis 7)',
      "ERR user_script:1: Script attempted to access nonexistent global variable 'x' script: 1028a5db, on @user_script:1.",
    ],
    ['WRONGTYPE', 'WRONGTYPE Operation against a key holding the wrong kind of value'],
    ['wrong arity', "ERR wrong number of arguments for 'hget' command"],
  ])('%s: INTERNAL, dead-lettered', (_name, message) => {
    const error = toRedisError(reply(message), 'leak lookup');
    expect(error.code).toBe('INTERNAL');
    expect(error.retryable).toBe(false);
  });

  it('treats errors that are not replies (connection lost, timeouts) as REDIS_UNAVAILABLE', () => {
    expect(toRedisError(new Error('Connection is closed.'), 'x').code).toBe('REDIS_UNAVAILABLE');
    expect(toRedisError(new Error('ERR syntax error'), 'x').code).toBe('REDIS_UNAVAILABLE');
  });

  it('passes a LeakwatchError through', () => {
    const original = new LeakwatchError('VALIDATION_FAILED', 'bad');
    expect(toRedisError(original, 'x')).toBe(original);
  });
});
