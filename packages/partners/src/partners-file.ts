import { readFile } from 'node:fs/promises';
import { formatProblems, parseStructuredText, zodProblems, type FileProblem } from '@leakwatch/config';
import { isBin } from '@leakwatch/contracts';
import { LeakwatchError } from '@leakwatch/errors';
import { SEVERITIES } from '@leakwatch/rules';
import { z } from 'zod';
import {
  DEFAULT_RETRY_SCHEDULE_MS,
  DEFAULT_WEBHOOK_TIMEOUT_MS,
  UNROUTED_PARTNER_ID,
  partnerAlertsTopic,
  redactInboundWhenPrinted,
  redactSecretsWhenPrinted,
  type Partner,
} from './partner.js';
import { createPartnerRouter, type PartnerRouter } from './router.js';

/** Environment variables webhook secrets may be read from (`{ env: NAME }`). */
export type SecretEnvironment = Readonly<Record<string, string | undefined>>;

export interface PartnersLoadOptions {
  /**
   * Where `{ env: NAME }` secrets are looked up. Pass the process environment from a service's
   * main; a file with only literal secrets needs none.
   */
  env?: SecretEnvironment;
}

const partnerId = z
  .string({ error: 'must be a string' })
  .regex(
    /^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$/,
    'must be 1-40 lowercase letters, digits and dashes, starting and ending with a letter or digit',
  )
  .refine(
    (id) => id !== UNROUTED_PARTNER_ID,
    `"${UNROUTED_PARTNER_ID}" is reserved for alerts no partner owns`,
  );

/** A number would drop leading zeros (YAML reads 0411111 as 411111), so prefixes must be quoted. */
const binPrefix = z.unknown().transform((value, ctx): string => {
  if (isBin(value)) return value;
  ctx.addIssue({
    code: 'custom',
    message:
      typeof value === 'number'
        ? 'must be a quoted string of 6-8 digits (YAML reads an unquoted prefix as a number)'
        : 'must be a string of 6-8 digits',
  });
  return z.NEVER;
});

/** Kafka's legal topic characters; no "." or ".." (reserved). */
const topicName = z
  .string({ error: 'must be a string' })
  .regex(/^[A-Za-z0-9._-]{1,249}$/, 'must be 1-249 characters of A-Z a-z 0-9 . _ -')
  .refine((topic) => topic !== '.' && topic !== '..', 'is not a legal topic name');

const webhookUrl = z.string({ error: 'must be a string' }).transform((value, ctx): string => {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be an absolute http(s) URL' });
    return z.NEVER;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    ctx.addIssue({ code: 'custom', message: 'must be an http(s) URL' });
  }
  if (url.username !== '' || url.password !== '') {
    // A URL ends up in logs and error messages; credentials belong in `secrets`.
    ctx.addIssue({ code: 'custom', message: 'must not carry credentials (user:password@)' });
  }
  return value;
});

function wholeNumber(min: number, max: number, unit: string) {
  const message = `must be a whole number of ${unit} from ${min} to ${max}`;
  return z.number({ error: message }).int(message).min(min, message).max(max, message);
}

interface KeyShape {
  prefix: string;
  accepts(bytes: number): boolean;
  /** The byte lengths accepted, in words. */
  expected: string;
}

/** HMAC secrets: `whsec_` + base64 of 24-64 random bytes (docs/contract.md, "Partners file"). */
const HMAC_SECRET: KeyShape = {
  prefix: 'whsec_',
  accepts: (bytes) => bytes >= 24 && bytes <= 64,
  expected: '24-64 bytes',
};
/** Ed25519 private keys: `whsk_` + base64 of the 32-byte seed, or of seed + public key (64). */
const ED25519_KEY: KeyShape = {
  prefix: 'whsk_',
  accepts: (bytes) => bytes === 32 || bytes === 64,
  expected: '32 or 64 bytes',
};

/** What is wrong with a key, in words that never contain it; null when it is well formed. */
function keyProblem(value: string, shape: KeyShape, what: string): string | null {
  if (!value.startsWith(shape.prefix)) return `${what} must start with ${shape.prefix}`;
  const encoded = value.slice(shape.prefix.length);
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded)) return `${what} must be ${shape.prefix} followed by base64`;
  const bytes = Buffer.from(encoded, 'base64').length;
  return shape.accepts(bytes) ? null : `${what} is ${bytes} bytes; needs ${shape.expected}`;
}

