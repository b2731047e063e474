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
