import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { stackDown, stackUp, type StackEndpoints } from '@leakwatch/local-stack';

export type { StackEndpoints } from '@leakwatch/local-stack';

/** Endpoints named by LEAKWATCH_* variables, or undefined when they are not all set. */
export function endpointsFromEnv(env: NodeJS.ProcessEnv): StackEndpoints | undefined {
  const brokers = env.LEAKWATCH_KAFKA_BROKERS;
  const registry = env.LEAKWATCH_SCHEMA_REGISTRY_URL;
  const redis = env.LEAKWATCH_REDIS_URL;
  if (!brokers || !registry || !redis) return undefined;
  const cluster = env.LEAKWATCH_TEST_REDIS_CLUSTER_NODES;
  return {
    kafkaBrokers: brokers.split(',').map((b) => b.trim()),
    schemaRegistryUrl: registry,
    redisUrl: redis,
    redisClusterNodes: cluster ? cluster.split(',').map((n) => n.trim()) : undefined,
  };
}

/**
 * Starts the local stack for a test run when nothing was given. Stops only what it started,
 * so a developer's running stack is left alone.
 */
export async function startTestStack(): Promise<{ endpoints: StackEndpoints; stop: () => Promise<void> }> {
  const log = (line: string) => process.stderr.write(`[stack] ${line}\n`);
  const result = await stackUp({ redisCluster: true, log });
  return {
    endpoints: result.endpoints,
    stop: async () => {
      if (result.started.length > 0) await stackDown({ only: result.started, log });
    },
  };
}

/** Whether the local stack's tools are installed (else a Docker engine may stand in). */
export async function javaAndMavenPresent(): Promise<boolean> {
  const run = promisify(execFile);
  try {
    await run('java', ['-version']);
    await run('mvn', ['-v']);
    return true;
  } catch {
    return false;
  }
}
