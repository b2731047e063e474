import { setTimeout as sleep } from 'node:timers/promises';
import { luhnValid, maskUnparsedPan } from '@leakwatch/card';
import { parseIsoDateTime, validateAlertDisposition, type AlertDisposition } from '@leakwatch/contracts';
import type { Logger } from '@leakwatch/logger';
import { Webhook } from 'standardwebhooks';
import type { AlertIndexReader, IndexedAlert } from './alert-index.js';
import type { IntakeLedger } from './intake-ledger.js';

/** Standard Webhooks' tolerance: a request signed more than 5 minutes off the server's clock is refused. */
export const TIMESTAMP_TOLERANCE_SECONDS = 5 * 60;

/** One POST /v1/partners/<partnerId>/dispositions, as the HTTP layer read it. */
export interface IntakeRequest {
  partnerId: string;
  /** Lower-case header names. */
  headers: Readonly<Record<string, string | undefined>>;
  /** The raw body: the signature covers these exact bytes. */
  body: Buffer;
}

/** Error codes of the intake's JSON answers: a closed list an issuer can program against. */
export const INTAKE_ERROR_CODES = [
  'unknown_partner',
  'inbound_not_configured',
  'missing_signature_headers',
  'invalid_webhook_id',
  'invalid_timestamp',
  'stale_timestamp',
  'invalid_signature',
  'malformed_body',
  'invalid_disposition',
  'unknown_alert',
  'not_your_alert',
  'in_progress',
  'unavailable',
] as const;
export type IntakeErrorCode = (typeof INTAKE_ERROR_CODES)[number];

type IntakeResponseBody =
  | { status: 'accepted' | 'duplicate'; alertId: string }
  | {
      error: {
        code: IntakeErrorCode;
        message: string;
        problems?: readonly { path: string; message: string }[];
      };
    };

export interface IntakeResponse {
  status: number;
  body: IntakeResponseBody;
  /** Seconds, for 409 and 503: when a retry makes sense. */
  retryAfterSeconds?: number;
}

/** The metric outcome of a request: the error code, or accepted / duplicate. */
export type IntakeOutcome = IntakeErrorCode | 'accepted' | 'duplicate';

/** Where an accepted disposition goes: card.alert-dispositions.v1, keyed by alertId. */
export type PublishDisposition = (
  disposition: AlertDisposition,
  meta: { partnerId: string; webhookId: string },
) => Promise<void>;

export interface DispositionIntakeOptions {
  /**
   * The partner's inbound secrets (`whsec_…`, current first): undefined for a partner the
   * partners file does not have, null or empty for one without `inbound`.
   */
  inboundSecrets: (partnerId: string) => readonly string[] | null | undefined;
  alerts: AlertIndexReader;
  ledger: IntakeLedger;
  publish: PublishDisposition;
  logger: Logger;
  /** Called once per request with its outcome (metrics). */
  onOutcome?: (outcome: IntakeOutcome) => void;
  now?: () => number;
  /**
   * An alert not in the index yet may be one raised a moment ago (the webhook and the index are
   * fed by different consumers): look again for this long before answering 404. Default 2000.
   */
  unknownAlertWaitMs?: number;
}

/** Handles signed disposition posts; the HTTP server only reads the request and writes the answer. */
export interface DispositionIntake {
  handle(request: IntakeRequest): Promise<IntakeResponse>;
}

function refuse(
  status: number,
  code: IntakeErrorCode,
  message: string,
  extra: Partial<Pick<IntakeResponse, 'retryAfterSeconds'>> & {
    problems?: readonly { path: string; message: string }[];
  } = {},
): IntakeResponse {
  return {
    status,
    body: { error: { code, message, ...(extra.problems ? { problems: extra.problems } : {}) } },
    ...(extra.retryAfterSeconds !== undefined ? { retryAfterSeconds: extra.retryAfterSeconds } : {}),
  };
}

/**
 * JSON leniency, as for authorizations: `at` may be an ISO-8601 date-time with a zone, and a
 * missing `note` is null. Everything else is the contract's to judge.
 */
export function normalizeDispositionJson(input: unknown): unknown {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  const record = { ...(input as Record<string, unknown>) };
  if (typeof record.at === 'string') {
    const millis = parseIsoDateTime(record.at);
    if (!Number.isNaN(millis)) record.at = millis;
  }
  if (!('note' in record)) record.note = null;
  return record;
}

