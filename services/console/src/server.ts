import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import {
  ALERT_STATES,
  type AlertQuery,
  type AlertState,
  type AlertView,
  type ViewedAlert,
} from '@leakwatch/alert-view';
import {
  DISPOSITIONS,
  SEVERITIES,
  type Disposition,
  type Severity,
  type SuspiciousChargeAlert,
} from '@leakwatch/contracts';
import type { Logger } from '@leakwatch/logger';
import type { AuditLog } from './audit.js';
import type { IncidentInfo } from './incidents.js';
import {
  detailPage,
  feedPage,
  feedRow,
  formatAmount,
  incidentsPage,
  maskedCard,
  signInPage,
  type PageUser,
} from './pages.js';
import type { Session, SessionStore } from './sessions.js';
import { verifyPassword, type ConsoleUser } from './users.js';

export interface ConsoleServerOptions {
  view: AlertView;
  users: ReadonlyMap<string, ConsoleUser>;
  audit: AuditLog;
  /** Each incident's source and watched-card count, from the watch list. */
  incidents: { info(): Promise<ReadonlyMap<string, IncidentInfo>> };
  logger: Logger;
  /** Sessions and sign-in counters, in Redis (shared by instances, kept over restarts). */
  sessions: SessionStore;
  secureCookies: boolean;
  sessionTtlMs: number;
  /** Writes a disposition to Kafka (and the view); resolves once Kafka acknowledged it. */
  publishDisposition: (
    alertId: string,
    disposition: Disposition,
    by: string,
    note: string | null,
  ) => Promise<void>;
}

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=()',
  'cache-control': 'no-store',
};

const SIGN_IN_LIMIT = 5;
const SIGN_IN_WINDOW_MS = 60_000;
/** Compared against when the username is unknown, so timing does not tell which users exist. */
const DUMMY_HASH = 'scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=';

function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out.set(part.slice(0, i).trim(), decodeURIComponent(part.slice(i + 1).trim()));
  }
  return out;
}

