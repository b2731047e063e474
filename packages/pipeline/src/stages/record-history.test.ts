import { defaultRuleSet, historyWindows, ruleSetFromObject } from '@leakwatch/rules';
import { describe, expect, it } from 'vitest';
import type { WatchedAuthorization } from './look-up-watched.js';
import { recordHistory } from './record-history.js';
import {
  authorization,
  cardIncident,
  fakeHistory,
  message,
  T0,
  twoKeyKeyring,
  resolvedCard,
} from './stages.fakes.js';

const keyring = twoKeyKeyring();

function watched(eventId: string, overrides: Parameters<typeof authorization>[0] = {}): WatchedAuthorization {
  const auth = authorization({ eventId, ...overrides });
  const card = resolvedCard(auth.card, keyring);
  return {
    item: { message: message(1), auth, card },
    fingerprint: 'fp-old',
    keyId: 'k1',
    incidents: [cardIncident('i')],
  };
}

describe('recordHistory', () => {
  it('records by event time under the watched fingerprint, with the windows of the rule set', async () => {
    const ruleSet = defaultRuleSet();
    const { history, calls } = fakeHistory({ authorizationsInVelocityWindow: 3 });
    const counts = await recordHistory(
      [
        watched('e1', { occurredAt: T0 - 86_400_000 }),
        watched('e2', { channel: 'ECOMMERCE', amountMinor: 50, occurredAt: T0 }),
      ],
      history,
      ruleSet,
    );
    expect(counts.map((c) => c.authorizationsInVelocityWindow)).toEqual([3, 3]);
    const windows = historyWindows(ruleSet);
    expect(calls).toEqual([
      {
        events: [
          { fingerprint: 'fp-old', eventId: 'e1', occurredAt: T0 - 86_400_000, small: false },
          { fingerprint: 'fp-old', eventId: 'e2', occurredAt: T0, small: true },
        ],
        windows: {
          velocityMs: (windows.velocityWindowSeconds ?? 0) * 1000,
          cardTestingMs: (windows.cardTestingWindowSeconds ?? 0) * 1000,
        },
      },
    ]);
  });

  it('turns a disabled rule into a zero window, and makes no call for nothing watched', async () => {
    const ruleSet = ruleSetFromObject(
      { rules: { VELOCITY: { enabled: false }, CARD_TESTING: { enabled: false } } },
      'unit test',
    );
    const { history, calls } = fakeHistory();
    await recordHistory([watched('e1')], history, ruleSet);
    expect(calls[0]?.windows).toEqual({ velocityMs: 0, cardTestingMs: 0 });
    expect(await recordHistory([], history, ruleSet)).toEqual([]);
    expect(calls).toHaveLength(1);
  });
});
