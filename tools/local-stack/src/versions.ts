/**
 * Every version the local stack runs, in one place.
 *
 * - Kafka 4.1.2: kafkajs 2.2.4 works against it (proved by the plumbing test). Kafka 4's
 *   protocol clean-up (KIP-896) kept the API versions kafkajs speaks.
 * - log4j-slf4j-impl: Kafka 4.1 logs through SLF4J 1.7 but ships no binding.
 * - Apicurio Registry 3.0.9: the newest 3.x on Maven Central that runs on Java 17 (3.2+ needs
 *   Java 21); serves the Confluent-compatible API at /apis/ccompat/v7.
 */
export const VERSIONS = {
  kafka: '4.1.2',
  log4j: '2.25.3',
  apicurio: '3.0.9',
} as const;

export const DEFAULT_PORTS = {
  kafka: 19092,
  kafkaController: 19093,
  registry: 18081,
  redis: 16379,
  /** First of three consecutive ports for the 3-master Redis Cluster. */
  redisCluster: 17000,
  /** Debian's Prometheus, with `--with prometheus`. */
  prometheus: 19090,
} as const;
