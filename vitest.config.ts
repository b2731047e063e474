import { defineConfig } from 'vitest/config';

// Two projects: unit tests (pure logic, beside the code) and integration tests against real
// Kafka, schema registry and Redis (*.int.test.ts, plus the cross-service tests in test/).
// Workspace packages resolve to their TypeScript sources through the @leakwatch/source condition.
// Vite resolves Node-side (SSR) imports with its own conditions: without `ssr.resolve`, tests
// would silently run the last build in dist/ instead of the sources.
const resolve = { conditions: ['@leakwatch/source'] };
const ssr = { resolve: { conditions: ['@leakwatch/source'], externalConditions: ['@leakwatch/source'] } };

export default defineConfig({
  resolve,
  ssr,
  test: {
    projects: [
      {
        resolve,
        ssr,
        test: {
          name: 'unit',
          include: [
            'packages/*/src/**/*.test.ts',
            'services/*/src/**/*.test.ts',
            'tools/*/src/**/*.test.ts',
            'test/*.test.ts',
          ],
          exclude: ['**/*.int.test.ts', '**/node_modules/**', '**/dist/**'],
        },
      },
      {
        resolve,
        ssr,
        test: {
          name: 'integration',
          include: [
            'packages/*/src/**/*.int.test.ts',
            'services/*/src/**/*.int.test.ts',
            'tools/*/src/**/*.int.test.ts',
            'test/**/*.int.test.ts',
          ],
          exclude: ['**/node_modules/**', '**/dist/**'],
          globalSetup: ['tools/testing/src/global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 300_000,
          // Integration tests share one broker, one registry and one Redis; files run one at a
          // time so their timings stay honest on a 2-core machine.
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
        },
      },
    ],
  },
});
