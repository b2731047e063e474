import {
  alertState,
  type AlertPage,
  type DispositionOrigin,
  type IncidentStats,
  type ViewedAlert,
} from '@leakwatch/alert-view';
import { SEVERITIES, type SuspiciousChargeAlert } from '@leakwatch/contracts';
import type { AuditEntry } from './audit.js';
import type { IncidentInfo } from './incidents.js';

/** Escapes text for HTML content and attribute values. */
function esc(value: string | number | boolean | null | undefined): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** BIN + asterisks + last 4: the only card number form the console ever shows. */
export function maskedCard(alert: SuspiciousChargeAlert): string {
  return `${alert.card.bin}******${alert.card.last4}`;
}

/** Minor units in the currency's own digits (JPY 0, USD 2, BHD 3). */
export function formatAmount(minor: number, currency: string): string {
  let digits = 2;
  try {
    digits =
      new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ??
      2;
  } catch {
    // unknown code: two digits
  }
  return `${(minor / 10 ** digits).toFixed(digits)} ${currency}`;
}

const STATE_LABEL: Record<string, string> = {
  open: 'Open',
  under_review: 'Under review',
  confirmed: 'Confirmed fraud',
  false_positive: 'False positive',
  reissued: 'Card reissued',
};

export interface PageUser {
  username: string;
  role: string;
  csrf: string;
}

