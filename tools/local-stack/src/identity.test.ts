import { describe, expect, it } from 'vitest';
import { childEnv, identityOf, sameProcess, startTimeOf, type ProcReader } from './identity.js';

/** A fake /proc: pid -> [stat state, start time, argv]. */
function fakeProc(processes: Record<number, { state?: string; start: string; argv: string[] }>): ProcReader {
  return (path) => {
    const [, pid, file] = /^\/proc\/(\d+)\/(\w+)$/.exec(path) ?? [];
    const p = processes[Number(pid)];
    if (!p) return Promise.reject(Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' }));
    if (file === 'cmdline') return Promise.resolve(`${p.argv.join('\0')}\0`);
    // fields 3..22 after "pid (comm) ": state, then 18 numbers, then starttime
    const middle = Array.from({ length: 18 }, (_, i) => String(i + 1)).join(' ');
    return Promise.resolve(`${pid} (a (weird) name) ${p.state ?? 'S'} ${middle} ${p.start} 0 0\n`);
  };
}

const DIR = '/home/dev/leakwatch/.cache/stack';
const redisLegacy = { program: 'redis-server', ports: [16379], dir: DIR };
const javaLegacy = { program: 'java', ports: [19092, 19093], dir: DIR };
const kafkaArgv = [
  'java',
  '-Xmx768m',
  '-cp',
  `${DIR}/kafka/lib/*`,
  'kafka.Kafka',
  `${DIR}/kafka/server.properties`,
];

describe('process identity from /proc', () => {
  it('reads the start time past a command name holding spaces and parentheses', async () => {
    const read = fakeProc({ 42: { start: '987654', argv: ['redis-server', '127.0.0.1:16379'] } });
    expect(await identityOf(42, read)).toEqual({
      pid: 42,
      startTime: '987654',
      cmdline: 'redis-server 127.0.0.1:16379',
    });
    expect(startTimeOf('1 (x) S')).toBeUndefined();
    expect(await identityOf(43, read)).toBeUndefined();
    expect(await identityOf(42, fakeProc({ 42: { state: 'Z', start: '1', argv: ['x'] } }))).toBeUndefined();
  });
});

describe('stack down: is this pid still the process we started? (issue 7, defect 16)', () => {
  const recorded = { pid: 500, startTime: '1000', cmdline: kafkaArgv.join(' ') };

  it('yes: same start time, same full command line', async () => {
    expect(
      await sameProcess(recorded, javaLegacy, fakeProc({ 500: { start: '1000', argv: kafkaArgv } })),
    ).toBe(true);
  });

  it('no: the pid was reused by another java process (other start time)', async () => {
    const other = fakeProc({ 500: { start: '2000', argv: kafkaArgv } });
    expect(await sameProcess(recorded, javaLegacy, other)).toBe(false);
  });

  it('no: a different command line under the same pid and start time', async () => {
    const other = fakeProc({ 500: { start: '1000', argv: ['java', '-jar', '/opt/someone-else/app.jar'] } });
    expect(await sameProcess(recorded, javaLegacy, other)).toBe(false);
  });

  it('no: gone', async () => {
    expect(await sameProcess(recorded, javaLegacy, fakeProc({}))).toBe(false);
  });

  it('start time known, command line not yet (stopped before ready): start time decides', async () => {
    const partial = { pid: 500, startTime: '1000' };
    expect(
      await sameProcess(partial, javaLegacy, fakeProc({ 500: { start: '1000', argv: kafkaArgv } })),
    ).toBe(true);
    expect(
      await sameProcess(partial, javaLegacy, fakeProc({ 500: { start: '1001', argv: kafkaArgv } })),
    ).toBe(false);
  });

  it('a pid-only record (older state file) needs the stack folder or a port, not merely "java"', async () => {
    const someoneElse = fakeProc({ 500: { start: '1', argv: ['java', '-jar', '/opt/ide/idea.jar'] } });
    expect(await sameProcess({ pid: 500 }, javaLegacy, someoneElse)).toBe(false);
    const otherRedis = fakeProc({ 500: { start: '1', argv: ['redis-server', '127.0.0.1:6379'] } });
    expect(await sameProcess({ pid: 500 }, redisLegacy, otherRedis)).toBe(false);
    const ourRedis = fakeProc({ 500: { start: '1', argv: ['redis-server', '127.0.0.1:16379'] } });
    expect(await sameProcess({ pid: 500 }, redisLegacy, ourRedis)).toBe(true);
    expect(
      await sameProcess({ pid: 500 }, javaLegacy, fakeProc({ 500: { start: '1', argv: kafkaArgv } })),
    ).toBe(true);
  });
});

describe('stack processes get a minimal environment (issue 7, defect 16)', () => {
  it('passes PATH, HOME, JAVA_HOME, the locale and proxies; never Leakwatch secrets', () => {
    const env = childEnv(
      {
        PATH: '/usr/bin',
        HOME: '/home/dev',
        JAVA_HOME: '/usr/lib/jvm/java-17',
        LANG: 'C.UTF-8',
        HTTPS_PROXY: 'http://proxy:3128',
        LEAKWATCH_FINGERPRINT_KEYS: 'k1:c2VjcmV0',
        LEAKWATCH_KAFKA_SASL_PASSWORD: 'sasl-secret',
        LEAKWATCH_REDIS_CLUSTER_PASSWORD: 'redis-secret',
        LEAKWATCH_REDIS_URL: 'redis://user:pw@host:6379',
        AWS_SECRET_ACCESS_KEY: 'aws',
        NODE_OPTIONS: '--require /tmp/x.js',
      },
      { KAFKA_HEAP_OPTS: '-Xmx1g' },
    );
    expect(env).toEqual({
      PATH: '/usr/bin',
      HOME: '/home/dev',
      JAVA_HOME: '/usr/lib/jvm/java-17',
      LANG: 'C.UTF-8',
      HTTPS_PROXY: 'http://proxy:3128',
      KAFKA_HEAP_OPTS: '-Xmx1g',
    });
  });
});
