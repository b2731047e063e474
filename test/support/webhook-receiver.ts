import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One request a receiver saw. */
export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  /** Status answered. */
  status: number;
  at: number;
}

export interface WebhookReceiver {
  url: string;
  received: ReceivedWebhook[];
  /** webhook-ids answered 2xx, deduplicated as an issuer does. */
  accepted: Set<string>;
  close(): Promise<void>;
}

/**
 * A local issuer endpoint: verifies each request with the `standardwebhooks` package (a library
 * we did not write), answers 401 to a bad signature, otherwise what `answer` says (default 200).
 */
export async function startWebhookReceiver(
  secret: string,
  answer: (request: Omit<ReceivedWebhook, 'status'>, tries: number) => number = () => 200,
): Promise<WebhookReceiver> {
  const verifier = new Webhook(secret);
  const received: ReceivedWebhook[] = [];
  const accepted = new Set<string>();
  const triesById = new Map<string, number>();
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const request = {
        id: String(req.headers['webhook-id']),
        timestamp: String(req.headers['webhook-timestamp']),
        signature: String(req.headers['webhook-signature']),
        body,
        at: Date.now(),
      };
      let status: number;
      try {
        verifier.verify(body, {
          'webhook-id': request.id,
          'webhook-timestamp': request.timestamp,
          'webhook-signature': request.signature,
        });
        const tries = (triesById.get(request.id) ?? 0) + 1;
        triesById.set(request.id, tries);
        status = answer(request, tries);
      } catch {
        status = 401;
      }
      if (status >= 200 && status < 300) accepted.add(request.id);
      received.push({ ...request, status });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/leakwatch`,
    received,
    accepted,
    close: () => new Promise<void>((done) => server.close(() => done()).closeAllConnections()),
  };
}