function layout(title: string, user: PageUser | null, body: string): string {
  const nav = user
    ? `<nav aria-label="Main"><a href="/feed">Feed</a> <a href="/incidents">Incidents</a>
<span class="who">${esc(user.username)} (${esc(user.role)})</span>
<form method="post" action="/signout" class="inline"><input type="hidden" name="_csrf" value="${esc(user.csrf)}"><button type="submit">Sign out</button></form></nav>`
    : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
${user ? `<meta name="csrf-token" content="${esc(user.csrf)}"><meta name="role" content="${esc(user.role)}">` : ''}
<title>${esc(title)} · Leakwatch</title><link rel="stylesheet" href="/static/app.css"><script src="/static/app.js" defer></script></head>
<body><header><strong>Leakwatch</strong> ${nav}</header><main>${body}</main></body></html>`;
}

export function signInPage(csrf: string, error: string | null): string {
  return layout(
    'Sign in',
    null,
    `<h1>Sign in</h1>${error ? `<p class="error" role="alert">${esc(error)}</p>` : ''}
<form method="post" action="/signin" class="signin">
<input type="hidden" name="_csrf" value="${esc(csrf)}">
<label>Username <input name="username" autocomplete="username" required autofocus></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button></form>`,
  );
}

/** One feed row, as the page, the `/api/feed` pages and the SSE stream carry it: display text only, no PAN. */
export interface FeedRow {
  alertId: string;
  detectedAt: number;
  severity: string;
  score: number;
  maskedCard: string;
  partnerId: string;
  merchant: string;
  country: string;
  amount: string;
  reasons: string[];
  /** The state's label, and who set the disposition (null while open). */
  state: string;
  by: string | null;
}

export function feedRow(v: ViewedAlert): FeedRow {
  const a = v.alert;
  return {
    alertId: a.alertId,
    detectedAt: a.detectedAt,
    severity: a.severity,
    score: a.score,
    maskedCard: maskedCard(a),
    partnerId: a.partnerId,
    merchant: a.transaction.merchantName ?? a.transaction.merchantId,
    country: a.transaction.merchantCountry,
    amount: formatAmount(a.transaction.amountMinor, a.transaction.currency),
    reasons: a.reasons.map((r) => r.code),
    state: STATE_LABEL[alertState(v.disposition)]!,
    by: v.disposition ? who(v.disposition.by, originPartner(v.origin)) : null,
  };
}

/** Who set a disposition: the analyst, or the issuer's user and the issuer. */
function who(by: string, partnerId: string | null | undefined): string {
  return partnerId ? `${by}, partner ${partnerId}` : by;
}

/** The state cell's text: the label, and who set it. public/app.js builds the same. */
function stateText(row: FeedRow): string {
  return row.by === null ? row.state : `${row.state} (${row.by})`;
}

/** A row at `index` of the whole filtered list (aria-rowindex counts the header row as 1). */
function alertRow(row: FeedRow, index: number): string {
  return `<tr data-alert-id="${esc(row.alertId)}" data-index="${index}" aria-rowindex="${index + 2}" tabindex="${index === 0 ? 0 : -1}">
<td>${esc(new Date(row.detectedAt).toISOString())}</td>
<td><span class="sev sev-${esc(row.severity)}">${esc(row.severity)}</span> ${esc(row.score)}</td>
<td><a href="/alerts/${encodeURIComponent(row.alertId)}">${esc(row.maskedCard)}</a></td>
<td>${esc(row.partnerId)}</td>
<td>${esc(row.merchant)} (${esc(row.country)})</td>
<td>${esc(row.amount)}</td>
<td>${esc(row.reasons.join(', '))}</td>
<td class="state">${esc(stateText(row))}</td></tr>`;
}

export function feedPage(
  user: PageUser,
  page: AlertPage,
  query: URLSearchParams,
  histogram: ReadonlyArray<{ start: number; count: number }> = [],
): string {
  const peak = Math.max(1, ...histogram.map((b) => b.count));
  const chart = histogram.length
    ? `<details class="chart"><summary>Alerts per hour, last ${histogram.length} hours</summary><table><tbody>${histogram
        .map(
          (b) =>
            `<tr><td>${esc(new Date(b.start).toISOString().slice(11, 16))}</td><td><progress max="${peak}" value="${b.count}">${b.count}</progress></td><td>${b.count}</td></tr>`,
        )
        .join('')}</tbody></table></details>`
    : '';
  const sel = (name: string, value: string) => (query.getAll(name).includes(value) ? ' selected' : '');
  const val = (name: string) => esc(query.get(name) ?? '');
  const counts = SEVERITIES.map(
    (s) => `<li><span class="sev sev-${s}">${s}</span> <span data-count="${s}">${page.counts[s]}</span></li>`,
  ).join('');
  const qs = (p: number) => {
    const q = new URLSearchParams(query);
    q.set('page', String(p));
    return esc(q.toString());
  };
  const pages = Math.max(1, Math.ceil(page.total / page.pageSize));
  const csv = new URLSearchParams(query);
  csv.delete('page');
  const offset = page.page * page.pageSize;
  const live = page.page === 0 && [...query].every(([k, v]) => k === 'page' || v === '');
  return layout(
    'Feed',
    user,
    `<h1>Alerts</h1>
<form method="get" action="/feed" class="filters" aria-label="Filters">
<label>Severity <select name="severity"><option value="">any</option>${SEVERITIES.map((s) => `<option${sel('severity', s)}>${s}</option>`).join('')}</select></label>
<label>State <select name="state"><option value="">any</option>${Object.entries(STATE_LABEL)
      .map(([k, l]) => `<option value="${k}"${sel('state', k)}>${l}</option>`)
      .join('')}</select></label>
<label>Partner <input name="partner" value="${val('partner')}" size="10"></label>
<label>Incident <input name="incident" value="${val('incident')}" size="14"></label>
<label>Reason <input name="reason" value="${val('reason')}" size="14"></label>
<label>From <input name="from" type="datetime-local" value="${val('from')}"></label>
<label>To <input name="to" type="datetime-local" value="${val('to')}"></label>
<button type="submit">Filter</button> <a href="/feed">Clear</a> <a href="/api/alerts.csv?${esc(csv.toString())}">Export CSV</a></form>
<ul class="counts" aria-label="Alerts per severity">${counts}</ul>${chart}
<p><span id="total">${page.total}</span> alerts<span class="pager"> · page ${page.page + 1} of ${pages}
${page.page > 0 ? `<a href="/feed?${qs(page.page - 1)}">Previous</a>` : ''}
${page.page + 1 < pages ? `<a href="/feed?${qs(page.page + 1)}">Next</a>` : ''}</span>
<span id="live" aria-live="polite"></span></p>
<p class="hint" id="feed-keys">Keys: j/k (or arrows) move, Enter opens${user.role === 'analyst' ? '; c confirmed fraud, f false positive, u under review, r card reissued' : ''}.</p>
<div id="feed-scroll" class="feed-scroll">
<table id="feed" aria-describedby="feed-keys" aria-rowcount="${page.total + 1}" data-total="${page.total}" data-offset="${offset}" data-query="${esc(csv.toString())}" data-live="${live ? 'on' : 'off'}">
<colgroup><col class="c-time"><col class="c-sev"><col class="c-card"><col class="c-partner"><col class="c-merchant"><col class="c-amount"><col class="c-reasons"><col class="c-state"></colgroup>
<thead><tr aria-rowindex="1"><th>Detected</th><th>Severity</th><th>Card</th><th>Partner</th><th>Merchant</th><th>Amount</th><th>Reasons</th><th>State</th></tr></thead>
<tbody>${page.items.map((v, i) => alertRow(feedRow(v), offset + i)).join('')}</tbody></table></div>
<p id="feed-status" class="hint" role="status"></p>`,
  );
}

function originPartner(origin: DispositionOrigin | null | undefined): string | null {
  return origin?.source === 'partner' ? origin.partnerId : null;
}

export function detailPage(
  user: PageUser,
  v: ViewedAlert,
  timeline: readonly ViewedAlert[],
  audit: readonly AuditEntry[],
  neighbours: { newer: string | null; older: string | null } = { newer: null, older: null },
  known: ReadonlyMap<string, IncidentInfo> = new Map(),
): string {
  const a = v.alert;
  const t = a.transaction;
  const state = alertState(v.disposition);
  const triage =
    user.role === 'analyst'
      ? `<section aria-labelledby="triage"><h2 id="triage">Triage</h2>
<label for="note">Note</label><br><textarea id="note" rows="2" cols="60" maxlength="4096"></textarea><br>
<div class="buttons">
<button type="button" data-disposition="CONFIRMED_FRAUD" aria-keyshortcuts="c">Confirmed fraud (c)</button>
<button type="button" data-disposition="FALSE_POSITIVE" aria-keyshortcuts="f">False positive (f)</button>
<button type="button" data-disposition="UNDER_REVIEW" aria-keyshortcuts="u">Under review (u)</button>
<button type="button" data-disposition="CARD_REISSUED" aria-keyshortcuts="r">Card reissued (r)</button>
<button type="button" data-reissue="${esc(a.card.fingerprint)}">Mark every open alert of this card reissued</button>
</div><p id="triage-status" role="status"></p></section>`
      : `<p class="hint">Viewers cannot triage.</p>`;
  return layout(
    `Alert ${a.alertId}`,
    user,
    `<p class="queue">${neighbours.newer ? `<a id="newer" href="/alerts/${encodeURIComponent(neighbours.newer)}" aria-keyshortcuts="k">Newer (k)</a>` : ''} ${neighbours.older ? `<a id="older" href="/alerts/${encodeURIComponent(neighbours.older)}" aria-keyshortcuts="j">Older (j)</a>` : ''}</p>
<h1>Alert <code id="alert-id">${esc(a.alertId)}</code></h1>
<p><span class="sev sev-${esc(a.severity)}">${esc(a.severity)}</span> score ${esc(a.score)} · ${esc(a.recommendedAction)}
· state: <strong id="state">${esc(STATE_LABEL[state])}</strong>
${v.disposition ? ` by <span id="disposition-by">${esc(who(v.disposition.by, originPartner(v.origin)))}</span> at ${esc(new Date(v.disposition.at).toISOString())}${v.disposition.note ? ` — <q id="disposition-note">${esc(v.disposition.note)}</q>` : ''}` : ''}</p>
<dl class="card"><dt>Card</dt><dd id="masked-card">${esc(maskedCard(a))}</dd><dt>Scheme</dt><dd>${esc(a.card.scheme)}</dd>
<dt>Expiry matches leak</dt><dd>${a.card.expiryMatchesLeak === null ? 'unknown' : a.card.expiryMatchesLeak ? 'yes' : 'no'}</dd>
<dt>Partner</dt><dd>${esc(a.partnerId)}</dd><dt>Detected</dt><dd>${esc(new Date(a.detectedAt).toISOString())}</dd>
<dt>Retrospective</dt><dd>${a.retrospective ? 'yes' : 'no'}</dd></dl>
${triage}
<h2>Reasons</h2><table id="reasons"><thead><tr><th>Code</th><th>Points</th><th>Why</th></tr></thead><tbody>
${a.reasons.map((r) => `<tr><td>${esc(r.code)}</td><td>${esc(r.points)}</td><td>${esc(r.description)}</td></tr>`).join('')}</tbody></table>
<h2>Transaction</h2><dl><dt>Merchant</dt><dd>${esc(t.merchantName ?? '')} (${esc(t.merchantId)})</dd><dt>MCC</dt><dd>${esc(t.mcc)}</dd>
<dt>Country</dt><dd>${esc(t.merchantCountry)}</dd><dt>Channel</dt><dd>${esc(t.channel)}</dd><dt>3DS</dt><dd>${esc(t.threeDs ?? '—')}</dd>
<dt>CVV</dt><dd>${esc(t.cvvResult ?? '—')}</dd><dt>Amount</dt><dd>${esc(formatAmount(t.amountMinor, t.currency))}</dd></dl>
<h2>Incidents</h2><ul id="incident-list">${a.incidents
      .map(
        (i) =>
          `<li><a href="/feed?incident=${encodeURIComponent(i.incidentId)}">${esc(i.incidentId)}</a> — ${esc(i.compromiseType)}, exposed ${esc(i.exposureStart ?? '?')} to ${esc(i.exposureEnd ?? '?')}: ${esc(i.dataExposed.join(', '))}; source: ${esc(known.get(i.incidentId)?.source ?? 'unknown')}</li>`,
      )
      .join('')}</ul>
<h2>Card timeline</h2><ol id="timeline">${timeline
      .map(
        (e) =>
          `<li>${e.alert.alertId === a.alertId ? '<strong>this alert</strong> ' : ''}<a href="/alerts/${encodeURIComponent(e.alert.alertId)}">${esc(new Date(e.alert.detectedAt).toISOString())}</a> ${esc(e.alert.severity)} ${esc(formatAmount(e.alert.transaction.amountMinor, e.alert.transaction.currency))} — ${esc(STATE_LABEL[alertState(e.disposition)])}</li>`,
      )
      .join('')}</ol>
<h2>Audit</h2><table id="audit"><thead><tr><th>When</th><th>Who</th><th>What</th><th>Before</th><th>After</th><th>Note</th></tr></thead><tbody>
${audit.map((e) => `<tr><td>${esc(new Date(e.at).toISOString())}</td><td>${esc(who(e.by, e.partnerId))}</td><td>${esc(e.action)}</td><td>${esc(e.before ?? '—')}</td><td>${esc(e.after ?? '—')}</td><td>${esc(e.note ?? '')}</td></tr>`).join('')}
</tbody></table>`,
  );
}

function duration(ms: number | null): string {
  if (ms === null) return 'unknown';
  const days = Math.floor(Math.abs(ms) / 86_400_000);
  const hours = Math.floor((Math.abs(ms) % 86_400_000) / 3_600_000);
  return `${ms < 0 ? '-' : ''}${days} d ${hours} h`;
}

export function incidentsPage(
  user: PageUser,
  incidents: readonly IncidentStats[],
  known: ReadonlyMap<string, IncidentInfo> = new Map(),
): string {
  return layout(
    'Incidents',
    user,
    `<h1>Incidents</h1><table id="incidents"><thead><tr><th>Incident</th><th>Source</th><th>Cards watched</th><th>Cards alerted</th><th>Alerts</th>${SEVERITIES.map((s) => `<th>${s}</th>`).join('')}<th>Confirmed share</th><th>Reasons by confirmations</th><th>Exposure end to first alert</th>${user.role === 'analyst' ? '<th>Bulk</th>' : ''}</tr></thead><tbody>
${incidents
  .map(
    (i) =>
      `<tr><td><a href="/feed?incident=${encodeURIComponent(i.incidentId)}">${esc(i.incidentId)}</a></td><td>${esc(known.get(i.incidentId)?.source ?? 'unknown')}</td><td>${known.get(i.incidentId)?.watchedCards ?? 'unknown'}</td><td>${i.cards}</td><td>${i.alerts}</td>${SEVERITIES.map((s) => `<td>${i.bySeverity[s]}</td>`).join('')}<td>${i.dispositioned === 0 ? '—' : `${Math.round((100 * i.confirmed) / i.dispositioned)}% of ${i.dispositioned}`}</td><td>${esc(
        i.confirmedReasons
          .slice(0, 5)
          .map((r) => `${r.code} ${r.confirmed}`)
          .join(', ') || '—',
      )}</td><td>${esc(duration(i.exposureEndToFirstAlertMs))}</td>${user.role === 'analyst' ? `<td><button type="button" data-close-low="${esc(i.incidentId)}">Close LOW as false positive</button></td>` : ''}</tr>`,
  )
  .join('')}</tbody></table><p id="triage-status" role="status"></p>`,
  );
}
