import { describe, expect, it } from 'vitest';
import { DEFAULT_SCRAPE_TARGETS, prometheusConfig, RULES_DIR, scrapeTargetsFromEnv } from './prometheus.js';

describe('local Prometheus configuration', () => {
  it('scrapes one job per service and loads the repository rules by default', () => {
    const config = prometheusConfig();
    for (const [job, targets] of Object.entries(DEFAULT_SCRAPE_TARGETS)) {
      expect(config).toContain(`- job_name: "${job}"`);
      expect(config).toContain(JSON.stringify(targets[0]));
    }
    expect(config).toContain(`- "${RULES_DIR}/*.yml"`);
    expect(RULES_DIR).toMatch(/deploy\/prometheus\/rules$/);
  });

  it('takes targets, rule files and intervals from the caller', () => {
    const config = prometheusConfig({
      targets: { 'leakwatch-monitor': ['127.0.0.1:1234'] },
      ruleFiles: ['/tmp/a.yml'],
      evaluationIntervalSeconds: 1,
    });
    expect(config).toContain('evaluation_interval: 1s');
    expect(config).toContain('- targets: ["127.0.0.1:1234"]');
    expect(config).not.toContain('9465');
  });

  it('reads LEAKWATCH_STACK_SCRAPE_TARGETS', () => {
    expect(
      scrapeTargetsFromEnv('leakwatch-monitor=127.0.0.1:9464,127.0.0.1:19464;leakwatch-hunt=h:9467'),
    ).toEqual({
      'leakwatch-monitor': ['127.0.0.1:9464', '127.0.0.1:19464'],
      'leakwatch-hunt': ['h:9467'],
    });
    expect(scrapeTargetsFromEnv(undefined)).toBeUndefined();
  });
});
