import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StackError } from './errors.js';
import type { JavaRuntime } from './java.js';
import type { InfraVersions } from './paths.js';

export type Component = 'kafka' | 'questdb';

export interface Artifacts {
  kafkaLibDir: string;
  questdbJar: string;
}

export function kafkaLibDir(cacheDir: string, versions: InfraVersions): string {
  return join(cacheDir, `kafka-${versions.kafka.version}`, 'lib');
}

export function questdbJarPath(cacheDir: string, versions: InfraVersions): string {
  return join(cacheDir, `questdb-${versions.questdb.version}`, 'lib', `questdb-${versions.questdb.version}.jar`);
}

const MARKER = '.complete';

function isProvisioned(libDir: string): boolean {
  return existsSync(join(libDir, MARKER));
}

/** True when both components are already in the cache (no Maven needed). */
export function isCacheWarm(cacheDir: string, versions: InfraVersions): boolean {
  return isProvisioned(kafkaLibDir(cacheDir, versions)) && isProvisioned(join(questdbJarPath(cacheDir, versions), '..'));
}

function findMaven(env: NodeJS.ProcessEnv): string {
  const r = spawnSync('mvn', ['-v'], { encoding: 'utf8', env, timeout: 60_000 });
  if (r.error || r.status !== 0) {
    throw new StackError(
      'maven-missing',
      'cvd stack: Maven (`mvn`) is needed once to fetch Kafka and QuestDB but was not found on PATH; ' +
        'install it (e.g. `apt-get install maven`) and retry',
    );
  }
  return 'mvn';
}

async function runMaven(
  args: string[],
  java: JavaRuntime,
  env: NodeJS.ProcessEnv,
  what: string,
): Promise<void> {
  const javaHome = join(java.path, '..', '..');
  const child = spawn('mvn', args, {
    env: { ...env, JAVA_HOME: javaHome },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-4000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) {
    const lastError = tail
      .split('\n')
      .filter((l) => l.includes('ERROR'))
      .slice(0, 2)
      .join(' ')
      .replace(/\s+/g, ' ')
      .slice(0, 400);
    throw new StackError(
      'download-failed',
      `cvd stack: fetching ${what} from Maven Central failed (mvn exit ${code}): ${lastError || tail.slice(-300)}; ` +
        'check access to the Maven registry (proxy settings in ~/.m2/settings.xml) and retry',
    );
  }
}

/**
 * Makes sure both servers' jars are in the cache, fetching them with Maven on first use.
 * Downloads go to a temporary folder that is renamed into place only when complete, so an
 * interrupted fetch never leaves a half-filled cache behind.
 */
export async function provision(options: {
  repoRoot: string;
  cacheDir: string;
  versions: InfraVersions;
  java: JavaRuntime;
  env?: NodeJS.ProcessEnv;
  progress?: (line: string) => void;
}): Promise<Artifacts> {
  const { repoRoot, cacheDir, versions, java } = options;
  const env = options.env ?? process.env;
  const say = options.progress ?? (() => undefined);
  const jobs: { component: Component; libDir: string; pom: string; label: string; versionProp: string; version: string }[] = [
    {
      component: 'kafka',
      libDir: kafkaLibDir(cacheDir, versions),
      pom: join(repoRoot, 'infra', 'kafka', 'pom.xml'),
      label: `Kafka ${versions.kafka.version}`,
      versionProp: 'kafka.version',
      version: versions.kafka.version,
    },
    {
      component: 'questdb',
      libDir: join(questdbJarPath(cacheDir, versions), '..'),
      pom: join(repoRoot, 'infra', 'questdb', 'pom.xml'),
      label: `QuestDB ${versions.questdb.version}`,
      versionProp: 'questdb.version',
      version: versions.questdb.version,
    },
  ];
  for (const job of jobs) {
    if (isProvisioned(job.libDir)) continue;
    findMaven(env);
    const tmp = `${job.libDir}.partial-${process.pid}`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    say(`fetching ${job.label} from Maven Central into ${job.libDir} (first use only)…`);
    const started = Date.now();
    await runMaven(
      [
        '-q',
        '-B',
        '-f',
        job.pom,
        `-D${job.versionProp}=${job.version}`,
        'dependency:copy-dependencies',
        '-DincludeScope=runtime',
        `-DoutputDirectory=${tmp}`,
      ],
      java,
      env,
      job.label,
    );
    const jars = readdirSync(tmp).filter((f) => f.endsWith('.jar'));
    if (jars.length === 0) {
      throw new StackError('download-failed', `cvd stack: Maven fetched no jars for ${job.label}; see ${job.pom}`);
    }
    writeFileSync(join(tmp, MARKER), `${job.label}\n${jars.length} jars\n`);
    rmSync(job.libDir, { recursive: true, force: true });
    mkdirSync(join(job.libDir, '..'), { recursive: true });
    renameSync(tmp, job.libDir);
    say(`fetched ${job.label}: ${jars.length} jars in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  return { kafkaLibDir: kafkaLibDir(cacheDir, versions), questdbJar: questdbJarPath(cacheDir, versions) };
}
