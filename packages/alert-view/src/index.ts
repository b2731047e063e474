export {
  AlertView,
  alertState,
  ALERT_STATES,
  type AlertState,
  type AlertQuery,
  type AlertPage,
  type ViewedAlert,
  type DispositionOrigin,
  type SeverityCounts,
  type IncidentStats,
} from './alert-view.js';
