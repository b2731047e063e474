import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLeakwatchError, type LeakwatchError } from '@leakwatch/errors';
import { DEFAULT_RULES_CONFIG } from './config.js';
import {
  BUILT_IN_SOURCE,
  canonicalJson,
  defaultRuleSet,
  loadRuleSet,
  parseRuleSet,
  ruleSetFromObject,
} from './rule-set.js';

const defaultsYaml = new URL('../defaults.yaml', import.meta.url);

function rulesError(run: () => unknown): LeakwatchError {
  try {
    run();
  } catch (error) {
    if (isLeakwatchError(error, 'RULES_INVALID')) return error;
    throw error;
  }
  throw new Error('expected RULES_INVALID');
}

describe('built-in defaults', () => {
  it('are what an empty object parses to', () => {
    expect(ruleSetFromObject({}, 't').config).toEqual(DEFAULT_RULES_CONFIG);
    expect(defaultRuleSet()).toMatchObject({ source: BUILT_IN_SOURCE, config: DEFAULT_RULES_CONFIG });
    expect(defaultRuleSet().version).toMatch(/^rs-[0-9a-f]{12}$/);
  });

  it('equal defaults.yaml, field for field and by version', async () => {
    const fromFile = parseRuleSet(await readFile(defaultsYaml, 'utf8'), 'defaults.yaml');
    expect(fromFile.config).toEqual(DEFAULT_RULES_CONFIG);
    expect(fromFile.version).toBe(defaultRuleSet().version);
  });

  it('are frozen, so no caller can change the rules in force', () => {
    expect(Object.isFrozen(DEFAULT_RULES_CONFIG.rules.HIGH_RISK_MCC.mccs)).toBe(true);
    const loaded = ruleSetFromObject({ rules: { VELOCITY: { points: 1 } } }, 't');
    expect(Object.isFrozen(loaded.config.rules.VELOCITY)).toBe(true);
    expect(Object.isFrozen(loaded)).toBe(true);
  });
});

describe('ruleSetVersion', () => {
  const yamlText = `
# comment
alertMinScore: 10
rules:
  HIGH_RISK_MCC:
    mccs: ['6051', 4829]
  VELOCITY: { windowSeconds: 300, points: 25 }
`;
  const jsonText = JSON.stringify({
    rules: {
      VELOCITY: { points: 25, windowSeconds: 300 },
      HIGH_RISK_MCC: { mccs: ['4829', '6051', '4829'] },
    },
    alertMinScore: 10,
  });

  it('is stable across formatting, comments, key order, list order and YAML vs JSON', () => {
    const a = parseRuleSet(yamlText, 'a.yaml');
    const b = parseRuleSet(jsonText, 'b.json');
    expect(a.version).toBe(b.version);
    expect(a.config).toEqual(b.config);
    expect(a.config.rules.HIGH_RISK_MCC.mccs).toEqual(['4829', '6051']);
  });

  it('is the same for a file that spells out the defaults and for no file', () => {
    expect(parseRuleSet('alertMinScore: 0\n', 'x').version).toBe(defaultRuleSet().version);
  });

  it('changes when any value changes', () => {
    const base = parseRuleSet(yamlText, 'a');
    expect(parseRuleSet(yamlText.replace('points: 25', 'points: 26'), 'a').version).not.toBe(base.version);
    expect(parseRuleSet(yamlText.replace("'6051'", "'6050'"), 'a').version).not.toBe(base.version);
    expect(parseRuleSet(yamlText + 'severityBands: { HIGH: { minScore: 61 } }\n', 'a').version).not.toBe(
      base.version,
    );
  });

  it('canonical JSON sorts keys at every level and keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: null } })).toBe('{"a":{"c":null,"d":[2,1]},"b":1}');
  });
});

describe('invalid rules', () => {
  it('lists every problem with its path', () => {
    const error = rulesError(() =>
      parseRuleSet(
        `
alertMinScore: 101
bogus: 1
severityBands:
  LOW: { minScore: 5 }
  HIGH: { minScore: 30, recommendedAction: PANIC }
rules:
  LEAKED_CARD: { enabled: "yes", points: -1 }
  VELOCITY: { pionts: 3, windowSeconds: 0, minAuthorizations: 1 }
  HIGH_RISK_MCC: { mccs: [742, "48a9"] }
  HIGH_AMOUNT: { thresholdMinor: { usd: 5, EUR: 1.5 } }
  CARD_TESTING: { channels: [] }
  CROSS_BORDER: { defaultIssuerCountry: japan }
  NO_SUCH_RULE: {}
`,
        'bad.yaml',
      ),
    );
    const problems = error.details?.['problems'] as { path: string; message: string }[];
    const paths = problems.map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'alertMinScore',
        '(top level)',
        'severityBands.HIGH.recommendedAction',
        'rules.LEAKED_CARD.enabled',
        'rules.LEAKED_CARD.points',
        'rules.VELOCITY',
        'rules.VELOCITY.windowSeconds',
        'rules.VELOCITY.minAuthorizations',
        'rules.HIGH_RISK_MCC.mccs[0]',
        'rules.HIGH_RISK_MCC.mccs[1]',
        'rules.HIGH_AMOUNT.thresholdMinor.usd',
        'rules.HIGH_AMOUNT.thresholdMinor.EUR',
        'rules.CARD_TESTING.channels',
        'rules.CROSS_BORDER.defaultIssuerCountry',
        'rules',
      ]),
    );
    expect(problems.length).toBe(15);
    expect(error.message).toContain('invalid rules file bad.yaml (15 problems:');
    expect(error.message).toContain('rules.VELOCITY: Unrecognized key: "pionts"');
    expect(error.message).toContain('rules: Unrecognized key: "NO_SUCH_RULE"');
    expect(error.retryable).toBe(false);
  });

  it('checks band order once the bands themselves are well-formed', () => {
    const error = rulesError(() =>
      ruleSetFromObject({ severityBands: { LOW: { minScore: 5 }, MEDIUM: { minScore: 70 } } }, 'b'),
    );
    expect(error.message).toContain('severityBands.LOW.minScore: must be 0');
    expect(error.message).toContain('severityBands.HIGH.minScore: must be greater than MEDIUM.minScore (70)');
  });

  it('lists YAML syntax errors and duplicate keys with line and column', () => {
    const error = rulesError(() => parseRuleSet('alertMinScore: 1\nalertMinScore: 2\nrules: [\n', 's.yaml'));
    expect(error.message).toMatch(/line 2, column 1: Map keys must be unique/);
    expect(error.message).toMatch(/line \d+, column \d+: /);
  });

  it('refuses an empty file rather than reading it as all defaults', () => {
    expect(rulesError(() => parseRuleSet('# nothing\n', 'e.yaml')).message).toContain('(file): is empty');
    expect(rulesError(() => parseRuleSet('[1, 2]', 'e.yaml')).message).toContain('(top level)');
  });
});

describe('loadRuleSet', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lw-rules-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('loads the built-in defaults without a path and a file with one', async () => {
    expect(await loadRuleSet()).toBe(defaultRuleSet());
    const path = join(dir, 'rules.json');
    await writeFile(path, '{"alertMinScore": 25}');
    expect(await loadRuleSet(path)).toMatchObject({ source: path, config: { alertMinScore: 25 } });
  });

  it('reports an unreadable file as FILE_UNREADABLE', async () => {
    const loading = loadRuleSet(join(dir, 'missing.yaml'));
    await expect(loading).rejects.toMatchObject({ code: 'FILE_UNREADABLE' });
    await expect(loading).rejects.toThrow('ENOENT');
  });
});
