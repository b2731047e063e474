import { COMPATIBILITY, SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import { LeakwatchError } from '@leakwatch/errors';
import { type ContractSchema } from './avro-schemas.js';

/** The registry calls this package makes; a `SchemaRegistry` has them all. */
export type ContractRegistry = Pick<SchemaRegistry, 'getSchema' | 'getRegistryIdBySchema' | 'register'>;

type RegistryClientArgs = ConstructorParameters<typeof SchemaRegistry>[0];
type RegistryMiddleware = NonNullable<RegistryClientArgs['middlewares']>[number];

export interface SchemaRegistrySettings {
  /** Confluent-compatible API, e.g. `http://127.0.0.1:18081/apis/ccompat/v7` for Apicurio. */
  url: string;
  username?: string | undefined;
  password?: string | undefined;
  clientId?: string | undefined;
  /** Per-request timeout. Without one a registry that accepts but never answers hangs a lookup. */
  requestTimeoutMs?: number | undefined;
}

/**
 * A registry client with a request timeout (the library sets none) and basic auth when
 * credentials are given. Takes `RegistrySettings` from @leakwatch/config as they are.
 */
export function createSchemaRegistry(settings: SchemaRegistrySettings): SchemaRegistry {
  const timeoutMs = settings.requestTimeoutMs ?? 5_000;
  const timeout: RegistryMiddleware = () => ({
    prepareRequest: (next) => next().then((request) => request.enhance({ timeout: timeoutMs })),
  });
  return new SchemaRegistry({
    host: settings.url,
    clientId: settings.clientId ?? 'leakwatch',
    ...(settings.username
      ? { auth: { username: settings.username, password: settings.password ?? '' } }
      : {}),
    middlewares: [timeout],
  });
}

/** The HTTP status of a failed registry call (the library's ResponseError), if it has one. */
export function registryStatusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null || !('status' in error)) return undefined;
  return typeof error.status === 'number' ? error.status : undefined;
}

function messageOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // the library prefixes its client id; registry messages name schemas and subjects, never payloads
  return message.replace(/^[\w-]+ - /, '').slice(0, 200);
}

/**
 * True for the registry's own "no schema with this id" answer: HTTP 404 whose message names the id
 * (Confluent and Karapace: "Schema 7 not found", Apicurio: "No content with ID '7' was found.").
 * Other 404s mean the URL does not point at the registry API (a missing `/apis/ccompat/v7`:
 * Apicurio answers with no body, the library then says "Error, status 404"; Confluent says
 * "HTTP 404 Not Found"). That misconfiguration must pause the consumer, not dead-letter every
 * message, so it is not "not found".
 * @param schemaId the id that was asked for; without it any registry-worded 404 counts
 */
export function isSchemaNotFound(error: unknown, schemaId?: number): boolean {
  if (registryStatusOf(error) !== 404) return false;
  const message = messageOf(error);
  if (/Error, status 404|HTTP 404/i.test(message)) return false;
  return schemaId === undefined || new RegExp(`(^|\\D)${schemaId}(\\D|$)`).test(message);
}

/** A registry failure that heals by waiting: unreachable, timed out, 5xx, refused credentials. */
export function registryUnavailable(error: unknown, doing: string): LeakwatchError {
  const status = registryStatusOf(error);
  // the library reports connection failures (refused, DNS, timeout) as status 400
  const what = status === undefined || status === 400 ? 'unreachable' : `failing (HTTP ${status})`;
  return new LeakwatchError(
    'REGISTRY_UNAVAILABLE',
    `schema registry ${what} while ${doing}: ${messageOf(error)}`,
    { cause: error, details: status === undefined ? {} : { status } },
  );
}

/**
 * Maps a failed registration to the path it should take: refusals that waiting will not fix
 * (incompatible schema, a subject pinned to another compatibility level) stop the start-up;
 * everything else is the registry being unavailable, and is retried.
 */
function registrationFailure(error: unknown, doing: string): LeakwatchError {
  const status = registryStatusOf(error);
  const name = error instanceof Error ? error.name : '';
  if (name === 'ConfluentSchemaRegistryCompatibilityError' || status === 409) {
    return new LeakwatchError(
      'CONFIG_INVALID',
      `schema registry refused ${doing}: ${messageOf(error)} (the contract needs BACKWARD compatibility and backward-compatible changes)`,
      { cause: error },
    );
  }
  if (status === 422) {
    return new LeakwatchError(
      'INTERNAL',
      `schema registry calls the schema invalid while ${doing}: ${messageOf(error)}`,
      {
        cause: error,
      },
    );
  }
  if (status === undefined) {
    return new LeakwatchError('INTERNAL', `could not complete ${doing}: ${messageOf(error)}`, {
      cause: error,
    });
  }
  return registryUnavailable(error, doing);
}

/** TopicNameStrategy: the value subject of a topic. */
export function valueSubject(topic: string): string {
  return `${topic}-value`;
}

/**
 * The id of `schema` under `subject`, registering it first when absent (BACKWARD). Looks up
 * before registering, so a subject that already holds the schema is only read: no config
 * request, no new version.
 *
 * Instances started together race on a new subject: each finds it absent, and the registry
 * accepts the first one's compatibility setting and answers the others 409 (Apicurio: "A rule
 * named 'COMPATIBILITY' already exists"), or the library reads the subject's level while the
 * winner writes it and refuses ("BACKWARD != NONE"). Either is tried once more from the lookup,
 * 250 ms later, which then finds the rule (or the schema) the winner wrote; a second refusal is
 * real.
 * @throws LeakwatchError REGISTRY_UNAVAILABLE (retryable), CONFIG_INVALID or INTERNAL
 */
export async function ensureSchemaRegistered(
  registry: Pick<ContractRegistry, 'getRegistryIdBySchema' | 'register'>,
  schema: ContractSchema,
  subject: string,
): Promise<number> {
  const confluentSchema = { type: SchemaType.AVRO, schema: schema.text } as const;
  for (let attempt = 1; ; attempt++) {
    try {
      return await registry.getRegistryIdBySchema(subject, confluentSchema);
    } catch (error) {
      // the library turns "subject or schema not found" (404) into a ConfluentSchemaRegistryError without status
      const absent =
        (error instanceof Error && error.name === 'ConfluentSchemaRegistryError') || isSchemaNotFound(error);
      if (!absent) throw registrationFailure(error, `looking up ${schema.name} under ${subject}`);
    }
    try {
      const { id } = await registry.register(confluentSchema, {
        subject,
        // Apicurio answers GET /config/{subject} with the global default (BACKWARD) and the library
        // refuses to register when the level it reads differs from this one
        compatibility: COMPATIBILITY.BACKWARD,
      });
      return id;
    } catch (error) {
      // the race's two faces: a 409 for the rule the winner wrote, or the library reading the
      // subject's level while the winner is writing it ("BACKWARD != NONE")
      const lostRace =
        registryStatusOf(error) === 409 ||
        (error instanceof Error && error.name === 'ConfluentSchemaRegistryCompatibilityError');
      if (attempt === 1 && lostRace) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        continue;
      }
      throw registrationFailure(error, `registering ${schema.name} under ${subject}`);
    }
  }
}
