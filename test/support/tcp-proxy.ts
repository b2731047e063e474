import { createServer, Socket, type AddressInfo, type Server } from 'node:net';

/**
 * A TCP relay between a client under test and a real dependency, so a test can take the
 * dependency away and give it back. `stop()` is what the client sees when a service goes down:
 * open connections reset, new ones refused. `start()` listens on the same port again.
 *
 * Why a proxy rather than stopping the real service: Kafka, the registry and Redis are shared by
 * every test of the run (and by other people's runs); killing one would break them all and
 * restarting it takes seconds to tens of seconds. A relay gives the same network outage, on one
 * client's path only, in milliseconds.
 */
export class TcpProxy {
  readonly #target: { host: string; port: number };
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  #port = 0;

  private constructor(target: { host: string; port: number }) {
    this.#target = target;
  }

  /** Starts relaying to `target` on a free local port. */
  static async start(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(target);
    await proxy.start();
    return proxy;
  }

  /** The local port clients connect to; stays the same across stop/start. */
  get port(): number {
    return this.#port;
  }

  get listening(): boolean {
    return this.#server !== undefined;
  }

  /** Listens again (on the same port once one was given). */
  async start(): Promise<void> {
    if (this.#server) return;
    const server = createServer((client) => this.#relay(client));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: this.#port }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#port = (server.address() as AddressInfo).port;
    this.#server = server;
  }

  /** The outage: every open connection is reset and the port stops listening. */
  async stop(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    this.#server = undefined;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    await closed;
  }

  #relay(client: Socket): void {
    const upstream = new Socket();
    this.#sockets.add(client);
    this.#sockets.add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      this.#sockets.delete(client);
      this.#sockets.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    upstream.connect(this.#target.port, this.#target.host, () => {
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }
}

/** host and port of a `redis://host:port` or `http://host:port/...` URL. */
export function hostPortOf(url: string): { host: string; port: number } {
  const parsed = new URL(url);
  return { host: parsed.hostname, port: Number(parsed.port) };
}

/** The same URL with its host and port pointed at a local proxy. */
export function throughProxy(url: string, proxy: TcpProxy): string {
  const parsed = new URL(url);
  parsed.hostname = '127.0.0.1';
  parsed.port = String(proxy.port);
  return parsed.toString().replace(/\/$/, '');
}
