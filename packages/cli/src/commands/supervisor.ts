import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';

export interface ServiceSpec {
  name: string;
  script: string;
  env: Record<string, string>;
}

const COLORS: Record<string, string> = { config: '36', ingest: '33', aggregator: '32', web: '35' };
const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** One pino JSON line → `hh:mm:ss name  level message key=value…` (other lines pass through). */
export function formatLogLine(name: string, line: string, color = true): string {
  const tag = color ? `\x1b[${COLORS[name] ?? '37'}m${name.padEnd(10)}\x1b[0m` : name.padEnd(10);
  let rec: Record<string, unknown>;
  try {
    rec = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return `${tag} ${line}`;
  }
  if (typeof rec !== 'object' || rec === null || !('msg' in rec)) return `${tag} ${line}`;
  const { time, level, msg, service: _s, pid: _p, hostname: _h, err, ...rest } = rec as {
    time?: string | number; level?: number; msg?: string; service?: string; pid?: number; hostname?: string; err?: { message?: string };
  } & Record<string, unknown>;
  const t = typeof time === 'string' ? time.slice(11, 19) : new Date(Number(time ?? Date.now())).toISOString().slice(11, 19);
  const extras = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  const lvl = LEVELS[level ?? 30] ?? String(level);
  return `${t} ${tag} ${lvl === 'info' ? '' : `${lvl} `}${msg ?? ''}${err?.message ? ` (${err.message})` : ''}${extras ? `  ${extras}` : ''}`;
}

/** Runs services as child processes with prefixed, readable output; stops them in order. */
export class Supervisor {
  private readonly children = new Map<string, ChildProcess>();
  private stopping = false;

  constructor(private readonly out: (s: string) => void, private readonly onUnexpectedExit: (name: string, code: number | null) => void) {}

  start(spec: ServiceSpec): void {
    if (!existsSync(spec.script)) throw new Error(`${spec.name} is not built (${spec.script} missing): run \`npm run build\` first`);
    // Own process group: a terminal's Ctrl-C reaches only the CLI, which then stops the
    // services one by one in a safe order (a second signal would force them to exit).
    const child = spawn(process.execPath, [spec.script], { env: { ...process.env, ...spec.env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    if (this.children.size === 0) process.once('exit', () => this.killAll());
    this.children.set(spec.name, child);
    const color = process.stdout.isTTY === true;
    for (const stream of [child.stdout, child.stderr]) {
      if (stream) createInterface({ input: stream }).on('line', (l) => this.out(formatLogLine(spec.name, l, color)));
    }
    child.on('exit', (code, signal) => {
      this.children.delete(spec.name);
      if (!this.stopping) {
        this.out(`${spec.name} exited unexpectedly (${signal ?? `code ${code}`})`);
        this.onUnexpectedExit(spec.name, code);
      }
    });
  }

  /** Last resort when the CLI itself exits: no orphaned services. */
  private killAll(): void {
    for (const child of this.children.values()) child.kill('SIGKILL');
  }

  /**
   * Stops the services in stages within one overall bound: each stage's services get SIGTERM
   * together; the next stage starts once they all exited, or after `stageMs` at the latest.
   * Whatever still runs `totalMs` after the start is killed (SIGKILL, reported). Every service
   * bounds its own stop (10 s) whatever Kafka and QuestDB do, so the kill is a last resort.
   */
  async stop(stages: readonly (readonly string[])[], options: { stageMs?: number; totalMs?: number } = {}): Promise<void> {
    this.stopping = true;
    const deadline = Date.now() + (options.totalMs ?? STOP_TOTAL_MS);
    const stageMs = options.stageMs ?? STOP_STAGE_MS;
    for (const stage of stages) {
      const exits: Promise<void>[] = [];
      for (const name of stage) {
        const child = this.children.get(name);
        if (!child) continue;
        exits.push(new Promise<void>((resolve) => child.once('exit', () => resolve())));
        child.kill('SIGTERM');
      }
      const wait = Math.max(0, Math.min(stageMs, deadline - Date.now()));
      await waitAtMost(Promise.all(exits), wait);
    }
    const left = [...this.children.entries()];
    const exits = left.map(([, child]) => new Promise<void>((resolve) => child.once('exit', () => resolve())));
    for (const [, child] of left) if (child.signalCode === null && child.exitCode === null && !child.killed) child.kill('SIGTERM');
    await waitAtMost(Promise.all(exits), Math.max(0, deadline - Date.now()));
    for (const [name, child] of this.children) {
      this.out(`${name} did not stop within ${Math.round((options.totalMs ?? STOP_TOTAL_MS) / 1000)} s: killed`);
      child.kill('SIGKILL');
    }
    await waitAtMost(Promise.all(exits), 2_000);
  }
}

/** `cvd run`'s bound on stopping every service (each bounds its own stop to 10 s). */
export const STOP_TOTAL_MS = 13_000;
/** How long a stage (ingest first) may hold the next one back. */
export const STOP_STAGE_MS = 2_000;

function waitAtMost(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p.then(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]).finally(() => clearTimeout(timer));
}
