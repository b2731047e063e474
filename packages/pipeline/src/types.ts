import type {
  CardAuthorization,
  DecodeResult as ContractDecodeResult,
  RecordDecoder,
  SuspiciousChargeAlert,
} from '@leakwatch/contracts';

/** A validated authorization (the contract's type: one source of truth). */
export type Authorization = CardAuthorization;
export type { SuspiciousChargeAlert };
export type DecodeResult = ContractDecodeResult<CardAuthorization>;

/** Decodes input messages; throws a retryable LeakwatchError when the registry is down. */
export type AuthorizationDecoder = Pick<RecordDecoder<CardAuthorization>, 'decodeBatch'>;

/**
 * One Kafka message of the input topic, as the pipeline sees it. The fields of a kafkajs message
 * (which the monitor passes as they are: no copy per message); the partition is the batch's.
 */
export interface InboundMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  /** Kafka timestamp (ms since epoch, as a string like kafkajs gives it). */
  timestamp: string;
}
