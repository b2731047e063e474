import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { isLeakwatchError, type LeakwatchError } from '@leakwatch/errors';
import { integrationTest as it } from '@leakwatch/testing';
import { describe, expect } from 'vitest';
import { cardAuthorizationAvro } from './avro-schemas.js';
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
import { createSchemaRegistry } from './registry.js';

function topicsFor(testId: string) {
  return {
    authorizations: `card.authorizations.${testId}`,
    alerts: `card.alerts.${testId}`,
    dispositions: `card.alert-dispositions.${testId}`,
    partnerTopics: [`partner.acme.alerts.${testId}`],
  };
}

function normalisedExample() {
  const result = validateCardAuthorization(exampleAuthorization());
  if (!result.ok) throw new Error(result.message);
  return result.value;
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

describe('contracts against the real schema registry', () => {
  it('registers the contract idempotently, encodes and decodes every record', async ({
    registry,
    endpoints,
    testId,
  }) => {
    const topics = topicsFor(testId);
    const ids = await registerContractSchemas(registry, topics);
    expect(await registerContractSchemas(registry, topics)).toEqual(ids);
    expect(ids.partnerTopics[topics.partnerTopics[0] as string]).toEqual(expect.any(Number));

    const alerts = await createAlertEncoder({ registry, subject: `${topics.alerts}-value` });
    const dispositions = await createDispositionEncoder({
      registry,
      subject: `${topics.dispositions}-value`,
    });
    const authorizations = await createAuthorizationEncoder({
      registry,
      subject: `${topics.authorizations}-value`,
    });
    expect([alerts.schemaId, dispositions.schemaId, authorizations.schemaId]).toEqual([
      ids.alerts,
      ids.dispositions,
      ids.authorizations,
    ]);

    // a fresh client has nothing cached: every schema is fetched by id from the registry
    const fresh = createSchemaRegistry({ url: endpoints.schemaRegistryUrl });
    const readAlerts = createAlertDecoder({ registry: fresh });
    const readDispositions = createDispositionDecoder({ registry: fresh });
    const readAuthorizations = createAuthorizationDecoder({ registry: fresh });

    expect(await readAlerts.decode(alerts.encode(exampleAlert()))).toEqual({
      ok: true,
      value: exampleAlert(),
      format: 'avro',
    });
    expect(await readDispositions.decode(dispositions.encode(exampleDisposition()))).toEqual({
      ok: true,
      value: exampleDisposition(),
      format: 'avro',
    });
    const expected = { ok: true, value: normalisedExample(), format: 'avro' };
    expect(await readAuthorizations.decode(authorizations.encode(exampleAuthorization()))).toEqual(expected);
    // what an upstream using the registry library itself would publish
    const upstream = await registry.encode(ids.authorizations, normalisedExample());
    expect(await readAuthorizations.decode(upstream)).toEqual(expected);

    const batch = await readAuthorizations.decodeBatch([
      upstream,
      Buffer.from(JSON.stringify(exampleAuthorization())),
      upstream,
    ]);
    expect(batch.map((r) => r.ok && r.format)).toEqual(['avro', 'json', 'avro']);
  });

  it('reads an evolved upstream schema registered as a new version', async ({
    registry,
    endpoints,
    testId,
  }) => {
    const subject = `card.authorizations.${testId}-value`;
    await registerContractSchemas(registry, { ...topicsFor(testId), partnerTopics: [] });
    const evolved = JSON.parse(cardAuthorizationAvro.text) as { fields: Array<Record<string, unknown>> };
    evolved.fields.push({ name: 'walletProvider', type: ['null', 'string'], default: null });
    const { id } = await registry.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(evolved) },
      { subject },
    );
    const value = await registry.encode(id, { ...normalisedExample(), walletProvider: 'somewallet' });

    const decoder = createAuthorizationDecoder({
      registry: new SchemaRegistry({ host: endpoints.schemaRegistryUrl }),
    });
    expect(await decoder.decode(value)).toEqual({ ok: true, value: normalisedExample(), format: 'avro' });
  });

  it('calls an id the registry does not know UNKNOWN_SCHEMA_ID', async ({ registry }) => {
    const decoder = createAuthorizationDecoder({ registry });
    const unknownId = 2_000_000_000 + Math.floor(Math.random() * 100_000_000);
    const body = cardAuthorizationAvro.type.toBuffer(normalisedExample());
    expect(await decoder.decode(confluentFrame(unknownId, body))).toEqual({
      ok: false,
      code: 'UNKNOWN_SCHEMA_ID',
      message: `schema id ${unknownId} is not in the registry`,
    });
  });

  it('calls a truncated Avro body AVRO_DECODE_FAILED', async ({ registry, testId }) => {
    const encoder = await createAuthorizationEncoder({
      registry,
      subject: `card.authorizations.${testId}-value`,
    });
    const whole = encoder.encode(exampleAuthorization());
    const decoder = createAuthorizationDecoder({ registry });
    expect(await decoder.decode(whole.subarray(0, whole.length - 4))).toEqual({
      ok: false,
      code: 'AVRO_DECODE_FAILED',
      message: `Avro payload does not decode with schema id ${encoder.schemaId}: payload is truncated`,
    });
  });

  it('throws a retryable REGISTRY_UNAVAILABLE when the registry is unreachable, never a poison result', async ({
    registry,
    testId,
  }) => {
    const { schemaId } = await createAuthorizationEncoder({
      registry,
      subject: `card.authorizations.${testId}-value`,
    });
    const message = confluentFrame(schemaId, cardAuthorizationAvro.type.toBuffer(normalisedExample()));

    const unreachable = new SchemaRegistry({ host: 'http://127.0.0.1:1/apis/ccompat/v7' });
    const decoder = createAuthorizationDecoder({ registry: unreachable });
    const single = await thrown(decoder.decode(message));
    expect(single.code).toBe('REGISTRY_UNAVAILABLE');
    expect(single.retryable).toBe(true);
    expect(single.message).toContain('ECONNREFUSED');
    expect((await thrown(decoder.decodeBatch([Buffer.from('{}'), message]))).retryable).toBe(true);

    const registration = await thrown(registerContractSchemas(unreachable, topicsFor(testId)));
    expect(registration.code).toBe('REGISTRY_UNAVAILABLE');
    expect(registration.retryable).toBe(true);
  });

  it('pauses rather than dead-letters when the URL is not a registry API (404 without a registry body)', async ({
    registry,
    endpoints,
    testId,
  }) => {
    const { schemaId } = await createAuthorizationEncoder({
      registry,
      subject: `card.authorizations.${testId}-value`,
    });
    const message = confluentFrame(schemaId, cardAuthorizationAvro.type.toBuffer(normalisedExample()));
    const wrongPath = endpoints.schemaRegistryUrl.replace(
      /\/apis\/ccompat\/v7\/?$/,
      '/apis/not-a-registry/v7',
    );
    expect(wrongPath).not.toBe(endpoints.schemaRegistryUrl);
    const decoder = createAuthorizationDecoder({ registry: new SchemaRegistry({ host: wrongPath }) });
    const error = await thrown(decoder.decode(message));
    expect(error.code).toBe('REGISTRY_UNAVAILABLE');
    expect(error.message).toContain('HTTP 404');
  });
});
