import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isLeakwatchError } from '@leakwatch/errors';
import {
  decodeRecords,
  encodeRecord,
  encodeVarint,
  fingerprintBytes,
  isExpiryTag,
  isFingerprint,
  packExpiryTag,
  unpackExpiryTag,
} from './codec.js';

const fingerprint = () => randomBytes(32).toString('base64url');

describe('fingerprints', () => {
  it('accepts exactly the base64url form of 32 bytes', () => {
    for (let i = 0; i < 200; i++) {
      const fp = fingerprint();
      expect(isFingerprint(fp)).toBe(true);
      expect(fingerprintBytes(fp).toString('base64url')).toBe(fp);
    }
    const fp = fingerprint();
    expect(isFingerprint(fp.slice(0, 42))).toBe(false);
    expect(isFingerprint(`${fp}A`)).toBe(false);
    expect(isFingerprint(`${fp.slice(0, 42)}B`)).toBe(false); // non-zero padding bits
    expect(isFingerprint(`${fp.slice(0, 41)}+A`)).toBe(false); // base64, not base64url
    expect(isFingerprint('4111111111111111')).toBe(false);
  });

  it('refuses a malformed fingerprint with VALIDATION_FAILED, without echoing it', () => {
    try {
      fingerprintBytes('4111111111111111', 'cards[3].fingerprint');
      expect.unreachable();
    } catch (error) {
      expect(isLeakwatchError(error, 'VALIDATION_FAILED')).toBe(true);
      expect((error as Error).message).toContain('cards[3].fingerprint');
      expect((error as Error).message).not.toContain('4111');
    }
  });
});

describe('expiry tags', () => {
  it('pack into 9 bytes and round-trip, canonical or not', () => {
    for (let i = 0; i < 500; i++) {
      const tag = randomBytes(9).toString('base64url').slice(0, 11);
      expect(isExpiryTag(tag)).toBe(true);
      const packed = packExpiryTag(tag);
      expect(packed.length).toBe(9);
      expect(unpackExpiryTag(packed)).toBe(tag);
    }
    expect(unpackExpiryTag(packExpiryTag('__________-'))).toBe('__________-');
    expect(() => packExpiryTag('short')).toThrow(/expiry tag/);
    expect(() => packExpiryTag('12/27')).toThrow(/expiry tag/);
  });
});

describe('records', () => {
  it('encode numbers as LEB128 varints', () => {
    expect([...encodeVarint(0)]).toEqual([0]);
    expect([...encodeVarint(127)]).toEqual([127]);
    expect([...encodeVarint(128)]).toEqual([0x80, 0x01]);
    expect([...encodeVarint(300)]).toEqual([0xac, 0x02]);
  });

  it('decode a sequence of records, tags as views', () => {
    const tag = packExpiryTag('abcdefghijk');
    const value = Buffer.concat([
      encodeRecord(1, null),
      encodeRecord(70, tag),
      encodeRecord(70, packExpiryTag('ABCDEFGHIJK')),
    ]);
    const links = decodeRecords(value);
    expect(links?.map((l) => [l.incidentNumber, l.tag && unpackExpiryTag(l.tag)])).toEqual([
      [1, null],
      [70, 'abcdefghijk'],
      [70, 'ABCDEFGHIJK'],
    ]);
    expect(encodeRecord(1, null).length).toBe(1);
    expect(encodeRecord(63, tag).length).toBe(10);
    expect(encodeRecord(64, tag).length).toBe(11);
  });

  it('refuse bytes that are not exactly well-formed records', () => {
    const tag = packExpiryTag('abcdefghijk');
    expect(decodeRecords(Buffer.alloc(0))).toBeNull();
    expect(decodeRecords(encodeRecord(3, tag).subarray(0, 5))).toBeNull(); // truncated tag
    expect(decodeRecords(Buffer.from([0x80]))).toBeNull(); // truncated varint
    expect(decodeRecords(Buffer.from([0x00]))).toBeNull(); // incident number 0
    expect(decodeRecords(Buffer.from('4111111111111111', 'ascii'))).toBeNull();
  });
});
