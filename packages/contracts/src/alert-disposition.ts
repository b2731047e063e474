import { z } from 'zod';
import * as field from './fields.js';
import { type Equals } from './type-equality.js';
import { validateWith, type ValidationResult } from './validation.js';

/** `Disposition` symbols of AlertDisposition.avsc. CARD_REISSUED takes the card off the watch list. */
export const DISPOSITIONS = ['CONFIRMED_FRAUD', 'FALSE_POSITIVE', 'CARD_REISSUED', 'UNDER_REVIEW'] as const;
export type Disposition = (typeof DISPOSITIONS)[number];

/** An analyst's verdict on an alert; compacted by alertId. */
export interface AlertDisposition {
  alertId: string;
  disposition: Disposition;
  by: string;
  /** Epoch milliseconds. */
  at: number;
  note: string | null;
}

export const alertDispositionSchema = z.object({
  alertId: field.text(128),
  disposition: z.enum(DISPOSITIONS),
  by: field.text(256),
  at: field.epochMillis(),
  note: field.nullable(z.string().max(4096, 'must be at most 4096 characters')),
});

const _outputIsDisposition: Equals<z.output<typeof alertDispositionSchema>, AlertDisposition> = true;

/** Checks a disposition against the contract; the message names fields and rules only. */
export function validateAlertDisposition(input: unknown): ValidationResult<AlertDisposition> {
  return validateWith(alertDispositionSchema, input, 'AlertDisposition');
}
