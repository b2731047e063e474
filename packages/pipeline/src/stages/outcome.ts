import type { KeyedFingerprint } from '@leakwatch/card';
import type { ErrorCode } from '@leakwatch/errors';
import type { InboundMessage, SuspiciousChargeAlert } from '../types.js';

/** An alert raised by one input message. */
export interface AlertDecision {
  message: InboundMessage;
  alert: SuspiciousChargeAlert;
  /**
   * The card's fingerprint under every active key (one when the upstream sent a fingerprint):
   * published beside the alert so that CARD_REISSUED can remove it under each of them.
   */
  cardFingerprints: readonly KeyedFingerprint[];
}

/** A message that goes to the dead-letter topic, and why. */
export interface DeadLetterDecision {
  message: InboundMessage;
  code: ErrorCode;
  reason: string;
}

/** What a batch gave: alerts and dead letters to publish, and counts for metrics. */
export interface BatchOutcome {
  alerts: AlertDecision[];
  deadLetters: DeadLetterDecision[];
  clean: number;
  /** Authorizations on watched cards (alerting or not). */
  watched: number;
}

export function emptyOutcome(): BatchOutcome {
  return { alerts: [], deadLetters: [], clean: 0, watched: 0 };
}
