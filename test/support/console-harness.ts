import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashPassword, loadEnv, startConsole, type ConsoleHandle } from '@leakwatch/console-service';
import { exampleAlert, type SuspiciousChargeAlert } from '@leakwatch/contracts';
import { silentLogger } from '@leakwatch/logger';
import type { IntegrationFixtures, StackEndpoints } from '@leakwatch/testing';

export const ANALYST = { username: 'ana', password: 'analyst-pass-1' };
export const VIEWER = { username: 'vic', password: 'viewer-pass-1' };

/** A users file with one analyst and one viewer. */
export async function writeUsersFile(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lw-console-'));
  const path = join(dir, 'users.yaml');
  await writeFile(
    path,
    `users:
  - username: ${ANALYST.username}
    role: analyst
    passwordHash: "${await hashPassword(ANALYST.password)}"
  - username: ${VIEWER.username}
    role: viewer
    passwordHash: "${await hashPassword(VIEWER.password)}"
`,
  );
  return path;
}

export interface ConsoleRun {
  endpoints: StackEndpoints;
  usersFile: string;
  topics: { alerts: string; dispositions: string };
  redisPrefix: string;
}

/** Fresh alerts and (compacted) dispositions topics, deleted by the fixture after the test. */
export async function createConsoleTopics(
  createTopics: IntegrationFixtures['createTopics'],
  alertPartitions?: number,
): Promise<ConsoleRun['topics']> {
  const [alerts, dispositions] = await createTopics([
    { name: 'card.alerts', ...(alertPartitions ? { numPartitions: alertPartitions } : {}) },
    { name: 'card.alert-dispositions', configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
  ]);
  return { alerts: alerts!, dispositions: dispositions! };
}

/** The console's environment for a test: its own topics and key prefix, ports chosen by the OS. */
export function consoleEnv(run: ConsoleRun): Record<string, string> {
  return {
    LEAKWATCH_KAFKA_BROKERS: run.endpoints.kafkaBrokers.join(','),
    LEAKWATCH_SCHEMA_REGISTRY_URL: run.endpoints.schemaRegistryUrl,
    LEAKWATCH_REDIS_URL: run.endpoints.redisUrl,
    LEAKWATCH_REDIS_KEY_PREFIX: run.redisPrefix,
    LEAKWATCH_CONSOLE_USERS_FILE: run.usersFile,
    LEAKWATCH_CONSOLE_PORT: '0',
    LEAKWATCH_HTTP_PORT: '0',
    LEAKWATCH_CONSOLE_SECURE_COOKIES: 'false',
    LEAKWATCH_TOPIC_ALERTS: run.topics.alerts,
    LEAKWATCH_TOPIC_DISPOSITIONS: run.topics.dispositions,
  };
}

export async function startTestConsole(run: ConsoleRun): Promise<ConsoleHandle> {
  const handle = await startConsole(loadEnv(consoleEnv(run)), { logger: silentLogger() });
  await handle.caughtUp;
  return handle;
}

/** An alert with a fresh id and card, `n` ms after `t0`. */
export function testAlert(
  t0: number,
  n: number,
  overrides: Partial<SuspiciousChargeAlert> = {},
): SuspiciousChargeAlert {
  const base = exampleAlert();
  return {
    ...base,
    alertId: `alt-${randomBytes(8).toString('hex')}`,
    eventId: `evt-${randomBytes(8).toString('hex')}`,
    occurredAt: t0 + n,
    detectedAt: t0 + n,
    card: { ...base.card, fingerprint: randomBytes(32).toString('base64url') },
    ...overrides,
  };
}

/** A browser-like HTTP client with a cookie jar, for the API tests. */
export class ConsoleClient {
  private cookies = new Map<string, string>();
  csrf = '';
  constructor(private readonly base: string) {}

  /** A copy of this browser (its cookies and CSRF token) talking to `base`, another instance. */
  at(base: string): ConsoleClient {
    const other = new ConsoleClient(base);
    other.cookies = new Map(this.cookies);
    other.csrf = this.csrf;
    return other;
  }

  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0)
      headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(`${this.base}${path}`, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i);
      const value = pair!.slice(i + 1);
      if (value === '' || /Max-Age=0/.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }

  async signIn(user: { username: string; password: string }): Promise<Response> {
    const form = await (await this.request('/')).text();
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form)?.[1] ?? '';
    const res = await this.request('/signin', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: csrf, username: user.username, password: user.password }).toString(),
    });
    if (res.status === 303) {
      const feed = await (await this.request('/feed')).text();
      this.csrf = /name="csrf-token" content="([^"]+)"/.exec(feed)?.[1] ?? '';
    }
    return res;
  }

  postJson(path: string, body: unknown, withCsrf = true): Promise<Response> {
    return this.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(withCsrf ? { 'x-csrf-token': this.csrf } : {}) },
      body: JSON.stringify(body),
    });
  }
}
