import type { TestProject } from 'vitest/node';
import { endpointsFromEnv, startTestStack, type StackEndpoints } from './stack.js';

declare module 'vitest' {
  export interface ProvidedContext {
    endpoints: StackEndpoints;
  }
}

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
  const stack = await startTestStack();
  project.provide('endpoints', stack.endpoints);
  return stack.stop;
}
