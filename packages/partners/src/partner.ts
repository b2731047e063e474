import { inspect } from 'node:util';
import type { Severity } from '@leakwatch/rules';

/** partnerId of alerts whose BIN no partner claims. Reserved: no partner may use it. */
export const UNROUTED_PARTNER_ID = 'unrouted';

/** The partner's default alert topic: `partner.<partnerId>.alerts.v1`. */
export function partnerAlertsTopic(partnerId: string): string {
  return `partner.${partnerId}.alerts.v1`;
}

/** docs/contract.md, "Partners file": at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h (milliseconds, before jitter). */
export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = Object.freeze([
  0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
]);

/** Default per-attempt timeout of a webhook (docs/contract.md: 15 s). */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 15_000;

export interface KafkaDelivery {
  topic: string;
}

/** Standard Webhooks v1 delivery. Secrets are hidden from JSON.stringify and util.inspect. */
export interface WebhookDelivery {
  /** https URL (http only with `allowPrivateNetwork`), without credentials in it. */
  url: string;
  /**
   * HMAC `v1` secrets (`whsec_<base64>`), current first; one signature per secret lets a partner
   * rotate. Empty when the partner signs with Ed25519.
   */
  secrets: readonly string[];
  /** Ed25519 `v1a` signing key (`whsk_<base64>`), instead of `secrets`. */
  ed25519: { privateKey: string } | null;
  /** Per attempt. */
  timeoutMs: number;
  /**
   * Delay before each try (the first included), in milliseconds, jitter not applied: its length
   * is the number of tries before the delivery goes to the partner's dead-letter list.
   */
  retrySchedule: readonly number[];
  /** true: http and loopback/private/link-local addresses are allowed (tests, on-premise). */
  allowPrivateNetwork: boolean;
}

/** What verifies the dispositions a partner posts back. */
export interface InboundSettings {
  /** `whsec_<base64>` secrets, any of which may sign. Hidden when printed. */
  secrets: readonly string[];
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
  inbound: InboundSettings | null;
}

function hideWhenPrinted<T extends object>(value: T, printable: () => unknown): T {
  Object.defineProperty(value, 'toJSON', { value: printable, enumerable: false });
  Object.defineProperty(value, inspect.custom, { value: printable, enumerable: false });
  return value;
}

/** Makes a webhook's secrets and key print as "[REDACTED]" in JSON and in util.inspect output. */
export function redactSecretsWhenPrinted(webhook: WebhookDelivery): WebhookDelivery {
  return hideWhenPrinted(webhook, () => ({
    url: webhook.url,
    secrets: webhook.secrets.map(() => '[REDACTED]'),
    ed25519: webhook.ed25519 === null ? null : { privateKey: '[REDACTED]' },
    timeoutMs: webhook.timeoutMs,
    retrySchedule: webhook.retrySchedule,
    allowPrivateNetwork: webhook.allowPrivateNetwork,
  }));
}

/** Makes inbound secrets print as "[REDACTED]". */
export function redactInboundWhenPrinted(inbound: InboundSettings): InboundSettings {
  return hideWhenPrinted(inbound, () => ({ secrets: inbound.secrets.map(() => '[REDACTED]') }));
}
