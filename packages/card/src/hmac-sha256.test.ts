import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HmacSha256 } from './hmac-sha256.js';

function reference(key: Buffer, message: string, bytes = 32): string {
  return createHmac('sha256', key).update(message, 'utf8').digest().subarray(0, bytes).toString('base64url');
}

describe('HmacSha256', () => {
  it('passes the RFC 4231 vectors (cases 2 and 6: short key, key longer than a block)', () => {
    const hex = (s: string) => Buffer.from(s, 'hex').toString('base64url');
    expect(new HmacSha256(Buffer.from('Jefe')).digestBase64url('what do ya want for nothing?')).toBe(
      hex('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'),
    );
    expect(
      new HmacSha256(Buffer.alloc(131, 0xaa)).digestBase64url(
        'Test Using Larger Than Block-Size Key - Hash Key First',
      ),
    ).toBe(hex('60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54'));
  });

  it('matches node:crypto for every message length 0-80, keys of 1-150 bytes, truncations', () => {
    for (let length = 0; length <= 80; length++) {
      for (const keyLength of [1, 32, 63, 64, 65, 150]) {
        const key = randomBytes(keyLength);
        const message = randomBytes(length).toString('base64').slice(0, length).padEnd(length, 'x');
        const hmac = new HmacSha256(key);
        expect(hmac.digestBase64url(message), `${length}/${keyLength}`).toBe(reference(key, message));
        expect(hmac.digestBase64url(message, 8)).toBe(reference(key, message, 8));
        expect(hmac.digestBase64url(message, 31)).toBe(reference(key, message, 31));
      }
    }
  });

  it('falls back to node:crypto for non-ASCII messages', () => {
    const key = randomBytes(32);
    expect(new HmacSha256(key).digestBase64url('café')).toBe(reference(key, 'café'));
  });
});
