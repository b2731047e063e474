import {
  SEVERITIES,
  type AlertDisposition,
  type Disposition,
  type Severity,
  type SuspiciousChargeAlert,
} from '@leakwatch/contracts';

/** Triage state of an alert: `open` until a disposition other than UNDER_REVIEW closes it. */
export const ALERT_STATES = ['open', 'under_review', 'confirmed', 'false_positive', 'reissued'] as const;
export type AlertState = (typeof ALERT_STATES)[number];

const STATE_OF: Record<Disposition, AlertState> = {
  CONFIRMED_FRAUD: 'confirmed',
  FALSE_POSITIVE: 'false_positive',
  CARD_REISSUED: 'reissued',
  UNDER_REVIEW: 'under_review',
};

/** Who wrote a disposition: an analyst in the console, or an issuer through the dispatcher's intake. */
export interface DispositionOrigin {
  source: 'console' | 'partner';
  /** The issuer's partnerId when `source` is `partner`. */
  partnerId: string | null;
}

/** An alert as the console shows it: the alert (never a PAN) plus its latest disposition. */
export interface ViewedAlert {
  alert: SuspiciousChargeAlert;
  disposition: AlertDisposition | null;
  /** Where the latest disposition came from, when known. */
  origin?: DispositionOrigin | null;
}

export function alertState(disposition: AlertDisposition | null): AlertState {
  return disposition ? STATE_OF[disposition.disposition] : 'open';
}

export interface AlertQuery {
  severity?: readonly Severity[];
  partnerId?: string;
  incidentId?: string;
  reasonCode?: string;
  state?: readonly AlertState[];
  /** detectedAt >= from (epoch ms). */
  from?: number;
  /** detectedAt < to (epoch ms). */
  to?: number;
  fingerprint?: string;
  /** 0-based page. */
  page?: number;
  pageSize?: number;
}

export type SeverityCounts = Record<Severity, number>;

export interface AlertPage {
  items: ViewedAlert[];
  total: number;
  page: number;
  pageSize: number;
  counts: SeverityCounts;
}

const MAX_PAGE_SIZE = 500;

/** What the incidents page shows for one incident. */
export interface IncidentStats {
  incidentId: string;
  cards: number;
  alerts: number;
  bySeverity: SeverityCounts;
  /** Alerts with a final disposition (not UNDER_REVIEW). */
  dispositioned: number;
  confirmed: number;
  /** Reason codes by how many confirmed-fraud alerts carried them, most first. */
  confirmedReasons: Array<{ code: string; confirmed: number }>;
  /** First alert's detectedAt minus the end of exposure (ms), null when the end is unknown. */
  exposureEndToFirstAlertMs: number | null;
}

/** Newest first: detectedAt descending, alertId as tie-break so paging is stable. */
function newerFirst(a: SuspiciousChargeAlert, b: SuspiciousChargeAlert): number {
  if (a.detectedAt !== b.detectedAt) return b.detectedAt - a.detectedAt;
  return a.alertId < b.alertId ? 1 : a.alertId > b.alertId ? -1 : 0;
}

/**
 * The read model behind the console: every alert by id, its latest disposition, a newest-first
 * order and a per-card index. Applying the same alert or disposition twice changes nothing, so
 * replaying both topics from the beginning (at start or after a rebalance) is safe.
 */
export class AlertView {
  private readonly alerts = new Map<string, SuspiciousChargeAlert>();
  private readonly dispositions = new Map<string, AlertDisposition>();
  private readonly origins = new Map<string, DispositionOrigin>();
  private readonly byCard = new Map<string, Set<string>>();
  /** Sorted newest first; rebuilt lazily after inserts. */
  private ordered: SuspiciousChargeAlert[] = [];
  private dirty = false;

  get size(): number {
    return this.alerts.size;
  }

  /** Adds an alert; returns false when it was already known (a redelivery). */
  applyAlert(alert: SuspiciousChargeAlert): boolean {
    if (this.alerts.has(alert.alertId)) return false;
    this.alerts.set(alert.alertId, alert);
    let ids = this.byCard.get(alert.card.fingerprint);
    if (!ids) {
      ids = new Set();
      this.byCard.set(alert.card.fingerprint, ids);
    }
    ids.add(alert.alertId);
    this.ordered.push(alert);
    this.dirty = true;
    return true;
  }

  /**
   * Records a disposition; the latest by `at` wins (equal `at`: the one applied last, as
   * compaction keeps the last). Returns false when an older one was ignored. A disposition may
   * arrive before its alert (two topics): it is kept and shown once the alert arrives.
   */
  applyDisposition(disposition: AlertDisposition, origin?: DispositionOrigin): boolean {
    const current = this.dispositions.get(disposition.alertId);
    if (current && current.at > disposition.at) return false;
    this.dispositions.set(disposition.alertId, disposition);
    if (origin) this.origins.set(disposition.alertId, origin);
    else this.origins.delete(disposition.alertId);
    return true;
  }

  get(alertId: string): ViewedAlert | null {
    const alert = this.alerts.get(alertId);
    return alert
      ? {
          alert,
          disposition: this.dispositions.get(alertId) ?? null,
          origin: this.origins.get(alertId) ?? null,
        }
      : null;
  }

  disposition(alertId: string): AlertDisposition | null {
    return this.dispositions.get(alertId) ?? null;
  }