/** A secret written in the file or `{ env: NAME }`; checked with `check`, which names it, never shows it. */
function secretSchema(env: SecretEnvironment, check: (secret: string, what: string) => string | null) {
  const literal = z.string();
  const fromEnv = z.strictObject({
    env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a variable name'),
  });
  return z
    .union([literal, fromEnv], { error: 'must be a secret string or { env: VARIABLE_NAME }' })
    .transform((value, ctx): string => {
      let secret: string;
      let what = 'secret';
      if (typeof value === 'string') secret = value;
      else {
        const fromVariable = env[value.env];
        if (fromVariable === undefined || fromVariable === '') {
          ctx.addIssue({ code: 'custom', message: `environment variable ${value.env} is not set` });
          return z.NEVER;
        }
        secret = fromVariable;
        what = `secret from ${value.env}`;
      }
      const problem = check(secret, what);
      if (problem !== null) {
        ctx.addIssue({ code: 'custom', message: problem });
        return z.NEVER;
      }
      return secret;
    });
}

const hmacSecret = (env: SecretEnvironment) =>
  secretSchema(env, (secret, what) => keyProblem(secret, HMAC_SECRET, what));
const ed25519Key = (env: SecretEnvironment) =>
  secretSchema(env, (secret, what) => keyProblem(secret, ED25519_KEY, what));

const DURATION_UNITS_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
const MAX_RETRY_DELAY_MS = 48 * 3_600_000;

/** '0s', '500ms', '5m', '2h' -> milliseconds (a bare number is milliseconds). */
export function parseDurationMs(value: unknown): number | null {
  if (typeof value === 'number') return Number.isInteger(value) && value >= 0 ? value : null;
  if (typeof value !== 'string') return null;
  const match = /^(\d+)(ms|s|m|h)$/.exec(value.trim());
  if (!match) return null;
  return Number(match[1]) * DURATION_UNITS_MS[match[2] as keyof typeof DURATION_UNITS_MS];
}

const retryDelay = z.unknown().transform((value, ctx): number => {
  const ms = parseDurationMs(value);
  if (ms === null || ms > MAX_RETRY_DELAY_MS) {
    ctx.addIssue({
      code: 'custom',
      message: "must be a duration such as '0s', '500ms', '5m' or '2h', at most 48h",
    });
    return z.NEVER;
  }
  return ms;
});

function partnersFileSchema(env: SecretEnvironment) {
  const partner = z.strictObject({
    partnerId,
    name: z.string({ error: 'must be a string' }).trim().min(1, 'must not be empty').max(200, 'is too long'),
    country: z
      .string()
      .regex(/^[A-Z]{2}$/, 'must be an ISO 3166-1 alpha-2 code in capitals, e.g. JP')
      .nullable()
      .default(null),
    binPrefixes: z
      .array(binPrefix, { error: 'must be a list of BIN prefixes' })
      .min(1, 'needs at least one prefix'),
    minSeverity: z.enum(SEVERITIES, { error: `must be one of ${SEVERITIES.join(', ')}` }).default('LOW'),
    delivery: z
      .strictObject({
        /** true: the default topic partner.<partnerId>.alerts.v1; { topic }: another one. */
        kafka: z
          .union([z.boolean(), z.strictObject({ topic: topicName.optional() })], {
            error: 'must be true, false or { topic: name }',
          })
          .default(false),
        webhook: z
          .strictObject({
            url: webhookUrl,
            secrets: z
              .array(hmacSecret(env), { error: 'must be a list of secrets' })
              .min(1, 'needs at least one secret')
              .optional(),
            ed25519: z.strictObject({ privateKey: ed25519Key(env) }).optional(),
            timeoutMs: wholeNumber(100, 60_000, 'milliseconds').default(DEFAULT_WEBHOOK_TIMEOUT_MS),
            retrySchedule: z
              .array(retryDelay, { error: 'must be a list of durations' })
              .min(1, 'needs at least one try')
              .max(50, 'has more than 50 tries')
              .default([...DEFAULT_RETRY_SCHEDULE_MS]),
            allowPrivateNetwork: z.boolean({ error: 'must be true or false' }).default(false),
          })
          .superRefine((webhook, ctx) => {
            const hmac = webhook.secrets !== undefined;
            const ed = webhook.ed25519 !== undefined;
            if (hmac === ed) {
              ctx.addIssue({
                code: 'custom',
                message: 'needs secrets (HMAC v1) or ed25519 (v1a), exactly one of them',
              });
            }
            if (!webhook.allowPrivateNetwork && webhook.url.startsWith('http:')) {
              ctx.addIssue({
                code: 'custom',
                path: ['url'],
                message: 'must be https (plain http only with allowPrivateNetwork: true)',
              });
            }
          })
          .nullable()
          .default(null),
      })
      .refine((delivery) => delivery.kafka !== false || delivery.webhook !== null, {
        message: 'needs kafka, webhook or both',
      }),
    inbound: z
      .strictObject({
        secrets: z
          .array(hmacSecret(env), { error: 'must be a list of secrets' })
          .min(1, 'needs at least one secret'),
      })
      .nullable()
      .default(null),
  });
  return z.strictObject({ partners: z.array(partner, { error: 'must be a list of partners' }) });
}

type ParsedPartner = z.output<ReturnType<typeof partnersFileSchema>>['partners'][number];

