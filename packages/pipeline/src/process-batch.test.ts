import { alertIdFor } from '@leakwatch/contracts';
import { defaultRuleSet, ruleSetFromObject } from '@leakwatch/rules';
import { describe, expect, it } from 'vitest';
import { processBatch, type BatchDependencies } from './process-batch.js';
import {
  authorization,
  cardIncident,
  fakeDecoder,
  fakeHistory,
  fakeRouter,
  fakeWatchList,
  message,
  OTHER_PAN,
  PAN,
  partner,
  T0,
  twoKeyKeyring,
} from './stages/stages.fakes.js';

const keyring = twoKeyKeyring();
const online = { channel: 'ECOMMERCE', threeDs: 'NOT_PERFORMED', cvvResult: 'MATCH' } as const;

function dependencies(overrides: Partial<BatchDependencies> = {}) {
  const { decoder } = fakeDecoder({
    'watched-shop': authorization({ eventId: 'e-shop' }),
    'watched-online': authorization({ eventId: 'e-online', ...online }),
    clean: authorization({ eventId: 'e-clean', card: { ...authorization().card, pan: OTHER_PAN } }),
    poison: { ok: false, code: 'JSON_INVALID', message: 'not JSON' } as const,
  });
  const watch = fakeWatchList(
    new Map([
      [keyring.fingerprintAll(PAN)[1]?.fingerprint as string, { incidents: [cardIncident('inc-1')] }],
    ]),
  );
  const history = fakeHistory();
  const deps: BatchDependencies = {
    decoder,
    keyring,
    watchList: watch.watchList,
    history: history.history,
    ruleSet: defaultRuleSet(),
    router: fakeRouter([partner('visa-bank', 'JP', ['4111'])]),
    now: () => T0 + 250,
    ...overrides,
  };
  return { deps, watch, history };
}

describe('processBatch (the stages in order, with fakes)', () => {
  it('times each stage it runs, in order, for the RED-per-stage metrics', async () => {
    const stages: string[] = [];
    const { deps } = dependencies({
      onStage: (stage, seconds) => stages.push(seconds >= 0 ? stage : 'negative'),
    });
    await processBatch([message(1, 'watched-shop'), message(2, 'clean')], deps);
    expect(stages).toEqual(['decode', 'lookup', 'history', 'rules']);
    stages.length = 0;
    await processBatch([message(3, 'clean')], deps);
    // no watched card: no history round trip and no rules to run
    expect(stages).toEqual(['decode', 'lookup']);
  });

  it('splits a batch into alerts, dead letters and clean, in offset order', async () => {
    const { deps, history } = dependencies();
    const outcome = await processBatch(
      [message(1, 'watched-shop'), message(2, 'poison'), message(3, 'clean'), message(4, 'watched-online')],
      deps,
    );
    expect(outcome.deadLetters.map((d) => [d.message.offset, d.code])).toEqual([['2', 'JSON_INVALID']]);
    expect(outcome.watched).toBe(2);
    expect(outcome.alerts.map((a) => [a.message.offset, a.alert.alertId])).toEqual([
      ['1', alertIdFor('e-shop')],
      ['4', alertIdFor('e-online')],
    ]);
    expect(outcome.clean).toBe(1);
    for (const { alert } of outcome.alerts) {
      expect(alert).toMatchObject({ partnerId: 'visa-bank', detectedAt: T0 + 250, retrospective: false });
    }
    expect(history.calls[0]?.events.map((e) => e.eventId)).toEqual(['e-shop', 'e-online']);
  });

  it('counts a watched card below the alert score as clean', async () => {
    const { deps } = dependencies({
      ruleSet: ruleSetFromObject({ alertMinScore: 100 }, 'unit test'),
    });
    const outcome = await processBatch([message(1, 'watched-shop')], deps);
    expect(outcome).toMatchObject({ alerts: [], clean: 1, watched: 1 });
  });

  it('skips history when nothing is watched', async () => {
    const { deps, history } = dependencies();
    const outcome = await processBatch([message(3, 'clean'), message(2, 'poison')], deps);
    expect(outcome).toMatchObject({ alerts: [], clean: 1, watched: 0 });
    expect(history.calls).toHaveLength(0);
  });

  it('raises retrospective alerts with their own ids for a retro-hunt', async () => {
    const { deps } = dependencies({ retrospective: true });
    const outcome = await processBatch([message(1, 'watched-shop')], deps);
    expect(outcome.alerts[0]?.alert).toMatchObject({
      retrospective: true,
      alertId: alertIdFor('e-shop', { retrospective: true }),
    });
  });
});
