import { LeakStore } from '@leakwatch/leak-store';
import type { Logger } from '@leakwatch/logger';
import type { RedisClient } from '@leakwatch/redis';

/** What the watch list knows of an incident and an alert does not carry. */
export interface IncidentInfo {
  source: string;
  watchedCards: number;
}

/**
 * The incidents as the leak store (the monitor's watch list, same Redis and prefix) has them:
 * each one's source and how many cards are watched. Read on demand; started on first use, so
 * the console starts without it, and pages show "unknown" while it cannot be read.
 */
export class IncidentDirectory {
  private readonly store: LeakStore;

  constructor(
    redis: RedisClient,
    keyPrefix: string,
    private readonly logger: Logger,
  ) {
    this.store = new LeakStore({ redis, keyPrefix });
  }

  async info(): Promise<ReadonlyMap<string, IncidentInfo>> {
    try {
      await this.store.start();
      const incidents = await this.store.listIncidents();
      return new Map(
        incidents.map((i) => [i.incidentId, { source: i.source, watchedCards: i.watchedCards }]),
      );
    } catch (error) {
      this.logger.warn({ err: error }, 'incidents of the watch list could not be read');
      return new Map();
    }
  }

  close(): Promise<void> {
    return this.store.close();
  }
}
