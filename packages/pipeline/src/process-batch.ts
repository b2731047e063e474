import type { Keyring } from '@leakwatch/card';
import type { RuleSet } from '@leakwatch/rules';
import { buildAlert } from './stages/build-alert.js';
import { evaluateWatched } from './stages/evaluate.js';
import { lookUpWatched, type WatchList } from './stages/look-up-watched.js';
import { emptyOutcome, type BatchOutcome } from './stages/outcome.js';
import { recordHistory, type HistoryRecorder } from './stages/record-history.js';
import { decodeAndResolve } from './stages/resolve-card.js';
import { routeCard, type BinRouter } from './stages/route.js';
import type { HistoryCounts } from './card-history.js';
import type { AuthorizationDecoder, InboundMessage } from './types.js';

export interface BatchDependencies {
  decoder: AuthorizationDecoder;
  keyring: Pick<Keyring, 'fingerprintAll' | 'has' | 'expiryTag'>;
  watchList: WatchList;
  history: HistoryRecorder;
  ruleSet: RuleSet;
  router: BinRouter;
  now: () => number;
  /** True for a retro-hunt: alerts carry `retrospective: true` and their own alertIds. */
  retrospective?: boolean;
  /** Called with lookup latency (seconds) so it can be observed; optional. */
  onLookup?: (seconds: number, fingerprints: number) => void;
  /** Called with the time (seconds) each stage took for the batch, for the RED-per-stage metrics. */
  onStage?: (stage: PipelineStage, seconds: number) => void;
}

/** The stages timed per batch (publishing is timed by the loop that publishes). */
export type PipelineStage = 'decode' | 'lookup' | 'history' | 'rules' | 'publish';

/**
 * Decides, for a batch in offset order, which messages raise alerts, which are poison and which
 * are clean, by running the stages in order: decode and resolve the card, look up the watch
 * list, record history, route, evaluate, build the alert. It writes nothing to Kafka; it only
 * touches Redis for the lookup and per-card history. It is safe to run again on the same batch
 * (after a retry or a crash): history counts an eventId once and alertIds derive from eventIds.
 * A retryable failure (Redis, registry) throws and nothing of the batch is to be committed.
 */
export async function processBatch(
  messages: readonly InboundMessage[],
  deps: BatchDependencies,
): Promise<BatchOutcome> {
  const outcome = emptyOutcome();
  let mark = performance.now();
  const lap = (stage: PipelineStage) => {
    if (!deps.onStage) return;
    const now = performance.now();
    deps.onStage(stage, (now - mark) / 1000);
    mark = now;
  };
  const decoded = await decodeAndResolve(messages, deps.decoder, deps.keyring);
  outcome.deadLetters.push(...decoded.deadLetters);
  lap('decode');

  const { watched, clean } = await lookUpWatched(decoded.resolved, deps.watchList, deps.onLookup);
  outcome.clean += clean;
  outcome.watched = watched.length;
  lap('lookup');
  if (watched.length === 0) return outcome;

  const counts = await recordHistory(watched, deps.history, deps.ruleSet);
  lap('history');
  const context = { detectedAt: deps.now(), retrospective: deps.retrospective ?? false };
  watched.forEach((w, index) => {
    const route = routeCard(w.item.card.issuerBin, deps.router);
    const scored = evaluateWatched(w, counts[index] as HistoryCounts, route, deps.ruleSet, deps.keyring);
    if (!scored.evaluation.alert) {
      outcome.clean += 1;
      return;
    }
    outcome.alerts.push({
      message: w.item.message,
      alert: buildAlert(w, scored, route, context),
      cardFingerprints: w.item.card.fingerprints,
    });
  });
  lap('rules');
  return outcome;
}
