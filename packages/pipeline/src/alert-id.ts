import { createHash } from 'node:crypto';

/**
 * alertId is derived from eventId alone, so a redelivered authorization yields the same id and
 * consumers deduplicate on it. 128 bits of SHA-256, base64url: "al_" + 22 characters.
 */
export function alertIdFor(eventId: string): string {
  return `al_${createHash('sha256').update('leakwatch.alert.v1\0').update(eventId).digest().subarray(0, 16).toString('base64url')}`;
}
