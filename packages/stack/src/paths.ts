import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StackError } from './errors.js';

export interface InfraVersions {
  kafka: { version: string; scala: string; minJava: number };
  questdb: { version: string; minJava: number; maxJava?: number };
}

/**
 * The repository root: the nearest ancestor holding `infra/versions.json`, searched from
 * `start` and then from this module's own location (so `npx cvd` works from any sub-folder).
 */
export function findRepoRoot(start: string = process.cwd()): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const origin of [start, here]) {
    let dir = resolve(origin);
    for (;;) {
      if (existsSync(join(dir, 'infra', 'versions.json'))) return dir;
      const parent = dirname(dir);
      if (parent === dir) break;
      dir = parent;
    }
  }
  throw new StackError(
    'repo-not-found',
    `cvd: could not find infra/versions.json above ${start}; run the command inside the cvd-pipeline checkout`,
  );
}

export function readVersions(repoRoot: string): InfraVersions {
  return JSON.parse(readFileSync(join(repoRoot, 'infra', 'versions.json'), 'utf8')) as InfraVersions;
}

/** Where downloaded jars live (git-ignored). */
export function defaultCacheDir(repoRoot: string): string {
  return join(repoRoot, '.cache', 'infra');
}

/** Where the native stack keeps its data, logs and pid state (git-ignored). */
export function defaultStackDir(repoRoot: string): string {
  return join(repoRoot, '.stack');
}
