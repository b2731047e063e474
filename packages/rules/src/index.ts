// The contract's vocabularies, re-exported so callers of the rules need not know where they live.
export {
  SEVERITIES,
  RECOMMENDED_ACTIONS,
  CHANNELS,
  THREE_DS_RESULTS,
  CVV_RESULTS,
  type Severity,
  type RecommendedAction,
  type Channel,
  type ThreeDsResult,
  type CvvResult,
} from '@leakwatch/contracts';
export { REASON_CODES, type ReasonCode } from './model.js';
export {
  DEFAULT_RULES_CONFIG,
  rulesConfigSchema,
  type RulesConfig,
  type RuleToggle,
  type SeverityBand,
} from './config.js';
export {
  BUILT_IN_SOURCE,
  canonicalJson,
  defaultRuleSet,
  loadRuleSet,
  parseRuleSet,
  ruleSetFromObject,
  ruleSetVersion,
  type RuleSet,
} from './rule-set.js';
export {
  evaluate,
  historyWindows,
  countsTowardCardTesting,
  type EvaluationInput,
  type Evaluation,
  type Reason,
  type WatchIncident,
  type HistoryWindows,
} from './evaluate.js';
export {
  openRuleSetSource,
  staticRuleSetSource,
  type RuleSetSource,
  type RuleSetSourceOptions,
  type RulesLogger,
} from './source.js';
export { formatMinorAmount } from './format.js';
export type { FileProblem } from '@leakwatch/config';
