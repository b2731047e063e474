import type { Server } from 'node:http';
import type { Webhook } from 'standardwebhooks';

export declare const TOLERANCE_SECONDS: number;

export interface LeakwatchEvent {
  type: string;
  timestamp: string;
  data: { alertId: string; [field: string]: unknown };
}

export declare function createSeenIds(options?: { ttlMs?: number; now?: () => number }): {
  firstTime(id: string): boolean;
  forget(id: string): void;
};

export declare function verifyDelivery(
  webhooks: readonly Webhook[],
  rawBody: Buffer | string,
  headers: Record<string, string | string[] | undefined>,
): LeakwatchEvent;

export declare function createReceiver(options: {
  secrets: readonly string[];
  onAlert: (event: LeakwatchEvent, webhookId: string) => void | Promise<void>;
  path?: string;
  log?: (line: object) => void;
}): Server;

export interface DispositionInput {
  alertId: string;
  disposition: 'CONFIRMED_FRAUD' | 'FALSE_POSITIVE' | 'CARD_REISSUED' | 'UNDER_REVIEW';
  by: string;
  at?: number | string;
  note?: string | null;
}

export declare function postDisposition(options: {
  intakeUrl: string;
  secret: string;
  disposition: DispositionInput;
  webhookId?: string;
}): Promise<{ status: number; body: unknown }>;
