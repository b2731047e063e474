import { readFile } from 'node:fs/promises';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isLeakwatchError, type LeakwatchError } from '@leakwatch/errors';
import { SEVERITIES } from '@leakwatch/rules';
import {
  UNROUTED_PARTNER_ID,
  compareSeverity,
  createPartnerRouter,
  loadPartners,
  meetsMinSeverity,
  parseDurationMs,
  parsePartners,
  partnersFromObject,
  type Partner,
} from './index.js';

const exampleFile = new URL('../example.partners.yaml', import.meta.url);
const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;
const inboundSecret = `whsec_${Buffer.alloc(24, 9).toString('base64')}`;
const edKey = `whsk_${Buffer.alloc(32, 3).toString('base64')}`;

function partnersError(run: () => unknown): LeakwatchError {
  try {
    run();
  } catch (error) {
    if (isLeakwatchError(error, 'PARTNERS_INVALID')) return error;
    throw error;
  }
  throw new Error('expected PARTNERS_INVALID');
}

function partner(partnerId: string, binPrefixes: string[]): Partner {
  return {
    partnerId,
    name: partnerId,
    country: null,
    binPrefixes,
    minSeverity: 'LOW',
    delivery: { kafka: { topic: `partner.${partnerId}.alerts.v1` }, webhook: null },
    inbound: null,
  };
}

describe('the example partners file', () => {
  it('loads, with the webhook secret from the environment', async () => {
    const text = await readFile(exampleFile, 'utf8');
    const router = parsePartners(text, 'example.partners.yaml', {
      env: { LEAKWATCH_WEBHOOK_SECRET_FUJI_BANK: secret, LEAKWATCH_INBOUND_SECRET_FUJI_BANK: inboundSecret },
    });
    expect(router.partners.map((p) => p.partnerId)).toEqual(['sakura-card', 'fuji-bank']);
    expect(router.partner('sakura-card')).toMatchObject({
      country: 'JP',
      minSeverity: 'MEDIUM',
      delivery: { kafka: { topic: 'partner.sakura-card.alerts.v1' }, webhook: null },
    });
    expect(router.partner('fuji-bank')).toMatchObject({
      minSeverity: 'LOW',
      delivery: {
        kafka: { topic: 'fuji.fraud-alerts' },
        webhook: {
          url: 'https://alerts.fuji-bank.example/leakwatch',
          secrets: [secret],
          ed25519: null,
          timeoutMs: 5000,
          retrySchedule: [0, 10_000, 300_000, 3_600_000, 21_600_000],
          allowPrivateNetwork: false,
        },
      },
      inbound: { secrets: [inboundSecret] },
    });
    expect(router.route('45391285')?.partnerId).toBe('fuji-bank');
    expect(router.route('45391275')?.partnerId).toBe('sakura-card');
  });

  it('names the missing environment variable, without it', () => {
    const loading = loadPartners(exampleFile.pathname);
    return Promise.all([
      expect(loading).rejects.toMatchObject({ code: 'PARTNERS_INVALID' }),
      expect(loading).rejects.toThrow(
        'partners[1].delivery.webhook.secrets[0]: environment variable LEAKWATCH_WEBHOOK_SECRET_FUJI_BANK is not set',
      ),
    ]);
  });
});

