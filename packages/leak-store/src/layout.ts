import { LeakwatchError } from '@leakwatch/errors';
import { CLUSTER_SLOTS, keySlot } from '@leakwatch/redis';

/**
 * How watched cards are spread over Redis keys.
 *
 * Buckets. A card lives in the bucket hash picked by the first `bucketBits` bits of its
 * fingerprint. The hash field is the next `fieldBytes` bytes of the fingerprint, raw, starting
 * at byte `floor(bucketBits / 8)`: with the defaults 14 + 128 = 142 bits of the HMAC identify a
 * card, so two different cards would collide with odds of about 2^-142 per pair; storing all
 * 32 bytes would cost 15 more bytes per card (in memory and on the wire) for no practical gain.
 *
 * Groups. Buckets are gathered into `2^groupBits` groups; a group shares one hash tag, hence one
 * cluster slot, so one Lua call can touch every bucket of a group. Group tags are the shortest
 * strings whose slot falls in the g-th equal share of the 16384 slots, so with the default
 * contiguous slot allocation every master holds the same number of groups.
 *
 * Filters. Each group has a presence filter: a string of `filterBits` bits where bit
 * (fingerprint bytes 4-7 as uint32) mod filterBits is set for every card ever added, and bit 0
 * is always set (a sentinel: a missing filter reads 0 there and the lookup falls back to
 * plain HGETs). Most looked-up cards are not watched; the filter answers for them without
 * touching a bucket.
 *
 * Sizing. Each bucket stays a listpack (about 30 bytes per card) while it holds at most
 * `hash-max-listpack-entries` entries; over the limit Redis converts it to a real hash table
 * (about 3× the memory for that bucket, still correct). Lookups scan a listpack linearly, so
 * smaller buckets are faster; every bucket key costs about 100 bytes, so more buckets cost a
 * little memory. The layout is chosen once, when a prefix is first used, from the expected
 * capacity, and stored in Redis; later clients use the stored one.
 */
export interface StoreLayout {
  /** Format of keys and values; bumped only with a migration. */
  readonly layoutVersion: 1;
  readonly bucketBits: number;
  readonly groupBits: number;
  /** Fingerprint bytes kept as the hash field. */
  readonly fieldBytes: number;
  /** Bits of each group's presence filter (a power of two). */
  readonly filterBits: number;
}

export interface LayoutOptions {
  /** Most watched cards this prefix is expected to hold (all incidents together). Default 4,000,000. */
  capacity?: number;
  /** The server's `hash-max-listpack-entries`. Default 512 (Redis's own default). */
  maxEntriesPerBucket?: number;
  /** log2 of the number of hash-tag groups; 6 (64 groups) by default, at most 10. */
  groupBits?: number;
  /** Fingerprint bytes stored per card, 12 to 30. Default 16. */
  fieldBytes?: number;
}

/** Slot of the incident registry: all its keys share the hash tag `{incidents}`. */
export const REGISTRY_SLOT = keySlot('incidents');

export const DEFAULT_CAPACITY = 4_000_000;
export const DEFAULT_MAX_ENTRIES_PER_BUCKET = 512;
const DEFAULT_GROUP_BITS = 6;
const DEFAULT_FIELD_BYTES = 16;
const MAX_BUCKET_BITS = 20;
const MAX_GROUP_BITS = 10;
/** Filter bits per watched card at full capacity: about 6% false positives there, 1.5% at a quarter. */
const FILTER_BITS_PER_CARD = 16;
const MIN_FILTER_BITS = 2 ** 13;
const MAX_FILTER_BITS = 2 ** 32;
const MIN_FIELD_BYTES = 12;
const MAX_FIELD_BYTES = 30;

/**
 * Picks the bucket count so that at full capacity buckets hold on average half of
 * `maxEntriesPerBucket`: the fullest of thousands of buckets then stays far below the limit
 * (Poisson tail), and capacity can be overrun by about 1.5× before the first bucket converts.
 * Filters get 16 bits per card of capacity, rounded up to a power of two.
 */
