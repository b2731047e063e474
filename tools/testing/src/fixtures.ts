import { randomBytes } from 'node:crypto';
import { SchemaRegistry } from '@kafkajs/confluent-schema-registry';
import { Redis } from 'ioredis';
import { Kafka, logLevel, type Admin, type ITopicConfig } from 'kafkajs';
import { inject, test } from 'vitest';
import type { StackEndpoints } from './stack.js';

// Here rather than beside the global setup that provides it: every importer of this package
// (and so every test calling `inject('endpoints')`) sees the type.
declare module 'vitest' {
  export interface ProvidedContext {
    endpoints: StackEndpoints;
  }
}

export interface IntegrationFixtures {
  /** Real endpoints of Kafka, the registry and Redis for this run. */
  endpoints: StackEndpoints;
  /** A short random id unique to this test, for names that must not collide between tests. */
  testId: string;
  kafka: Kafka;
  admin: Admin;
  /** Creates topics that are deleted when the test ends. Returns the (unique) names. */
  createTopics: (topics: Array<Omit<ITopicConfig, 'topic'> & { name: string }>) => Promise<string[]>;
  /** A fresh 3-partition topic, deleted when the test ends. */
  topic: string;
  /** A fresh consumer group id. */
  groupId: string;
  registry: SchemaRegistry;
  /** A Redis connection; every key under `redisPrefix` is deleted when the test ends. */
  redis: Redis;
  redisPrefix: string;
}

function slug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 40);
}

/** Waits until every partition of `topics` has a leader (15 s at most). */
async function waitForLeaders(admin: Admin, topics: string[]): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const metadata = await admin.fetchTopicMetadata({ topics });
      if (metadata.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0)))
        return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) throw new Error(`no leaders after 15 s for ${topics.join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export const integrationTest = test.extend<IntegrationFixtures>({
  // eslint-disable-next-line no-empty-pattern -- vitest needs the destructuring to see dependencies
  endpoints: async ({}, use) => {
    await use(inject('endpoints'));
  },
  testId: async ({ task }, use) => {
    await use(`${slug(task.name)}-${randomBytes(4).toString('hex')}`);
  },
  kafka: async ({ endpoints }, use) => {
    await use(
      new Kafka({ clientId: 'leakwatch-test', brokers: endpoints.kafkaBrokers, logLevel: logLevel.NOTHING }),
    );
  },
  admin: async ({ kafka }, use) => {
    const admin = kafka.admin();
    await admin.connect();
    await use(admin);
    await admin.disconnect();
  },
  createTopics: async ({ admin, testId }, use) => {
    const created: string[] = [];
    await use(async (topics) => {
      const named = topics.map(({ name, ...config }) => ({
        ...config,
        topic: `${name}.${testId}`,
        numPartitions: config.numPartitions ?? 3,
        replicationFactor: 1,
      }));
      try {
        await admin.createTopics({ topics: named, waitForLeaders: true });
      } catch (error) {
        // kafkajs waits for leaders by asking for the topics' metadata and retries only "leader
        // not available"; a broker under load can first answer "unknown topic" for topics it has
        // just created. They exist: wait for their leaders here instead of failing the test.
        if ((error as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw error;
        await waitForLeaders(
          admin,
          named.map((t) => t.topic),
        );
      }
      created.push(...named.map((t) => t.topic));
      return named.map((t) => t.topic);
    });
    if (created.length > 0) await admin.deleteTopics({ topics: created }).catch(() => undefined);
  },
  topic: async ({ createTopics }, use) => {
    const [name] = await createTopics([{ name: 'test' }]);
    await use(name as string);
  },
  groupId: async ({ testId }, use) => {
    await use(`group-${testId}`);
  },
  registry: async ({ endpoints }, use) => {
    await use(new SchemaRegistry({ host: endpoints.schemaRegistryUrl }));
  },
  redisPrefix: async ({ testId }, use) => {
    await use(`test:${testId}:`);
  },
  redis: async ({ endpoints, redisPrefix }, use) => {
    const redis = new Redis(endpoints.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 2 });
    await redis.connect();
    await use(redis);
    await deleteByPrefix(redis, redisPrefix);
    redis.disconnect();
  },
});

/** Deletes every key starting with `prefix` (SCAN, never KEYS). */
export async function deleteByPrefix(redis: Redis, prefix: string): Promise<number> {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}