const PAN_LIKE = /\d(?:[ -]?\d){11,18}/g;

/**
 * Masks what looks like a card number (12-19 digits, spaces and dashes allowed, Luhn-valid) in
 * issuer free text: a PAN must never rest in clear in the topic, and refusing the verdict for it
 * would lose the verdict. Other digit runs (case numbers) stay.
 */
export function maskCardNumbers(text: string): string {
  return text.replace(PAN_LIKE, (run) => {
    const digits = run.replace(/\D/g, '');
    return luhnValid(digits) ? maskUnparsedPan(digits) : run;
  });
}

/** Standard Webhooks ids are opaque; keep them printable and short (they become Redis keys). */
const WEBHOOK_ID = /^[\x21-\x7e]{1,256}$/;

/**
 * The signed disposition intake. In order, so nothing unsigned is ever parsed and nothing
 * refused is ever written: partner known and inbound configured → signature headers present →
 * timestamp within 5 minutes → signature valid with one of the partner's inbound secrets
 * (verified by the `standardwebhooks` library, the one issuers use) → body is an
 * AlertDisposition → the alert is known and the partner's own → not a repeat → written.
 */
export function createDispositionIntake(options: DispositionIntakeOptions): DispositionIntake {
  const now = options.now ?? Date.now;
  const unknownAlertWaitMs = options.unknownAlertWaitMs ?? 2000;

  /** The indexed alert, looking again a few times for one raised a moment ago. */
  async function findAlert(alertId: string): Promise<IndexedAlert | null> {
    const deadline = Date.now() + unknownAlertWaitMs;
    for (;;) {
      const alert = await options.alerts.get(alertId);
      if (alert !== null || Date.now() >= deadline) return alert;
      await sleep(Math.min(250, Math.max(1, deadline - Date.now())));
    }
  }
  const verifiers = new Map<string, { secrets: readonly string[]; webhooks: Webhook[] }>();

  /** One Webhook per secret, built once per partner (and again if its secrets changed). */
  function verifiersFor(partnerId: string, secrets: readonly string[]): Webhook[] {
    const cached = verifiers.get(partnerId);
    if (cached && cached.secrets === secrets) return cached.webhooks;
    const webhooks: Webhook[] = [];
    for (const secret of secrets) {
      try {
        webhooks.push(new Webhook(secret));
      } catch {
        options.logger.error(
          { partnerId },
          'an inbound secret of this partner is not whsec_<base64>; ignored',
        );
      }
    }
    verifiers.set(partnerId, { secrets, webhooks });
    return webhooks;
  }

  async function handle(request: IntakeRequest): Promise<IntakeResponse> {
    const { partnerId, headers, body } = request;
    const secrets = options.inboundSecrets(partnerId);
    if (secrets === undefined) {
      return refuse(404, 'unknown_partner', `no partner "${partnerId.slice(0, 64)}" is configured`);
    }
    if (secrets === null || secrets.length === 0) {
      return refuse(
        403,
        'inbound_not_configured',
        `partner ${partnerId} has no inbound secret; dispositions cannot be verified`,
      );
    }

    const webhookId = headers['webhook-id'];
    const timestamp = headers['webhook-timestamp'];
    const signature = headers['webhook-signature'];
    const missing = [
      webhookId ? null : 'webhook-id',
      timestamp ? null : 'webhook-timestamp',
      signature ? null : 'webhook-signature',
    ].filter((h): h is string => h !== null);
    if (missing.length > 0 || !webhookId || !timestamp || !signature) {
      return refuse(
        401,
        'missing_signature_headers',
        `missing header(s) ${missing.join(', ')}; sign the request as Standard Webhooks v1 describes`,
      );
    }
    if (!WEBHOOK_ID.test(webhookId)) {
      return refuse(400, 'invalid_webhook_id', 'webhook-id must be 1-256 printable ASCII characters');
    }
    if (!/^\d{1,12}$/.test(timestamp)) {
      return refuse(401, 'invalid_timestamp', 'webhook-timestamp must be Unix seconds (an integer)');
    }
    const skewSeconds = Math.floor(now() / 1000) - Number(timestamp);
    if (Math.abs(skewSeconds) > TIMESTAMP_TOLERANCE_SECONDS) {
      return refuse(
        401,
        'stale_timestamp',
        `webhook-timestamp is ${Math.abs(skewSeconds)} s ${skewSeconds > 0 ? 'in the past' : 'in the future'}; ` +
          `at most ${TIMESTAMP_TOLERANCE_SECONDS} s is accepted (sign each attempt anew, check your clock)`,
      );
    }
    const verified = verifiersFor(partnerId, secrets).some((webhook) => {
      try {
        webhook.verify(
          body,
          { 'webhook-id': webhookId, 'webhook-timestamp': timestamp, 'webhook-signature': signature },
          { jsonParse: false },
        );
        return true;
      } catch {
        return false;
      }
    });
    if (!verified) {
      options.logger.warn({ partnerId }, 'disposition refused: no signature matches an inbound secret');
      return refuse(
        401,
        'invalid_signature',
        'no v1 signature in webhook-signature matches: HMAC-SHA256 over "<webhook-id>.<webhook-timestamp>.<body>" with your inbound secret',
      );
    }

    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString('utf8'));
    } catch {
      return refuse(400, 'malformed_body', 'the body is not JSON');
    }
    const checked = validateAlertDisposition(normalizeDispositionJson(parsed));
    if (!checked.ok) {
      return refuse(400, 'invalid_disposition', `not an AlertDisposition: ${checked.message}`, {
        problems: checked.problems.map((p) => ({ path: p.path, message: p.message })),
      });
    }
    const disposition: AlertDisposition = {
      ...checked.value,
      by: maskCardNumbers(checked.value.by),
      note: checked.value.note === null ? null : maskCardNumbers(checked.value.note),
    };

    try {
      const alert = await findAlert(disposition.alertId);
      if (alert === null) {
        return refuse(
          404,
          'unknown_alert',
          `no alert ${disposition.alertId} is known (too old, or not yet indexed: retry in a few seconds)`,
          { retryAfterSeconds: 5 },
        );
      }
      if (alert.partnerId !== partnerId) {
        options.logger.warn(
          { partnerId, alertId: disposition.alertId, owner: alert.partnerId },
          'disposition refused: the alert belongs to another partner',
        );
        return refuse(
          403,
          'not_your_alert',
          `alert ${disposition.alertId} is not one of ${partnerId}'s alerts`,
        );
      }

      const claimed = await options.ledger.claim(partnerId, webhookId, disposition);
      if (claimed.outcome === 'duplicate') {
        options.logger.info(
          { partnerId, alertId: disposition.alertId, webhookId },
          'disposition repeated; nothing written',
        );
        return { status: 200, body: { status: 'duplicate', alertId: disposition.alertId } };
      }
      if (claimed.outcome === 'in_progress') {
        return refuse(409, 'in_progress', 'the same disposition is being written; retry shortly', {
          retryAfterSeconds: 1,
        });
      }
      try {
        await options.publish(disposition, { partnerId, webhookId });
      } catch (error) {
        await options.ledger.release(claimed.claim).catch(() => undefined);
        throw error;
      }
      await options.ledger.confirm(claimed.claim).catch((error: unknown) => {
        // written to Kafka already; a repeat within the claim TTL is still a duplicate, and a
        // later one rewrites the same value under the same key (the applier ignores it)
        options.logger.warn({ err: error, partnerId }, 'disposition written but the ledger not updated');
      });
      options.logger.info(
        { partnerId, alertId: disposition.alertId, disposition: disposition.disposition, webhookId },
        'disposition accepted',
      );
      return { status: 202, body: { status: 'accepted', alertId: disposition.alertId } };
    } catch (error) {
      options.logger.error({ err: error, partnerId }, 'disposition intake failed; nothing written');
      return refuse(503, 'unavailable', 'the disposition could not be stored; retry later', {
        retryAfterSeconds: 5,
      });
    }
  }

  return {
    async handle(request) {
      const response = await handle(request);
      const outcome: IntakeOutcome =
        'error' in response.body ? response.body.error.code : response.body.status;
      options.onOutcome?.(outcome);
      return response;
    },
  };
}