describe('partners file validation', () => {
  it('applies defaults: minSeverity LOW, kafka off, no country, webhook timeouts', () => {
    const router = partnersFromObject(
      {
        partners: [
          {
            partnerId: 'acme',
            name: 'Acme',
            binPrefixes: ['411111'],
            delivery: { webhook: { url: 'https://acme.example/hook', secrets: [secret] } },
          },
        ],
      },
      't',
    );
    expect(router.partner('acme')).toEqual({
      partnerId: 'acme',
      name: 'Acme',
      country: null,
      binPrefixes: ['411111'],
      minSeverity: 'LOW',
      delivery: {
        kafka: null,
        webhook: {
          url: 'https://acme.example/hook',
          secrets: [secret],
          ed25519: null,
          timeoutMs: 15_000,
          // SPEC: at once, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h
          retrySchedule: [0, 5000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000],
          allowPrivateNetwork: false,
        },
      },
      inbound: null,
    });
  });

  it('lists every problem with its path and never echoes a secret', () => {
    const error = partnersError(() =>
      parsePartners(
        `
partners:
  - partnerId: Bad_Id
    name: ''
    binPrefixes: [411111, '12345', 'abcdef']
    minSeverity: SEVERE
    delivery: {}
  - partnerId: unrouted
    name: Reserved
    country: jp
    binPrefixes: []
    delivery:
      kafka: { topic: 'bad topic' }
      webhook:
        url: 'ftp://user:pw@example.com'
        secrets: ['whsec_c2hvcnQtc2VjcmV0', { env: MISSING_VAR }, 42, 'tooshort-secret']
        timeoutMs: 5
        retrySchedule: ['0s', '5 minutes', 3.5]
        extra: 1
    inbound: { secrets: [], other: 1 }
  - partnerId: ok
    name: Ok
    binPrefixes: ['411111']
    delivery: { webhook: { url: 'not a url', secrets: [] } }
`,
        'bad.yaml',
      ),
    );
    const problems = error.details?.['problems'] as { path: string; message: string }[];
    expect(problems.map((p) => p.path)).toEqual(
      expect.arrayContaining([
        'partners[0].partnerId',
        'partners[0].name',
        'partners[0].binPrefixes[0]',
        'partners[0].binPrefixes[1]',
        'partners[0].binPrefixes[2]',
        'partners[0].minSeverity',
        'partners[0].delivery',
        'partners[1].partnerId',
        'partners[1].country',
        'partners[1].binPrefixes',
        'partners[1].delivery.kafka.topic',
        'partners[1].delivery.webhook.url',
        'partners[1].delivery.webhook.secrets[0]',
        'partners[1].delivery.webhook.secrets[1]',
        'partners[1].delivery.webhook.secrets[2]',
        'partners[1].delivery.webhook.secrets[3]',
        'partners[1].delivery.webhook.timeoutMs',
        'partners[1].delivery.webhook.retrySchedule[1]',
        'partners[1].delivery.webhook.retrySchedule[2]',
        'partners[1].inbound',
        'partners[1].inbound.secrets',
        'partners[1].delivery.webhook',
        'partners[2].delivery.webhook.url',
        'partners[2].delivery.webhook.secrets',
      ]),
    );
    expect(error.message).toContain('must be a quoted string of 6-8 digits');
    expect(error.message).toContain('"unrouted" is reserved');
    expect(error.message).toContain('needs kafka, webhook or both');
    expect(error.message).toContain('must not carry credentials');
    expect(error.message).toContain('secret is 12 bytes; needs 24-64 bytes');
    expect(error.message).toContain('secret must start with whsec_');
    expect(error.message).toContain("must be a duration such as '0s'");
    expect(error.message).toContain('environment variable MISSING_VAR is not set');
    expect(error.message).not.toContain('tooshort-secret');
    expect(error.message).not.toContain('c2hvcnQtc2VjcmV0');
    expect(error.message).not.toContain(':pw@');
    expect(JSON.stringify(error.details)).not.toContain('tooshort-secret');
    expect(JSON.stringify(error.details)).not.toContain('c2hvcnQtc2VjcmV0');
  });

  it('refuses a BIN prefix claimed twice, a duplicate partnerId and a shared topic', () => {
    const entry = (partnerId: string, binPrefixes: string[], topic?: string) => ({
      partnerId,
      name: partnerId,
      binPrefixes,
      delivery: { kafka: topic === undefined ? true : { topic } },
    });
    const error = partnersError(() =>
      partnersFromObject(
        {
          partners: [
            entry('a', ['411111', '4111112']),
            entry('b', ['411111', '52000000', '52000000'], 'shared'),
            entry('a', ['600000']),
            entry('c', ['700000'], 'shared'),
          ],
        },
        'dup.yaml',
      ),
    );
    expect(error.message).toContain(
      'partners[1].binPrefixes[0]: BIN prefix 411111 is already claimed by "a" (partners[0])',
    );
    expect(error.message).toContain('partners[1].binPrefixes[2]: BIN prefix 52000000 is listed twice');
    expect(error.message).toContain('partners[2].partnerId: "a" is already used by partners[0]');
    expect(error.message).toContain(
      'partners[3].delivery.kafka: topic shared is already the topic of partners[1]',
    );
    // partners[2] "a" also claims the default topic partner.a.alerts.v1 of partners[0].
    expect(error.message).toContain('(5 problems:');
  });

  it('lists YAML syntax errors and refuses unknown keys at the top', () => {
    expect(partnersError(() => parsePartners('partners: [\n', 's.yaml')).message).toMatch(
      /line \d+, column \d+/,
    );
    expect(partnersError(() => parsePartners('partner: []\n', 's.yaml')).message).toContain(
      'Unrecognized key: "partner"',
    );
    expect(partnersError(() => parsePartners('', 's.yaml')).message).toContain('(file): is empty');
  });

  it('reads Ed25519 keys and refuses both or neither signing method', () => {
    const webhook = (extra: object) => ({
      partners: [
        {
          partnerId: 'acme',
          name: 'Acme',
          binPrefixes: ['411111'],
          delivery: { webhook: { url: 'https://acme.example/hook', ...extra } },
        },
      ],
    });
    const router = partnersFromObject(webhook({ ed25519: { privateKey: { env: 'ACME_KEY' } } }), 't', {
      env: { ACME_KEY: edKey },
    });
    expect(router.partner('acme')?.delivery.webhook).toMatchObject({
      secrets: [],
      ed25519: { privateKey: edKey },
    });
    expect(JSON.stringify(router.partners)).not.toContain(edKey);

    expect(partnersError(() => partnersFromObject(webhook({}), 't')).message).toContain(
      'needs secrets (HMAC v1) or ed25519 (v1a), exactly one of them',
    );
    expect(
      partnersError(() =>
        partnersFromObject(webhook({ secrets: [secret], ed25519: { privateKey: edKey } }), 't'),
      ).message,
    ).toContain('exactly one of them');
    const short = partnersError(() =>
      partnersFromObject(
        webhook({ ed25519: { privateKey: `whsk_${Buffer.alloc(16).toString('base64')}` } }),
        't',
      ),
    );
    expect(short.message).toContain(
      'partners[0].delivery.webhook.ed25519.privateKey: secret is 16 bytes; needs 32 or 64 bytes',
    );
  });

  it('refuses plain http unless allowPrivateNetwork is true', () => {
    const file = (allowPrivateNetwork?: boolean) => ({
      partners: [
        {
          partnerId: 'local',
          name: 'Local',
          binPrefixes: ['411111'],
          delivery: {
            webhook: {
              url: 'http://127.0.0.1:8080/hook',
              secrets: [secret],
              ...(allowPrivateNetwork === undefined ? {} : { allowPrivateNetwork }),
            },
          },
        },
      ],
    });
    expect(partnersError(() => partnersFromObject(file(), 't')).message).toContain(
      'partners[0].delivery.webhook.url: must be https (plain http only with allowPrivateNetwork: true)',
    );
    expect(partnersError(() => partnersFromObject(file(false), 't')).message).toContain('must be https');
    expect(partnersFromObject(file(true), 't').partner('local')?.delivery.webhook?.allowPrivateNetwork).toBe(
      true,
    );
  });

  it('reads durations of a retry schedule', () => {
    expect(['0s', '500ms', '5m', '2h', 250].map(parseDurationMs)).toEqual([0, 500, 300_000, 7_200_000, 250]);
    expect(['5', '1d', '-1s', 1.5, null].map(parseDurationMs)).toEqual([null, null, null, null, null]);
  });

  it('hides webhook secrets from JSON and util.inspect', () => {
    const router = partnersFromObject(
      {
        partners: [
          {
            partnerId: 'acme',
            name: 'Acme',
            binPrefixes: ['411111'],
            delivery: { webhook: { url: 'https://acme.example/hook', secrets: [secret] } },
            inbound: { secrets: [inboundSecret] },
          },
        ],
      },
      't',
    );
    const acme = router.partner('acme');
    expect(acme?.inbound?.secrets).toEqual([inboundSecret]);
    expect(JSON.stringify(router.partners)).not.toContain(inboundSecret);
    expect(inspect(acme, { depth: 10 })).not.toContain(inboundSecret);
    expect(acme?.delivery.webhook?.secrets).toEqual([secret]);
    expect(JSON.stringify(router.partners)).not.toContain(secret);
    expect(JSON.stringify(router.partners)).toContain('[REDACTED]');
    expect(inspect(acme, { depth: 10 })).not.toContain(secret);
  });

  it('loads no partners without a file: everything is unrouted', async () => {
    const router = await loadPartners(undefined);
    expect(router.partners).toEqual([]);
    expect(router.route('41111111')).toBeNull();
    await expect(loadPartners('/nonexistent/partners.yaml')).rejects.toMatchObject({
      code: 'FILE_UNREADABLE',
    });
  });
});

