import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { pollUntil } from './poll.js';

export interface SpawnedServer {
  pid: number;
  logFile: string;
}

/**
 * Starts a JVM with its output appended to `logFile`. `detached` servers outlive this
 * process (the `cvd stack` CLI); attached ones die with their parent's process group.
 */
export function spawnServer(
  command: string,
  args: string[],
  options: { cwd: string; logFile: string; detached: boolean; env?: NodeJS.ProcessEnv },
): SpawnedServer {
  const fd = openSync(options.logFile, 'a');
  try {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', fd, fd],
      detached: options.detached,
    });
    if (options.detached) child.unref();
    if (child.pid === undefined) throw new Error(`could not start ${command}`);
    return { pid: child.pid, logFile: options.logFile };
  } finally {
    closeSync(fd);
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The process's command line (Linux /proc), or '' when it is gone. */
export function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
  } catch {
    return '';
  }
}

/**
 * SIGTERM (the JVMs' orderly shutdown hooks), wait up to `graceMs`, then SIGKILL.
 * Resolves to how it ended. Safe to call for a pid that is already gone.
 */
export async function terminate(pid: number, graceMs = 30_000): Promise<'gone' | 'terminated' | 'killed'> {
  if (!isAlive(pid)) return 'gone';
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return 'gone';
  }
  const ended = (): boolean => !isAlive(pid) || isZombie(pid);
  if (await pollUntil(ended, { intervalMs: 100, timeoutMs: graceMs })) return 'terminated';
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
  await pollUntil(ended, { intervalMs: 100, maxChecks: 51 });
  return 'killed';
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return / Z /.test(stat.slice(stat.lastIndexOf(')')));
  } catch {
    return false;
  }
}

/** Last `lines` lines of a log file, for error messages. */
export function tailFile(file: string, lines = 5): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}
