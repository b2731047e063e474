import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { fetchWithDependencies } from './maven.js';
import { run, spawnDetached } from './process.js';
import type { ServiceDefinition } from './service.js';
import { VERSIONS } from './versions.js';

function layout(dir: string) {
  const home = join(dir, 'kafka');
  return {
    home,
    lib: join(dir, `kafka-${VERSIONS.kafka}`, 'lib'),
    build: join(dir, `kafka-${VERSIONS.kafka}`),
    data: join(home, 'data'),
    properties: join(home, 'server.properties'),
    log4j: join(home, 'log4j2.properties'),
    serverLog: join(home, 'server.log'),
    stdoutLog: join(home, 'stdout.log'),
    clusterId: join(home, 'cluster-id'),
  };
}

function serverProperties(dataDir: string, port: number, controllerPort: number): string {
  return `# Written by leakwatch stack up: one KRaft node as broker and controller, sized for a laptop.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${controllerPort}
listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}
advertised.listeners=PLAINTEXT://127.0.0.1:${port}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=${dataDir}
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=3
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
auto.create.topics.enable=false
delete.topic.enable=true
log.retention.hours=24
log.segment.bytes=67108864
`;
}

function log4jProperties(serverLog: string): string {
  return `status = warn
name = leakwatch-kafka
appender.file.type = File
appender.file.name = FILE
appender.file.fileName = ${serverLog}
appender.file.append = false
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = FILE
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.org.name = org.apache.kafka
logger.org.level = INFO
`;
}

export const kafkaService: ServiceDefinition = {
  name: 'kafka',
  ports: (ports) => [ports.kafka, ports.kafkaController],
  needsJava: true,
  logFile: (dir) => layout(dir).serverLog,

  async install({ dir, log }) {
    const l = layout(dir);
    await fetchWithDependencies({
      what: `kafka ${VERSIONS.kafka}`,
      dir: l.build,
      libDir: l.lib,
      dependencies: [
        { groupId: 'org.apache.kafka', artifactId: 'kafka_2.13', version: VERSIONS.kafka },
        { groupId: 'org.apache.logging.log4j', artifactId: 'log4j-slf4j-impl', version: VERSIONS.log4j },
      ],
      log,
    });
  },

  async start({ dir, ports, java, log }) {
    const l = layout(dir);
    await mkdir(l.data, { recursive: true });
    await writeFile(l.properties, serverProperties(l.data, ports.kafka, ports.kafkaController));
    await writeFile(l.log4j, log4jProperties(l.serverLog));
    const classpath = `${l.lib}/*`;
    const jvm = ['-Djava.awt.headless=true', `-Dlog4j2.configurationFile=${l.log4j}`];
    if (!existsSync(join(l.data, 'meta.properties'))) {
      const clusterId = existsSync(l.clusterId)
        ? (await readFile(l.clusterId, 'utf8')).trim()
        : randomUUID().replaceAll('-', '').slice(0, 22);
      await writeFile(l.clusterId, clusterId);
      log('kafka: formatting storage (first start)');
      await run(java, [
        ...jvm,
        '-cp',
        classpath,
        'kafka.tools.StorageTool',
        'format',
        '-t',
        clusterId,
        '-c',
        l.properties,
        '-g',
      ]);
    }
    const pid = spawnDetached(
      java,
      [
        '-Xms256m',
        '-Xmx768m',
        '-XX:+UseG1GC',
        '-XX:MaxGCPauseMillis=20',
        '-XX:+ExitOnOutOfMemoryError',
        ...jvm,
        '-cp',
        classpath,
        'kafka.Kafka',
        l.properties,
      ],
      { logFile: l.stdoutLog },
    );
    return [pid];
  },

  async ready({ ports }) {
    const kafka = new Kafka({
      clientId: 'leakwatch-stack-probe',
      brokers: [`127.0.0.1:${ports.kafka}`],
      logLevel: logLevel.NOTHING,
      retry: { retries: 0 },
      connectionTimeout: 1000,
    });
    const admin = kafka.admin();
    try {
      await admin.connect();
      await admin.listTopics();
      return true;
    } catch {
      return false;
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  },

  endpoints: (ports) => ({ LEAKWATCH_KAFKA_BROKERS: `127.0.0.1:${ports.kafka}` }),
  describe: (ports) =>
    `127.0.0.1:${ports.kafka} (KRaft controller on ${ports.kafkaController}), Kafka ${VERSIONS.kafka}`,
  startTimeoutMs: 120_000,
};
