import { LeakwatchError } from '@leakwatch/errors';
import { type SuspiciousChargeAlert, validateSuspiciousChargeAlert } from './suspicious-charge-alert.js';

/**
 * The alert as a webhook body: the Avro field names, in the schema's order, nullable fields as
 * explicit nulls, times as epoch milliseconds. The text depends only on the alert's content (not
 * on how the object was built), so a retried delivery sends, and signs, the same bytes.
 * @throws LeakwatchError for an alert that breaks the contract (names fields, never values)
 */
export function alertToJson(alert: SuspiciousChargeAlert): string {
  const checked = validateSuspiciousChargeAlert(alert);
  if (!checked.ok) {
    throw new LeakwatchError(checked.code, `refusing to serialise: ${checked.message}`, {
      details: { problems: checked.problems },
    });
  }
  // validation (the plain check, as zod) builds the output in the schema's key order, which the
  // agreement test pins to the .avsc
  return JSON.stringify(checked.value);
}

/**
 * `alertToJson` of an alert exactly as `validateSuspiciousChargeAlert` or the alert decoder
 * returned it (not changed since): it was checked then, and built in the schema's key order, so
 * it is not checked again. The dispatcher uses it on the hot path (each alert validated once).
 */
export function validatedAlertToJson(alert: SuspiciousChargeAlert): string {
  return JSON.stringify(alert);
}
