import { createConnection } from 'node:net';

/**
 * Sends one inline command to a Redis server and returns the raw reply. Enough to probe
 * readiness without a client library (the stack must come up before anything else does).
 */
export function redisCommand(port: number, command: string, timeoutMs = 1500): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    let reply = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`redis on ${port}: no reply to ${command}`));
    }, timeoutMs);
    socket.once('connect', () => socket.write(`${command}\r\n`));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      // a simple reply ends with CRLF; a bulk reply carries its length first
      const bulk = /^\$(\d+)\r\n/.exec(reply);
      const complete = bulk ? reply.length >= bulk[0].length + Number(bulk[1]) + 2 : reply.endsWith('\r\n');
      if (complete) {
        clearTimeout(timer);
        socket.end();
        resolve(reply);
      }
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

export async function redisPings(port: number): Promise<boolean> {
  return (await redisCommand(port, 'PING').catch(() => '')).startsWith('+PONG');
}
