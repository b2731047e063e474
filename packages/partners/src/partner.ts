import { inspect } from 'node:util';
import type { Severity } from '@leakwatch/rules';

/** partnerId of alerts whose BIN no partner claims. Reserved: no partner may use it. */
export const UNROUTED_PARTNER_ID = 'unrouted';

/** The partner's default alert topic: `partner.<partnerId>.alerts.v1`. */
export function partnerAlertsTopic(partnerId: string): string {
  return `partner.${partnerId}.alerts.v1`;
}

export interface KafkaDelivery {
  topic: string;
}

export interface WebhookDelivery {
  /** http(s) URL without credentials in it. */
  url: string;
  /**
   * Signing secrets, current first; one `v1=` signature per secret lets a partner rotate.
   * Hidden from JSON.stringify and util.inspect (hence from logs); read them only to sign.
   */
  secrets: readonly string[];
  /** Per attempt. */
  timeoutMs: number;
  /** Tries in all, the first included, before the delivery goes to the partner's dead-letter list. */
  maxAttempts: number;
}

/** A card issuer that receives alerts for the BINs it claims. */
export interface Partner {
  /** Lowercase letters, digits and dashes; becomes part of a topic name, Redis keys and metric labels. */
  partnerId: string;
  name: string;
  /** ISO 3166-1 alpha-2 issuing country, when known: the CROSS_BORDER rule compares with it. */
  country: string | null;
  /** 6-8 digit prefixes; the longest match among all partners wins. */
  binPrefixes: readonly string[];
  /** Alerts below this severity are not delivered to the partner (they stay on card.alerts.v1). */
  minSeverity: Severity;
  delivery: {
    kafka: KafkaDelivery | null;
    webhook: WebhookDelivery | null;
  };
}

/** Makes a webhook's secrets print as "[REDACTED]" in JSON and in util.inspect output. */
export function redactSecretsWhenPrinted(webhook: WebhookDelivery): WebhookDelivery {
  const printable = () => ({
    url: webhook.url,
    secrets: '[REDACTED]',
    timeoutMs: webhook.timeoutMs,
    maxAttempts: webhook.maxAttempts,
  });
  Object.defineProperty(webhook, 'toJSON', { value: printable, enumerable: false });
  Object.defineProperty(webhook, inspect.custom, { value: printable, enumerable: false });
  return webhook;
}
