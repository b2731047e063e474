import {
  exampleAlert,
  type AlertDisposition,
  type DecodeResult,
  type Disposition,
  type SuspiciousChargeAlert,
} from '@leakwatch/contracts';
import { silentLogger } from '@leakwatch/logger';
import { describe, expect, it } from 'vitest';
import type { IndexedAlert } from './alert-index.js';
import {
  applyDispositions,
  DISPOSITION_SOURCE_HEADER,
  indexAlerts,
  type DispositionSource,
} from './applier.js';
import type { ConsumedMessage } from './batch-consumer.js';
import {
  parseDispositionCounts,
  type CountedDisposition,
  type DispositionStatsStore,
} from './disposition-stats.js';

const FP_A = 'a'.repeat(43);
const FP_B = 'b'.repeat(43);
const FP_C_K1 = 'c'.repeat(43);
const FP_C_K2 = 'C'.repeat(43);
const alerts = new Map<string, IndexedAlert>(
  [
    {
      alertId: 'alt-a',
      fingerprint: FP_A,
      incidentIds: ['inc-1', 'inc-2'],
      reasonCodes: ['LEAKED_CARD', 'HIGH_RISK_MCC'],
    },
    { alertId: 'alt-b', fingerprint: FP_B, incidentIds: ['inc-1'], reasonCodes: ['LEAKED_CARD'] },
    // raised during a key rotation: the card is known under k2 too
    {
      alertId: 'alt-c',
      fingerprint: FP_C_K1,
      otherFingerprints: [FP_C_K2],
      incidentIds: ['inc-1'],
      reasonCodes: ['LEAKED_CARD'],
    },
  ].map((a) => [a.alertId, { ...a, partnerId: 'sakura', keyId: 'k1', detectedAt: 0 }]),
);

/** Messages whose value is the disposition's JSON; the fake decoder parses it back. */
function message(
  d: Partial<AlertDisposition> | null,
  source?: DispositionSource,
  offset = 0,
): ConsumedMessage {
  const value =
    d === null
      ? null
      : Buffer.from(
          JSON.stringify({
            alertId: 'alt-a',
            disposition: 'CONFIRMED_FRAUD',
            by: 'x',
            at: 1,
            note: null,
            ...d,
          }),
        );
  return {
    partition: 0,
    offset: String(offset),
    key: null,
    value,
    headers: source ? { [DISPOSITION_SOURCE_HEADER]: Buffer.from(source) } : {},
  };
}

/** The Redis store's semantics (current verdict per alert; counts move on a change) in memory. */
class MemoryStats implements DispositionStatsStore {
  readonly verdicts = new Map<string, Disposition>();
  readonly fields: Record<string, string> = {};
  apply(dispositions: readonly CountedDisposition[]): Promise<boolean[]> {
    const changed = dispositions.map((d) => {
      const old = this.verdicts.get(d.alertId);
      if (old === d.disposition) return false;
      const dims = [
        'total',
        ...d.incidentIds.map((i) => `incident:${i}`),
        ...d.reasonCodes.map((r) => `reason:${r}`),
      ];
      for (const dim of dims) {
        if (old) this.fields[`${dim}:${old}`] = String(Number(this.fields[`${dim}:${old}`] ?? 0) - 1);
        this.fields[`${dim}:${d.disposition}`] = String(
          Number(this.fields[`${dim}:${d.disposition}`] ?? 0) + 1,
        );
      }
      this.verdicts.set(d.alertId, d.disposition);
      return true;
    });
    return Promise.resolve(changed);
  }
  read() {
    return Promise.resolve(parseDispositionCounts(this.fields));
  }
}

function setup(watched?: ReadonlySet<string>) {
  const removed: string[][] = [];
  const applied: string[] = [];
  const stats = new MemoryStats();
  const deps = {
    decoder: {
      decodeBatch: (values: readonly (Buffer | null)[]): Promise<DecodeResult<AlertDisposition>[]> =>
        Promise.resolve(
          values.map((v): DecodeResult<AlertDisposition> => {
            try {
              return { ok: true, value: JSON.parse(String(v)) as AlertDisposition, format: 'json' };
            } catch {
              return { ok: false, code: 'BAD_FRAMING', message: 'not JSON' };
            }
          }),
        ),
    },
    alerts: { get: (id: string) => Promise.resolve(alerts.get(id) ?? null) },
    watchList: {
      removeCards: (fps: readonly string[]) => {
        removed.push([...fps]);
        return Promise.resolve(
          fps.map((f) => ({ removedFrom: !watched || watched.has(f) ? ['inc-1'] : [] })),
        );
      },
    },
    stats,
    logger: silentLogger(),
    onApplied: (d: Disposition, s: DispositionSource) => applied.push(`${d}/${s}`),
  };
  return { deps, removed, applied, stats };
}

