import { readFile } from 'node:fs/promises';

/**
 * Who a pid is: its command line and its start time (clock ticks since boot, field 22 of
 * /proc/<pid>/stat). A pid alone can be reused by another process once ours has exited; the
 * pair (pid, start time) cannot, on one boot.
 */
export interface ProcessIdentity {
  pid: number;
  cmdline: string;
  startTime: string;
}

/** What `stack up` records per process: start time at launch, command line once ready. */
export interface RecordedProcess {
  pid: number;
  startTime?: string | undefined;
  cmdline?: string | undefined;
}

/** Reads a /proc file; injected in tests. */
export type ProcReader = (path: string) => Promise<string>;

const readProc: ProcReader = (path) => readFile(path, 'utf8');

/** The start time from the text of /proc/<pid>/stat (the name in parentheses may hold spaces). */
export function startTimeOf(stat: string): string | undefined {
  const close = stat.lastIndexOf(')');
  if (close < 0) return undefined;
  // after "pid (comm) " come fields 3 (state) onwards; starttime is field 22
  const fields = stat.slice(close + 2).split(' ');
  const value = fields[22 - 3];
  return value !== undefined && /^\d+$/.test(value) ? value : undefined;
}

/** The identity of a live process, or undefined when it is gone (or is a zombie). */
export async function identityOf(
  pid: number,
  read: ProcReader = readProc,
): Promise<ProcessIdentity | undefined> {
  try {
    const [stat, cmdline] = await Promise.all([read(`/proc/${pid}/stat`), read(`/proc/${pid}/cmdline`)]);
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    const startTime = startTimeOf(stat);
    if (startTime === undefined || state === 'Z') return undefined;
    return { pid, startTime, cmdline: cmdline.replace(/\0+$/, '').replaceAll('\0', ' ') };
  } catch {
    return undefined;
  }
}

/**
 * True when `recorded` still names the same process: same start time and the same full command
 * line as recorded. A record written before identities were kept (pid only) is accepted only
 * when the command line names the service's program and one of its ports or the stack folder.
 */
export async function sameProcess(
  recorded: RecordedProcess,
  legacy: { program: string; ports: readonly number[]; dir: string },
  read: ProcReader = readProc,
): Promise<boolean> {
  const now = await identityOf(recorded.pid, read);
  if (!now) return false;
  if (recorded.startTime !== undefined && recorded.startTime !== now.startTime) return false;
  if (recorded.cmdline !== undefined) return recorded.cmdline === now.cmdline;
  if (recorded.startTime !== undefined) return now.cmdline.includes(legacy.program);
  return (
    now.cmdline.includes(legacy.program) &&
    (now.cmdline.includes(legacy.dir) ||
      legacy.ports.some((port) => now.cmdline.includes(`:${port}`) || now.cmdline.includes(`=${port}`)))
  );
}

/**
 * Variables a stack process may see. Everything else stays out: the fingerprint keys, SASL and
 * Redis passwords and any other secret of the shell that ran `leakwatch stack up`.
 */
const PASSED = [
  'PATH',
  'HOME',
  'USER',
  'LOGNAME',
  'LANG',
  'LANGUAGE',
  'LC_ALL',
  'LC_CTYPE',
  'TZ',
  'TMPDIR',
  'JAVA_HOME',
  'MAVEN_HOME',
  'M2_HOME',
  'MAVEN_OPTS',
  // Maven Central behind a proxy
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
  'http_proxy',
  'https_proxy',
  'no_proxy',
] as const;

/** The environment for a stack process: the allow-listed variables of `from`, then `extra`. */
export function childEnv(
  from: NodeJS.ProcessEnv = process.env,
  extra: Record<string, string> = {},
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const name of PASSED) if (from[name] !== undefined) env[name] = from[name];
  return { ...env, ...extra };
}