export function deriveLayout(options: LayoutOptions = {}): StoreLayout {
  const capacity = options.capacity ?? DEFAULT_CAPACITY;
  const maxEntries = options.maxEntriesPerBucket ?? DEFAULT_MAX_ENTRIES_PER_BUCKET;
  const groupBits = options.groupBits ?? DEFAULT_GROUP_BITS;
  const fieldBytes = options.fieldBytes ?? DEFAULT_FIELD_BYTES;
  const problems: string[] = [];
  if (!Number.isInteger(capacity) || capacity < 1)
    problems.push('layout.capacity must be a positive integer');
  if (!Number.isInteger(maxEntries) || maxEntries < 16) {
    problems.push('layout.maxEntriesPerBucket must be an integer ≥ 16');
  }
  if (!Number.isInteger(groupBits) || groupBits < 0 || groupBits > MAX_GROUP_BITS) {
    problems.push(`layout.groupBits must be an integer from 0 to ${MAX_GROUP_BITS}`);
  }
  if (!Number.isInteger(fieldBytes) || fieldBytes < MIN_FIELD_BYTES || fieldBytes > MAX_FIELD_BYTES) {
    problems.push(`layout.fieldBytes must be an integer from ${MIN_FIELD_BYTES} to ${MAX_FIELD_BYTES}`);
  }
  if (problems.length > 0) throw new LeakwatchError('CONFIG_INVALID', problems.join('; '));
  const wanted = Math.ceil(Math.log2(capacity / (maxEntries / 2)));
  const bucketBits = Math.min(MAX_BUCKET_BITS, Math.max(groupBits, wanted, 1));
  const filterTotal = 2 ** Math.ceil(Math.log2(capacity * FILTER_BITS_PER_CARD));
  const filterBits = Math.min(MAX_FILTER_BITS, Math.max(MIN_FILTER_BITS, filterTotal / 2 ** groupBits));
  return { layoutVersion: 1, bucketBits, groupBits, fieldBytes, filterBits };
}

export function checkLayout(layout: StoreLayout): void {
  const ok =
    layout.layoutVersion === 1 &&
    Number.isInteger(layout.bucketBits) &&
    Number.isInteger(layout.groupBits) &&
    layout.groupBits >= 0 &&
    layout.groupBits <= MAX_GROUP_BITS &&
    layout.bucketBits >= Math.max(1, layout.groupBits) &&
    layout.bucketBits <= MAX_BUCKET_BITS &&
    Number.isInteger(layout.fieldBytes) &&
    layout.fieldBytes >= MIN_FIELD_BYTES &&
    layout.fieldBytes <= MAX_FIELD_BYTES &&
    Number.isInteger(Math.log2(layout.filterBits)) &&
    layout.filterBits >= MIN_FILTER_BITS &&
    layout.filterBits <= MAX_FILTER_BITS;
  if (!ok) {
    throw new LeakwatchError(
      'CONFIG_INVALID',
      `stored leak-store layout is not understood: ${JSON.stringify(layout)}`,
    );
  }
}

/**
 * First fingerprint byte a watch log keeps (bytes 3-10). Always inside the stored field: it
 * starts at byte 0 to 2 (bucketBits ≤ 20) and holds at least 12 bytes. Independent of the
 * bucket bits (at most the first 20), so those 64 bits are uniform within a group.
 */
const WATCH_LOG_FIRST_BYTE = 3;

const TAG_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * The hash tag of group g of `groups`: the first string over [0-9A-Za-z], shortest first, whose
 * slot lies in the g-th equal share of the slots. Deterministic, so every client derives the
 * same keys; 2 characters suffice up to 256 groups, 3 up to 1024.
 */
export function groupTag(group: number, groups: number): string {
  const low = Math.floor((group * CLUSTER_SLOTS) / groups);
  const high = Math.floor(((group + 1) * CLUSTER_SLOTS) / groups);
  for (let length = 1; ; length++) {
    const total = TAG_ALPHABET.length ** length;
    for (let n = 0; n < total; n++) {
      let tag = '';
      for (let rest = n, i = 0; i < length; i++, rest = Math.floor(rest / TAG_ALPHABET.length)) {
        tag += TAG_ALPHABET[rest % TAG_ALPHABET.length];
      }
      const slot = keySlot(tag);
      if (slot >= low && slot < high) return tag;
    }
  }
}

/**
 * Key names and fingerprint slicing for one prefix and layout, precomputed for the hot path.
 *
 * Keys (prefix P): `P{<tag>}b<hex>` bucket hash (hex = bucket index within its group),
 * `P{<tag>}n` counter hash (incident number → cards in the group), `P{<tag>}f` filter string,
 * `P{<tag>}w` watch log (an 8-byte generation header, then 8 fingerprint bytes per card added
 * to the group, append-only until a rebuild; the monitors' in-process filters read it), and the
 * registry `P{incidents}:meta`, `P{incidents}:ids`, `P{incidents}:i:<incidentId>`.
 */
