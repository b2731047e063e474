export {
  AlertView,
  alertState,
  ALERT_STATES,
  type AlertState,
  type AlertQuery,
  type AlertPage,
  type ViewedAlert,
  type SeverityCounts,
} from './alert-view.js';