function toPartner(parsed: ParsedPartner): Partner {
  const { kafka, webhook } = parsed.delivery;
  return {
    partnerId: parsed.partnerId,
    name: parsed.name,
    country: parsed.country,
    binPrefixes: Object.freeze([...parsed.binPrefixes]),
    minSeverity: parsed.minSeverity,
    delivery: {
      kafka:
        kafka === false
          ? null
          : { topic: (kafka === true ? undefined : kafka.topic) ?? partnerAlertsTopic(parsed.partnerId) },
      webhook:
        webhook === null
          ? null
          : redactSecretsWhenPrinted({
              url: webhook.url,
              secrets: Object.freeze([...(webhook.secrets ?? [])]),
              ed25519: webhook.ed25519 ?? null,
              timeoutMs: webhook.timeoutMs,
              retrySchedule: Object.freeze([...webhook.retrySchedule]),
              allowPrivateNetwork: webhook.allowPrivateNetwork,
            }),
    },
    inbound:
      parsed.inbound === null
        ? null
        : redactInboundWhenPrinted({ secrets: Object.freeze([...parsed.inbound.secrets]) }),
  };
}

/** Problems no single field shows: one partnerId, one topic and one BIN prefix per partner. */
function crossPartnerProblems(partners: readonly Partner[]): FileProblem[] {
  const problems: FileProblem[] = [];
  const ids = new Map<string, number>();
  const topics = new Map<string, number>();
  const prefixes = new Map<string, { index: number; partnerId: string }>();
  partners.forEach((partner, index) => {
    const firstId = ids.get(partner.partnerId);
    if (firstId !== undefined) {
      problems.push({
        path: `partners[${index}].partnerId`,
        message: `"${partner.partnerId}" is already used by partners[${firstId}]`,
      });
    } else ids.set(partner.partnerId, index);

    const topic = partner.delivery.kafka?.topic;
    if (topic !== undefined) {
      const firstTopic = topics.get(topic);
      if (firstTopic !== undefined) {
        // One partner must never read another's cards.
        problems.push({
          path: `partners[${index}].delivery.kafka`,
          message: `topic ${topic} is already the topic of partners[${firstTopic}]`,
        });
      } else topics.set(topic, index);
    }

    partner.binPrefixes.forEach((prefix, prefixIndex) => {
      const owner = prefixes.get(prefix);
      if (owner === undefined) prefixes.set(prefix, { index, partnerId: partner.partnerId });
      else {
        problems.push({
          path: `partners[${index}].binPrefixes[${prefixIndex}]`,
          message:
            owner.index === index
              ? `BIN prefix ${prefix} is listed twice`
              : `BIN prefix ${prefix} is already claimed by "${owner.partnerId}" (partners[${owner.index}])`,
        });
      }
    });
  });
  return problems;
}

function invalid(source: string, problems: readonly FileProblem[]): LeakwatchError {
  return new LeakwatchError(
    'PARTNERS_INVALID',
    `invalid partners file ${source} (${formatProblems(problems)})`,
    {
      details: { source, problems },
    },
  );
}

/**
 * Validates plain values (a parsed partners file) and builds the router.
 * @throws LeakwatchError PARTNERS_INVALID listing every problem with its path; never a secret.
 */
export function partnersFromObject(
  value: unknown,
  source: string,
  options: PartnersLoadOptions = {},
): PartnerRouter {
  const result = partnersFileSchema(options.env ?? {}).safeParse(value);
  if (!result.success) throw invalid(source, zodProblems(result.error.issues));
  const partners = result.data.partners.map(toPartner);
  const problems = crossPartnerProblems(partners);
  if (problems.length > 0) throw invalid(source, problems);
  return createPartnerRouter(partners);
}

/**
 * Parses partners file text (YAML or JSON).
 * @throws LeakwatchError PARTNERS_INVALID listing every syntax or validation problem.
 */
export function parsePartners(
  text: string,
  source: string,
  options: PartnersLoadOptions = {},
): PartnerRouter {
  const parsed = parseStructuredText(text);
  if ('problems' in parsed) throw invalid(source, parsed.problems);
  return partnersFromObject(parsed.value, source, options);
}

/**
 * Loads the partners file at `path`; without one, no partner is configured and every alert is
 * unrouted.
 * @throws LeakwatchError FILE_UNREADABLE or PARTNERS_INVALID.
 */
export async function loadPartners(
  path: string | undefined,
  options: PartnersLoadOptions = {},
): Promise<PartnerRouter> {
  if (path === undefined) return createPartnerRouter([]);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    const reason = (cause as NodeJS.ErrnoException).code ?? 'read failed';
    throw new LeakwatchError('FILE_UNREADABLE', `cannot read partners file ${path} (${reason})`, {
      cause,
      details: { source: path },
    });
  }
  return parsePartners(text, path, options);
}
