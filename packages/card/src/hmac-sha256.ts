import { createHash, createHmac } from 'node:crypto';

/*
 * HMAC-SHA256 for short ASCII messages, with the key's inner and outer pad states computed once.
 *
 * Why not createHmac per call: a card fingerprint is two SHA-256 blocks of work, and Node's
 * createHmac spends most of its time on per-call set-up (object, key schedule, pads, native
 * boundary), reaching ~300k/s on the 2-core box; imports need a fingerprint and an expiry tag per
 * card at >= 100k cards/s next to Redis. With the pad states precomputed, a message of up to 55
 * bytes (a PAN is 12-19, an expiry-tag input 51) is one compression for the inner hash and one
 * for the outer: ~2-3x faster in plain JavaScript. Longer or non-ASCII messages go to createHmac.
 * Tests compare it with node:crypto on RFC 4231 vectors and many random keys and messages.
 * The code has no secret-dependent branches or table indices.
 */

const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);

const INITIAL_STATE = new Int32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

const BLOCK_BYTES = 64;
/** Longest message that fits one block after the 0x80 marker and the 8-byte length. */
const MAX_SHORT_MESSAGE = 55;
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const BASE64URL_CODES = Uint8Array.from(BASE64URL, (c) => c.charCodeAt(0));

// Scratch space shared by every call: JavaScript runs one call at a time per thread.
const w = new Int32Array(64);
const innerDigest = new Int32Array(8);
const outerDigest = new Int32Array(8);
const digestBytes = new Uint8Array(33);
const encoded = Buffer.alloc(44);

/** One SHA-256 compression of the block in w[0..15] on top of `state`, written to `out`. */
function compress(state: Int32Array, out: Int32Array): void {
  for (let i = 16; i < 64; i++) {
    const w15 = w[i - 15]!;
    const w2 = w[i - 2]!;
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
    w[i] = (w[i - 16]! + s0 + w[i - 7]! + s1) | 0;
  }
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  let e = state[4]!;
  let f = state[5]!;
  let g = state[6]!;
  let h = state[7]!;
  for (let i = 0; i < 64; i++) {
    const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const ch = (e & f) ^ (~e & g);
    const t1 = (h + S1 + ch + K[i]! + w[i]!) | 0;
    const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const maj = (a & b) ^ (a & c) ^ (b & c);
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + S0 + maj) | 0;
  }
  out[0] = (state[0]! + a) | 0;
  out[1] = (state[1]! + b) | 0;
  out[2] = (state[2]! + c) | 0;
  out[3] = (state[3]! + d) | 0;
  out[4] = (state[4]! + e) | 0;
  out[5] = (state[5]! + f) | 0;
  out[6] = (state[6]! + g) | 0;
  out[7] = (state[7]! + h) | 0;
}

function padState(block: Uint8Array, pad: number): Int32Array {
  for (let j = 0; j < 16; j++) {
    w[j] =
      ((block[4 * j]! ^ pad) << 24) |
      ((block[4 * j + 1]! ^ pad) << 16) |
      ((block[4 * j + 2]! ^ pad) << 8) |
      (block[4 * j + 3]! ^ pad);
  }
  const state = new Int32Array(8);
  compress(INITIAL_STATE, state);
  return state;
}

/** base64url (no padding) of the first `byteCount` bytes of the outer digest. */
function base64url(byteCount: number): string {
  for (let j = 0; j < 8; j++) {
    const v = outerDigest[j]!;
    digestBytes[4 * j] = v >>> 24;
    digestBytes[4 * j + 1] = v >>> 16;
    digestBytes[4 * j + 2] = v >>> 8;
    digestBytes[4 * j + 3] = v;
  }
  let out = 0;
  let j = 0;
  for (; j + 3 <= byteCount; j += 3) {
    const v = (digestBytes[j]! << 16) | (digestBytes[j + 1]! << 8) | digestBytes[j + 2]!;
    encoded[out++] = BASE64URL_CODES[v >>> 18]!;
    encoded[out++] = BASE64URL_CODES[(v >>> 12) & 63]!;
    encoded[out++] = BASE64URL_CODES[(v >>> 6) & 63]!;
    encoded[out++] = BASE64URL_CODES[v & 63]!;
  }
  const rest = byteCount - j;
  if (rest > 0) {
    const v = (digestBytes[j]! << 16) | (rest === 2 ? digestBytes[j + 1]! << 8 : 0);
    encoded[out++] = BASE64URL_CODES[v >>> 18]!;
    encoded[out++] = BASE64URL_CODES[(v >>> 12) & 63]!;
    if (rest === 2) encoded[out++] = BASE64URL_CODES[(v >>> 6) & 63]!;
  }
  return encoded.toString('latin1', 0, out);
}

/** An HMAC-SHA256 key with its pad states precomputed. Holds key material: never log it. */
export class HmacSha256 {
  readonly #key: Buffer;
  readonly #inner: Int32Array;
  readonly #outer: Int32Array;

  constructor(key: Uint8Array) {
    this.#key = Buffer.from(key);
    const block = new Uint8Array(BLOCK_BYTES);
    block.set(key.length > BLOCK_BYTES ? createHash('sha256').update(key).digest() : key);
    this.#inner = padState(block, 0x36);
    this.#outer = padState(block, 0x5c);
    block.fill(0);
  }

  /**
   * base64url (no padding) of the first `byteCount` (1-32) bytes of HMAC-SHA256(key, message),
   * where the message is `parts` joined (passing parts spares building the joined string).
   */
  digestBase64url(parts: string | readonly string[], byteCount = 32): string {
    w.fill(0, 0, 16);
    let n = 0;
    if (typeof parts === 'string') n = pack(parts, 0);
    else for (let k = 0; k < parts.length && n >= 0; k++) n = pack(parts[k]!, n);
    if (n < 0) {
      const hmac = createHmac('sha256', this.#key);
      for (const part of typeof parts === 'string' ? [parts] : parts) hmac.update(part, 'utf8');
      return hmac.digest().subarray(0, byteCount).toString('base64url');
    }
    w[n >> 2] = w[n >> 2]! | (0x80 << (24 - 8 * (n & 3)));
    w[15] = (BLOCK_BYTES + n) * 8;
    compress(this.#inner, innerDigest);
    w.set(innerDigest, 0);
    w[8] = 0x80000000;
    w.fill(0, 9, 15);
    w[15] = (BLOCK_BYTES + 32) * 8;
    compress(this.#outer, outerDigest);
    return base64url(byteCount);
  }

  /** The raw HMAC-SHA256 of `message`, used to derive sub-keys. */
  digest(message: string): Buffer {
    return createHmac('sha256', this.#key).update(message, 'utf8').digest();
  }
}

/**
 * Writes the ASCII string `part` into the message block from byte `at`; returns the next byte, or
 * -1 when the message will not fit one block or is not ASCII (the caller then uses createHmac).
 */
function pack(part: string, at: number): number {
  for (let j = 0; j < part.length; j++, at++) {
    const c = part.charCodeAt(j);
    if (c > 0x7f || at >= MAX_SHORT_MESSAGE) return -1;
    w[at >> 2] = w[at >> 2]! | (c << (24 - 8 * (at & 3)));
  }
  return at;
}
