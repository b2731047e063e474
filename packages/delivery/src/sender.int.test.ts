import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { lookup } from 'node:dns/promises';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { createWebhookSender, type AttemptResult, type WebhookSender } from './sender.js';
import { forbiddenAddressReason } from './ssrf.js';

/** Why an attempt was refused; fails the test when it was not refused. */
function refusal(result: AttemptResult): string {
  if (result.kind !== 'refused') throw new Error(`expected a refusal, got ${result.kind}`);
  return result.error;
}

/** Local HTTP servers (this test needs no Kafka or Redis). */
const servers: Server[] = [];
const senders: WebhookSender[] = [];

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function sender(allowPrivateNetwork: boolean) {
  const s = createWebhookSender({ allowPrivateNetwork, maxSockets: 4 });
  senders.push(s);
  return s;
}

afterEach(async () => {
  await Promise.all(senders.splice(0).map((s) => s.close()));
  await Promise.all(servers.splice(0).map((s) => new Promise((done) => s.close(done).closeAllConnections())));
});

const request = (url: string, timeoutMs = 2000) => ({
  url,
  headers: { 'webhook-id': 'msg_x', 'webhook-timestamp': '1', 'webhook-signature': 'v1,abc' },
  body: '{"type":"alert.created"}',
  timeoutMs,
});

describe('webhook sender', () => {
  it('POSTs the body with the headers and reads 2xx as accepted', async () => {
    let seen: { method?: string; headers?: IncomingMessage['headers']; body?: string } = {};
    const url = await serve((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen = { method: req.method, headers: req.headers, body };
        res.writeHead(204).end();
      });
    });
    expect(await sender(true).send(request(`${url}/hook`))).toEqual({ kind: 'accepted', status: 204 });
    expect(seen.method).toBe('POST');
    expect(seen.headers?.['content-type']).toBe('application/json');
    expect(seen.headers?.['webhook-id']).toBe('msg_x');
    expect(seen.body).toBe('{"type":"alert.created"}');
  });

  it('never follows a redirect', async () => {
    let targetHit = false;
    const target = await serve((_req, res) => {
      targetHit = true;
      res.end();
    });
    const url = await serve((_req, res) => res.writeHead(307, { location: `${target}/elsewhere` }).end());
    expect(await sender(true).send(request(url))).toMatchObject({
      kind: 'failed',
      status: 307,
      error: 'HTTP 307 (redirects are not followed)',
    });
    expect(targetHit).toBe(false);
  });

  it('gives up on an attempt at its timeout', async () => {
    const url = await serve(() => undefined); // never answers
    expect(await sender(true).send(request(url, 200))).toMatchObject({
      kind: 'failed',
      status: null,
      error: 'no answer within 200 ms',
    });
  });

  it('reads Retry-After on 429 and 410 as gone', async () => {
    const url = await serve((req, res) => {
      if (req.url === '/busy') res.writeHead(429, { 'retry-after': '3' }).end();
      else res.writeHead(410).end();
    });
    expect(await sender(true).send(request(`${url}/busy`))).toMatchObject({
      kind: 'failed',
      retryAfterMs: 3000,
    });
    expect(await sender(true).send(request(`${url}/gone`))).toEqual({ kind: 'gone', status: 410 });
  });

  it('without the allowance: refuses plain http and a loopback address, by name or literal', async () => {
    let hits = 0;
    const url = await serve((_req, res) => {
      hits++;
      res.end();
    });
    const port = new URL(url).port;
    const guarded = sender(false);
    expect(refusal(await guarded.send(request(url)))).toContain('must be https');
    expect(refusal(await guarded.send(request(`https://127.0.0.1:${port}/`)))).toContain('loopback');
    expect(await guarded.send(request(`https://[::ffff:127.0.0.1]:${port}/`))).toMatchObject({
      kind: 'refused',
    });
    // a name: refused by the lookup at connection time (localhost resolves to loopback)
    expect(await guarded.send(request(`https://localhost:${port}/`))).toMatchObject({ kind: 'refused' });
    expect(hits).toBe(0);
  });

  it('refuses at connection time a name that resolves to a private address (the agent lookup)', async (ctx) => {
    // the machine's own name is not "localhost", so only the DNS answer can refuse it
    const name = hostname();
    const { address } = await lookup(name).catch(() => ({ address: '' }));
    if (address === '' || forbiddenAddressReason(address) === null) ctx.skip();
    let hits = 0;
    const url = await serve((_req, res) => {
      hits++;
      res.end();
    });
    const result = await sender(false).send(request(`https://${name}:${new URL(url).port}/`));
    expect(refusal(result)).toContain(`${name} resolves to a`);
    expect(hits).toBe(0);
  });
});
