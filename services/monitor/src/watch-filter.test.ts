import type { WatchLogSource } from '@leakwatch/leak-store';
import { silentLogger } from '@leakwatch/logger';
import { describe, expect, it } from 'vitest';
import { watchFilterFromEnv } from './watch-filter.js';

// never read: the filter is not started here
const source = {} as WatchLogSource;
const settings = { LEAKWATCH_WATCH_FILTER_BITS: 16, LEAKWATCH_WATCH_FILTER_MAX_STALE_MS: 2000 } as const;

describe('watchFilterFromEnv', () => {
  it('is null when the filter is turned off', () => {
    expect(
      watchFilterFromEnv({ ...settings, LEAKWATCH_WATCH_FILTER: false }, source, silentLogger()),
    ).toBeNull();
  });

  it('builds a filter that answers nothing from memory before its first load', () => {
    const filter = watchFilterFromEnv({ ...settings, LEAKWATCH_WATCH_FILTER: true }, source, silentLogger());
    expect(filter?.stats).toMatchObject({ active: false, builtCards: 0, syncAgeMs: null });
  });
});
