import type { SuspiciousChargeAlert } from '@leakwatch/contracts';
import { meetsMinSeverity, type Partner, type PartnerRouter } from '@leakwatch/partners';

/** Where one alert goes: its partner, by topic and/or webhook. */
export interface DeliveryPlan {
  partner: Partner;
  /** The partner's topic, when it takes alerts on Kafka. */
  topic: string | null;
  webhook: boolean;
}

/**
 * The partner that owns the alert's BIN (longest prefix among all partners) gets it, when the
 * alert reaches the partner's minimum severity. The BIN decides, with the dispatcher's partners
 * file: an alert the monitor marked unrouted reaches a partner added since.
 */
export function planDelivery(alert: SuspiciousChargeAlert, router: PartnerRouter): DeliveryPlan | null {
  const partner = router.route(alert.card.bin);
  if (partner === null || !meetsMinSeverity(alert.severity, partner.minSeverity)) return null;
  const topic = partner.delivery.kafka?.topic ?? null;
  const webhook = partner.delivery.webhook !== null;
  if (topic === null && !webhook) return null;
  return { partner, topic, webhook };
}
