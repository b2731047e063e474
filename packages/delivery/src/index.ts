export {
  ALERT_CREATED,
  webhookId,
  webhookBody,
  hmacSigner,
  ed25519Signer,
  ed25519PrivateKey,
  ed25519PublicKey,
  ed25519PublicKeyOf,
  signerFor,
  webhookHeaders,
  type WebhookSigner,
} from './signing.js';
export {
  forbiddenAddressReason,
  guardedLookup,
  webhookUrlProblem,
  checkWebhookUrl,
  RefusedDestinationError,
} from './ssrf.js';
export {
  createWebhookSender,
  classifyStatus,
  type AttemptResult,
  type WebhookRequest,
  type WebhookSender,
  type WebhookSenderOptions,
} from './sender.js';
export {
  JITTER,
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
  withJitter,
  nextStep,
  firstDelay,
  type NextStep,
} from './schedule.js';
export {
  DeliveryStore,
  type DeliveryStoreOptions,
  type StoredDelivery,
  type ClaimedDelivery,
  type DeadLetter,
  type DeliveryOutcome,
  type EnqueueResult,
  type PartnerStatus,
  type Settlement,
} from './store.js';
export {
  WebhookDispatcher,
  type WebhookDispatcherOptions,
  type DeliveryMetrics,
  type DeliveryOutcomeLabel,
  type EnqueueSummary,
} from './webhook-dispatcher.js';
export { planDelivery, type DeliveryPlan } from './route.js';
export { AlertConsumer, type AlertConsumerOptions, type AlertConsumerMetrics } from './alert-consumer.js';
