import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * The lib folder of the Kafka distribution the local stack unpacked from Maven Central
 * (`<stack dir>/kafka-<version>/lib`): LEAKWATCH_STACK_DIR, else .cache/stack in the repository.
 */
export function kafkaLibDir(): string | undefined {
  const stackDir = process.env.LEAKWATCH_STACK_DIR ?? resolve(here, '..', '..', '.cache', 'stack');
  if (!existsSync(stackDir)) return undefined;
  const kafka = readdirSync(stackDir)
    .filter((name) => /^kafka-\d/.test(name) && existsSync(join(stackDir, name, 'lib')))
    .sort()
    .pop();
  return kafka ? join(stackDir, kafka, 'lib') : undefined;
}

/**
 * Produces `records` with Kafka's Java producer (kafka-clients) and the given compression codec,
 * batched: what a JVM upstream writes. Resolves once every record is acknowledged.
 */
export async function produceWithJava(options: {
  libDir: string;
  brokers: string;
  topic: string;
  codec: 'gzip' | 'snappy' | 'lz4' | 'zstd';
  records: ReadonlyArray<{ key: string; value: string }>;
}): Promise<void> {
  const child = spawn(
    'java',
    [
      '-cp',
      `${options.libDir}/*`,
      join(here, 'java', 'ProduceCompressed.java'),
      options.brokers,
      options.topic,
      options.codec,
    ],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stdin.end(options.records.map((r) => `${r.key}\t${r.value}\n`).join(''));
  const code = await new Promise<number | null>((resolveExit) => child.on('exit', resolveExit));
  if (code !== 0 || !output.includes(`sent ${options.records.length}`)) {
    throw new Error(`java producer (${options.codec}) failed with ${code}:\n${output.slice(-2000)}`);
  }
}
