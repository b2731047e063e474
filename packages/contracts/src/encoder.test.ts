import { isLeakwatchError, type LeakwatchError } from '@leakwatch/errors';
import { describe, expect, it } from 'vitest';
import { alertToJson, validatedAlertToJson } from './alert-json.js';
import { contractSchemas, suspiciousChargeAlertAvro } from './avro-schemas.js';
import { validateCardAuthorization } from './card-authorization.js';
import { createAlertDecoder, createAuthorizationDecoder, createDispositionDecoder } from './decoder.js';
import {
  confluentFrame,
  createAlertEncoder,
  createAuthorizationEncoder,
  createDispositionEncoder,
  registerContractSchemas,
} from './encoder.js';
import { exampleAlert, exampleAuthorization, exampleDisposition } from './examples.js';
import { type ContractRegistry } from './registry.js';
import { validateSuspiciousChargeAlert } from './suspicious-charge-alert.js';

function responseError(status: number, message: string): Error {
  return Object.assign(new Error(`Confluent_Schema_Registry - ${message}`), {
    name: 'ResponseError',
    status,
  });
}

/** Subjects and ids in memory, answering like the registry library does. */
class FakeRegistry {
  readonly calls: string[] = [];
  readonly subjects = new Map<string, string[]>();
  readonly idsByText = new Map<string, number>();
  lookupFailure: Error | undefined = undefined;
  registerFailure: Error | undefined = undefined;

  getRegistryIdBySchema(subject: string, schema: { schema: string }): Promise<number> {
    this.calls.push(`lookup ${subject}`);
    if (this.lookupFailure !== undefined) return Promise.reject(this.lookupFailure);
    const id = this.idsByText.get(schema.schema);
    if (id === undefined || !this.subjects.get(subject)?.includes(schema.schema)) {
      // what the library turns a 404 into
      return Promise.reject(
        Object.assign(new Error('Schema not found'), { name: 'ConfluentSchemaRegistryError' }),
      );
    }
    return Promise.resolve(id);
  }

  register(schema: { schema: string }, options: { subject: string; compatibility: string }) {
    this.calls.push(`register ${options.subject} ${options.compatibility}`);
    if (this.registerFailure !== undefined) return Promise.reject(this.registerFailure);
    const id = this.idsByText.get(schema.schema) ?? this.idsByText.size + 1;
    this.idsByText.set(schema.schema, id);
    this.subjects.set(options.subject, [...(this.subjects.get(options.subject) ?? []), schema.schema]);
    return Promise.resolve({ id });
  }

  getSchema(id: number) {
    for (const [text, known] of this.idsByText) {
      if (known === id)
        return Promise.resolve(Object.values(contractSchemas).find((s) => s.text === text)?.type);
    }
    return Promise.reject(responseError(404, `No content with ID '${id}' was found.`));
  }

  asRegistry(): ContractRegistry {
    return this as unknown as ContractRegistry;
  }
}

async function thrown(promise: Promise<unknown>): Promise<LeakwatchError> {
  try {
    await promise;
  } catch (error) {
    if (isLeakwatchError(error)) return error;
    throw error;
  }
  throw new Error('expected a throw');
}

describe('confluentFrame', () => {
  it('writes magic byte 0, the id big-endian, then the body', () => {
    expect([...confluentFrame(258, Buffer.from([9, 8]))]).toEqual([0, 0, 0, 1, 2, 9, 8]);
  });
});

describe('registerContractSchemas', () => {
  const topics = {
    authorizations: 'card.authorizations.v1',
    alerts: 'card.alerts.v1',
    dispositions: 'card.alert-dispositions.v1',
    partnerTopics: ['partner.acme.alerts.v1', 'partner.acme.alerts.v1', 'partner.bank.alerts.v1'],
  };

  it('registers each schema under <topic>-value with BACKWARD, once, and answers the ids', async () => {
    const registry = new FakeRegistry();
    const ids = await registerContractSchemas(registry.asRegistry(), topics);
    expect([ids.authorizations, ids.alerts, ids.dispositions].every(Number.isInteger)).toBe(true);
    expect(ids.partnerTopics).toEqual({
      'partner.acme.alerts.v1': ids.alerts,
      'partner.bank.alerts.v1': ids.alerts,
    });
    expect(new Set([ids.authorizations, ids.alerts, ids.dispositions]).size).toBe(3);
    expect(registry.calls.filter((c) => c.startsWith('register')).sort()).toEqual([
      'register card.alert-dispositions.v1-value BACKWARD',
      'register card.alerts.v1-value BACKWARD',
      'register card.authorizations.v1-value BACKWARD',
      'register partner.acme.alerts.v1-value BACKWARD',
      'register partner.bank.alerts.v1-value BACKWARD',
    ]);

    // a second start-up only reads
    registry.calls.length = 0;
    expect(await registerContractSchemas(registry.asRegistry(), topics)).toEqual(ids);
    expect(registry.calls.every((c) => c.startsWith('lookup'))).toBe(true);
  });

  it('throws a retryable REGISTRY_UNAVAILABLE when the registry is unreachable', async () => {
    const registry = new FakeRegistry();
    registry.lookupFailure = responseError(400, 'Error, status 400: connect ECONNREFUSED 127.0.0.1:1');
    const error = await thrown(registerContractSchemas(registry.asRegistry(), topics));
    expect(error.code).toBe('REGISTRY_UNAVAILABLE');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('unreachable');
  });

  it('stops the start-up (not retryable) when the registry refuses the schema', async () => {
    const registry = new FakeRegistry();
    registry.registerFailure = responseError(
      409,
      'Schema being registered is incompatible with an earlier schema',
    );
    const incompatible = await thrown(registerContractSchemas(registry.asRegistry(), topics));
    expect(incompatible.code).toBe('CONFIG_INVALID');
    expect(incompatible.retryable).toBe(false);

    registry.registerFailure = Object.assign(
      new Error('Compatibility does not match the configuration (BACKWARD != FULL)'),
      {
        name: 'ConfluentSchemaRegistryCompatibilityError',
      },
    );
    expect((await thrown(registerContractSchemas(registry.asRegistry(), topics))).code).toBe(
      'CONFIG_INVALID',
    );

    registry.registerFailure = responseError(503, 'Error, status 503');
    expect((await thrown(registerContractSchemas(registry.asRegistry(), topics))).retryable).toBe(true);
  });
});

