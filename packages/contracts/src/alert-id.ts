import { createHash } from 'node:crypto';

const LIVE = 'leakwatch.alert.v1\0';
const RETROSPECTIVE = 'leakwatch.alert.retrospective.v1\0';

/**
 * alertId is derived from eventId alone, so a redelivered authorization yields the same id and
 * consumers deduplicate on it. 128 bits of SHA-256, base64url: "al_" + 22 characters. A
 * retrospective alert (retro-hunt) hashes under another domain: a rerun repeats its id, and it
 * never takes the id of the live alert on the same event.
 */
export function alertIdFor(eventId: string, options: { retrospective?: boolean } = {}): string {
  const domain = options.retrospective === true ? RETROSPECTIVE : LIVE;
  return `al_${createHash('sha256').update(domain).update(eventId).digest().subarray(0, 16).toString('base64url')}`;
}
