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

  /** SIGTERM each service in the given order, waiting for each (SIGKILL after `graceMs`). */
  async stop(order: string[], graceMs = 40_000): Promise<void> {
    this.stopping = true;
    for (const name of order) {
      const child = this.children.get(name);
      if (!child) continue;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    }
  }
}
