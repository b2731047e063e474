export {
  UNROUTED_PARTNER_ID,
  DEFAULT_RETRY_SCHEDULE_MS,
  DEFAULT_WEBHOOK_TIMEOUT_MS,
  partnerAlertsTopic,
  type Partner,
  type KafkaDelivery,
  type WebhookDelivery,
  type InboundSettings,
} from './partner.js';
export { createPartnerRouter, type PartnerRouter } from './router.js';
export {
  loadPartners,
  parsePartners,
  partnersFromObject,
  parseDurationMs,
  type PartnersLoadOptions,
  type SecretEnvironment,
} from './partners-file.js';
export { compareSeverity, meetsMinSeverity } from './severity.js';
export type { FileProblem } from '@leakwatch/config';