describe('encoders', () => {
  it('encode alerts as Confluent-framed Avro that the alert decoder reads back', async () => {
    const registry = new FakeRegistry();
    const encoder = await createAlertEncoder({
      registry: registry.asRegistry(),
      subject: 'card.alerts.v1-value',
    });
    expect(encoder.subject).toBe('card.alerts.v1-value');
    const value = encoder.encode(exampleAlert());
    expect(value[0]).toBe(0);
    expect(value.readInt32BE(1)).toBe(encoder.schemaId);
    expect(suspiciousChargeAlertAvro.type.fromBuffer(value.subarray(5))).toEqual(exampleAlert());
    const decoder = createAlertDecoder({ registry: registry.asRegistry() });
    expect(await decoder.decode(value)).toEqual({ ok: true, value: exampleAlert(), format: 'avro' });
  });

  it('encode dispositions, and authorizations in their normalised form', async () => {
    const registry = new FakeRegistry();
    const dispositions = await createDispositionEncoder({
      registry: registry.asRegistry(),
      subject: 'd-value',
    });
    const readDisposition = createDispositionDecoder({ registry: registry.asRegistry() });
    expect(await readDisposition.decode(dispositions.encode(exampleDisposition()))).toMatchObject({
      ok: true,
      value: exampleDisposition(),
    });

    const authorizations = await createAuthorizationEncoder({
      registry: registry.asRegistry(),
      subject: 'a-value',
    });
    const readAuthorization = createAuthorizationDecoder({ registry: registry.asRegistry() });
    const normalised = validateCardAuthorization(exampleAuthorization());
    expect(await readAuthorization.decode(authorizations.encode(exampleAuthorization()))).toEqual({
      ...normalised,
      format: 'avro',
    });
  });

  it('refuse a record that breaks the contract, naming fields, not values', async () => {
    const registry = new FakeRegistry();
    const encoder = await createAlertEncoder({ registry: registry.asRegistry(), subject: 's-value' });
    const broken = {
      ...exampleAlert(),
      score: 101,
      card: { ...exampleAlert().card, fingerprint: '4111111111111111' },
    };
    let error: unknown;
    try {
      encoder.encode(broken);
    } catch (e) {
      error = e;
    }
    expect(isLeakwatchError(error, 'VALIDATION_FAILED')).toBe(true);
    expect((error as Error).message).toBe(
      'refusing to encode: invalid SuspiciousChargeAlert: card.fingerprint: must be 43 characters of base64url (HMAC-SHA256); score: must be 0-100',
    );
  });
});

describe('alertToJson', () => {
  function keysDeep(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(keysDeep);
    if (value === null || typeof value !== 'object') return typeof value;
    return Object.entries(value).map(([k, v]) => [k, keysDeep(v)]);
  }

  it('writes the Avro field names in schema order, nulls explicit', () => {
    const alert = exampleAlert();
    const withNulls = { ...alert, transaction: { ...alert.transaction, merchantName: null, threeDs: null } };
    const json = JSON.parse(alertToJson(withNulls)) as Record<string, unknown>;
    const avroFields = (suspiciousChargeAlertAvro.json.fields as Array<{ name: string }>).map((f) => f.name);
    expect(Object.keys(json)).toEqual(avroFields);
    expect(json.transaction).toMatchObject({ merchantName: null, threeDs: null });
    expect(json).toEqual(withNulls);
  });

  it('gives the same bytes however the object was built', () => {
    const alert = exampleAlert();
    const reordered = Object.fromEntries(Object.entries(alert).reverse()) as unknown as typeof alert;
    reordered.card = Object.fromEntries(Object.entries(alert.card).reverse()) as unknown as typeof alert.card;
    expect(alertToJson(reordered)).toBe(alertToJson(alert));
    expect(keysDeep(JSON.parse(alertToJson(reordered)))).toEqual(keysDeep(alert));
  });

  it('of an alert as validation returned it: the same bytes, however the input was built', () => {
    const alert = exampleAlert();
    const reordered = Object.fromEntries(Object.entries(alert).reverse()) as unknown as typeof alert;
    const checked = validateSuspiciousChargeAlert(reordered);
    if (!checked.ok) throw new Error(checked.message);
    expect(validatedAlertToJson(checked.value)).toBe(alertToJson(alert));
  });

  it('refuses an alert that breaks the contract', () => {
    expect(() => alertToJson({ ...exampleAlert(), severity: 'SEVERE' as never })).toThrow(
      /severity: must be one of LOW, MEDIUM, HIGH, CRITICAL/,
    );
  });
});
