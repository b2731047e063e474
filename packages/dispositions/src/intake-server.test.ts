import { silentLogger } from '@leakwatch/logger';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DispositionIntake, IntakeRequest } from './intake.js';
import { createIntakeServer } from './intake-server.js';

/* The HTTP layer only: routing, body limit, headers handed on, the answer written as JSON. */

const seen: IntakeRequest[] = [];
const intake: DispositionIntake = {
  handle: (request) => {
    seen.push(request);
    return Promise.resolve({
      status: 503,
      body: { error: { code: 'unavailable', message: 'down' } },
      retryAfterSeconds: 5,
    });
  },
};
const server = createIntakeServer({
  port: 0,
  host: '127.0.0.1',
  intake,
  logger: silentLogger(),
  maxBodyBytes: 1024,
});
let base = '';

beforeAll(async () => {
  base = `http://127.0.0.1:${await server.start()}`;
});
afterAll(() => server.close());

describe('disposition intake HTTP server', () => {
  it('hands the partner, the three signature headers and the raw body to the intake, and writes its answer', async () => {
    const response = await fetch(`${base}/v1/partners/sakura-card/dispositions`, {
      method: 'POST',
      headers: { 'webhook-id': 'msg_1', 'webhook-timestamp': '1', 'webhook-signature': 'v1,x', cookie: 'no' },
      body: '{"a": 1}\n',
    });
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('5');
    expect(await response.json()).toEqual({ error: { code: 'unavailable', message: 'down' } });
    expect(seen.at(-1)).toEqual({
      partnerId: 'sakura-card',
      headers: { 'webhook-id': 'msg_1', 'webhook-timestamp': '1', 'webhook-signature': 'v1,x' },
      body: Buffer.from('{"a": 1}\n'),
    });
  });

  it('serves nothing else: other paths 404, other methods 405, bodies over the limit 413', async () => {
    const before = seen.length;
    const answers = await Promise.all([
      fetch(`${base}/metrics`),
      fetch(`${base}/v1/partners/Not_An_Id/dispositions`, { method: 'POST', body: '{}' }),
      fetch(`${base}/v1/partners/sakura-card/dispositions`),
      fetch(`${base}/v1/partners/sakura-card/dispositions`, { method: 'POST', body: 'x'.repeat(2048) }),
    ]);
    expect(answers.map((a) => a.status)).toEqual([404, 404, 405, 413]);
    expect(((await answers[3]?.json()) as { error: { code: string } }).error.code).toBe('body_too_large');
    expect(seen.length).toBe(before);
  });
});