async function readBody(req: IncomingMessage, limit = 64 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw Object.assign(new Error('body too large'), { status: 413 });
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** What the API returns for an alert: the alert itself carries bin + last4 only, never a PAN. */
function alertJson(v: ViewedAlert) {
  return {
    ...v.alert,
    maskedCard: maskedCard(v.alert),
    disposition: v.disposition,
    dispositionOrigin: v.origin ?? null,
  };
}

function parseTime(value: string | null): number | undefined {
  if (!value) return undefined;
  const n = /^\d+$/.test(value) ? Number(value) : Date.parse(value.length === 16 ? `${value}Z` : value);
  return Number.isFinite(n) ? n : undefined;
}

function parseAlertQuery(q: URLSearchParams): AlertQuery {
  const severity = q
    .getAll('severity')
    .filter((s): s is Severity => (SEVERITIES as readonly string[]).includes(s));
  const state = q
    .getAll('state')
    .filter((s): s is AlertState => (ALERT_STATES as readonly string[]).includes(s));
  const query: AlertQuery = {
    severity,
    state,
    page: Math.max(0, Number(q.get('page') ?? 0) || 0),
    pageSize: Math.max(1, Number(q.get('pageSize') ?? 50) || 50),
  };
  const partner = q.get('partner');
  if (partner) query.partnerId = partner;
  const incident = q.get('incident');
  if (incident) query.incidentId = incident;
  const reason = q.get('reason');
  if (reason) query.reasonCode = reason;
  const from = parseTime(q.get('from'));
  if (from !== undefined) query.from = from;
  const to = parseTime(q.get('to'));
  if (to !== undefined) query.to = to;
  return query;
}

function csvCell(value: string | number | null | undefined): string {
  let text = String(value ?? '');
  // Spreadsheet formula injection: a leading = + - @ is neutralised.
  if (/^[=+\-@]/.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/**
 * The console's web server on plain node:http: server-rendered pages, one static script and
 * stylesheet, a JSON API and an SSE stream. Sessions live in Redis (see SessionStore).
 */
export function createConsoleServer(options: ConsoleServerOptions): {
  server: Server;
  broadcast: (event: string, data: unknown) => void;
  closeStreams: () => void;
} {
  const { view, users, audit, logger, sessions } = options;
  const streams = new Set<ServerResponse>();
  const staticDir = new URL('../public/', import.meta.url);

  const cookie = (name: string, value: string, maxAgeSeconds: number) =>
    `${name}=${encodeURIComponent(value)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${options.secureCookies ? '; Secure' : ''}`;

  const send = (
    res: ServerResponse,
    status: number,
    type: string,
    body: string | Buffer,
    extra: Record<string, string | string[]> = {},
  ) => {
    res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, ...extra });
    res.end(body);
  };
  const json = (res: ServerResponse, status: number, body: unknown) =>
    send(res, status, 'application/json; charset=utf-8', JSON.stringify(body));
  const html = (
    res: ServerResponse,
    status: number,
    body: string,
    extra: Record<string, string | string[]> = {},
  ) => send(res, status, 'text/html; charset=utf-8', body, extra);
  const redirect = (res: ServerResponse, location: string, extra: Record<string, string | string[]> = {}) => {
    res.writeHead(303, { ...SECURITY_HEADERS, location, ...extra });
    res.end();
  };

  /** The request's session; the role is the users file's current one (a removed user is out). */
  async function sessionOf(req: IncomingMessage): Promise<Session | null> {
    const id = parseCookies(req.headers.cookie).get('lw_session');
    if (!id) return null;
    const session = await sessions.get(id);
    const user = session ? users.get(session.username) : undefined;
    return session && user ? { ...session, role: user.role } : null;
  }

  function pageUser(s: Session): PageUser {
    return { username: s.username, role: s.role, csrf: s.csrf };
  }

  async function signIn(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const form = new URLSearchParams(await readBody(req));
    const preCsrf = parseCookies(req.headers.cookie).get('lw_presession');
    if (!preCsrf || form.get('_csrf') !== preCsrf) {
      html(res, 403, signInPage(preCsrf ?? '', 'Your sign-in form expired; please try again.'));
      return;
    }
    const username = form.get('username') ?? '';
    const password = form.get('password') ?? '';
    const ip = req.socket.remoteAddress ?? '?';
    if ((await sessions.countAttempt(`${username}|${ip}`, SIGN_IN_WINDOW_MS)) > SIGN_IN_LIMIT) {
      logger.warn({ username, ip }, 'sign-in rate limited');
      html(res, 429, signInPage(preCsrf, 'Too many attempts; wait a minute.'), { 'retry-after': '60' });
      return;
    }
    const user = users.get(username);
    const ok = await verifyPassword(password, user?.passwordHash ?? DUMMY_HASH);
    if (!user || !ok) {
      logger.info({ username, ip }, 'sign-in refused');
      html(res, 401, signInPage(preCsrf, 'Wrong username or password.'));
      return;
    }
    await sessions.clearAttempts(`${username}|${ip}`);
    const id = await sessions.create(user);
    logger.info({ username, role: user.role }, 'signed in');
    redirect(res, '/feed', {
      'set-cookie': [
        cookie('lw_session', id, Math.floor(options.sessionTtlMs / 1000)),
        cookie('lw_presession', '', 0),
      ],
    });
  }

  function signInForm(res: ServerResponse, req: IncomingMessage): void {
    const pre =
      parseCookies(req.headers.cookie).get('lw_presession') ?? randomBytes(24).toString('base64url');
    html(res, 200, signInPage(pre, null), { 'set-cookie': cookie('lw_presession', pre, 3600) });
  }

  async function disposition(req: IncomingMessage, res: ServerResponse, session: Session, alertId: string) {
    const current = view.get(alertId);
    if (!current) return json(res, 404, { error: 'not_found' });
    let body: { disposition?: unknown; note?: unknown };
    try {
      body = JSON.parse(await readBody(req)) as typeof body;
    } catch {
      return json(res, 400, { error: 'invalid_json' });
    }
    const d = body.disposition;
    if (typeof d !== 'string' || !(DISPOSITIONS as readonly string[]).includes(d)) {
      return json(res, 400, { error: 'invalid_disposition', allowed: DISPOSITIONS });
    }
    const note = typeof body.note === 'string' && body.note.trim() !== '' ? body.note.slice(0, 4096) : null;
    const before = current.disposition?.disposition ?? null;
    await options.publishDisposition(alertId, d as Disposition, session.username, note);
    await audit.record({
      at: Date.now(),
      by: session.username,
      action: 'disposition',
      alertId,
      before,
      after: d,
      note,
    });
    json(res, 200, { ok: true, alertId, disposition: d });
  }

  async function reissue(req: IncomingMessage, res: ServerResponse, session: Session, fingerprint: string) {
    await readBody(req);
    const open = view
      .cardTimeline(fingerprint)
      .filter((v) => v.disposition === null || v.disposition.disposition === 'UNDER_REVIEW');
    for (const v of open) {
      await options.publishDisposition(
        v.alert.alertId,
        'CARD_REISSUED',
        session.username,
        'bulk: card reissued',
      );
      await audit.record({
        at: Date.now(),
        by: session.username,
        action: 'bulk_card_reissued',
        alertId: v.alert.alertId,
        before: v.disposition?.disposition ?? null,
        after: 'CARD_REISSUED',
        note: null,
      });
    }
    json(res, 200, { ok: true, updated: open.length });
  }

  async function closeLow(req: IncomingMessage, res: ServerResponse, session: Session, incidentId: string) {
    await readBody(req);
    const open = view.query({
      incidentId,
      severity: ['LOW'],
      state: ['open', 'under_review'],
      pageSize: 500,
    });
    let updated = 0;
    for (let p = 0; p * 500 < open.total; p++) {
      for (const v of view.query({
        incidentId,
        severity: ['LOW'],
        state: ['open', 'under_review'],
        pageSize: 500,
      }).items) {
        await options.publishDisposition(
          v.alert.alertId,
          'FALSE_POSITIVE',
          session.username,
          `bulk: LOW alerts of ${incidentId}`,
        );
        await audit.record({
          at: Date.now(),
          by: session.username,
          action: 'bulk_close_low',
          alertId: v.alert.alertId,
          before: v.disposition?.disposition ?? null,
          after: 'FALSE_POSITIVE',
          note: null,
        });
        updated++;
      }
    }
    json(res, 200, { ok: true, updated });
  }

  function stream(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      connection: 'keep-alive',
    });
    res.write('retry: 2000\n\n');
    streams.add(res);
    req.on('close', () => streams.delete(res));
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://console');
    const path = url.pathname;
    const method = req.method ?? 'GET';

    if (method === 'GET' && (path === '/static/app.js' || path === '/static/app.css')) {
      const file = path.endsWith('.js') ? 'app.js' : 'app.css';
      const body = await readFile(new URL(file, staticDir));
      return send(
        res,
        200,
        file.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8',
        body,
        {
          'cache-control': 'no-cache',
        },
      );
    }
    if (method === 'POST' && path === '/signin') return signIn(req, res);

    const session = await sessionOf(req);
    if (!session) {
      if (path.startsWith('/api/')) return json(res, 401, { error: 'sign_in_required' });
      if (method === 'GET' && path === '/') return signInForm(res, req);
      return redirect(res, '/');
    }

    if (method === 'POST') {
      const header = req.headers['x-csrf-token'];
      let token = typeof header === 'string' ? header : null;
      if (path === '/signout') token = new URLSearchParams(await readBody(req)).get('_csrf');
      if (token !== session.csrf) return json(res, 403, { error: 'csrf_token_invalid' });
      if (path === '/signout') {
        await sessions.delete(parseCookies(req.headers.cookie).get('lw_session') ?? '');
        return redirect(res, '/', { 'set-cookie': cookie('lw_session', '', 0) });
      }
      if (session.role !== 'analyst') return json(res, 403, { error: 'analyst_role_required' });
      const dm = /^\/api\/alerts\/([^/]+)\/disposition$/.exec(path);
      if (dm) return disposition(req, res, session, decodeURIComponent(dm[1]!));
      const im = /^\/api\/incidents\/([^/]+)\/close-low$/.exec(path);
      if (im) return closeLow(req, res, session, decodeURIComponent(im[1]!));
      const rm = /^\/api\/cards\/([^/]+)\/reissue$/.exec(path);
      if (rm) return reissue(req, res, session, decodeURIComponent(rm[1]!));
      return json(res, 404, { error: 'not_found' });
    }
    if (method !== 'GET') return json(res, 405, { error: 'method_not_allowed' });

    if (path === '/') return redirect(res, '/feed');
    if (path === '/feed')
      return html(
        res,
        200,
        feedPage(
          pageUser(session),
          view.query(parseAlertQuery(url.searchParams)),
          url.searchParams,
          view.histogram(Date.now(), 3_600_000, 24),
        ),
      );
    if (path === '/incidents')
      return html(
        res,
        200,
        incidentsPage(pageUser(session), view.incidentStats(), await options.incidents.info()),
      );
    const page = /^\/alerts\/([^/]+)$/.exec(path);
    if (page) {
      const id = decodeURIComponent(page[1]!);
      const v = view.get(id);
      if (!v)
        return html(
          res,
          404,
          '<!doctype html><title>Not found</title><p>No such alert. <a href="/feed">Feed</a></p>',
        );
      const sorted = view.sorted();
      const at = sorted.indexOf(v.alert);
      const neighbours = { newer: sorted[at - 1]?.alertId ?? null, older: sorted[at + 1]?.alertId ?? null };
      return html(
        res,
        200,
        detailPage(
          pageUser(session),
          v,
          view.cardTimeline(v.alert.card.fingerprint),
          await audit.entries(id),
          neighbours,
          await options.incidents.info(),
        ),
      );
    }
    if (path === '/api/stream') return stream(req, res);
    if (path === '/api/alerts') {
      const result = view.query(parseAlertQuery(url.searchParams));
      return json(res, 200, { ...result, items: result.items.map(alertJson) });
    }
    if (path === '/api/feed') {
      // The virtualised feed's pages: the rows as displayed, nothing more.
      const result = view.query(parseAlertQuery(url.searchParams));
      return json(res, 200, { ...result, items: result.items.map(feedRow) });
    }
    if (path === '/api/alerts.csv') {
      const query = { ...parseAlertQuery(url.searchParams), page: 0, pageSize: Number.MAX_SAFE_INTEGER };
      const rows = [
        [
          'alertId',
          'detectedAt',
          'severity',
          'score',
          'card',
          'partnerId',
          'merchant',
          'mcc',
          'country',
          'amount',
          'currency',
          'reasons',
          'incidents',
          'disposition',
          'by',
        ],
      ];
      const all = view.query({ ...query, pageSize: 500 });
      const total = all.total;
      for (let p = 0; p * 500 < total; p++) {
        for (const v of view.query({ ...query, page: p, pageSize: 500 }).items) {
          const a = v.alert;
          rows.push([
            a.alertId,
            new Date(a.detectedAt).toISOString(),
            a.severity,
            String(a.score),
            maskedCard(a),
            a.partnerId,
            a.transaction.merchantName ?? a.transaction.merchantId,
            a.transaction.mcc,
            a.transaction.merchantCountry,
            formatAmount(a.transaction.amountMinor, a.transaction.currency).split(' ')[0]!,
            a.transaction.currency,
            a.reasons.map((r) => r.code).join(' '),
            a.incidents.map((i) => i.incidentId).join(' '),
            v.disposition?.disposition ?? '',
            v.disposition?.by ?? '',
          ]);
        }
      }
      return send(
        res,
        200,
        'text/csv; charset=utf-8',
        rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n',
        {
          'content-disposition': 'attachment; filename="alerts.csv"',
        },
      );
    }
    const api = /^\/api\/alerts\/([^/]+)$/.exec(path);
    if (api) {
      const id = decodeURIComponent(api[1]!);
      const v = view.get(id);
      if (!v) return json(res, 404, { error: 'not_found' });
      return json(res, 200, {
        ...alertJson(v),
        timeline: view.cardTimeline(v.alert.card.fingerprint).map(alertJson),
        audit: await audit.entries(id),
      });
    }
    return json(res, 404, { error: 'not_found' });
  }

  // A comment line every 25 s keeps idle SSE connections open through proxies.
  const keepAlive = setInterval(() => {
    for (const res of streams) res.write(': ping\n\n');
  }, 25_000);
  keepAlive.unref();

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const status = (error as { status?: number }).status ?? 500;
      logger.error({ err: error, path: req.url?.split('?')[0] }, 'request failed');
      if (!res.headersSent) json(res, status, { error: status === 413 ? 'too_large' : 'internal_error' });
      else res.end();
    });
  });

  return {
    server,
    broadcast(event, data) {
      const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
      for (const res of streams) res.write(frame);
    },
    closeStreams() {
      clearInterval(keepAlive);
      for (const res of streams) res.end();
      streams.clear();
    },
  };
}

/** The SSE payload of a new alert: the row the feed shows. */
export function streamAlert(alert: SuspiciousChargeAlert) {
  return feedRow({ alert, disposition: null });
}
