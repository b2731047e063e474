export {
  normalizePan,
  requirePan,
  luhnValid,
  withLuhnCheckDigit,
  isPanShape,
  PAN_REJECT_REASONS,
  MIN_PAN_LENGTH,
  MAX_PAN_LENGTH,
  type PanRejectReason,
  type PanResult,
} from './pan.js';
export { schemeOf, CARD_SCHEMES, type CardScheme } from './scheme.js';
export { maskPan, panParts, maskBin, maskUnparsedPan, binLength, type MaskedPan } from './mask.js';
export {
  parseExpiry,
  requireExpiry,
  isExpiry,
  EXPIRY_REJECT_REASONS,
  type ExpiryRejectReason,
  type ExpiryResult,
} from './expiry.js';
export {
  Keyring,
  createKeyring,
  MIN_KEY_BYTES,
  EXPIRY_TAG_LENGTH,
  type FingerprintKey,
  type KeyedFingerprint,
} from './fingerprint.js';
