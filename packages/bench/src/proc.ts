/** Reading CPU time and memory of a process from Linux /proc (pure parsers + thin readers). */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ProcStat {
  /** User + system CPU time in clock ticks. */
  utimeTicks: number;
  stimeTicks: number;
}

/**
 * Parses `/proc/<pid>/stat`. The command name (field 2) is in parentheses and may hold spaces
 * or parentheses, so fields are counted from the LAST ')'. utime and stime are fields 14 and 15.
 */
export function parseProcStat(text: string): ProcStat {
  const close = text.lastIndexOf(')');
  if (close < 0) throw new Error('not a /proc/<pid>/stat line');
  // After ")" come fields 3.. separated by single spaces.
  const rest = text.slice(close + 2).trim().split(/\s+/);
  const field = (n: number): number => {
    const v = Number(rest[n - 3]);
    if (!Number.isFinite(v)) throw new Error(`/proc stat field ${n} missing`);
    return v;
  };
  return { utimeTicks: field(14), stimeTicks: field(15) };
}

export interface ProcMemory {
  /** Resident set size now, bytes. */
  rssBytes: number;
  /** Peak resident set size ("high water mark"), bytes. */
  hwmBytes: number;
}

/** Parses `VmRSS` and `VmHWM` (kB) out of `/proc/<pid>/status`. */
export function parseProcStatus(text: string): ProcMemory {
  const kb = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(text);
    if (!m) throw new Error(`${name} missing from /proc status`);
    return Number(m[1]) * 1024;
  };
  return { rssBytes: kb('VmRSS'), hwmBytes: kb('VmHWM') };
}

let clkTck: number | undefined;
/** Clock ticks per second (`getconf CLK_TCK`, 100 on every common Linux). */
export function clockTicks(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

export interface ProcSample {
  pid: number;
  atMs: number;
  cpuSeconds: number;
  rssBytes: number;
  hwmBytes: number;
}

/** CPU seconds and memory of a live process; undefined when it is gone. */
export function sampleProcess(pid: number): ProcSample | undefined {
  try {
    const stat = parseProcStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    const mem = parseProcStatus(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return { pid, atMs: Date.now(), cpuSeconds: (stat.utimeTicks + stat.stimeTicks) / clockTicks(), ...mem };
  } catch {
    return undefined;
  }
}

/** 1-minute load average and core count (for the report's load conditions). */
export function loadAverage(): { load1: number; load5: number; load15: number } {
  try {
    const [a, b, c] = readFileSync('/proc/loadavg', 'utf8').split(' ').map(Number);
    return { load1: a ?? Number.NaN, load5: b ?? Number.NaN, load15: c ?? Number.NaN };
  } catch {
    return { load1: Number.NaN, load5: Number.NaN, load15: Number.NaN };
  }
}
