export {
  UNROUTED_PARTNER_ID,
  partnerAlertsTopic,
  type Partner,
  type KafkaDelivery,
  type WebhookDelivery,
} from './partner.js';
export { createPartnerRouter, type PartnerRouter } from './router.js';
export {
  loadPartners,
  parsePartners,
  partnersFromObject,
  type PartnersLoadOptions,
  type SecretEnvironment,
} from './partners-file.js';
export { compareSeverity, meetsMinSeverity } from './severity.js';
export type { FileProblem } from '@leakwatch/config';
