import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { StackError } from './errors.js';

export interface JavaRuntime {
  /** Absolute path of the `java` executable. */
  path: string;
  /** Feature release, e.g. 17 or 25. */
  major: number;
  /** Where it was found: `JAVA_HOME`, `PATH` or an explicit override variable. */
  origin: string;
}

/** Parses the major version out of `java -version` output ("17.0.15", "1.8.0_392", "25"). */
export function parseJavaMajor(versionOutput: string): number | undefined {
  const m = /version "(\d+)(?:\.(\d+))?[^"]*"/.exec(versionOutput);
  if (!m) return undefined;
  const first = Number(m[1]);
  return first === 1 && m[2] !== undefined ? Number(m[2]) : first;
}

function probe(path: string, origin: string): JavaRuntime | undefined {
  if (!existsSync(path)) return undefined;
  const r = spawnSync(path, ['-version'], { encoding: 'utf8', timeout: 15_000 });
  const major = parseJavaMajor(`${r.stderr ?? ''}${r.stdout ?? ''}`);
  return major === undefined ? undefined : { path, major, origin };
}

function onPath(command: string, envPath: string | undefined): string | undefined {
  for (const dir of (envPath ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, command);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Every Java runtime this process may use, in order of preference: an explicit per-component
 * home (`overrideHome`), `JAVA_HOME`, then `java` on `PATH`. Nothing else is guessed: what is
 * used is what the user can see in their environment.
 */
export function findJavaRuntimes(
  env: NodeJS.ProcessEnv = process.env,
  overrideHome?: { name: string; home: string | undefined },
): JavaRuntime[] {
  const found: JavaRuntime[] = [];
  const seen = new Set<string>();
  const add = (rt: JavaRuntime | undefined): void => {
    if (rt && !seen.has(rt.path)) {
      seen.add(rt.path);
      found.push(rt);
    }
  };
  if (overrideHome?.home) add(probe(join(overrideHome.home, 'bin', 'java'), overrideHome.name));
  if (env.JAVA_HOME) add(probe(join(env.JAVA_HOME, 'bin', 'java'), 'JAVA_HOME'));
  const fromPath = onPath('java', env.PATH);
  if (fromPath) add(probe(fromPath, 'PATH'));
  return found;
}

/** Picks the first runtime in [minMajor, maxMajor], or fails with a message naming the fix. */
export function pickJava(
  component: string,
  minMajor: number,
  maxMajor: number | undefined,
  runtimes: JavaRuntime[],
): JavaRuntime {
  const fits = runtimes.find((rt) => rt.major >= minMajor && (maxMajor === undefined || rt.major <= maxMajor));
  if (fits) return fits;
  const range = maxMajor === undefined ? `${minMajor}+` : `${minMajor}–${maxMajor}`;
  if (runtimes.length === 0) {
    throw new StackError(
      'java-missing',
      `cvd stack: no Java runtime found for ${component} (JAVA_HOME is unset and there is no \`java\` on PATH); ` +
        `install a JDK ${range} (e.g. \`apt-get install openjdk-17-jdk-headless\`) or set JAVA_HOME`,
    );
  }
  const seen = runtimes.map((rt) => `Java ${rt.major} (${rt.origin}: ${rt.path})`).join(', ');
  throw new StackError(
    'java-too-old',
    `cvd stack: ${component} needs Java ${range} but only found ${seen}; install one and set JAVA_HOME to it`,
  );
}
