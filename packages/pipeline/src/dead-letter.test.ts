import { describe, expect, it } from 'vitest';
import { DLQ_HEADERS, deadLetterHeaders } from './dead-letter.js';

describe('deadLetterHeaders', () => {
  it('carries every SPEC header and never a digit run that could be a PAN', () => {
    const headers = deadLetterHeaders(
      'VALIDATION_FAILED',
      'card.pan: 4111 1111 1111 1111 fails Luhn',
      { topic: 'card.authorizations.v1', partition: 2, offset: '42' },
      new Date('2026-01-02T03:04:05Z'),
    );
    expect(Object.keys(headers).sort()).toEqual(Object.values(DLQ_HEADERS).sort());
    expect(headers['lw-error-code']).toBe('VALIDATION_FAILED');
    expect(headers['lw-error-message']).not.toContain('4111');
    expect(headers['lw-source-partition']).toBe('2');
    expect(headers['lw-source-offset']).toBe('42');
    expect(headers['lw-failed-at']).toBe('2026-01-02T03:04:05.000Z');
  });
});
