import type { ErrorCode } from '@leakwatch/errors';

export interface SourcePosition {
  topic: string;
  partition: number;
  offset: string;
}

/** Header names of a dead letter (docs/contract.md, "Dead letters"). */
export const DLQ_HEADERS = {
  code: 'lw-error-code',
  message: 'lw-error-message',
  topic: 'lw-source-topic',
  partition: 'lw-source-partition',
  offset: 'lw-source-offset',
  failedAt: 'lw-failed-at',
} as const;

const PAN_LIKE = /\d(?:[ -]?\d){11,18}/g;

/** Masks any 12-19 digit run (spaces and dashes allowed): a last line of defence for free text. */
export function maskDigitRuns(text: string): string {
  return text.replace(PAN_LIKE, '[digits]');
}

/**
 * Headers saying why a message was dead-lettered. The message is built by our own code and never
 * carries input values, but a 12-19 digit run is masked anyway as a last line of defence.
 */
export function deadLetterHeaders(
  code: ErrorCode,
  message: string,
  source: SourcePosition,
  failedAt: Date,
): Record<string, string> {
  return {
    [DLQ_HEADERS.code]: code,
    [DLQ_HEADERS.message]: maskDigitRuns(message).slice(0, 1000),
    [DLQ_HEADERS.topic]: source.topic,
    [DLQ_HEADERS.partition]: String(source.partition),
    [DLQ_HEADERS.offset]: source.offset,
    [DLQ_HEADERS.failedAt]: failedAt.toISOString(),
  };
}
