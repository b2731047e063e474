import { execFileSync } from 'node:child_process';
import { cpus, totalmem, loadavg } from 'node:os';
import { VERSIONS } from '@leakwatch/local-stack';

/** What the figures were measured on: they mean nothing without it. */
export function describeMachine(): string {
  const cpu = cpus();
  let redis = 'unknown';
  try {
    redis = execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).match(/v=(\S+)/)?.[1] ?? redis;
  } catch {
    /* not installed here */
  }
  return [
    `- CPU: ${cpu.length} × ${cpu[0]?.model ?? 'unknown'}`,
    `- memory: ${(totalmem() / 2 ** 30).toFixed(1)} GiB; load average at start ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}`,
    `- Node.js ${process.version}; Kafka ${VERSIONS.kafka} (KRaft, 1 node), Apicurio ${VERSIONS.apicurio}, Redis ${redis}`,
    `- Kafka, the registry, Redis and the process under test share this one machine`,
  ].join('\n');
}

export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] as number;
}
