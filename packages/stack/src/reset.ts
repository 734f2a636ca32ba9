/**
 * `cvd stack reset`: stops the stack and deletes its data — every Kafka topic (the broker's
 * log dirs) and every QuestDB table (the db dir) — so a replay of older history starts from
 * empty state. Never touches the jar cache, the configs or the logs.
 */
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { StackError } from './errors.js';
import { defaultCacheDir, defaultStackDir, findRepoRoot } from './paths.js';
import { stackDown, type StackOptions } from './stack.js';

export interface ResetTarget {
  component: 'kafka' | 'questdb';
  /** What the directory holds, for the prompt and the report. */
  what: string;
  path: string;
  exists: boolean;
  bytes: number;
}

export interface ResetResult {
  stopped: { component: 'kafka' | 'questdb'; result: string }[];
  deleted: ResetTarget[];
}

/** The data directories `stackReset` deletes (Kafka `log.dirs`, QuestDB's `db`). */
export function resetTargets(options: Pick<StackOptions, 'repoRoot' | 'stackDir'> = {}): ResetTarget[] {
  const stackDir = options.stackDir ?? defaultStackDir(options.repoRoot ?? findRepoRoot());
  const targets: Omit<ResetTarget, 'exists' | 'bytes'>[] = [
    { component: 'kafka', what: 'Kafka topics (log dirs)', path: join(stackDir, 'kafka', 'data') },
    { component: 'questdb', what: 'QuestDB tables (db dir)', path: join(stackDir, 'questdb', 'db') },
  ];
  return targets.map((t) => ({ ...t, exists: existsSync(t.path), bytes: du(t.path) }));
}

function du(path: string): number {
  const st = statSync(path, { throwIfNoEntry: false });
  if (st === undefined) return 0;
  if (!st.isDirectory()) return st.size;
  let total = 0;
  for (const entry of readdirSync(path)) total += du(join(path, entry));
  return total;
}

function inside(child: string, parent: string): boolean {
  const rel = relative(resolve(parent), resolve(child));
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !rel.startsWith(sep));
}

/**
 * Stops Kafka and QuestDB (as `stackDown`) and deletes their data directories. Refuses (throws)
 * when the jar cache lies inside a directory it would delete. Returns what it stopped and deleted.
 */
export async function stackReset(options: StackOptions & { graceMs?: number } = {}): Promise<ResetResult> {
  const repoRoot = options.repoRoot ?? findRepoRoot();
  const cacheDir = options.cacheDir ?? defaultCacheDir(repoRoot);
  const targets = resetTargets({ repoRoot, ...(options.stackDir ? { stackDir: options.stackDir } : {}) });
  for (const t of targets) {
    if (inside(cacheDir, t.path)) throw new StackError('unsafe-reset', `cvd stack reset: the jar cache ${cacheDir} lies inside ${t.path}; move it (CVD_CACHE_DIR) before resetting`);
  }
  const stopped = await stackDown({ ...options, repoRoot });
  for (const t of targets) if (t.exists) rmSync(t.path, { recursive: true, force: true });
  return { stopped, deleted: targets.filter((t) => t.exists) };
}
