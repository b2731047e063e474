import { readFileSync } from 'node:fs';
import { Gauge, type Registry } from 'prom-client';

/**
 * leakwatch_build_info{service,version,rule_set_version} = 1: what runs where, for dashboards
 * and for joining onto alerts (`* on(instance) group_left(version) leakwatch_build_info`). The
 * rule-set version is read at scrape time, so a hot reload shows at once; services without
 * rules report "none".
 */
export function registerBuildInfo(
  registry: Registry,
  info: { service: string; version: string; ruleSetVersion?: () => string },
): void {
  new Gauge({
    name: 'leakwatch_build_info',
    help: 'Build and configuration of this process (value 1): service, version, rule-set version.',
    labelNames: ['service', 'version', 'rule_set_version'] as const,
    registers: [registry],
    collect() {
      this.reset();
      this.set(
        { service: info.service, version: info.version, rule_set_version: info.ruleSetVersion?.() ?? 'none' },
        1,
      );
    },
  });
}

/** The `version` of the package.json at `url` (e.g. new URL('../package.json', import.meta.url)). */
export function packageVersion(url: URL): string {
  try {
    const parsed = JSON.parse(readFileSync(url, 'utf8')) as { version?: unknown };
    return typeof parsed.version === 'string' ? parsed.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
