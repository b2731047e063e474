import {
  EXPIRY_REJECT_REASONS,
  PAN_REJECT_REASONS,
  maskBin,
  maskPan,
  maskUnparsedPan,
  normalizePan,
  parseExpiry,
  schemeOf,
  type CardScheme,
  type Keyring,
} from '@leakwatch/card';
import { BIN_RULE, FINGERPRINT_RULE, LAST4_RULE, isBin, isFingerprint, isLast4 } from '@leakwatch/contracts';

/** Why a row of a cards file was not loaded: a closed list, each with a description. */
export const REJECT_REASONS = {
  ...PAN_REJECT_REASONS,
  ...EXPIRY_REJECT_REASONS,
  MISSING_CARD: 'row has neither a card number nor a fingerprint',
  INVALID_FINGERPRINT: `fingerprint ${FINGERPRINT_RULE}`,
  MISSING_KEY_ID: 'a fingerprint needs the key_id it was made with',
  UNKNOWN_KEY_ID: 'key_id is not an active fingerprint key here',
  INVALID_BIN: `bin ${BIN_RULE}`,
  INVALID_LAST4: `last4 ${LAST4_RULE}`,
  MALFORMED_ROW: 'row cannot be read',
} as const;

export type RejectReason = keyof typeof REJECT_REASONS;

/**
 * A card to watch, as it may be stored: the clear PAN and expiry never leave this package.
 * `source` says whether the file gave a PAN (fingerprinted here) or a fingerprint.
 */
export interface CardRecord {
  kind: 'card';
  /** File line the row starts on (the CSV header is line 1). */
  line: number;
  fingerprint: string;
  keyId: string;
  /** The BIN as shown (maskPan / maskBin: at least 6 digits hidden); null for a pre-hashed row without one. */
  bin: string | null;
  last4: string | null;
  scheme: CardScheme;
  /** Keyed tag of the leaked expiry (Keyring.expiryTag); null when the row has none. */
  expiryTag: string | null;
  source: 'pan' | 'fingerprint';
  /**
   * The same card under every other active key (a PAN row, while keys rotate), so an upstream
   * that fingerprints with any active key finds it. Empty for a pre-hashed row: its PAN is
   * unknown, so it exists under its own key only.
   */
  otherKeys: readonly KeyedCard[];
}

/** A card's fingerprint and expiry tag under one key. */
interface KeyedCard {
  keyId: string;
  fingerprint: string;
  expiryTag: string | null;
}

/** A row that was not loaded, safe to report: `masked` never shows more than 6 + 4 digits. */
export interface CardReject {
  kind: 'reject';
  line: number;
  reason: RejectReason;
  message: string;
  masked: string;
}

export type CardsFileRow = CardRecord | CardReject;

/** The recognised cells of one row, as read from the file (untrimmed, '' when absent). */
export interface RowCells {
  pan: string;
  expiry: string;
  fingerprint: string;
  keyId: string;
  bin: string;
  last4: string;
}

export function reject(line: number, reason: RejectReason, masked = '', message?: string): CardReject {
  return { kind: 'reject', line, reason, message: message ?? REJECT_REASONS[reason], masked };
}

/**
 * Turns the cells of one row into a card or a reject. The caller skips rows with nothing in them;
 * a row with content but neither a card number nor a fingerprint is a MISSING_CARD reject.
 */
export function toRow(keyring: Keyring, line: number, cells: RowCells): CardsFileRow {
  const rawPan = cells.pan.trim();
  if (rawPan.length > 0) return fromPan(keyring, line, rawPan, cells.expiry);
  const fingerprint = cells.fingerprint.trim();
  if (fingerprint.length > 0) return fromFingerprint(keyring, line, fingerprint, cells);
  return reject(line, 'MISSING_CARD');
}

function fromPan(keyring: Keyring, line: number, rawPan: string, rawExpiry: string): CardsFileRow {
  const pan = normalizePan(rawPan);
  if (!pan.ok) {
    const masked = maskUnparsedPan(rawPan);
    const message =
      pan.reason === 'INVALID_LENGTH'
        ? `card number has ${countDigits(rawPan)} digits; needs 12 to 19`
        : REJECT_REASONS[pan.reason];
    return reject(line, pan.reason, masked, message);
  }
  const digits = pan.pan;
  const masked = maskPan(digits);
  let expiry: string | null = null;
  if (rawExpiry.trim().length > 0) {
    const parsed = parseExpiry(rawExpiry);
    if (!parsed.ok) return reject(line, parsed.reason, masked.masked);
    expiry = parsed.expiry;
  }
  // every active key, current first
  const [current, ...others] = keyring.fingerprintAll(digits).map(({ keyId, fingerprint }): KeyedCard => ({
    keyId,
    fingerprint,
    expiryTag: expiry === null ? null : keyring.expiryTag(fingerprint, expiry, keyId),
  }));
  const { keyId, fingerprint, expiryTag } = current as KeyedCard;
  return {
    kind: 'card',
    line,
    fingerprint,
    keyId,
    bin: masked.bin,
    last4: masked.last4,
    scheme: schemeOf(digits),
    expiryTag,
    source: 'pan',
    otherKeys: others,
  };
}

function fromFingerprint(keyring: Keyring, line: number, fingerprint: string, cells: RowCells): CardsFileRow {
  const bin = cells.bin.trim();
  const last4 = cells.last4.trim();
  const binOk = bin.length === 0 || isBin(bin);
  const last4Ok = last4.length === 0 || isLast4(last4);
  // BIN cut like every shown card (at least 6 digits hidden), then the last 4.
  const masked = binOk && last4Ok && (bin || last4) ? `${bin ? maskBin(bin) : ''}…${last4}` : '';
  if (!isFingerprint(fingerprint)) return reject(line, 'INVALID_FINGERPRINT', masked);
  const keyId = cells.keyId.trim();
  if (keyId.length === 0) return reject(line, 'MISSING_KEY_ID', masked);
  if (!keyring.has(keyId)) return reject(line, 'UNKNOWN_KEY_ID', masked);
  if (!binOk) return reject(line, 'INVALID_BIN');
  if (!last4Ok) return reject(line, 'INVALID_LAST4');
  let expiryTag: string | null = null;
  if (cells.expiry.trim().length > 0) {
    const parsed = parseExpiry(cells.expiry);
    if (!parsed.ok) return reject(line, parsed.reason, masked);
    expiryTag = keyring.expiryTag(fingerprint, parsed.expiry, keyId);
  }
  return {
    kind: 'card',
    line,
    fingerprint,
    keyId,
    bin: bin ? maskBin(bin) : null,
    last4: last4 || null,
    scheme: bin ? schemeOf(bin) : 'UNKNOWN',
    expiryTag,
    source: 'fingerprint',
    otherKeys: [],
  };
}

function countDigits(value: string): number {
  let n = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}
