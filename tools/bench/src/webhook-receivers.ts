import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

/**
 * Issuer endpoints for the dispatcher bench: `count` HTTP servers answering 200 after `answerMs`,
 * recording when each webhook-id was accepted. They run in a worker thread of their own: a real
 * issuer's timer does not fire late because the bench's producer was busy encoding, so neither
 * may these (they still share the machine's cores, as they should). Kept cheap: plain node:http,
 * the webhook-id read from the raw headers, no signature check (the integration tests verify
 * signatures with the standardwebhooks package).
 */
export interface WebhookReceivers {
  urls: string[];
  /** webhook-id -> epoch ms it was accepted (the 2xx sent); filled as the worker reports. */
  acceptedAt: Map<string, number>;
  close(): Promise<void>;
}

interface WorkerInput {
  role: 'leakwatch-bench-receivers';
  count: number;
  answerMs: number;
}

type FromWorker = { kind: 'listening'; urls: string[] } | { kind: 'accepted'; ids: string[]; at: number[] };

/** Reports accepted deliveries every this many ms (the bench polls on a coarser clock). */
const REPORT_MS = 20;

function rawHeader(raw: string[], name: string): string {
  for (let i = 0; i < raw.length; i += 2) if (raw[i]?.toLowerCase() === name) return raw[i + 1] ?? '';
  return '';
}

async function runReceivers({ count, answerMs }: WorkerInput): Promise<void> {
  const port = parentPort;
  if (!port) return;
  let ids: string[] = [];
  let at: number[] = [];
  const report = setInterval(() => {
    if (ids.length === 0) return;
    port.postMessage({ kind: 'accepted', ids, at } satisfies FromWorker);
    ids = [];
    at = [];
  }, REPORT_MS);
  const servers: Server[] = [];
  for (let i = 0; i < count; i++) {
    const server = createServer((req, res) => {
      const id = rawHeader(req.rawHeaders, 'webhook-id');
      req.resume();
      setTimeout(() => {
        res.end();
        ids.push(id);
        at.push(Date.now());
      }, answerMs);
    });
    server.keepAliveTimeout = 60_000;
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    servers.push(server);
  }
  port.postMessage({
    kind: 'listening',
    urls: servers.map((s) => `http://127.0.0.1:${(s.address() as AddressInfo).port}/hook`),
  } satisfies FromWorker);
  port.once('message', () => {
    clearInterval(report);
    for (const s of servers) s.close().closeAllConnections();
    port.close();
  });
}

if (!isMainThread && (workerData as Partial<WorkerInput> | null)?.role === 'leakwatch-bench-receivers') {
  void runReceivers(workerData as WorkerInput);
}

export async function startReceivers(count: number, answerMs: number): Promise<WebhookReceivers> {
  const input: WorkerInput = { role: 'leakwatch-bench-receivers', count, answerMs };
  const worker = new Worker(new URL(import.meta.url), { workerData: input });
  const acceptedAt = new Map<string, number>();
  const urls = await new Promise<string[]>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (message: FromWorker) => {
      if (message.kind === 'listening') resolve(message.urls);
      else
        message.ids.forEach((id, i) => {
          if (!acceptedAt.has(id)) acceptedAt.set(id, message.at[i] as number);
        });
    });
  });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    urls,
    acceptedAt,
    close: async () => {
      worker.postMessage('close');
      await exited;
    },
  };
}
