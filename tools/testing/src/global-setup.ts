import type { TestProject } from 'vitest/node';
import { dockerReachable, startContainerStack } from './containers.js';
import { endpointsFromEnv, javaAndMavenPresent, startTestStack } from './stack.js';

/**
 * Integration tests get real endpoints: the LEAKWATCH_* variables when set (CI and
 * `pnpm test` set them after `leakwatch stack up`), else a stack this setup starts and stops.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const fromEnv = endpointsFromEnv(process.env);
  if (fromEnv) {
    project.provide('endpoints', fromEnv);
    return async () => {};
  }
  // LEAKWATCH_TEST_STACK=containers uses Docker through testcontainers; by default the local
  // stack (real processes, no Docker) runs, and containers only when Java or Maven is missing
  // but a Docker engine is there.
  const wanted = process.env.LEAKWATCH_TEST_STACK;
  const useContainers =
    wanted === 'containers' || (wanted !== 'local' && dockerReachable() && !(await javaAndMavenPresent()));
  const stack = useContainers ? await startContainerStack() : await startTestStack();
  project.provide('endpoints', stack.endpoints);
  return stack.stop;
}