describe('disposition applier', () => {
  it('CARD_REISSUED takes the alert card off the watch list; other verdicts do not', async () => {
    const { deps, removed } = setup();
    const result = await applyDispositions(
      [message({ alertId: 'alt-a', disposition: 'CARD_REISSUED' }, 'partner'), message({ alertId: 'alt-b' })],
      deps,
    );
    expect(removed).toEqual([[FP_A]]);
    expect(result).toEqual({ applied: 2, unchanged: 0, cardsRemoved: 1, skipped: 0 });
  });

  it('CARD_REISSUED during a key rotation removes the card under every fingerprint it is known by', async () => {
    // watched under the old key only (a list imported before the rotation)
    const { deps, removed } = setup(new Set([FP_C_K2]));
    const result = await applyDispositions(
      [
        message({ alertId: 'alt-c', disposition: 'CARD_REISSUED' }),
        message({ alertId: 'alt-a', disposition: 'CARD_REISSUED' }),
      ],
      deps,
    );
    expect(removed).toEqual([[FP_C_K1, FP_C_K2, FP_A]]);
    // one card of the two was on the watch list, under one of its fingerprints
    expect(result.cardsRemoved).toBe(1);
  });

  it('counts per incident and per reason code, by source; a repeat changes nothing', async () => {
    const { deps, applied, stats } = setup();
    await applyDispositions(
      [message({ alertId: 'alt-a' }, 'partner'), message({ alertId: 'alt-b' }, 'console')],
      deps,
    );
    // a redelivered batch
    const again = await applyDispositions([message({ alertId: 'alt-a' }, 'partner')], deps);
    expect(again).toMatchObject({ applied: 0, unchanged: 1 });
    expect(applied).toEqual(['CONFIRMED_FRAUD/partner', 'CONFIRMED_FRAUD/console']);
    const counts = await stats.read();
    expect(counts.total.CONFIRMED_FRAUD).toBe(2);
    expect(counts.byIncident['inc-1']?.CONFIRMED_FRAUD).toBe(2);
    expect(counts.byIncident['inc-2']?.CONFIRMED_FRAUD).toBe(1);
    expect(counts.byReason.LEAKED_CARD?.CONFIRMED_FRAUD).toBe(2);
    expect(counts.byReason.HIGH_RISK_MCC?.CONFIRMED_FRAUD).toBe(1);
  });

  it('a changed verdict moves the alert from the old count to the new one', async () => {
    const { deps, stats } = setup();
    await applyDispositions([message({ disposition: 'UNDER_REVIEW' })], deps);
    await applyDispositions([message({ disposition: 'FALSE_POSITIVE' })], deps);
    const counts = await stats.read();
    expect(counts.byReason.HIGH_RISK_MCC).toMatchObject({ UNDER_REVIEW: 0, FALSE_POSITIVE: 1 });
  });

  it('skips tombstones and undecodable messages; an unindexed alert counts in the totals only', async () => {
    const { deps, removed, stats } = setup();
    const garbage: ConsumedMessage = { ...message(null), value: Buffer.from('{nope') };
    const result = await applyDispositions(
      [message(null), garbage, message({ alertId: 'alt-gone', disposition: 'CARD_REISSUED' })],
      deps,
    );
    expect(result).toEqual({ applied: 1, unchanged: 0, cardsRemoved: 0, skipped: 2 });
    expect(removed).toEqual([]);
    expect((await stats.read()).total.CARD_REISSUED).toBe(1);
  });
});

describe('parseDispositionCounts', () => {
  it('reads incident ids that contain colons, and ignores unknown fields', () => {
    const stats = parseDispositionCounts({
      'incident:shop:2025:CONFIRMED_FRAUD': '3',
      'reason:VELOCITY:FALSE_POSITIVE': '2',
      'total:CONFIRMED_FRAUD': '3',
      'weird:field': '9',
    });
    expect(stats.byIncident['shop:2025']?.CONFIRMED_FRAUD).toBe(3);
    expect(stats.byReason.VELOCITY?.FALSE_POSITIVE).toBe(2);
    expect(stats.total).toEqual({ CONFIRMED_FRAUD: 3, FALSE_POSITIVE: 0, CARD_REISSUED: 0, UNDER_REVIEW: 0 });
  });
});

describe('alert indexer', () => {
  it("keeps the card's fingerprints under the other keys from the lw-card-fingerprints header", async () => {
    const alert = exampleAlert();
    const other = 'Z'.repeat(42) + 'A';
    const recorded: IndexedAlert[] = [];
    const record = (value: SuspiciousChargeAlert, headers: ConsumedMessage['headers']): ConsumedMessage => ({
      partition: 0,
      offset: '0',
      key: null,
      value: Buffer.from(JSON.stringify(value)),
      headers,
    });
    await indexAlerts(
      [
        record(alert, { 'lw-card-fingerprints': Buffer.from(`k0:${other}`) }),
        record({ ...alert, alertId: 'alt-one-key' }, {}),
      ],
      {
        decoder: {
          decodeBatch: (values) =>
            Promise.resolve(
              values.map((v) => ({
                ok: true as const,
                value: JSON.parse(String(v)) as SuspiciousChargeAlert,
                format: 'json' as const,
              })),
            ),
        },
        index: {
          record: (entries) => {
            recorded.push(...entries);
            return Promise.resolve();
          },
        },
        logger: silentLogger(),
      },
    );
    expect(recorded.map((r) => [r.fingerprint, r.otherFingerprints])).toEqual([
      [alert.card.fingerprint, [other]],
      [alert.card.fingerprint, undefined],
    ]);
  });
});
