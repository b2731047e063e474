import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { run } from './process.js';

export type Log = (line: string) => void;

const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:2.8';

/**
 * Runs Maven, turning its "Downloaded from central" lines into progress: the first run
 * fetches a few hundred MB, and a silent minute looks like a hang.
 */
async function mavenWithProgress(what: string, cwd: string, args: string[], log: Log): Promise<void> {
  let artifacts = 0;
  let bytes = 0;
  let lastReport = Date.now();
  const started = Date.now();
  log(`${what}: fetching from Maven Central (first run only)…`);
  await run('mvn', ['-B', '-Dstyle.color=never', ...args], {
    cwd,
    onLine: (line) => {
      const match = /Downloaded from \S+: \S+ \(([\d.,]+) (B|kB|KB|MB|GB)/.exec(line);
      if (!match) return;
      artifacts += 1;
      const size = Number((match[1] ?? '0').replace(',', ''));
      const unit = match[2] ?? 'B';
      bytes += size * ({ B: 1, kB: 1e3, KB: 1e3, MB: 1e6, GB: 1e9 }[unit] ?? 1);
      if (Date.now() - lastReport > 2000) {
        lastReport = Date.now();
        log(`${what}: ${artifacts} files, ${(bytes / 1e6).toFixed(1)} MB downloaded…`);
      }
    },
  });
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  log(`${what}: fetched (${artifacts} files, ${(bytes / 1e6).toFixed(1)} MB downloaded, ${seconds} s)`);
}

/** Copies an artifact and its runtime dependencies into `libDir` (once; later runs reuse it). */
export async function fetchWithDependencies(options: {
  what: string;
  dir: string;
  libDir: string;
  dependencies: Array<{ groupId: string; artifactId: string; version: string }>;
  log: Log;
}): Promise<void> {
  if (existsSync(join(options.libDir, '.complete'))) return;
  await mkdir(options.dir, { recursive: true });
  const deps = options.dependencies
    .map(
      (d) =>
        `    <dependency><groupId>${d.groupId}</groupId><artifactId>${d.artifactId}</artifactId><version>${d.version}</version></dependency>`,
    )
    .join('\n');
  await writeFile(
    join(options.dir, 'pom.xml'),
    `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>io.leakwatch.local-stack</groupId>
  <artifactId>${options.what.replace(/[^A-Za-z0-9_.-]+/g, '-')}-runtime</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
  <dependencies>
${deps}
  </dependencies>
</project>
`,
  );
  const staging = `${options.libDir}.partial`;
  await rm(staging, { recursive: true, force: true });
  await mavenWithProgress(
    options.what,
    options.dir,
    [
      // pinned: newer plugin versions read the artifact's parent pom, which Apicurio's lacks on Central
      `${DEPENDENCY_PLUGIN}:copy-dependencies`,
      '-DincludeScope=runtime',
      `-DoutputDirectory=${staging}`,
    ],
    options.log,
  );
  await writeFile(join(staging, '.complete'), new Date().toISOString());
  await rm(options.libDir, { recursive: true, force: true });
  await rename(staging, options.libDir);
}

/** Copies one artifact (e.g. a tar.gz bundle) into `outDir` (once). Returns its path. */
export async function fetchArtifact(options: {
  what: string;
  dir: string;
  coordinates: string;
  fileName: string;
  log: Log;
}): Promise<string> {
  const target = join(options.dir, options.fileName);
  if (existsSync(target)) return target;
  await mkdir(options.dir, { recursive: true });
  await writeFile(
    join(options.dir, 'pom.xml'),
    `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>io.leakwatch.local-stack</groupId>
  <artifactId>${options.what.replace(/[^A-Za-z0-9_.-]+/g, '-')}-bundle</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
</project>
`,
  );
  await mavenWithProgress(
    options.what,
    options.dir,
    [
      `${DEPENDENCY_PLUGIN}:copy`,
      `-Dartifact=${options.coordinates}`,
      `-DoutputDirectory=${options.dir}`,
      '-Dmdep.stripVersion=false',
    ],
    options.log,
  );
  return target;
}