describe('createPartnerRouter', () => {
  const router = createPartnerRouter([
    partner('six', ['411111']),
    partner('seven', ['4111112']),
    partner('eight', ['41111123', '52000000']),
  ]);

  it('takes the longest matching prefix', () => {
    expect(router.route('41111123')?.partnerId).toBe('eight');
    expect(router.route('41111124')?.partnerId).toBe('seven');
    expect(router.route('41111134')?.partnerId).toBe('six');
    expect(router.route('411111')?.partnerId).toBe('six');
    expect(router.route('4111112')?.partnerId).toBe('seven');
    expect(router.route('52000000')?.partnerId).toBe('eight');
  });

  it('returns null (unrouted) when nothing matches or the BIN is too short', () => {
    expect(router.route('41111200')).toBeNull();
    expect(router.route('520000')).toBeNull(); // a 6-digit BIN cannot match an 8-digit prefix
    expect(router.route('41111')).toBeNull();
    expect(router.route('')).toBeNull();
    expect(UNROUTED_PARTNER_ID).toBe('unrouted');
  });

  it('ignores digits beyond the eighth', () => {
    expect(router.route('4111112399')?.partnerId).toBe('eight');
  });

  it('finds partners by id', () => {
    expect(router.partner('seven')?.binPrefixes).toEqual(['4111112']);
    expect(router.partner('nope')).toBeUndefined();
  });

  it('refuses partners that share a prefix or an id', () => {
    expect(() => createPartnerRouter([partner('a', ['411111']), partner('b', ['411111'])])).toThrow(
      /claimed by both "a" and "b"/,
    );
    expect(() => createPartnerRouter([partner('a', ['411111']), partner('a', ['511111'])])).toThrow(
      /used twice/,
    );
    expect(() => createPartnerRouter([partner('a', ['41111'])])).toThrow(/6-8 digits/);
  });

  it('routes among thousands of partners exactly, by BIN, and nothing in between', () => {
    const many = Array.from({ length: 2000 }, (_, i) => partner(`p${i}`, [String(40000000 + i * 7)]));
    const big = createPartnerRouter(many);
    const routed: string[] = [];
    for (let n = 0; n < 20_000; n++) {
      const found = big.route(String(40000000 + n));
      if (found !== null) routed.push(`${n}:${found.partnerId}`);
    }
    expect(routed).toEqual(Array.from({ length: 2000 }, (_, i) => `${i * 7}:p${i}`));
  });
});

describe('severity helpers', () => {
  it('orders LOW < MEDIUM < HIGH < CRITICAL', () => {
    expect(compareSeverity('LOW', 'CRITICAL')).toBeLessThan(0);
    expect(compareSeverity('HIGH', 'HIGH')).toBe(0);
    expect(compareSeverity('CRITICAL', 'MEDIUM')).toBeGreaterThan(0);
  });

  it('meetsMinSeverity is inclusive', () => {
    for (const [i, severity] of SEVERITIES.entries()) {
      for (const [j, min] of SEVERITIES.entries()) {
        expect(meetsMinSeverity(severity, min), `${severity} vs ${min}`).toBe(i >= j);
      }
    }
  });
});
