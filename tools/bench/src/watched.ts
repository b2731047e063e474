import type { Keyring } from '@leakwatch/card';
import { LeakStore } from '@leakwatch/leak-store';
import type { RedisClient } from '@leakwatch/redis';
import { generateCards, type WatchedCard } from '@leakwatch/simulator';

/**
 * An incident `incidentId` watching `count` generated cards (seed 77) under `prefix`, imported
 * in batches of 5,000. The benchmark's traffic puts 1% of authorizations on these cards. The
 * caller drops and closes the store when done.
 */
export async function watchBenchCards(options: {
  redis: RedisClient;
  prefix: string;
  incidentId: string;
  count: number;
  keyring: Keyring;
  keyId: string;
}): Promise<{ store: LeakStore; watched: WatchedCard[] }> {
  const { keyring, keyId } = options;
  const cards = generateCards({ count: options.count, seed: 77 });
  const store = new LeakStore({ redis: options.redis, keyPrefix: options.prefix });
  await store.start();
  await store.upsertIncident({
    incidentId: options.incidentId,
    source: 'benchmark',
    compromiseType: 'WEB_SKIMMING',
    exposureStart: '2020-02-24',
    exposureEnd: '2024-10-15',
    disclosedAt: '2025-05-28',
    dataExposed: ['PAN', 'EXPIRY', 'CVV', 'NAME'],
    watchUntil: null,
  });
  for (let i = 0; i < cards.length; i += 5000) {
    await store.addCards(
      options.incidentId,
      cards.slice(i, i + 5000).map((c) => {
        const fingerprint = keyring.fingerprint(c.pan);
        return { fingerprint, expiryTag: keyring.expiryTag(fingerprint, c.expiry, keyId) };
      }),
    );
  }
  return { store, watched: cards.map((c) => ({ pan: c.pan, expiry: c.expiry })) };
}
