import { LeakwatchError } from '@leakwatch/errors';
import { type AlertDisposition, validateAlertDisposition } from './alert-disposition.js';
import {
  alertDispositionAvro,
  cardAuthorizationAvro,
  suspiciousChargeAlertAvro,
  type ContractSchema,
} from './avro-schemas.js';
import { type CardAuthorizationInput, validateCardAuthorization } from './card-authorization.js';
import { ensureSchemaRegistered, valueSubject, type ContractRegistry } from './registry.js';
import { type SuspiciousChargeAlert, validateSuspiciousChargeAlert } from './suspicious-charge-alert.js';
import { type ValidationResult } from './validation.js';

/**
 * Confluent wire format: magic byte 0, the schema id as a big-endian int32, then the Avro body.
 */
export function confluentFrame(schemaId: number, avroBody: Buffer): Buffer {
  const framed = Buffer.allocUnsafe(5 + avroBody.length);
  framed[0] = 0;
  framed.writeInt32BE(schemaId, 1);
  avroBody.copy(framed, 5);
  return framed;
}

export interface RecordEncoder<T> {
  readonly subject: string;
  /** The registry id of the contract schema under `subject`. */
  readonly schemaId: number;
  /**
   * Checks the record against the contract and encodes it as Confluent-framed Avro.
   * @throws LeakwatchError (VALIDATION_FAILED, INVALID_PAN or INVALID_EXPIRY; not retryable) for a
   *   record that breaks the contract: a bug in whatever built it. The message names fields only.
   */
  encode(record: T): Buffer;
}

export interface EncoderOptions {
  registry: Pick<ContractRegistry, 'getRegistryIdBySchema' | 'register'>;
  /** TopicNameStrategy: `<topic>-value`, see {@link valueSubject}. */
  subject: string;
}

async function createEncoder<In, Out>(
  schema: ContractSchema,
  validate: (input: unknown) => ValidationResult<Out>,
  options: EncoderOptions,
): Promise<RecordEncoder<In>> {
  const schemaId = await ensureSchemaRegistered(options.registry, schema, options.subject);
  return {
    subject: options.subject,
    schemaId,
    encode(record) {
      const checked = validate(record);
      if (!checked.ok) {
        throw new LeakwatchError(checked.code, `refusing to encode: ${checked.message}`, {
          details: { problems: checked.problems },
        });
      }
      return confluentFrame(schemaId, schema.type.toBuffer(checked.value));
    },
  };
}

/**
 * Makes sure SuspiciousChargeAlert is registered under `subject` (idempotent) and returns its
 * encoder.
 * @throws LeakwatchError REGISTRY_UNAVAILABLE (retryable), CONFIG_INVALID (the registry refuses
 *   the schema as incompatible) or INTERNAL
 */
export function createAlertEncoder(options: EncoderOptions): Promise<RecordEncoder<SuspiciousChargeAlert>> {
  return createEncoder(suspiciousChargeAlertAvro, validateSuspiciousChargeAlert, options);
}

/** As {@link createAlertEncoder}, for AlertDisposition. */
export function createDispositionEncoder(options: EncoderOptions): Promise<RecordEncoder<AlertDisposition>> {
  return createEncoder(alertDispositionAvro, validateAlertDisposition, options);
}

/**
 * As {@link createAlertEncoder}, for CardAuthorization: what `simulate`, `demo` and tests publish.
 * Takes the input form (ISO `occurredAt`, absent nullable fields) and writes the normalised one.
 */
export function createAuthorizationEncoder(
  options: EncoderOptions,
): Promise<RecordEncoder<CardAuthorizationInput>> {
  return createEncoder(cardAuthorizationAvro, validateCardAuthorization, options);
}

/** Topic names (configurable; the defaults are in docs/contract.md). */
export interface ContractTopics {
  authorizations: string;
  alerts: string;
  dispositions: string;
  /** `partner.<partnerId>.alerts.v1` topics, each carrying SuspiciousChargeAlert. */
  partnerTopics?: readonly string[];
}

export interface ContractSchemaIds {
  authorizations: number;
  alerts: number;
  dispositions: number;
  /** By partner topic name. */
  partnerTopics: Record<string, number>;
}

/**
 * Start-up: registers each contract schema under `<topic>-value` (TopicNameStrategy, BACKWARD)
 * unless it is already there, and returns the ids. Safe to run from every instance at once.
 * @throws LeakwatchError REGISTRY_UNAVAILABLE (retryable), CONFIG_INVALID or INTERNAL
 */
export async function registerContractSchemas(
  registry: Pick<ContractRegistry, 'getRegistryIdBySchema' | 'register'>,
  topics: ContractTopics,
): Promise<ContractSchemaIds> {
  const partnerTopics = [...new Set(topics.partnerTopics ?? [])];
  const [authorizations, alerts, dispositions, ...partnerIds] = await Promise.all([
    ensureSchemaRegistered(registry, cardAuthorizationAvro, valueSubject(topics.authorizations)),
    ensureSchemaRegistered(registry, suspiciousChargeAlertAvro, valueSubject(topics.alerts)),
    ensureSchemaRegistered(registry, alertDispositionAvro, valueSubject(topics.dispositions)),
    ...partnerTopics.map((topic) =>
      ensureSchemaRegistered(registry, suspiciousChargeAlertAvro, valueSubject(topic)),
    ),
  ]);
  return {
    authorizations,
    alerts,
    dispositions,
    partnerTopics: Object.fromEntries(partnerTopics.map((topic, i) => [topic, partnerIds[i] as number])),
  };
}
