import { exampleAlert, type AlertDisposition, type SuspiciousChargeAlert } from '@leakwatch/contracts';
import { describe, expect, it } from 'vitest';
import { AlertView } from './alert-view.js';

function alert(n: number, overrides: Partial<SuspiciousChargeAlert> = {}): SuspiciousChargeAlert {
  const base = exampleAlert();
  return { ...base, alertId: `alt-${n}`, eventId: `evt-${n}`, detectedAt: 1000 + n, ...overrides };
}

function disposition(alertId: string, at: number, d: AlertDisposition['disposition']): AlertDisposition {
  return { alertId, disposition: d, by: 'ana', at, note: null };
}

describe('AlertView', () => {
  it('applies an alert once and ignores redeliveries', () => {
    const view = new AlertView();
    expect(view.applyAlert(alert(1))).toBe(true);
    expect(view.applyAlert(alert(1))).toBe(false);
    expect(view.size).toBe(1);
  });

  it('keeps the latest disposition by at, even if an older one arrives later', () => {
    const view = new AlertView();
    view.applyAlert(alert(1));
    view.applyDisposition(disposition('alt-1', 20, 'CONFIRMED_FRAUD'));
    expect(view.applyDisposition(disposition('alt-1', 10, 'FALSE_POSITIVE'))).toBe(false);
    expect(view.get('alt-1')?.disposition?.disposition).toBe('CONFIRMED_FRAUD');
    view.applyDisposition(disposition('alt-1', 30, 'CARD_REISSUED'));
    expect(view.get('alt-1')?.disposition?.disposition).toBe('CARD_REISSUED');
  });

  it("keeps the latest disposition's origin, in get, query and the card timeline", () => {
    const view = new AlertView();
    view.applyAlert(alert(1));
    const partner = { source: 'partner', partnerId: 'sakura' } as const;
    view.applyDisposition(disposition('alt-1', 20, 'CONFIRMED_FRAUD'), partner);
    expect(
      view.applyDisposition(disposition('alt-1', 10, 'FALSE_POSITIVE'), {
        source: 'console',
        partnerId: null,
      }),
    ).toBe(false);
    expect(view.get('alt-1')?.origin).toEqual(partner);
    expect(view.query().items[0]?.origin).toEqual(partner);
    const card = view.get('alt-1')!.alert.card.fingerprint;
    expect(view.cardTimeline(card)[0]?.origin).toEqual(partner);
    view.applyDisposition(disposition('alt-1', 30, 'UNDER_REVIEW'));
    expect(view.get('alt-1')?.origin).toBeNull();
  });

  it('keeps a disposition that arrives before its alert', () => {
    const view = new AlertView();
    view.applyDisposition(disposition('alt-1', 20, 'FALSE_POSITIVE'));
    view.applyAlert(alert(1));
    expect(view.get('alt-1')?.disposition?.disposition).toBe('FALSE_POSITIVE');
  });

  it('pages newest first with a stable order', () => {
    const view = new AlertView();
    for (let i = 0; i < 25; i++) view.applyAlert(alert(i));
    const first = view.query({ pageSize: 10 });
    expect(first.total).toBe(25);
    expect(first.items.map((v) => v.alert.alertId).slice(0, 2)).toEqual(['alt-24', 'alt-23']);
    const third = view.query({ pageSize: 10, page: 2 });
    expect(third.items.map((v) => v.alert.alertId)).toEqual(['alt-4', 'alt-3', 'alt-2', 'alt-1', 'alt-0']);
  });

  it('filters by severity, partner, incident, reason, state and time; counts per severity', () => {
    const view = new AlertView();
    const base = exampleAlert();
    view.applyAlert(alert(1, { severity: 'LOW', partnerId: 'p1' }));
    view.applyAlert(alert(2, { severity: 'HIGH', partnerId: 'p1' }));
    view.applyAlert(
      alert(3, { severity: 'HIGH', partnerId: 'p2', reasons: [{ code: 'X', description: 'x', points: 5 }] }),
    );
    view.applyAlert(
      alert(4, {
        severity: 'CRITICAL',
        partnerId: 'p2',
        incidents: [{ ...base.incidents[0]!, incidentId: 'inc-other' }],
      }),
    );
    view.applyDisposition(disposition('alt-2', 5, 'CONFIRMED_FRAUD'));

    expect(view.query({ severity: ['HIGH'] }).total).toBe(2);
    expect(view.query({ severity: ['HIGH'] }).counts).toEqual({ LOW: 1, MEDIUM: 0, HIGH: 2, CRITICAL: 1 });
    expect(view.query({ partnerId: 'p1' }).items.map((v) => v.alert.alertId)).toEqual(['alt-2', 'alt-1']);
    expect(view.query({ incidentId: 'inc-other' }).items.map((v) => v.alert.alertId)).toEqual(['alt-4']);
    expect(view.query({ reasonCode: 'X' }).items.map((v) => v.alert.alertId)).toEqual(['alt-3']);
    expect(view.query({ state: ['confirmed'] }).items.map((v) => v.alert.alertId)).toEqual(['alt-2']);
    expect(view.query({ state: ['open'] }).total).toBe(3);
    expect(view.query({ from: 1002, to: 1004 }).items.map((v) => v.alert.alertId)).toEqual([
      'alt-3',
      'alt-2',
    ]);
  });

  it('lists a card timeline newest first', () => {
    const view = new AlertView();
    const card = { ...exampleAlert().card, fingerprint: 'f'.repeat(43) };
    view.applyAlert(alert(1));
    view.applyAlert(alert(2, { card }));
    view.applyAlert(alert(3, { card }));
    expect(view.cardTimeline(card.fingerprint).map((v) => v.alert.alertId)).toEqual(['alt-3', 'alt-2']);
    expect(view.query({ fingerprint: card.fingerprint }).total).toBe(2);
  });

  it('summarises incidents: confirmed share, reasons by confirmations, time to first alert', () => {
    const view = new AlertView();
    const end = Date.parse('2024-10-15');
    const reasons = (...codes: string[]) => codes.map((code) => ({ code, description: code, points: 1 }));
    view.applyAlert(alert(1, { detectedAt: end + 5000, reasons: reasons('A', 'B') }));
    view.applyAlert(alert(2, { detectedAt: end + 9000, reasons: reasons('B') }));
    view.applyAlert(alert(3, { detectedAt: end + 7000, reasons: reasons('C'), severity: 'LOW' }));
    view.applyDisposition(disposition('alt-1', 1, 'CONFIRMED_FRAUD'));
    view.applyDisposition(disposition('alt-2', 1, 'CONFIRMED_FRAUD'));
    view.applyDisposition(disposition('alt-3', 1, 'FALSE_POSITIVE'));
    const [stats] = view.incidentStats();
    expect(stats).toMatchObject({
      incidentId: 'inc-2025-001',
      alerts: 3,
      cards: 1,
      dispositioned: 3,
      confirmed: 2,
      exposureEndToFirstAlertMs: 5000,
      bySeverity: { LOW: 1, MEDIUM: 0, HIGH: 2, CRITICAL: 0 },
    });
    expect(stats!.confirmedReasons).toEqual([
      { code: 'B', confirmed: 2 },
      { code: 'A', confirmed: 1 },
    ]);
  });

  it('counts alerts per time bucket, oldest first', () => {
    const view = new AlertView();
    for (const n of [1, 2, 15, 25]) view.applyAlert(alert(n, { detectedAt: n }));
    expect(view.histogram(30, 10, 3).map((b) => b.count)).toEqual([2, 1, 1]);
  });
});
