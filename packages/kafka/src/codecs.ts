import { createRequire } from 'node:module';
import { LeakwatchError } from '@leakwatch/errors';
import { decompress as zstdDecompress } from 'fzstd';
import type * as KafkaJs from 'kafkajs';
import type { CompressionTypes as CompressionTypesEnum } from 'kafkajs';

// kafkajs and the codec packages are CommonJS: their registries and functions are reached through
// require, because Node's ESM loader does not see CompressionCodecs as a named export.
const require = createRequire(import.meta.url);
const kafkajs = require('kafkajs') as typeof KafkaJs;
const snappyCodec = require('kafkajs-snappy') as () => Codec;
const lz4js = require('lz4js') as { decompress(src: Uint8Array): ArrayLike<number> };

interface Codec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

/** Output compression the monitor can write (LEAKWATCH_KAFKA_COMPRESSION). */
// lz4 is read only too: the broker refused lz4js' frames in the integration test
export const OUTPUT_COMPRESSIONS = ['none', 'gzip', 'snappy'] as const;
export type OutputCompression = (typeof OUTPUT_COMPRESSIONS)[number];

/** The kafkajs compression type of a setting. */
export function compressionType(name: OutputCompression): CompressionTypesEnum {
  const { CompressionTypes } = kafkajs;
  return {
    none: CompressionTypes.None,
    gzip: CompressionTypes.GZIP,
    snappy: CompressionTypes.Snappy,
  }[name];
}

const lz4Codec = (): Codec => ({
  compress: () =>
    Promise.reject(
      new LeakwatchError('CONFIG_INVALID', 'lz4 is read, not written: choose snappy or gzip for output'),
    ),
  decompress: (buffer) => Promise.resolve(Buffer.from(lz4js.decompress(buffer) as Uint8Array)),
});

const zstdCodec = (): Codec => ({
  compress: () =>
    Promise.reject(
      new LeakwatchError('CONFIG_INVALID', 'zstd is read, not written: choose snappy or gzip for output'),
    ),
  decompress: (buffer) => Promise.resolve(Buffer.from(zstdDecompress(buffer))),
});

let registered = false;

/**
 * Registers codecs for every compression a Kafka producer may use (gzip is built into kafkajs):
 * snappy (kafkajs-snappy, pure JS, reads the xerial framing of Java producers), lz4 (lz4js, pure
 * JS, read only), zstd (fzstd, pure JS, read only). Pure JavaScript on
 * purpose: nothing to build or download at install, on any Node version. Without them kafkajs
 * throws on the first such batch and every restart fails on it again.
 */
export function registerCompressionCodecs(): void {
  if (registered) return;
  const { CompressionCodecs, CompressionTypes } = kafkajs;
  CompressionCodecs[CompressionTypes.Snappy] = snappyCodec;
  CompressionCodecs[CompressionTypes.LZ4] = lz4Codec;
  CompressionCodecs[CompressionTypes.ZSTD] = zstdCodec;
  registered = true;
}
