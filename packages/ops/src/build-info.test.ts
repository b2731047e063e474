import { describe, expect, it } from 'vitest';
import { createMetricsRegistry, packageVersion, registerBuildInfo } from './index.js';

describe('build info', () => {
  it('exports one series of value 1 whose rule-set version follows reloads', async () => {
    const registry = createMetricsRegistry('monitor', { processMetrics: false });
    let rules = 'v1';
    registerBuildInfo(registry, { service: 'monitor', version: '1.2.3', ruleSetVersion: () => rules });
    expect(await registry.metrics()).toContain(
      'leakwatch_build_info{service="monitor",version="1.2.3",rule_set_version="v1"} 1',
    );
    rules = 'v2';
    const text = await registry.metrics();
    expect(text).toContain('rule_set_version="v2"} 1');
    expect(text).not.toContain('rule_set_version="v1"');
  });

  it('reads a package version, and says unknown when it cannot', () => {
    expect(packageVersion(new URL('../package.json', import.meta.url))).toMatch(/^\d+\.\d+\.\d+/);
    expect(packageVersion(new URL('file:///nonexistent/package.json'))).toBe('unknown');
  });
});
