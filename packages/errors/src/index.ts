/**
 * The closed list of Leakwatch error codes. `retryable` decides the path an error takes:
 * a retryable failure (a dependency that can heal) pauses and retries; a permanent one is
 * reported (dead letter, reject report, refused start-up) and processing moves on.
 */
export const ErrorCodes = {
  // configuration and start-up
  CONFIG_INVALID: { retryable: false, description: 'configuration refused at start-up' },
  PREREQUISITE_MISSING: { retryable: false, description: 'a tool the command needs is not installed' },
  PORT_IN_USE: { retryable: false, description: 'a port the stack needs is already taken' },
  STACK_START_FAILED: { retryable: false, description: 'a local stack service did not come up' },
  // dependencies that can heal
  REDIS_UNAVAILABLE: { retryable: true, description: 'Redis is unreachable or failing' },
  KAFKA_UNAVAILABLE: { retryable: true, description: 'Kafka is unreachable or failing' },
  REGISTRY_UNAVAILABLE: { retryable: true, description: 'the schema registry is unreachable or failing' },
  // poison input: dead-lettered or rejected, never retried
  BAD_FRAMING: { retryable: false, description: 'message is neither Confluent-framed Avro nor JSON' },
  UNKNOWN_SCHEMA_ID: { retryable: false, description: 'the schema id is not in the registry' },
  AVRO_DECODE_FAILED: { retryable: false, description: 'Avro payload does not decode with its schema' },
  AVRO_TOO_COMPLEX: {
    retryable: false,
    description: 'Avro payload announces more array or map items than one message may hold',
  },
  JSON_INVALID: { retryable: false, description: 'payload is not valid JSON' },
  VALIDATION_FAILED: { retryable: false, description: 'a field is missing or has an impossible value' },
  INVALID_PAN: { retryable: false, description: 'card number fails length, digit or Luhn checks' },
  INVALID_EXPIRY: { retryable: false, description: 'expiry is not a valid month' },
  UNKNOWN_KEY_ID: { retryable: false, description: 'fingerprint key id is not active here' },
  // output that Kafka or our encoder refuses for good: dead-lettered so the partition moves on
  PUBLISH_REFUSED: { retryable: false, description: 'an alert for this message was refused for good' },
  TOO_LARGE: { retryable: false, description: "a dead letter over the topic's max.message.bytes" },
  // files and commands
  FILE_UNREADABLE: { retryable: false, description: 'an input file cannot be read or parsed' },
  FILE_UNWRITABLE: { retryable: false, description: 'an output file cannot be created or written' },
  MANIFEST_INVALID: { retryable: false, description: 'an incident manifest is malformed' },
  CARDS_FILE_INVALID: { retryable: false, description: 'a cards file has no usable card column' },
  RULES_INVALID: { retryable: false, description: 'a rules file is malformed' },
  PARTNERS_INVALID: { retryable: false, description: 'a partners file is malformed' },
  NOT_FOUND: { retryable: false, description: 'the named thing does not exist' },
  USAGE: { retryable: false, description: 'the command was called with wrong arguments' },
  INTERNAL: { retryable: false, description: 'a bug: an invariant did not hold' },
} as const satisfies Record<string, { retryable: boolean; description: string }>;

export type ErrorCode = keyof typeof ErrorCodes;

export interface LeakwatchErrorOptions {
  cause?: unknown;
  /** Overrides the code's default retryability (rarely needed). */
  retryable?: boolean;
  /** Extra structured detail; must never carry a PAN or a secret. */
  details?: Record<string, unknown>;
}

/** The one base error: every failure Leakwatch raises on purpose carries a code. */
export class LeakwatchError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: LeakwatchErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'LeakwatchError';
    this.code = code;
    this.retryable = options.retryable ?? ErrorCodes[code].retryable;
    this.details = options.details;
  }
}

export function isLeakwatchError(error: unknown, code?: ErrorCode): error is LeakwatchError {
  return error instanceof LeakwatchError && (code === undefined || error.code === code);
}

/** True when the failure can heal by waiting (a dependency is down), false for poison input and bugs. */
export function isRetryable(error: unknown): boolean {
  return error instanceof LeakwatchError ? error.retryable : false;
}

/**
 * Whether a failure can heal by waiting: a LeakwatchError whose code (or override) says
 * retryable, or a kafkajs error it marks `retriable` (leader moved, broker away, timeout).
 * Everything else (poison, a message too large, a schema the alert fails, a bug) cannot: retrying
 * it would stall the partition for good.
 */
export function canHeal(error: unknown): boolean {
  if (error instanceof LeakwatchError) return error.retryable;
  return error instanceof Error && (error as { retriable?: unknown }).retriable === true;
}

/** A message that is safe to log: the error's own message, with its code when it has one. */
export function describeError(error: unknown): string {
  if (error instanceof LeakwatchError) return `${error.code}: ${error.message}`;
  if (error instanceof Error) return error.message;
  return String(error);
}
