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
