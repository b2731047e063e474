import { existsSync } from 'node:fs';
import { GenericContainer, Network, Wait, type StartedTestContainer } from 'testcontainers';
import type { StackEndpoints } from '@leakwatch/local-stack';

/** True when a Docker engine looks reachable (the testcontainers path can run). */
export function dockerReachable(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.DOCKER_HOST) || existsSync('/var/run/docker.sock');
}

/**
 * The same services as `leakwatch stack up`, from public images, for machines with Docker
 * (docker-compose.yml runs the same). Host ports are fixed to the local stack's defaults because
 * Kafka must advertise the address clients use. Thin on purpose: the local stack is the path
 * this repository's CI runs; this one is not exercised there (no Docker engine).
 */
export async function startContainerStack(): Promise<{
  endpoints: StackEndpoints;
  stop: () => Promise<void>;
}> {
  const network = await new Network().start();
  const started: StartedTestContainer[] = [];
  try {
    const kafka = await new GenericContainer('apache/kafka:4.1.2')
      .withNetwork(network)
      .withNetworkAliases('kafka')
      .withExposedPorts({ container: 19092, host: 19092 })
      .withEnvironment({
        KAFKA_NODE_ID: '1',
        KAFKA_PROCESS_ROLES: 'broker,controller',
        KAFKA_LISTENERS: 'INTERNAL://:9092,EXTERNAL://:19092,CONTROLLER://:9093',
        KAFKA_ADVERTISED_LISTENERS: 'INTERNAL://kafka:9092,EXTERNAL://127.0.0.1:19092',
        KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'INTERNAL:PLAINTEXT,EXTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT',
        KAFKA_INTER_BROKER_LISTENER_NAME: 'INTERNAL',
        KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
        KAFKA_CONTROLLER_QUORUM_VOTERS: '1@kafka:9093',
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
        KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
        KAFKA_NUM_PARTITIONS: '3',
        KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
      })
      .withWaitStrategy(Wait.forLogMessage(/Kafka Server started/))
      .start();
    started.push(kafka);
    const registry = await new GenericContainer('confluentinc/cp-schema-registry:7.7.1')
      .withNetwork(network)
      .withExposedPorts({ container: 8081, host: 18081 })
      .withEnvironment({
        SCHEMA_REGISTRY_HOST_NAME: 'schema-registry',
        SCHEMA_REGISTRY_KAFKASTORE_BOOTSTRAP_SERVERS: 'kafka:9092',
        SCHEMA_REGISTRY_SCHEMA_COMPATIBILITY_LEVEL: 'backward',
      })
      .withWaitStrategy(Wait.forHttp('/subjects', 8081))
      .start();
    started.push(registry);
    const redis = await new GenericContainer('redis:7.2')
      .withCommand(['redis-server', '--save', '', '--appendonly', 'no', '--hash-max-listpack-entries', '512'])
      .withExposedPorts({ container: 6379, host: 16379 })
      .withWaitStrategy(Wait.forLogMessage(/Ready to accept connections/))
      .start();
    started.push(redis);
  } catch (error) {
    for (const container of started.reverse()) await container.stop().catch(() => undefined);
    await network.stop().catch(() => undefined);
    throw error;
  }
  return {
    endpoints: {
      kafkaBrokers: ['127.0.0.1:19092'],
      schemaRegistryUrl: 'http://127.0.0.1:18081',
      redisUrl: 'redis://127.0.0.1:16379',
      redisClusterNodes: undefined,
    },
    stop: async () => {
      for (const container of started.reverse()) await container.stop().catch(() => undefined);
      await network.stop().catch(() => undefined);
    },
  };
}
