import { describe, expect, it } from 'vitest';
import { decodeAndResolve, isResolved, resolveCard } from './resolve-card.js';
import { authorization, fakeDecoder, message, PAN, resolvedCard, twoKeyKeyring } from './stages.fakes.js';

const noCard = { pan: null, fingerprint: null, keyId: null, bin: null, last4: null, expiry: null } as const;

describe('resolveCard', () => {
  const keyring = twoKeyKeyring();

  it('fingerprints a PAN under every active key, keys alerts by the current one, and keeps no PAN', () => {
    const card = resolvedCard({ ...noCard, pan: PAN, expiry: '2028-04' }, keyring);
    expect(card.fingerprints).toEqual(keyring.fingerprintAll(PAN));
    expect(card.fingerprints.map((f) => f.keyId)).toEqual(['k2', 'k1']);
    expect(card.primary).toEqual({ keyId: 'k2', fingerprint: keyring.fingerprint(PAN) });
    expect(card).toMatchObject({ last4: '1111', scheme: 'VISA', expiry: '2028-04' });
    expect(PAN.startsWith(card.bin)).toBe(true);
    expect(JSON.stringify(card)).not.toContain(PAN);
  });

  it('takes a fingerprint under an active key as it is', () => {
    const fingerprint = keyring.fingerprint(PAN);
    const card = resolvedCard({ ...noCard, fingerprint, keyId: 'k2', bin: '411111', last4: '1111' }, keyring);
    expect(card).toMatchObject({ fingerprints: [{ keyId: 'k2', fingerprint }] });
  });

  it('refuses a fingerprint under a key that is not active', () => {
    const fingerprint = keyring.fingerprint(PAN);
    const result = resolveCard(
      { ...noCard, fingerprint, keyId: 'k9', bin: '411111', last4: '1111' },
      keyring,
    );
    expect(isResolved(result)).toBe(false);
    expect(result).toMatchObject({ code: 'UNKNOWN_KEY_ID' });
  });

  it('never takes a PAN validation did not normalise (a broken caller fails loudly, no fingerprint)', () => {
    expect(() => resolveCard({ ...noCard, pan: '4111 1111 1111 1111' }, keyring)).toThrow(
      'a fingerprint needs a normalized card number',
    );
  });
});

describe('decodeAndResolve', () => {
  it('decodes the batch in one call and splits it, in offset order, into resolved cards and poison', async () => {
    const { decoder, calls } = fakeDecoder({
      'good-1': authorization({ eventId: 'e1' }),
      poison: { ok: false, code: 'AVRO_DECODE_FAILED', message: 'truncated' } as const,
      'bad-key': authorization({
        eventId: 'e3',
        card: { ...noCard, fingerprint: 'x'.repeat(43), keyId: 'old', bin: '411111', last4: '1111' },
      }),
      'good-2': authorization({ eventId: 'e4' }),
    });
    const messages = [
      message(10, 'good-1'),
      message(11, 'poison'),
      message(12, 'bad-key'),
      message(13, 'good-2'),
    ];
    const batch = await decodeAndResolve(messages, decoder, twoKeyKeyring());
    expect(calls).toEqual([4]);
    expect(batch.resolved.map((r) => [r.message.offset, r.auth.eventId])).toEqual([
      ['10', 'e1'],
      ['13', 'e4'],
    ]);
    expect(batch.deadLetters.map((d) => [d.message.offset, d.code])).toEqual([
      ['11', 'AVRO_DECODE_FAILED'],
      ['12', 'UNKNOWN_KEY_ID'],
    ]);
  });

  it('lets a registry outage through, to be retried', async () => {
    const decoder = { decodeBatch: () => Promise.reject(new Error('registry down')) };
    await expect(decodeAndResolve([message(1)], decoder, twoKeyKeyring())).rejects.toThrow('registry down');
  });
});