export class KeySpace {
  readonly layout: StoreLayout;
  readonly prefix: string;
  readonly buckets: number;
  readonly groups: number;
  readonly bucketsPerGroup: number;
  /** First fingerprint byte stored in the field (the bytes before it are implied by the bucket). */
  readonly fieldOffset: number;
  readonly fieldLength: number;
  /** Offset, inside a field, of the 4 fingerprint bytes (bytes 4-7) that pick the filter bit. */
  readonly filterByteOffset: number;
  /** Group index → tag, filter key, counter key and slot. */
  readonly tags: readonly string[];
  readonly filterKeys: readonly string[];
  readonly counterKeys: readonly string[];
  readonly watchLogKeys: readonly string[];
  /** Offset, inside a field, of the 8 fingerprint bytes (bytes 3-10) a watch log keeps. */
  readonly watchLogByteOffset: number;
  readonly groupSlots: readonly number[];
  readonly registryMetaKey: string;
  readonly registryIdsKey: string;
  readonly registrySlot: number;
  /** Bucket key names, made on first use (the hot path reuses them). */
  private readonly bucketKeyCache: (string | undefined)[] = [];
  private readonly bucketShift: number;
  private readonly groupShift: number;

  constructor(prefix: string, layout: StoreLayout) {
    checkLayout(layout);
    this.layout = layout;
    this.prefix = prefix;
    this.buckets = 2 ** layout.bucketBits;
    this.groups = 2 ** layout.groupBits;
    this.bucketsPerGroup = this.buckets / this.groups;
    this.fieldOffset = Math.floor(layout.bucketBits / 8);
    this.fieldLength = layout.fieldBytes;
    this.filterByteOffset = 4 - this.fieldOffset;
    this.bucketShift = 24 - layout.bucketBits;
    this.groupShift = layout.bucketBits - layout.groupBits;
    this.tags = Array.from({ length: this.groups }, (_, g) => groupTag(g, this.groups));
    this.filterKeys = this.tags.map((tag) => `${prefix}{${tag}}f`);
    this.counterKeys = this.tags.map((tag) => `${prefix}{${tag}}n`);
    this.watchLogKeys = this.tags.map((tag) => `${prefix}{${tag}}w`);
    this.watchLogByteOffset = WATCH_LOG_FIRST_BYTE - this.fieldOffset;
    this.groupSlots = this.tags.map((tag) => keySlot(tag));
    this.registryMetaKey = registryMetaKey(prefix);
    this.registryIdsKey = `${prefix}{incidents}:ids`;
    this.registrySlot = REGISTRY_SLOT;
  }

  /** Bucket of a fingerprint's bytes (starting at `offset`): its first `bucketBits` bits. */
  bucketOf(bytes: Uint8Array, offset = 0): number {
    return (
      (((bytes[offset] as number) << 16) |
        ((bytes[offset + 1] as number) << 8) |
        (bytes[offset + 2] as number)) >>>
      this.bucketShift
    );
  }

  bucketKey(bucket: number): string {
    return (this.bucketKeyCache[bucket] ??=
      `${this.prefix}{${this.tags[bucket >>> this.groupShift] as string}}b${(
        bucket &
        (this.bucketsPerGroup - 1)
      ).toString(16)}`);
  }

  /** Bucket keys from `first` (inclusive) to `end` (exclusive). */
  bucketKeyRange(first: number, end: number): string[] {
    const keys: string[] = [];
    for (let b = first; b < end; b++) keys.push(this.bucketKey(b));
    return keys;
  }

  groupOfBucket(bucket: number): number {
    return bucket >>> this.groupShift;
  }

  /** The bytes stored as hash field for a fingerprint's 32 bytes. */
  fieldOf(bytes: Uint8Array): Buffer {
    return Buffer.from(bytes.buffer, bytes.byteOffset + this.fieldOffset, this.fieldLength);
  }

  /** The filter bit of a fingerprint's 32 bytes. */
  filterBitOf(bytes: Uint8Array): number {
    return Buffer.from(bytes.buffer, bytes.byteOffset, 8).readUInt32BE(4) % this.layout.filterBits;
  }

  incidentKey(incidentId: string): string {
    return `${this.prefix}{incidents}:i:${incidentId}`;
  }
}

export function registryMetaKey(prefix: string): string {
  return `${prefix}{incidents}:meta`;
}
