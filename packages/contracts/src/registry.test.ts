import { once } from 'node:events';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { isLeakwatchError } from '@leakwatch/errors';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuthorizationDecoder } from './decoder.js';
import { confluentFrame } from './encoder.js';
import { suspiciousChargeAlertAvro } from './avro-schemas.js';
import { createSchemaRegistry, ensureSchemaRegistered, isSchemaNotFound, valueSubject } from './registry.js';

function responseError(status: number, message: string): Error {
  return Object.assign(new Error(`Confluent_Schema_Registry - ${message}`), {
    name: 'ResponseError',
    status,
  });
}

describe('isSchemaNotFound', () => {
  it("is the registry's own 404 answer naming the id, nothing else", () => {
    expect(isSchemaNotFound(responseError(404, "No content with ID '7' was found."), 7)).toBe(true);
    expect(isSchemaNotFound(responseError(404, 'Schema 7 not found'), 7)).toBe(true);
    expect(isSchemaNotFound(responseError(404, 'Schema 7 not found'))).toBe(true);
    // another id, or a 404 from something that is not the registry API
    expect(isSchemaNotFound(responseError(404, 'Schema 77 not found'), 7)).toBe(false);
    expect(isSchemaNotFound(responseError(404, 'Error, status 404'), 7)).toBe(false);
    expect(isSchemaNotFound(responseError(404, 'HTTP 404 Not Found'), 404)).toBe(false);
    expect(isSchemaNotFound(responseError(400, 'Error, status 400: connect ECONNREFUSED'), 7)).toBe(false);
    expect(isSchemaNotFound(new Error('Schema 7 not found'), 7)).toBe(false);
  });
});

describe('valueSubject', () => {
  it('follows TopicNameStrategy', () => {
    expect(valueSubject('card.alerts.v1')).toBe('card.alerts.v1-value');
  });
});

describe('createSchemaRegistry', () => {
  // a port that accepts connections and never answers: a registry stuck in a GC pause
  let server: Server;
  const sockets = new Set<Socket>();
  beforeAll(async () => {
    server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
  });
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    server.close();
    await once(server, 'close');
  });

  it('times requests out, so a silent registry counts as unavailable', async () => {
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    const registry = createSchemaRegistry({ url: `http://127.0.0.1:${address.port}`, requestTimeoutMs: 100 });
    // the decoder's own deadline is far away: the request timeout must be what ends the wait
    const decoder = createAuthorizationDecoder({ registry, lookupTimeoutMs: 60_000 });
    let error: unknown;
    try {
      await decoder.decode(confluentFrame(5, Buffer.from([2])));
    } catch (e) {
      error = e;
    }
    expect(isLeakwatchError(error, 'REGISTRY_UNAVAILABLE')).toBe(true);
    // the request timeout, not the decoder's deadline, ended the wait
    expect((error as Error).message).toContain('Timeout (100ms)');
  });
});

describe('createSchemaRegistry with a registry that answers 200 with garbage', () => {
  it.each([
    ['an HTML page', 'text/html', '<html><body>proxy login</body></html>'],
    ['JSON of another shape', 'application/json', '{"error":"maintenance"}'],
    ['an Avro schema that is not one', 'application/json', '{"schema":"{\\"type\\":\\"nonsense\\"}"}'],
  ])('%s pauses (REGISTRY_UNAVAILABLE), never dead-letters', async (_what, type, body) => {
    const http = createHttpServer((_request, response) => {
      response.writeHead(200, { 'content-type': type });
      response.end(body);
    });
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    try {
      const address = http.address();
      if (address === null || typeof address === 'string') throw new Error('no port');
      const registry = createSchemaRegistry({ url: `http://127.0.0.1:${address.port}` });
      const decoder = createAuthorizationDecoder({ registry });
      let error: unknown;
      try {
        await decoder.decodeBatch([confluentFrame(5, Buffer.from([2]))]);
      } catch (e) {
        error = e;
      }
      expect(isLeakwatchError(error, 'REGISTRY_UNAVAILABLE')).toBe(true);
      expect((error as { retryable: boolean }).retryable).toBe(true);
      expect((error as Error).message).not.toContain(body.slice(0, 12));
    } finally {
      http.closeAllConnections();
      http.close();
    }
  });
});

describe('ensureSchemaRegistered', () => {
  const notFound = () =>
    Object.assign(new Error('Subject not found'), { name: 'ConfluentSchemaRegistryError' });
  const ruleExists = () => responseError(409, "A rule named 'COMPATIBILITY' already exists.");

  it('survives losing the race to another instance registering the same subject', async () => {
    // this instance's lookup finds nothing; another instance sets the subject's compatibility
    // first, so this instance's register is refused with 409; the retry finds the schema
    const lookups = [notFound(), undefined];
    const registry = {
      getRegistryIdBySchema: () => {
        const failure = lookups.shift();
        return failure ? Promise.reject(failure) : Promise.resolve(42);
      },
      register: () => Promise.reject(ruleExists()),
    };
    await expect(ensureSchemaRegistered(registry, suspiciousChargeAlertAvro, 'alerts-value')).resolves.toBe(
      42,
    );
  });

  it('survives reading the level while the winner writes it (BACKWARD != NONE)', async () => {
    const lookups = [notFound(), undefined];
    const levelMidWrite = Object.assign(
      new Error('Compatibility does not match the configuration (BACKWARD != NONE)'),
      {
        name: 'ConfluentSchemaRegistryCompatibilityError',
      },
    );
    const registry = {
      getRegistryIdBySchema: () => {
        const failure = lookups.shift();
        return failure ? Promise.reject(failure) : Promise.resolve(42);
      },
      register: () => Promise.reject(levelMidWrite),
    };
    await expect(ensureSchemaRegistered(registry, suspiciousChargeAlertAvro, 'alerts-value')).resolves.toBe(
      42,
    );
  });

  it('refuses a subject that answers 409 again (an incompatible schema): CONFIG_INVALID', async () => {
    let registers = 0;
    const registry = {
      getRegistryIdBySchema: () => Promise.reject(notFound()),
      register: () => {
        registers++;
        return Promise.reject(responseError(409, 'Schema being registered is incompatible'));
      },
    };
    await expect(
      ensureSchemaRegistered(registry, suspiciousChargeAlertAvro, 'alerts-value'),
    ).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    expect(registers).toBe(2);
  });
});