  /** The card's alerts, newest first. */
  cardTimeline(fingerprint: string): ViewedAlert[] {
    const ids = this.byCard.get(fingerprint);
    if (!ids) return [];
    return [...ids]
      .map((id) => this.alerts.get(id))
      .filter((a): a is SuspiciousChargeAlert => a !== undefined)
      .sort(newerFirst)
      .map((alert) => ({
        alert,
        disposition: this.dispositions.get(alert.alertId) ?? null,
        origin: this.origins.get(alert.alertId) ?? null,
      }));
  }

  /** Filters, counts per severity (of the filtered set, ignoring the severity filter) and pages. */
  query(query: AlertQuery = {}): AlertPage {
    const pageSize = Math.min(Math.max(query.pageSize ?? 50, 1), MAX_PAGE_SIZE);
    const page = Math.max(query.page ?? 0, 0);
    const counts = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as SeverityCounts;
    const severities = query.severity && query.severity.length > 0 ? new Set(query.severity) : null;
    const states = query.state && query.state.length > 0 ? new Set(query.state) : null;
    const start = page * pageSize;
    const items: ViewedAlert[] = [];
    let total = 0;
    const source =
      query.fingerprint !== undefined
        ? this.cardTimeline(query.fingerprint).map((v) => v.alert)
        : this.sorted();
    for (const alert of source) {
      if (query.from !== undefined && alert.detectedAt < query.from) continue;
      if (query.to !== undefined && alert.detectedAt >= query.to) continue;
      if (query.partnerId !== undefined && alert.partnerId !== query.partnerId) continue;
      if (query.incidentId !== undefined && !alert.incidents.some((i) => i.incidentId === query.incidentId))
        continue;
      if (query.reasonCode !== undefined && !alert.reasons.some((r) => r.code === query.reasonCode)) continue;
      const disposition = this.dispositions.get(alert.alertId) ?? null;
      if (states && !states.has(alertState(disposition))) continue;
      counts[alert.severity]++;
      if (severities && !severities.has(alert.severity)) continue;
      if (total >= start && items.length < pageSize)
        items.push({ alert, disposition, origin: this.origins.get(alert.alertId) ?? null });
      total++;
    }
    return { items, total, page, pageSize, counts };
  }

  /** Per-incident counts, confirmed share, reasons ranked by confirmations, time to first alert. */
  incidentStats(): IncidentStats[] {
    interface Acc {
      stats: IncidentStats;
      cards: Set<string>;
      reasons: Map<string, number>;
      exposureEnd: number | null;
      firstAlert: number;
    }
    const byId = new Map<string, Acc>();
    for (const alert of this.sorted()) {
      const d = this.dispositions.get(alert.alertId);
      for (const incident of alert.incidents) {
        let acc = byId.get(incident.incidentId);
        if (!acc) {
          const end = incident.exposureEnd ? Date.parse(incident.exposureEnd) : NaN;
          acc = {
            stats: {
              incidentId: incident.incidentId,
              cards: 0,
              alerts: 0,
              bySeverity: Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as SeverityCounts,
              dispositioned: 0,
              confirmed: 0,
              confirmedReasons: [],
              exposureEndToFirstAlertMs: null,
            },
            cards: new Set(),
            reasons: new Map(),
            exposureEnd: Number.isFinite(end) ? end : null,
            firstAlert: alert.detectedAt,
          };
          byId.set(incident.incidentId, acc);
        }
        acc.stats.alerts++;
        acc.stats.bySeverity[alert.severity]++;
        acc.cards.add(alert.card.fingerprint);
        acc.firstAlert = Math.min(acc.firstAlert, alert.detectedAt);
        if (d && d.disposition !== 'UNDER_REVIEW') {
          acc.stats.dispositioned++;
          if (d.disposition === 'CONFIRMED_FRAUD') {
            acc.stats.confirmed++;
            for (const r of alert.reasons) acc.reasons.set(r.code, (acc.reasons.get(r.code) ?? 0) + 1);
          }
        }
      }
    }
    return [...byId.values()]
      .map(({ stats, cards, reasons, exposureEnd, firstAlert }) => ({
        ...stats,
        cards: cards.size,
        confirmedReasons: [...reasons]
          .map(([code, confirmed]) => ({ code, confirmed }))
          .sort((a, b) => b.confirmed - a.confirmed || a.code.localeCompare(b.code)),
        exposureEndToFirstAlertMs: exposureEnd === null ? null : firstAlert - exposureEnd,
      }))
      .sort((a, b) => b.alerts - a.alerts);
  }

  /** Alerts per bucket of `bucketMs` over the last `buckets` buckets ending at `now`, oldest first. */
  histogram(now: number, bucketMs: number, buckets: number): Array<{ start: number; count: number }> {
    const start = now - bucketMs * buckets;
    const out = Array.from({ length: buckets }, (_, i) => ({ start: start + i * bucketMs, count: 0 }));
    for (const alert of this.sorted()) {
      if (alert.detectedAt < start) break;
      const i = Math.floor((alert.detectedAt - start) / bucketMs);
      if (i >= 0 && i < buckets) out[i]!.count++;
    }
    return out;
  }

  /** Every alert, newest first (shared array: do not modify). */
  sorted(): readonly SuspiciousChargeAlert[] {
    if (this.dirty) {
      this.ordered.sort(newerFirst);
      this.dirty = false;
    }
    return this.ordered;
  }
}
