import { describe, expect, it } from 'vitest';
import { exampleAlert, type SuspiciousChargeAlert } from '@leakwatch/contracts';
import { createPartnerRouter, type Partner } from '@leakwatch/partners';
import { planDelivery } from './route.js';

function partner(partnerId: string, binPrefixes: string[], extra: Partial<Partner> = {}): Partner {
  return {
    partnerId,
    name: partnerId,
    country: null,
    binPrefixes,
    minSeverity: 'LOW',
    delivery: { kafka: { topic: `partner.${partnerId}.alerts.v1` }, webhook: null },
    inbound: null,
    ...extra,
  };
}

const webhook = {
  url: 'https://x.example/hook',
  secrets: ['whsec_x'],
  ed25519: null,
  timeoutMs: 1000,
  retrySchedule: [0],
  allowPrivateNetwork: false,
};

const router = createPartnerRouter([
  partner('six', ['411111']),
  partner('eight', ['41111122'], { minSeverity: 'HIGH', delivery: { kafka: null, webhook } }),
  partner('both', ['520000'], { delivery: { kafka: { topic: 'both.alerts' }, webhook } }),
]);

function alert(bin: string, severity: SuspiciousChargeAlert['severity'] = 'HIGH'): SuspiciousChargeAlert {
  const a = exampleAlert();
  return { ...a, severity, card: { ...a.card, bin } };
}

describe('planDelivery', () => {
  it('routes by the longest BIN prefix', () => {
    expect(planDelivery(alert('41111122'), router)).toMatchObject({
      partner: { partnerId: 'eight' },
      topic: null,
      webhook: true,
    });
    expect(planDelivery(alert('41111133'), router)).toMatchObject({
      partner: { partnerId: 'six' },
      topic: 'partner.six.alerts.v1',
      webhook: false,
    });
    expect(planDelivery(alert('52000011'), router)).toMatchObject({ topic: 'both.alerts', webhook: true });
  });

  it("drops alerts below the partner's minimum severity and alerts nobody owns", () => {
    expect(planDelivery(alert('41111122', 'MEDIUM'), router)).toBeNull();
    expect(planDelivery(alert('41111122', 'CRITICAL'), router)).not.toBeNull();
    expect(planDelivery(alert('99999999'), router)).toBeNull();
  });

  it('routes by BIN even when the monitor marked the alert unrouted (a partner added since)', () => {
    expect(planDelivery({ ...alert('41111133'), partnerId: 'unrouted' }, router)?.partner.partnerId).toBe(
      'six',
    );
  });
});
