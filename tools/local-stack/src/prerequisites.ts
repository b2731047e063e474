import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { LeakwatchError } from '@leakwatch/errors';
import { PROMETHEUS_BINARY, prometheusInstalled } from './prometheus.js';

const execFileAsync = promisify(execFile);

async function output(command: string, args: string[]): Promise<string | undefined> {
  try {
    const { stdout, stderr } = await execFileAsync(command, args, { timeout: 30_000 });
    return `${stdout}${stderr}`;
  } catch (error) {
    const e = error as { code?: string; stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') return undefined;
    return `${e.stdout ?? ''}${e.stderr ?? ''}`;
  }
}

export interface Prerequisites {
  java: string;
  javaMajor: number;
  maven: string;
  redisServer: string;
}

/**
 * Checks the tools the local stack runs on, and lists everything missing in one message
 * with what to install (or to use docker compose instead).
 */
export async function checkPrerequisites(needs: {
  java: boolean;
  redis: boolean;
  prometheus?: boolean;
}): Promise<Prerequisites> {
  const java =
    process.env.LEAKWATCH_JAVA ?? (process.env.JAVA_HOME ? `${process.env.JAVA_HOME}/bin/java` : 'java');
  const problems: string[] = [];
  let javaMajor = 0;
  if (needs.java) {
    const version = await output(java, ['-version']);
    const match = version ? /version "(\d+)(?:\.(\d+))?/.exec(version) : null;
    javaMajor = match ? Number(match[1] === '1' ? match[2] : match[1]) : 0;
    if (!version)
      problems.push(
        `Java 17 or newer is not installed (looked for "${java}"): apt-get install openjdk-17-jre-headless`,
      );
    else if (javaMajor < 17)
      problems.push(`Java ${javaMajor} found, 17 or newer needed: apt-get install openjdk-17-jre-headless`);
    if (!(await output('mvn', ['-v'])))
      problems.push(
        'Apache Maven is not installed (it fetches Kafka and the registry from Maven Central): apt-get install maven',
      );
  }
  if (needs.redis && !(await output('redis-server', ['--version']))) {
    problems.push('redis-server is not installed: apt-get install redis-server');
  }
  if (needs.prometheus && !prometheusInstalled()) {
    problems.push(
      `Prometheus is not installed (looked for ${PROMETHEUS_BINARY}): apt-get install prometheus (or scripts/bootstrap.sh as root)`,
    );
  }
  if (problems.length > 0) {
    throw new LeakwatchError(
      'PREREQUISITE_MISSING',
      `the local stack cannot start:\n${problems.map((p) => `  - ${p}`).join('\n')}\n` +
        'Or, with Docker: docker compose up -d (see docker-compose.yml).',
    );
  }
  return { java, javaMajor, maven: 'mvn', redisServer: 'redis-server' };
}
