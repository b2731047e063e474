import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { fetchArtifact } from './maven.js';
import { run, spawnDetached } from './process.js';
import type { ServiceDefinition } from './service.js';
import { VERSIONS } from './versions.js';

function layout(dir: string) {
  const build = join(dir, `apicurio-${VERSIONS.apicurio}`);
  return {
    build,
    app: join(build, 'app'),
    jar: join(build, 'app', `apicurio-registry-app-${VERSIONS.apicurio}-runner.jar`),
    home: join(dir, 'registry'),
    log: join(dir, 'registry', 'registry.log'),
  };
}

export const registryService: ServiceDefinition = {
  name: 'registry',
  ports: (ports) => [ports.registry],
  needsJava: true,
  logFile: (dir) => layout(dir).log,

  async install({ dir, log }) {
    const l = layout(dir);
    if (existsSync(l.jar)) return;
    const bundle = await fetchArtifact({
      what: `apicurio-registry ${VERSIONS.apicurio}`,
      dir: l.build,
      coordinates: `io.apicurio:apicurio-registry-app:${VERSIONS.apicurio}:tar.gz:all`,
      fileName: `apicurio-registry-app-${VERSIONS.apicurio}-all.tar.gz`,
      log,
    });
    await rm(l.app, { recursive: true, force: true });
    await mkdir(l.app, { recursive: true });
    await run('tar', ['-xzf', bundle, '-C', l.app]);
    await rm(bundle, { force: true });
  },

  async start({ dir, ports, java }) {
    const l = layout(dir);
    await mkdir(l.home, { recursive: true });
    const pid = spawnDetached(
      java,
      [
        '-Xms128m',
        '-Xmx512m',
        '-XX:+UseG1GC',
        '-XX:+ExitOnOutOfMemoryError',
        '-Dquarkus.http.host=127.0.0.1',
        `-Dquarkus.http.port=${ports.registry}`,
        // @kafkajs/confluent-schema-registry asks for BACKWARD; Apicurio answers a subject's
        // config with the global default, so the two must agree.
        '-Dapicurio.rules.global.compatibility=BACKWARD',
        // a re-formatted but identical schema keeps its id
        '-Dapicurio.ccompat.use-canonical-hash=true',
        // kept on disk, like Kafka's data: a registry that forgot its schemas (ids restart at 1)
        // would make retained messages point at the wrong schema after a restart
        `-Dapicurio.datasource.url=jdbc:h2:file:${join(l.home, 'db', 'registry')}`,
        '-jar',
        l.jar,
      ],
      { logFile: l.log, cwd: l.home },
    );
    return [pid];
  },

  async ready({ ports }) {
    try {
      const response = await fetch(`http://127.0.0.1:${ports.registry}/health/ready`, {
        signal: AbortSignal.timeout(2000),
      });
      if (!response.ok) return false;
      const subjects = await fetch(`http://127.0.0.1:${ports.registry}/apis/ccompat/v7/subjects`, {
        signal: AbortSignal.timeout(2000),
      });
      return subjects.ok;
    } catch {
      return false;
    }
  },

  endpoints: (ports) => ({
    LEAKWATCH_SCHEMA_REGISTRY_URL: `http://127.0.0.1:${ports.registry}/apis/ccompat/v7`,
  }),
  describe: (ports) =>
    `http://127.0.0.1:${ports.registry}/apis/ccompat/v7, Apicurio Registry ${VERSIONS.apicurio} (H2 file storage)`,
  startTimeoutMs: 120_000,
};
