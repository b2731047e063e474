import type { PrometheusSettings } from './prometheus.js';
import type { Log } from './maven.js';

export interface StackPorts {
  kafka: number;
  kafkaController: number;
  registry: number;
  redis: number;
  redisCluster: number;
  prometheus: number;
}

export interface ServiceContext {
  /** The stack's cache folder (downloads, data, logs, state). */
  dir: string;
  ports: StackPorts;
  java: string;
  log: Log;
  /** Targets and rules of the local Prometheus (`--with prometheus`). */
  prometheus?: PrometheusSettings | undefined;
}

export type ServiceName = 'kafka' | 'registry' | 'redis' | 'redis-cluster' | 'prometheus';

/** One process (or group of processes) of the local stack. */
export interface ServiceDefinition {
  name: ServiceName;
  ports(ports: StackPorts): number[];
  needsJava: boolean;
  /** What its command line contains, to tell our process from a recycled pid (default java or redis-server). */
  command?: string;
  logFile(dir: string): string;
  /** Fetches what the service runs on; a no-op once fetched. */
  install(context: ServiceContext): Promise<void>;
  /** Starts the process(es); returns their pids. */
  start(context: ServiceContext): Promise<number[]>;
  /** True once the service really answers (not merely once its port is open). */
  ready(context: ServiceContext): Promise<boolean>;
  endpoints(ports: StackPorts): Record<string, string>;
  describe(ports: StackPorts): string;
  startTimeoutMs: number;
}
