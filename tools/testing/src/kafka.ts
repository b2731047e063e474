import type { Kafka } from 'kafkajs';

export interface CollectedMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, string>;
}

/**
 * Reads a topic from the beginning until `until` says enough (or the timeout passes, which
 * fails). Waits on events, never on fixed sleeps.
 */
export async function collectMessages(
  kafka: Kafka,
  options: {
    topic: string;
    until: (messages: CollectedMessage[]) => boolean;
    timeoutMs?: number;
    groupId?: string;
  },
): Promise<CollectedMessage[]> {
  const consumer = kafka.consumer({
    groupId: options.groupId ?? `collect-${Math.random().toString(36).slice(2)}`,
    sessionTimeout: 10_000,
    heartbeatInterval: 1000,
    maxWaitTimeInMs: 200,
  });
  const messages: CollectedMessage[] = [];
  const timeoutMs = options.timeoutMs ?? 60_000;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic: options.topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `collectMessages(${options.topic}): only ${messages.length} messages after ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
      consumer
        .run({
          eachMessage: ({ topic, partition, message }) => {
            const headers: Record<string, string> = {};
            for (const [key, value] of Object.entries(message.headers ?? {})) {
              if (value !== undefined) headers[key] = Array.isArray(value) ? String(value[0]) : String(value);
            }
            messages.push({
              topic,
              partition,
              offset: message.offset,
              key: message.key,
              value: message.value,
              headers,
            });
            if (options.until(messages)) {
              clearTimeout(timer);
              resolve();
            }
            return Promise.resolve();
          },
        })
        .catch((error: unknown) => {
          clearTimeout(timer);
          reject(error instanceof Error ? error : new Error(String(error)));
        });
    });
    return messages;
  } finally {
    await consumer.disconnect();
  }
}
